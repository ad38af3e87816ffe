//! Global options of ovs-ofctl, parsed with GNU getopt_long semantics:
//! options may follow the command words, long options may be abbreviated,
//! `--` ends option processing.

use super::Fatal;

/// The parsed global options. Protocol and format names are kept as typed
/// and interpreted by the commands that use them.
#[derive(Debug, Default, Clone)]
pub struct Options {
    /// `-O`/`--protocols`: allowed OpenFlow versions, comma-separated.
    pub protocols: Option<String>,
    /// `-F`/`--flow-format`: allowed flow formats, comma-separated.
    pub flow_format: Option<String>,
    /// `-P`/`--packet-in-format`.
    pub packet_in_format: Option<String>,
    /// `-m`/`--more`, counted.
    pub verbosity: u32,
    /// `--names` (Some(true)) / `--no-names` (Some(false)).
    pub names: Option<bool>,
    pub strict: bool,
    pub readd: bool,
    pub timestamp: bool,
    pub no_stats: bool,
    pub bundle: bool,
    pub may_create: bool,
    pub read_only: bool,
    /// `--sort[=FIELD]` / `--rsort[=FIELD]`: (field or "", descending).
    pub sort: Option<(String, bool)>,
    /// `--color[=WHEN]`.
    pub color: Option<String>,
    /// `-t`/`--timeout` in seconds.
    pub timeout: Option<u32>,
    pub unixctl: Option<String>,
    pub detach: bool,
    pub pidfile: Option<String>,
}

use crate::getopt::{Arg, LongOpt, Words};

/// (long name, short letter, argument).
const LONG: &[LongOpt] = &[
    ("timeout", Some('t'), Arg::Required),
    ("strict", None, Arg::None),
    ("readd", None, Arg::None),
    ("flow-format", Some('F'), Arg::Required),
    ("packet-in-format", Some('P'), Arg::Required),
    ("more", Some('m'), Arg::None),
    ("timestamp", None, Arg::None),
    ("sort", None, Arg::Optional),
    ("rsort", None, Arg::Optional),
    ("unixctl", None, Arg::Required),
    ("help", Some('h'), Arg::None),
    ("option", None, Arg::None),
    ("version", Some('V'), Arg::None),
    ("names", None, Arg::None),
    ("no-names", None, Arg::None),
    ("stats", None, Arg::None),
    ("no-stats", None, Arg::None),
    ("color", None, Arg::Optional),
    ("may-create", None, Arg::None),
    ("raw", None, Arg::None),
    ("read-only", None, Arg::None),
    ("bundle", None, Arg::None),
    ("pcap", None, Arg::None),
    ("verbose", Some('v'), Arg::Optional),
    ("log-file", None, Arg::Optional),
    ("syslog-method", None, Arg::Required),
    ("syslog-target", None, Arg::Required),
    ("no-self-confinement", None, Arg::None),
    ("no-chdir", None, Arg::None),
    ("detach", None, Arg::None),
    ("pidfile", None, Arg::Optional),
    ("overwrite-pidfile", None, Arg::None),
    ("monitor", None, Arg::None),
    ("user", None, Arg::Required),
    ("protocols", Some('O'), Arg::Required),
    ("private-key", Some('p'), Arg::Required),
    ("certificate", Some('c'), Arg::Required),
    ("ca-cert", Some('C'), Arg::Required),
    ("peer-ca-cert", None, Arg::Required),
    ("bootstrap-ca-cert", None, Arg::Required),
    ("ssl-protocols", None, Arg::Required),
    ("ssl-ciphers", None, Arg::Required),
];

