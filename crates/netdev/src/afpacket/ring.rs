//! The TPACKET_V3 receive ring: the memory the kernel shares with us, and a
//! checked reader of the blocks and frame headers inside it.
//!
//! Layout (linux/if_packet.h): the ring is `block_nr` blocks of `block_size`
//! bytes. Each block starts with a `tpacket_block_desc` whose
//! `block_status` says who owns it (`TP_STATUS_KERNEL` while the kernel
//! fills it, `TP_STATUS_USER` once it is handed over). An owned block holds
//! `num_pkts` frames, the first at `offset_to_first_pkt`, each behind a
//! `tpacket3_hdr` whose `tp_next_offset` leads to the next. The frame starts
//! `tp_mac` bytes after its header; with `PACKET_VNET_HDR` the 10-byte
//! virtio-net header sits just in front of it.
//!
//! Parsing is done on plain byte slices so that it can be tested on
//! synthetic blocks; only [`MmapRing`] touches the shared mapping.

use std::io;
use std::os::fd::RawFd;
use std::sync::atomic::{AtomicU32, Ordering};

use packet::buffer::Offload;

pub(crate) const TP_STATUS_KERNEL: u32 = 0;
pub(crate) const TP_STATUS_USER: u32 = 1;
pub(crate) const TP_STATUS_COPY: u32 = 2;
pub(crate) const TP_STATUS_VLAN_VALID: u32 = 0x10;
pub(crate) const TP_STATUS_VLAN_TPID_VALID: u32 = 0x40;

/// Offsets inside `struct tpacket_block_desc` (version, offset_to_priv,
/// then `struct tpacket_hdr_v1`).
pub(crate) const BD_STATUS: usize = 8;
const BD_NUM_PKTS: usize = 12;
const BD_FIRST: usize = 16;
const BD_LEN: usize = 20;
pub(crate) const BD_SIZE: usize = 48;

/// Offsets inside `struct tpacket3_hdr`.
const H_NEXT: usize = 0;
const H_SNAPLEN: usize = 12;
const H_LEN: usize = 16;
const H_STATUS: usize = 20;
const H_MAC: usize = 24;
const H_VLAN_TCI: usize = 32;
const H_VLAN_TPID: usize = 36;
pub(crate) const H_SIZE: usize = 48;

fn rd32(b: &[u8], at: usize) -> Option<u32> {
    b.get(at..at + 4)
        .map(|s| u32::from_ne_bytes([s[0], s[1], s[2], s[3]]))
}

fn rd16(b: &[u8], at: usize) -> Option<u16> {
    b.get(at..at + 2).map(|s| u16::from_ne_bytes([s[0], s[1]]))
}

/// The header of a block handed to user space.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BlockHeader {
    pub num_pkts: u32,
    pub first: u32,
    pub len: u32,
}

/// A ring block that does not make sense (never expected from the kernel;
/// the block is given back whole and counted as an error).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct BadBlock;

pub(crate) fn parse_block(block: &[u8]) -> Result<BlockHeader, BadBlock> {
    let num_pkts = rd32(block, BD_NUM_PKTS).ok_or(BadBlock)?;
    let first = rd32(block, BD_FIRST).ok_or(BadBlock)?;
    let len = rd32(block, BD_LEN).ok_or(BadBlock)?;
    if (first as usize) < BD_SIZE || len as usize > block.len() || (num_pkts > 0 && first >= len) {
        return Err(BadBlock);
    }
    Ok(BlockHeader {
        num_pkts,
        first,
        len,
    })
}

/// One received frame inside a block.
#[derive(Debug, PartialEq, Eq)]
pub(crate) struct Frame<'a> {
    /// The bytes captured (`tp_snaplen` of them).
    pub data: &'a [u8],
    /// Length on the wire (`tp_len`); larger than `data` when truncated.
    pub wire_len: u32,
    pub status: u32,
    /// VLAN tag the kernel pulled out of the frame: (TPID, TCI).
    pub vlan: Option<(u16, u16)>,
    /// The virtio-net header, when the socket has one.
    pub offload: Option<Offload>,
    /// Offset of the next frame header in the block (0 for the last).
    pub next: u32,
}

