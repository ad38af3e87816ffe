//! The wanted configuration: what the Open_vSwitch database asks for,
//! read out of a database view into plain values (bridges → ports →
//! interfaces, controllers) so that reconciliation never touches OVSDB
//! types. Reading applies upstream's validity rules: duplicate bridge,
//! port and interface names are dropped with upstream's warnings, a
//! bridge without a port named after it gets a synthesized internal one.
//!
//! Any database view works ([`DbView`]): the IDL replica in the daemon, a
//! table of rows in unit tests.

use ovsdb::{Atom, Datum, Uuid};
use std::collections::{BTreeMap, BTreeSet};

/// Read access to the monitored rows.
pub trait DbView {
    /// The UUIDs of `table`'s rows.
    fn rows(&self, table: &str) -> Vec<Uuid>;
    /// A column of a row (`None` when the row or column is absent).
    fn get(&self, table: &str, uuid: &Uuid, column: &str) -> Option<&Datum>;
}

/// Typed column accessors over a [`DbView`].
pub struct Reader<'a> {
    db: &'a dyn DbView,
}

impl<'a> Reader<'a> {
    pub fn new(db: &'a dyn DbView) -> Reader<'a> {
        Reader { db }
    }

    fn datum(&self, table: &str, row: &Uuid, column: &str) -> Option<&'a Datum> {
        self.db.get(table, row, column)
    }

    /// A string column (first element of an optional string).
    pub fn string(&self, table: &str, row: &Uuid, column: &str) -> Option<String> {
        self.datum(table, row, column)?
            .keys
            .first()?
            .as_str()
            .map(str::to_string)
    }

    /// An integer column (first element of an optional integer).
    pub fn integer(&self, table: &str, row: &Uuid, column: &str) -> Option<i64> {
        self.datum(table, row, column)?.keys.first()?.as_integer()
    }

    /// A boolean column (false when empty).
    pub fn boolean(&self, table: &str, row: &Uuid, column: &str) -> bool {
        matches!(
            self.datum(table, row, column).and_then(|d| d.keys.first()),
            Some(Atom::Boolean(true))
        )
    }

    /// A set of UUIDs (references).
    pub fn uuids(&self, table: &str, row: &Uuid, column: &str) -> Vec<Uuid> {
        self.datum(table, row, column)
            .map(|d| d.keys.iter().filter_map(Atom::as_uuid).collect())
            .unwrap_or_default()
    }

    /// A set of integers.
    pub fn integers(&self, table: &str, row: &Uuid, column: &str) -> Vec<i64> {
        self.datum(table, row, column)
            .map(|d| d.keys.iter().filter_map(Atom::as_integer).collect())
            .unwrap_or_default()
    }

    /// A set of strings.
    pub fn strings(&self, table: &str, row: &Uuid, column: &str) -> Vec<String> {
        self.datum(table, row, column)
            .map(|d| {
                d.keys
                    .iter()
                    .filter_map(|a| a.as_str().map(str::to_string))
                    .collect()
            })
            .unwrap_or_default()
    }

    /// A string→string map.
    pub fn smap(&self, table: &str, row: &Uuid, column: &str) -> BTreeMap<String, String> {
        let mut m = BTreeMap::new();
        if let Some(d) = self.datum(table, row, column) {
            for (k, v) in d.iter() {
                if let (Some(k), Some(v)) = (k.as_str(), v.and_then(Atom::as_str)) {
                    m.insert(k.to_string(), v.to_string());
                }
            }
        }
        m
    }
}

/// How a bridge behaves without controllers (`fail_mode`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum FailMode {
    /// Act as a learning switch when no controller is reachable.
    #[default]
    Standalone,
    /// Never set up flows on its own.
    Secure,
}

/// One wanted interface (Interface row).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceConfig {
    pub uuid: Uuid,
    pub name: String,
    /// `type`, with the empty string read as `system`.
    pub type_: String,
    pub options: BTreeMap<String, String>,
    pub ofport_request: Option<i64>,
    /// The `ofport` the database holds now (what an earlier run assigned).
    pub ofport: Option<i64>,
    pub mtu_request: Option<i64>,
    pub mac: Option<String>,
    pub other_config: BTreeMap<String, String>,
    pub external_ids: BTreeMap<String, String>,
    /// False for the synthesized local interface (no database row).
    pub in_db: bool,
}

/// One wanted port (Port row).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PortConfig {
    pub uuid: Uuid,
    pub name: String,
    /// By name.
    pub interfaces: BTreeMap<String, InterfaceConfig>,
    pub tag: Option<i64>,
    pub trunks: Vec<i64>,
    pub vlan_mode: Option<String>,
    pub bond_mode: Option<String>,
    pub other_config: BTreeMap<String, String>,
    pub fake_bridge: bool,
    pub protected: bool,
    pub in_db: bool,
}

