//! The receive queue of a system port: a TPACKET_V2 ring read slot by slot,
//! each frame handed on in place (its slot lent to the packet until the
//! packet is dropped), or a TPACKET_V3 ring read block by block, each frame
//! copied into a pool buffer; either way with its vnet header turned into
//! offload metadata and its VLAN tag put back into the frame.

use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use packet::buffer::{Offload, Packet, PacketBatch, PacketPool, SlotOwner, BATCH_SIZE};

use super::ring::{
    parse_block, parse_frame, parse_frame_v2, Frame, MmapRing, H2_NSEC, H2_SEC, H2_SIZE,
    TP_STATUS_COPY,
};
use crate::error::NetdevError;
use crate::provider::{RxMode, RxQueue};
use crate::stats::{bump, QueueCounters};

/// A receive socket: a ring reader, or nothing more than the socket for
/// `recvmmsg`.
pub(crate) struct RxRing {
    pub fd: Arc<OwnedFd>,
    vnet_hdr: bool,
    reader: Option<RingReader>,
    /// The second V2 ring (super-frames) and its socket.
    big: Option<(Arc<OwnedFd>, RingReader)>,
    /// With a second ring: an epoll instance over both sockets, the one
    /// descriptor to wait on.
    epoll: Option<OwnedFd>,
}

/// A ring mapping whose V2 slots are lent to packets: a slot goes back to
/// the kernel when its packet is dropped.
struct Lender {
    ring: MmapRing,
}

impl SlotOwner for Lender {
    fn release(&self, slot: usize) {
        self.ring.give_back(slot);
    }
}

/// Where a frame lies in its V2 slot and what the kernel said of it, read
/// out of the slot before the slot is lent.
struct SlotFrame {
    /// Offset of the frame in the slot.
    mac: usize,
    len: usize,
    wire_len: u32,
    vlan: Option<(u16, u16)>,
    offload: Option<Offload>,
}

impl SlotFrame {
    fn of(frame: &Frame<'_>, slot: &[u8]) -> Option<SlotFrame> {
        Some(SlotFrame {
            mac: (frame.data.as_ptr() as usize).checked_sub(slot.as_ptr() as usize)?,
            len: frame.data.len(),
            wire_len: frame.wire_len,
            vlan: frame.vlan,
            offload: frame.offload,
        })
    }
}

/// Lends V2 slot `i` of `lender`, holding `f`, to a packet. The caller
/// holds no reference into the slot.
fn lend(lender: &Arc<Lender>, i: usize, f: &SlotFrame, t: &mut Tally) -> Option<Packet> {
    let ring = &lender.ring;
    let cap = ring.unit_size() - H2_SIZE;
    let Some(head) = f.mac.checked_sub(H2_SIZE) else {
        t.errors += 1;
        return None;
    };
    if head + f.len > cap {
        t.errors += 1;
        return None;
    }
    if (f.len as u32) < f.wire_len {
        t.dropped += 1;
        return None;
    }
    // SAFETY: the slot lies inside the mapping, which the lender (kept alive
    // by the packet) owns; the slot's status is TP_STATUS_USER so the kernel
    // leaves it alone until `give_back`, and the reader moves past it
    // (`skip_unit`) and does not touch it again until the kernel has
    // refilled it. The lent bytes start behind the slot's header (its status
    // word is not lent).
    let ptr = unsafe { std::ptr::NonNull::new_unchecked(ring.unit_ptr(i).as_ptr().add(H2_SIZE)) };
    let owner: Arc<dyn SlotOwner> = lender.clone();
    // SAFETY: see above; `head + len <= cap` checked.
    let mut pkt = unsafe { Packet::from_slot(ptr, cap, head, f.len, owner, i) };
    if finish_meta(&mut pkt, f.vlan, f.offload, f.len, t) {
        Some(pkt)
    } else {
        None
    }
}

