//! One AF_XDP socket with its own UMEM: the frame area shared with the
//! kernel and the four single-producer/single-consumer rings (fill and
//! completion for the UMEM, rx and tx for the socket), mapped into our
//! memory.
//!
//! Frame ownership: every UMEM frame is at any time either free (ours, in
//! `free`), lent to the kernel for receiving (on the fill ring, until it
//! comes back on the rx ring) or for sending (on the tx ring, until it
//! comes back on the completion ring). Receiving copies the frame into a
//! packet buffer and hands the UMEM frame straight back to the fill ring;
//! sending copies the packet into a free frame.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd, RawFd};
use std::ptr::NonNull;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::sys;

pub const AF_XDP: libc::c_int = 44;
const SOL_XDP: libc::c_int = 283;
const XDP_MMAP_OFFSETS: libc::c_int = 1;
const XDP_RX_RING: libc::c_int = 2;
const XDP_TX_RING: libc::c_int = 3;
const XDP_UMEM_REG: libc::c_int = 4;
const XDP_UMEM_FILL_RING: libc::c_int = 5;
const XDP_UMEM_COMPLETION_RING: libc::c_int = 6;
const XDP_STATISTICS: libc::c_int = 7;

/// Bind flags.
pub const XDP_COPY: u16 = 1 << 1;
pub const XDP_ZEROCOPY: u16 = 1 << 2;
pub const XDP_USE_NEED_WAKEUP: u16 = 1 << 3;
const XDP_RING_NEED_WAKEUP: u32 = 1;

const XDP_PGOFF_RX_RING: i64 = 0;
const XDP_PGOFF_TX_RING: i64 = 0x8000_0000;
const XDP_UMEM_PGOFF_FILL_RING: i64 = 0x1_0000_0000;
const XDP_UMEM_PGOFF_COMPLETION_RING: i64 = 0x1_8000_0000;

/// Bytes per UMEM frame (a page: the largest frame a 1500-byte MTU, or a
/// 3.5 KiB one, needs).
pub const FRAME_SIZE: u32 = 4096;
/// Frames per socket: half for receiving, half for sending.
pub const NUM_FRAMES: u32 = 4096;
/// Entries of each ring.
pub const RING_SIZE: u32 = 2048;

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct RingOffset {
    producer: u64,
    consumer: u64,
    desc: u64,
    flags: u64,
}

#[repr(C)]
#[derive(Clone, Copy, Default)]
struct MmapOffsets {
    rx: RingOffset,
    tx: RingOffset,
    fr: RingOffset,
    cr: RingOffset,
}

#[repr(C)]
#[derive(Clone, Copy)]
struct UmemReg {
    addr: u64,
    len: u64,
    chunk_size: u32,
    headroom: u32,
    flags: u32,
    tx_metadata_len: u32,
}

#[repr(C)]
struct SockaddrXdp {
    family: u16,
    flags: u16,
    ifindex: u32,
    queue_id: u32,
    shared_umem_fd: u32,
}

/// `struct xdp_desc`.
#[repr(C)]
#[derive(Clone, Copy, Default)]
struct Desc {
    addr: u64,
    len: u32,
    options: u32,
}

/// Kernel counters of a socket (`struct xdp_statistics`, first three).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct XskStats {
    pub rx_dropped: u64,
    pub rx_invalid_descs: u64,
    pub tx_invalid_descs: u64,
}

/// An anonymous shared mapping, unmapped on drop.
struct Mapping {
    ptr: NonNull<u8>,
    len: usize,
}

// SAFETY: the mapping is plain memory; access is coordinated through the
// rings' producer/consumer indexes, and the owner is `Send` only as a whole.
unsafe impl Send for Mapping {}

impl Mapping {
    fn map(fd: RawFd, len: usize, offset: i64) -> io::Result<Mapping> {
        let (flags, fd) = if fd < 0 {
            (libc::MAP_PRIVATE | libc::MAP_ANONYMOUS, -1)
        } else {
            (libc::MAP_SHARED | libc::MAP_POPULATE, fd)
        };
        // SAFETY: a fresh mapping chosen by the kernel; nothing else
        // refers to that address range.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                flags,
                fd,
                offset,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        NonNull::new(p as *mut u8)
            .map(|ptr| Mapping { ptr, len })
            .ok_or_else(|| io::Error::from_raw_os_error(libc::ENOMEM))
    }
}

