//! Selecting a tool personality from argv[0] or the first argument.

use std::ffi::OsString;
use std::path::Path;

/// The tools one binary can be. `link` is the installed name.
pub struct Personality {
    pub link: &'static str,
    pub short: &'static str,
    /// `None` while the tool does not exist yet.
    pub run: Option<fn(program: &str, args: Vec<String>) -> i32>,
}

pub const PERSONALITIES: &[Personality] = &[
    Personality {
        link: "ovs-ofctl",
        short: "ofctl",
        run: Some(crate::ofctl::main),
    },
    Personality {
        link: "ovs-vsctl",
        short: "vsctl",
        run: Some(crate::vsctl::main),
    },
    Personality {
        link: "ovs-appctl",
        short: "appctl",
        run: Some(crate::appctl::main),
    },
    Personality {
        link: "ovs-dpctl",
        short: "dpctl",
        run: Some(crate::dpctl::main),
    },
    Personality {
        link: "ovsdb-tool",
        short: "ovsdb-tool",
        run: Some(crate::ovsdb_tool::main),
    },
    Personality {
        link: "ovsdb-client",
        short: "ovsdb-client",
        run: Some(crate::ovsdb_client::main),
    },
    Personality {
        link: "ovsdb-server",
        short: "ovsdb-server",
        run: Some(crate::ovsdb_server::main),
    },
    Personality {
        link: "ovs-vswitchd",
        short: "vswitchd",
        run: Some(crate::vswitchd::main),
    },
];

fn usage() -> i32 {
    eprintln!("usage: ferrovs TOOL [ARGS...]   or run it under an installed link name");
    eprintln!("       ferrovs install-links DIR  (creates DIR/ovs-ofctl, ... pointing here)");
    eprintln!("tools:");
    for p in PERSONALITIES {
        let state = if p.run.is_some() {
            ""
        } else {
            "  (not available yet)"
        };
        eprintln!("  {:<14} {}{}", p.short, p.link, state);
    }
    2
}

fn install_links(dir: &str) -> i32 {
    let exe = match std::env::current_exe() {
        Ok(e) => e,
        Err(e) => {
            eprintln!("ferrovs: cannot find own executable: {e}");
            return 1;
        }
    };
    if let Err(e) = std::fs::create_dir_all(dir) {
        eprintln!("ferrovs: {dir}: {e}");
        return 1;
    }
    for p in PERSONALITIES {
        let link = Path::new(dir).join(p.link);
        let _ = std::fs::remove_file(&link);
        if let Err(e) = std::os::unix::fs::symlink(&exe, &link) {
            eprintln!("ferrovs: {}: {e}", link.display());
            return 1;
        }
    }
    0
}

fn run(p: &Personality, program: &str, args: Vec<String>) -> i32 {
    match p.run {
        Some(f) => f(program, args),
        None => {
            eprintln!("{program}: this tool is not available in ferrovs yet (see docs/compat.md)");
            1
        }
    }
}

/// Runs the tool named by `args[0]` (or by `args[1]` under `ferrovs`).
pub fn dispatch(args: Vec<OsString>) -> i32 {
    let args: Vec<String> = args
        .into_iter()
        .map(|a| a.to_string_lossy().into_owned())
        .collect();
    let argv0 = args.first().map(String::as_str).unwrap_or("ferrovs");
    let name = Path::new(argv0)
        .file_name()
        .and_then(|n| n.to_str())
        .unwrap_or("ferrovs");
    if let Some(p) = PERSONALITIES.iter().find(|p| p.link == name) {
        return run(p, p.link, args[1..].to_vec());
    }
    let Some(first) = args.get(1) else {
        return usage();
    };
    if first == "install-links" {
        return match args.get(2) {
            Some(dir) => install_links(dir),
            None => usage(),
        };
    }
    match PERSONALITIES
        .iter()
        .find(|p| p.short == first || p.link == first)
    {
        Some(p) => run(p, p.link, args[2..].to_vec()),
        None => usage(),
    }
}
