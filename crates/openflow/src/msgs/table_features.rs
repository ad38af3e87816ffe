//! Table features (`OFPST_TABLE_FEATURES` reply, OpenFlow 1.3+): what each
//! table can match, which instructions and actions it supports, and the
//! compact field lists upstream prints for them.

use crate::bits::action_bitmap;
use crate::errors::OfpErr;
use crate::wire::{fixed_str, Reader};
use flow::{FieldId, MfHeader};

const BAD: OfpErr = OfpErr::OFPBRC_BAD_LEN;

/// Actions and Set-Field support of one instruction kind.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct ActionFeatures {
    /// Wire action bitmap: OpenFlow 1.2+ numbering, or OpenFlow 1.1's when
    /// `of11` is set (OpenFlow 1.1 table statistics).
    pub actions: u32,
    pub of11: bool,
    /// Fields settable with Set-Field, in registry order.
    pub set_fields: Vec<FieldId>,
}

/// Instruction support for table-miss or other flows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InstructionFeatures {
    pub next: Vec<bool>,
    /// Bit per wire instruction type.
    pub instructions: u32,
    pub write: ActionFeatures,
    pub apply: ActionFeatures,
}

impl Default for InstructionFeatures {
    fn default() -> Self {
        InstructionFeatures {
            next: vec![false; 256],
            instructions: 0,
            write: ActionFeatures::default(),
            apply: ActionFeatures::default(),
        }
    }
}

impl InstructionFeatures {
    fn is_empty(&self) -> bool {
        !self.next.iter().any(|&b| b)
            && self.instructions == 0
            && self.write == ActionFeatures::default()
            && self.apply == ActionFeatures::default()
    }
}

/// One table's features.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TableFeatures {
    pub table_id: u8,
    pub name: String,
    pub metadata_match: u64,
    pub metadata_write: u64,
    pub max_entries: u32,
    /// OpenFlow 1.1/1.2 table-miss behavior (`controller`, ...), if given.
    pub miss_config: Option<&'static str>,
    pub nonmiss: InstructionFeatures,
    pub miss: InstructionFeatures,
    /// Matchable fields with "maskable" flags, and the wildcardable ones.
    pub matching: Vec<(FieldId, bool)>,
    pub wildcards: Vec<FieldId>,
    /// OpenFlow 1.4+: whether the table supports eviction and vacancy
    /// events (`None` in earlier versions).
    pub supports_eviction: Option<bool>,
    pub supports_vacancy_events: Option<bool>,
}

fn pull_ids(p: &[u8]) -> Result<Vec<u16>, OfpErr> {
    let mut r = Reader::new(p);
    let mut v = Vec::new();
    while r.remaining() >= 4 {
        let t = r.u16().ok_or(BAD)?;
        let len = usize::from(r.u16().ok_or(BAD)?);
        if len < 4 {
            return Err(OfpErr::OFPBPC_BAD_LEN);
        }
        r.skip(len - 4).ok_or(OfpErr::OFPBPC_BAD_LEN)?;
        v.push(t);
    }
    Ok(v)
}

fn pull_oxms(p: &[u8]) -> Result<Vec<(FieldId, bool)>, OfpErr> {
    let mut r = Reader::new(p);
    let mut v: Vec<(FieldId, bool)> = Vec::new();
    while r.remaining() >= 4 {
        let (h, hlen) = MfHeader::pull(r.rest()).ok_or(OfpErr::OFPBPC_BAD_LEN)?;
        r.skip(hlen).ok_or(OfpErr::OFPBPC_BAD_LEN)?;
        if let Some(f) = FieldId::from_nxm_header(&h) {
            if !v.iter().any(|(x, _)| *x == f) {
                v.push((f, h.has_mask));
            }
        }
    }
    v.sort_by_key(|(f, _)| *f as usize);
    Ok(v)
}

impl TableFeatures {
    /// Decodes a table-features body of OpenFlow `version` (1.4 and later
    /// say whether tables support eviction and vacancy events).
    pub fn decode_all_version(version: u8, body: &[u8]) -> Result<Vec<TableFeatures>, OfpErr> {
        let mut all = Self::decode_all(body)?;
        if version >= 5 {
            let mut r = Reader::new(body);
            for t in &mut all {
                let mut head = r;
                let len = usize::from(head.u16().ok_or(BAD)?);
                let entry = r.bytes(len).ok_or(BAD)?;
                let config = Reader::new(entry.get(56..60).ok_or(BAD)?)
                    .u32()
                    .ok_or(BAD)?;
                t.supports_eviction = Some(config & 4 != 0);
                t.supports_vacancy_events = Some(config & 8 != 0);
            }
        }
        Ok(all)
    }

