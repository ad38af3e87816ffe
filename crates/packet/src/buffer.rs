//! Packet buffers: the storage every packet lives in while it crosses the switch.
//!
//! This module owns three things and nothing else:
//!
//! * [`Packet`]: one frame in a fixed-size byte buffer, with *headroom* in front
//!   of the frame so that headers (VLAN tags, tunnel encapsulations) can be
//!   pushed without moving the payload, and [`PacketMeta`] beside it: the port
//!   it came in on and its [`Offload`] state (the virtio-net header that
//!   AF_PACKET and TAP devices exchange with the kernel).
//! * [`PacketPool`]: a free list of packets of one size, owned by one thread.
//!   Buffers are allocated when the pool is built and then recycled, so the
//!   forwarding path never allocates per packet.
//! * [`PacketBatch`]: up to [`BATCH_SIZE`] packets moving together through
//!   receive, lookup, actions and send.
//!
//! A packet's buffer is either its own (heap memory from a pool) or borrowed:
//! a slot of a receive ring the kernel shares with a device
//! ([`Packet::from_slot`]), so that a received frame crosses the switch
//! without being copied; the slot goes back to its [`SlotOwner`] when the
//! packet is dropped.
//!
//! Header parsing, flow extraction and checksums of specific protocols are not
//! here; they build on these types.

use std::fmt;

/// Bytes kept free in front of a freshly received frame: room for a few VLAN
/// tags and an IPv6 tunnel encapsulation (Ethernet 14 + IPv6 40 + UDP 8 +
/// Geneve with options) without moving the frame.
pub const DEFAULT_HEADROOM: usize = 192;

/// Largest frame a packet must hold: a GSO/TSO super-frame of a 64 KiB IP
/// packet behind an Ethernet header and two VLAN tags.
pub const MAX_FRAME_LEN: usize = 65535 + 14 + 8;

/// Default buffer size: the largest frame plus the default headroom.
pub const DEFAULT_BUF_SIZE: usize = MAX_FRAME_LEN + DEFAULT_HEADROOM;

/// Packets in a full batch.
pub const BATCH_SIZE: usize = 32;

/// Offload state of a packet, carried in the Linux `virtio_net_hdr` between
/// the kernel and AF_PACKET sockets or TAP devices opened with a vnet header.
///
/// * On receive it says what the kernel left undone: a partial checksum
///   ([`Offload::F_NEEDS_CSUM`], to be completed at `csum_start + csum_offset`
///   over the bytes from `csum_start`), a checksum already verified
///   ([`Offload::F_DATA_VALID`]), or a super-frame to be cut into segments of
///   `gso_size` payload bytes (`gso_type` other than [`Offload::GSO_NONE`]).
/// * On send it asks the egress for the same work; an egress that cannot do
///   it has it done in software before the frame leaves.
///
/// All offsets count from the first byte of the frame (the Ethernet header).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Offload {
    /// `F_NEEDS_CSUM`, `F_DATA_VALID`.
    pub flags: u8,
    /// `GSO_NONE`, `GSO_TCPV4`, `GSO_UDP`, `GSO_TCPV6`, `GSO_UDP_L4`, possibly
    /// with `GSO_ECN`.
    pub gso_type: u8,
    /// Length of the headers (Ethernet through L4) in front of the payload.
    pub hdr_len: u16,
    /// Payload bytes per segment.
    pub gso_size: u16,
    /// Where checksumming starts.
    pub csum_start: u16,
    /// Where, from `csum_start`, the checksum field is.
    pub csum_offset: u16,
}

impl Offload {
    /// The checksum from `csum_start` is partial: it holds the pseudo-header
    /// sum and must be completed.
    pub const F_NEEDS_CSUM: u8 = 1;
    /// The checksum has been verified already.
    pub const F_DATA_VALID: u8 = 2;

