//! The `ovs-ofctl` personality: global options, the command table, and the
//! error conventions of upstream's ovs-ofctl(8).
//!
//! Each command lives in a module of this directory that owns its group of
//! commands; this file only parses options and dispatches. A command that is
//! not in [`COMMANDS`] gets upstream's "unknown command" error, so features we
//! do not have yet fail exactly like unknown ones.

mod actions_cmd;
mod flow_cmd;
mod group_cmd;
mod match_cmd;
mod misc_cmd;
mod online;
mod online_bundle;
mod online_flows;
mod online_groups;
mod online_meters;
mod online_monitor;
mod online_packet;
mod online_ports;
mod online_replace;
pub(crate) mod online_switch;
pub mod options;
mod pcap_cmd;
mod print_cmd;
pub mod protocols;
mod usage;

use options::Options;

/// An `ovs-ofctl` failure: printed as `ovs-ofctl: MESSAGE`, exit status 1
/// (upstream's `ovs_fatal`).
#[derive(Debug)]
pub struct Fatal(pub String);

impl<T: std::fmt::Display> From<T> for Fatal {
    fn from(msg: T) -> Self {
        Fatal(msg.to_string())
    }
}

pub type CmdResult = Result<(), Fatal>;

/// One command of the table: its name, usage words (as `list-commands`
/// prints them), argument count bounds and handler.
pub struct Command {
    pub name: &'static str,
    pub usage: &'static str,
    pub min_args: usize,
    pub max_args: usize,
    pub run: fn(&Options, &[String]) -> CmdResult,
}

