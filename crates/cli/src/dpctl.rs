//! The `ovs-dpctl` personality: datapath administration from the command
//! line, with upstream's options, command table, argument checks, messages
//! and exit codes.
//!
//! What this tool can reach is what upstream's reaches on a host without
//! the Open vSwitch kernel module: ferrovs has no kernel datapath (its
//! userspace datapath lives inside `ovs-vswitchd`, where
//! `ovs-appctl dpctl/...` reaches it), so the "system" datapaths never
//! exist, and a userspace ("netdev") datapath is local to this process and
//! gone when it exits. Every command therefore parses and checks its
//! arguments exactly as upstream does, looks its datapath up the way
//! upstream does (the same log lines, the same "no datapaths exist" and
//! "datapath not found" answers), and fails where upstream fails. The
//! offline commands `parse-actions` and `normalize-actions` work fully.

use crate::getopt::{Arg, LongOpt, Words};
use flow::odp::actions::{self as odp_actions, text::PortNames, OdpAction};
use std::collections::BTreeSet;
use std::io::Write;

const PROGRAM: &str = "ovs-dpctl";

/// Modules `-v` may name: the ones this tool logs from, as upstream's.
const LOG_MODULES: &[&str] = &[
    "dpif",
    "dpif_netdev",
    "dpif_netlink",
    "netdev",
    "netdev_linux",
    "netdev_vport",
    "vlog",
];

const USAGE: &str = "\
ovs-dpctl: Open vSwitch datapath management utility
usage: ovs-dpctl [OPTIONS] COMMAND [ARG...]
  add-dp DP [IFACE...]     add new datapath DP (with IFACEs)
  del-dp DP                delete local datapath DP
  add-if DP IFACE...       add each IFACE as a port on DP
  set-if DP IFACE...       reconfigure each IFACE within DP
  del-if DP IFACE...       delete each IFACE from DP
  dump-dps                 display names of all datapaths
  show                     show basic info on all datapaths
  show DP...               show basic info on each DP
  dump-flows [DP]          display flows in DP
  add-flow [DP] FLOW ACTIONS add FLOW with ACTIONS to DP
  add-flows [DP] FILE        add flows from FILE
  mod-flow [DP] FLOW ACTIONS change FLOW actions to ACTIONS in DP
  mod-flows [DP] FILE        change flows from FILE
  get-flow [DP] ufid:UFID    fetch flow corresponding to UFID
  del-flow [DP] FLOW         delete FLOW from DP
  del-flows [DP] [FILE]      delete all or specified flows from DP
  cache-get-size [DP]             Show the current size for all caches
  cache-set-size DP CACHE SIZE  Set cache size for a specific cache
  dump-conntrack [DP] [zone=ZONE]  display conntrack entries for ZONE
  flush-conntrack [DP] [zone=ZONE] [ct-tuple]delete matched conntrack entries in ZONE
  ct-stats-show [DP] [zone=ZONE] [verbose] CT connections grouped by protocol
  ct-bkts [DP] [gt=N] display connections per CT bucket
Each IFACE on add-dp, add-if, and set-if may be followed by
comma-separated options.  See ovs-dpctl(8) for syntax, or the
Interface table in ovs-vswitchd.conf.db(5) for an options list.
For COMMAND dump-flows, add-flow, add-flows, mod-flow,
mod-flows, del-flow and del-flows, DP is optional if there is
only one datapath.

Logging options:
  -vSPEC, --verbose=SPEC   set logging levels
  -v, --verbose            set maximum verbosity level
  --log-file[=FILE]        enable logging to specified FILE
                           (default: @LOGDIR@/ovs-dpctl.log)
  --syslog-method=(libc|unix:file|udp:ip:port)
                           specify how to send messages to syslog daemon
  --syslog-target=HOST:PORT  also send syslog msgs to HOST:PORT via UDP

Options for show and mod-flow:
  -s,  --statistics           print statistics for port or flow

Options for dump-flows:
  -m, --more                  increase verbosity of output
  --names                     use port names in output

Options for mod-flow:
  --may-create                create flow if it doesn't exist
  --read-only                 do not run read/write commands
  --clear                     reset existing stats to zero

Other options:
  -t, --timeout=SECS          give up after SECS seconds
  -h, --help                  display this help message
  -V, --version               display version information
";

const OPTIONS: &[LongOpt] = &[
    ("statistics", Some('s'), Arg::None),
    ("clear", None, Arg::None),
    ("may-create", None, Arg::None),
    ("read-only", None, Arg::None),
    ("more", Some('m'), Arg::None),
    ("names", None, Arg::None),
    ("no-names", None, Arg::None),
    ("timeout", Some('t'), Arg::Required),
    ("help", Some('h'), Arg::None),
    ("option", Some('o'), Arg::None),
    ("version", Some('V'), Arg::None),
    ("verbose", Some('v'), Arg::Optional),
    ("log-file", None, Arg::Optional),
    ("syslog-method", None, Arg::Required),
    ("syslog-target", None, Arg::Required),
];

