//! Online commands about ports and queues: `dump-ports`, `dump-ports-desc`,
//! `mod-port`, `queue-stats`, `queue-get-config`.

use super::online::{
    dump_transaction, fetch_port_descs, open_vconn, port_desc_request, port_from_arg,
    transact_noreply,
};
use super::options::Options;
use super::{CmdResult, Fatal};
use openflow::msgs::port::{config, PortMod};
use openflow::msgs::stats::{encode_port_request, QueueRequest};
use openflow::raw::{finish, start, OfpRaw};
use openflow::vconn::alloc_xid;

const OFPP_ANY: u32 = 0xffff;
const OFPP_MAX: u32 = 0xff00;
const OFPQ_ALL: u32 = 0xffff_ffff;

/// `dump-ports SWITCH [PORT]`
pub fn dump_ports(opts: &Options, args: &[String]) -> CmdResult {
    let mut v = open_vconn(opts, &args[0])?;
    let port = match args.get(1) {
        Some(p) => port_from_arg(opts, &args[0], p)?,
        None => OFPP_ANY,
    };
    let version = v.version();
    let raw = if version == 1 {
        OfpRaw::OFPST10_PORT_REQUEST
    } else {
        OfpRaw::OFPST11_PORT_REQUEST
    };
    let mut m = start(raw, version, alloc_xid());
    encode_port_request(version, port as u16, &mut m);
    dump_transaction(opts, &mut v, &finish(m))
}

/// `dump-ports-desc SWITCH [PORT]`
pub fn dump_ports_desc(opts: &Options, args: &[String]) -> CmdResult {
    let mut v = open_vconn(opts, &args[0])?;
    let port = match args.get(1) {
        Some(p) => port_from_arg(opts, &args[0], p)?,
        None => OFPP_ANY,
    };
    let req = port_desc_request(v.version(), port_to_ofp11(port));
    dump_transaction(opts, &mut v, &req)
}

fn port_to_ofp11(p: u32) -> u32 {
    if p >= 0xff00 {
        p + 0xffff_0000
    } else {
        p
    }
}

fn queue_arg(args: &[String], i: usize) -> u32 {
    match args.get(i) {
        Some(q) if !q.eq_ignore_ascii_case("all") => super::online::atoi(q) as u32,
        _ => OFPQ_ALL,
    }
}

/// `queue-stats SWITCH [PORT [QUEUE]]`
pub fn queue_stats(opts: &Options, args: &[String]) -> CmdResult {
    let mut v = open_vconn(opts, &args[0])?;
    let port = match args.get(1) {
        Some(p) => port_from_arg(opts, &args[0], p)?,
        None => OFPP_ANY,
    };
    let queue_id = queue_arg(args, 2);
    let version = v.version();
    let raw = if version == 1 {
        OfpRaw::OFPST10_QUEUE_REQUEST
    } else {
        OfpRaw::OFPST11_QUEUE_REQUEST
    };
    let mut m = start(raw, version, alloc_xid());
    QueueRequest {
        port_no: port as u16,
        queue_id,
    }
    .encode_body(version, &mut m);
    dump_transaction(opts, &mut v, &finish(m))
}

fn queue_config_request(version: u8, port: u32, queue: u32) -> Vec<u8> {
    let raw = match version {
        1 => OfpRaw::OFPT10_QUEUE_GET_CONFIG_REQUEST,
        2..=4 => OfpRaw::OFPT11_QUEUE_GET_CONFIG_REQUEST,
        _ => OfpRaw::OFPST14_QUEUE_DESC_REQUEST,
    };
    let mut m = start(raw, version, alloc_xid());
    openflow::msgs::queue::encode_request(version, port as u16, queue, &mut m);
    finish(m)
}

/// `queue-get-config SWITCH [PORT [QUEUE]]`
pub fn queue_get_config(opts: &Options, args: &[String]) -> CmdResult {
    let port = match args.get(1) {
        Some(p) => port_from_arg(opts, &args[0], p)?,
        None => OFPP_ANY,
    };
    let queue = queue_arg(args, 2);
    let mut v = open_vconn(opts, &args[0])?;
    let version = v.version();
    if port == OFPP_ANY && version == 1 {
        // OpenFlow 1.0 asks port by port.
        let ports = {
            let mut pv = open_vconn(opts, &args[0])?;
            fetch_port_descs(&mut pv)?
        };
        for p in ports {
            let n = u32::from(p.port_no);
            if n < OFPP_MAX {
                dump_transaction(opts, &mut v, &queue_config_request(version, n, queue))?;
            }
        }
        Ok(())
    } else {
        dump_transaction(opts, &mut v, &queue_config_request(version, port, queue))
    }
}

/// `mod-port SWITCH PORT ACTION`
pub fn mod_port(opts: &Options, args: &[String]) -> CmdResult {
    const MODES: &[(&str, u32, bool)] = &[
        ("up", config::PORT_DOWN, false),
        ("down", config::PORT_DOWN, true),
        ("stp", config::NO_STP, false),
        ("receive", config::NO_RECV, false),
        ("receive-stp", config::NO_RECV_STP, false),
        ("forward", config::NO_FWD, false),
        ("flood", config::NO_FLOOD, false),
        ("packet-in", config::NO_PACKET_IN, false),
    ];
    let (switch, port_arg, action) = (&args[0], &args[1], &args[2]);
    // Look the port up (number or name) on its own connection.
    let descs = {
        let mut pv = open_vconn(opts, switch)?;
        fetch_port_descs(&mut pv)?
    };
    let wanted = flow::port::parse_port(port_arg, None).map(|p| p.port);
    let Some(pp) = descs
        .iter()
        .find(|p| Some(u32::from(p.port_no)) == wanted || p.name == *port_arg)
    else {
        return Err(Fatal(format!("{switch}: couldn't find port `{port_arg}'")));
    };
    let lower = action.to_ascii_lowercase();
    let (command, not) = if let Some(c) = lower.strip_prefix("no-") {
        (c, true)
    } else if let Some(c) = lower.strip_prefix("no") {
        (c, true)
    } else {
        (lower.as_str(), false)
    };
    let Some((_, bit, on)) = MODES.iter().find(|(n, _, _)| *n == command) else {
        return Err(Fatal(format!("unknown mod-port command '{action}'")));
    };
    let pm = PortMod {
        port_no: pp.port_no,
        hw_addr: pp.hw_addr,
        config: if on ^ not { *bit } else { 0 },
        mask: *bit,
        advertise: 0,
    };
    let mut v = open_vconn(opts, switch)?;
    let version = v.version();
    let raw = match version {
        1 => OfpRaw::OFPT10_PORT_MOD,
        2..=4 => OfpRaw::OFPT11_PORT_MOD,
        _ => OfpRaw::OFPT14_PORT_MOD,
    };
    let mut m = start(raw, version, alloc_xid());
    pm.encode_body(version, &mut m);
    transact_noreply(opts, &mut v, &[finish(m)])
}