impl Drop for Mapping {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly what `map` mapped, once.
        unsafe {
            libc::munmap(self.ptr.as_ptr() as *mut libc::c_void, self.len);
        }
    }
}

/// One mapped ring: producer and consumer indexes shared with the kernel,
/// and `size` entries of `T`.
struct Ring<T> {
    _map: Mapping,
    producer: *const AtomicU32,
    consumer: *const AtomicU32,
    flags: *const AtomicU32,
    descs: *mut T,
    mask: u32,
}

// SAFETY: the pointers point into `_map`, which the ring owns.
unsafe impl<T> Send for Ring<T> {}

impl<T: Copy> Ring<T> {
    fn map(fd: RawFd, off: &RingOffset, size: u32, pgoff: i64) -> io::Result<Ring<T>> {
        let len = off.desc as usize + size as usize * std::mem::size_of::<T>();
        let m = Mapping::map(fd, len, pgoff)?;
        let base = m.ptr.as_ptr();
        // SAFETY: the kernel placed the indexes and the entries at these
        // offsets inside the mapping it just gave us (checked by `len`).
        unsafe {
            Ok(Ring {
                producer: base.add(off.producer as usize) as *const AtomicU32,
                consumer: base.add(off.consumer as usize) as *const AtomicU32,
                flags: base.add(off.flags as usize) as *const AtomicU32,
                descs: base.add(off.desc as usize) as *mut T,
                mask: size - 1,
                _map: m,
            })
        }
    }

    fn producer(&self) -> &AtomicU32 {
        // SAFETY: valid for the ring's life (see `map`).
        unsafe { &*self.producer }
    }

    fn consumer(&self) -> &AtomicU32 {
        // SAFETY: as above.
        unsafe { &*self.consumer }
    }

    fn needs_wakeup(&self) -> bool {
        // SAFETY: as above.
        unsafe { &*self.flags }.load(Ordering::Relaxed) & XDP_RING_NEED_WAKEUP != 0
    }

    fn write(&mut self, idx: u32, v: T) {
        // SAFETY: `idx & mask` is inside the ring's entries.
        unsafe { self.descs.add((idx & self.mask) as usize).write(v) }
    }

    fn read(&self, idx: u32) -> T {
        // SAFETY: as above.
        unsafe { self.descs.add((idx & self.mask) as usize).read() }
    }

    /// As producer: free entries.
    fn free(&self) -> u32 {
        let cons = self.consumer().load(Ordering::Acquire);
        let prod = self.producer().load(Ordering::Relaxed);
        (self.mask + 1) - prod.wrapping_sub(cons)
    }

    /// As consumer: entries ready.
    fn ready(&self) -> u32 {
        let prod = self.producer().load(Ordering::Acquire);
        let cons = self.consumer().load(Ordering::Relaxed);
        prod.wrapping_sub(cons)
    }
}

/// An AF_XDP socket bound to one queue of one device, with its UMEM.
pub struct Xsk {
    fd: OwnedFd,
    umem: Mapping,
    fill: Ring<u64>,
    comp: Ring<u64>,
    rx: Ring<Desc>,
    tx: Ring<Desc>,
    /// Frames we own, by address.
    free: Vec<u64>,
    need_wakeup: bool,
    /// Frames on the tx ring not yet completed.
    outstanding_tx: u32,
}

impl std::fmt::Debug for Xsk {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Xsk").field("fd", &self.fd).finish()
    }
}

fn sockopt<T: Copy>(fd: RawFd, name: libc::c_int, v: &T) -> io::Result<()> {
    sys::setsockopt(fd, SOL_XDP, name, v)
}