/// One wanted controller (Controller row).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ControllerConfig {
    pub uuid: Uuid,
    pub target: String,
    pub max_backoff: Option<i64>,
    pub inactivity_probe: Option<i64>,
    pub connection_mode: Option<String>,
    pub enable_async_messages: Option<bool>,
    pub controller_rate_limit: Option<i64>,
    pub controller_burst_limit: Option<i64>,
    pub controller_queue_size: Option<i64>,
    pub other_config: BTreeMap<String, String>,
}

/// One wanted port mirror (Mirror row); ports by name (the rows may be
/// on another bridge, or gone: weak references read as absent).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct MirrorConfig {
    pub uuid: Uuid,
    pub name: String,
    pub select_all: bool,
    pub select_src_port: Vec<String>,
    pub select_dst_port: Vec<String>,
    pub select_vlan: Vec<i64>,
    pub output_port: Option<String>,
    pub output_vlan: Option<i64>,
    pub snaplen: Option<i64>,
}

/// One wanted bridge (Bridge row).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BridgeConfig {
    pub uuid: Uuid,
    pub name: String,
    /// `datapath_type`, with the empty string read as `system`.
    pub datapath_type: String,
    pub fail_mode: FailMode,
    /// OpenFlow versions allowed (`protocols`; empty = OpenFlow10..14
    /// defaults as upstream).
    pub protocols: Vec<String>,
    pub other_config: BTreeMap<String, String>,
    pub external_ids: BTreeMap<String, String>,
    /// By name.
    pub ports: BTreeMap<String, PortConfig>,
    pub controllers: Vec<ControllerConfig>,
    /// The targets of the Open_vSwitch row's managers that in-band
    /// control counts as remotes (`manager_options` not out-of-band).
    pub in_band_managers: Vec<String>,
    pub mcast_snooping_enable: bool,
    pub stp_enable: bool,
    pub rstp_enable: bool,
    pub flood_vlans: Vec<i64>,
    /// The Bridge's `mirrors`, in the column's (UUID) order.
    pub mirrors: Vec<MirrorConfig>,
}

/// The whole wanted configuration (the Open_vSwitch row and below).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct OvsConfig {
    /// The Open_vSwitch row (`None` when the table is empty).
    pub root: Option<Uuid>,
    pub next_cfg: i64,
    pub cur_cfg: i64,
    pub other_config: BTreeMap<String, String>,
    pub external_ids: BTreeMap<String, String>,
    /// By name.
    pub bridges: BTreeMap<String, BridgeConfig>,
    /// Warnings produced while reading (logged by the caller once per
    /// change of configuration).
    pub warnings: Vec<String>,
}

impl OvsConfig {
    /// Reads the configuration from `db`.
    pub fn read(db: &dyn DbView) -> OvsConfig {
        let r = Reader::new(db);
        let mut cfg = OvsConfig::default();
        let mut roots = db.rows("Open_vSwitch");
        roots.sort();
        let Some(root) = roots.first().copied() else {
            return cfg;
        };
        cfg.root = Some(root);
        cfg.next_cfg = r.integer("Open_vSwitch", &root, "next_cfg").unwrap_or(0);
        cfg.cur_cfg = r.integer("Open_vSwitch", &root, "cur_cfg").unwrap_or(0);
        cfg.other_config = r.smap("Open_vSwitch", &root, "other_config");
        cfg.external_ids = r.smap("Open_vSwitch", &root, "external_ids");
        let mut seen_ifaces: BTreeSet<String> = BTreeSet::new();
        for br_uuid in r.uuids("Open_vSwitch", &root, "bridges") {
            let Some(name) = r.string("Bridge", &br_uuid, "name") else {
                continue;
            };
            if cfg.bridges.contains_key(&name) {
                cfg.warnings.push(format!("bridge {name} specified twice"));
                continue;
            }
            let mut br = read_bridge(&r, br_uuid, &name, &mut seen_ifaces, &mut cfg.warnings);
            br.in_band_managers = in_band_managers(&r, &root);
            cfg.bridges.insert(name, br);
        }
        cfg
    }
}

