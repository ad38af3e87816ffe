//! The receive queue of a system port: a TPACKET_V3 ring read block by
//! block, each frame copied into a pool buffer with its vnet header turned
//! into offload metadata and its VLAN tag put back into the frame.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use packet::buffer::{Offload, Packet, PacketBatch, PacketPool};

use super::ring::{parse_block, parse_frame, parse_frame_v2, Frame, MmapRing};
use crate::error::NetdevError;
use crate::provider::{RingVersion, RxQueue};
use crate::stats::{bump, QueueCounters};

/// A ring socket, its mapping and where the reader stands in it.
pub(crate) struct RxRing {
    pub fd: Arc<OwnedFd>,
    pub ring: MmapRing,
    pub vnet_hdr: bool,
    pub version: RingVersion,
    cur: Cursor,
}

/// Reading position: the unit (V3 block or V2 slot) and, inside an owned
/// V3 block, the frames left and the offset of the next header.
#[derive(Default)]
struct Cursor {
    unit: usize,
    in_block: bool,
    left: u32,
    off: usize,
}

/// What one receive call did.
#[derive(Default)]
struct Tally {
    got: u64,
    bytes: u64,
    dropped: u64,
    errors: u64,
}

/// Copies `frame` into `pkt`: data, offload state, VLAN tag put back.
/// Returns false (and counts) when the frame cannot be taken.
fn fill(pkt: &mut Packet, frame: &Frame<'_>, t: &mut Tally) -> bool {
    let n = frame.data.len();
    let truncated = (n as u32) < frame.wire_len;
    let tag = if frame.vlan.is_some() { 4 } else { 0 };
    if truncated || n + tag > pkt.tailroom() || pkt.headroom() < tag || (tag != 0 && n < 12) {
        t.dropped += 1;
        return false;
    }
    pkt.spare_from_head()[..n].copy_from_slice(frame.data);
    // Cannot fail: checked against the tailroom above.
    let _ = pkt.set_len(n);
    if let Some(o) = frame.offload {
        pkt.meta.offload = o;
        if o.is_gso() && o.gso_size == 0 {
            pkt.meta.offload.gso_type = Offload::GSO_NONE;
        }
    }
    if let Some((tpid, tci)) = frame.vlan {
        // Cannot fail: headroom and length checked above.
        if let Ok(gap) = pkt.insert_gap(12, 4) {
            gap[..2].copy_from_slice(&tpid.to_be_bytes());
            gap[2..].copy_from_slice(&tci.to_be_bytes());
        }
    }
    t.bytes += pkt.len() as u64;
    t.got += 1;
    true
}

impl RxRing {
    pub fn new(fd: Arc<OwnedFd>, ring: MmapRing, vnet_hdr: bool, version: RingVersion) -> RxRing {
        RxRing {
            fd,
            ring,
            vnet_hdr,
            version,
            cur: Cursor::default(),
        }
    }

    fn next_unit(&mut self) {
        self.ring.release(self.cur.unit);
        self.cur.unit = (self.cur.unit + 1) % self.ring.unit_nr;
        self.cur.in_block = false;
    }

    fn recv(&mut self, pool: &mut PacketPool, batch: &mut PacketBatch, t: &mut Tally) {
        match self.version {
            RingVersion::V2 => self.recv_v2(pool, batch, t),
            RingVersion::V3 => self.recv_v3(pool, batch, t),
        }
    }

    fn recv_v2(&mut self, pool: &mut PacketPool, batch: &mut PacketBatch, t: &mut Tally) {
        while !batch.is_full() && self.ring.is_user(self.cur.unit) {
            let Some(mut pkt) = pool.get() else { break };
            let ok = match parse_frame_v2(self.ring.unit(self.cur.unit), self.vnet_hdr) {
                Ok(f) => fill(&mut pkt, &f, t),
                Err(_) => {
                    t.errors += 1;
                    false
                }
            };
            self.next_unit();
            if ok {
                if let Err(p) = batch.push(pkt) {
                    pool.put(p);
                }
            } else {
                pool.put(pkt);
            }
        }
    }

    fn recv_v3(&mut self, pool: &mut PacketPool, batch: &mut PacketBatch, t: &mut Tally) {
        let vnet = self.vnet_hdr;
        while !batch.is_full() {
            if !self.cur.in_block {
                if !self.ring.is_user(self.cur.unit) {
                    break;
                }
                match parse_block(self.ring.unit(self.cur.unit)) {
                    Ok(h) => {
                        self.cur.in_block = true;
                        self.cur.left = h.num_pkts;
                        self.cur.off = h.first as usize;
                    }
                    Err(_) => {
                        t.errors += 1;
                        self.next_unit();
                        continue;
                    }
                }
            }
            if self.cur.left == 0 {
                self.next_unit();
                continue;
            }
            let Some(mut pkt) = pool.get() else { break };
            let frame = match parse_frame(self.ring.unit(self.cur.unit), self.cur.off, vnet) {
                Ok(f) => f,
                Err(_) => {
                    pool.put(pkt);
                    t.errors += self.cur.left as u64;
                    self.next_unit();
                    continue;
                }
            };
            self.cur.left -= 1;
            if frame.next == 0 && self.cur.left > 0 {
                t.errors += self.cur.left as u64;
                self.cur.left = 0;
            }
            self.cur.off += frame.next as usize;
            if !fill(&mut pkt, &frame, t) {
                pool.put(pkt);
                continue;
            }
            if let Err(p) = batch.push(pkt) {
                pool.put(p);
                break;
            }
        }
        // Give a drained block back at once rather than on the next call.
        if self.cur.in_block && self.cur.left == 0 {
            self.next_unit();
        }
    }
}

/// Rings of a device not currently owned by a receive queue, by queue id.
pub(crate) type RingSlots = Arc<Mutex<Vec<Option<RxRing>>>>;

pub(crate) struct AfPacketRxq {
    ring: Option<RxRing>,
    counters: Arc<QueueCounters>,
    busy: Arc<AtomicBool>,
    /// Where the ring goes back when the queue is dropped.
    home: RingSlots,
    qid: usize,
}

impl AfPacketRxq {
    pub fn new(
        ring: RxRing,
        counters: Arc<QueueCounters>,
        busy: Arc<AtomicBool>,
        home: RingSlots,
        qid: usize,
    ) -> Self {
        AfPacketRxq {
            ring: Some(ring),
            counters,
            busy,
            home,
            qid,
        }
    }
}

impl Drop for AfPacketRxq {
    fn drop(&mut self) {
        if let (Some(ring), Ok(mut slots)) = (self.ring.take(), self.home.lock()) {
            if let Some(slot) = slots.get_mut(self.qid) {
                *slot = Some(ring);
            }
        }
        self.busy.store(false, Ordering::Release);
    }
}

impl RxQueue for AfPacketRxq {
    fn recv(
        &mut self,
        pool: &mut PacketPool,
        batch: &mut PacketBatch,
    ) -> Result<usize, NetdevError> {
        let Some(ring) = self.ring.as_mut() else {
            return Ok(0);
        };
        let mut t = Tally::default();
        ring.recv(pool, batch, &mut t);
        bump(&self.counters.rx_packets, t.got);
        bump(&self.counters.rx_bytes, t.bytes);
        bump(&self.counters.rx_dropped, t.dropped);
        bump(&self.counters.rx_errors, t.errors);
        Ok(t.got as usize)
    }

    fn wait_fd(&self) -> RawFd {
        self.ring.as_ref().map_or(-1, |r| r.fd.as_raw_fd())
    }
}
