//! Table descriptions (`OFPST_TABLE_DESC`, OpenFlow 1.4+) and table status
//! notifications (`OFPT_TABLE_STATUS`): eviction and vacancy settings.

use crate::errors::OfpErr;
use crate::wire::{pad8, Put, Reader};

const BAD: OfpErr = OfpErr::OFPBRC_BAD_LEN;

/// Vacancy thresholds (percent) and current vacancy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Vacancy {
    pub down: u8,
    pub up: u8,
    pub vacancy: u8,
}

/// One table's description.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableDesc {
    pub table_id: u8,
    pub eviction: bool,
    /// `None` when the switch uses its default.
    pub eviction_flags: Option<u32>,
    pub vacancy_events: bool,
    pub vacancy: Option<Vacancy>,
}

impl TableDesc {
    pub fn decode(r: &mut Reader<'_>) -> Result<TableDesc, OfpErr> {
        let mut head = *r;
        let len = usize::from(head.u16().ok_or(BAD)?);
        if len < 8 || len > r.remaining() {
            return Err(BAD);
        }
        let mut e = Reader::new(r.bytes(len).ok_or(BAD)?);
        e.skip(2).ok_or(BAD)?;
        let table_id = e.u8().ok_or(BAD)?;
        e.skip(1).ok_or(BAD)?;
        let config = e.u32().ok_or(BAD)?;
        let mut td = TableDesc {
            table_id,
            eviction: config & 4 != 0,
            eviction_flags: None,
            vacancy_events: config & 8 != 0,
            vacancy: None,
        };
        while !e.is_empty() {
            let (ptype, p) = super::props::pull_property(&mut e)?;
            let mut v = Reader::new(p);
            let blen = OfpErr::OFPBPC_BAD_LEN;
            match ptype {
                2 => td.eviction_flags = Some(v.u32().ok_or(blen)?),
                3 => {
                    td.vacancy = Some(Vacancy {
                        down: v.u8().ok_or(blen)?,
                        up: v.u8().ok_or(blen)?,
                        vacancy: v.u8().ok_or(blen)?,
                    })
                }
                _ => {}
            }
        }
        Ok(td)
    }

    pub fn encode(&self, out: &mut Vec<u8>) {
        let mut props = Vec::new();
        if let Some(f) = self.eviction_flags {
            super::props::put_property(&mut props, 2, &f.to_be_bytes());
        }
        if let Some(v) = &self.vacancy {
            super::props::put_property(&mut props, 3, &[v.down, v.up, v.vacancy, 0]);
        }
        out.put_u16(pad8(8 + props.len()) as u16);
        out.put_u8(self.table_id);
        out.put_zeros(1);
        out.put_u32(u32::from(self.eviction) << 2 | u32::from(self.vacancy_events) << 3);
        out.extend_from_slice(&props);
    }

    pub fn format(&self, out: &mut String) {
        out.push_str(&format!("  table {}:\n", self.table_id));
        out.push_str(&format!(
            "   eviction={} eviction_flags=",
            if self.eviction { "on" } else { "off" }
        ));
        match self.eviction_flags {
            None => out.push_str("(default)"),
            Some(f) => crate::bits::bit_names(
                out,
                f,
                |b| match b {
                    1 => Some("OTHER"),
                    2 => Some("IMPORTANCE"),
                    4 => Some("LIFETIME"),
                    _ => None,
                },
                '|',
            ),
        }
        out.push_str(&format!(
            "\n   vacancy={}",
            if self.vacancy_events { "on" } else { "off" }
        ));
        if self.vacancy_events {
            if let Some(v) = &self.vacancy {
                out.push_str(&format!(
                    " vacancy_down={}% vacancy_up={}% vacancy={}%",
                    v.down, v.up, v.vacancy
                ));
            }
        }
        out.push('\n');
    }
}

/// Decodes every description of a table-desc reply.
pub fn decode_all(body: &[u8]) -> Result<Vec<TableDesc>, OfpErr> {
    let mut r = Reader::new(body);
    let mut v = Vec::new();
    while !r.is_empty() {
        v.push(TableDesc::decode(&mut r)?);
    }
    Ok(v)
}

/// `OFPT_TABLE_STATUS`: reason and the table's description.
pub fn format_status(out: &mut String, body: &[u8]) -> Result<(), OfpErr> {
    let mut r = Reader::new(body);
    let reason = r.u8().ok_or(BAD)?;
    r.skip(7).ok_or(BAD)?;
    let td = TableDesc::decode(&mut r)?;
    let name = match reason {
        3 => "VACANCY_DOWN".to_string(),
        4 => "VACANCY_UP".to_string(),
        _ => return Err(OfpErr::OFPBPC_BAD_VALUE),
    };
    out.push_str(&format!(" reason={name}\ntable_desc:-\n"));
    td.format(out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip() {
        let td = TableDesc {
            table_id: 2,
            eviction: true,
            eviction_flags: Some(3),
            vacancy_events: true,
            vacancy: Some(Vacancy {
                down: 10,
                up: 20,
                vacancy: 1,
            }),
        };
        let mut b = Vec::new();
        td.encode(&mut b);
        assert_eq!(decode_all(&b), Ok(vec![td]));
    }
}