/// The managers' targets in-band control counts (upstream's
/// `collect_in_band_managers`): every `manager_options` target, less
/// those an out-of-band row names, in order, each once.
fn in_band_managers(r: &Reader<'_>, root: &Uuid) -> Vec<String> {
    let mut targets: Vec<String> = Vec::new();
    for m in r.uuids("Open_vSwitch", root, "manager_options") {
        let Some(target) = r.string("Manager", &m, "target") else {
            continue;
        };
        let mode = r.string("Manager", &m, "connection_mode");
        if mode.as_deref() == Some("out-of-band") {
            targets.retain(|t| *t != target);
        } else if !targets.contains(&target) {
            targets.push(target);
        }
    }
    targets
}

fn non_empty_or(s: Option<String>, default: &str) -> String {
    match s {
        Some(s) if !s.is_empty() => s,
        _ => default.to_string(),
    }
}

fn read_bridge(
    r: &Reader<'_>,
    uuid: Uuid,
    name: &str,
    seen_ifaces: &mut BTreeSet<String>,
    warnings: &mut Vec<String>,
) -> BridgeConfig {
    const T: &str = "Bridge";
    let fail_mode = match r.string(T, &uuid, "fail_mode").as_deref() {
        Some("secure") => FailMode::Secure,
        _ => FailMode::Standalone,
    };
    let mut ports = BTreeMap::new();
    for p_uuid in r.uuids(T, &uuid, "ports") {
        let Some(pname) = r.string("Port", &p_uuid, "name") else {
            continue;
        };
        if ports.contains_key(&pname) {
            warnings.push(format!(
                "bridge {name}: {pname} specified twice as bridge port"
            ));
            continue;
        }
        let port = read_port(r, p_uuid, name, &pname, seen_ifaces, warnings);
        if port.interfaces.is_empty() {
            warnings.push(format!(
                "bridge {name}: port {pname} has no interfaces, dropping"
            ));
            continue;
        }
        ports.insert(pname, port);
    }
    if !ports.contains_key(name) && !seen_ifaces.contains(name) {
        warnings.push(format!(
            "bridge {name}: no port named {name}, synthesizing one"
        ));
        seen_ifaces.insert(name.to_string());
        let iface = InterfaceConfig {
            uuid: Uuid::ZERO,
            name: name.to_string(),
            type_: "internal".to_string(),
            options: BTreeMap::new(),
            ofport_request: None,
            ofport: None,
            mtu_request: None,
            mac: None,
            other_config: BTreeMap::new(),
            external_ids: BTreeMap::new(),
            in_db: false,
        };
        ports.insert(
            name.to_string(),
            PortConfig {
                uuid: Uuid::ZERO,
                name: name.to_string(),
                interfaces: BTreeMap::from([(name.to_string(), iface)]),
                tag: None,
                trunks: Vec::new(),
                vlan_mode: None,
                bond_mode: None,
                other_config: BTreeMap::new(),
                fake_bridge: false,
                protected: false,
                in_db: false,
            },
        );
    }
    let controllers = r
        .uuids(T, &uuid, "controller")
        .into_iter()
        .filter_map(|c| read_controller(r, c))
        .collect();
    BridgeConfig {
        uuid,
        name: name.to_string(),
        datapath_type: non_empty_or(r.string(T, &uuid, "datapath_type"), "system"),
        fail_mode,
        protocols: r.strings(T, &uuid, "protocols"),
        other_config: r.smap(T, &uuid, "other_config"),
        external_ids: r.smap(T, &uuid, "external_ids"),
        ports,
        controllers,
        in_band_managers: Vec::new(),
        mcast_snooping_enable: r.boolean(T, &uuid, "mcast_snooping_enable"),
        stp_enable: r.boolean(T, &uuid, "stp_enable"),
        rstp_enable: r.boolean(T, &uuid, "rstp_enable"),
        flood_vlans: r.integers(T, &uuid, "flood_vlans"),
        mirrors: r
            .uuids(T, &uuid, "mirrors")
            .into_iter()
            .filter_map(|m| read_mirror(r, m))
            .collect(),
    }
}

fn read_mirror(r: &Reader<'_>, uuid: Uuid) -> Option<MirrorConfig> {
    const T: &str = "Mirror";
    let port_names = |column: &str| -> Vec<String> {
        r.uuids(T, &uuid, column)
            .iter()
            .filter_map(|p| r.string("Port", p, "name"))
            .collect()
    };
    Some(MirrorConfig {
        uuid,
        name: r.string(T, &uuid, "name")?,
        select_all: r.boolean(T, &uuid, "select_all"),
        select_src_port: port_names("select_src_port"),
        select_dst_port: port_names("select_dst_port"),
        select_vlan: r.integers(T, &uuid, "select_vlan"),
        output_port: port_names("output_port").into_iter().next(),
        output_vlan: r.integer(T, &uuid, "output_vlan"),
        snaplen: r.integer(T, &uuid, "snaplen"),
    })
}

