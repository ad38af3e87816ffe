//! What every online `ovs-ofctl` command shares: turning a target (bridge
//! name, socket file, `unix:`/`tcp:` name) into an OpenFlow connection with
//! upstream's error texts, the request/reply patterns (print every reply,
//! send and wait for a barrier, report the switch's error and exit 1), the
//! port and table name maps fetched from the switch, and `-t`.
//!
//! Each command group lives in its own `online_*.rs` module.

use super::options::Options;
use super::protocols::session_versions;
use super::Fatal;
use flow::port::PortMap;
use flow::Protocols;
use openflow::print::ofp_to_string;
use openflow::raw::{decode_raw, finish, start, Class, OfpRaw};
use openflow::vconn::{alloc_xid, xid_of, Vconn};
use std::cell::RefCell;
use std::collections::HashMap;
use std::io::Write;
use std::path::Path;

/// Which of a bridge's sockets a target names by default.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Target {
    Mgmt,
    Snoop,
}

fn is_socket(p: &Path) -> bool {
    use std::os::unix::fs::FileTypeExt;
    std::fs::metadata(p).is_ok_and(|m| m.file_type().is_socket())
}

/// The stream name for `name`: names with `:` as they are, a socket file,
/// or the bridge's `<rundir>/<name>.<suffix>` socket.
pub fn resolve_target(name: &str, target: Target) -> Result<String, Fatal> {
    if name.contains(':') {
        return Ok(name.to_string());
    }
    let suffix = match target {
        Target::Mgmt => "mgmt",
        Target::Snoop => "snoop",
    };
    let rundir = rpc::paths::rundir();
    // A `type@name` datapath name uses only its name part.
    let dp_name = name.split_once('@').map_or(name, |(_, n)| n);
    if is_socket(Path::new(name)) {
        return Ok(format!("unix:{name}"));
    }
    let bridge_path = rundir.join(format!("{name}.{suffix}"));
    if is_socket(&bridge_path) {
        return Ok(format!("unix:{}", bridge_path.display()));
    }
    let socket_name = rundir.join(format!("{dp_name}.{suffix}"));
    if is_socket(&socket_name) {
        return Ok(format!("unix:{}", socket_name.display()));
    }
    Err(Fatal(format!("{name} is not a bridge or a socket")))
}

/// Opens and connects to `name` (upstream's `open_vconn__`).
pub fn open_target(opts: &Options, name: &str, target: Target) -> Result<Vconn, Fatal> {
    let stream = resolve_target(name, target)?;
    let versions = session_versions(opts)?;
    let mut v = Vconn::open(&stream, versions)
        .map_err(|e| Fatal(format!("connecting to {stream} ({e})")))?;
    if target == Target::Snoop {
        v.set_recv_any_version(true);
    }
    v.connect()
        .map_err(|e| Fatal(format!("{name}: failed to connect to socket ({e})")))?;
    Ok(v)
}

/// Opens the management connection of `name`.
pub fn open_vconn(opts: &Options, name: &str) -> Result<Vconn, Fatal> {
    open_target(opts, name, Target::Mgmt)
}

/// The protocol variant the connection's version starts with.
pub fn base_protocol(v: &Vconn) -> Protocols {
    match v.version() {
        1 => Protocols::OF10_STD,
        2 => Protocols::OF11_STD,
        3 => Protocols::OF12_OXM,
        4 => Protocols::OF13_OXM,
        5 => Protocols::OF14_OXM,
        _ => Protocols::OF15_OXM,
    }
}

/// `what (strerror)` for a failed connection operation.
pub fn io_fatal(what: &str, e: openflow::vconn::VconnError) -> Fatal {
    Fatal(format!("{what} ({e})"))
}

/// Builds a request with no body.
pub fn empty_request(raw: OfpRaw, version: u8) -> Vec<u8> {
    finish(start(raw, version, alloc_xid()))
}

/// Whether `msg` is a multipart request.
fn is_stats_request(msg: &[u8]) -> bool {
    matches!(
        decode_raw(msg).map(|r| r.info().class),
        Ok(Class::St(_, false)) | Ok(Class::Nxst(_, false)) | Ok(Class::Onfst(_, false))
    )
}

fn is_stats_reply(msg: &[u8]) -> bool {
    openflow::vconn::is_multipart_reply(msg)
}

/// Prints one message as ovs-ofctl prints replies.
pub fn print_msg(opts: &Options, msg: &[u8]) {
    print!("{}", ofp_to_string(msg, opts.verbosity + 1));
}

