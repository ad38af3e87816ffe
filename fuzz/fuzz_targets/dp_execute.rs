//! A frame with arbitrary offload state through the datapath's action
//! executor. Input: byte 0 = offload flags, byte 1 = GSO type, bytes 2..10 =
//! hdr_len, gso_size, csum_start, csum_offset (little endian), bytes 10..12 =
//! length of the ODP action text that follows, then the frame. Must never
//! panic, loop or read out of bounds; software segmentation runs for real.
#![no_main]
use datapath::exec::{execute, ExecEnv, InFlight};
use datapath::DropReason;
use flow::odp::actions::userspace::Userspace;
use libfuzzer_sys::fuzz_target;
use packet::buffer::{Offload, Packet, PacketBatch, PacketPool};
use packet::extract::Metadata;
use packet::flow::Flow;

struct Env {
    pool: PacketPool,
    outputs: usize,
    recirc: usize,
}

impl ExecEnv for Env {
    fn output(&mut self, _port: u32, pkt: Packet) {
        self.outputs += 1;
        self.pool.put(pkt);
    }
    fn alloc(&mut self) -> Option<Packet> {
        self.pool.get()
    }
    fn free(&mut self, pkt: Packet) {
        self.pool.put(pkt);
    }
    fn recirculate(&mut self, pkt: Packet, _flow: &Flow) {
        self.recirc += 1;
        self.pool.put(pkt);
    }
    fn userspace(&mut self, pkt: &Packet, _flow: &Flow, _a: &Userspace) {
        let _ = pkt.data().to_vec();
    }
    fn meter(&mut self, id: u32, _len: usize) -> bool {
        id % 2 == 0
    }
    fn drop_packet(&mut self, pkt: Packet, _reason: DropReason) {
        self.pool.put(pkt);
    }
    fn random(&mut self) -> u32 {
        0x8000_0000
    }
    fn segment(&mut self, pkt: Packet) -> Vec<Packet> {
        let mut out = PacketBatch::with_capacity(128);
        let r = netdev::offload::segment(&pkt, &mut self.pool, &mut out);
        self.pool.put(pkt);
        let mut v = Vec::new();
        if r.is_ok() {
            while let Some(p) = out.pop() {
                v.push(p);
            }
        } else {
            self.pool.recycle(&mut out);
        }
        v
    }
    fn tunnel_kind(&mut self, _port: u32) -> Option<packet::tunnel::TunnelKind> {
        None
    }
}

fuzz_target!(|data: &[u8]| {
    if data.len() < 12 {
        return;
    }
    let u16_at = |i: usize| u16::from_le_bytes([data[i], data[i + 1]]);
    let offload = Offload {
        flags: data[0],
        gso_type: data[1],
        hdr_len: u16_at(2),
        gso_size: u16_at(4),
        csum_start: u16_at(6),
        csum_offset: u16_at(8),
    };
    let text_len = (u16_at(10) as usize).min(data.len() - 12);
    let Ok(text) = std::str::from_utf8(&data[12..12 + text_len]) else {
        return;
    };
    let Ok(actions) = flow::odp::actions::parse_odp_actions(text) else {
        return;
    };
    let frame = &data[12 + text_len..];
    let mut env = Env {
        pool: PacketPool::with_default_size(256),
        outputs: 0,
        recirc: 0,
    };
    let Some(mut pkt) = env.pool.get() else {
        return;
    };
    if pkt.copy_from(frame).is_err() {
        return;
    }
    pkt.meta.in_port = 1;
    pkt.meta.offload = offload;
    let md = Metadata {
        in_port: 1,
        ..Default::default()
    };
    execute(&mut env, InFlight::new(pkt, &md), &actions);
});