/// Reads the frame whose header is at `off` in `block`.
pub(crate) fn parse_frame(block: &[u8], off: usize, vnet_hdr: bool) -> Result<Frame<'_>, BadBlock> {
    let h = block.get(off..off + H_SIZE).ok_or(BadBlock)?;
    let next = rd32(h, H_NEXT).ok_or(BadBlock)?;
    let snaplen = rd32(h, H_SNAPLEN).ok_or(BadBlock)? as usize;
    let wire_len = rd32(h, H_LEN).ok_or(BadBlock)?;
    let status = rd32(h, H_STATUS).ok_or(BadBlock)?;
    let mac = rd16(h, H_MAC).ok_or(BadBlock)? as usize;
    let start = off + mac;
    let data = block.get(start..start + snaplen).ok_or(BadBlock)?;
    let vlan = if status & TP_STATUS_VLAN_VALID != 0 {
        let tci = rd32(h, H_VLAN_TCI).ok_or(BadBlock)? as u16;
        let tpid = if status & TP_STATUS_VLAN_TPID_VALID != 0 {
            rd16(h, H_VLAN_TPID).ok_or(BadBlock)?
        } else {
            0x8100
        };
        Some((tpid, tci))
    } else {
        None
    };
    let offload = if vnet_hdr {
        if mac < H_SIZE + Offload::VNET_HDR_LEN {
            return Err(BadBlock);
        }
        let v = &block[start - Offload::VNET_HDR_LEN..start];
        let mut a = [0u8; Offload::VNET_HDR_LEN];
        a.copy_from_slice(v);
        Some(Offload::from_vnet_hdr(&a))
    } else {
        None
    };
    Ok(Frame {
        data,
        wire_len,
        status,
        vlan,
        offload,
        next,
    })
}

/// Offsets inside `struct tpacket2_hdr`.
const H2_LEN: usize = 4;
const H2_SNAPLEN: usize = 8;
const H2_MAC: usize = 12;
pub(crate) const H2_SEC: usize = 16;
pub(crate) const H2_NSEC: usize = 20;
const H2_VLAN_TCI: usize = 24;
const H2_VLAN_TPID: usize = 26;
pub(crate) const H2_SIZE: usize = 32;

/// Reads the TPACKET_V2 frame in `slot` (one frame slot of the ring).
pub(crate) fn parse_frame_v2(slot: &[u8], vnet_hdr: bool) -> Result<Frame<'_>, BadBlock> {
    let status = rd32(slot, 0).ok_or(BadBlock)?;
    let wire_len = rd32(slot, H2_LEN).ok_or(BadBlock)?;
    let snaplen = rd32(slot, H2_SNAPLEN).ok_or(BadBlock)? as usize;
    let mac = rd16(slot, H2_MAC).ok_or(BadBlock)? as usize;
    let data = slot.get(mac..mac + snaplen).ok_or(BadBlock)?;
    let vlan = if status & TP_STATUS_VLAN_VALID != 0 {
        let tci = rd16(slot, H2_VLAN_TCI).ok_or(BadBlock)?;
        let tpid = if status & TP_STATUS_VLAN_TPID_VALID != 0 {
            rd16(slot, H2_VLAN_TPID).ok_or(BadBlock)?
        } else {
            0x8100
        };
        Some((tpid, tci))
    } else {
        None
    };
    let offload = if vnet_hdr {
        if mac < H2_SIZE + Offload::VNET_HDR_LEN {
            return Err(BadBlock);
        }
        let mut a = [0u8; Offload::VNET_HDR_LEN];
        a.copy_from_slice(&slot[mac - Offload::VNET_HDR_LEN..mac]);
        Some(Offload::from_vnet_hdr(&a))
    } else {
        None
    };
    Ok(Frame {
        data,
        wire_len,
        status,
        vlan,
        offload,
        next: 0,
    })
}

/// The shared mapping of a receive ring, seen as `unit_nr` units that
/// change hands between kernel and user: blocks for TPACKET_V3, frame slots
/// for TPACKET_V2. Each unit has a 32-bit status word at `status_off`.
pub(crate) struct MmapRing {
    base: *mut u8,
    size: usize,
    block_size: usize,
    per_block: usize,
    unit_size: usize,
    pub unit_nr: usize,
    status_off: usize,
    /// Units fill their blocks exactly (no gap at a block's end), so unit
    /// `i` lies at `i * unit_size`: no division per access.
    packed: bool,
}

// SAFETY: the mapping is plain shared memory owned by this value; moving it to
// another thread is fine, and the `&mut self`/`&self` discipline of its users
// (one owning RxQueue) keeps user-side accesses single-threaded.
unsafe impl Send for MmapRing {}
// SAFETY: shared use from several threads is limited to the atomic status
// words (`give_back`, `status`, `is_user`): a lent unit is read and written
// only by the packet it is lent to, never through the ring.
unsafe impl Sync for MmapRing {}