fn read_port(
    r: &Reader<'_>,
    uuid: Uuid,
    br_name: &str,
    name: &str,
    seen_ifaces: &mut BTreeSet<String>,
    warnings: &mut Vec<String>,
) -> PortConfig {
    const T: &str = "Port";
    let mut interfaces = BTreeMap::new();
    for i_uuid in r.uuids(T, &uuid, "interfaces") {
        let Some(iname) = r.string("Interface", &i_uuid, "name") else {
            continue;
        };
        if !seen_ifaces.insert(iname.clone()) {
            warnings.push(format!(
                "bridge {br_name}: {iname} interface is on multiple ports"
            ));
            continue;
        }
        const I: &str = "Interface";
        interfaces.insert(
            iname.clone(),
            InterfaceConfig {
                uuid: i_uuid,
                name: iname,
                type_: non_empty_or(r.string(I, &i_uuid, "type"), "system"),
                options: r.smap(I, &i_uuid, "options"),
                ofport_request: r.integer(I, &i_uuid, "ofport_request"),
                ofport: r.integer(I, &i_uuid, "ofport"),
                mtu_request: r.integer(I, &i_uuid, "mtu_request"),
                mac: r.string(I, &i_uuid, "mac"),
                other_config: r.smap(I, &i_uuid, "other_config"),
                external_ids: r.smap(I, &i_uuid, "external_ids"),
                in_db: true,
            },
        );
    }
    PortConfig {
        uuid,
        name: name.to_string(),
        interfaces,
        tag: r.integer(T, &uuid, "tag"),
        trunks: r.integers(T, &uuid, "trunks"),
        vlan_mode: r.string(T, &uuid, "vlan_mode"),
        bond_mode: r.string(T, &uuid, "bond_mode"),
        other_config: r.smap(T, &uuid, "other_config"),
        fake_bridge: r.boolean(T, &uuid, "fake_bridge"),
        protected: r.boolean(T, &uuid, "protected"),
        in_db: true,
    }
}

fn read_controller(r: &Reader<'_>, uuid: Uuid) -> Option<ControllerConfig> {
    const T: &str = "Controller";
    let target = r.string(T, &uuid, "target")?;
    let enable_async_messages = r.datum_bool(T, &uuid, "enable_async_messages");
    Some(ControllerConfig {
        uuid,
        target,
        max_backoff: r.integer(T, &uuid, "max_backoff"),
        inactivity_probe: r.integer(T, &uuid, "inactivity_probe"),
        connection_mode: r.string(T, &uuid, "connection_mode"),
        enable_async_messages,
        controller_rate_limit: r.integer(T, &uuid, "controller_rate_limit"),
        controller_burst_limit: r.integer(T, &uuid, "controller_burst_limit"),
        controller_queue_size: r.integer(T, &uuid, "controller_queue_size"),
        other_config: r.smap(T, &uuid, "other_config"),
    })
}

impl Reader<'_> {
    /// An optional boolean column (`None` when empty).
    pub fn datum_bool(&self, table: &str, row: &Uuid, column: &str) -> Option<bool> {
        match self.datum(table, row, column)?.keys.first()? {
            Atom::Boolean(b) => Some(*b),
            _ => None,
        }
    }
}

/// A [`DbView`] over plain maps, for tests and tools.
#[derive(Clone, Debug, Default)]
pub struct MemDb {
    pub tables: BTreeMap<String, BTreeMap<Uuid, BTreeMap<String, Datum>>>,
}

impl MemDb {
    /// Sets a column of a row, creating both as needed.
    pub fn set(&mut self, table: &str, row: Uuid, column: &str, value: Datum) {
        self.tables
            .entry(table.to_string())
            .or_default()
            .entry(row)
            .or_default()
            .insert(column.to_string(), value);
    }
}

impl DbView for MemDb {
    fn rows(&self, table: &str) -> Vec<Uuid> {
        self.tables
            .get(table)
            .map(|t| t.keys().copied().collect())
            .unwrap_or_default()
    }

    fn get(&self, table: &str, uuid: &Uuid, column: &str) -> Option<&Datum> {
        self.tables.get(table)?.get(uuid)?.get(column)
    }
}

/// Datum builders for tests and status writes.
pub mod datum {
    use super::*;

    pub fn string(s: &str) -> Datum {
        Datum::from_atom(Atom::String(s.to_string()))
    }

    pub fn integer(i: i64) -> Datum {
        Datum::from_atom(Atom::Integer(i))
    }

    pub fn boolean(b: bool) -> Datum {
        Datum::from_atom(Atom::Boolean(b))
    }