    /// Decodes a table-features body without version-specific features.
    pub fn decode_all(body: &[u8]) -> Result<Vec<TableFeatures>, OfpErr> {
        let mut r = Reader::new(body);
        let mut v = Vec::new();
        while !r.is_empty() {
            let mut head = r;
            let len = usize::from(head.u16().ok_or(BAD)?);
            if len < 64 || len > r.remaining() {
                return Err(BAD);
            }
            let mut e = Reader::new(r.bytes(len).ok_or(BAD)?);
            e.skip(2).ok_or(BAD)?;
            let table_id = e.u8().ok_or(BAD)?;
            e.skip(5).ok_or(BAD)?;
            let name = fixed_str(e.bytes(32).ok_or(BAD)?);
            let metadata_match = e.u64().ok_or(BAD)?;
            let metadata_write = e.u64().ok_or(BAD)?;
            e.skip(4).ok_or(BAD)?;
            let max_entries = e.u32().ok_or(BAD)?;
            let mut tf = TableFeatures {
                table_id,
                name,
                metadata_match,
                metadata_write,
                max_entries,
                miss_config: None,
                nonmiss: InstructionFeatures::default(),
                miss: InstructionFeatures::default(),
                matching: Vec::new(),
                wildcards: Vec::new(),
                supports_eviction: None,
                supports_vacancy_events: None,
            };
            while !e.is_empty() {
                let (ptype, p) = super::props::pull_property(&mut e)?;
                let tif = if ptype % 2 == 0 || ptype >= 8 {
                    &mut tf.nonmiss
                } else {
                    &mut tf.miss
                };
                match ptype {
                    0 | 1 => {
                        for t in pull_ids(p)? {
                            if t < 32 {
                                tif.instructions |= 1 << t;
                            }
                        }
                    }
                    2 | 3 => {
                        for &t in p {
                            tif.next[usize::from(t)] = true;
                        }
                    }
                    4..=7 => {
                        let af = if ptype < 6 {
                            &mut tif.write
                        } else {
                            &mut tif.apply
                        };
                        for t in pull_ids(p)? {
                            if t < 32 {
                                af.actions |= 1 << t;
                            }
                        }
                    }
                    8 => tf.matching = pull_oxms(p)?,
                    10 => tf.wildcards = pull_oxms(p)?.into_iter().map(|(f, _)| f).collect(),
                    12..=15 => {
                        let fields = pull_oxms(p)?.into_iter().map(|(f, _)| f).collect();
                        let tif = if ptype % 2 == 0 {
                            &mut tf.nonmiss
                        } else {
                            &mut tf.miss
                        };
                        if ptype < 14 {
                            tif.write.set_fields = fields;
                        } else {
                            tif.apply.set_fields = fields;
                        }
                    }
                    _ => {}
                }
            }
            v.push(tf);
        }
        Ok(v)
    }