const ENOENT: i32 = libc::ENOENT;
const ENODEV: i32 = libc::ENODEV;
const EINVAL: i32 = libc::EINVAL;
const EEXIST: i32 = libc::EEXIST;
const EOPNOTSUPP: i32 = libc::EOPNOTSUPP;
const EAFNOSUPPORT: i32 = libc::EAFNOSUPPORT;

/// How a command's handler ends: `Err(errno)` makes the tool exit 1.
type Status = Result<(), i32>;

/// One command of upstream's table: name, usage (as `list-commands`
/// prints it), argument counts, whether `--read-only` refuses it.
struct Command {
    name: &'static str,
    usage: &'static str,
    min: usize,
    max: usize,
    writes: bool,
    run: fn(&mut Dpctl, &[String]) -> Status,
}

const MANY: usize = usize::MAX;

const COMMANDS: &[Command] = &[
    cmd("add-dp", "dp [iface...]", 1, MANY, true, Dpctl::add_dp),
    cmd("del-dp", "dp", 1, 1, true, Dpctl::del_dp),
    cmd("add-if", "dp iface...", 2, MANY, true, Dpctl::add_if),
    cmd("del-if", "dp iface...", 2, MANY, true, Dpctl::open_named),
    cmd("set-if", "dp iface...", 2, MANY, true, Dpctl::open_named),
    cmd("dump-dps", "", 0, 0, false, Dpctl::dump_dps),
    cmd("show", "[-s] [dp...]", 0, MANY, false, Dpctl::show),
    cmd(
        "dump-flows",
        "[-m] [--names] [dp] [filter=..] [type=..] [pmd=..]",
        0,
        6,
        false,
        Dpctl::dump_flows,
    ),
    cmd("add-flow", "[dp] flow actions", 2, 3, true, |d, a| {
        d.opt_open(a, 4)
    }),
    cmd("mod-flow", "[dp] flow actions", 2, 3, true, |d, a| {
        d.opt_open(a, 4)
    }),
    cmd("get-flow", "[dp] ufid", 1, 2, false, |d, a| {
        d.opt_open(a, 3)
    }),
    cmd("del-flow", "[dp] flow", 1, 2, true, |d, a| d.opt_open(a, 3)),
    cmd("add-flows", "[dp] file", 1, 2, true, |d, a| {
        d.opt_open(a, 4)
    }),
    cmd("mod-flows", "[dp] file", 1, 2, true, |d, a| {
        d.opt_open(a, 4)
    }),
    cmd("del-flows", "[dp] [file]", 0, 2, true, Dpctl::del_flows),
    cmd("offload-stats-show", "[dp]", 0, 1, false, |d, a| {
        d.opt_open(a, 2)
    }),
    cmd(
        "dump-conntrack",
        "[-m] [-s] [dp] [zone=N]",
        0,
        4,
        false,
        Dpctl::dump_conntrack,
    ),
    cmd(
        "flush-conntrack",
        "[dp] [zone=N] [ct-orig-tuple] [ct-reply-tuple]",
        0,
        4,
        true,
        Dpctl::flush_conntrack,
    ),
    cmd("cache-get-size", "[dp]", 0, 1, false, Dpctl::cache_get_size),
    cmd(
        "cache-set-size",
        "dp cache <size>",
        3,
        3,
        true,
        Dpctl::cache_set_size,
    ),
    cmd(
        "ct-stats-show",
        "[dp] [zone=N]",
        0,
        3,
        false,
        Dpctl::ct_stats_show,
    ),
    cmd("ct-bkts", "[dp] [gt=N]", 0, 2, false, Dpctl::ct_bkts),
    cmd("ct-set-maxconns", "[dp] maxconns", 1, 2, true, |d, a| {
        d.opt_open(a, 3)
    }),
    cmd("ct-get-maxconns", "[dp]", 0, 1, false, |d, a| {
        d.opt_open(a, 2)
    }),
    cmd("ct-get-nconns", "[dp]", 0, 1, false, |d, a| {
        d.opt_open(a, 2)
    }),
    cmd("ct-enable-tcp-seq-chk", "[dp]", 0, 1, true, |d, a| {
        d.opt_open(a, 2)
    }),
    cmd("ct-disable-tcp-seq-chk", "[dp]", 0, 1, true, |d, a| {
        d.opt_open(a, 2)
    }),
    cmd("ct-get-tcp-seq-chk", "[dp]", 0, 1, false, |d, a| {
        d.opt_open(a, 2)
    }),
    cmd(
        "ct-set-limits",
        "[dp] [default=L] [zone=N,limit=L]...",
        1,
        MANY,
        false,
        |d, a| d.limits(a, usize::MAX),
    ),
    cmd(
        "ct-del-limits",
        "[dp] zone=N1[,N2]...",
        1,
        2,
        false,
        |d, a| d.limits(a, 3),
    ),
    cmd(
        "ct-get-limits",
        "[dp] [zone=N1[,N2]...]",
        0,
        2,
        false,
        |d, a| d.limits(a, 3),
    ),
    cmd("ipf-set-enabled", "[dp] v4|v6", 1, 2, true, |d, a| {
        d.opt_open(a, 4)
    }),
    cmd("ipf-set-disabled", "[dp] v4|v6", 1, 2, true, |d, a| {
        d.opt_open(a, 4)
    }),
    cmd(
        "ipf-set-min-frag",
        "[dp] v4|v6 minfragment",
        2,
        3,
        true,
        |d, a| d.opt_open(a, 4),
    ),
    cmd("ipf-set-max-nfrags", "[dp] maxfrags", 1, 2, true, |d, a| {
        d.opt_open(a, 4)
    }),
    cmd("ipf-get-status", "[dp]", 0, 1, false, |d, a| {
        d.opt_open(a, 2)
    }),
    cmd("help", "", 0, MANY, false, Dpctl::help),
    cmd("list-commands", "", 0, MANY, false, Dpctl::list_commands),
    cmd(
        "parse-actions",
        "actions",
        1,
        MANY,
        false,
        Dpctl::parse_actions,
    ),
    cmd(
        "normalize-actions",
        "actions",
        2,
        MANY,
        false,
        Dpctl::normalize_actions,
    ),
];