impl MmapRing {
    /// Maps a ring of `block_nr` blocks of `block_size` bytes, each cut in
    /// units of `unit_size` bytes (`unit_size == block_size` for V3) whose
    /// status word is at `status_off`.
    pub fn map(
        fd: RawFd,
        block_size: usize,
        block_nr: usize,
        unit_size: usize,
        status_off: usize,
    ) -> io::Result<MmapRing> {
        let einval = || io::Error::from_raw_os_error(libc::EINVAL);
        let size = block_size.checked_mul(block_nr).ok_or_else(einval)?;
        if unit_size == 0
            || unit_size > block_size
            || unit_size & 15 != 0
            || status_off + 4 > unit_size
        {
            return Err(einval());
        }
        let per_block = block_size / unit_size;
        // SAFETY: asking the kernel for a new shared mapping of the packet
        // socket's ring; no existing memory is affected.
        let p = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                size,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_POPULATE,
                fd,
                0,
            )
        };
        if p == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        Ok(MmapRing {
            base: p as *mut u8,
            size,
            block_size,
            per_block,
            unit_size,
            unit_nr: per_block * block_nr,
            status_off,
            packed: per_block * unit_size == block_size,
        })
    }

    #[inline]
    fn offset(&self, i: usize) -> usize {
        assert!(i < self.unit_nr);
        if self.packed {
            i * self.unit_size
        } else {
            (i / self.per_block) * self.block_size + (i % self.per_block) * self.unit_size
        }
    }

    /// The unit after `i`, wrapping at the end of the ring.
    #[inline]
    pub fn next_unit(&self, i: usize) -> usize {
        if i + 1 >= self.unit_nr {
            0
        } else {
            i + 1
        }
    }

    fn status_word(&self, i: usize) -> &AtomicU32 {
        let off = self.offset(i) + self.status_off;
        // SAFETY: `offset(i) + unit_size <= size` for every `i < unit_nr`
        // and `status_off + 4 <= unit_size` (checked in `map`), so the word
        // lies inside the mapping; it is 4-byte aligned (units are 16-byte
        // aligned, status_off is 0 or 8) and the kernel accesses it as a
        // 32-bit word too; the reference lives no longer than the mapping.
        unsafe { &*(self.base.add(off) as *const AtomicU32) }
    }

    /// Whether unit `i` has been handed to user space.
    pub fn is_user(&self, i: usize) -> bool {
        self.status_word(i).load(Ordering::Acquire) & TP_STATUS_USER != 0
    }

    /// The bytes of unit `i`. Only valid while the unit is ours (after
    /// [`MmapRing::is_user`] returned true and before [`MmapRing::release`]).
    pub fn unit(&self, i: usize) -> &[u8] {
        let off = self.offset(i);
        // SAFETY: in bounds of the mapping (see `status_word`). The unit is
        // owned by user space (checked with acquire ordering by the caller),
        // so the kernel does not write it while the slice lives: the slice is
        // dropped before `give_back` hands it back.
        unsafe { std::slice::from_raw_parts(self.base.add(off), self.unit_size) }
    }

    /// Hands unit `i` back to the kernel (also through a shared reference:
    /// a slot lent to a packet is given back from wherever the packet ends).
    /// The caller makes sure no slice of unit `i` is alive.
    pub fn give_back(&self, i: usize) {
        self.status_word(i)
            .store(TP_STATUS_KERNEL, Ordering::Release);
    }

    /// Address of the first byte of unit `i` (for lending it whole).
    pub fn unit_ptr(&self, i: usize) -> std::ptr::NonNull<u8> {
        let off = self.offset(i);
        // SAFETY: in bounds of the mapping (see `status_word`), and the
        // mapping's base is not null.
        unsafe { std::ptr::NonNull::new_unchecked(self.base.add(off)) }
    }

    /// Bytes per unit.
    pub fn unit_size(&self) -> usize {
        self.unit_size
    }

    /// The status word of unit `i` (transmit rings).
    pub fn status(&self, i: usize) -> u32 {
        self.status_word(i).load(Ordering::Acquire)
    }

    /// Sets the status word of unit `i`, publishing what was written into
    /// the unit before (transmit rings).
    pub fn set_status(&mut self, i: usize, v: u32) {
        self.status_word(i).store(v, Ordering::Release);
    }

    /// The bytes of unit `i`, writable. Only valid while the unit is ours
    /// (a transmit slot whose status is `TP_STATUS_AVAILABLE`).
    pub fn unit_mut(&mut self, i: usize) -> &mut [u8] {
        let off = self.offset(i);
        // SAFETY: in bounds of the mapping (see `status_word`); the caller
        // checked with acquire ordering that the kernel is done with the
        // slot, and `&mut self` keeps any other slice of the ring from
        // living at the same time.
        unsafe { std::slice::from_raw_parts_mut(self.base.add(off), self.unit_size) }
    }
}