    /// Appends this table's entry of a table-features message for wire
    /// `version` (the inverse of [`TableFeatures::decode_all`]: one
    /// property per kind of feature, in type order).
    pub fn encode(&self, version: u8, out: &mut Vec<u8>) {
        use crate::wire::Put;
        let start = out.len();
        out.put_u16(0);
        out.put_u8(self.table_id);
        out.put_zeros(5);
        out.put_str_fixed(&self.name, 32);
        out.put_u64(self.metadata_match);
        out.put_u64(self.metadata_write);
        let config = if self.supports_eviction == Some(true) {
            4
        } else {
            0
        } | if self.supports_vacancy_events == Some(true) {
            8
        } else {
            0
        };
        out.put_u32(config);
        out.put_u32(self.max_entries);
        let ids = |bits: u32| {
            let mut b = Vec::new();
            for t in (0..32u16).filter(|t| bits & (1 << t) != 0) {
                b.put_u16(t);
                b.put_u16(4);
            }
            b
        };
        let oxms = |fields: &mut dyn Iterator<Item = (FieldId, bool)>| {
            let mut b = Vec::new();
            for (f, maskable) in fields {
                if let Some(h) = f.oxm_header(version, maskable) {
                    h.put(&mut b);
                }
            }
            b
        };
        for (i, tif) in [&self.nonmiss, &self.miss].into_iter().enumerate() {
            let miss = i as u16;
            super::props::put_property(out, miss, &ids(tif.instructions));
            let next: Vec<u8> = (0..=255u8).filter(|&t| tif.next[usize::from(t)]).collect();
            super::props::put_property(out, 2 + miss, &next);
            super::props::put_property(out, 4 + miss, &ids(tif.write.actions));
            super::props::put_property(out, 6 + miss, &ids(tif.apply.actions));
        }
        super::props::put_property(out, 8, &oxms(&mut self.matching.iter().copied()));
        let wild = oxms(&mut self.wildcards.iter().map(|f| (*f, false)));
        super::props::put_property(out, 10, &wild);
        for (i, tif) in [&self.nonmiss, &self.miss].into_iter().enumerate() {
            let miss = i as u16;
            let w = oxms(&mut tif.write.set_fields.iter().map(|f| (*f, false)));
            super::props::put_property(out, 12 + miss, &w);
            let a = oxms(&mut tif.apply.set_fields.iter().map(|f| (*f, false)));
            super::props::put_property(out, 14 + miss, &a);
        }
        let len = (out.len() - start) as u16;
        out[start..start + 2].copy_from_slice(&len.to_be_bytes());
    }

    fn same_features(&self, o: &TableFeatures) -> bool {
        TableFeatures {
            table_id: 0,
            name: String::new(),
            ..self.clone()
        } == TableFeatures {
            table_id: 0,
            name: String::new(),
            ..o.clone()
        }
    }
}

/// Joins the printed tables (each `(table_id, named, text)` with text
/// starting with a newline), folding each run of unnamed tables printed as
/// " ditto" into one `table N: ditto` / `tables N...M: ditto` line, as
/// upstream prints them (named tables keep their own ditto lines).
pub fn fold_dittos(tables: impl IntoIterator<Item = (u8, bool, String)>) -> String {
    fn flush(out: &mut String, run: &mut Option<(u8, u8)>) {
        match run.take() {
            Some((a, b)) if a == b => out.push_str(&format!("\n  table {a}: ditto\n")),
            Some((a, b)) => out.push_str(&format!("\n  tables {a}...{b}: ditto\n")),
            None => {}
        }
    }
    let mut out = String::new();
    let mut run: Option<(u8, u8)> = None;
    for (id, named, text) in tables {
        if !named && text.ends_with(" ditto") {
            run = Some(run.map_or((id, id), |(a, _)| (a, id)));
        } else {
            flush(&mut out, &mut run);
            out.push_str(&text);
        }
    }
    flush(&mut out, &mut run);
    out
}

impl TableFeatures {
    /// Upstream's `ofp_print_table_features` without statistics.
    pub fn format(&self, out: &mut String, prev: Option<&TableFeatures>) {
        self.format_with_stats(out, prev, None, None);
    }

    fn is_empty(&self) -> bool {
        self.metadata_match == 0
            && self.metadata_write == 0
            && self.max_entries == 0
            && self.miss_config.is_none()
            && self.supports_eviction.is_none()
            && self.supports_vacancy_events.is_none()
            && self.nonmiss.is_empty()
            && self.miss.is_empty()
            && self.matching.is_empty()
    }

