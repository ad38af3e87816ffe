//! `monitor` and `snoop`: printing every message a switch sends (on
//! stderr, as upstream does), optionally as a daemon (`--detach`,
//! `--pidfile`), with a control socket offering `ofctl/send`,
//! `ofctl/barrier`, `ofctl/set-output-file`, `ofctl/packet-out`,
//! `ofctl/block`, `ofctl/unblock` and `exit`.
//!
//! The connection is driven from this thread; the control socket runs on
//! a small tokio runtime of its own and hands its requests over a channel.

use super::online::{
    io_fatal, open_target, open_vconn, ports_to_accept, tables_to_accept, transact_noreply, Target,
};
use super::options::Options;
use super::protocols::allowed_protocols;
use super::{CmdResult, Fatal};
use flow::key_value::next_pair;
use flow::Protocols;
use openflow::msgs::monitor::{nxfmf, MonitorForm, MonitorRequest};
use openflow::msgs::switch::SwitchConfig;
use openflow::print::ofp_to_string;
use openflow::raw::{decode_raw, finish, start, OfpRaw};
use openflow::vconn::{alloc_xid, xid_of, Vconn};
use openflow::wire::Put;
use std::io::Write;
use std::sync::mpsc;

/// A request from the control socket to the monitoring loop.
enum Control {
    Send(
        Vec<String>,
        tokio::sync::oneshot::Sender<Result<String, String>>,
    ),
    Barrier(tokio::sync::oneshot::Sender<Result<String, String>>),
    PacketOut(String, tokio::sync::oneshot::Sender<Result<String, String>>),
    Block(bool),
}

fn fetch_config(v: &mut Vconn) -> Result<SwitchConfig, Fatal> {
    let req = finish(start(
        OfpRaw::OFPT_GET_CONFIG_REQUEST,
        v.version(),
        alloc_xid(),
    ));
    let name = v.name().to_string();
    let reply = v
        .transact(&req)
        .map_err(|e| io_fatal(&format!("talking to {name}"), e))?;
    if decode_raw(&reply) != Ok(OfpRaw::OFPT_GET_CONFIG_REPLY) {
        return Err(Fatal(format!(
            "{name}: bad reply to config request: {}",
            ofp_to_string(&reply, 2).trim_end()
        )));
    }
    SwitchConfig::decode(&reply[8..]).map_err(|e| Fatal(format!("decode error: {}", e.name())))
}

fn set_config(opts: &Options, v: &mut Vconn, c: &SwitchConfig) -> CmdResult {
    let msg = c.encode(OfpRaw::OFPT_SET_CONFIG, v.version(), alloc_xid());
    transact_noreply(opts, v, &[msg])
}

/// Asks for packet-ins in `format`; false when the switch refuses.
fn set_packet_in_format(
    opts: &Options,
    v: &mut Vconn,
    format: u32,
    must_succeed: bool,
) -> Result<bool, Fatal> {
    let mut m = start(OfpRaw::NXT_SET_PACKET_IN_FORMAT, v.version(), alloc_xid());
    m.put_u32(format);
    let name = v.name().to_string();
    match v.transact_noreply(&finish(m)) {
        Err(e) => Err(io_fatal(&format!("talking to {name}"), e)),
        Ok(None) => Ok(true),
        Ok(Some(reply)) => {
            if must_succeed {
                super::online::die_with_reply(opts, &reply);
            }
            Ok(false)
        }
    }
}

fn packet_in_format_number(name: &str) -> Option<u32> {
    match name {
        "standard" | "openflow10" => Some(0),
        "nxt_packet_in" | "nxm" => Some(1),
        "nxt_packet_in2" => Some(2),
        _ => None,
    }
}

