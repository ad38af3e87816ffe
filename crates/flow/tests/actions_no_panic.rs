//! Decoding actions and instructions from arbitrary bytes never panics, in
//! any version, and whatever decodes re-encodes and prints without
//! panicking; mutations of valid actions too.

use flow::actions::{
    decode_actions, decode_instructions, encode_actions, encode_instructions, format_actions,
    OfpVersion,
};
use proptest::prelude::*;

/// Valid action lists to mutate (from the upstream vectors).
const SEEDS: &[&str] = &[
    "ffff0048000023200010000a00140050123456789abcdef00000020000020004000c0000080200000000080200000030000004060000000002060000101000000002000000000000",
    "ffff00400000232000250000000000000000000804d2000000010008162e00000002000502000000000300090102030405000000000000000004000400000000",
    "ffff00500000232000230001000000000000ff0000000000ffff003800002320002400000011003cfe80000000000000020c29fffe880001fe80000000000000020c29fffe88a18b00ff100000000000",
    "ffff002800002320000d000100000000000000020002001f00010004000000000004000800000000",
    "ffff001800002320002e00000001894f0004010501000000",
    "001900188000090c00000000123400000000ffff00000000",
    "0004002800000000ffff0020000023200016000000000000fedcba9876543210ffffffffffffffff",
];

fn hex(s: &str) -> Vec<u8> {
    (0..s.len() / 2)
        .map(|i| u8::from_str_radix(&s[2 * i..2 * i + 2], 16).unwrap_or(0))
        .collect()
}

fn exercise(bytes: &[u8]) {
    for v in OfpVersion::ALL {
        if let Ok(a) = decode_actions(bytes, v) {
            let _ = format_actions(&a);
            let _ = encode_actions(&a, v);
        }
        if let Ok(a) = decode_instructions(bytes, v) {
            let _ = format_actions(&a);
            let _ = encode_instructions(&a, v);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn arbitrary_bytes(bytes in proptest::collection::vec(any::<u8>(), 0..96)) {
        exercise(&bytes);
    }

    #[test]
    fn mutated_seeds(seed in 0..SEEDS.len(), edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6)) {
        let mut b = hex(SEEDS[seed]);
        for (pos, val) in edits {
            let n = b.len();
            b[pos % n] = val;
        }
        exercise(&b);
    }
}