    /// Upstream's `ofp_print_table_features`, with statistics (active,
    /// lookup, matched) when the features come from a table-stats reply.
    pub fn format_with_stats(
        &self,
        out: &mut String,
        prev: Option<&TableFeatures>,
        stats: Option<(u32, u64, u64)>,
        prev_stats: Option<(u32, u64, u64)>,
    ) {
        out.push_str(&format!("\n  table {}", self.table_id));
        if !self.name.is_empty() {
            out.push_str(&format!(" (\"{}\")", self.name));
        }
        out.push(':');
        let same = prev.is_some_and(|p| self.same_features(p));
        let same_stats = prev_stats.is_some() && prev_stats == stats;
        if same && (stats.is_none() || same_stats) {
            out.push_str(" ditto");
            return;
        }
        out.push('\n');
        if let Some((active, lookup, matched)) = stats {
            out.push_str(&format!(
                "    active={active}, lookup={lookup}, matched={matched}\n"
            ));
        }
        if same {
            if !self.is_empty() {
                out.push_str("    (same features)\n");
            }
            return;
        }
        if self.metadata_match != 0 || self.metadata_write != 0 {
            out.push_str(&format!(
                "    metadata: match={:#x} write={:#x}\n",
                self.metadata_match, self.metadata_write
            ));
        }
        if let Some(c) = self.miss_config {
            out.push_str(&format!("    config={c}\n"));
        }
        let supported = |b: bool| if b { "supported" } else { "not supported" };
        if let Some(b) = self.supports_eviction {
            out.push_str(&format!("    eviction: {}\n", supported(b)));
        }
        if let Some(b) = self.supports_vacancy_events {
            out.push_str(&format!("    vacancy events: {}\n", supported(b)));
        }
        if self.max_entries != 0 {
            out.push_str(&format!("    max_entries={}\n", self.max_entries));
        }
        let (pn, pm) = (prev.map(|p| &p.nonmiss), prev.map(|p| &p.miss));
        if prev.is_some() && pn == Some(&self.nonmiss) && pm == Some(&self.miss) {
            if !self.nonmiss.is_empty() {
                out.push_str("    (same instructions)\n");
            }
        } else if self.nonmiss != self.miss {
            out.push_str("    instructions (other than table miss):\n");
            format_instructions(out, &self.nonmiss, pn);
            out.push_str("    instructions (table miss):\n");
            format_instructions(out, &self.miss, pm);
        } else if !self.nonmiss.is_empty() {
            out.push_str("    instructions (table miss and others):\n");
            format_instructions(out, &self.nonmiss, pn);
        }
        if !self.matching.is_empty() {
            if prev.is_some_and(|p| p.matching == self.matching) {
                out.push_str("    (same matching)\n");
            } else {
                out.push_str("    matching:\n");
                let mut groups: [(&str, Vec<&str>); 3] = [
                    ("arbitrary mask", Vec::new()),
                    ("exact match or wildcard", Vec::new()),
                    ("must exact match", Vec::new()),
                ];
                for (f, maskable) in &self.matching {
                    let i = if *maskable {
                        0
                    } else if self.wildcards.contains(f) {
                        1
                    } else {
                        2
                    };
                    groups[i].1.push(f.name());
                }
                for (label, names) in &groups {
                    if !names.is_empty() {
                        out.push_str(&format!("      {label}: "));
                        format_field_list(out, names);
                        out.push('\n');
                    }
                }
            }
        }
    }
}

/// The standard OXM fields whose numbers are set in an OpenFlow 1.2
/// bitmap, in registry order.
fn oxm_bitmap_fields(bits: u64) -> Vec<FieldId> {
    let mut v: Vec<FieldId> = (0..64)
        .filter(|i| bits & (1u64 << i) != 0)
        .filter_map(|i| {
            let h = MfHeader {
                class: 0x8000,
                field: i as u8,
                has_mask: false,
                length: 0,
                experimenter: 0,
            };
            FieldId::from_nxm_header(&h)
        })
        .collect();
    v.sort_by_key(|f| *f as usize);
    v.dedup();
    v
}

/// A table's active, lookup and matched counters.
pub type TableCounters = (u32, u64, u64);