/// Sends `request` and prints every reply (upstream's `dump_transaction`).
pub fn dump_transaction(opts: &Options, v: &mut Vconn, request: &[u8]) -> Result<(), Fatal> {
    for reply in collect_transaction(v, request)? {
        print_msg(opts, &reply);
    }
    Ok(())
}

/// Like [`dump_transaction`], returning the replies instead of printing.
pub fn collect_transaction(v: &mut Vconn, request: &[u8]) -> Result<Vec<Vec<u8>>, Fatal> {
    if !is_stats_request(request) {
        let name = v.name().to_string();
        let reply = v
            .transact(request)
            .map_err(|e| io_fatal(&format!("talking to {name}"), e))?;
        return Ok(vec![reply]);
    }
    let xid = xid_of(request);
    v.send(request)
        .map_err(|e| io_fatal("failed to send packet to switch", e))?;
    let mut out = Vec::new();
    loop {
        let reply = v
            .recv()
            .map_err(|e| io_fatal("OpenFlow receive failed", e))?;
        if xid_of(&reply) != xid {
            vlog::dbg!(
                "ofctl",
                "received reply with xid {:08x} != expected {:08x}",
                xid_of(&reply),
                xid
            );
            continue;
        }
        match decode_raw(&reply) {
            Err(e) => {
                print!("{}", ofp_to_string(&reply, 1));
                return Err(Fatal(format!("decode error: {}", e.name())));
            }
            Ok(OfpRaw::OFPT_ERROR) => {
                out.push(reply);
                return Ok(out);
            }
            Ok(_) if is_stats_reply(&reply) => {
                let more = openflow::raw::stats_flags(&reply) & 1 != 0;
                out.push(reply);
                if !more {
                    return Ok(out);
                }
            }
            Ok(_) => {
                return Err(Fatal(format!(
                    "received bad reply: {}",
                    ofp_to_string(&reply, 2)
                )))
            }
        }
    }
}

/// Opens `name`, sends a body-less `raw` request and prints the replies
/// (upstream's `dump_trivial_transaction`).
pub fn dump_trivial(opts: &Options, name: &str, raw: OfpRaw) -> Result<(), Fatal> {
    let mut v = open_vconn(opts, name)?;
    let req = empty_request(raw, v.version());
    dump_transaction(opts, &mut v, &req)
}

/// Exits as upstream does when the switch answers a request with an
/// error: the reply on stderr, exit status 1.
pub fn die_with_reply(opts: &Options, reply: &[u8]) -> ! {
    let _ = std::io::stdout().flush();
    eprint!("{}", ofp_to_string(reply, opts.verbosity + 2));
    let _ = std::io::stderr().flush();
    std::process::exit(1)
}

/// Sends each request followed by a barrier; a reply to any of them (an
/// error) is printed on stderr and ends the program with status 1.
pub fn transact_noreply(opts: &Options, v: &mut Vconn, requests: &[Vec<u8>]) -> Result<(), Fatal> {
    let name = v.name().to_string();
    match v.transact_multiple_noreply(requests) {
        Err(e) => Err(io_fatal(&format!("talking to {name}"), e)),
        Ok(Some(reply)) => die_with_reply(opts, &reply),
        Ok(None) => Ok(()),
    }
}

/// Upstream's `OFPUTIL_P_*` requirement check for commands that need a
/// minimum version: `CMD needs OpenFlow 1.N or later ('-O OpenFlow1N')`.
pub fn require_version(v: &Vconn, cmd: &str, min: u8) -> Result<(), Fatal> {
    if v.version() < min {
        let minor = min - 1;
        return Err(Fatal(format!(
            "{cmd} needs OpenFlow 1.{minor} or later ('-O OpenFlow1{minor}')"
        )));
    }
    Ok(())
}

/// A switch's port names and numbers (OF1.0 numbering for reserved
/// ports), as fetched once per target.
#[derive(Clone, Debug, Default)]
pub struct SwitchPorts {
    /// (number, name) in the switch's order.
    pub ports: Vec<(u32, String)>,
}

impl SwitchPorts {
    pub fn map(&self) -> PortMap {
        let mut m = PortMap::new();
        for (n, name) in &self.ports {
            m.insert(name, *n);
        }
        m
    }
}

thread_local! {
    static PORT_CACHE: RefCell<HashMap<String, SwitchPorts>> = RefCell::new(HashMap::new());
    static TABLE_CACHE: RefCell<HashMap<String, PortMap>> = RefCell::new(HashMap::new());
}