/// Upstream's `parse_flow_monitor_request`.
fn parse_watch(
    text: &str,
    ports: Option<&flow::port::PortMap>,
    tables: Option<&flow::port::PortMap>,
) -> Result<(MonitorRequest, Protocols), String> {
    let mut fmr = MonitorRequest {
        id: 0,
        flags: nxfmf::INITIAL
            | nxfmf::ADD
            | nxfmf::DELETE
            | nxfmf::MODIFY
            | nxfmf::ACTIONS
            | nxfmf::OWN,
        out_port: 0xffff,
        out_group: 0xffff_ffff,
        table_id: 0xff,
        command: 0,
        flow_match: flow::Match::catchall(),
    };
    let mut usable = Protocols::ANY;
    let mut rest = text;
    while let Some((name, value)) = next_pair(&mut rest) {
        match name {
            "!initial" => fmr.flags &= !nxfmf::INITIAL,
            "!add" => fmr.flags &= !nxfmf::ADD,
            "!delete" => fmr.flags &= !nxfmf::DELETE,
            "!modify" => fmr.flags &= !nxfmf::MODIFY,
            "!actions" => fmr.flags &= !nxfmf::ACTIONS,
            "!own" => fmr.flags &= !nxfmf::OWN,
            _ => {
                if let Some((dl_type, nw_proto)) = flow::flow_str::parse_protocol_name(name) {
                    fmr.flow_match.set_dl_type(dl_type);
                    if nw_proto != 0 {
                        fmr.flow_match.set_nw_proto(nw_proto);
                    }
                } else if let Some(field) = flow::field::FieldId::from_field_name(name) {
                    let mut warnings = Vec::new();
                    let r = flow::flow_str::parse_field_into(
                        &mut fmr.flow_match,
                        field,
                        value,
                        ports,
                        &mut warnings,
                    );
                    super::flow_cmd::log_warnings(&warnings, &mut Default::default());
                    usable &= r?;
                } else {
                    if value.is_empty() {
                        return Err(format!("{text}: field {name} missing value"));
                    }
                    match name {
                        "table" => {
                            let t = value
                                .parse::<u8>()
                                .ok()
                                .or_else(|| tables.and_then(|t| t.number(value)).map(|n| n as u8));
                            fmr.table_id = t.ok_or_else(|| format!("unknown table \"{value}\""))?;
                        }
                        "out_port" => {
                            fmr.out_port = super::online::atoi(value) as u16;
                        }
                        "out_group" => {
                            fmr.out_group = flow::flow_str::parse_group(value)
                                .ok_or_else(|| format!("unknown group: {value}"))?;
                        }
                        _ => return Err(format!("{text}: unknown keyword {name}")),
                    }
                }
            }
        }
    }
    Ok((fmr, usable))
}

fn encode_watch(fmr: &MonitorRequest, version: u8) -> Vec<u8> {
    let (raw, form) = match version {
        1..=3 => (OfpRaw::NXST_FLOW_MONITOR_REQUEST, MonitorForm::Nx),
        4 => (OfpRaw::ONFST13_FLOW_MONITOR_REQUEST, MonitorForm::Onf),
        _ => (OfpRaw::OFPST14_FLOW_MONITOR_REQUEST, MonitorForm::Of14),
    };
    let mut m = start(raw, version, alloc_xid());
    fmr.encode(form, version, &mut m);
    finish(m)
}

/// `monitor SWITCH [MISS_LEN] [invalid_ttl] [watch:SPEC...] [resume]`
pub fn monitor(opts: &Options, args: &[String]) -> CmdResult {
    let name = &args[0];
    let mut v = open_vconn(opts, name)?;
    for arg in &args[1..] {
        if arg.starts_with(|c: char| c.is_ascii_digit()) {
            let mut c = fetch_config(&mut v)?;
            c.miss_send_len = super::online::atoi(arg) as u16;
            set_config(opts, &mut v, &c)?;
        } else if arg == "invalid_ttl" {
            const INVALID_TTL_TO_CONTROLLER: u16 = 1 << 2;
            let mut c = fetch_config(&mut v)?;
            if c.flags & INVALID_TTL_TO_CONTROLLER == 0 {
                c.flags |= INVALID_TTL_TO_CONTROLLER;
                set_config(opts, &mut v, &c)?;
                let now = fetch_config(&mut v)?;
                if now.flags & INVALID_TTL_TO_CONTROLLER == 0 {
                    return Err(Fatal(
                        "setting invalid_ttl_to_controller failed (this switch probably doesn't support this flag)"
                            .into(),
                    ));
                }
            }
        } else if let Some(spec) = arg.strip_prefix("watch:") {
            let tables = tables_to_accept(opts, name)?;
            let ports = ports_to_accept(opts, name)?;
            let (fmr, usable) =
                parse_watch(spec, ports.as_ref(), tables.as_ref()).map_err(Fatal)?;
            let allowed = allowed_protocols(opts)?;
            if (usable & allowed).is_empty() {
                return Err(Fatal(format!(
                    "none of the usable flow formats ({usable}) is among the allowed flow formats ({allowed})"
                )));
            }
            let req = encode_watch(&fmr, v.version());
            super::online::dump_transaction(opts, &mut v, &req)?;
            let _ = std::io::stdout().flush();
        } else if arg == "resume" {
            // Continuations are printed like any other packet-in.
        } else {
            return Err(Fatal(format!("{arg}: unsupported \"monitor\" argument")));
        }
    }
    match &opts.packet_in_format {
        Some(f) => {
            let n = packet_in_format_number(f)
                .ok_or_else(|| Fatal(format!("{f}: unknown packet-in format")))?;
            set_packet_in_format(opts, &mut v, n, true)?;
        }
        None => {
            if !set_packet_in_format(opts, &mut v, 2, false)? && v.version() == 1 {
                set_packet_in_format(opts, &mut v, 1, false)?;
            }
        }
    }
    monitor_vconn(opts, v, true)
}

