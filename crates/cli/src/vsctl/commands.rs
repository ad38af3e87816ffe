//! The command table: each command's name, options (`--name` or
//! `--name=` when it takes a value), argument syntax (`!` required, `?`
//! optional, `*` any number, `+` at least one; as `--commands` prints it)
//! and the function that runs it.

use super::ctx::{CmdResult, Ctx};
use super::{bridge, config, db};

pub struct CmdDef {
    pub name: &'static str,
    /// Comma-separated options, `=` marking those with a value.
    pub options: &'static str,
    pub syntax: &'static str,
    pub run: fn(&mut Ctx) -> CmdResult,
}

impl CmdDef {
    /// `Some(takes_value)` if the command accepts option `name` (`--x`).
    pub fn option(&self, name: &str) -> Option<bool> {
        self.options
            .split(',')
            .filter(|o| !o.is_empty())
            .find(|o| o.trim_end_matches('=') == name)
            .map(|o| o.ends_with('='))
    }

    /// Minimum and maximum number of arguments.
    pub fn arg_range(&self) -> (usize, usize) {
        let (mut min, mut max) = (0usize, 0usize);
        for w in self.syntax.split_whitespace() {
            match w.as_bytes().first() {
                Some(b'!') => {
                    min += 1;
                    max = max.saturating_add(1);
                }
                Some(b'?') => max = max.saturating_add(1),
                Some(b'*') => max = usize::MAX,
                Some(b'+') => {
                    min += 1;
                    max = usize::MAX;
                }
                _ => {}
            }
        }
        match self.name {
            // These parse their arguments themselves.
            "add-zone-tp" => (3, usize::MAX),
            "del-zone-tp" => (2, 2),
            "list-zone-tp" => (1, 1),
            "add-bond" => (4, usize::MAX),
            "list-dp-cap" => (1, 1),
            _ => (min, max),
        }
    }
}

macro_rules! cmd {
    ($name:expr, $opts:expr, $syntax:expr, $run:path) => {
        CmdDef {
            name: $name,
            options: $opts,
            syntax: $syntax,
            run: $run,
        }
    };
}

pub const COMMANDS: &[CmdDef] = &[
    cmd!("init", "", "", config::cmd_init),
    cmd!("show", "", "", config::cmd_show),
    cmd!(
        "add-br",
        "--may-exist",
        "!NEW-BRIDGE ?PARENT ?NEW-VLAN",
        bridge::cmd_add_br
    ),
    cmd!("del-br", "--if-exists", "!BRIDGE", bridge::cmd_del_br),
    cmd!("list-br", "--real,--fake", "", bridge::cmd_list_br),
    cmd!("br-exists", "", "!BRIDGE", bridge::cmd_br_exists),
    cmd!("br-to-vlan", "", "!BRIDGE", bridge::cmd_br_to_vlan),
    cmd!("br-to-parent", "", "!BRIDGE", bridge::cmd_br_to_parent),
    cmd!(
        "br-set-external-id",
        "",
        "!BRIDGE !KEY ?VALUE",
        bridge::cmd_br_set_external_id
    ),
    cmd!(
        "br-get-external-id",
        "",
        "!BRIDGE ?KEY",
        bridge::cmd_br_get_external_id
    ),
    cmd!("list-ports", "", "!BRIDGE", bridge::cmd_list_ports),
    cmd!(
        "add-port",
        "--may-exist",
        "!BRIDGE !NEW-PORT *COLUMN?:KEY=VALUE",
        bridge::cmd_add_port
    ),
    cmd!(
        "add-bond",
        "--may-exist,--fake-iface",
        "!BRIDGE !BOND +IFACE *COLUMN?:KEY=VALUE",
        bridge::cmd_add_bond
    ),
    cmd!(
        "add-bond-iface",
        "--may-exist",
        "!BOND !IFACE",
        bridge::cmd_add_bond_iface
    ),
    cmd!(
        "del-bond-iface",
        "--if-exists",
        "?BOND !IFACE",
        bridge::cmd_del_bond_iface
    ),
    cmd!(
        "del-port",
        "--if-exists,--with-iface",
        "?BRIDGE !PORT|IFACE",
        bridge::cmd_del_port
    ),
    cmd!("port-to-br", "", "!PORT", bridge::cmd_port_to_br),
    cmd!("list-ifaces", "", "!BRIDGE", bridge::cmd_list_ifaces),
    cmd!("iface-to-br", "", "!IFACE", bridge::cmd_iface_to_br),
    cmd!("get-controller", "", "!BRIDGE", config::cmd_get_controller),
    cmd!("del-controller", "", "!BRIDGE", config::cmd_del_controller),
    cmd!(
        "set-controller",
        "--inactivity-probe=",
        "!BRIDGE +TARGET",
        config::cmd_set_controller
    ),
    cmd!("get-fail-mode", "", "!BRIDGE", config::cmd_get_fail_mode),
    cmd!("del-fail-mode", "", "!BRIDGE", config::cmd_del_fail_mode),
    cmd!(
        "set-fail-mode",
        "",
        "!BRIDGE !MODE",
        config::cmd_set_fail_mode
    ),
    cmd!("get-manager", "", "", config::cmd_get_manager),
    cmd!("del-manager", "", "", config::cmd_del_manager),
    cmd!(
        "set-manager",
        "--inactivity-probe=",
        "+TARGET",
        config::cmd_set_manager
    ),
    cmd!("get-ssl", "", "", config::cmd_get_ssl),
    cmd!("del-ssl", "", "", config::cmd_del_ssl),
    cmd!(
        "set-ssl",
        "--bootstrap",
        "!PRIVATE-KEY !CERTIFICATE !CA-CERT",
        config::cmd_set_ssl
    ),
    cmd!(
        "add-aa-mapping",
        "",
        "!BRIDGE !ARG !ARG",
        config::cmd_add_aa_mapping
    ),
    cmd!(
        "del-aa-mapping",
        "",
        "!BRIDGE !ARG !ARG",
        config::cmd_del_aa_mapping
    ),
    cmd!("get-aa-mapping", "", "!BRIDGE", config::cmd_get_aa_mapping),
    cmd!("emer-reset", "", "", config::cmd_emer_reset),
    cmd!("add-zone-tp", "--may-exist", "", config::cmd_add_zone_tp),
    cmd!("del-zone-tp", "--if-exists", "", config::cmd_del_zone_tp),
    cmd!("list-zone-tp", "", "", config::cmd_list_zone_tp),
    cmd!("list-dp-cap", "", "", config::cmd_list_dp_cap),
    cmd!("comment", "", "*ARG", db::cmd_comment),
    cmd!(
        "get",
        "--if-exists,--id=",
        "!TABLE !RECORD *COLUMN?:KEY",
        db::cmd_get
    ),
    cmd!(
        "list",
        "--if-exists,--columns=",
        "!TABLE *RECORD",
        db::cmd_list
    ),
    cmd!(
        "find",
        "--columns=",
        "!TABLE *COLUMN?:KEY=VALUE",
        db::cmd_find
    ),
    cmd!(
        "set",
        "--if-exists",
        "!TABLE !RECORD +COLUMN?:KEY=VALUE",
        db::cmd_set
    ),
    cmd!(
        "add",
        "--if-exists",
        "!TABLE !RECORD !COLUMN +?KEY=VALUE",
        db::cmd_add
    ),
    cmd!(
        "remove",
        "--if-exists",
        "!TABLE !RECORD !COLUMN +KEY|VALUE|KEY=VALUE",
        db::cmd_remove
    ),
    cmd!(
        "clear",
        "--if-exists",
        "!TABLE !RECORD +COLUMN",
        db::cmd_clear
    ),
    cmd!(
        "create",
        "--id=",
        "!TABLE +COLUMN?:KEY=VALUE",
        db::cmd_create
    ),
    cmd!(
        "destroy",
        "--if-exists,--all",
        "!TABLE *RECORD",
        db::cmd_destroy
    ),
    cmd!(
        "wait-until",
        "",
        "!TABLE !RECORD *COLUMN?:KEY=VALUE",
        db::cmd_wait_until
    ),
];