/// The ports of switch `name` (upstream's `get_port_map`): a features
/// request up to OpenFlow 1.2, a port description request after.
pub fn fetch_ports(opts: &Options, name: &str) -> Result<SwitchPorts, Fatal> {
    if let Some(p) = PORT_CACHE.with(|c| c.borrow().get(name).cloned()) {
        return Ok(p);
    }
    let mut v = open_vconn(opts, name)?;
    let ports = fetch_ports_on(&mut v)?;
    PORT_CACHE.with(|c| c.borrow_mut().insert(name.to_string(), ports.clone()));
    Ok(ports)
}

/// The port descriptions of the switch behind `v`.
pub fn fetch_port_descs(v: &mut Vconn) -> Result<Vec<openflow::msgs::port::PhyPort>, Fatal> {
    use openflow::msgs::port::decode_ports;
    use openflow::msgs::switch::SwitchFeatures;
    let version = v.version();
    let mut descs = Vec::new();
    if version <= 3 {
        let req = empty_request(OfpRaw::OFPT_FEATURES_REQUEST, version);
        let name = v.name().to_string();
        let reply = v
            .transact(&req)
            .map_err(|e| io_fatal(&format!("talking to {name}"), e))?;
        if reply.get(1) == Some(&6) {
            if let Ok(f) = SwitchFeatures::decode(version, &reply[8..]) {
                descs = f.ports;
            }
        }
    } else {
        let req = port_desc_request(version, 0xffff_ffff);
        for reply in collect_transaction(v, &req)? {
            if let Ok(raw) = decode_raw(&reply) {
                if raw != OfpRaw::OFPT_ERROR {
                    let body = &reply[raw.header_len(version)..];
                    if let Ok(p) = decode_ports(version, body) {
                        descs.extend(p);
                    }
                }
            }
        }
    }
    Ok(descs)
}

fn fetch_ports_on(v: &mut Vconn) -> Result<SwitchPorts, Fatal> {
    let descs = fetch_port_descs(v)?;
    Ok(SwitchPorts {
        ports: descs
            .into_iter()
            .map(|p| (u32::from(p.port_no), p.name))
            .collect(),
    })
}

/// A port description request for `port` (OF1.5 carries the port; before
/// that the request is for every port).
pub fn port_desc_request(version: u8, port: u32) -> Vec<u8> {
    use openflow::wire::Put;
    if version >= 6 {
        let mut m = start(OfpRaw::OFPST15_PORT_DESC_REQUEST, version, alloc_xid());
        m.put_u32(port);
        m.put_u32(0);
        finish(m)
    } else {
        empty_request(OfpRaw::OFPST10_PORT_DESC_REQUEST, version)
    }
}

/// The port map to accept names with, unless `--no-names`.
pub fn ports_to_accept(opts: &Options, name: &str) -> Result<Option<PortMap>, Fatal> {
    if opts.names == Some(false) {
        return Ok(None);
    }
    Ok(Some(fetch_ports(opts, name)?.map()))
}

/// Whether output shows port and table names (`--names`, or a terminal).
pub fn should_show_names(opts: &Options) -> bool {
    match opts.names {
        Some(b) => b,
        // SAFETY: isatty on a valid descriptor number has no other effect.
        None => (unsafe { libc::isatty(1) }) == 1,
    }
}

/// The port map to print names with, when names are shown.
pub fn ports_to_show(opts: &Options, name: &str) -> Result<Option<PortMap>, Fatal> {
    if !should_show_names(opts) {
        return Ok(None);
    }
    Ok(Some(fetch_ports(opts, name)?.map()))
}

/// The table names of switch `name` (upstream's `get_table_map`): table
/// statistics up to OpenFlow 1.2, table features after.
pub fn fetch_tables(opts: &Options, name: &str) -> Result<PortMap, Fatal> {
    if let Some(t) = TABLE_CACHE.with(|c| c.borrow().get(name).cloned()) {
        return Ok(t);
    }
    let mut v = open_vconn(opts, name)?;
    let version = v.version();
    let mut map = PortMap::new();
    if version <= 3 {
        let req = empty_request(OfpRaw::OFPST_TABLE_REQUEST, version);
        for reply in collect_transaction(&mut v, &req)? {
            if let Ok(raw) = decode_raw(&reply) {
                let body = &reply[raw.header_len(version)..];
                for (id, n) in table_names_from_stats(raw, version, body) {
                    map.insert(&n, u32::from(id));
                }
            }
        }
    } else {
        let req = empty_request(OfpRaw::OFPST13_TABLE_FEATURES_REQUEST, version);
        for reply in collect_transaction(&mut v, &req)? {
            if decode_raw(&reply) == Ok(OfpRaw::OFPST13_TABLE_FEATURES_REPLY) {
                let body = &reply[OfpRaw::OFPST13_TABLE_FEATURES_REPLY.header_len(version)..];
                if let Ok(all) = openflow::msgs::table_features::TableFeatures::decode_all(body) {
                    for t in all {
                        if !t.name.is_empty() {
                            map.insert(&t.name, u32::from(t.table_id));
                        }
                    }
                }
            }
        }
    }
    TABLE_CACHE.with(|c| c.borrow_mut().insert(name.to_string(), map.clone()));
    Ok(map)
}