/// `snoop SWITCH`: the messages between the switch and its controller.
pub fn snoop(opts: &Options, args: &[String]) -> CmdResult {
    let v = open_target(opts, &args[0], Target::Snoop)?;
    monitor_vconn(opts, v, false)
}

/// Removes what a daemon leaves behind (upstream does it at exit).
fn cleanup(files: &[std::path::PathBuf]) {
    for f in files {
        let _ = std::fs::remove_file(f);
    }
}

fn start_control(
    opts: &Options,
    pidfile: Option<std::path::PathBuf>,
) -> Result<(mpsc::Receiver<Control>, Vec<std::path::PathBuf>), Fatal> {
    let (tx, rx) = mpsc::channel::<Control>();
    let server = rpc::unixctl::server::UnixctlServer::create(opts.unixctl.as_deref(), "ovs-ofctl")
        .map_err(|e| {
            Fatal(format!(
                "failed to create unixctl server ({})",
                rpc::errno::io_error_text(&e)
            ))
        })?;
    let mut leftovers: Vec<std::path::PathBuf> = pidfile.into_iter().collect();
    let Some(server) = server else {
        return Ok((rx, leftovers));
    };
    leftovers.push(server.path().to_path_buf());
    let c = server.commands().clone();
    let files = leftovers.clone();
    c.register_then(
        "exit",
        "",
        0,
        0,
        |_| Ok(String::new()),
        move || {
            // Leave as soon as the requester has its answer, so that a new
            // monitor can take the pidfile right away.
            let _ = std::io::stderr().flush();
            cleanup(&files);
            std::process::exit(0);
        },
    );
    let t = std::sync::Mutex::new(tx.clone());
    c.register_async("ofctl/send", "OFMSG...", 1, usize::MAX, move |args| {
        let (otx, orx) = tokio::sync::oneshot::channel();
        let sent = t
            .lock()
            .map(|t| t.send(Control::Send(args, otx)).is_ok())
            .unwrap_or(false);
        async move {
            if !sent {
                return Err("monitor is gone".to_string());
            }
            orx.await.unwrap_or_else(|_| Err("monitor is gone".into()))
        }
    });
    let t = std::sync::Mutex::new(tx.clone());
    c.register_async(
        "ofctl/packet-out",
        "\"in_port=<port> packet=<hex data> actions=...\"",
        1,
        1,
        move |args| {
            let (otx, orx) = tokio::sync::oneshot::channel();
            let text = args.first().cloned().unwrap_or_default();
            let sent = t
                .lock()
                .map(|t| t.send(Control::PacketOut(text, otx)).is_ok())
                .unwrap_or(false);
            async move {
                if !sent {
                    return Err("monitor is gone".to_string());
                }
                orx.await.unwrap_or_else(|_| Err("monitor is gone".into()))
            }
        },
    );
    let t = std::sync::Mutex::new(tx.clone());
    c.register_async("ofctl/barrier", "", 0, 0, move |_| {
        let (otx, orx) = tokio::sync::oneshot::channel();
        let sent = t
            .lock()
            .map(|t| t.send(Control::Barrier(otx)).is_ok())
            .unwrap_or(false);
        async move {
            if !sent {
                return Err("monitor is gone".to_string());
            }
            orx.await.unwrap_or_else(|_| Err("monitor is gone".into()))
        }
    });
    c.register("ofctl/set-output-file", "FILE", 1, 1, |args| {
        set_output_file(&args[0])
    });
    let t = std::sync::Mutex::new(tx.clone());
    c.register("ofctl/block", "", 0, 0, move |_| {
        if let Ok(t) = t.lock() {
            let _ = t.send(Control::Block(true));
        }
        Ok(String::new())
    });
    let t = std::sync::Mutex::new(tx);
    c.register("ofctl/unblock", "", 0, 0, move |_| {
        if let Ok(t) = t.lock() {
            let _ = t.send(Control::Block(false));
        }
        Ok(String::new())
    });
    std::thread::spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        else {
            return;
        };
        let _ = rt.block_on(server.run());
    });
    Ok((rx, leftovers))
}

