//! The transmit path of a system port: `sendmmsg` on a packet socket bound
//! to the device with `PACKET_QDISC_BYPASS`, one message per frame with the
//! vnet header in front, up to a batch per system call. Frames the egress
//! cannot take whole are segmented or checksummed first (see
//! [`crate::offload`]); runs of TCP segments of one connection leave as one
//! super-frame when the egress takes them (see [`crate::coalesce`]): the
//! first frame, its headers rewritten, then the other segments' payloads,
//! gathered by the kernel from the packets where they lie.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::sync::Arc;

use packet::buffer::{Offload, Packet, PacketBatch, PacketPool, BATCH_SIZE};

use crate::coalesce::{Run, Seg};
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
    /// Consecutive TCP segments of a connection leave as one super-frame
    /// (see [`crate::coalesce`]).
    coalesce: bool,
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

/// One socket message: packet `first` of the batch and, for a coalesced
/// run, the payloads of the `count - 1` packets after it.
#[derive(Clone, Copy, Default)]
struct Msg {
    first: u16,
    count: u16,
    /// Where the payload starts in the packets after the first.
    payload_off: u16,
    /// The vnet header's state (the first packet's own for a lone packet).
    offload: Offload,
}

impl Msg {
    fn single(i: usize, p: &Packet) -> Msg {
        Msg {
            first: i as u16,
            count: 1,
            payload_off: 0,
            offload: p.meta.offload,
        }
    }
}

/// Iovecs per `sendmmsg` call: a vnet header and a frame per message, and
/// one more per coalesced payload.
const MAX_IOVS: usize = 3 * BATCH_SIZE;

impl AfPacketTxq {
    pub fn new(
        fd: Arc<OwnedFd>,
        vnet_hdr: bool,
        features: Features,
        coalesce: bool,
        counters: Arc<QueueCounters>,
    ) -> Self {
        let coalesce = coalesce
            && vnet_hdr
            && features.has(Features::TX_CSUM | Features::TX_TSO4 | Features::TX_TSO6);
        AfPacketTxq {
            fd,
            vnet_hdr,
            features,
            coalesce,
            counters,
            scratch: PacketBatch::with_capacity(MAX_SEGMENTS),
        }
    }

    /// Sends the messages `msgs` over `pkts` with one or a few `sendmmsg`
    /// calls.
    fn flush(&self, pkts: &[Packet], msgs: &[Msg], t: &mut Tally) {
        let mut msgs = msgs;
        while !msgs.is_empty() {
            let n = self.flush_some(pkts, msgs, t);
            msgs = &msgs[n..];
        }
    }

    /// Sends as many of `msgs` as one set of headers holds; returns how
    /// many it took.
    fn flush_some(&self, pkts: &[Packet], msgs: &[Msg], t: &mut Tally) -> usize {
        let mut hdrs = [[0u8; Offload::VNET_HDR_LEN]; BATCH_SIZE];
        let empty = libc::iovec {
            iov_base: std::ptr::null_mut(),
            iov_len: 0,
        };
        let mut iovs = [empty; MAX_IOVS];
        // SAFETY: mmsghdr is plain C data (pointers and integers) for which
        // all-zero is a valid value.
        let mut mm: [libc::mmsghdr; BATCH_SIZE] = unsafe { std::mem::zeroed() };
        let mut starts = [0usize; BATCH_SIZE];
        let mut used = 0;
        let mut n = 0;
        for (k, m) in msgs.iter().enumerate().take(BATCH_SIZE) {
            let need = m.count as usize + usize::from(self.vnet_hdr);
            if used + need > MAX_IOVS {
                break;
            }
            starts[k] = used;
            if self.vnet_hdr {
                hdrs[k] = m.offload.to_vnet_hdr();
                iovs[used] = libc::iovec {
                    iov_base: hdrs[k].as_mut_ptr() as *mut libc::c_void,
                    iov_len: hdrs[k].len(),
                };
                used += 1;
            }
            let first = m.first as usize;
            for (j, p) in pkts[first..first + m.count as usize].iter().enumerate() {
                let d = p.data();
                let d = if j == 0 {
                    d
                } else {
                    d.get(m.payload_off as usize..).unwrap_or(&[])
                };
                iovs[used] = libc::iovec {
                    iov_base: d.as_ptr() as *mut libc::c_void,
                    iov_len: d.len(),
                };
                used += 1;
            }
            n = k + 1;
        }
        if n == 0 {
            // Cannot happen: a message holds at most a batch of packets.
            t.errors += msgs[0].count as u64;
            return 1;
        }
        for k in 0..n {
            let end = if k + 1 < n { starts[k + 1] } else { used };
            mm[k].msg_hdr.msg_iov = iovs[starts[k]..].as_mut_ptr();
            mm[k].msg_hdr.msg_iovlen = end - starts[k];
        }
        let seg_count = |m: &Msg| m.count as u64;
        let seg_bytes = |m: &Msg| {
            let f = m.first as usize;
            pkts[f..f + m.count as usize]
                .iter()
                .map(|p| p.len() as u64)
                .sum::<u64>()
        };
        let mut done = 0usize;
        let mut retries = 0;
        while done < n {
            // SAFETY: `mm[done..n]` are initialized message headers whose
            // iovecs point into `hdrs` and into packet data borrowed for the
            // whole call; the kernel only reads them.
            let r = unsafe {
                libc::sendmmsg(
                    self.fd.as_raw_fd(),
                    mm[done..].as_mut_ptr(),
                    (n - done) as u32,
                    libc::MSG_DONTWAIT,
                )
            };
            if r > 0 {
                for m in &msgs[done..done + r as usize] {
                    t.bytes += seg_bytes(m);
                    t.packets += seg_count(m);
                }
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
                    t.dropped += msgs[done..n].iter().map(seg_count).sum::<u64>();
                    break;
                }
                _ => {
                    // This one message is refused (too big, device down,
                    // bad vnet header): count it and go on with the rest.
                    t.errors += seg_count(&msgs[done]);
                    done += 1;
                }
            }
        }
        n
    }
}