/// Decodes an OpenFlow 1.2 table-stats reply into features and counters.
pub fn decode_of12_table_stats(body: &[u8]) -> Result<Vec<(TableFeatures, TableCounters)>, OfpErr> {
    let mut r = Reader::new(body);
    let mut v = Vec::new();
    while !r.is_empty() {
        let mut e = Reader::new(r.bytes(128).ok_or(BAD)?);
        let table_id = e.u8().ok_or(BAD)?;
        e.skip(7).ok_or(BAD)?;
        let name = fixed_str(e.bytes(32).ok_or(BAD)?);
        let matchbits = e.u64().ok_or(BAD)?;
        let wildbits = e.u64().ok_or(BAD)?;
        let write_actions = e.u32().ok_or(BAD)?;
        let apply_actions = e.u32().ok_or(BAD)?;
        let write_setfields = e.u64().ok_or(BAD)?;
        let apply_setfields = e.u64().ok_or(BAD)?;
        let metadata_match = e.u64().ok_or(BAD)?;
        let metadata_write = e.u64().ok_or(BAD)?;
        let instructions = e.u32().ok_or(BAD)?;
        let config = e.u32().ok_or(BAD)?;
        let max_entries = e.u32().ok_or(BAD)?;
        let active = e.u32().ok_or(BAD)?;
        let lookup = e.u64().ok_or(BAD)?;
        let matched = e.u64().ok_or(BAD)?;
        let mut tif = InstructionFeatures {
            instructions: instructions & 0x7e,
            ..InstructionFeatures::default()
        };
        tif.write = ActionFeatures {
            actions: write_actions,
            of11: false,
            set_fields: oxm_bitmap_fields(write_setfields),
        };
        tif.apply = ActionFeatures {
            actions: apply_actions,
            of11: false,
            set_fields: oxm_bitmap_fields(apply_setfields),
        };
        let tf = TableFeatures {
            table_id,
            name,
            metadata_match,
            metadata_write,
            max_entries,
            miss_config: Some(miss_config_name(config)),
            miss: tif.clone(),
            nonmiss: tif,
            matching: oxm_bitmap_fields(matchbits)
                .into_iter()
                .map(|f| (f, false))
                .collect(),
            wildcards: oxm_bitmap_fields(wildbits),
            supports_eviction: None,
            supports_vacancy_events: None,
        };
        v.push((tf, (active, lookup, matched)));
    }
    Ok(v)
}

/// OpenFlow 1.1/1.2 table-miss configuration (upstream warns about the
/// undefined value and reads it as "controller").
fn miss_config_name(config: u32) -> &'static str {
    match config & 3 {
        0 => "controller",
        1 => "continue",
        2 => "drop",
        _ => {
            vlog::warn!("ofp_table", "bad table miss config {}", config);
            "controller"
        }
    }
}

fn miss_config_bits(name: Option<&str>) -> u32 {
    match name {
        Some("continue") => 1,
        Some("drop") => 2,
        _ => 0,
    }
}

/// The OpenFlow 1.2 OXM bitmap of standard fields (the inverse of
/// `oxm_bitmap_fields`).
fn oxm_bitmap(fields: impl IntoIterator<Item = FieldId>) -> u64 {
    let mut bits = 0u64;
    for f in fields {
        if let Some(h) = f.oxm_header(3, false) {
            if h.class == 0x8000 && h.field < 64 {
                bits |= 1 << h.field;
            }
        }
    }
    bits
}

/// Encodes an OpenFlow 1.2 table-stats reply body (the inverse of
/// [`decode_of12_table_stats`]).
pub fn encode_of12_table_stats(tables: &[(TableFeatures, TableCounters)], out: &mut Vec<u8>) {
    use crate::wire::Put;
    for (t, (active, lookup, matched)) in tables {
        out.put_u8(t.table_id);
        out.put_zeros(7);
        out.put_str_fixed(&t.name, 32);
        out.put_u64(oxm_bitmap(t.matching.iter().map(|(f, _)| *f)));
        out.put_u64(oxm_bitmap(t.wildcards.iter().copied()));
        out.put_u32(t.nonmiss.write.actions);
        out.put_u32(t.nonmiss.apply.actions);
        out.put_u64(oxm_bitmap(t.nonmiss.write.set_fields.iter().copied()));
        out.put_u64(oxm_bitmap(t.nonmiss.apply.set_fields.iter().copied()));
        out.put_u64(t.metadata_match);
        out.put_u64(t.metadata_write);
        out.put_u32(t.nonmiss.instructions);
        out.put_u32(miss_config_bits(t.miss_config));
        out.put_u32(t.max_entries);
        out.put_u32(*active);
        out.put_u64(*lookup);
        out.put_u64(*matched);
    }
}

/// OpenFlow 1.1 match wildcard bits and the fields they stand for.
const OF11_FIELDS: [(u32, &str); 10] = [
    (1 << 0, "in_port"),
    (1 << 1, "vlan_vid"),
    (1 << 2, "vlan_pcp"),
    (1 << 3, "eth_type"),
    (1 << 4, "nw_tos"),
    (1 << 5, "nw_proto"),
    (1 << 6, "tcp_src"),
    (1 << 7, "tcp_dst"),
    (1 << 8, "mpls_label"),
    (1 << 9, "mpls_tc"),
];

