//! The `ovs-appctl` personality: sends one command to a daemon's control
//! socket and prints the answer, with upstream's options (GNU getopt_long,
//! stopping at the first non-option), messages and exit codes:
//! 0 on success, 1 when the daemon cannot be reached or an option is bad,
//! 2 when the daemon answers with an error, death by SIGALRM on `-T`
//! expiry. The protocol lives in `rpc::unixctl`.

use rpc::unixctl::{resolve_target, UnixctlClient};
use std::io::Write;
use std::time::{Duration, Instant};

const PROGRAM: &str = "ovs-appctl";

/// Modules `-v` may name (the ones this tool logs from, as upstream's).
const LOG_MODULES: &[&str] = &[
    "daemon_unix",
    "fatal_signal",
    "jsonrpc",
    "poll_loop",
    "reconnect",
    "socket_util",
    "stream",
    "stream_fd",
    "stream_unix",
    "timeval",
    "unixctl",
    "vlog",
];

const USAGE: &str = "\
ovs-appctl, for querying and controlling Open vSwitch daemon
usage: ovs-appctl [TARGET] COMMAND [ARG...]
Targets:
  -t, --target=TARGET  pidfile or socket to contact
Common commands:
  list-commands      List commands supported by the target
  version            Print version of the target
  vlog/list          List current logging levels
  vlog/list-pattern  List logging patterns for each destination.
  vlog/set [SPEC]
      Set log levels as detailed in SPEC, which may include:
      A valid module name (all modules, by default)
      'syslog', 'console', 'file' (all destinations, by default))
      'off', 'emer', 'err', 'warn', 'info', or 'dbg' ('dbg', bydefault)
  vlog/reopen        Make the program reopen its log file
Other options:
  --timeout=SECS     wait at most SECS seconds for a response
  -h, --help         Print this helpful information
  -V, --version      Display ovs-appctl version information
";

use crate::getopt::{Arg, LongOpt, Words};

/// (long name, short letter, argument), in upstream's order (`--option`).
const OPTIONS: &[LongOpt] = &[
    ("target", Some('t'), Arg::Required),
    ("execute", Some('e'), Arg::None),
    ("help", Some('h'), Arg::None),
    ("option", Some('o'), Arg::None),
    ("version", Some('V'), Arg::None),
    ("timeout", Some('T'), Arg::Required),
    ("verbose", Some('v'), Arg::Optional),
    ("log-file", None, Arg::Optional),
    ("syslog-method", None, Arg::Required),
    ("syslog-target", None, Arg::Required),
];

/// What the command line asks for.
#[derive(Debug, Default, PartialEq)]
struct Request {
    target: Option<String>,
    timeout: Option<u32>,
    words: Vec<String>,
}

/// How parsing ended early.
#[derive(Debug, PartialEq)]
enum Early {
    /// Print this on stdout and exit 0 (`--help`, `--version`, `--option`).
    Exit(String),
    /// `ovs-appctl: MESSAGE`, exit 1.
    Fatal(String),
    /// A getopt complaint: `ARGV0: MESSAGE`, exit 1.
    Usage(String),
}

fn options_text() -> String {
    let mut s = String::new();
    for (long, short, arg) in OPTIONS {
        let (l, sh) = match arg {
            Arg::None => ("", ""),
            Arg::Required => ("=ARG", "ARG"),
            Arg::Optional => ("=[ARG]", "[ARG]"),
        };
        s.push_str(&format!("--{long}{l}\n"));
        if let Some(c) = short {
            s.push_str(&format!("-{c} {sh}\n"));
        }
    }
    s
}

/// `str_to_uint` and non-zero, as upstream checks `-T`.
fn parse_timeout(v: &str) -> Option<u32> {
    let t = v.trim_start();
    let t = t.strip_prefix('+').unwrap_or(t);
    if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    t.parse::<u32>()
        .ok()
        .filter(|&n| n > 0 && n <= i32::MAX as u32)
}