    pub const GSO_NONE: u8 = 0;
    pub const GSO_TCPV4: u8 = 1;
    pub const GSO_UDP: u8 = 3;
    pub const GSO_TCPV6: u8 = 4;
    pub const GSO_UDP_L4: u8 = 5;
    /// Flag: the TCP stream uses ECN (CWR stays on the first segment only).
    pub const GSO_ECN: u8 = 0x80;

    /// Size of the `virtio_net_hdr` exchanged with the kernel.
    pub const VNET_HDR_LEN: usize = 10;

    /// Reads a `virtio_net_hdr` (legacy layout, host byte order, as the kernel
    /// exchanges it with AF_PACKET sockets and TAP devices by default).
    pub fn from_vnet_hdr(hdr: &[u8; Self::VNET_HDR_LEN]) -> Offload {
        let u16_at = |i: usize| u16::from_ne_bytes([hdr[i], hdr[i + 1]]);
        Offload {
            flags: hdr[0],
            gso_type: hdr[1],
            hdr_len: u16_at(2),
            gso_size: u16_at(4),
            csum_start: u16_at(6),
            csum_offset: u16_at(8),
        }
    }

    /// Writes this state as a `virtio_net_hdr`.
    pub fn to_vnet_hdr(&self) -> [u8; Self::VNET_HDR_LEN] {
        let mut h = [0u8; Self::VNET_HDR_LEN];
        h[0] = self.flags;
        h[1] = self.gso_type;
        h[2..4].copy_from_slice(&self.hdr_len.to_ne_bytes());
        h[4..6].copy_from_slice(&self.gso_size.to_ne_bytes());
        h[6..8].copy_from_slice(&self.csum_start.to_ne_bytes());
        h[8..10].copy_from_slice(&self.csum_offset.to_ne_bytes());
        h
    }

    /// The GSO kind without the ECN flag.
    pub fn gso_kind(&self) -> u8 {
        self.gso_type & !Self::GSO_ECN
    }

    /// Whether the packet is a super-frame to be segmented.
    pub fn is_gso(&self) -> bool {
        self.gso_kind() != Self::GSO_NONE
    }

    /// Whether a partial checksum must be completed.
    pub fn needs_csum(&self) -> bool {
        self.flags & Self::F_NEEDS_CSUM != 0
    }

    /// Shifts every offset by `delta` bytes, after `delta` bytes of header
    /// were pushed (positive) or pulled (negative) in front of the frame.
    /// Offsets that would fall off the front are left at 0.
    pub fn shift(&mut self, delta: isize) {
        let mv = |v: u16| -> u16 {
            let n = v as isize + delta;
            n.clamp(0, u16::MAX as isize) as u16
        };
        if self.needs_csum() {
            self.csum_start = mv(self.csum_start);
        }
        if self.is_gso() || self.hdr_len != 0 {
            self.hdr_len = mv(self.hdr_len);
        }
    }
}

impl fmt::Display for Offload {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "flags={:#x} gso_type={:#x}", self.flags, self.gso_type)?;
        if self.is_gso() {
            write!(f, " gso_size={} hdr_len={}", self.gso_size, self.hdr_len)?;
        }
        if self.needs_csum() {
            write!(
                f,
                " csum_start={} csum_offset={}",
                self.csum_start, self.csum_offset
            )?;
        }
        Ok(())
    }
}

/// Metadata that travels with a packet.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct PacketMeta {
    /// Datapath port number the packet came in on.
    pub in_port: u32,
    /// Offload state (see [`Offload`]).
    pub offload: Offload,
}

/// Error for an operation that would need more room than the buffer has.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NoRoom;

impl fmt::Display for NoRoom {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("packet buffer too small")
    }
}

impl std::error::Error for NoRoom {}

/// The owner of memory that packets borrow (a receive ring shared with the
/// kernel): told when a packet is done with one of its slots.
pub trait SlotOwner: Send + Sync {
    /// The packet that held `slot` is gone; its memory may be reused.
    fn release(&self, slot: usize);
}

