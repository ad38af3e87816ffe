//! Geneve TLV mapping tables: `NXT_TLV_TABLE_MOD` and `NXT_TLV_TABLE_REPLY`
//! (which `tun_metadataN` field each option class/type maps to).

use crate::errors::OfpErr;
use crate::wire::{Put, Reader};

const BAD: OfpErr = OfpErr::OFPBRC_BAD_LEN;

/// One option-to-field mapping.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlvMap {
    pub option_class: u16,
    pub option_type: u8,
    pub option_len: u8,
    pub index: u16,
}

fn pull_maps(r: &mut Reader<'_>) -> Result<Vec<TlvMap>, OfpErr> {
    let mut v = Vec::new();
    while !r.is_empty() {
        let option_class = r.u16().ok_or(BAD)?;
        let option_type = r.u8().ok_or(BAD)?;
        let option_len = r.u8().ok_or(BAD)?;
        let index = r.u16().ok_or(BAD)?;
        r.skip(2).ok_or(BAD)?;
        if option_len % 4 != 0 || option_len > 124 {
            vlog::warn!(
                "ofp_match",
                "tlv table option length ({}) is not a valid option size",
                option_len
            );
            return Err(OfpErr::NXTTMFC_BAD_OPT_LEN);
        }
        if index >= 64 {
            return Err(OfpErr::NXTTMFC_BAD_FIELD_IDX);
        }
        v.push(TlvMap {
            option_class,
            option_type,
            option_len,
            index,
        });
    }
    Ok(v)
}

fn put_maps(out: &mut Vec<u8>, maps: &[TlvMap]) {
    for m in maps {
        out.put_u16(m.option_class);
        out.put_u8(m.option_type);
        out.put_u8(m.option_len);
        out.put_u16(m.index);
        out.put_zeros(2);
    }
}

/// C's `%#x`: no prefix for zero.
fn alt_hex(v: u32) -> String {
    if v == 0 {
        "0".into()
    } else {
        format!("{v:#x}")
    }
}

fn format_maps(out: &mut String, maps: &[TlvMap]) {
    out.push_str(" mapping table:\n");
    out.push_str("  class  type  length  match field\n");
    out.push_str(" ------  ----  ------  --------------");
    for m in maps {
        out.push_str(&format!(
            "\n {:>6}  {:>4}  {:>6}  tun_metadata{}",
            alt_hex(u32::from(m.option_class)),
            alt_hex(u32::from(m.option_type)),
            m.option_len,
            m.index
        ));
    }
}

/// `NXT_TLV_TABLE_MOD`: 0 add, 1 delete, 2 clear.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlvTableMod {
    pub command: u16,
    pub maps: Vec<TlvMap>,
}

impl TlvTableMod {
    pub fn decode(body: &[u8]) -> Result<TlvTableMod, OfpErr> {
        let mut r = Reader::new(body);
        let command = r.u16().ok_or(BAD)?;
        r.skip(6).ok_or(BAD)?;
        if command > 2 {
            return Err(OfpErr::NXTTMFC_BAD_COMMAND);
        }
        Ok(TlvTableMod {
            command,
            maps: pull_maps(&mut r)?,
        })
    }

    pub fn encode_body(&self, out: &mut Vec<u8>) {
        out.put_u16(self.command);
        out.put_zeros(6);
        put_maps(out, &self.maps);
    }

    pub fn format(&self, out: &mut String) {
        out.push_str("\n ");
        out.push_str(["ADD", "DEL", "CLEAR"][usize::from(self.command.min(2))]);
        if self.command != 2 {
            format_maps(out, &self.maps);
        }
    }
}

/// `NXT_TLV_TABLE_REPLY`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TlvTableReply {
    pub max_option_space: u32,
    pub max_fields: u16,
    pub maps: Vec<TlvMap>,
}

impl TlvTableReply {
    pub fn decode(body: &[u8]) -> Result<TlvTableReply, OfpErr> {
        let mut r = Reader::new(body);
        let max_option_space = r.u32().ok_or(BAD)?;
        let max_fields = r.u16().ok_or(BAD)?;
        r.skip(10).ok_or(BAD)?;
        Ok(TlvTableReply {
            max_option_space,
            max_fields,
            maps: pull_maps(&mut r)?,
        })
    }

    pub fn encode_body(&self, out: &mut Vec<u8>) {
        out.put_u32(self.max_option_space);
        out.put_u16(self.max_fields);
        out.put_zeros(10);
        put_maps(out, &self.maps);
    }

    pub fn format(&self, out: &mut String) {
        let allocated: u32 = self.maps.iter().map(|m| u32::from(m.option_len)).sum();
        out.push_str(&format!(
            "\n max option space={} max fields={}\n allocated option space={}\n\n",
            self.max_option_space, self.max_fields, allocated
        ));
        format_maps(out, &self.maps);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trips() {
        let maps = vec![TlvMap {
            option_class: 0xffff,
            option_type: 0,
            option_len: 4,
            index: 0,
        }];
        let m = TlvTableMod {
            command: 0,
            maps: maps.clone(),
        };
        let mut b = Vec::new();
        m.encode_body(&mut b);
        assert_eq!(TlvTableMod::decode(&b), Ok(m));
        let r = TlvTableReply {
            max_option_space: 256,
            max_fields: 64,
            maps,
        };
        let mut b = Vec::new();
        r.encode_body(&mut b);
        assert_eq!(TlvTableReply::decode(&b), Ok(r));
        assert_eq!(
            TlvTableMod::decode(&[0, 3, 0, 0, 0, 0, 0, 0]),
            Err(OfpErr::NXTTMFC_BAD_COMMAND)
        );
    }
}
