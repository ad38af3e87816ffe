//! Differential test of `format_flow` against the reference: frames
//! composed from pseudo-random flows are wrapped in OpenFlow 1.0 packet-ins;
//! `ovs-ofctl ofp-print` prints the flow it extracts, and our extraction
//! printed by `format_flow` must be the same text.  Skips when the
//! reference is not installed.

use flow::matches::format_flow;
use packet::compose::compose_generated;
use packet::extract::{extract, Metadata};
use packet::Flow;
use std::process::Command;

const OFCTL: &str = "/usr/bin/ovs-ofctl";

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        // splitmix64
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn pick<T: Copy>(&mut self, xs: &[T]) -> T {
        xs[(self.next() % xs.len() as u64) as usize]
    }
    fn bytes<const N: usize>(&mut self) -> [u8; N] {
        let mut a = [0u8; N];
        a.iter_mut().for_each(|b| *b = self.next() as u8);
        a
    }
}

fn random_flow(r: &mut Rng) -> Flow {
    let mut f = Flow {
        dl_dst: r.bytes(),
        dl_src: r.bytes(),
        ..Flow::default()
    };
    if r.next().is_multiple_of(3) {
        f.vlans[0].tpid = 0x8100;
        f.vlans[0].tci = r.next() as u16 | 0x1000;
    }
    f.dl_type = r.pick(&[
        0x0800, 0x0800, 0x86dd, 0x86dd, 0x0806, 0x8035, 0x8847, 0x1234,
    ]);
    f.nw_src = r.next() as u32;
    f.nw_dst = r.next() as u32;
    f.ipv6_src = r.bytes();
    f.ipv6_dst = r.bytes();
    f.ipv6_label = r.next() as u32 & 0xfffff;
    f.nw_tos = r.next() as u8;
    f.nw_ttl = r.next() as u8;
    f.nw_frag = r.pick(&[0, 0, 0, 1, 3]);
    f.nw_proto = match f.dl_type {
        0x0806 | 0x8035 => r.pick(&[1, 2]),
        0x86dd => r.pick(&[6, 17, 132, 58, 58]),
        _ => r.pick(&[6, 17, 132, 1, 47]),
    };
    f.tp_src = r.next() as u16;
    f.tp_dst = r.next() as u16;
    if matches!(f.nw_proto, 1 | 58) {
        f.tp_src = r.pick(&[0, 8, 128, 135, 136]);
        f.tp_dst = 0;
    }
    f.tcp_flags = r.next() as u16 & 0x0fff;
    f.nd_target = r.bytes();
    f.arp_sha = r.bytes();
    f.arp_tha = r.bytes();
    f.mpls_lse[0] = (r.next() as u32) | 0x100;
    f
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[test]
fn format_flow_matches_reference() {
    if !std::path::Path::new(OFCTL).exists() {
        eprintln!("skipping: {OFCTL} not installed");
        return;
    }
    let mut r = Rng(0x5eed_f10f);
    let mut failures = Vec::new();
    const N: usize = 120;
    for _ in 0..N {
        let flow = random_flow(&mut r);
        let frame = compose_generated(&flow, 8);
        let msg = format!(
            "010a{:04x}00000000ffffffff{:04x}00030000{}",
            18 + frame.len(),
            frame.len(),
            hex(&frame)
        );
        let out = Command::new(OFCTL)
            .args(["ofp-print", &msg])
            .output()
            .expect("run ovs-ofctl");
        let text = String::from_utf8_lossy(&out.stdout).into_owned();
        let reference = text
            .lines()
            .nth(1)
            .unwrap_or("")
            .split(' ')
            .next()
            .unwrap_or("")
            .to_string();
        let ours = format_flow(&extract(&frame, &Metadata::default()), None);
        if ours != reference {
            failures.push(format!("ours      {ours}\nreference {reference}"));
        }
    }
    eprintln!("{N} packet-in flows compared, {} differ", failures.len());
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
