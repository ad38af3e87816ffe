//! What the daemon writes back into the database: `cur_cfg` once a
//! configuration is applied, the system facts of the Open_vSwitch row,
//! each bridge's datapath ID and version, and each interface's OpenFlow
//! port (or error) and device facts, and (with the periodic counters) each
//! Mirror's `statistics` (empty for a mirror that could not be set up).
//! Computed as column writes; the
//! database client sends only those that differ from the replica.

use crate::bridge::format_mac;
use crate::config::datum;
use crate::config::{DbView, OvsConfig};
use crate::switch::Switch;
use ovsdb::{Atom, Datum, Uuid};

/// One column to write.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ColumnWrite {
    pub table: &'static str,
    pub uuid: Uuid,
    pub column: &'static str,
    pub value: Datum,
}

fn w(table: &'static str, uuid: Uuid, column: &'static str, value: Datum) -> ColumnWrite {
    ColumnWrite {
        table,
        uuid,
        column,
        value,
    }
}

fn imap(pairs: &[(String, u64)]) -> Datum {
    let mut v: Vec<(Atom, Atom)> = pairs
        .iter()
        .filter(|(_, n)| *n != u64::MAX)
        .map(|(k, n)| (Atom::String(k.clone()), Atom::Integer(*n as i64)))
        .collect();
    v.sort_by(|a, b| a.0.cmp(&b.0));
    let (keys, values): (Vec<_>, Vec<_>) = v.into_iter().unzip();
    Datum {
        keys,
        values: Some(values),
    }
}

/// The datapath version string of a datapath type (the userspace
/// datapath reports `<built-in>`).
pub fn datapath_version(_datapath_type: &str) -> &'static str {
    "<built-in>"
}

/// What to write after a reconfiguration of `sw` from `cfg`.
/// `with_stats` includes interface counters (periodic refresh); without
/// it counters are written only where the column is still empty.
pub fn status_writes(
    sw: &Switch,
    cfg: &OvsConfig,
    db: &dyn DbView,
    with_stats: bool,
) -> Vec<ColumnWrite> {
    let mut out = Vec::new();
    let Some(root) = cfg.root else {
        return out;
    };
    const O: &str = "Open_vSwitch";
    out.push(w(O, root, "cur_cfg", datum::integer(cfg.next_cfg)));
    out.push(w(
        O,
        root,
        "datapath_types",
        datum::strings(&sw.opts.datapath_types()),
    ));
    out.push(w(
        O,
        root,
        "iface_types",
        datum::strings(&sw.opts.iface_types()),
    ));
    out.push(w(O, root, "dpdk_initialized", datum::boolean(false)));
    out.push(w(O, root, "dpdk_version", datum::strings(&["none"])));
    for br in sw.bridges.values() {
        const B: &str = "Bridge";
        out.push(w(
            B,
            br.uuid,
            "datapath_id",
            datum::strings(&[format!("{:016x}", br.dpid)]),
        ));
        out.push(w(
            B,
            br.uuid,
            "datapath_version",
            datum::string(datapath_version(&br.datapath_type)),
        ));
        for iface in br.ifaces.values() {
            if !iface.cfg.in_db {
                continue;
            }
            const I: &str = "Interface";
            let u = iface.uuid;
            out.push(w(
                I,
                u,
                "ofport",
                Datum::from_atom(Atom::Integer(iface.ofp_port as i64)),
            ));
            out.push(w(
                I,
                u,
                "error",
                match &iface.error {
                    Some(e) => datum::strings(&[e.as_str()]),
                    None => datum::empty(),
                },
            ));
            let Some(st) = br.device_status(&iface.name) else {
                continue;
            };
            let updown = |b: bool| datum::strings(&[if b { "up" } else { "down" }]);
            out.push(w(I, u, "admin_state", updown(st.admin_up)));
            out.push(w(I, u, "link_state", updown(st.link_up)));
            out.push(w(
                I,
                u,
                "mac_in_use",
                datum::strings(&[format_mac(&st.mac)]),
            ));
            if let Some(mtu) = st.mtu {
                out.push(w(I, u, "mtu", Datum::from_atom(Atom::Integer(mtu as i64))));
            }
            if let Some(ifindex) = st.ifindex {
                out.push(w(
                    I,
                    u,
                    "ifindex",
                    Datum::from_atom(Atom::Integer(ifindex as i64)),
                ));
            }
            if db.get(I, &u, "link_resets").is_none_or(|d| d.is_empty()) {
                out.push(w(I, u, "link_resets", Datum::from_atom(Atom::Integer(0))));
            }
            let stats_empty = db.get(I, &u, "statistics").is_none_or(|d| d.is_empty());
            if with_stats || stats_empty {
                out.push(w(I, u, "statistics", imap(&st.statistics)));
            }
            out.push(w(I, u, "status", datum::smap(&st.status)));
        }
        if let Some(cm) = &br.connmgr {
            for (uuid, st) in cm.controller_status() {
                const C: &str = "Controller";
                out.push(w(C, uuid, "is_connected", datum::boolean(st.is_connected)));
                let role: Vec<&str> = st.role.into_iter().collect();
                out.push(w(C, uuid, "role", datum::strings(&role)));
                let pairs = st.pairs(crate::clock::global().now_ms());
                let status: Vec<(&str, &str)> = pairs
                    .iter()
                    .map(|(k, v)| (k.as_str(), v.as_str()))
                    .collect();
                out.push(w(C, uuid, "status", datum::smap(&status)));
            }
        }
        if with_stats {
            let cfg_br = cfg.bridges.get(&br.name);
            for m in cfg_br.map(|b| b.mirrors.as_slice()).unwrap_or(&[]) {
                let key = m.uuid.to_string();
                let counters = br
                    .shared
                    .with_ofproto_quiet(|o| o.mirrors.by_key(&key).map(|m| m.counters.get()));
                let value = match counters {
                    Some((packets, bytes)) => imap(&[
                        ("tx_packets".to_string(), packets),
                        ("tx_bytes".to_string(), bytes),
                    ]),
                    None => Datum::empty(true),
                };
                out.push(w("Mirror", m.uuid, "statistics", value));
            }
        }
        for (uuid, error) in br.failed.values() {
            if uuid.is_zero() {
                continue;
            }
            out.push(w(
                "Interface",
                *uuid,
                "ofport",
                Datum::from_atom(Atom::Integer(-1)),
            ));
            out.push(w(
                "Interface",
                *uuid,
                "error",
                datum::strings(&[error.as_str()]),
            ));
            // What an earlier device reported goes (upstream's
            // iface_clear_db_record).
            for column in [
                "admin_state",
                "duplex",
                "link_speed",
                "link_state",
                "mac_in_use",
                "mtu",
                "ifindex",
            ] {
                out.push(w("Interface", *uuid, column, datum::empty()));
            }
            for column in ["status", "statistics"] {
                out.push(w("Interface", *uuid, column, Datum::empty(true)));
            }
        }
    }
    out
}

