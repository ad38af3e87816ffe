//! Geneve headers (RFC 8926) and their options.

use std::fmt;

use super::{rd16, rd32, view, wr16, wr32, Error, Result};

/// Length of the fixed Geneve header.
pub const HEADER_LEN: usize = 8;
/// UDP port assigned to Geneve.
pub const UDP_PORT: u16 = 6081;
/// Longest option space (63 words).
pub const MAX_OPTS_LEN: usize = 63 * 4;

view!(
    /// A Geneve header: version, options length, O and C bits, protocol
    /// type, VNI, options.
    GeneveHeader
);

impl<T: AsRef<[u8]>> GeneveHeader<T> {
    pub fn check_len(&self) -> Result<()> {
        let b = self.b();
        if b.len() < HEADER_LEN || b.len() < self.header_len() {
            return Err(Error::Truncated);
        }
        Ok(())
    }
    pub fn version(&self) -> u8 {
        self.b()[0] >> 6
    }
    /// Options length in bytes.
    pub fn options_len(&self) -> usize {
        (self.b()[0] & 0x3f) as usize * 4
    }
    pub fn header_len(&self) -> usize {
        HEADER_LEN + self.options_len()
    }
    pub fn oam(&self) -> bool {
        self.b()[1] & 0x80 != 0
    }
    pub fn critical(&self) -> bool {
        self.b()[1] & 0x40 != 0
    }
    pub fn protocol(&self) -> u16 {
        rd16(self.b(), 2)
    }
    pub fn vni(&self) -> u32 {
        rd32(self.b(), 4) >> 8
    }
    pub fn options(&self) -> &[u8] {
        &self.b()[HEADER_LEN..self.header_len()]
    }
    pub fn payload(&self) -> &[u8] {
        &self.b()[self.header_len()..]
    }
}

impl<T: AsRef<[u8]> + AsMut<[u8]>> GeneveHeader<T> {
    pub fn set_fixed(
        &mut self,
        options_len: usize,
        oam: bool,
        critical: bool,
        protocol: u16,
        vni: u32,
    ) {
        let b = self.bm();
        b[0] = (options_len / 4) as u8 & 0x3f;
        b[1] = ((oam as u8) << 7) | ((critical as u8) << 6);
        wr16(b, 2, protocol);
        wr32(b, 4, vni << 8);
    }
}

impl<T: AsRef<[u8]>> fmt::Display for GeneveHeader<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match GeneveRepr::parse(self) {
            Ok(r) => write!(f, "{r}"),
            Err(e) => write!(f, "Geneve ({e})"),
        }
    }
}

/// One Geneve option.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct GeneveOptionRepr<'a> {
    pub class: u16,
    /// Type; its top bit is the critical bit.
    pub kind: u8,
    /// Option data; a multiple of 4 bytes, at most 124.
    pub data: &'a [u8],
}

impl<'a> GeneveOptionRepr<'a> {
    /// Parses the option at the start of `b`, returning it and its length.
    pub fn parse(b: &'a [u8]) -> Result<(Self, usize)> {
        if b.len() < 4 {
            return Err(Error::Truncated);
        }
        let len = 4 + (b[3] & 0x1f) as usize * 4;
        if b.len() < len {
            return Err(Error::Truncated);
        }
        Ok((
            GeneveOptionRepr {
                class: rd16(b, 0),
                kind: b[2],
                data: &b[4..len],
            },
            len,
        ))
    }
    pub fn buffer_len(&self) -> usize {
        4 + self.data.len()
    }
    pub fn emit(&self, out: &mut [u8]) -> Result<()> {
        let len = self.buffer_len();
        if self.data.len() % 4 != 0 || self.data.len() > 0x1f * 4 {
            return Err(Error::Malformed);
        }
        if out.len() < len {
            return Err(Error::Truncated);
        }
        wr16(out, 0, self.class);
        out[2] = self.kind;
        out[3] = (self.data.len() / 4) as u8;
        out[4..len].copy_from_slice(self.data);
        Ok(())
    }
}

impl fmt::Display for GeneveOptionRepr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "class 0x{:x} type 0x{:x} len {}",
            self.class,
            self.kind,
            self.buffer_len()
        )?;
        if !self.data.is_empty() {
            f.write_str(" data ")?;
            for b in self.data {
                write!(f, "{b:02x}")?;
            }
        }
        Ok(())
    }
}