/// A ring mapping and where the reader stands in it.
struct RingReader {
    lender: Arc<Lender>,
    vnet_hdr: bool,
    version: RxMode,
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
    let tag = if frame.vlan.is_some() { 4 } else { 0 };
    if n + tag > pkt.tailroom() {
        t.dropped += 1;
        return false;
    }
    pkt.spare_from_head()[..n].copy_from_slice(frame.data);
    // Cannot fail: checked against the tailroom above.
    let _ = pkt.set_len(n);
    finish(pkt, frame, t)
}

/// Gives `pkt`, which holds `frame`'s bytes, the frame's offload state and
/// puts its VLAN tag back. Returns false (and counts) when the frame cannot
/// be taken.
fn finish(pkt: &mut Packet, frame: &Frame<'_>, t: &mut Tally) -> bool {
    let n = frame.data.len();
    if (n as u32) < frame.wire_len {
        t.dropped += 1;
        return false;
    }
    finish_meta(pkt, frame.vlan, frame.offload, n, t)
}

/// [`finish`] for a frame of `n` bytes already checked whole.
fn finish_meta(
    pkt: &mut Packet,
    vlan: Option<(u16, u16)>,
    offload: Option<Offload>,
    n: usize,
    t: &mut Tally,
) -> bool {
    let tag = if vlan.is_some() { 4 } else { 0 };
    if pkt.headroom() < tag || (tag != 0 && n < 12) {
        t.dropped += 1;
        return false;
    }
    if let Some(o) = offload {
        pkt.meta.offload = o;
        if o.is_gso() && o.gso_size == 0 {
            pkt.meta.offload.gso_type = Offload::GSO_NONE;
        }
    }
    if let Some((tpid, tci)) = vlan {
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
    /// `ring` is None for [`RxMode::Recvmmsg`]; `big` is a second V2 ring
    /// and its socket (with a V2 `ring` only).
    pub fn new(
        fd: Arc<OwnedFd>,
        ring: Option<MmapRing>,
        big: Option<(Arc<OwnedFd>, MmapRing)>,
        vnet_hdr: bool,
        version: RxMode,
    ) -> std::io::Result<RxRing> {
        let reader = |ring| RingReader {
            lender: Arc::new(Lender { ring }),
            vnet_hdr,
            version,
            cur: Cursor::default(),
        };
        let big = match (big, version) {
            (Some((bfd, bring)), RxMode::RingV2) => Some((bfd, reader(bring))),
            _ => None,
        };
        let epoll = match &big {
            Some((bfd, _)) => Some(epoll_over(&[fd.as_raw_fd(), bfd.as_raw_fd()])?),
            None => None,
        };
        Ok(RxRing {
            fd,
            vnet_hdr,
            reader: ring.map(reader),
            big,
            epoll,
        })
    }

    /// The socket of the second ring, if any.
    pub fn big_fd(&self) -> Option<&Arc<OwnedFd>> {
        self.big.as_ref().map(|(fd, _)| fd)
    }

    /// The descriptor that becomes readable when a frame waits.
    pub fn wait_fd(&self) -> RawFd {
        match &self.epoll {
            Some(e) => e.as_raw_fd(),
            None => self.fd.as_raw_fd(),
        }
    }

    fn recv(&mut self, pool: &mut PacketPool, batch: &mut PacketBatch, t: &mut Tally) {
        if let (Some(small), Some((bfd, big))) = (self.reader.as_mut(), self.big.as_mut()) {
            // Both rings in arrival order: the earlier of the two heads
            // first. The first ring's head is read before the second's: a
            // super-frame that arrived before a frame seen in the first
            // ring is then already visible in the second.
            let (sfd, bfd) = (self.fd.as_raw_fd(), bfd.as_raw_fd());
            // Arrival times are read only when both rings hold a frame.
            while !batch.is_full() {
                let took = match (small.head_ready(), big.head_ready()) {
                    (false, false) => break,
                    (true, false) => small.step_v2(sfd, pool, batch, t),
                    (false, true) => big.step_v2(bfd, pool, batch, t),
                    (true, true) => match (small.head_time(), big.head_time()) {
                        (Some(s), Some(b)) if b <= s => big.step_v2(bfd, pool, batch, t),
                        _ => small.step_v2(sfd, pool, batch, t),
                    },
                };
                if !took {
                    break;
                }
            }
            return;
        }
        match self.reader.as_mut() {
            Some(r) => r.recv(self.fd.as_raw_fd(), pool, batch, t),
            None => recv_mmsg(
                self.fd.as_raw_fd(),
                self.vnet_hdr,
                pool,
                batch,
                t,
                BATCH_SIZE,
            ),
        }
    }
}

/// An epoll instance watching `fds` for input (level-triggered).
fn epoll_over(fds: &[RawFd]) -> std::io::Result<OwnedFd> {
    use std::os::fd::FromRawFd;
    // SAFETY: plain system call; the result is checked.
    let ep = unsafe { libc::epoll_create1(libc::EPOLL_CLOEXEC) };
    if ep < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `ep` is a new descriptor owned by nothing else.
    let ep = unsafe { OwnedFd::from_raw_fd(ep) };
    for &fd in fds {
        let mut ev = libc::epoll_event {
            events: libc::EPOLLIN as u32,
            u64: fd as u64,
        };
        // SAFETY: `ev` is a valid epoll_event for the call; both descriptors
        // are open.
        if unsafe { libc::epoll_ctl(ep.as_raw_fd(), libc::EPOLL_CTL_ADD, fd, &mut ev) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
    }
    Ok(ep)
}

/// Option value and control message of `PACKET_AUXDATA`.
pub(crate) const PACKET_AUXDATA: libc::c_int = 8;
const SOL_PACKET: libc::c_int = 263;
/// Room for one control message with a `struct tpacket_auxdata`.
const CMSG_ROOM: usize = 64;

/// Reads the VLAN tag out of a `PACKET_AUXDATA` control message (the kernel
/// strips tags out of frames it receives).
fn aux_vlan(cmsg: &[u8], len: usize) -> Option<(u16, u16)> {
    // struct cmsghdr: size_t cmsg_len; int cmsg_level; int cmsg_type; data.
    let hdr = std::mem::size_of::<usize>() + 8;
    if len < hdr + 20 || cmsg.len() < hdr + 20 {
        return None;
    }
    let level = i32::from_ne_bytes(cmsg[hdr - 8..hdr - 4].try_into().ok()?);
    let ty = i32::from_ne_bytes(cmsg[hdr - 4..hdr].try_into().ok()?);
    if level != SOL_PACKET || ty != PACKET_AUXDATA {
        return None;
    }
    // struct tpacket_auxdata: status, len, snaplen (u32), mac, net, vlan_tci,
    // vlan_tpid (u16).
    let d = &cmsg[hdr..hdr + 20];
    let status = u32::from_ne_bytes(d[0..4].try_into().ok()?);
    if status & super::ring::TP_STATUS_VLAN_VALID == 0 {
        return None;
    }
    let tci = u16::from_ne_bytes([d[16], d[17]]);
    let tpid = if status & super::ring::TP_STATUS_VLAN_TPID_VALID != 0 {
        u16::from_ne_bytes([d[18], d[19]])
    } else {
        0x8100
    };
    Some((tpid, tci))
}

/// Receives up to a batch with one `recvmmsg` straight into pool buffers.
fn recv_mmsg(
    fd: RawFd,
    vnet: bool,
    pool: &mut PacketPool,
    batch: &mut PacketBatch,
    t: &mut Tally,
    max: usize,
) {
    let want = batch.room().min(BATCH_SIZE).min(max);
    let mut pkts: [Option<Packet>; BATCH_SIZE] = std::array::from_fn(|_| None);
    let mut n = 0;
    while n < want {
        match pool.get() {
            Some(p) => pkts[n] = Some(p),
            None => break,
        }
        n += 1;
    }
    if n == 0 {
        return;
    }
    let mut hdrs = [[0u8; Offload::VNET_HDR_LEN]; BATCH_SIZE];
    let mut cmsgs = [[0u64; CMSG_ROOM / 8]; BATCH_SIZE];
    let empty = libc::iovec {
        iov_base: std::ptr::null_mut(),
        iov_len: 0,
    };
    let mut iovs = [[empty; 2]; BATCH_SIZE];
    // SAFETY: mmsghdr is plain C data for which all-zero is valid.
    let mut msgs: [libc::mmsghdr; BATCH_SIZE] = unsafe { std::mem::zeroed() };
    for k in 0..n {
        let Some(p) = pkts[k].as_mut() else { continue };
        // Leave room to put a VLAN tag back in front.
        let spare = p.spare_from_head();
        let mut c = 0;
        if vnet {
            iovs[k][0] = libc::iovec {
                iov_base: hdrs[k].as_mut_ptr() as *mut libc::c_void,
                iov_len: hdrs[k].len(),
            };
            c = 1;
        }
        iovs[k][c] = libc::iovec {
            iov_base: spare.as_mut_ptr() as *mut libc::c_void,
            iov_len: spare.len(),
        };
        msgs[k].msg_hdr.msg_iov = iovs[k].as_mut_ptr();
        msgs[k].msg_hdr.msg_iovlen = c + 1;
        msgs[k].msg_hdr.msg_control = cmsgs[k].as_mut_ptr() as *mut libc::c_void;
        msgs[k].msg_hdr.msg_controllen = CMSG_ROOM;
    }
    // SAFETY: `msgs[..n]` point at iovecs into `hdrs`, at the spare room of
    // the packets held in `pkts` and at `cmsgs`, all writable and alive for
    // the call.
    let r = unsafe {
        libc::recvmmsg(
            fd,
            msgs.as_mut_ptr(),
            n as u32,
            libc::MSG_DONTWAIT,
            std::ptr::null_mut(),
        )
    };
    let got = if r < 0 {
        if !matches!(
            std::io::Error::last_os_error().raw_os_error(),
            Some(libc::EAGAIN) | Some(libc::EINTR)
        ) {
            t.errors += 1;
        }
        0
    } else {
        r as usize
    };
    for k in 0..n {
        let Some(mut p) = pkts[k].take() else {
            continue;
        };
        if k >= got {
            pool.put(p);
            continue;
        }
        let m = &msgs[k];
        let mut len = m.msg_len as usize;
        if m.msg_hdr.msg_flags & libc::MSG_TRUNC != 0 {
            t.dropped += 1;
            pool.put(p);
            continue;
        }
        if vnet {
            if len < Offload::VNET_HDR_LEN {
                t.errors += 1;
                pool.put(p);
                continue;
            }
            len -= Offload::VNET_HDR_LEN;
            p.meta.offload = Offload::from_vnet_hdr(&hdrs[k]);
            if p.meta.offload.is_gso() && p.meta.offload.gso_size == 0 {
                p.meta.offload.gso_type = Offload::GSO_NONE;
            }
        }
        if p.set_len(len).is_err() {
            t.errors += 1;
            pool.put(p);
            continue;
        }
        let cm: &[u8] = {
            let c = &cmsgs[k];
            // SAFETY: `[u64; N]` is fully initialized; viewing it as bytes is valid.
            unsafe { std::slice::from_raw_parts(c.as_ptr() as *const u8, CMSG_ROOM) }
        };
        if let Some((tpid, tci)) = aux_vlan(cm, m.msg_hdr.msg_controllen) {
            if len < 12
                || p.insert_gap(12, 4)
                    .map(|g| {
                        g[..2].copy_from_slice(&tpid.to_be_bytes());
                        g[2..].copy_from_slice(&tci.to_be_bytes());
                    })
                    .is_err()
            {
                t.dropped += 1;
                pool.put(p);
                continue;
            }
        }
        t.bytes += p.len() as u64;
        t.got += 1;
        if let Err(p) = batch.push(p) {
            pool.put(p);
        }
    }
}

impl RingReader {
    fn ring(&self) -> &MmapRing {
        &self.lender.ring
    }

    /// Gives the current unit back and moves to the next.
    fn next_unit(&mut self) {
        self.ring().give_back(self.cur.unit);
        self.skip_unit();
    }

    /// Moves to the next unit, leaving the current one where it is (lent).
    fn skip_unit(&mut self) {
        self.cur.unit = self.ring().next_unit(self.cur.unit);
        self.cur.in_block = false;
    }

    fn recv(&mut self, fd: RawFd, pool: &mut PacketPool, batch: &mut PacketBatch, t: &mut Tally) {
        match self.version {
            RxMode::RingV2 => self.recv_v2(fd, pool, batch, t),
            RxMode::RingV3 | RxMode::Recvmmsg => self.recv_v3(pool, batch, t),
        }
    }

    /// Slots are small (a wire-size frame); the kernel queues a copy of a
    /// larger frame (a super-frame) on the socket and marks its truncated
    /// slot `TP_STATUS_COPY`: that frame is read with `recvmsg`, in order.
    fn recv_v2(
        &mut self,
        fd: RawFd,
        pool: &mut PacketPool,
        batch: &mut PacketBatch,
        t: &mut Tally,
    ) {
        while !batch.is_full() && self.step_v2(fd, pool, batch, t) {}
    }

    /// Whether the current V2 slot holds a frame for us.
    #[inline]
    fn head_ready(&self) -> bool {
        self.ring().is_user(self.cur.unit)
    }

    /// When the frame in the current V2 slot arrived (nanoseconds of the
    /// kernel's real-time clock), or None when the slot is not ours yet.
    fn head_time(&self) -> Option<u64> {
        let ring = self.ring();
        if !ring.is_user(self.cur.unit) {
            return None;
        }
        let h = ring.unit(self.cur.unit);
        let sec = u32::from_ne_bytes([h[H2_SEC], h[H2_SEC + 1], h[H2_SEC + 2], h[H2_SEC + 3]]);
        let nsec = u32::from_ne_bytes([h[H2_NSEC], h[H2_NSEC + 1], h[H2_NSEC + 2], h[H2_NSEC + 3]]);
        Some(sec as u64 * 1_000_000_000 + nsec as u64)
    }

    /// Takes the frame of the current V2 slot into `batch`; false when
    /// there is none (or no buffer for a frame read from the socket).
    fn step_v2(
        &mut self,
        fd: RawFd,
        pool: &mut PacketPool,
        batch: &mut PacketBatch,
        t: &mut Tally,
    ) -> bool {
        if batch.is_full() || !self.ring().is_user(self.cur.unit) {
            return false;
        }
        let status = self.ring().status(self.cur.unit);
        if status & TP_STATUS_COPY != 0 {
            let before = batch.len();
            recv_mmsg(fd, self.vnet_hdr, pool, batch, t, 1);
            if batch.len() == before && pool.available() == 0 {
                // No buffer: leave the slot for the next call.
                return false;
            }
            self.next_unit();
            return true;
        }
        // The frame is handed on in its slot: no copy, no pool buffer.
        let i = self.cur.unit;
        let slot = self.lender.ring.unit(i);
        let info = parse_frame_v2(slot, self.vnet_hdr)
            .ok()
            .and_then(|f| SlotFrame::of(&f, slot));
        let lent = match info {
            Some(f) => lend(&self.lender, i, &f, t),
            None => {
                t.errors += 1;
                None
            }
        };
        match lent {
            Some(pkt) => {
                self.skip_unit();
                if let Err(p) = batch.push(pkt) {
                    // Cannot happen: the batch had room. Dropping the
                    // packet gives the slot back.
                    drop(p);
                }
            }
            None => self.next_unit(),
        }
        true
    }

    fn recv_v3(&mut self, pool: &mut PacketPool, batch: &mut PacketBatch, t: &mut Tally) {
        let vnet = self.vnet_hdr;
        while !batch.is_full() {
            if !self.cur.in_block {
                if !self.ring().is_user(self.cur.unit) {
                    break;
                }
                match parse_block(self.ring().unit(self.cur.unit)) {
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
            let lender = self.lender.clone();
            let frame = match parse_frame(lender.ring.unit(self.cur.unit), self.cur.off, vnet) {
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
        self.ring.as_ref().map_or(-1, |r| r.wait_fd())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cmsg(level: i32, ty: i32, status: u32, tci: u16, tpid: u16) -> Vec<u8> {
        let hdr = std::mem::size_of::<usize>() + 8;
        let mut c = vec![0u8; CMSG_ROOM];
        c[..std::mem::size_of::<usize>()].copy_from_slice(&(hdr + 20).to_ne_bytes());
        c[hdr - 8..hdr - 4].copy_from_slice(&level.to_ne_bytes());
        c[hdr - 4..hdr].copy_from_slice(&ty.to_ne_bytes());
        c[hdr..hdr + 4].copy_from_slice(&status.to_ne_bytes());
        c[hdr + 16..hdr + 18].copy_from_slice(&tci.to_ne_bytes());
        c[hdr + 18..hdr + 20].copy_from_slice(&tpid.to_ne_bytes());
        c
    }

    #[test]
    fn vlan_from_auxdata() {
        use super::super::ring::{TP_STATUS_VLAN_TPID_VALID, TP_STATUS_VLAN_VALID};
        let c = cmsg(SOL_PACKET, PACKET_AUXDATA, TP_STATUS_VLAN_VALID, 0x2064, 0);
        assert_eq!(aux_vlan(&c, CMSG_ROOM), Some((0x8100, 0x2064)));
        let c = cmsg(
            SOL_PACKET,
            PACKET_AUXDATA,
            TP_STATUS_VLAN_VALID | TP_STATUS_VLAN_TPID_VALID,
            5,
            0x88a8,
        );
        assert_eq!(aux_vlan(&c, CMSG_ROOM), Some((0x88a8, 5)));
        let c = cmsg(SOL_PACKET, PACKET_AUXDATA, 0, 5, 0);
        assert_eq!(aux_vlan(&c, CMSG_ROOM), None, "no tag");
        let c = cmsg(libc::SOL_SOCKET, PACKET_AUXDATA, TP_STATUS_VLAN_VALID, 5, 0);
        assert_eq!(aux_vlan(&c, CMSG_ROOM), None, "other message");
        assert_eq!(aux_vlan(&c, 10), None, "short control data");
    }

    #[test]
    fn fill_puts_the_tag_back_and_drops_truncated() {
        let data: Vec<u8> = (0..64).collect();
        let f = Frame {
            data: &data,
            wire_len: 64,
            status: 0,
            vlan: Some((0x8100, 7)),
            offload: None,
            next: 0,
        };
        let mut pool = PacketPool::new(2, 256, 16);
        let mut p = pool.get().unwrap();
        let mut t = Tally::default();
        assert!(fill(&mut p, &f, &mut t));
        assert_eq!(&p.data()[..12], &data[..12]);
        assert_eq!(&p.data()[12..16], &[0x81, 0, 0, 7]);
        assert_eq!(&p.data()[16..], &data[12..]);
        assert_eq!((t.got, t.bytes), (1, 68));
        let cut = Frame {
            data: &data,
            wire_len: 1000,
            status: 0,
            vlan: None,
            offload: None,
            next: 0,
        };
        let mut q = pool.get().unwrap();
        assert!(!fill(&mut q, &cut, &mut t));
        assert_eq!(t.dropped, 1);
    }
}