struct State {
    req: Request,
    e_options: u32,
}

fn apply(st: &mut State, name: &str, val: Option<String>) -> Result<(), Early> {
    match name {
        "target" => {
            if st.req.target.is_some() {
                return Err(Early::Fatal(
                    "-t or --target may be specified only once".into(),
                ));
            }
            st.req.target = val;
        }
        "execute" => {
            st.e_options += 1;
            if st.e_options > 1 {
                // Upstream's spelling.
                return Err(Early::Fatal(
                    "-e or --execute may be speciifed only once".into(),
                ));
            }
        }
        "help" => return Err(Early::Exit(USAGE.to_string())),
        "option" => return Err(Early::Exit(options_text())),
        "version" => return Err(Early::Exit(format!("{PROGRAM} (Open vSwitch) 3.1.0\n"))),
        "timeout" => {
            let v = val.unwrap_or_default();
            match parse_timeout(&v) {
                Some(n) => st.req.timeout = Some(n),
                None => {
                    return Err(Early::Fatal(format!(
                        "value {v} on -T or --timeout is invalid"
                    )))
                }
            }
        }
        "verbose" => {
            vlog::set_levels_from_string(val.as_deref().unwrap_or("")).map_err(Early::Fatal)?
        }
        "log-file" => {
            let path = val.unwrap_or_else(|| {
                rpc::paths::logdir()
                    .join(format!("{PROGRAM}.log"))
                    .display()
                    .to_string()
            });
            vlog::set_log_file(&path).map_err(Early::Fatal)?;
        }
        // Syslog plumbing: accepted, without effect for a one-shot tool.
        _ => {}
    }
    Ok(())
}

/// Parses like getopt_long with a leading `+`: options stop at the first
/// non-option word, which starts the command.
fn parse(args: &[String]) -> Result<Request, Early> {
    let mut st = State {
        req: Request::default(),
        e_options: 0,
    };
    let words = crate::getopt::parse(args, OPTIONS, Words::StopAtFirst, Early::Usage, |n, v| {
        apply(&mut st, n, v).map(|()| true)
    })?;
    st.req.words = words.unwrap_or_default();
    Ok(st.req)
}

fn fatal(msg: &str) -> i32 {
    let _ = std::io::stdout().flush();
    eprintln!("{PROGRAM}: {msg}");
    1
}

/// Dies by SIGALRM, as upstream does when `-T` expires.
fn alarm_expired() -> i32 {
    vlog::warn!("fatal_signal", "terminating with signal 14 (Alarm clock)");
    let _ = std::io::stdout().flush();
    // SAFETY: restoring the default action and raising a signal in our own
    // process; nothing else runs concurrently in this tool.
    unsafe {
        libc::signal(libc::SIGALRM, libc::SIG_DFL);
        libc::raise(libc::SIGALRM);
    }
    128 + libc::SIGALRM
}