/// A packet's bytes: a heap buffer it owns, or a slot it borrows.
struct Buf {
    ptr: std::ptr::NonNull<u8>,
    cap: usize,
    /// `None` for a heap buffer (from `Box::into_raw`).
    slot: Option<(std::sync::Arc<dyn SlotOwner>, usize)>,
}

// SAFETY: `Buf` is the only handle to its bytes (a heap buffer it owns, or a
// slot lent to it alone until `release`); the owner is `Send + Sync`.
unsafe impl Send for Buf {}
// SAFETY: shared references only give out shared slices.
unsafe impl Sync for Buf {}

impl Buf {
    fn heap(size: usize) -> Buf {
        let b: Box<[u8]> = vec![0u8; size].into_boxed_slice();
        let cap = b.len();
        let raw = Box::into_raw(b) as *mut u8;
        Buf {
            // SAFETY: `Box::into_raw` never returns null.
            ptr: unsafe { std::ptr::NonNull::new_unchecked(raw) },
            cap,
            slot: None,
        }
    }
}

impl std::ops::Deref for Buf {
    type Target = [u8];
    #[inline]
    fn deref(&self) -> &[u8] {
        // SAFETY: `ptr..ptr+cap` is valid for reads and owned or borrowed
        // exclusively by this `Buf` for its whole life (see `from_slot`).
        unsafe { std::slice::from_raw_parts(self.ptr.as_ptr(), self.cap) }
    }
}

impl std::ops::DerefMut for Buf {
    #[inline]
    fn deref_mut(&mut self) -> &mut [u8] {
        // SAFETY: as in `deref`, and `&mut self` makes the access unique.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.as_ptr(), self.cap) }
    }
}

impl Drop for Buf {
    fn drop(&mut self) {
        match self.slot.take() {
            None => {
                let raw = std::ptr::slice_from_raw_parts_mut(self.ptr.as_ptr(), self.cap);
                // SAFETY: made by `Box::into_raw` of a slice of `cap` bytes in
                // `Buf::heap`, and freed only here.
                drop(unsafe { Box::from_raw(raw) });
            }
            Some((owner, slot)) => owner.release(slot),
        }
    }
}

/// One frame in a fixed-size buffer: `headroom | data | tailroom`.
///
/// The buffer never grows: operations that need more room than it has fail
/// with [`NoRoom`] and leave the packet unchanged.
pub struct Packet {
    buf: Buf,
    head: usize,
    len: usize,
    /// Port and offload state.
    pub meta: PacketMeta,
}

impl Packet {
    /// A packet with a buffer of `buf_size` bytes (zeroed) and empty data
    /// starting `headroom` bytes in. `headroom` is clamped to `buf_size`.
    pub fn new(buf_size: usize, headroom: usize) -> Packet {
        Packet {
            buf: Buf::heap(buf_size),
            head: headroom.min(buf_size),
            len: 0,
            meta: PacketMeta::default(),
        }
    }

    /// A packet over `cap` bytes at `ptr` that it borrows from `owner`
    /// (slot `slot` of a ring): the frame is the `len` bytes at `head`.
    /// `owner.release(slot)` is called once, when the packet is dropped
    /// (a pool drops borrowed packets it is given back).
    ///
    /// # Safety
    /// `ptr..ptr+cap` must be valid for reads and writes, and nothing else
    /// may read or write it, until `owner.release(slot)` is called; `head +
    /// len <= cap`.
    pub unsafe fn from_slot(
        ptr: std::ptr::NonNull<u8>,
        cap: usize,
        head: usize,
        len: usize,
        owner: std::sync::Arc<dyn SlotOwner>,
        slot: usize,
    ) -> Packet {
        let head = head.min(cap);
        Packet {
            buf: Buf {
                ptr,
                cap,
                slot: Some((owner, slot)),
            },
            head,
            len: len.min(cap - head),
            meta: PacketMeta::default(),
        }
    }

