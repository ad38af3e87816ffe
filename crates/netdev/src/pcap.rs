//! Classic pcap files (the format `ovs-pcap` and tcpdump read): a writer
//! for the dummy ports' `pcap`/`rxq_pcap`/`tx_pcap` options and a reader
//! for tests and `netdev-dummy` tooling.
//!
//! Files are little-endian, microsecond timestamps, link type Ethernet and
//! snap length 1518, as upstream writes them; the reader accepts either
//! byte order.

use std::fs::{File, OpenOptions};
use std::io::{self, Write};
use std::path::Path;
use std::time::{SystemTime, UNIX_EPOCH};

const MAGIC: u32 = 0xa1b2_c3d4;
const SNAPLEN: u32 = 1518;
const LINKTYPE_ETHERNET: u32 = 1;
/// Largest record the reader accepts (bounded allocation).
const MAX_RECORD: u32 = 256 * 1024;

/// Appends frames to a pcap file.
pub struct PcapWriter {
    file: File,
}

impl PcapWriter {
    /// Opens `path` for appending, writing the file header if the file is
    /// new or empty (upstream's `ovs_pcap_open(path, "ab")`).
    pub fn open_append(path: &Path) -> io::Result<PcapWriter> {
        let mut file = OpenOptions::new().create(true).append(true).open(path)?;
        if file.metadata()?.len() == 0 {
            file.write_all(&header())?;
        }
        Ok(PcapWriter { file })
    }

    /// Writes one frame with the current time.
    pub fn write(&mut self, frame: &[u8]) -> io::Result<()> {
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        let mut rec = Vec::with_capacity(16 + frame.len());
        rec.extend_from_slice(&(now.as_secs() as u32).to_le_bytes());
        rec.extend_from_slice(&now.subsec_micros().to_le_bytes());
        rec.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        rec.extend_from_slice(&(frame.len() as u32).to_le_bytes());
        rec.extend_from_slice(frame);
        self.file.write_all(&rec)
    }
}

/// The 24-byte file header.
pub fn header() -> [u8; 24] {
    let mut h = [0u8; 24];
    h[0..4].copy_from_slice(&MAGIC.to_le_bytes());
    h[4..6].copy_from_slice(&2u16.to_le_bytes());
    h[6..8].copy_from_slice(&4u16.to_le_bytes());
    h[16..20].copy_from_slice(&SNAPLEN.to_le_bytes());
    h[20..24].copy_from_slice(&LINKTYPE_ETHERNET.to_le_bytes());
    h
}

/// Why a pcap file did not read.
#[derive(Debug, PartialEq, Eq)]
pub enum PcapError {
    BadMagic,
    Truncated,
    RecordTooLong(u32),
}

impl std::fmt::Display for PcapError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PcapError::BadMagic => f.write_str("bad magic number in pcap header"),
            PcapError::Truncated => f.write_str("unexpected end of file"),
            PcapError::RecordTooLong(n) => write!(f, "record length {n} is too long"),
        }
    }
}

impl std::error::Error for PcapError {}

/// The frames of a pcap file's bytes, in order.
pub fn read(data: &[u8]) -> Result<Vec<Vec<u8>>, PcapError> {
    let magic = data.get(0..4).ok_or(PcapError::Truncated)?;
    let le = match u32::from_le_bytes([magic[0], magic[1], magic[2], magic[3]]) {
        MAGIC => true,
        m if m.swap_bytes() == MAGIC => false,
        _ => return Err(PcapError::BadMagic),
    };
    let u32_at = |at: usize| -> Option<u32> {
        let b = data.get(at..at + 4)?;
        let a = [b[0], b[1], b[2], b[3]];
        Some(if le {
            u32::from_le_bytes(a)
        } else {
            u32::from_be_bytes(a)
        })
    };
    if data.len() < 24 {
        return Err(PcapError::Truncated);
    }
    let mut pos = 24;
    let mut out = Vec::new();
    while pos < data.len() {
        let incl = u32_at(pos + 8).ok_or(PcapError::Truncated)?;
        if incl > MAX_RECORD {
            return Err(PcapError::RecordTooLong(incl));
        }
        let start = pos + 16;
        let end = start + incl as usize;
        let frame = data.get(start..end).ok_or(PcapError::Truncated)?;
        out.push(frame.to_vec());
        pos = end;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn write_then_read() {
        let dir = std::env::temp_dir().join(format!("fv-pcap-{}", std::process::id()));
        let _ = std::fs::create_dir_all(&dir);
        let path = dir.join("a.pcap");
        let _ = std::fs::remove_file(&path);
        {
            let mut w = PcapWriter::open_append(&path).unwrap();
            w.write(&[1, 2, 3]).unwrap();
        }
        {
            let mut w = PcapWriter::open_append(&path).unwrap();
            w.write(&[4; 60]).unwrap();
        }
        let data = std::fs::read(&path).unwrap();
        assert_eq!(&data[..24], &header());
        let frames = read(&data).unwrap();
        assert_eq!(frames, vec![vec![1, 2, 3], vec![4; 60]]);
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(read(&[0; 30]), Err(PcapError::BadMagic));
        let mut d = header().to_vec();
        d.extend_from_slice(&[0; 8]);
        d.extend_from_slice(&100u32.to_le_bytes());
        assert_eq!(read(&d), Err(PcapError::Truncated));
    }
}