/// The writes of `writes` whose value differs from what `db` holds (and
/// whose row still exists).
pub fn changed(writes: Vec<ColumnWrite>, db: &dyn DbView) -> Vec<ColumnWrite> {
    writes
        .into_iter()
        .filter(|c| match db.get(c.table, &c.uuid, c.column) {
            Some(cur) => *cur != c.value,
            None => false,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bridge::{DatapathOptions, DummyMode};
    use crate::config::datum::*;
    use crate::config::MemDb;

    fn u(n: u8) -> Uuid {
        let mut b = [0u8; 16];
        b[0] = n;
        Uuid(b)
    }

    fn db() -> MemDb {
        let mut db = MemDb::default();
        db.set("Open_vSwitch", u(1), "bridges", uuids(&[u(2)]));
        db.set("Open_vSwitch", u(1), "next_cfg", integer(3));
        db.set("Open_vSwitch", u(1), "cur_cfg", integer(0));
        for c in ["datapath_types", "iface_types", "dpdk_version"] {
            db.set("Open_vSwitch", u(1), c, empty());
        }
        db.set("Open_vSwitch", u(1), "dpdk_initialized", boolean(false));
        db.set("Bridge", u(2), "name", string("br0"));
        db.set("Bridge", u(2), "datapath_type", string("dummy"));
        db.set("Bridge", u(2), "ports", uuids(&[u(3), u(5)]));
        db.set("Bridge", u(2), "datapath_id", empty());
        db.set("Bridge", u(2), "datapath_version", string(""));
        db.set("Port", u(3), "name", string("br0"));
        db.set("Port", u(3), "interfaces", uuids(&[u(4)]));
        db.set("Port", u(5), "name", string("p1"));
        db.set("Port", u(5), "interfaces", uuids(&[u(6)]));
        for (i, name, t) in [(4, "br0", "internal"), (6, "p1", "dummy")] {
            db.set("Interface", u(i), "name", string(name));
            db.set("Interface", u(i), "type", string(t));
            for c in [
                "ofport",
                "error",
                "admin_state",
                "link_state",
                "mac_in_use",
                "mtu",
                "ifindex",
                "link_resets",
            ] {
                db.set("Interface", u(i), c, empty());
            }
            for c in ["statistics", "status"] {
                db.set("Interface", u(i), c, smap::<&str, &str>(&[]));
            }
        }
        db
    }

    #[test]
    fn writes_cur_cfg_ofports_and_device_facts() {
        let mut db = db();
        let mut sw = Switch::new(DatapathOptions {
            dummy: DummyMode::On,
            disable_system: true,
        });
        let cfg = OvsConfig::read(&db);
        sw.reconfigure(&cfg, 0);
        let writes = changed(status_writes(&sw, &cfg, &db, false), &db);
        let find = |t: &str, uuid: Uuid, c: &str| {
            writes
                .iter()
                .find(|x| x.table == t && x.uuid == uuid && x.column == c)
                .map(|x| x.value.clone())
        };
        assert_eq!(find("Open_vSwitch", u(1), "cur_cfg"), Some(integer(3)));
        assert_eq!(
            find("Open_vSwitch", u(1), "datapath_types"),
            Some(strings(&["dummy", "netdev"]))
        );
        assert_eq!(find("Interface", u(4), "ofport"), Some(integer(65534)));
        assert_eq!(find("Interface", u(6), "ofport"), Some(integer(1)));
        assert_eq!(
            find("Interface", u(6), "link_state"),
            Some(strings(&["up"]))
        );
        assert_eq!(find("Interface", u(6), "mtu"), Some(integer(1500)));
        assert_eq!(
            find("Bridge", u(2), "datapath_version"),
            Some(string("<built-in>"))
        );
        // Once written, nothing is left to write.
        for c in &writes {
            db.set(c.table, c.uuid, c.column, c.value.clone());
        }
        let cfg = OvsConfig::read(&db);
        sw.reconfigure(&cfg, 1);
        assert_eq!(changed(status_writes(&sw, &cfg, &db, false), &db), vec![]);
    }
}