fn apply(o: &mut Options, name: &str, val: Option<String>) -> Result<bool, Fatal> {
    let v = || val.clone().unwrap_or_default();
    match name {
        "timeout" => {
            let t = v();
            o.timeout = Some(
                t.parse::<u32>()
                    .map_err(|_| Fatal(format!("value {t} on -t or --timeout is invalid")))?,
            );
        }
        "strict" => o.strict = true,
        "readd" => o.readd = true,
        "flow-format" => o.flow_format = Some(v()),
        "protocols" => o.protocols = Some(v()),
        "packet-in-format" => {
            // Checked as upstream does while reading the options.
            let f = v();
            if ![
                "standard",
                "openflow10",
                "nxt_packet_in",
                "nxm",
                "nxt_packet_in2",
            ]
            .contains(&f.as_str())
            {
                return Err(Fatal(format!("unknown packet-in format `{f}'")));
            }
            o.packet_in_format = Some(f);
        }
        "more" => o.verbosity += 1,
        "timestamp" => o.timestamp = true,
        "sort" | "rsort" => o.sort = Some((v(), name == "rsort")),
        "names" => o.names = Some(true),
        "no-names" => o.names = Some(false),
        "stats" => o.no_stats = false,
        "no-stats" => o.no_stats = true,
        "color" => o.color = Some(val.unwrap_or_else(|| "auto".into())),
        "may-create" => o.may_create = true,
        "read-only" => o.read_only = true,
        "bundle" => o.bundle = true,
        "unixctl" => o.unixctl = Some(v()),
        "help" => {
            print!("{}", super::usage::text());
            return Ok(false);
        }
        "option" => {
            for (l, s, a) in LONG {
                let suffix = match a {
                    Arg::None => "",
                    Arg::Required => "=ARG",
                    Arg::Optional => "[=ARG]",
                };
                println!("--{l}{suffix}");
                if let Some(c) = s {
                    println!("-{c}");
                }
            }
            return Ok(false);
        }
        "version" => {
            println!("ovs-ofctl (Open vSwitch) 3.1.0");
            println!("OpenFlow versions 0x1:0x6");
            return Ok(false);
        }
        "verbose" => vlog::set_levels_from_string(&v())?,
        "log-file" => {
            let path = val.unwrap_or_else(|| "/var/log/openvswitch/ovs-ofctl.log".into());
            vlog::set_log_file(&path)?;
        }
        "detach" => o.detach = true,
        "pidfile" => o.pidfile = Some(val.unwrap_or_default()),
        // Accepted and without effect here (daemon and SSL plumbing).
        _ => {}
    }
    Ok(true)
}

/// Parses the whole command line. Returns the options and the command words,
/// or `None` when an option (`--help`, `--version`) already did the work.
pub fn parse(args: Vec<String>) -> Result<Option<(Options, Vec<String>)>, Fatal> {
    let mut o = Options::default();
    let words = crate::getopt::parse(&args, LONG, Words::Permute, Fatal, |name, val| {
        apply(&mut o, name, val)
    })?;
    Ok(words.map(|w| (o, w)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(args: &[&str]) -> Result<Option<(Options, Vec<String>)>, Fatal> {
        parse(args.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn permutes_and_abbreviates_like_getopt() {
        let (o, w) = p(&[
            "add-flow",
            "s1",
            "x",
            "-O",
            "OpenFlow13",
            "-mmm",
            "--prot=OpenFlow10",
        ])
        .unwrap()
        .unwrap();
        assert_eq!(w, ["add-flow", "s1", "x"]);
        assert_eq!(o.verbosity, 3);
        assert_eq!(o.protocols.as_deref(), Some("OpenFlow10"));
        let (o, _) = p(&["-FOpenflow10", "--sort"]).unwrap().unwrap();
        assert_eq!(o.flow_format.as_deref(), Some("Openflow10"));
        assert_eq!(o.sort, Some((String::new(), false)));
    }

    #[test]
    fn reports_errors_like_getopt() {
        assert_eq!(p(&["--foo"]).unwrap_err().0, "unrecognized option '--foo'");
        assert_eq!(p(&["-Z"]).unwrap_err().0, "invalid option -- 'Z'");
        assert_eq!(
            p(&["-O"]).unwrap_err().0,
            "option requires an argument -- 'O'"
        );
        assert_eq!(
            p(&["--s"]).unwrap_err().0,
            "option '--s' is ambiguous; possibilities: '--strict' '--sort' '--stats' \
             '--syslog-method' '--syslog-target' '--ssl-protocols' '--ssl-ciphers'"
        );
    }
}