const fn cmd(
    name: &'static str,
    usage: &'static str,
    min: usize,
    max: usize,
    writes: bool,
    run: fn(&mut Dpctl, &[String]) -> Status,
) -> Command {
    Command {
        name,
        usage,
        min,
        max,
        writes,
        run,
    }
}

/// Options that change what commands do.
#[derive(Default)]
struct Params {
    read_only: bool,
    verbosity: u32,
}

/// A datapath name as the tools write it: `[TYPE@]NAME`, type `system`
/// when omitted.
struct DpName {
    kind: String,
    name: String,
}

fn parse_dp_name(arg: &str) -> DpName {
    match arg.split_once('@') {
        Some((kind, name)) => DpName {
            kind: kind.to_string(),
            name: name.to_string(),
        },
        None => DpName {
            kind: "system".into(),
            name: arg.to_string(),
        },
    }
}

/// The datapath types this process knows (upstream's registered dpif
/// classes; `dummy` only with `--enable-dummy`, which this tool lacks).
const DP_TYPES: &[&str] = &["netdev", "system"];

/// The tool's state: its parameters, whether the datapath layer has
/// announced itself, and the userspace datapaths this process created.
struct Dpctl {
    params: Params,
    dpif_ready: bool,
    local: BTreeSet<String>,
    out: String,
}

impl Dpctl {
    /// Prints `ovs-dpctl: MSG[ (strerror)]` to stderr, after what stdout
    /// holds so far (upstream flushes stdout first).
    fn error(&mut self, errno: i32, msg: &str) {
        self.flush();
        if errno != 0 {
            eprintln!("{PROGRAM}: {msg} ({})", rpc::errno::strerror(errno));
        } else {
            eprintln!("{PROGRAM}: {msg}");
        }
    }

    fn flush(&mut self) {
        let mut so = std::io::stdout().lock();
        let _ = so.write_all(self.out.as_bytes());
        let _ = so.flush();
        self.out.clear();
    }

    /// The first use of the datapath layer: the kernel's datapath family
    /// is looked for and not found.
    fn dpif_init(&mut self) {
        if self.dpif_ready {
            return;
        }
        self.dpif_ready = true;
        if std::path::Path::new("/sys/module/openvswitch").exists() {
            vlog::info!(
                "dpif_netlink",
                "the Open vSwitch kernel module is loaded, but ferrovs does not manage kernel datapaths"
            );
        } else {
            vlog::info!(
                "dpif_netlink",
                "Generic Netlink family 'ovs_datapath' does not exist. The Open vSwitch kernel module is probably not loaded."
            );
        }
    }

    /// `dp_enumerate_names`: the datapaths of one type.
    fn enumerate(&mut self, kind: &str) -> Result<Vec<String>, i32> {
        self.dpif_init();
        match kind {
            "netdev" => Ok(self.local.iter().cloned().collect()),
            "system" => {
                vlog::warn!(
                    "dpif",
                    "failed to enumerate system datapaths: No such file or directory"
                );
                Err(ENOENT)
            }
            _ => Ok(Vec::new()),
        }
    }

    /// `dpif_open`/`dpif_create` of a parsed name.
    fn open(&mut self, dp: &DpName, create: bool) -> Result<(), i32> {
        self.dpif_init();
        match dp.kind.as_str() {
            "system" => Err(ENOENT),
            "netdev" => {
                if create {
                    if !self.local.insert(dp.name.clone()) {
                        return Err(EEXIST);
                    }
                    Ok(())
                } else if self.local.contains(&dp.name) {
                    Ok(())
                } else {
                    Err(ENODEV)
                }
            }
            other => {
                vlog::warn!(
                    "dpif",
                    "could not create datapath {} of unknown type {other}",
                    dp.name
                );
                Err(EAFNOSUPPORT)
            }
        }
    }