impl Drop for MmapRing {
    fn drop(&mut self) {
        // SAFETY: unmapping exactly the region `map` created; no slice into
        // it can outlive `self`.
        unsafe { libc::munmap(self.base as *mut libc::c_void, self.size) };
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// A frame to put in a synthetic block: bytes, VLAN tag, vnet header.
    pub(crate) type SynthFrame<'a> = (&'a [u8], Option<(u16, u16)>, Offload);

    /// Builds a synthetic block as the kernel would: frames at 16-byte
    /// aligned offsets, each with a vnet header in front of the frame.
    pub(crate) fn synth_block(frames: &[SynthFrame<'_>], vnet: bool) -> Vec<u8> {
        let mut b = vec![0u8; 8192];
        b[BD_STATUS..BD_STATUS + 4].copy_from_slice(&TP_STATUS_USER.to_ne_bytes());
        b[BD_NUM_PKTS..BD_NUM_PKTS + 4].copy_from_slice(&(frames.len() as u32).to_ne_bytes());
        let first = BD_SIZE as u32;
        b[BD_FIRST..BD_FIRST + 4].copy_from_slice(&first.to_ne_bytes());
        let mut off = first as usize;
        for (i, (data, vlan, o)) in frames.iter().enumerate() {
            let mac = H_SIZE + 16 + if vnet { Offload::VNET_HDR_LEN } else { 0 } + 2;
            let total = (mac + data.len()).div_ceil(16) * 16;
            let next = if i + 1 == frames.len() {
                0
            } else {
                total as u32
            };
            let h = &mut b[off..off + H_SIZE];
            h[H_NEXT..H_NEXT + 4].copy_from_slice(&next.to_ne_bytes());
            h[H_SNAPLEN..H_SNAPLEN + 4].copy_from_slice(&(data.len() as u32).to_ne_bytes());
            h[H_LEN..H_LEN + 4].copy_from_slice(&(data.len() as u32).to_ne_bytes());
            let mut status = TP_STATUS_USER;
            if let Some((tpid, tci)) = vlan {
                status |= TP_STATUS_VLAN_VALID | TP_STATUS_VLAN_TPID_VALID;
                h[H_VLAN_TCI..H_VLAN_TCI + 4].copy_from_slice(&(*tci as u32).to_ne_bytes());
                h[H_VLAN_TPID..H_VLAN_TPID + 2].copy_from_slice(&tpid.to_ne_bytes());
            }
            h[H_STATUS..H_STATUS + 4].copy_from_slice(&status.to_ne_bytes());
            h[H_MAC..H_MAC + 2].copy_from_slice(&(mac as u16).to_ne_bytes());
            if vnet {
                b[off + mac - Offload::VNET_HDR_LEN..off + mac].copy_from_slice(&o.to_vnet_hdr());
            }
            b[off + mac..off + mac + data.len()].copy_from_slice(data);
            off += total;
        }
        b[BD_LEN..BD_LEN + 4].copy_from_slice(&(off as u32).to_ne_bytes());
        b
    }

    /// Units lie block by block, with the gap at a block's end when units
    /// do not fill it, and the unit after the last is the first.
    #[test]
    fn unit_offsets_and_wrap() {
        use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};
        for (block, nr, unit) in [
            (4096usize, 3usize, 1024usize),
            (4096, 3, 1360),
            (8192, 2, 8192),
        ] {
            // SAFETY: plain system calls; the descriptor is owned at once.
            let fd = unsafe {
                let fd = libc::memfd_create(c"ring".as_ptr(), 0);
                assert!(fd >= 0);
                OwnedFd::from_raw_fd(fd)
            };
            assert_eq!(
                unsafe { libc::ftruncate(fd.as_raw_fd(), (block * nr) as i64) },
                0
            );
            let ring = MmapRing::map(fd.as_raw_fd(), block, nr, unit, 0).unwrap();
            let per = block / unit;
            assert_eq!(ring.unit_nr, per * nr);
            let base = ring.unit_ptr(0).as_ptr() as usize;
            for i in 0..ring.unit_nr {
                let off = ring.unit_ptr(i).as_ptr() as usize - base;
                assert_eq!(off, (i / per) * block + (i % per) * unit, "unit {i}");
                let next = ring.next_unit(i);
                assert_eq!(next, if i + 1 == ring.unit_nr { 0 } else { i + 1 });
            }
        }
    }