impl Xsk {
    /// A socket on queue `queue` of device `ifindex`, bound with
    /// `bind_flags` (`XDP_COPY` or `XDP_ZEROCOPY`, maybe
    /// `XDP_USE_NEED_WAKEUP`), its fill ring full.
    pub fn open(ifindex: u32, queue: u32, bind_flags: u16) -> io::Result<Xsk> {
        let fd = sys::socket(AF_XDP, libc::SOCK_RAW, 0)?;
        let raw = fd.as_raw_fd();
        let umem_len = (NUM_FRAMES * FRAME_SIZE) as usize;
        let umem = Mapping::map(-1, umem_len, 0)?;
        let reg = UmemReg {
            addr: umem.ptr.as_ptr() as u64,
            len: umem_len as u64,
            chunk_size: FRAME_SIZE,
            headroom: 0,
            flags: 0,
            tx_metadata_len: 0,
        };
        sockopt(raw, XDP_UMEM_REG, &reg)?;
        sockopt(raw, XDP_UMEM_FILL_RING, &RING_SIZE)?;
        sockopt(raw, XDP_UMEM_COMPLETION_RING, &RING_SIZE)?;
        sockopt(raw, XDP_RX_RING, &RING_SIZE)?;
        sockopt(raw, XDP_TX_RING, &RING_SIZE)?;
        let mut off = MmapOffsets::default();
        sys::getsockopt(raw, SOL_XDP, XDP_MMAP_OFFSETS, &mut off)?;
        let fill = Ring::<u64>::map(raw, &off.fr, RING_SIZE, XDP_UMEM_PGOFF_FILL_RING)?;
        let comp = Ring::<u64>::map(raw, &off.cr, RING_SIZE, XDP_UMEM_PGOFF_COMPLETION_RING)?;
        let rx = Ring::<Desc>::map(raw, &off.rx, RING_SIZE, XDP_PGOFF_RX_RING)?;
        let tx = Ring::<Desc>::map(raw, &off.tx, RING_SIZE, XDP_PGOFF_TX_RING)?;
        let sa = SockaddrXdp {
            family: AF_XDP as u16,
            flags: bind_flags,
            ifindex,
            queue_id: queue,
            shared_umem_fd: 0,
        };
        // SAFETY: `sa` is a valid sockaddr_xdp of the length passed.
        sys::cvt(unsafe {
            libc::bind(
                raw,
                &sa as *const SockaddrXdp as *const libc::sockaddr,
                std::mem::size_of::<SockaddrXdp>() as libc::socklen_t,
            )
        })?;
        let mut x = Xsk {
            fd,
            umem,
            fill,
            comp,
            rx,
            tx,
            free: (0..NUM_FRAMES)
                .rev()
                .map(|i| (i * FRAME_SIZE) as u64)
                .collect(),
            need_wakeup: bind_flags & XDP_USE_NEED_WAKEUP != 0,
            outstanding_tx: 0,
        };
        x.refill();
        Ok(x)
    }

    pub fn fd(&self) -> RawFd {
        self.fd.as_raw_fd()
    }

    /// Frames kept back from the fill ring for sending.
    fn tx_reserve() -> usize {
        (NUM_FRAMES / 2) as usize
    }

    /// Lends free frames to the kernel for receiving, keeping half of all
    /// frames for sending.
    fn refill(&mut self) {
        let spare = self.free.len().saturating_sub(Self::tx_reserve());
        let n = (self.fill.free() as usize).min(spare);
        if n == 0 {
            return;
        }
        let prod = self.fill.producer().load(Ordering::Relaxed);
        for i in 0..n as u32 {
            if let Some(addr) = self.free.pop() {
                self.fill.write(prod.wrapping_add(i), addr);
            }
        }
        self.fill
            .producer()
            .store(prod.wrapping_add(n as u32), Ordering::Release);
    }

    /// Takes back frames the kernel finished sending.
    fn complete(&mut self) {
        let n = self.comp.ready();
        if n == 0 {
            return;
        }
        let cons = self.comp.consumer().load(Ordering::Relaxed);
        for i in 0..n {
            self.free.push(self.comp.read(cons.wrapping_add(i)));
        }
        self.comp
            .consumer()
            .store(cons.wrapping_add(n), Ordering::Release);
        self.outstanding_tx = self.outstanding_tx.saturating_sub(n);
    }

    /// Calls `each` with up to `max` received frames, in order; returns
    /// how many. The frames go back to the kernel afterwards.
    pub fn recv(&mut self, max: usize, mut each: impl FnMut(&[u8])) -> usize {
        let n = self.rx.ready().min(max as u32);
        if n == 0 {
            if self.need_wakeup && self.fill.needs_wakeup() {
                self.wakeup_rx();
            }
            return 0;
        }
        let cons = self.rx.consumer().load(Ordering::Relaxed);
        let umem_len = self.umem.len as u64;
        for i in 0..n {
            let d = self.rx.read(cons.wrapping_add(i));
            // The frame's start within its chunk (the kernel may add
            // headroom) and its length, checked against the UMEM.
            let end = d.addr.saturating_add(d.len as u64);
            if end <= umem_len {
                // SAFETY: [addr, addr+len) lies inside the UMEM, and the
                // kernel handed this frame to us on the rx ring.
                let frame = unsafe {
                    std::slice::from_raw_parts(
                        self.umem.ptr.as_ptr().add(d.addr as usize),
                        d.len as usize,
                    )
                };
                each(frame);
            }
            self.free.push(d.addr - d.addr % FRAME_SIZE as u64);
        }
        self.rx
            .consumer()
            .store(cons.wrapping_add(n), Ordering::Release);
        self.refill();
        n as usize
    }