    /// Opens (or creates) the datapath `arg` names; a failure is reported
    /// as `what (strerror)`.
    fn open_or_report(&mut self, arg: &str, create: bool, what: &str) -> Status {
        self.open(&parse_dp_name(arg), create)
            .inspect_err(|&e| self.error(e, what))
    }

    fn dp_exists(&mut self, arg: &str) -> bool {
        let dp = parse_dp_name(arg);
        self.dpif_init();
        DP_TYPES.contains(&dp.kind.as_str())
            && self
                .enumerate(&dp.kind)
                .is_ok_and(|names| names.contains(&dp.name))
    }

    fn dp_arg_exists(&mut self, args: &[String]) -> bool {
        args.len() > 1 && self.dp_exists(&args[1])
    }

    /// `get_one_dp`: the only datapath there is.
    fn one_dp(&mut self) -> Option<String> {
        let mut found = Vec::new();
        for kind in DP_TYPES {
            if let Ok(names) = self.enumerate(kind) {
                found.extend(names.into_iter().map(|n| format!("{kind}@{n}")));
            }
        }
        match found.len() {
            0 => {
                self.error(0, "no datapaths exist");
                None
            }
            1 => found.pop(),
            _ => {
                self.error(0, "multiple datapaths, specify one");
                None
            }
        }
    }

    /// `opt_dpif_open`: the datapath named by the first argument if it
    /// exists, else the only datapath there is, unless the arguments are
    /// already as many as the command takes with a datapath.
    fn opt_open(&mut self, args: &[String], max: usize) -> Status {
        let name = if self.dp_arg_exists(args) {
            Some(args[1].clone())
        } else if args.len() != max {
            self.one_dp()
        } else {
            None
        };
        let Some(name) = name else {
            self.error(EINVAL, "datapath not found");
            return Err(EINVAL);
        };
        self.open_or_report(&name, false, "opening datapath")?;
        // The only datapath that can exist here is one this process made,
        // and it has no ports, flows or connections to act on.
        Ok(())
    }

    /// Commands whose first argument must name a datapath.
    fn open_named(&mut self, args: &[String]) -> Status {
        self.open_or_report(&args[1], false, "opening datapath")
    }

    fn add_dp(&mut self, args: &[String]) -> Status {
        self.open_or_report(&args[1], true, "add_dp")?;
        if args.len() > 2 {
            return self.add_if(args);
        }
        Ok(())
    }

    fn del_dp(&mut self, args: &[String]) -> Status {
        self.open_named(args)?;
        self.local.remove(&parse_dp_name(&args[1]).name);
        Ok(())
    }

    /// `add-if DP IFACE[,type=T][,port_no=N][,KEY=VALUE]...`
    fn add_if(&mut self, args: &[String]) -> Status {
        self.open_named(args)?;
        let mut last = Ok(());
        for spec in &args[2..] {
            let mut parts = spec.split(',').filter(|p| !p.is_empty());
            let Some(name) = parts.next() else {
                self.error(0, &format!("{spec} is not a valid network device name"));
                last = Err(EINVAL);
                continue;
            };
            let mut kind = "system";
            let mut seen = BTreeSet::new();
            for opt in parts {
                let key = opt.split_once('=').map_or(opt, |(k, _)| k);
                match key {
                    "type" => kind = opt.split_once('=').map_or("", |(_, v)| v),
                    "port_no" => {}
                    _ => {
                        if !seen.insert(key.to_string()) {
                            self.error(0, &format!("duplicate \"{key}\" option"));
                        }
                    }
                }
            }
            if let Err(e) = self.add_port(&args[1], name, kind) {
                last = Err(e);
            }
        }
        last
    }

    /// Adds one device to a datapath of this process.
    fn add_port(&mut self, dp: &str, name: &str, kind: &str) -> Status {
        const KNOWN: &[&str] = &[
            "system",
            "internal",
            "tap",
            "patch",
            "vxlan",
            "geneve",
            "gre",
            "erspan",
            "ip6erspan",
            "ip6gre",
            "stt",
            "lisp",
            "gtpu",
            "bareudp",
            "srv6",
        ];
        if !KNOWN.contains(&kind) {
            vlog::warn!(
                "netdev",
                "could not create netdev {name} of unknown type {kind}"
            );
            self.error(
                EAFNOSUPPORT,
                &format!("{name}: failed to open network device"),
            );
            return Err(EAFNOSUPPORT);
        }
        if kind == "system" {
            let Ok(cname) = std::ffi::CString::new(name) else {
                self.error(ENODEV, &format!("{name}: failed to open network device"));
                return Err(ENODEV);
            };
            // SAFETY: a valid NUL-terminated string.
            if unsafe { libc::if_nametoindex(cname.as_ptr()) } == 0 {
                self.error(ENODEV, &format!("{name}: failed to open network device"));
                return Err(ENODEV);
            }
        }
        // A datapath of this process vanishes when it exits: ferrovs does
        // not open devices for it (upstream's would, for nothing).
        self.error(EOPNOTSUPP, &format!("adding {name} to {dp} failed"));
        Err(EOPNOTSUPP)
    }

