//! The XDP side of an `afxdp` port, through the `bpf()` system call with
//! no library: an `XSKMAP` holding one AF_XDP socket per receive queue, a
//! five-instruction XDP program that redirects every frame to the socket
//! of the queue it arrived on (and lets it pass to the kernel's stack when
//! that queue has none), and a BPF link attaching the program to the
//! device in native (driver) or generic (skb) mode. The link is the
//! attachment: closing it (the port goes, or the process dies) detaches
//! the program, so nothing is left on the device after a crash.

use std::io;
use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use crate::sys;

const BPF_MAP_CREATE: libc::c_long = 0;
const BPF_MAP_UPDATE_ELEM: libc::c_long = 2;
const BPF_PROG_LOAD: libc::c_long = 5;
const BPF_LINK_CREATE: libc::c_long = 28;

const BPF_MAP_TYPE_XSKMAP: u32 = 17;
const BPF_PROG_TYPE_XDP: u32 = 6;
/// `attach_type` of an XDP link.
const BPF_XDP: u32 = 37;

/// XDP attach flags.
pub const XDP_FLAGS_SKB_MODE: u32 = 1 << 1;
pub const XDP_FLAGS_DRV_MODE: u32 = 1 << 2;

const BPF_PSEUDO_MAP_FD: u8 = 1;
const BPF_FUNC_REDIRECT_MAP: i32 = 51;
const XDP_PASS: i32 = 2;
/// Offset of `rx_queue_index` in `struct xdp_md`.
const XDP_MD_RX_QUEUE_INDEX: i16 = 16;

/// `union bpf_attr`, as wide as any command here uses, zero-filled.
#[repr(C, align(8))]
struct BpfAttr([u8; 128]);

impl BpfAttr {
    fn new() -> BpfAttr {
        BpfAttr([0; 128])
    }
    fn u32_at(&mut self, off: usize, v: u32) -> &mut Self {
        self.0[off..off + 4].copy_from_slice(&v.to_ne_bytes());
        self
    }
    fn u64_at(&mut self, off: usize, v: u64) -> &mut Self {
        self.0[off..off + 8].copy_from_slice(&v.to_ne_bytes());
        self
    }
    fn bytes_at(&mut self, off: usize, b: &[u8]) -> &mut Self {
        self.0[off..off + b.len()].copy_from_slice(b);
        self
    }
}

fn bpf(cmd: libc::c_long, attr: &mut BpfAttr) -> io::Result<libc::c_long> {
    // SAFETY: `attr` is a zero-initialized `union bpf_attr` prefix of the
    // size passed; the kernel reads (and for some commands writes) only
    // within it, and any pointers stored in it outlive the call.
    let r = unsafe {
        libc::syscall(
            libc::SYS_bpf,
            cmd,
            attr.0.as_mut_ptr(),
            std::mem::size_of::<BpfAttr>() as libc::c_uint,
        )
    };
    if r < 0 {
        Err(io::Error::last_os_error())
    } else {
        Ok(r)
    }
}

