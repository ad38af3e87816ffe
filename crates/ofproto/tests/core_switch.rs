//! Differential tests of switch-level requests: features, config,
//! description, tables, ports and queues.

mod core_common;
use core_common::Pair;

use testkit::OPENFLOW_VERSIONS as VERSIONS;

#[test]
fn show_desc_config_and_frags() {
    let Some(p) = Pair::start("core-switch-show") else {
        return;
    };
    for v in VERSIONS {
        p.same(&["-O", v, "show"]);
        p.same(&["-O", v, "dump-desc"]);
        p.same(&["-O", v, "get-frags"]);
    }
    p.same(&["set-frags", "drop"]);
    p.same(&["get-frags"]);
    p.same(&["set-frags", "reassemble"]);
    p.same(&["get-frags"]);
    p.same(&["set-frags", "normal"]);
    p.same(&["-O", "OpenFlow13", "get-frags"]);
}

#[test]
fn tables() {
    let Some(p) = Pair::start("core-switch-tables") else {
        return;
    };
    p.same(&["add-flow", "priority=5,ip,actions=output:1"]);
    for v in VERSIONS {
        p.same(&["-O", v, "dump-tables"]);
    }
    p.same(&["-O", "OpenFlow14", "dump-table-desc"]);
    p.same(&["-O", "OpenFlow15", "dump-table-desc"]);
    p.same(&["-O", "OpenFlow11", "mod-table", "3", "drop"]);
    p.same(&["-O", "OpenFlow11", "dump-tables"]);
    p.same(&["-O", "OpenFlow14", "mod-table", "2", "evict"]);
    p.same(&["-O", "OpenFlow14", "dump-table-desc"]);
    p.same(&["-O", "OpenFlow13", "mod-table", "300", "drop"]);
    p.same(&["-O", "OpenFlow14", "mod-table", "1", "vacancy:20,80"]);
    p.same(&["-O", "OpenFlow14", "dump-table-desc"]);
    p.same(&["-O", "OpenFlow14", "mod-table", "1", "novacancy"]);
    p.same(&["-O", "OpenFlow14", "mod-table", "2", "noevict"]);
    p.same(&["-O", "OpenFlow15", "dump-table-desc"]);
}

#[test]
fn table_features() {
    let Some(p) = Pair::start("core-switch-tf") else {
        return;
    };
    for v in ["OpenFlow13", "OpenFlow14", "OpenFlow15"] {
        p.same(&["-O", v, "dump-table-features"]);
    }
}

#[test]
fn ports_and_queues() {
    let Some(p) = Pair::start("core-switch-ports") else {
        return;
    };
    for v in VERSIONS {
        p.same(&["-O", v, "dump-ports-desc"]);
        p.same(&["-O", v, "queue-stats"]);
        p.same(&["-O", v, "queue-get-config", "1"]);
    }
    p.same(&["dump-ports"]);
    p.same(&["dump-ports", "1"]);
    p.same(&["queue-stats", "1", "0"]);
    p.same(&["queue-stats", "1", "5"]);
    p.same(&["queue-stats", "9"]);
    p.same(&["mod-port", "p1", "no-flood"]);
    p.same(&["mod-port", "p2", "no-receive"]);
    p.same(&["show"]);
    p.same(&["-O", "OpenFlow13", "mod-port", "p1", "flood"]);
    p.same(&["-O", "OpenFlow13", "dump-ports-desc"]);
    p.same(&["mod-port", "p7", "up"]);
    p.same(&["mod-port", "p1", "down"]);
    p.same(&["mod-port", "p2", "no-packet-in"]);
    p.same(&["-O", "OpenFlow14", "dump-ports-desc"]);
    p.same(&["mod-port", "p1", "up"]);
    p.same(&["-O", "OpenFlow15", "dump-ports-desc", "1"]);
    p.same(&["-O", "OpenFlow15", "dump-ports", "2"]);
    p.same(&["-O", "OpenFlow14", "dump-ports"]);
    p.same(&["-O", "OpenFlow13", "dump-ports"]);
}
