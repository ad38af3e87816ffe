//! Text from outside the process must never panic the parsers: random
//! strings built from the syntax's own characters (and some non-ASCII)
//! go through every entry point.

use flow::flow_str::{parse_ofp_exact_flow, parse_ofp_str, FlowModCommand, FlowStrKind};
use flow::{FieldId, MfValue, Subfield};

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
}

const PIECES: &[&str] = &[
    "0",
    "1",
    "9",
    "0x",
    "ff",
    "f",
    ":",
    ".",
    "/",
    "-",
    "+",
    "[",
    "]",
    "..",
    "(",
    ")",
    ",",
    "=",
    " ",
    "*",
    "|",
    "é",
    "\u{1F600}",
    "ip",
    "tcp",
    "reg0",
    "NXM_NX_REG0",
    "tun_metadata3",
    "dl_src",
    "nw_src",
    "ipv6_src",
    "in_port",
    "ct_state",
    "tcp_flags",
    "tun_flags",
    "packet_type",
    "actions",
    "priority",
    "table",
    "cookie",
    "::",
    "trk",
    "syn",
    "oam",
    "LOCAL",
    "_W",
    "\"",
    "\t",
    "4294967295",
    "18446744073709551616",
    "no",
    "later",
];

fn random_text(r: &mut Rng) -> String {
    let n = (r.next() % 12) as usize;
    (0..n)
        .map(|_| PIECES[(r.next() % PIECES.len() as u64) as usize])
        .collect()
}

#[test]
fn parsers_never_panic() {
    let mut r = Rng(0x1234_5678_9abc_def1);
    for _ in 0..20_000 {
        let t = random_text(&mut r);
        let _ = parse_ofp_str(&t, FlowStrKind::FlowMod(FlowModCommand::Add), None);
        let _ = parse_ofp_str(&t, FlowStrKind::FlowModAnyCommand, None);
        let _ = parse_ofp_str(&t, FlowStrKind::FlowStats, None);
        let _ = parse_ofp_exact_flow(&t, None);
        let _ = Subfield::parse(&t);
        let field = FieldId::ALL[(r.next() % FieldId::ALL.len() as u64) as usize];
        if let Ok((v, m)) = MfValue::parse(field, &t) {
            let _ = MfValue::format(field, &v, Some(&m));
        }
        if let Ok(fm) = parse_ofp_str(
            &format!("{t},actions=drop"),
            FlowStrKind::FlowMod(FlowModCommand::Add),
            None,
        ) {
            let _ = fm.match_.to_string();
        }
    }
}

#[test]
fn match_operations_never_panic() {
    use flow::Match;
    let mut r = Rng(0x0bad_cafe_f00d_1234);
    for _ in 0..3_000 {
        let mut m = Match::catchall();
        for _ in 0..(r.next() % 6) {
            let field = FieldId::ALL[(r.next() % FieldId::ALL.len() as u64) as usize];
            // Values and masks of any width, as decoders might produce.
            let vlen = (r.next() % 130) as usize;
            let mlen = (r.next() % 130) as usize;
            let v: Vec<u8> = (0..vlen).map(|_| r.next() as u8).collect();
            let k: Vec<u8> = (0..mlen).map(|_| r.next() as u8).collect();
            let _ = m.set_field_masked(field, &MfValue::from_bytes(&v), &MfValue::from_bytes(&k));
            if r.next().is_multiple_of(4) {
                m.set_field_wild(field);
            }
            let _ = m.get_field(field);
        }
        let _ = m.to_string();
        let mut n = m;
        let _ = n.normalize();
        let _ = n.clear_unmet_prereqs();
        let _ = m.matches(&n.flow);
        let _ = flow::matches::format_flow(&m.flow, None);
    }
}