    #[test]
    fn walks_a_block() {
        let f1: Vec<u8> = (0..60).collect();
        let f2: Vec<u8> = (0..200).map(|i| i as u8 ^ 0x5a).collect();
        let o2 = Offload {
            flags: Offload::F_NEEDS_CSUM,
            csum_start: 34,
            csum_offset: 16,
            ..Default::default()
        };
        let b = synth_block(
            &[
                (&f1, None, Offload::default()),
                (&f2, Some((0x88a8, 0x2005)), o2),
            ],
            true,
        );
        let h = parse_block(&b).unwrap();
        assert_eq!(h.num_pkts, 2);
        let fr = parse_frame(&b, h.first as usize, true).unwrap();
        assert_eq!(fr.data, &f1[..]);
        assert_eq!(fr.vlan, None);
        assert_eq!(fr.offload, Some(Offload::default()));
        assert!(fr.next > 0);
        let fr2 = parse_frame(&b, h.first as usize + fr.next as usize, true).unwrap();
        assert_eq!(fr2.data, &f2[..]);
        assert_eq!(fr2.vlan, Some((0x88a8, 0x2005)));
        assert_eq!(fr2.offload, Some(o2));
        assert_eq!(fr2.next, 0);
    }

    #[test]
    fn reads_v2_slot() {
        let mut slot = vec![0u8; 512];
        let data: Vec<u8> = (0..100).collect();
        let mac = 80usize;
        slot[0..4].copy_from_slice(&(TP_STATUS_USER | TP_STATUS_VLAN_VALID).to_ne_bytes());
        slot[H2_LEN..H2_LEN + 4].copy_from_slice(&100u32.to_ne_bytes());
        slot[H2_SNAPLEN..H2_SNAPLEN + 4].copy_from_slice(&100u32.to_ne_bytes());
        slot[H2_MAC..H2_MAC + 2].copy_from_slice(&(mac as u16).to_ne_bytes());
        slot[H2_VLAN_TCI..H2_VLAN_TCI + 2].copy_from_slice(&7u16.to_ne_bytes());
        let o = Offload {
            flags: Offload::F_DATA_VALID,
            ..Default::default()
        };
        slot[mac - 10..mac].copy_from_slice(&o.to_vnet_hdr());
        slot[mac..mac + 100].copy_from_slice(&data);
        let f = parse_frame_v2(&slot, true).unwrap();
        assert_eq!(f.data, &data[..]);
        assert_eq!(f.vlan, Some((0x8100, 7)));
        assert_eq!(f.offload, Some(o));
        slot[H2_SNAPLEN..H2_SNAPLEN + 4].copy_from_slice(&500u32.to_ne_bytes());
        assert_eq!(parse_frame_v2(&slot, true), Err(BadBlock));
    }

    #[test]
    fn rejects_out_of_bounds() {
        let f1 = [1u8; 60];
        let mut b = synth_block(&[(&f1, None, Offload::default())], false);
        let first = parse_block(&b).unwrap().first as usize;
        // snaplen past the block end
        b[first + H_SNAPLEN..first + H_SNAPLEN + 4].copy_from_slice(&100_000u32.to_ne_bytes());
        assert_eq!(parse_frame(&b, first, false), Err(BadBlock));
        assert_eq!(parse_frame(&b, b.len() - 10, false), Err(BadBlock));
        // first packet offset inside the descriptor
        let mut b2 = synth_block(&[(&f1, None, Offload::default())], false);
        b2[BD_FIRST..BD_FIRST + 4].copy_from_slice(&4u32.to_ne_bytes());
        assert_eq!(parse_block(&b2), Err(BadBlock));
        // vnet header claimed but no room for it
        let mut b3 = synth_block(&[(&f1, None, Offload::default())], false);
        b3[first + H_MAC..first + H_MAC + 2].copy_from_slice(&(H_SIZE as u16).to_ne_bytes());
        assert_eq!(parse_frame(&b3, first, true), Err(BadBlock));
        assert!(parse_block(&[0u8; 10]).is_err());
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_ring_memory_never_panics(
            bytes in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..600),
            off in 0usize..700,
            vnet in proptest::prelude::any::<bool>(),
        ) {
            if let Ok(h) = parse_block(&bytes) {
                let _ = parse_frame(&bytes, h.first as usize, vnet);
            }
            let _ = parse_frame(&bytes, off, vnet);
            let _ = parse_frame_v2(&bytes, vnet);
        }
    }
}
