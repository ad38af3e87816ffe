//! Port mirroring (the Mirror table of ovs-vswitchd.conf.db): a bridge's
//! mirrors, each with an index among at most [`MAX_MIRRORS`], the ports
//! whose arriving (`srcs`) and departing (`dsts`) packets it selects, the
//! VLANs it selects, and where copies go — one output port (SPAN) or
//! every port carrying an output VLAN (RSPAN) — with an optional snap
//! length and its counters.
//!
//! The vswitchd sets and removes mirrors by a key of its own (the row's
//! UUID) with [`Mirrors::set`] and [`Mirrors::remove`]; a mirror keeps its
//! index and counters while it exists, a new one takes the lowest free
//! index (which decides the order mirrors are applied in). Translation
//! ([`crate::xlate`]) asks which mirrors a port selects
//! ([`Mirrors::src_mirrors`], [`Mirrors::dst_mirrors`]), whether a port
//! is reserved for mirror output ([`Mirrors::mirror_out`]) and a mirror's
//! details ([`Mirrors::get`]). Ports are named by their interface name.

use std::collections::BTreeSet;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

/// How many mirrors one bridge may have.
pub const MAX_MIRRORS: usize = 32;

/// A bit per mirror index.
pub type MirrorMask = u32;

/// Packets and bytes sent through one mirror.
#[derive(Debug, Default)]
pub struct MirrorCounters {
    packets: AtomicU64,
    bytes: AtomicU64,
}

impl MirrorCounters {
    /// Adds `packets` packets of `bytes` bytes in all.
    pub fn credit(&self, packets: u64, bytes: u64) {
        self.packets.fetch_add(packets, Relaxed);
        self.bytes.fetch_add(bytes, Relaxed);
    }

    /// `(tx_packets, tx_bytes)`.
    pub fn get(&self) -> (u64, u64) {
        (self.packets.load(Relaxed), self.bytes.load(Relaxed))
    }
}

/// What a mirror is asked to do (one Mirror row, resolved to this
/// bridge's ports).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct MirrorSettings {
    pub name: String,
    /// Ports whose arriving packets are selected.
    pub srcs: BTreeSet<String>,
    /// Ports whose departing packets are selected.
    pub dsts: BTreeSet<String>,
    /// Selected VLANs (`None`: all).
    pub vlans: Option<BTreeSet<u16>>,
    /// The output port (SPAN); when set, `out_vlan` is ignored.
    pub out: Option<String>,
    /// The output VLAN (RSPAN).
    pub out_vlan: Option<u16>,
    /// Copies are truncated to this many bytes (0: whole).
    pub snaplen: u32,
}

/// One configured mirror.
#[derive(Clone, Debug)]
pub struct Mirror {
    pub key: String,
    pub idx: usize,
    pub settings: MirrorSettings,
    /// This mirror and every other one sending to the same destination.
    pub dup_mirrors: MirrorMask,
    pub counters: Arc<MirrorCounters>,
}

impl Mirror {
    /// Whether this mirror selects VLAN `vid`.
    pub fn selects_vlan(&self, vid: u16) -> bool {
        self.settings
            .vlans
            .as_ref()
            .is_none_or(|v| v.contains(&vid))
    }
}

/// Why a mirror could not be set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum MirrorError {
    /// Every index is taken (the message upstream logs).
    TooMany(String),
}

impl std::fmt::Display for MirrorError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            MirrorError::TooMany(name) => write!(
                f,
                "maximum of {MAX_MIRRORS} port mirrors reached, cannot create {name}"
            ),
        }
    }
}

/// A bridge's mirrors.
#[derive(Clone, Debug, Default)]
pub struct Mirrors {
    slots: Vec<Mirror>,
}

impl Mirrors {
    /// No mirrors at all.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }

    /// The mirror at index `idx`.
    pub fn get(&self, idx: usize) -> Option<&Mirror> {
        self.slots.iter().find(|m| m.idx == idx)
    }

    /// The mirror set under `key`.
    pub fn by_key(&self, key: &str) -> Option<&Mirror> {
        self.slots.iter().find(|m| m.key == key)
    }

    /// Every mirror, by index.
    pub fn iter(&self) -> impl Iterator<Item = &Mirror> {
        self.slots.iter()
    }

    fn mask(&self, f: impl Fn(&Mirror) -> bool) -> MirrorMask {
        self.slots
            .iter()
            .filter(|m| f(m))
            .fold(0, |acc, m| acc | 1 << m.idx)
    }

    /// The mirrors selecting packets that arrive on `port`.
    pub fn src_mirrors(&self, port: &str) -> MirrorMask {
        self.mask(|m| m.settings.srcs.contains(port))
    }

    /// The mirrors selecting packets that leave through `port`.
    pub fn dst_mirrors(&self, port: &str) -> MirrorMask {
        self.mask(|m| m.settings.dsts.contains(port))
    }