    /// `dps_for_each`: every datapath, or the enumeration error when
    /// there is none.
    fn for_each_dp(&mut self, mut each: impl FnMut(&mut Self, &str, &str)) -> Status {
        let mut enum_error = None;
        let mut any = false;
        for kind in DP_TYPES {
            match self.enumerate(kind) {
                Ok(names) => {
                    for n in names {
                        any = true;
                        each(self, kind, &n);
                    }
                }
                Err(e) => enum_error = Some(e),
            }
        }
        match enum_error {
            Some(e) if !any => Err(e),
            _ => Ok(()),
        }
    }

    fn show_dp(&mut self, kind: &str, name: &str) {
        // A datapath of this process: created empty, its local port
        // not opened (see add_port).
        self.out.push_str(&format!(
            "{kind}@{name}:\n  lookups: hit:0 missed:0 lost:0\n  flows: 0\n  masks: hit:0 total:0 hit/pkt:0.00\n"
        ));
    }

    fn show(&mut self, args: &[String]) -> Status {
        if args.len() == 1 {
            return self.for_each_dp(|d, k, n| d.show_dp(k, n));
        }
        let mut last = Ok(());
        for arg in &args[1..] {
            let dp = parse_dp_name(arg);
            match self.open(&dp, false) {
                Ok(()) => self.show_dp(&dp.kind, &dp.name),
                Err(e) => {
                    self.error(e, &format!("opening datapath {arg} failed"));
                    last = Err(e);
                }
            }
        }
        last
    }

    fn dump_dps(&mut self, _args: &[String]) -> Status {
        self.for_each_dp(|d, k, n| d.out.push_str(&format!("{k}@{n}\n")))
    }

    /// `dump-flows [DP] [filter=F] [type=T] [pmd=N]`: the trailing
    /// keyword arguments are taken off first; `type=` belongs to
    /// `ovs-appctl dpctl/dump-flows`.
    fn dump_flows(&mut self, args: &[String]) -> Status {
        let mut n = args.len();
        let (mut filter, mut pmd) = (false, false);
        loop {
            let before = n;
            if n > 1 {
                let last = &args[n - 1];
                if last.starts_with("filter=") && !filter {
                    filter = true;
                    n -= 1;
                } else if last.starts_with("type=") {
                    self.error(
                        0,
                        "Invalid argument 'type'. Use 'ovs-appctl dpctl/dump-flows' instead.",
                    );
                    return Err(EINVAL);
                } else if let Some(v) = last.strip_prefix("pmd=").filter(|_| !pmd) {
                    if scan_int(v).is_none() {
                        return Err(EINVAL);
                    }
                    pmd = true;
                    n -= 1;
                }
            }
            if n == before {
                break;
            }
        }
        self.opt_open(&args[..n], 2)
    }

    /// `del-flows [DP] [FILE]`: with a file, the flows in it; else all.
    fn del_flows(&mut self, args: &[String]) -> Status {
        let dp = usize::from(self.dp_arg_exists(args));
        if args.len() - dp == 2 {
            self.opt_open(args, 4)
        } else {
            self.opt_open(args, 2)
        }
    }

    fn dump_conntrack(&mut self, args: &[String]) -> Status {
        let mut n = args.len();
        if n > 1 && scan_zone(&args[n - 1]).is_some() {
            n -= 1;
        }
        self.opt_open(&args[..n], 2)
    }

    /// `flush-conntrack [DP] [zone=N] [ORIG-TUPLE [REPLY-TUPLE]]`: the
    /// arguments are checked before the datapath is looked up, from the
    /// first one on (so, as upstream's, a datapath name there is taken for
    /// a tuple).
    fn flush_conntrack(&mut self, args: &[String]) -> Status {
        let mut i = 1;
        let mut left = args.len() - 1;
        if left > 0 && args[i].starts_with("zone=") {
            if scan_zone(&args[i]).is_none() {
                self.error(EINVAL, "failed to parse zone");
                return Err(EINVAL);
            }
            i += 1;
            left -= 1;
        }
        let mut tuple = openflow::msgs::ct_flush::CtTuple::default();
        let (mut proto, mut l3) = (0u8, 0u8);
        for _ in 0..2 {
            if left == 0 {
                break;
            }
            if let Err(msg) = crate::ofctl::online_switch::parse_ct_tuple(
                &args[i], &mut tuple, &mut proto, &mut l3,
            ) {
                self.error(EINVAL, &msg);
                return Err(EINVAL);
            }
            i += 1;
            left -= 1;
        }
        if left > 1 {
            self.error(EINVAL, "Invalid arguments");
            return Err(EINVAL);
        }
        self.opt_open(args, 5).inspect_err(|&e| {
            self.error(e, "Cannot open dpif");
        })
    }