fn of11_fields(bits: u32) -> Vec<FieldId> {
    let mut v: Vec<FieldId> = OF11_FIELDS
        .iter()
        .filter(|(b, _)| bits & b != 0)
        .filter_map(|(_, n)| FieldId::from_name(n))
        .collect();
    v.sort_by_key(|f| *f as usize);
    v
}

fn of11_bits(fields: impl IntoIterator<Item = FieldId>) -> u32 {
    let mut bits = 0;
    for f in fields {
        if let Some((b, _)) = OF11_FIELDS
            .iter()
            .find(|(_, n)| FieldId::from_name(n) == Some(f))
        {
            bits |= b;
        }
    }
    bits
}

/// Decodes an OpenFlow 1.1 table-stats reply into features and counters.
/// As upstream does, the apply-actions features repeat the write-actions
/// ones, and every wildcardable field is also matchable.
pub fn decode_of11_table_stats(body: &[u8]) -> Result<Vec<(TableFeatures, TableCounters)>, OfpErr> {
    let mut r = Reader::new(body);
    let mut v = Vec::new();
    while !r.is_empty() {
        let mut e = Reader::new(r.bytes(88).ok_or(BAD)?);
        let table_id = e.u8().ok_or(BAD)?;
        e.skip(7).ok_or(BAD)?;
        let name = fixed_str(e.bytes(32).ok_or(BAD)?);
        let wildbits = e.u32().ok_or(BAD)?;
        let matchbits = e.u32().ok_or(BAD)?;
        let instructions = e.u32().ok_or(BAD)?;
        let write_actions = e.u32().ok_or(BAD)?;
        let _apply_actions = e.u32().ok_or(BAD)?;
        let config = e.u32().ok_or(BAD)?;
        let max_entries = e.u32().ok_or(BAD)?;
        let active = e.u32().ok_or(BAD)?;
        let lookup = e.u64().ok_or(BAD)?;
        let matched = e.u64().ok_or(BAD)?;
        let actions = ActionFeatures {
            actions: write_actions & 0x1ff_ffff,
            of11: true,
            set_fields: Vec::new(),
        };
        let tif = InstructionFeatures {
            instructions: instructions & 0x3e,
            write: actions.clone(),
            apply: actions,
            ..InstructionFeatures::default()
        };
        let wildcards = of11_fields(wildbits);
        let tf = TableFeatures {
            table_id,
            name,
            metadata_match: 0,
            metadata_write: 0,
            max_entries,
            miss_config: Some(miss_config_name(config)),
            miss: tif.clone(),
            nonmiss: tif,
            matching: of11_fields(matchbits | wildbits)
                .into_iter()
                .map(|f| (f, false))
                .collect(),
            wildcards,
            supports_eviction: None,
            supports_vacancy_events: None,
        };
        v.push((tf, (active, lookup, matched)));
    }
    Ok(v)
}

/// Encodes an OpenFlow 1.1 table-stats reply body (the inverse of
/// [`decode_of11_table_stats`]).
pub fn encode_of11_table_stats(tables: &[(TableFeatures, TableCounters)], out: &mut Vec<u8>) {
    use crate::wire::Put;
    for (t, (active, lookup, matched)) in tables {
        out.put_u8(t.table_id);
        out.put_zeros(7);
        out.put_str_fixed(&t.name, 32);
        out.put_u32(of11_bits(t.wildcards.iter().copied()));
        out.put_u32(of11_bits(t.matching.iter().map(|(f, _)| *f)));
        out.put_u32(t.nonmiss.instructions);
        out.put_u32(t.nonmiss.write.actions);
        out.put_u32(t.nonmiss.apply.actions);
        out.put_u32(miss_config_bits(t.miss_config));
        out.put_u32(t.max_entries);
        out.put_u32(*active);
        out.put_u64(*lookup);
        out.put_u64(*matched);
    }
}

const INSTRUCTION_ORDER: [(u32, &str); 6] = [
    (6, "meter"),
    (4, "apply_actions"),
    (5, "clear_actions"),
    (3, "write_actions"),
    (2, "write_metadata"),
    (1, "goto_table"),
];