/// The commands ferrovs implements, in upstream's `list-commands` order.
pub const COMMANDS: &[Command] = &[
    Command {
        name: "show",
        usage: "switch",
        min_args: 1,
        max_args: 1,
        run: online_switch::show,
    },
    Command {
        name: "monitor",
        usage: "switch [misslen] [invalid_ttl] [watch:[...]]",
        min_args: 1,
        max_args: 3,
        run: online_monitor::monitor,
    },
    Command {
        name: "snoop",
        usage: "switch",
        min_args: 1,
        max_args: 1,
        run: online_monitor::snoop,
    },
    Command {
        name: "dump-desc",
        usage: "switch",
        min_args: 1,
        max_args: 1,
        run: online_switch::dump_desc,
    },
    Command {
        name: "dump-tables",
        usage: "switch",
        min_args: 1,
        max_args: 1,
        run: online_switch::dump_tables,
    },
    Command {
        name: "dump-table-features",
        usage: "switch",
        min_args: 1,
        max_args: 1,
        run: online_switch::dump_table_features,
    },
    Command {
        name: "dump-table-desc",
        usage: "switch",
        min_args: 1,
        max_args: 1,
        run: online_switch::dump_table_desc,
    },
    Command {
        name: "dump-flows",
        usage: "switch",
        min_args: 1,
        max_args: 2,
        run: online_flows::dump_flows,
    },
    Command {
        name: "dump-aggregate",
        usage: "switch",
        min_args: 1,
        max_args: 2,
        run: online_flows::dump_aggregate,
    },
    Command {
        name: "queue-stats",
        usage: "switch [port [queue]]",
        min_args: 1,
        max_args: 3,
        run: online_ports::queue_stats,
    },
    Command {
        name: "queue-get-config",
        usage: "switch [port [queue]]",
        min_args: 1,
        max_args: 3,
        run: online_ports::queue_get_config,
    },
    Command {
        name: "add-flow",
        usage: "switch flow",
        min_args: 2,
        max_args: 2,
        run: online_flows::add_flow,
    },
    Command {
        name: "add-flows",
        usage: "switch file",
        min_args: 2,
        max_args: 2,
        run: online_flows::add_flows,
    },
    Command {
        name: "mod-flows",
        usage: "switch flow",
        min_args: 2,
        max_args: 2,
        run: online_flows::mod_flows,
    },
    Command {
        name: "del-flows",
        usage: "switch [flow]",
        min_args: 1,
        max_args: 2,
        run: online_flows::del_flows,
    },
    Command {
        name: "replace-flows",
        usage: "switch file",
        min_args: 2,
        max_args: 2,
        run: online_replace::replace_flows,
    },
    Command {
        name: "diff-flows",
        usage: "source1 source2",
        min_args: 2,
        max_args: 2,
        run: online_replace::diff_flows,
    },
    Command {
        name: "add-meter",
        usage: "switch meter",
        min_args: 2,
        max_args: 2,
        run: online_meters::add_meter,
    },
    Command {
        name: "mod-meter",
        usage: "switch meter",
        min_args: 2,
        max_args: 2,
        run: online_meters::mod_meter,
    },
    Command {
        name: "del-meter",
        usage: "switch meter",
        min_args: 1,
        max_args: 2,
        run: online_meters::del_meters,
    },
    Command {
        name: "del-meters",
        usage: "switch",
        min_args: 1,
        max_args: 2,
        run: online_meters::del_meters,
    },
    Command {
        name: "dump-meter",
        usage: "switch meter",
        min_args: 1,
        max_args: 2,
        run: online_meters::dump_meters,
    },
    Command {
        name: "dump-meters",
        usage: "switch",
        min_args: 1,
        max_args: 2,
        run: online_meters::dump_meters,
    },
    Command {
        name: "meter-stats",
        usage: "switch [meter]",
        min_args: 1,
        max_args: 2,
        run: online_meters::meter_stats,
    },
    Command {
        name: "meter-features",
        usage: "switch",
        min_args: 1,
        max_args: 1,
        run: online_meters::meter_features,
    },
    Command {
        name: "packet-out",
        usage: "switch \"in_port=<port> packet=<hex data> actions=...\"",
        min_args: 2,
        max_args: usize::MAX,
        run: online_packet::packet_out,
    },
    Command {
        name: "dump-ports",
        usage: "switch [port]",
        min_args: 1,
        max_args: 2,
        run: online_ports::dump_ports,
    },
    Command {
        name: "dump-ports-desc",
        usage: "switch [port]",
        min_args: 1,
        max_args: 2,
        run: online_ports::dump_ports_desc,
    },
    Command {
        name: "mod-port",
        usage: "switch iface act",
        min_args: 3,
        max_args: 3,
        run: online_ports::mod_port,
    },
    Command {
        name: "mod-table",
        usage: "switch mod",
        min_args: 3,
        max_args: 3,
        run: online_switch::mod_table,
    },
    Command {
        name: "get-frags",
        usage: "switch",
        min_args: 1,
        max_args: 1,
        run: online_switch::get_frags,
    },
    Command {
        name: "set-frags",
        usage: "switch frag_mode",
        min_args: 2,
        max_args: 2,
        run: online_switch::set_frags,
    },
    Command {
        name: "probe",
        usage: "target",
        min_args: 1,
        max_args: 1,
        run: online_switch::probe,
    },
    Command {
        name: "ping",
        usage: "target [n]",
        min_args: 1,
        max_args: 2,
        run: online_switch::ping,
    },
    Command {
        name: "benchmark",
        usage: "target n count",
        min_args: 3,
        max_args: 3,
        run: online_switch::benchmark,
    },
    Command {
        name: "dump-ipfix-bridge",
        usage: "switch",
        min_args: 1,
        max_args: 1,
        run: online_switch::dump_ipfix_bridge,
    },
    Command {
        name: "dump-ipfix-flow",
        usage: "switch",
        min_args: 1,
        max_args: 1,
        run: online_switch::dump_ipfix_flow,
    },
    Command {
        name: "ct-flush-zone",
        usage: "switch zone",
        min_args: 2,
        max_args: 2,
        run: online_switch::ct_flush_zone,
    },
    Command {
        name: "ct-flush",
        usage: "switch [zone=N] [ct-orig-tuple [ct-reply-tuple]]",
        min_args: 1,
        max_args: 4,
        run: online_switch::ct_flush,
    },
    Command {
        name: "ofp-parse",
        usage: "file",
        min_args: 1,
        max_args: 1,
        run: print_cmd::ofp_parse,
    },
    Command {
        name: "ofp-parse-pcap",
        usage: "pcap",
        min_args: 1,
        max_args: usize::MAX,
        run: pcap_cmd::ofp_parse_pcap,
    },
    Command {
        name: "add-group",
        usage: "switch group",
        min_args: 1,
        max_args: 2,
        run: online_groups::add_group,
    },
    Command {
        name: "add-groups",
        usage: "switch file",
        min_args: 2,
        max_args: 2,
        run: online_groups::add_groups,
    },
    Command {
        name: "mod-group",
        usage: "switch group",
        min_args: 1,
        max_args: 2,
        run: online_groups::mod_group,
    },
    Command {
        name: "del-groups",
        usage: "switch [group]",
        min_args: 1,
        max_args: 2,
        run: online_groups::del_groups,
    },
    Command {
        name: "insert-buckets",
        usage: "switch [group]",
        min_args: 1,
        max_args: 2,
        run: online_groups::insert_buckets,
    },
    Command {
        name: "remove-buckets",
        usage: "switch [group]",
        min_args: 1,
        max_args: 2,
        run: online_groups::remove_buckets,
    },
    Command {
        name: "dump-groups",
        usage: "switch [group]",
        min_args: 1,
        max_args: 2,
        run: online_groups::dump_groups,
    },
    Command {
        name: "dump-group-stats",
        usage: "switch [group]",
        min_args: 1,
        max_args: 2,
        run: online_groups::dump_group_stats,
    },
    Command {
        name: "dump-group-features",
        usage: "switch",
        min_args: 1,
        max_args: 1,
        run: online_groups::dump_group_features,
    },
    Command {
        name: "bundle",
        usage: "switch file",
        min_args: 2,
        max_args: 2,
        run: online_bundle::bundle,
    },
    Command {
        name: "add-tlv-map",
        usage: "switch map",
        min_args: 2,
        max_args: 2,
        run: online_switch::add_tlv_map,
    },
    Command {
        name: "del-tlv-map",
        usage: "switch [map]",
        min_args: 1,
        max_args: 2,
        run: online_switch::del_tlv_map,
    },
    Command {
        name: "dump-tlv-map",
        usage: "switch",
        min_args: 1,
        max_args: 1,
        run: online_switch::dump_tlv_map,
    },
    Command {
        name: "list-commands",
        usage: "",
        min_args: 0,
        max_args: 0,
        run: list_commands,
    },
    Command {
        name: "parse-flow",
        usage: "",
        min_args: 1,
        max_args: 1,
        run: flow_cmd::parse_flow,
    },
    Command {
        name: "parse-flows",
        usage: "",
        min_args: 1,
        max_args: 1,
        run: flow_cmd::parse_flows,
    },
    Command {
        name: "parse-group",
        usage: "",
        min_args: 1,
        max_args: 1,
        run: group_cmd::parse_group,
    },
    Command {
        name: "parse-nx-match",
        usage: "",
        min_args: 0,
        max_args: 0,
        run: match_cmd::parse_nx_match,
    },
    Command {
        name: "parse-nxm",
        usage: "",
        min_args: 0,
        max_args: 0,
        run: match_cmd::parse_nx_match,
    },
    Command {
        name: "parse-oxm",
        usage: "",
        min_args: 1,
        max_args: 1,
        run: match_cmd::parse_oxm,
    },
    Command {
        name: "parse-actions",
        usage: "",
        min_args: 1,
        max_args: 1,
        run: actions_cmd::parse_actions,
    },
    Command {
        name: "parse-instructions",
        usage: "",
        min_args: 1,
        max_args: 1,
        run: actions_cmd::parse_instructions,
    },
    Command {
        name: "parse-ofp10-match",
        usage: "",
        min_args: 0,
        max_args: 0,
        run: match_cmd::parse_ofp10_match,
    },
    Command {
        name: "parse-ofp11-match",
        usage: "",
        min_args: 0,
        max_args: 0,
        run: match_cmd::parse_ofp11_match,
    },
    Command {
        name: "check-vlan",
        usage: "",
        min_args: 2,
        max_args: 2,
        run: match_cmd::check_vlan,
    },
    Command {
        name: "print-error",
        usage: "",
        min_args: 1,
        max_args: 1,
        run: print_cmd::print_error,
    },
    Command {
        name: "encode-error-reply",
        usage: "",
        min_args: 2,
        max_args: 2,
        run: print_cmd::encode_error_reply,
    },
    Command {
        name: "ofp-print",
        usage: "",
        min_args: 1,
        max_args: 2,
        run: print_cmd::ofp_print,
    },
    Command {
        name: "encode-hello",
        usage: "",
        min_args: 1,
        max_args: 1,
        run: print_cmd::encode_hello,
    },
    Command {
        name: "parse-key-value",
        usage: "",
        min_args: 1,
        max_args: usize::MAX,
        run: misc_cmd::parse_key_value,
    },
];