/// Iterates the options of an option space; stops at the first one that
/// does not fit.
pub fn options(space: &[u8]) -> impl Iterator<Item = GeneveOptionRepr<'_>> {
    let mut rest = space;
    std::iter::from_fn(move || {
        let (o, len) = GeneveOptionRepr::parse(rest).ok()?;
        rest = &rest[len..];
        Some(o)
    })
}

/// A Geneve header, version 0.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash)]
pub struct GeneveRepr<'a> {
    pub oam: bool,
    pub critical: bool,
    /// EtherType of the payload (0x6558 for Ethernet).
    pub protocol: u16,
    /// 24 bits.
    pub vni: u32,
    /// Option bytes; a multiple of 4 made of whole options.
    pub options: &'a [u8],
}

impl<'a> GeneveRepr<'a> {
    /// Parses a header whose options are whole.
    pub fn parse<T: AsRef<[u8]>>(h: &'a GeneveHeader<T>) -> Result<Self> {
        h.check_len()?;
        if h.version() != 0 {
            return Err(Error::Malformed);
        }
        let b: &'a [u8] = h.buffer.as_ref();
        let opts = &b[HEADER_LEN..h.header_len()];
        let mut rest = opts;
        while !rest.is_empty() {
            let (_, len) = GeneveOptionRepr::parse(rest).map_err(|_| Error::Malformed)?;
            rest = &rest[len..];
        }
        Ok(GeneveRepr {
            oam: h.oam(),
            critical: h.critical(),
            protocol: h.protocol(),
            vni: h.vni(),
            options: opts,
        })
    }
    pub fn buffer_len(&self) -> usize {
        HEADER_LEN + self.options.len()
    }
    pub fn emit(&self, out: &mut [u8]) -> Result<()> {
        let len = self.buffer_len();
        if self.options.len() % 4 != 0 || self.options.len() > MAX_OPTS_LEN {
            return Err(Error::Malformed);
        }
        if out.len() < len {
            return Err(Error::Truncated);
        }
        let mut h = GeneveHeader::new_unchecked(&mut out[..len]);
        h.set_fixed(
            self.options.len(),
            self.oam,
            self.critical,
            self.protocol,
            self.vni & 0xff_ffff,
        );
        h.bm()[HEADER_LEN..].copy_from_slice(self.options);
        Ok(())
    }
}

impl fmt::Display for GeneveRepr<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Geneve, Flags [{}", if self.oam { "O" } else { "" })?;
        write!(
            f,
            "{}], vni 0x{:x}, proto {} (0x{:04x})",
            if self.critical { "C" } else { "" },
            self.vni,
            super::ethernet::ethertype_name(self.protocol),
            self.protocol
        )?;
        if !self.options.is_empty() {
            write!(f, ", options [")?;
            for (i, o) in options(self.options).enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{o}")?;
            }
            f.write_str("]")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn with_options() {
        let mut opts = [0u8; 12];
        GeneveOptionRepr {
            class: 0xffff,
            kind: 0x80,
            data: &[1, 2, 3, 4],
        }
        .emit(&mut opts)
        .unwrap();
        GeneveOptionRepr {
            class: 0x0102,
            kind: 1,
            data: &[],
        }
        .emit(&mut opts[8..])
        .unwrap();
        let r = GeneveRepr {
            oam: false,
            critical: true,
            protocol: 0x6558,
            vni: 0x123,
            options: &opts,
        };
        let mut b = [0u8; 20];
        r.emit(&mut b).unwrap();
        assert_eq!(b[..8], [0x03, 0x40, 0x65, 0x58, 0x00, 0x01, 0x23, 0x00]);
        let h = GeneveHeader::new_checked(&b[..]).unwrap();
        assert_eq!(GeneveRepr::parse(&h).unwrap(), r);
        assert_eq!(options(&opts).count(), 2);
        assert_eq!(
            r.to_string(),
            "Geneve, Flags [C], vni 0x123, proto Transparent Ethernet bridging (0x6558), options [class 0xffff type 0x80 len 8 data 01020304, class 0x102 type 0x1 len 4]"
        );
        assert_eq!(
            GeneveHeader::new_checked(&b[..19]).unwrap_err(),
            Error::Truncated
        );
        let mut bad = b;
        bad[8 + 3] = 5;
        let h = GeneveHeader::new_checked(&bad[..]).unwrap();
        assert_eq!(GeneveRepr::parse(&h), Err(Error::Malformed));
    }
}