fn format_instructions(
    out: &mut String,
    t: &InstructionFeatures,
    prev: Option<&InstructionFeatures>,
) {
    let mut ranges = Vec::new();
    let mut i = 0;
    while i < 255 {
        if t.next[i] {
            let start = i;
            while i < 255 && t.next[i] {
                i += 1;
            }
            ranges.push(if i == start + 1 {
                start.to_string()
            } else {
                format!("{}-{}", start, i - 1)
            });
        } else {
            i += 1;
        }
    }
    if !ranges.is_empty() {
        out.push_str(&format!("      next tables: {}\n", ranges.join(",")));
    }
    let names: Vec<&str> = INSTRUCTION_ORDER
        .iter()
        .filter(|(b, _)| t.instructions & (1 << b) != 0)
        .map(|(_, n)| *n)
        .collect();
    if !names.is_empty() {
        out.push_str(&format!("      instructions: {}\n", names.join(" ")));
    }
    if prev.is_some_and(|p| p.write == t.write && p.apply == t.apply)
        && !t.write.set_fields.is_empty()
    {
        out.push_str("      (same actions)\n");
    } else if t.write != t.apply {
        out.push_str("      Write-Actions features:\n");
        format_actions(out, &t.write);
        out.push_str("      Apply-Actions features:\n");
        format_actions(out, &t.apply);
    } else if t.write.actions != 0 || !t.write.set_fields.is_empty() {
        out.push_str("      Write-Actions and Apply-Actions features:\n");
        format_actions(out, &t.write);
    }
}

fn format_actions(out: &mut String, a: &ActionFeatures) {
    if a.actions != 0 {
        out.push_str("        actions: ");
        action_bitmap(out, if a.of11 { 2 } else { 4 }, a.actions);
        out.push('\n');
    }
    if !a.set_fields.is_empty() {
        out.push_str("        supported on Set-Field: ");
        let names: Vec<&str> = a.set_fields.iter().map(|f| f.name()).collect();
        format_field_list(out, &names);
        out.push('\n');
    }
}

/// Splits `reg12` into (`reg`, 12).
fn numbered(name: &str) -> Option<(&str, u32)> {
    let digits = name.len() - name.trim_end_matches(|c: char| c.is_ascii_digit()).len();
    if digits == 0 || digits == name.len() || name.contains('_') {
        return None;
    }
    let (p, n) = name.split_at(name.len() - digits);
    Some((p, n.parse().ok()?))
}

/// Upstream's compact field lists: `eth_{src,dst,type}` for runs sharing a
/// prefix, `reg0...reg7` for numbered runs.
pub fn format_field_list(out: &mut String, names: &[&str]) {
    let mut parts: Vec<String> = Vec::new();
    let mut i = 0;
    while i < names.len() {
        if let Some((p, n)) = numbered(names[i]) {
            let mut j = i + 1;
            while j < names.len() && numbered(names[j]) == Some((p, n + (j - i) as u32)) {
                j += 1;
            }
            if j - i > 1 {
                parts.push(format!("{}...{}", names[i], names[j - 1]));
                i = j;
                continue;
            }
        }
        let prefix = names[i].split_once('_').map(|(p, _)| p);
        let mut j = i + 1;
        if let Some(p) = prefix {
            while j < names.len() && names[j].split_once('_').map(|(q, _)| q) == Some(p) {
                j += 1;
            }
        }
        if j - i > 1 {
            let p = prefix.unwrap_or("");
            let suffixes: Vec<&str> = names[i..j].iter().map(|n| &n[p.len() + 1..]).collect();
            parts.push(format!("{p}_{{{}}}", suffixes.join(",")));
        } else {
            parts.push(names[i].to_string());
        }
        i = j;
    }
    out.push_str(&parts.join(" "));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn field_lists() {
        let mut s = String::new();
        format_field_list(
            &mut s,
            &[
                "tun_id", "tun_src", "metadata", "reg0", "reg1", "reg2", "nw_tos", "ip_dscp",
                "nw_ecn", "nw_ttl",
            ],
        );
        assert_eq!(
            s,
            "tun_{id,src} metadata reg0...reg2 nw_tos ip_dscp nw_{ecn,ttl}"
        );
    }
}