    fn cache_get_size(&mut self, args: &[String]) -> Status {
        if args.len() > 1 {
            return self.open_capitalized(&args[1]);
        }
        self.for_each_dp(|_, _, _| {})
    }

    fn cache_set_size(&mut self, args: &[String]) -> Status {
        if scan_uint(&args[3]).is_none() {
            self.error(EINVAL, "size is malformed");
            return Err(EINVAL);
        }
        self.open_capitalized(&args[1])
    }

    /// The cache commands' own wording of an open failure.
    fn open_capitalized(&mut self, arg: &str) -> Status {
        self.open_or_report(arg, false, &format!("Opening datapath {arg} failed"))
    }

    fn ct_stats_show(&mut self, args: &[String]) -> Status {
        let mut n = args.len();
        loop {
            let before = n;
            if n > 1 {
                let last = &args[n - 1];
                if last.starts_with("verbose") {
                    n -= 1;
                } else if last.starts_with("zone=") && scan_zone(last).is_some() {
                    n -= 1;
                }
            }
            if n == before {
                break;
            }
        }
        self.opt_open(&args[..n], 2)
    }

    fn ct_bkts(&mut self, args: &[String]) -> Status {
        let mut n = args.len();
        if n > 1 {
            if let Some(v) = args[n - 1].strip_prefix("gt=") {
                if scan_uint(v).is_some_and(|g| g <= u64::from(u16::MAX)) {
                    n -= 1;
                }
            }
        }
        self.opt_open(&args[..n], 2)
    }

    /// The conntrack limit commands look for a datapath argument before
    /// the lookup proper.
    fn limits(&mut self, args: &[String], max: usize) -> Status {
        self.dp_arg_exists(args);
        self.opt_open(args, max)
    }

    fn help(&mut self, _args: &[String]) -> Status {
        self.out.push_str(&usage());
        Ok(())
    }

    fn list_commands(&mut self, _args: &[String]) -> Status {
        self.out.push_str("The available commands are:\n");
        for c in COMMANDS {
            self.out
                .push_str(&format!("  {:<23} {}\n", c.name, c.usage));
        }
        Ok(())
    }

    fn parse_actions(&mut self, args: &[String]) -> Status {
        for a in &args[1..] {
            match odp_actions::parse_odp_actions(a) {
                Ok(acts) => {
                    self.out.push_str(&odp_actions::format_odp_actions(&acts));
                    self.out.push('\n');
                }
                Err(_) => {
                    self.error(EINVAL, "odp_actions_from_string");
                    return Err(EINVAL);
                }
            }
        }
        Ok(())
    }

    /// `normalize-actions FLOW ACTIONS [NAME=NUMBER]...`: what the actions
    /// output for each VLAN the packet carries at that point, independent
    /// of their order.
    fn normalize_actions(&mut self, args: &[String]) -> Status {
        let mut ports = PortNames::new();
        for a in &args[3..] {
            match parse_port_assignment(a) {
                Some((name, no)) => {
                    ports.insert(name, no);
                }
                None => {
                    self.error(0, &format!("{a}: expected NAME=NUMBER"));
                    return Err(EINVAL);
                }
            }
        }
        let lookup = |n: &str| ports.get(n).copied();
        let key = match flow::odp::parse_key(&args[1], Some(&lookup)) {
            Ok((key, _)) => key,
            Err(e) => {
                self.error(EINVAL, &format!("odp_flow_key_from_string ({e})"));
                return Err(EINVAL);
            }
        };
        let text = flow::odp::format_key(&key, None, None, self.params.verbosity > 0);
        self.out.push_str(&format!("input flow: {text}\n"));
        let (mut flow, fit) = flow::odp::key::key_to_flow(&key);
        let fit_errno = match fit {
            flow::odp::key::Fitness::Perfect => 0,
            flow::odp::key::Fitness::TooMuch => 1,
            flow::odp::key::Fitness::TooLittle => 2,
            flow::odp::key::Fitness::Error => 3,
        };
        if fit_errno != 0 {
            self.error(fit_errno, "odp_flow_key_to_flow failed (reason unknown)");
            return Err(fit_errno);
        }
        let acts = match odp_actions::parse_odp_actions_with_ports(&args[2], Some(&ports)) {
            Ok(a) => a,
            Err(_) => {
                self.error(EINVAL, "odp_actions_from_string");
                return Err(EINVAL);
            }
        };
        if self.params.verbosity > 0 {
            let s = odp_actions::format_odp_actions(&acts);
            self.out.push_str(&format!("input actions: {s}\n"));
        }
        // Actions grouped by the VLAN headers in effect, in flow order.
        let mut groups: Vec<([packet::flow::Vlan; 2], Vec<OdpAction>)> = Vec::new();
        for a in acts {
            match a {
                OdpAction::PopVlan => {
                    flow.vlans[0] = flow.vlans[1];
                    flow.vlans[1] = Default::default();
                }
                OdpAction::PushVlan { tpid, tci } => {
                    flow.vlans[1] = flow.vlans[0];
                    flow.vlans[0] = packet::flow::Vlan { tpid, tci };
                }
                other => match groups.iter_mut().find(|(v, _)| *v == flow.vlans) {
                    Some((_, list)) => list.push(other),
                    None => groups.push((flow.vlans, vec![other])),
                },
            }
        }
        // Upstream orders by the flows' bytes: TPID then TCI, network order.
        groups.sort_by_key(|(v, _)| [v[0].tpid, v[0].tci, v[1].tpid, v[1].tci]);
        for (vlans, mut list) in groups {
            sort_output_runs(&mut list);
            for (depth, v) in vlans.iter().enumerate() {
                if v.tci == 0 {
                    if depth == 0 {
                        self.out.push_str("no vlan: ");
                    }
                    break;
                }
                self.out.push_str("vlan(");
                if v.tpid != 0x8100 {
                    // Upstream prints the TPID as it sits in memory.
                    self.out
                        .push_str(&format!("tpid=0x{:04x},", v.tpid.swap_bytes()));
                }
                self.out
                    .push_str(&format!("vid={},pcp={}): ", v.tci & 0xfff, v.tci >> 13));
            }
            if matches!(flow.dl_type, 0x8847 | 0x8848) {
                let lse = flow.mpls_lse[0];
                self.out.push_str(&format!(
                    "mpls(label={},tc={},ttl={}): ",
                    lse >> 12,
                    (lse >> 9) & 7,
                    lse & 0xff
                ));
            } else {
                self.out.push_str("no mpls: ");
            }
            // Upstream ends each group without a newline.
            self.out.push_str(&odp_actions::format_odp_actions(&list));
        }
        Ok(())
    }
}