/// The run of TCP segments being coalesced: the run and its message.
type OpenRun = Option<(Run, usize)>;

/// Ends the open run, if any: rewrites its first frame's headers into the
/// super-frame's and sets the message's vnet header state.
fn close_run(open: &mut OpenRun, msgs: &mut [Msg], pkts: &mut [Packet]) {
    if let Some((run, k)) = open.take() {
        let m = &mut msgs[k];
        if let Some(off) = run.finish(pkts[m.first as usize].data_mut()) {
            m.offload = off;
            m.payload_off = run.payload_offset() as u16;
        } else {
            m.count = 1;
        }
    }
}

impl TxQueue for AfPacketTxq {
    fn send(
        &mut self,
        batch: &mut PacketBatch,
        pool: &mut PacketPool,
    ) -> Result<usize, NetdevError> {
        let mut t = Tally::default();
        let mut msgs = [Msg::default(); BATCH_SIZE];
        let mut pending = 0usize;
        let mut open: OpenRun = None;
        let n = batch.len();
        for i in 0..n {
            let plan = prepare(&mut batch.packets_mut()[i], &self.features);
            match plan {
                Ok(TxPlan::Direct) => {
                    let pkts = batch.packets_mut();
                    let seg = if self.coalesce {
                        Seg::of(&pkts[i])
                    } else {
                        None
                    };
                    if let (Some(s), Some((run, k))) = (seg.as_ref(), open.as_mut()) {
                        let first = msgs[*k].first as usize;
                        if (msgs[*k].count as usize) < BATCH_SIZE
                            && run.push(pkts[first].data(), pkts[i].data(), s)
                        {
                            msgs[*k].count += 1;
                            continue;
                        }
                    }
                    close_run(&mut open, &mut msgs, pkts);
                    if pending == BATCH_SIZE {
                        self.flush(batch.packets(), &msgs[..pending], &mut t);
                        pending = 0;
                    }
                    let pkts = batch.packets_mut();
                    msgs[pending] = Msg::single(i, &pkts[i]);
                    if let Some(s) = seg {
                        open = Some((Run::start(s), pending));
                    }
                    pending += 1;
                }
                Ok(TxPlan::Segment) => {
                    close_run(&mut open, &mut msgs, batch.packets_mut());
                    self.flush(batch.packets(), &msgs[..pending], &mut t);
                    pending = 0;
                    let r = segment(&batch.packets()[i], pool, &mut self.scratch);
                    let segs = self.scratch.packets();
                    for chunk in segs.chunks(BATCH_SIZE).enumerate() {
                        let (c, ps) = chunk;
                        let mut m = [Msg::default(); BATCH_SIZE];
                        for (j, p) in ps.iter().enumerate() {
                            m[j] = Msg::single(c * BATCH_SIZE + j, p);
                        }
                        self.flush(segs, &m[..ps.len()], &mut t);
                    }
                    if r.is_err() {
                        t.errors += 1;
                    }
                    pool.recycle(&mut self.scratch);
                }
                Err(_) => {
                    close_run(&mut open, &mut msgs, batch.packets_mut());
                    t.errors += 1;
                }
            }
        }
        close_run(&mut open, &mut msgs, batch.packets_mut());
        self.flush(batch.packets(), &msgs[..pending], &mut t);
        pool.recycle(batch);
        bump(&self.counters.tx_packets, t.packets);
        bump(&self.counters.tx_bytes, t.bytes);
        bump(&self.counters.tx_dropped, t.dropped);
        bump(&self.counters.tx_errors, t.errors);
        Ok(t.packets as usize)
    }
}