    /// Whether the buffer is borrowed from a ring (see [`Packet::from_slot`]).
    pub fn is_borrowed(&self) -> bool {
        self.buf.slot.is_some()
    }

    /// A packet holding a copy of `frame` behind [`DEFAULT_HEADROOM`] (an
    /// allocating convenience for tests and the control path).
    pub fn from_frame(frame: &[u8]) -> Packet {
        let mut p = Packet::new(DEFAULT_HEADROOM + frame.len(), DEFAULT_HEADROOM);
        p.buf[DEFAULT_HEADROOM..].copy_from_slice(frame);
        p.len = frame.len();
        p
    }

    /// Empties the packet: no data, data starting `headroom` bytes in,
    /// metadata cleared.
    pub fn reset(&mut self, headroom: usize) {
        self.head = headroom.min(self.buf.len());
        self.len = 0;
        self.meta = PacketMeta::default();
    }

    /// The frame.
    pub fn data(&self) -> &[u8] {
        &self.buf[self.head..self.head + self.len]
    }

    /// The frame, writable.
    pub fn data_mut(&mut self) -> &mut [u8] {
        &mut self.buf[self.head..self.head + self.len]
    }

    /// Frame length in bytes.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the frame is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Free bytes in front of the frame.
    pub fn headroom(&self) -> usize {
        self.head
    }

    /// Free bytes behind the frame.
    pub fn tailroom(&self) -> usize {
        self.buf.len() - self.head - self.len
    }

    /// Size of the whole buffer.
    pub fn capacity(&self) -> usize {
        self.buf.len()
    }

    /// Everything from the start of the frame to the end of the buffer, for a
    /// receive to write into; follow with [`Packet::set_len`].
    pub fn spare_from_head(&mut self) -> &mut [u8] {
        &mut self.buf[self.head..]
    }

    /// Sets the frame length (after writing through
    /// [`Packet::spare_from_head`]).
    pub fn set_len(&mut self, len: usize) -> Result<(), NoRoom> {
        if self.head + len > self.buf.len() {
            return Err(NoRoom);
        }
        self.len = len;
        Ok(())
    }

    /// Replaces the frame by a copy of `frame`, keeping the current start.
    pub fn copy_from(&mut self, frame: &[u8]) -> Result<(), NoRoom> {
        let dst = self
            .buf
            .get_mut(self.head..self.head + frame.len())
            .ok_or(NoRoom)?;
        dst.copy_from_slice(frame);
        self.len = frame.len();
        Ok(())
    }

    /// Appends `bytes` behind the frame.
    pub fn append(&mut self, bytes: &[u8]) -> Result<(), NoRoom> {
        let end = self.head + self.len;
        let dst = self.buf.get_mut(end..end + bytes.len()).ok_or(NoRoom)?;
        dst.copy_from_slice(bytes);
        self.len += bytes.len();
        Ok(())
    }

    /// Grows the frame by `n` bytes at the front (into the headroom) and
    /// returns them for writing. Offload offsets are shifted to match.
    pub fn push_front(&mut self, n: usize) -> Result<&mut [u8], NoRoom> {
        if n > self.head {
            return Err(NoRoom);
        }
        self.head -= n;
        self.len += n;
        self.meta.offload.shift(n as isize);
        Ok(&mut self.buf[self.head..self.head + n])
    }

    /// Removes `n` bytes from the front of the frame. Offload offsets are
    /// shifted to match.
    pub fn pull_front(&mut self, n: usize) -> Result<(), NoRoom> {
        if n > self.len {
            return Err(NoRoom);
        }
        self.head += n;
        self.len -= n;
        self.meta.offload.shift(-(n as isize));
        Ok(())
    }

    /// Shortens the frame to `len` bytes (no-op when already shorter).
    pub fn truncate(&mut self, len: usize) {
        self.len = self.len.min(len);
    }