/// `ofctl/set-output-file FILE`: the monitor's output goes to FILE.
fn set_output_file(name: &str) -> Result<String, String> {
    use std::os::fd::AsRawFd;
    let f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .open(name)
        .map_err(|e| format!("failed to open {name}: {}", rpc::errno::io_error_text(&e)))?;
    let _ = std::io::stderr().flush();
    // SAFETY: duplicating a valid descriptor over stderr.
    unsafe { libc::dup2(f.as_raw_fd(), 2) };
    Ok(String::new())
}

fn print_received(opts: &Options, msg: &[u8]) {
    let mut s = String::new();
    if opts.timestamp {
        s.push_str(&vlog::format_time("%Y-%m-%d %H:%M:%S.###: ", true));
    }
    s.push_str(&ofp_to_string(msg, opts.verbosity + 2));
    let mut e = std::io::stderr().lock();
    let _ = e.write_all(s.as_bytes());
    let _ = e.flush();
}

/// Upstream's `monitor_vconn`: prints every message until the connection
/// ends or `exit` is requested.
fn monitor_vconn(opts: &Options, mut v: Vconn, reply_to_echo: bool) -> CmdResult {
    let ready = if opts.detach {
        Some(rpc::daemon::detach().map_err(Fatal)?)
    } else {
        None
    };
    let pidfile_path = opts.pidfile.as_ref().map(|p| {
        if p.is_empty() {
            rpc::paths::rundir().join("ovs-ofctl.pid")
        } else {
            rpc::paths::abs_file_name(&rpc::paths::rundir(), p)
        }
    });
    let _pidfile = match &pidfile_path {
        Some(path) => Some(rpc::pidfile::create_pidfile(path).map_err(|e| Fatal(e.to_string()))?),
        None => None,
    };
    log_fatal_signals();
    let (control, leftovers) = start_control(opts, pidfile_path)?;
    let r = monitor_loop(opts, &mut v, &control, ready, reply_to_echo);
    cleanup(&leftovers);
    r
}

