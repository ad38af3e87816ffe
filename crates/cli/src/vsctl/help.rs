//! `--help`, `--commands` and `--options` texts.

use super::commands::COMMANDS;
use crate::getopt::{Arg, LongOpt};

const USAGE: &str = include_str!("help.txt");

/// The `--help` text; the default database and log paths follow
/// `OVS_RUNDIR` and `OVS_LOGDIR` as upstream's do.
pub fn usage() -> String {
    let db = super::default_db();
    let log = rpc::paths::logdir()
        .join("ovs-vsctl.log")
        .display()
        .to_string();
    USAGE
        .replace("unix:/var/run/openvswitch/db.sock", &db)
        .replace("/var/log/openvswitch/ovs-vsctl.log", &log)
}

/// Names in the order upstream registers them: the generic database
/// commands first, then ovs-vsctl's own.
fn registration_order() -> Vec<&'static str> {
    const DB: &[&str] = &[
        "comment",
        "get",
        "list",
        "find",
        "set",
        "add",
        "remove",
        "clear",
        "create",
        "destroy",
        "wait-until",
    ];
    let mut v: Vec<&'static str> = DB.to_vec();
    v.extend(COMMANDS.iter().map(|c| c.name).filter(|n| !DB.contains(n)));
    v
}

/// `--commands`: one line per command, `[OPTIONS] ,NAME,SYNTAX`, in the
/// order of upstream's command hash table.
pub fn commands() -> String {
    let names = registration_order();
    let mut out = String::new();
    for i in rpc::json_text::shash_order(&names) {
        let Some(c) = super::commands::find(names[i]) else {
            continue;
        };
        for o in c.options.split(',').filter(|o| !o.is_empty()) {
            out.push_str(&format!("[{o}] "));
        }
        out.push_str(&format!(",{},{}\n", c.name, c.syntax));
    }
    out
}

/// `--options`: each long option (with `=ARG` when it takes one), then its
/// short form.
pub fn options(table: &[LongOpt]) -> String {
    let mut out = String::new();
    for &(name, short, arg) in table {
        if super::commands::all_option_names()
            .iter()
            .any(|o| o.0 == name)
            && !super::GLOBAL_OPTIONS.iter().any(|g| g.0 == name)
        {
            continue;
        }
        match arg {
            Arg::None => out.push_str(&format!("--{name}\n")),
            _ => out.push_str(&format!("--{name}=ARG\n")),
        }
        if let Some(c) = short {
            match arg {
                Arg::None => out.push_str(&format!("-{c}\n")),
                _ => out.push_str(&format!("-{c} ARG\n")),
            }
        }
    }
    out
}