    /// Opens a gap of `n` bytes at `offset` inside the frame by moving the
    /// bytes in front of `offset` into the headroom (how a VLAN tag is
    /// inserted behind the MAC addresses), and returns the gap. Offload
    /// offsets past `offset` are shifted.
    pub fn insert_gap(&mut self, offset: usize, n: usize) -> Result<&mut [u8], NoRoom> {
        if offset > self.len || n > self.head {
            return Err(NoRoom);
        }
        let old = self.head;
        self.buf.copy_within(old..old + offset, old - n);
        self.head -= n;
        self.len += n;
        let off = &mut self.meta.offload;
        if off.needs_csum() && off.csum_start as usize >= offset {
            off.csum_start = off.csum_start.saturating_add(n as u16);
        }
        if off.hdr_len as usize >= offset && off.hdr_len != 0 {
            off.hdr_len = off.hdr_len.saturating_add(n as u16);
        }
        let start = self.head + offset;
        Ok(&mut self.buf[start..start + n])
    }

    /// Removes `n` bytes at `offset` by moving the bytes in front of it
    /// forward (how a VLAN tag is popped).
    pub fn remove_gap(&mut self, offset: usize, n: usize) -> Result<(), NoRoom> {
        match offset.checked_add(n) {
            Some(end) if end <= self.len => {}
            _ => return Err(NoRoom),
        }
        let old = self.head;
        self.buf.copy_within(old..old + offset, old + n);
        self.head += n;
        self.len -= n;
        let off = &mut self.meta.offload;
        if off.needs_csum() && off.csum_start as usize >= offset + n {
            off.csum_start -= n as u16;
        }
        if off.hdr_len as usize >= offset + n {
            off.hdr_len -= n as u16;
        }
        Ok(())
    }
}

impl fmt::Debug for Packet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Packet")
            .field("len", &self.len)
            .field("headroom", &self.head)
            .field("meta", &self.meta)
            .finish()
    }
}

/// A free list of equal-size packets owned by one thread.
///
/// All buffers are allocated by [`PacketPool::new`]; [`PacketPool::get`]
/// hands one out (reset, with the pool's headroom) and [`PacketPool::put`]
/// takes it back. An empty pool returns `None`: the caller drops the packet
/// it wanted to make and counts it, it never allocates.
pub struct PacketPool {
    free: Vec<Packet>,
    buf_size: usize,
    headroom: usize,
    total: usize,
}

impl PacketPool {
    /// A pool of `count` buffers of `buf_size` bytes with `headroom` bytes of
    /// headroom each.
    pub fn new(count: usize, buf_size: usize, headroom: usize) -> PacketPool {
        let mut free = Vec::with_capacity(count);
        for _ in 0..count {
            free.push(Packet::new(buf_size, headroom));
        }
        PacketPool {
            free,
            buf_size,
            headroom,
            total: count,
        }
    }

    /// A pool of `count` default-size buffers (room for any frame, including
    /// 64 KiB GSO super-frames).
    pub fn with_default_size(count: usize) -> PacketPool {
        PacketPool::new(count, DEFAULT_BUF_SIZE, DEFAULT_HEADROOM)
    }

    /// A reset packet, or `None` when every buffer is in use.
    pub fn get(&mut self) -> Option<Packet> {
        let mut p = self.free.pop()?;
        p.reset(self.headroom);
        Some(p)
    }

    /// Returns a packet to the pool. A packet of another size, a borrowed
    /// one (its slot goes back to its owner) or one more than the pool was
    /// built with is dropped instead.
    pub fn put(&mut self, p: Packet) {
        if p.capacity() == self.buf_size && !p.is_borrowed() && self.free.len() < self.total {
            self.free.push(p);
        }
    }

    /// Returns every packet of `batch` to the pool, leaving it empty.
    pub fn recycle(&mut self, batch: &mut PacketBatch) {
        while let Some(p) = batch.pkts.pop() {
            self.put(p);
        }
    }

    /// Free buffers.
    pub fn available(&self) -> usize {
        self.free.len()
    }

    /// Buffers the pool was built with.
    pub fn total(&self) -> usize {
        self.total
    }

