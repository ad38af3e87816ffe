//! The ring transmit path of a system port: a TPACKET_V2 transmit ring.
//! Frames are copied into free slots (vnet header first), marked
//! `TP_STATUS_SEND_REQUEST`, and one `send()` per batch has the kernel build
//! socket buffers straight from the ring pages and hand them to the device
//! (with `PACKET_QDISC_BYPASS`). A slot becomes free again when the kernel
//! frees the buffer made from it.
//!
//! Each ring belongs to one transmit handle at a time (the device keeps a
//! few, handed out by `open_txq`, given back on drop).
//!
//! Not the default: the kernel builds ring buffers as zero-copy fragments,
//! and a veth copies such fragments again when it forwards them into the
//! peer's stack, so a super-frame to a veth costs two copies here (ours
//! into the slot, the veth's) against one with `sendmmsg`; measured on
//! namespace TCP with offloads on it was slower.

use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::{Arc, Mutex};

use packet::buffer::{Offload, Packet, PacketBatch, PacketPool};

use super::ring::MmapRing;
use crate::error::NetdevError;
use crate::offload::{prepare, segment, TxPlan};
use crate::provider::{Features, TxQueue};
use crate::stats::{bump, QueueCounters};
use crate::sys::wait_writable;

pub(crate) const TP_STATUS_AVAILABLE: u32 = 0;
pub(crate) const TP_STATUS_SEND_REQUEST: u32 = 1;
pub(crate) const TP_STATUS_WRONG_FORMAT: u32 = 4;
/// Where a V2 transmit slot's data starts: `TPACKET2_HDRLEN` minus the
/// `sockaddr_ll` the kernel does not use on transmit.
pub(crate) const TX_DATA_OFF: usize = 32;
/// Offset of `tp_len` in `struct tpacket2_hdr`.
const H2_LEN: usize = 4;
/// Segments one super-frame can become.
const MAX_SEGMENTS: usize = 256;
/// How long a full ring may hold a batch back, in 1 ms polls.
const FULL_RETRIES: u32 = 4;

/// A transmit ring socket and its mapping.
pub(crate) struct TxRing {
    pub fd: OwnedFd,
    pub ring: MmapRing,
    pub vnet_hdr: bool,
    next: usize,
}

impl TxRing {
    pub fn new(fd: OwnedFd, ring: MmapRing, vnet_hdr: bool) -> TxRing {
        TxRing {
            fd,
            ring,
            vnet_hdr,
            next: 0,
        }
    }
}

/// What one send did.
#[derive(Default)]
struct Tally {
    packets: u64,
    bytes: u64,
    dropped: u64,
    errors: u64,
}

/// Transmit rings of a device not owned by a handle right now.
pub(crate) type TxRingSlots = Arc<Mutex<Vec<TxRing>>>;

pub(crate) struct AfPacketTxRingq {
    tx: Option<TxRing>,
    features: Features,
    counters: Arc<QueueCounters>,
    scratch: PacketBatch,
    home: TxRingSlots,
}

impl AfPacketTxRingq {
    pub fn new(
        tx: TxRing,
        features: Features,
        counters: Arc<QueueCounters>,
        home: TxRingSlots,
    ) -> Self {
        AfPacketTxRingq {
            tx: Some(tx),
            features,
            counters,
            scratch: PacketBatch::with_capacity(MAX_SEGMENTS),
            home,
        }
    }
}

impl Drop for AfPacketTxRingq {
    fn drop(&mut self) {
        if let (Some(tx), Ok(mut slots)) = (self.tx.take(), self.home.lock()) {
            slots.push(tx);
        }
    }
}

/// Asks the kernel to send every requested slot.
fn kick(tx: &TxRing) {
    // SAFETY: a zero-length send on our own socket; no user memory is passed.
    unsafe { libc::send(tx.fd.as_raw_fd(), std::ptr::null(), 0, libc::MSG_DONTWAIT) };
}

/// Copies `p` into the next slot; false when the ring stays full.
fn enqueue(tx: &mut TxRing, p: &Packet, t: &mut Tally) -> bool {
    let data = p.data();
    let hdr = if tx.vnet_hdr {
        Offload::VNET_HDR_LEN
    } else {
        0
    };
    let i = tx.next;
    let mut retries = 0;
    loop {
        match tx.ring.status(i) {
            TP_STATUS_AVAILABLE => break,
            TP_STATUS_WRONG_FORMAT => {
                // The kernel refused what we put here last time round.
                t.errors += 1;
                t.packets = t.packets.saturating_sub(1);
                tx.ring.set_status(i, TP_STATUS_AVAILABLE);
                break;
            }
            _ if retries < FULL_RETRIES => {
                kick(tx);
                wait_writable(tx.fd.as_raw_fd(), 1);
                retries += 1;
            }
            _ => return false,
        }
    }
    let slot = tx.ring.unit_mut(i);
    if TX_DATA_OFF + hdr + data.len() > slot.len() {
        t.errors += 1;
        return true;
    }
    if tx.vnet_hdr {
        slot[TX_DATA_OFF..TX_DATA_OFF + hdr].copy_from_slice(&p.meta.offload.to_vnet_hdr());
    }
    slot[TX_DATA_OFF + hdr..TX_DATA_OFF + hdr + data.len()].copy_from_slice(data);
    slot[H2_LEN..H2_LEN + 4].copy_from_slice(&((hdr + data.len()) as u32).to_ne_bytes());
    tx.ring.set_status(i, TP_STATUS_SEND_REQUEST);
    tx.next = tx.ring.next_unit(i);
    t.packets += 1;
    t.bytes += data.len() as u64;
    true
}

impl TxQueue for AfPacketTxRingq {
    fn send(
        &mut self,
        batch: &mut PacketBatch,
        pool: &mut PacketPool,
    ) -> Result<usize, NetdevError> {
        let mut t = Tally::default();
        let Some(tx) = self.tx.as_mut() else {
            pool.recycle(batch);
            return Ok(0);
        };
        let mut full = false;
        for i in 0..batch.len() {
            if full {
                t.dropped += 1;
                continue;
            }
            match prepare(&mut batch.packets_mut()[i], &self.features) {
                Ok(TxPlan::Direct) => full = !enqueue(tx, &batch.packets()[i], &mut t),
                Ok(TxPlan::Segment) => {
                    if segment(&batch.packets()[i], pool, &mut self.scratch).is_err() {
                        t.errors += 1;
                    }
                    for s in self.scratch.iter() {
                        if full || !enqueue(tx, s, &mut t) {
                            full = true;
                            t.dropped += 1;
                        }
                    }
                    pool.recycle(&mut self.scratch);
                }
                Err(_) => t.errors += 1,
            }
            if full {
                t.dropped += 1;
            }
        }
        kick(tx);
        pool.recycle(batch);
        bump(&self.counters.tx_packets, t.packets);
        bump(&self.counters.tx_bytes, t.bytes);
        bump(&self.counters.tx_dropped, t.dropped);
        bump(&self.counters.tx_errors, t.errors);
        Ok(t.packets as usize)
    }
}