fn list_commands(_: &Options, _: &[String]) -> CmdResult {
    let mut s = String::from("The available commands are:\n");
    for c in COMMANDS {
        s.push_str(
            &format!("  {:<23} {}\n", c.name, c.usage)
                .trim_end_matches(' ')
                .to_string(),
        );
        if !s.ends_with('\n') {
            s.push('\n');
        }
    }
    print!("{s}");
    Ok(())
}

/// Modules whose log levels `-v` may name (upstream's vlog modules that
/// ovs-ofctl can log from).
const LOG_MODULES: &[&str] = &[
    "meta_flow",
    "nx_match",
    "ofp_actions",
    "ofp_errors",
    "ofp_flow",
    "ofp_group",
    "ofp_match",
    "ofp_meter",
    "ofp_msgs",
    "ofp_packet",
    "ofp_port",
    "ofp_print",
    "ofp_protocol",
    "ofp_table",
    "ofp_util",
    "ofctl",
    "rconn",
    "stream",
    "vconn",
    "vlog",
];

/// Entry point of the personality: returns the exit status.
pub fn main(program: &str, args: Vec<String>) -> i32 {
    // Like upstream's tools, die quietly when the reader of our output goes
    // away (`ovs-ofctl ... | sed 1q`) instead of failing on EPIPE.
    // SAFETY: restoring the default disposition of one signal at startup,
    // before any thread exists.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    vlog::set_program_name(program);
    vlog::register_modules(LOG_MODULES);
    let (opts, rest) = match options::parse(args) {
        Ok(Some(x)) => x,
        Ok(None) => return 0,
        Err(Fatal(msg)) => {
            eprintln!("{program}: {msg}");
            return 1;
        }
    };
    match run_command(&opts, &rest) {
        Ok(()) => 0,
        Err(Fatal(msg)) => {
            use std::io::Write;
            let _ = std::io::stdout().flush();
            eprintln!("{program}: {msg}");
            1
        }
    }
}

fn run_command(opts: &Options, args: &[String]) -> CmdResult {
    // Upstream checks -O against -F while parsing options, before any
    // command runs.
    protocols::allowed_protocols(opts)?;
    online::arm_timeout(opts);
    let Some(name) = args.first() else {
        return Err(Fatal("missing command name; use --help for help".into()));
    };
    let Some(cmd) = COMMANDS.iter().find(|c| c.name == name) else {
        return Err(Fatal(format!(
            "unknown command '{name}'; use --help for help"
        )));
    };
    let n = args.len() - 1;
    if n < cmd.min_args {
        return Err(Fatal(format!(
            "'{name}' command requires at least {} arguments",
            cmd.min_args
        )));
    }
    if n > cmd.max_args {
        return Err(Fatal(format!(
            "'{name}' command takes at most {} arguments",
            cmd.max_args
        )));
    }
    (cmd.run)(opts, &args[1..])
}