    /// Size of each buffer.
    pub fn buf_size(&self) -> usize {
        self.buf_size
    }

    /// Headroom of each fresh packet.
    pub fn headroom(&self) -> usize {
        self.headroom
    }
}

/// Up to [`BATCH_SIZE`] packets (or the capacity given at creation) that move
/// together. Its storage is allocated once; pushing into a full batch hands
/// the packet back.
pub struct PacketBatch {
    pkts: Vec<Packet>,
    cap: usize,
}

impl Default for PacketBatch {
    fn default() -> Self {
        PacketBatch::new()
    }
}

impl PacketBatch {
    /// An empty batch of [`BATCH_SIZE`] slots.
    pub fn new() -> PacketBatch {
        PacketBatch::with_capacity(BATCH_SIZE)
    }

    /// An empty batch of `cap` slots.
    pub fn with_capacity(cap: usize) -> PacketBatch {
        PacketBatch {
            pkts: Vec::with_capacity(cap),
            cap,
        }
    }

    /// Adds a packet, or gives it back when the batch is full.
    pub fn push(&mut self, p: Packet) -> Result<(), Packet> {
        if self.pkts.len() >= self.cap {
            return Err(p);
        }
        self.pkts.push(p);
        Ok(())
    }

    /// Removes and returns the last packet.
    pub fn pop(&mut self) -> Option<Packet> {
        self.pkts.pop()
    }

    /// Removes every packet, yielding them in order (first in, first out);
    /// the batch is empty afterwards, even if the iterator is dropped early.
    pub fn drain(&mut self) -> std::vec::Drain<'_, Packet> {
        self.pkts.drain(..)
    }

    /// Number of packets.
    pub fn len(&self) -> usize {
        self.pkts.len()
    }

    /// Whether the batch holds no packet.
    pub fn is_empty(&self) -> bool {
        self.pkts.is_empty()
    }

    /// Whether no more packet fits.
    pub fn is_full(&self) -> bool {
        self.pkts.len() >= self.cap
    }

    /// Slots in the batch.
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// Free slots.
    pub fn room(&self) -> usize {
        self.cap - self.pkts.len()
    }

    /// The packets.
    pub fn packets(&self) -> &[Packet] {
        &self.pkts
    }

    /// The packets, writable.
    pub fn packets_mut(&mut self) -> &mut [Packet] {
        &mut self.pkts
    }

    /// Iterates over the packets.
    pub fn iter(&self) -> std::slice::Iter<'_, Packet> {
        self.pkts.iter()
    }

    /// Iterates over the packets, writable.
    pub fn iter_mut(&mut self) -> std::slice::IterMut<'_, Packet> {
        self.pkts.iter_mut()
    }

    /// Total bytes of all frames.
    pub fn bytes(&self) -> usize {
        self.pkts.iter().map(Packet::len).sum()
    }

    /// Removes the packets for which `keep` is false, handing them to `pool`.
    pub fn retain_or_recycle(
        &mut self,
        pool: &mut PacketPool,
        mut keep: impl FnMut(&Packet) -> bool,
    ) {
        let mut i = 0;
        while i < self.pkts.len() {
            if keep(&self.pkts[i]) {
                i += 1;
            } else {
                let p = self.pkts.swap_remove(i);
                pool.put(p);
            }
        }
    }

    /// Removes the packet at `index` (the last packet takes its place).
    pub fn swap_remove(&mut self, index: usize) -> Option<Packet> {
        (index < self.pkts.len()).then(|| self.pkts.swap_remove(index))
    }
}