fn table_names_from_stats(raw: OfpRaw, version: u8, body: &[u8]) -> Vec<(u8, String)> {
    use openflow::msgs::stats::TableStats;
    let mut out = Vec::new();
    match raw {
        OfpRaw::OFPST10_TABLE_REPLY | OfpRaw::OFPST13_TABLE_REPLY => {
            let mut r = openflow::wire::Reader::new(body);
            while !r.is_empty() {
                match TableStats::decode(version, &mut r) {
                    Ok(t) => {
                        if !t.name.is_empty() {
                            out.push((t.table_id, t.name));
                        }
                    }
                    Err(_) => break,
                }
            }
        }
        // OpenFlow 1.1 and 1.2 replies carry the table-miss config, which
        // upstream decodes (warning about an undefined value) even when
        // only the names are wanted.
        OfpRaw::OFPST11_TABLE_REPLY | OfpRaw::OFPST12_TABLE_REPLY => {
            let decoded = if raw == OfpRaw::OFPST11_TABLE_REPLY {
                openflow::msgs::table_features::decode_of11_table_stats(body)
            } else {
                openflow::msgs::table_features::decode_of12_table_stats(body)
            };
            if let Ok(all) = decoded {
                for (t, _) in all {
                    if !t.name.is_empty() {
                        out.push((t.table_id, t.name));
                    }
                }
            }
        }
        _ => {}
    }
    out
}

/// The table map to accept names with, unless `--no-names`.
pub fn tables_to_accept(opts: &Options, name: &str) -> Result<Option<PortMap>, Fatal> {
    if opts.names == Some(false) {
        return Ok(None);
    }
    Ok(Some(fetch_tables(opts, name)?))
}

/// The table map to print names with, when names are shown.
pub fn tables_to_show(opts: &Options, name: &str) -> Result<Option<PortMap>, Fatal> {
    if !should_show_names(opts) {
        return Ok(None);
    }
    Ok(Some(fetch_tables(opts, name)?))
}

/// Turns a port argument (number, reserved name or port name) into a
/// port number, asking the switch for its port names when needed
/// (upstream's `str_to_port_no`): `SWITCH: unknown port `NAME'`.
pub fn port_from_arg(opts: &Options, switch: &str, arg: &str) -> Result<u32, Fatal> {
    if let Some(p) = flow::port::parse_port(arg, None) {
        return Ok(p.port);
    }
    let ports = fetch_ports(opts, switch)?;
    ports
        .ports
        .iter()
        .find(|(_, n)| n == arg)
        .map(|(p, _)| *p)
        .ok_or_else(|| Fatal(format!("{switch}: unknown port `{arg}'")))
}

/// `-t SECS`: upstream's alarm kills the process with SIGALRM after
/// logging it.
pub fn arm_timeout(opts: &Options) {
    let Some(secs) = opts.timeout.filter(|s| *s > 0) else {
        return;
    };
    std::thread::spawn(move || {
        std::thread::sleep(std::time::Duration::from_secs(u64::from(secs)));
        let _ = std::io::stdout().flush();
        vlog::warn!(
            "fatal_signal",
            "terminating with signal {} (Alarm clock)",
            libc::SIGALRM
        );
        // SAFETY: restoring the default action and raising the signal
        // terminates the process, as upstream's alarm does.
        unsafe {
            libc::signal(libc::SIGALRM, libc::SIG_DFL);
            libc::raise(libc::SIGALRM);
        }
    });
}

/// C's `atoi`: leading blanks, a sign, digits; anything else stops it.
pub fn atoi(s: &str) -> i64 {
    let t = s.trim_start();
    let (neg, rest) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    let v = digits.parse::<i64>().unwrap_or(0).min(i64::from(i32::MAX));
    if neg {
        -v
    } else {
        v
    }
}