    /// The mirrors whose output port is `port` (nonzero: the port takes
    /// nothing but mirrored copies and what it receives is dropped).
    pub fn mirror_out(&self, port: &str) -> MirrorMask {
        self.mask(|m| m.settings.out.as_deref() == Some(port))
    }

    /// Sets (creates or changes) the mirror under `key`.
    pub fn set(&mut self, key: &str, settings: MirrorSettings) -> Result<(), MirrorError> {
        let mut settings = settings;
        if settings.out.is_some() {
            settings.out_vlan = None;
        }
        match self.slots.iter_mut().find(|m| m.key == key) {
            Some(m) => {
                if m.settings == settings {
                    return Ok(());
                }
                m.settings = settings;
            }
            None => {
                let Some(idx) = (0..MAX_MIRRORS).find(|i| self.get(*i).is_none()) else {
                    return Err(MirrorError::TooMany(settings.name));
                };
                self.slots.push(Mirror {
                    key: key.to_string(),
                    idx,
                    settings,
                    dup_mirrors: 0,
                    counters: Arc::default(),
                });
                self.slots.sort_by_key(|m| m.idx);
            }
        }
        self.update_dups();
        Ok(())
    }

    /// Removes the mirror under `key` (its index becomes free).
    pub fn remove(&mut self, key: &str) {
        let before = self.slots.len();
        self.slots.retain(|m| m.key != key);
        if self.slots.len() != before {
            self.update_dups();
        }
    }

    /// Mirrors with the same destination count as one: a packet is
    /// mirrored to a destination once.
    fn update_dups(&mut self) {
        let dests: Vec<(usize, Option<String>, Option<u16>)> = self
            .slots
            .iter()
            .map(|m| (m.idx, m.settings.out.clone(), m.settings.out_vlan))
            .collect();
        for m in &mut self.slots {
            m.dup_mirrors = dests
                .iter()
                .filter(|(_, out, vlan)| *out == m.settings.out && *vlan == m.settings.out_vlan)
                .fold(0, |acc, (i, _, _)| acc | 1 << i);
        }
    }

    /// What translation depends on (for the revalidator's fingerprint).
    pub fn fingerprint(&self) -> String {
        let mut s = String::new();
        for m in &self.slots {
            s.push_str(&format!("{}:{:?};", m.idx, m.settings));
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn span(name: &str, out: &str) -> MirrorSettings {
        MirrorSettings {
            name: name.into(),
            srcs: ["p1".to_string()].into(),
            dsts: ["p2".to_string()].into(),
            out: Some(out.into()),
            out_vlan: Some(5),
            ..MirrorSettings::default()
        }
    }

    #[test]
    fn indexes_are_reused_lowest_first_and_kept() {
        let mut m = Mirrors::default();
        m.set("a", span("a", "p3")).unwrap();
        m.set("b", span("b", "p4")).unwrap();
        m.set("c", span("c", "p5")).unwrap();
        m.remove("b");
        m.set("d", span("d", "p6")).unwrap();
        assert_eq!(m.by_key("d").unwrap().idx, 1);
        assert_eq!(m.by_key("c").unwrap().idx, 2);
        // An output port wins over an output VLAN.
        assert_eq!(m.by_key("a").unwrap().settings.out_vlan, None);
        assert_eq!(m.src_mirrors("p1"), 0b111);
        assert_eq!(m.dst_mirrors("p2"), 0b111);
        assert_eq!(m.mirror_out("p6"), 0b010);
        assert_eq!(m.mirror_out("p1"), 0);
    }

    #[test]
    fn same_destination_mirrors_are_duplicates() {
        let mut m = Mirrors::default();
        m.set("a", span("a", "p3")).unwrap();
        m.set("b", span("b", "p4")).unwrap();
        m.set("c", span("c", "p3")).unwrap();
        assert_eq!(m.get(0).unwrap().dup_mirrors, 0b101);
        assert_eq!(m.get(1).unwrap().dup_mirrors, 0b010);
        m.remove("a");
        assert_eq!(m.get(2).unwrap().dup_mirrors, 0b100);
    }

    #[test]
    fn at_most_32_mirrors() {
        let mut m = Mirrors::default();
        for i in 0..MAX_MIRRORS {
            m.set(&i.to_string(), span(&format!("m{i}"), "p3")).unwrap();
        }
        let err = m.set("x", span("m32", "p3")).unwrap_err();
        assert_eq!(
            err.to_string(),
            "maximum of 32 port mirrors reached, cannot create m32"
        );
        // Changing an existing one still works.
        m.set("0", span("m0", "p4")).unwrap();
        assert_eq!(m.by_key("0").unwrap().settings.out.as_deref(), Some("p4"));
    }

    #[test]
    fn counters_survive_changes() {
        let mut m = Mirrors::default();
        m.set("a", span("a", "p3")).unwrap();
        m.by_key("a").unwrap().counters.credit(2, 120);
        m.set("a", span("a", "p4")).unwrap();
        assert_eq!(m.by_key("a").unwrap().counters.get(), (2, 120));
        assert!(m.get(0).unwrap().selects_vlan(7));
    }
}