impl fmt::Debug for PacketBatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PacketBatch")
            .field("len", &self.pkts.len())
            .field("cap", &self.cap)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vnet_hdr_round_trip() {
        let o = Offload {
            flags: Offload::F_NEEDS_CSUM,
            gso_type: Offload::GSO_TCPV6 | Offload::GSO_ECN,
            hdr_len: 86,
            gso_size: 1428,
            csum_start: 54,
            csum_offset: 16,
        };
        let h = o.to_vnet_hdr();
        assert_eq!(Offload::from_vnet_hdr(&h), o);
        assert_eq!(o.gso_kind(), Offload::GSO_TCPV6);
        assert!(o.is_gso() && o.needs_csum());
        assert_eq!(h[0], 1);
        assert_eq!(u16::from_ne_bytes([h[4], h[5]]), 1428);
    }

    #[test]
    fn push_and_pull_move_offsets() {
        let mut p = Packet::new(256, 64);
        p.copy_from(&[7u8; 100]).unwrap();
        p.meta.offload = Offload {
            flags: Offload::F_NEEDS_CSUM,
            csum_start: 34,
            csum_offset: 16,
            ..Default::default()
        };
        p.push_front(4).unwrap().copy_from_slice(&[1, 2, 3, 4]);
        assert_eq!(p.len(), 104);
        assert_eq!(&p.data()[..5], &[1, 2, 3, 4, 7]);
        assert_eq!(p.meta.offload.csum_start, 38);
        assert_eq!(p.headroom(), 60);
        p.pull_front(4).unwrap();
        assert_eq!(p.meta.offload.csum_start, 34);
        assert!(p.push_front(65).is_err());
        assert_eq!(p.len(), 100, "failed push leaves the packet unchanged");
        assert!(p.pull_front(101).is_err());
    }

    #[test]
    fn insert_and_remove_gap() {
        let mut p = Packet::new(128, 8);
        let frame: Vec<u8> = (0u8..20).collect();
        p.copy_from(&frame).unwrap();
        p.meta.offload = Offload {
            flags: Offload::F_NEEDS_CSUM,
            csum_start: 14,
            csum_offset: 6,
            hdr_len: 18,
            ..Default::default()
        };
        p.insert_gap(12, 4)
            .unwrap()
            .copy_from_slice(&[0x81, 0, 0, 5]);
        assert_eq!(&p.data()[..12], &frame[..12]);
        assert_eq!(&p.data()[12..16], &[0x81, 0, 0, 5]);
        assert_eq!(&p.data()[16..], &frame[12..]);
        assert_eq!(p.meta.offload.csum_start, 18);
        assert_eq!(p.meta.offload.hdr_len, 22);
        p.remove_gap(12, 4).unwrap();
        assert_eq!(p.data(), &frame[..]);
        assert_eq!(p.meta.offload.csum_start, 14);
        assert!(p.insert_gap(12, 9).is_err(), "only 8 bytes of headroom");
        assert!(p.remove_gap(18, 4).is_err());
    }

    #[test]
    fn copy_append_and_limits() {
        let mut p = Packet::new(32, 16);
        assert!(p.copy_from(&[0; 17]).is_err());
        p.copy_from(&[1; 10]).unwrap();
        p.append(&[2; 6]).unwrap();
        assert_eq!(p.tailroom(), 0);
        assert!(p.append(&[3]).is_err());
        assert!(p.set_len(17).is_err());
        p.truncate(4);
        assert_eq!(p.data(), &[1, 1, 1, 1]);
    }

    #[test]
    fn pool_recycles_without_growing() {
        let mut pool = PacketPool::new(2, 64, 8);
        let a = pool.get().unwrap();
        let mut b = pool.get().unwrap();
        assert!(pool.get().is_none());
        b.copy_from(&[9; 5]).unwrap();
        b.meta.in_port = 3;
        let mut batch = PacketBatch::with_capacity(1);
        batch.push(a).unwrap();
        let b = batch.push(b).unwrap_err();
        pool.put(b);
        pool.recycle(&mut batch);
        assert!(batch.is_empty());
        assert_eq!(pool.available(), 2);
        let c = pool.get().unwrap();
        assert!(c.is_empty() && c.headroom() == 8 && c.meta.in_port == 0);
        pool.put(Packet::new(65, 8));
        assert_eq!(pool.available(), 1, "foreign-size buffer not kept");
    }

    #[test]
    fn batch_retain() {
        let mut pool = PacketPool::new(4, 64, 0);
        let mut batch = PacketBatch::new();
        for i in 0..4 {
            let mut p = pool.get().unwrap();
            p.copy_from(&[i as u8]).unwrap();
            batch.push(p).unwrap();
        }
        batch.retain_or_recycle(&mut pool, |p| p.data()[0] % 2 == 0);
        assert_eq!(batch.len(), 2);
        assert_eq!(pool.available(), 2);
        assert!(batch.iter().all(|p| p.data()[0] % 2 == 0));
        assert_eq!(batch.bytes(), 2);
    }
}