/// Entry point of the personality.
pub fn main(_program: &str, args: Vec<String>) -> i32 {
    vlog::set_program_name(PROGRAM);
    vlog::register_modules(LOG_MODULES);
    let req = match parse(&args) {
        Ok(r) => r,
        Err(Early::Exit(text)) => {
            print!("{text}");
            let _ = std::io::stdout().flush();
            return 0;
        }
        Err(Early::Fatal(msg)) => return fatal(&msg),
        Err(Early::Usage(msg)) => {
            eprintln!("{}: {msg}", crate::getopt::argv0(PROGRAM));
            return 1;
        }
    };
    let Some((command, cmd_args)) = req.words.split_first() else {
        return fatal("at least one non-option argument is required (use --help for help)");
    };
    let deadline = req
        .timeout
        .map(|s| Instant::now() + Duration::from_secs(u64::from(s)));
    let target = req.target.as_deref().unwrap_or("ovs-vswitchd");
    let socket = match resolve_target(target) {
        Ok(p) => p,
        Err(e) => return fatal(&e.to_string()),
    };
    let mut client = match UnixctlClient::connect(&socket) {
        Ok(c) => c,
        Err(e) => {
            return fatal(&format!(
                "cannot connect to \"{}\" ({})",
                socket.display(),
                rpc::errno::io_error_text(&e)
            ))
        }
    };
    client.set_deadline(deadline);
    match client.transact(command, cmd_args) {
        Ok(Ok(text)) => {
            let mut out = std::io::stdout().lock();
            let _ = out.write_all(text.as_bytes());
            let _ = out.flush();
            0
        }
        Ok(Err(text)) => {
            let _ = std::io::stdout().flush();
            let mut err = std::io::stderr().lock();
            let _ = err.write_all(text.as_bytes());
            let _ = writeln!(err, "{PROGRAM}: {target}: server returned an error");
            2
        }
        Err(e) if e.is_timeout() => alarm_expired(),
        Err(e) => fatal(&format!("{target}: transaction error ({})", e.text())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Request, Early> {
        parse(&args.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn options_stop_at_the_command() {
        let r = p(&["-t/tmp/x.ctl", "version", "-T", "3"]).unwrap();
        assert_eq!(r.target.as_deref(), Some("/tmp/x.ctl"));
        assert_eq!(r.words, vec!["version", "-T", "3"]);
        let r = p(&["--targ=/a", "--timeout", "5", "x"]).unwrap();
        assert_eq!(r.target.as_deref(), Some("/a"));
        assert_eq!(r.timeout, Some(5));
        let r = p(&["-e", "-t", "/a", "--", "-x"]).unwrap();
        assert_eq!(r.words, vec!["-x"]);
    }

    #[test]
    fn upstream_error_texts() {
        let f = |a: &[&str]| match p(a) {
            Err(Early::Fatal(m)) | Err(Early::Usage(m)) => m,
            other => panic!("{other:?}"),
        };
        assert_eq!(
            f(&["-T", "abc", "x"]),
            "value abc on -T or --timeout is invalid"
        );
        assert_eq!(
            f(&["-T", "0", "x"]),
            "value 0 on -T or --timeout is invalid"
        );
        assert_eq!(
            f(&["--timeout=-5", "x"]),
            "value -5 on -T or --timeout is invalid"
        );
        assert_eq!(
            f(&["-t", "a", "-t", "b"]),
            "-t or --target may be specified only once"
        );
        assert_eq!(
            f(&["-e", "-e"]),
            "-e or --execute may be speciifed only once"
        );
        assert_eq!(f(&["-t"]), "option requires an argument -- 't'");
        assert_eq!(f(&["--bogus"]), "unrecognized option '--bogus'");
        assert_eq!(f(&["-x"]), "invalid option -- 'x'");
        assert_eq!(
            f(&["--help=1"]),
            "option '--help' doesn't allow an argument"
        );
        assert_eq!(f(&["--target"]), "option '--target' requires an argument");
        assert_eq!(
            f(&["--syslog"]),
            "option '--syslog' is ambiguous; possibilities: '--syslog-method' '--syslog-target'"
        );
    }

    #[test]
    fn help_version_and_option_list() {
        assert!(
            matches!(p(&["-h"]), Err(Early::Exit(t)) if t.starts_with("ovs-appctl, for querying"))
        );
        assert_eq!(
            p(&["-V"]),
            Err(Early::Exit("ovs-appctl (Open vSwitch) 3.1.0\n".into()))
        );
        let o = options_text();
        assert!(o.starts_with("--target=ARG\n-t ARG\n--execute\n-e \n"));
        assert!(o.ends_with("--verbose=[ARG]\n-v [ARG]\n--log-file=[ARG]\n--syslog-method=ARG\n--syslog-target=ARG\n"));
    }
}