/// Sorts each run of consecutive outputs by port number.
fn sort_output_runs(list: &mut [OdpAction]) {
    let mut start = 0;
    while start < list.len() {
        let end = list[start..]
            .iter()
            .position(|a| !matches!(a, OdpAction::Output(_)))
            .map_or(list.len(), |p| start + p);
        list[start..end].sort_by_key(|a| match a {
            OdpAction::Output(p) => *p,
            _ => 0,
        });
        start = end + 1;
    }
}

/// `%15[^=]=%d`: a port name of at most 15 characters and its number.
fn parse_port_assignment(s: &str) -> Option<(String, u32)> {
    let (name, rest) = s.split_once('=')?;
    if name.is_empty() {
        return None;
    }
    let name: String = name.chars().take(15).collect();
    if name.len() < s.split_once('=')?.0.len() {
        return None;
    }
    let n = scan_int(rest)?;
    Some((name, n as u32))
}

/// `%d`: optional sign and decimal digits, the rest ignored.
fn scan_int(s: &str) -> Option<i64> {
    let t = s.trim_start();
    let (neg, body) = match t.strip_prefix('-') {
        Some(r) => (true, r),
        None => (false, t.strip_prefix('+').unwrap_or(t)),
    };
    let digits: String = body.chars().take_while(char::is_ascii_digit).collect();
    let v: i64 = digits.parse().ok()?;
    Some(if neg { v.wrapping_neg() } else { v })
}