fn monitor_loop(
    opts: &Options,
    v: &mut Vconn,
    control: &mpsc::Receiver<Control>,
    ready: Option<rpc::daemon::Ready>,
    reply_to_echo: bool,
) -> CmdResult {
    if let Some(r) = ready {
        // stderr still carries the output.
        rpc::daemon::redirect_to_null(&[0, 1]);
        r.notify();
    }
    let mut barrier: Option<(u32, tokio::sync::oneshot::Sender<Result<String, String>>)> = None;
    let mut blocked = false;
    loop {
        // Control requests first.
        while let Ok(c) = control.try_recv() {
            match c {
                Control::Block(b) => blocked = b,
                Control::Send(msgs, reply) => {
                    let mut text = String::new();
                    let mut ok = true;
                    for hex in msgs {
                        let Some(bytes) = flow::actions::cmd::parse_hex(&hex) else {
                            text.push_str("Trailing garbage in hex data\n");
                            ok = false;
                            continue;
                        };
                        eprint!("send: {}", ofp_to_string(&bytes, opts.verbosity));
                        match v.send(&bytes) {
                            Ok(()) => text.push_str("sent\n"),
                            Err(e) => {
                                text.push_str(&format!("{e}\n"));
                                ok = false;
                            }
                        }
                    }
                    let _ = reply.send(if ok { Ok(text) } else { Err(text) });
                }
                Control::PacketOut(text, reply) => {
                    let name = v.name().to_string();
                    let tables = tables_to_accept(opts, &name);
                    let ports = ports_to_accept(opts, &name);
                    let r = match (tables, ports) {
                        (Ok(_), Ok(ports)) => super::online_packet::encode_packet_out_text(
                            &text,
                            v.version(),
                            ports.as_ref(),
                        ),
                        (Err(Fatal(e)), _) | (_, Err(Fatal(e))) => Err(e),
                    }
                    .and_then(|msg| {
                        eprint!("{}", ofp_to_string(&msg, opts.verbosity));
                        v.send(&msg).map_err(|e| e.to_string())
                    });
                    let _ = reply.send(r.map(|()| String::new()).map_err(|e| format!("{e}\n")));
                }
                Control::Barrier(reply) => {
                    if barrier.is_some() {
                        let _ = reply.send(Err(
                            "already waiting for a reply to a barrier request".into()
                        ));
                    } else {
                        let req = v.barrier_request();
                        match v.send(&req) {
                            Ok(()) => barrier = Some((xid_of(&req), reply)),
                            Err(e) => {
                                let _ = reply.send(Err(e.to_string()));
                            }
                        }
                    }
                }
            }
        }
        if blocked {
            std::thread::sleep(std::time::Duration::from_millis(50));
            continue;
        }
        if !v.has_pending() && !wait_readable(v.raw_fd(), 100) {
            continue;
        }
        let msg = v.recv().map_err(|e| io_fatal("vconn_recv", e))?;
        print_received(opts, &msg);
        match decode_raw(&msg) {
            Ok(OfpRaw::OFPT10_BARRIER_REPLY) | Ok(OfpRaw::OFPT11_BARRIER_REPLY) => {
                if let Some((_, reply)) = barrier.take() {
                    let _ = reply.send(Ok(String::new()));
                }
            }
            Ok(OfpRaw::OFPT_ECHO_REQUEST) if reply_to_echo => {
                v.answer_echo(&msg)
                    .map_err(|e| io_fatal("failed to send echo reply", e))?;
            }
            _ => {}
        }
    }
}

/// Like upstream's fatal-signal handling: SIGTERM, SIGINT and SIGHUP are
/// logged (`terminating with signal N (NAME)`) before they take the
/// process down. Called before any other thread exists, so that every
/// thread inherits the blocked mask and only the waiter sees them.
fn log_fatal_signals() {
    // SAFETY: sigset manipulation on a local, zero-initialized set.
    let set = unsafe {
        let mut set: libc::sigset_t = std::mem::zeroed();
        libc::sigemptyset(&mut set);
        for s in [libc::SIGTERM, libc::SIGINT, libc::SIGHUP] {
            libc::sigaddset(&mut set, s);
        }
        libc::pthread_sigmask(libc::SIG_BLOCK, &set, std::ptr::null_mut());
        set
    };
    std::thread::spawn(move || {
        let mut sig: libc::c_int = 0;
        // SAFETY: waiting on a valid set; the signal is then re-raised
        // with its default action.
        unsafe {
            if libc::sigwait(&set, &mut sig) != 0 {
                return;
            }
            let name = std::ffi::CStr::from_ptr(libc::strsignal(sig))
                .to_string_lossy()
                .into_owned();
            vlog::warn!("fatal_signal", "terminating with signal {} ({})", sig, name);
            libc::signal(sig, libc::SIG_DFL);
            libc::pthread_sigmask(libc::SIG_UNBLOCK, &set, std::ptr::null_mut());
            libc::raise(sig);
        }
    });
}

/// Waits up to `ms` milliseconds for `fd` to become readable.
fn wait_readable(fd: i32, ms: i32) -> bool {
    let mut p = libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    };
    // SAFETY: one valid pollfd.
    let n = unsafe { libc::poll(&mut p, 1, ms) };
    n > 0
}
