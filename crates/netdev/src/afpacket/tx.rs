//! The transmit path of a system port: `sendmmsg` on a packet socket bound
//! to the device with `PACKET_QDISC_BYPASS`, one message per frame with the
//! vnet header in front, up to a batch per system call. Frames the egress
//! cannot take whole are segmented or checksummed first (see
//! [`crate::offload`]).

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use packet::buffer::{Offload, Packet, PacketBatch, PacketPool, BATCH_SIZE};

use crate::error::NetdevError;
use crate::offload::{prepare, segment, TxPlan};
use crate::provider::{Features, TxQueue};
use crate::stats::{bump, QueueCounters};
use crate::sys::wait_writable;

/// Segments one super-frame can become (64 KiB at an MSS of 536 is 123).
const MAX_SEGMENTS: usize = 256;
/// How long a full socket buffer may hold a batch back, in 1 ms polls,
/// before the rest of the batch is dropped.
const FULL_RETRIES: u32 = 4;

pub(crate) struct AfPacketTxq {
    fd: Arc<OwnedFd>,
    vnet_hdr: bool,
    features: Features,
    counters: Arc<QueueCounters>,
    scratch: PacketBatch,
}

/// Result of pushing some frames to the socket.
#[derive(Default)]
struct Tally {
    packets: u64,
    bytes: u64,
    dropped: u64,
    errors: u64,
}

impl AfPacketTxq {
    pub fn new(
        fd: Arc<OwnedFd>,
        vnet_hdr: bool,
        features: Features,
        counters: Arc<QueueCounters>,
    ) -> Self {
        AfPacketTxq {
            fd,
            vnet_hdr,
            features,
            counters,
            scratch: PacketBatch::with_capacity(MAX_SEGMENTS),
        }
    }

    /// Sends `pkts[i]` for each index in `idx` with one or a few `sendmmsg`
    /// calls.
    fn flush(&self, pkts: &[Packet], idx: &[u16], t: &mut Tally) {
        let n = idx.len().min(BATCH_SIZE);
        if n == 0 {
            return;
        }
        let mut hdrs = [[0u8; Offload::VNET_HDR_LEN]; BATCH_SIZE];
        let empty = libc::iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 0,
        };
        let mut iovs = [[empty; 2]; BATCH_SIZE];
        // SAFETY: mmsghdr is plain C data (pointers and integers) for which
        // all-zero is a valid value.
        let mut msgs: [libc::mmsghdr; BATCH_SIZE] = unsafe { std::mem::zeroed() };
        for (k, &i) in idx[..n].iter().enumerate() {
            let p = &pkts[i as usize];
            let data = p.data();
            let mut cnt = 0;
            if self.vnet_hdr {
                hdrs[k] = p.meta.offload.to_vnet_hdr();
                iovs[k][0] = libc::iovec {
                    iov_base: hdrs[k].as_mut_ptr() as *mut libc::c_void,
                    iov_len: hdrs[k].len(),
                };
                cnt = 1;
            }
            iovs[k][cnt] = libc::iovec {
                iov_base: data.as_ptr() as *mut libc::c_void,
                iov_len: data.len(),
            };
            msgs[k].msg_hdr.msg_iov = iovs[k].as_mut_ptr();
            msgs[k].msg_hdr.msg_iovlen = cnt + 1;
        }
        let mut done = 0usize;
        let mut retries = 0;
        while done < n {
            // SAFETY: `msgs[done..n]` are initialized message headers whose
            // iovecs point into `hdrs` and into packet data borrowed for the
            // whole call; the kernel only reads them.
            let r = unsafe {
                libc::sendmmsg(
                    self.fd.as_raw_fd(),
                    msgs[done..].as_mut_ptr(),
                    (n - done) as u32,
                    libc::MSG_DONTWAIT,
                )
            };
            if r > 0 {
                for m in &idx[done..done + r as usize] {
                    t.bytes += pkts[*m as usize].len() as u64;
                }
                t.packets += r as u64;
                done += r as usize;
                continue;
            }
            let e = io::Error::last_os_error();
            match e.raw_os_error() {
                Some(libc::EINTR) => {}
                Some(libc::EAGAIN) | Some(libc::ENOBUFS) if retries < FULL_RETRIES => {
                    retries += 1;
                    wait_writable(self.fd.as_raw_fd(), 1);
                }
                Some(libc::EAGAIN) | Some(libc::ENOBUFS) => {
                    t.dropped += (n - done) as u64;
                    break;
                }
                _ => {
                    // This one frame is refused (too big, device down, bad
                    // vnet header): count it and go on with the rest.
                    t.errors += 1;
                    done += 1;
                }
            }
        }
        if n < idx.len() {
            self.flush(pkts, &idx[n..], t);
        }
    }
}

const ALL: [u16; MAX_SEGMENTS] = {
    let mut a = [0u16; MAX_SEGMENTS];
    let mut i = 0;
    while i < MAX_SEGMENTS {
        a[i] = i as u16;
        i += 1;
    }
    a
};

impl TxQueue for AfPacketTxq {
    fn send(
        &mut self,
        batch: &mut PacketBatch,
        pool: &mut PacketPool,
    ) -> Result<usize, NetdevError> {
        let mut t = Tally::default();
        let mut idx = [0u16; BATCH_SIZE];
        let mut pending = 0usize;
        let n = batch.len();
        for i in 0..n {
            let plan = prepare(&mut batch.packets_mut()[i], &self.features);
            match plan {
                Ok(TxPlan::Direct) => {
                    idx[pending] = i as u16;
                    pending += 1;
                    if pending == BATCH_SIZE {
                        self.flush(batch.packets(), &idx[..pending], &mut t);
                        pending = 0;
                    }
                }
                Ok(TxPlan::Segment) => {
                    self.flush(batch.packets(), &idx[..pending], &mut t);
                    pending = 0;
                    let r = segment(&batch.packets()[i], pool, &mut self.scratch);
                    let segs = self.scratch.len();
                    self.flush(self.scratch.packets(), &ALL[..segs], &mut t);
                    if r.is_err() {
                        t.errors += 1;
                    }
                    pool.recycle(&mut self.scratch);
                }
                Err(_) => t.errors += 1,
            }
        }
        self.flush(batch.packets(), &idx[..pending], &mut t);
        pool.recycle(batch);
        bump(&self.counters.tx_packets, t.packets);
        bump(&self.counters.tx_bytes, t.bytes);
        bump(&self.counters.tx_dropped, t.dropped);
        bump(&self.counters.tx_errors, t.errors);
        Ok(t.packets as usize)
    }
}