fn fd_of(r: libc::c_long) -> io::Result<OwnedFd> {
    let fd = RawFd::try_from(r).map_err(|_| io::Error::from_raw_os_error(libc::EBADF))?;
    // SAFETY: the kernel just returned this new descriptor to us.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// One BPF instruction (`struct bpf_insn`).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[repr(C)]
pub struct Insn {
    code: u8,
    /// dst_reg in the low nibble, src_reg in the high one.
    regs: u8,
    off: i16,
    imm: i32,
}

const fn insn(code: u8, dst: u8, src: u8, off: i16, imm: i32) -> Insn {
    Insn {
        code,
        regs: (dst & 0xf) | (src << 4),
        off,
        imm,
    }
}

/// The redirect program for the map whose descriptor is `map_fd`:
///
/// ```text
/// r2 = *(u32 *)(r1 + 16)        ; ctx->rx_queue_index
/// r1 = map_fd ll                ; the XSKMAP
/// r3 = XDP_PASS                 ; what to do when the queue has no socket
/// call bpf_redirect_map
/// exit
/// ```
pub fn redirect_program(map_fd: i32) -> [Insn; 6] {
    [
        // BPF_LDX | BPF_MEM | BPF_W
        insn(0x61, 2, 1, XDP_MD_RX_QUEUE_INDEX, 0),
        // BPF_LD | BPF_DW | BPF_IMM, two slots
        insn(0x18, 1, BPF_PSEUDO_MAP_FD, 0, map_fd),
        insn(0, 0, 0, 0, 0),
        // BPF_ALU64 | BPF_MOV | BPF_K
        insn(0xb7, 3, 0, 0, XDP_PASS),
        // BPF_JMP | BPF_CALL
        insn(0x85, 0, 0, 0, BPF_FUNC_REDIRECT_MAP),
        // BPF_JMP | BPF_EXIT
        insn(0x95, 0, 0, 0, 0),
    ]
}

/// An XSKMAP with `entries` slots (one per receive queue).
pub fn create_xskmap(entries: u32) -> io::Result<OwnedFd> {
    let mut a = BpfAttr::new();
    a.u32_at(0, BPF_MAP_TYPE_XSKMAP)
        .u32_at(4, 4) // key_size
        .u32_at(8, 4) // value_size
        .u32_at(12, entries.max(1))
        .bytes_at(28, b"ferrovs_xsks");
    fd_of(bpf(BPF_MAP_CREATE, &mut a)?)
}

/// Puts socket `xsk_fd` in slot `index` of `map`.
pub fn xskmap_set(map: RawFd, index: u32, xsk_fd: RawFd) -> io::Result<()> {
    let key = index;
    let value = xsk_fd as u32;
    let mut a = BpfAttr::new();
    a.u32_at(0, map as u32)
        .u64_at(8, &key as *const u32 as u64)
        .u64_at(16, &value as *const u32 as u64)
        .u64_at(24, 0); // BPF_ANY
    bpf(BPF_MAP_UPDATE_ELEM, &mut a).map(|_| ())
}

/// Loads the redirect program for `map`.
pub fn load_program(map: RawFd) -> io::Result<OwnedFd> {
    let insns = redirect_program(map);
    let license = c"Apache-2.0";
    let mut a = BpfAttr::new();
    a.u32_at(0, BPF_PROG_TYPE_XDP)
        .u32_at(4, insns.len() as u32)
        .u64_at(8, insns.as_ptr() as u64)
        .u64_at(16, license.as_ptr() as u64)
        .bytes_at(48, b"ferrovs_xsk")
        .u32_at(68, BPF_XDP);
    match bpf(BPF_PROG_LOAD, &mut a) {
        Ok(fd) => fd_of(fd),
        // Kernels that know no expected attach type for XDP.
        Err(e) if e.raw_os_error() == Some(libc::EINVAL) => {
            a.u32_at(68, 0);
            fd_of(bpf(BPF_PROG_LOAD, &mut a)?)
        }
        Err(e) => Err(e),
    }
}

/// Attaches `prog` to device `ifindex` with `flags` (native or generic);
/// the program stays attached while the returned link is open.
pub fn attach(prog: RawFd, ifindex: u32, flags: u32) -> io::Result<OwnedFd> {
    let mut a = BpfAttr::new();
    a.u32_at(0, prog as u32)
        .u32_at(4, ifindex)
        .u32_at(8, BPF_XDP)
        .u32_at(12, flags);
    fd_of(bpf(BPF_LINK_CREATE, &mut a)?)
}

/// The kernel's errno for "this cannot work here", from any failure.
pub fn errno(e: &io::Error) -> i32 {
    e.raw_os_error().unwrap_or(libc::EINVAL)
}

/// Raises the locked-memory limit as far as allowed (older kernels
/// charge BPF maps and UMEM against it); failing is not fatal.
pub fn raise_memlock() -> io::Result<()> {
    let r = libc::rlimit {
        rlim_cur: libc::RLIM_INFINITY,
        rlim_max: libc::RLIM_INFINITY,
    };
    // SAFETY: plain system call with a valid rlimit.
    sys::cvt(unsafe { libc::setrlimit(libc::RLIMIT_MEMLOCK, &r) }).map(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn program_encoding() {
        let p = redirect_program(7);
        assert_eq!(std::mem::size_of::<Insn>(), 8);
        assert_eq!(p[0], insn(0x61, 2, 1, 16, 0));
        assert_eq!(p[0].regs, 0x12);
        assert_eq!(p[1].regs, 0x11);
        assert_eq!(p[1].imm, 7);
        assert_eq!(p[3].imm, XDP_PASS);
        assert_eq!(p[4].imm, BPF_FUNC_REDIRECT_MAP);
        assert_eq!(p[5].code, 0x95);
    }

    #[test]
    fn loads_when_privileged() {
        // Unprivileged runs cannot create BPF objects: nothing to check.
        let Ok(map) = create_xskmap(4) else { return };
        use std::os::fd::AsRawFd;
        let prog = load_program(map.as_raw_fd()).expect("the verifier accepts the program");
        assert!(prog.as_raw_fd() >= 0);
    }
}