/// Every table of the Open_vSwitch schema (the replica monitors them all).
pub const SCHEMA_TABLES: &[&str] = &[
    "AutoAttach",
    "Bridge",
    "CT_Timeout_Policy",
    "CT_Zone",
    "Controller",
    "Datapath",
    "Flow_Sample_Collector_Set",
    "Flow_Table",
    "IPFIX",
    "Interface",
    "Manager",
    "Mirror",
    "NetFlow",
    "Open_vSwitch",
    "Port",
    "QoS",
    "Queue",
    "SSL",
    "sFlow",
];

/// Commands that never write to the database.
const READ_ONLY: &[&str] = &[
    "show",
    "list-br",
    "br-exists",
    "br-to-vlan",
    "br-to-parent",
    "br-get-external-id",
    "list-ports",
    "port-to-br",
    "list-ifaces",
    "iface-to-br",
    "get-controller",
    "get-fail-mode",
    "get-manager",
    "get-ssl",
    "get-aa-mapping",
    "list-zone-tp",
    "list-dp-cap",
    "comment",
    "get",
    "list",
    "find",
    "wait-until",
];

impl CmdDef {
    /// True if the command may write to the database.
    pub fn may_write(&self) -> bool {
        !READ_ONLY.contains(&self.name)
    }
}

pub fn find(name: &str) -> Option<&'static CmdDef> {
    COMMANDS.iter().find(|c| c.name == name)
}

/// Every command option (name without `--`, takes a value), first use order.
pub fn all_option_names() -> Vec<(&'static str, bool)> {
    let mut v: Vec<(&'static str, bool)> = Vec::new();
    for c in COMMANDS {
        for o in c.options.split(',').filter(|o| !o.is_empty()) {
            let with_value = o.ends_with('=');
            let name = o.trim_start_matches("--").trim_end_matches('=');
            if !v.iter().any(|x| x.0 == name) {
                v.push((name, with_value));
            }
        }
    }
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argument_ranges_follow_syntax() {
        assert_eq!(find("add-br").unwrap().arg_range(), (1, 3));
        assert_eq!(find("add-bond").unwrap().arg_range(), (4, usize::MAX));
        assert_eq!(find("list-br").unwrap().arg_range(), (0, 0));
        assert_eq!(find("del-port").unwrap().arg_range(), (1, 2));
        assert_eq!(find("get").unwrap().option("--id"), Some(true));
        assert_eq!(find("get").unwrap().option("--if-exists"), Some(false));
        assert_eq!(find("get").unwrap().option("--all"), None);
    }
}