    pub fn uuids(u: &[Uuid]) -> Datum {
        Datum::from_set(u.iter().map(|u| Atom::Uuid(*u)).collect())
    }

    pub fn strings<S: AsRef<str>>(s: &[S]) -> Datum {
        Datum::from_set(
            s.iter()
                .map(|s| Atom::String(s.as_ref().to_string()))
                .collect(),
        )
    }

    pub fn empty() -> Datum {
        Datum::empty(false)
    }

    /// A string→string map.
    pub fn smap<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> Datum {
        let mut v: Vec<(Atom, Atom)> = pairs
            .iter()
            .map(|(k, v)| {
                (
                    Atom::String(k.as_ref().to_string()),
                    Atom::String(v.as_ref().to_string()),
                )
            })
            .collect();
        v.sort_by(|a, b| a.0.cmp(&b.0));
        v.dedup_by(|a, b| a.0 == b.0);
        let (keys, values): (Vec<_>, Vec<_>) = v.into_iter().unzip();
        Datum {
            keys,
            values: Some(values),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::datum::*;
    use super::*;

    fn u(n: u8) -> Uuid {
        let mut b = [0u8; 16];
        b[15] = n;
        Uuid(b)
    }

    fn sample() -> MemDb {
        let mut db = MemDb::default();
        db.set("Open_vSwitch", u(1), "bridges", uuids(&[u(2)]));
        db.set("Open_vSwitch", u(1), "next_cfg", integer(7));
        db.set("Open_vSwitch", u(1), "cur_cfg", integer(6));
        db.set("Bridge", u(2), "name", string("br0"));
        db.set("Bridge", u(2), "datapath_type", string("dummy"));
        db.set("Bridge", u(2), "ports", uuids(&[u(3), u(4), u(6)]));
        db.set("Bridge", u(2), "fail_mode", strings(&["secure"]));
        db.set("Port", u(3), "name", string("br0"));
        db.set("Port", u(3), "interfaces", uuids(&[u(5)]));
        db.set("Interface", u(5), "name", string("br0"));
        db.set("Interface", u(5), "type", string("internal"));
        db.set("Port", u(4), "name", string("p1"));
        db.set("Port", u(4), "interfaces", uuids(&[u(7)]));
        db.set("Port", u(4), "tag", strings::<&str>(&[]));
        db.set("Interface", u(7), "name", string("p1"));
        db.set("Interface", u(7), "type", string(""));
        db.set("Interface", u(7), "ofport_request", integer(5));
        db.set(
            "Interface",
            u(7),
            "options",
            smap(&[("pstream", "punix:x")]),
        );
        // A second port using the same interface row: dropped.
        db.set("Port", u(6), "name", string("p2"));
        db.set("Port", u(6), "interfaces", uuids(&[u(7)]));
        db
    }

    #[test]
    fn reads_bridges_ports_interfaces() {
        let cfg = OvsConfig::read(&sample());
        assert_eq!(cfg.root, Some(u(1)));
        assert_eq!((cfg.next_cfg, cfg.cur_cfg), (7, 6));
        let br = &cfg.bridges["br0"];
        assert_eq!(br.datapath_type, "dummy");
        assert_eq!(br.fail_mode, FailMode::Secure);
        assert_eq!(br.ports.keys().collect::<Vec<_>>(), ["br0", "p1"]);
        let p1 = &br.ports["p1"].interfaces["p1"];
        assert_eq!(p1.type_, "system");
        assert_eq!(p1.ofport_request, Some(5));
        assert_eq!(p1.options["pstream"], "punix:x");
        assert_eq!(
            cfg.warnings,
            [
                "bridge br0: p1 interface is on multiple ports",
                "bridge br0: port p2 has no interfaces, dropping"
            ]
        );
    }

    #[test]
    fn local_port_is_synthesized() {
        let mut db = MemDb::default();
        db.set("Open_vSwitch", u(1), "bridges", uuids(&[u(2)]));
        db.set("Bridge", u(2), "name", string("brx"));
        let cfg = OvsConfig::read(&db);
        let br = &cfg.bridges["brx"];
        assert_eq!(br.datapath_type, "system");
        let local = &br.ports["brx"].interfaces["brx"];
        assert_eq!(local.type_, "internal");
        assert!(!local.in_db);
        assert_eq!(
            cfg.warnings,
            ["bridge brx: no port named brx, synthesizing one"]
        );
    }

    #[test]
    fn empty_database_has_no_root() {
        let cfg = OvsConfig::read(&MemDb::default());
        assert_eq!(cfg.root, None);
        assert!(cfg.bridges.is_empty());
    }
}
