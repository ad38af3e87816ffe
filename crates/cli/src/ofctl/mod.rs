//! The `ovs-ofctl` personality: global options, the command table, and the
//! error conventions of upstream's ovs-ofctl(8).
//!
//! Each command lives in a module of this directory that owns its group of
//! commands; this file only parses options and dispatches. A command that is
//! not in [`COMMANDS`] gets upstream's "unknown command" error, so features we
//! do not have yet fail exactly like unknown ones.

mod actions_cmd;
mod flow_cmd;
mod match_cmd;
mod misc_cmd;
pub mod options;
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
        name: "ofp-parse",
        usage: "file",
        min_args: 1,
        max_args: 1,
        run: print_cmd::ofp_parse,
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
        name: "check-vlan",
        usage: "",
        min_args: 2,
        max_args: 2,
        run: match_cmd::check_vlan,
    },
    Command {
        name: "parse-nx-match",
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
        name: "parse-key-value",
        usage: "",
        min_args: 1,
        max_args: usize::MAX,
        run: misc_cmd::parse_key_value,
    },
    Command {
        name: "list-commands",
        usage: "",
        min_args: 0,
        max_args: 0,
        run: list_commands,
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