#[cfg(test)]
mod slot_tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Arc, Mutex};

    /// Memory lent out in slots of 64 bytes; records releases.
    struct Lender {
        mem: Mutex<Vec<u8>>,
        released: Mutex<Vec<usize>>,
        count: AtomicUsize,
    }

    impl SlotOwner for Lender {
        fn release(&self, slot: usize) {
            self.released.lock().unwrap().push(slot);
            self.count.fetch_add(1, Ordering::SeqCst);
        }
    }

    fn lend(l: &Arc<Lender>, slot: usize, head: usize, len: usize) -> Packet {
        let ptr = {
            let mut m = l.mem.lock().unwrap();
            std::ptr::NonNull::new(m[slot * 64..].as_mut_ptr()).unwrap()
        };
        // SAFETY: the lender's vector outlives the packet (the test holds
        // `l`) and each slot is lent once.
        unsafe { Packet::from_slot(ptr, 64, head, len, l.clone(), slot) }
    }

    #[test]
    fn borrowed_packets_give_their_slot_back_once() {
        let l = Arc::new(Lender {
            mem: Mutex::new((0..256).map(|i| i as u8).collect()),
            released: Mutex::new(Vec::new()),
            count: AtomicUsize::new(0),
        });
        let mut p = lend(&l, 1, 16, 8);
        assert!(p.is_borrowed());
        assert_eq!(p.data(), &[80, 81, 82, 83, 84, 85, 86, 87]);
        assert_eq!((p.headroom(), p.tailroom(), p.capacity()), (16, 40, 64));
        p.push_front(2).unwrap().copy_from_slice(&[1, 2]);
        assert_eq!(&p.data()[..3], &[1, 2, 80]);
        assert!(p.push_front(100).is_err(), "no more than the slot");
        drop(p);
        assert_eq!(*l.released.lock().unwrap(), vec![1]);
        assert_eq!(l.mem.lock().unwrap()[64 + 14], 1, "written in place");

        // A pool never keeps a borrowed packet, whatever its size.
        let mut pool = PacketPool::new(1, 64, 16);
        let q = lend(&l, 2, 0, 64);
        pool.put(q);
        assert_eq!(pool.available(), 1);
        assert_eq!(l.count.load(Ordering::SeqCst), 2);
        let mut b = PacketBatch::new();
        b.push(lend(&l, 3, 0, 1)).unwrap();
        b.push(pool.get().unwrap()).unwrap();
        pool.recycle(&mut b);
        assert_eq!(*l.released.lock().unwrap(), vec![1, 2, 3]);
        assert_eq!(pool.available(), 1);
        // Heap packets are not lent.
        assert!(!pool.get().unwrap().is_borrowed());
    }

    #[test]
    fn out_of_range_head_and_len_are_clamped() {
        let l = Arc::new(Lender {
            mem: Mutex::new(vec![0; 128]),
            released: Mutex::new(Vec::new()),
            count: AtomicUsize::new(0),
        });
        let p = lend(&l, 0, 100, 100);
        assert_eq!((p.headroom(), p.len()), (64, 0));
        let p = lend(&l, 1, 10, 100);
        assert_eq!((p.headroom(), p.len()), (10, 54));
    }
}