/// `%u`-style unsigned decimal prefix.
fn scan_uint(s: &str) -> Option<u64> {
    let digits: String = s
        .trim_start()
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// `zone=%hu`.
fn scan_zone(s: &str) -> Option<u16> {
    scan_uint(s.strip_prefix("zone=")?).map(|v| v as u16)
}

/// The help text, with the log directory in effect.
fn usage() -> String {
    USAGE.replace("@LOGDIR@", &rpc::paths::logdir().display().to_string())
}

/// What parsing the command line decided.
enum Early {
    Exit(String),
    Usage(String),
    Fatal(String),
}

fn option_list() -> String {
    let mut s = String::new();
    for (long, short, arg) in OPTIONS {
        let (l, sh) = match arg {
            Arg::None => ("", " "),
            Arg::Required => ("=ARG", " ARG"),
            Arg::Optional => ("=[ARG]", " [ARG]"),
        };
        s.push_str(&format!("--{long}{l}\n"));
        if let Some(c) = short {
            s.push_str(&format!("-{c}{sh}\n"));
        }
    }
    s
}

fn parse_options(args: &[String], p: &mut Params) -> Result<Vec<String>, Early> {
    let words = crate::getopt::parse(args, OPTIONS, Words::Permute, Early::Usage, |n, v| {
        match n {
            "read-only" => p.read_only = true,
            "more" => p.verbosity += 1,
            "timeout" => {
                let v = v.unwrap_or_default();
                match scan_uint(&v).filter(|_| v.chars().all(|c| c.is_ascii_digit())) {
                    Some(secs) => {
                        // SAFETY: arming this process's own alarm.
                        unsafe { libc::alarm(secs.min(u64::from(u32::MAX)) as u32) };
                    }
                    None => {
                        return Err(Early::Fatal(format!(
                            "value {v} on -t or --timeout is invalid"
                        )))
                    }
                }
            }
            "help" => return Err(Early::Exit(usage())),
            "option" => return Err(Early::Exit(option_list())),
            "version" => return Err(Early::Exit(format!("{PROGRAM} (Open vSwitch) 3.1.0\n"))),
            "verbose" => {
                vlog::set_levels_from_string(v.as_deref().unwrap_or("")).map_err(Early::Fatal)?
            }
            "log-file" => {
                let path = v.unwrap_or_else(|| {
                    rpc::paths::logdir()
                        .join(format!("{PROGRAM}.log"))
                        .display()
                        .to_string()
                });
                vlog::set_log_file(&path).map_err(Early::Fatal)?;
            }
            "syslog-target" => vlog::warn!(
                "vlog",
                "--syslog-target flag is deprecated, use --syslog-method instead"
            ),
            // --statistics, --clear, --may-create and --names only change
            // how a datapath's ports and flows print or update, and no
            // datapath this tool can open has any.
            _ => {}
        }
        Ok(true)
    })?;
    Ok(words.unwrap_or_default())
}

/// Entry point of the personality.
pub fn main(_program: &str, args: Vec<String>) -> i32 {
    vlog::set_program_name(PROGRAM);
    vlog::register_modules(LOG_MODULES);
    let mut params = Params::default();
    let words = match parse_options(&args, &mut params) {
        Ok(w) => w,
        Err(Early::Exit(text)) => {
            print!("{text}");
            let _ = std::io::stdout().flush();
            return 0;
        }
        Err(Early::Usage(msg)) => {
            eprintln!("{}: {msg}", crate::getopt::argv0(PROGRAM));
            return 1;
        }
        Err(Early::Fatal(msg)) => {
            eprintln!("{PROGRAM}: {msg}");
            return 1;
        }
    };
    let mut d = Dpctl {
        params,
        dpif_ready: false,
        local: BTreeSet::new(),
        out: String::new(),
    };
    let status = run_command(&mut d, &words);
    d.flush();
    i32::from(status.is_err())
}

fn run_command(d: &mut Dpctl, words: &[String]) -> Status {
    let Some(name) = words.first() else {
        d.error(0, "missing command name; use --help for help");
        return Err(EINVAL);
    };
    let Some(c) = COMMANDS.iter().find(|c| c.name == name) else {
        d.error(0, &format!("unknown command '{name}'; use --help for help"));
        return Err(EINVAL);
    };
    let n = words.len() - 1;
    if n < c.min {
        d.error(
            0,
            &format!("'{}' command requires at least {} arguments", c.name, c.min),
        );
        return Err(EINVAL);
    }
    if n > c.max {
        d.error(
            0,
            &format!("'{}' command takes at most {} arguments", c.name, c.max),
        );
        return Err(EINVAL);
    }
    if c.writes && d.params.read_only {
        d.error(
            0,
            &format!("'{}' command does not work in read only mode", c.name),
        );
        return Err(EINVAL);
    }
    (c.run)(d, words)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(v: &[&str]) -> Vec<String> {
        v.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn output_runs_sort_between_other_actions() {
        let mut v = odp_actions::parse_odp_actions("3,1,pop_vlan,9,2,4").unwrap();
        sort_output_runs(&mut v);
        assert_eq!(odp_actions::format_odp_actions(&v), "1,3,pop_vlan,2,4,9");
    }

    #[test]
    fn port_assignments_as_upstream_scans_them() {
        assert_eq!(parse_port_assignment("p1=3"), Some(("p1".into(), 3)));
        assert_eq!(parse_port_assignment("p1"), None);
        assert_eq!(parse_port_assignment("=3"), None);
        assert_eq!(parse_port_assignment("p=x"), None);
        assert_eq!(parse_port_assignment("abcdefghijklmnop=1"), None);
    }

    #[test]
    fn normalize_groups_outputs_by_vlan() {
        let mut d = Dpctl {
            params: Params::default(),
            dpif_ready: true,
            local: BTreeSet::new(),
            out: String::new(),
        };
        let args = strings(&[
            "normalize-actions",
            "in_port(1),eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),eth_type(0x1234)",
            "4,push_vlan(vid=5,pcp=0),3,2,pop_vlan,1",
        ]);
        d.normalize_actions(&args).unwrap();
        assert!(
            d.out
                .ends_with("no vlan: no mpls: 1,4vlan(vid=5,pcp=0): no mpls: 2,3"),
            "{}",
            d.out
        );
    }

    #[test]
    fn every_command_is_listed_once() {
        let names: BTreeSet<_> = COMMANDS.iter().map(|c| c.name).collect();
        assert_eq!(names.len(), COMMANDS.len());
    }
}