    fn wakeup_rx(&self) {
        // SAFETY: a zero-length non-blocking receive only kicks the driver.
        unsafe {
            libc::recvfrom(
                self.fd.as_raw_fd(),
                std::ptr::null_mut(),
                0,
                libc::MSG_DONTWAIT,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            );
        }
    }

    /// Queues `frames` for sending and kicks the kernel; returns how many
    /// frames and bytes were queued, and how many frames were dropped
    /// (no free frame or ring entry, or larger than a frame).
    pub fn send<'a>(&mut self, frames: impl Iterator<Item = &'a [u8]>) -> (usize, u64, usize) {
        self.complete();
        let mut queued = 0u32;
        let mut bytes = 0u64;
        let mut dropped = 0usize;
        let prod = self.tx.producer().load(Ordering::Relaxed);
        let mut room = self.tx.free();
        for f in frames {
            if f.len() > FRAME_SIZE as usize || room == 0 {
                dropped += 1;
                continue;
            }
            let Some(addr) = self.free.pop() else {
                dropped += 1;
                continue;
            };
            // SAFETY: `addr` is a free frame of FRAME_SIZE bytes inside the
            // UMEM, and `f` fits in it.
            unsafe {
                std::ptr::copy_nonoverlapping(
                    f.as_ptr(),
                    self.umem.ptr.as_ptr().add(addr as usize),
                    f.len(),
                );
            }
            self.tx.write(
                prod.wrapping_add(queued),
                Desc {
                    addr,
                    len: f.len() as u32,
                    options: 0,
                },
            );
            queued += 1;
            bytes += f.len() as u64;
            room -= 1;
        }
        if queued > 0 {
            self.tx
                .producer()
                .store(prod.wrapping_add(queued), Ordering::Release);
            self.outstanding_tx += queued;
        }
        if self.outstanding_tx > 0 && (!self.need_wakeup || self.tx.needs_wakeup()) {
            self.kick_tx();
        }
        (queued as usize, bytes, dropped)
    }

    fn kick_tx(&self) {
        // SAFETY: a zero-length non-blocking send only makes the kernel
        // process the tx ring; errors (EAGAIN, EBUSY) mean "later".
        unsafe {
            libc::sendto(
                self.fd.as_raw_fd(),
                std::ptr::null(),
                0,
                libc::MSG_DONTWAIT,
                std::ptr::null(),
                0,
            );
        }
    }

    /// Sends what is still queued and takes back completed frames (called
    /// when idle, so frames do not stay lent).
    pub fn poll_tx(&mut self) {
        if self.outstanding_tx > 0 {
            self.kick_tx();
            self.complete();
        }
    }

    /// The kernel's counters for this socket.
    pub fn stats(&self) -> XskStats {
        let mut s = [0u64; 6];
        if sys::getsockopt(self.fd.as_raw_fd(), SOL_XDP, XDP_STATISTICS, &mut s).is_err() {
            return XskStats::default();
        }
        XskStats {
            rx_dropped: s[0],
            rx_invalid_descs: s[1],
            tx_invalid_descs: s[2],
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn abi_sizes() {
        assert_eq!(std::mem::size_of::<SockaddrXdp>(), 16);
        assert_eq!(std::mem::size_of::<Desc>(), 16);
        assert_eq!(std::mem::size_of::<MmapOffsets>(), 128);
        assert_eq!(std::mem::size_of::<UmemReg>(), 32);
        assert!(RING_SIZE.is_power_of_two());
        assert!(NUM_FRAMES >= 2 * RING_SIZE);
    }

    #[test]
    fn bind_to_missing_device_fails_cleanly() {
        // Without privileges the socket itself is refused; either way an
        // error, not a crash.
        assert!(Xsk::open(u32::MAX, 0, XDP_COPY).is_err());
    }
}
