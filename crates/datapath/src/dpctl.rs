//! The `dpctl/*` appctl commands on userspace datapaths, text in, text out,
//! as upstream's `ovs-appctl dpctl/...` answers them: `show`,
//! `dump-flows`, `add-flow`, `mod-flow`, `del-flow`, `del-flows`,
//! `get-flow`. The vswitchd registers the commands (with upstream's
//! argument counts) and passes the datapaths it has.
//!
//! Errors come back as the whole text upstream's server returns
//! (`ovs-vswitchd: parsing flow key (syntax error at …) (Invalid
//! argument)\n`), ready to be the unixctl error reply.

use std::fmt::Write;

use flow::odp::actions::parse_odp_actions;
use flow::odp::{key_to_flow, mask_to_flow, parse_key, Fitness, Ufid};

use crate::dpif::{Dpif, DpifError, DpifFlow, PutMode};
use crate::netdev_dp::DpifNetdev;
use crate::show;

fn err(program: &str, what: &str, errno_text: Option<&str>) -> String {
    match errno_text {
        Some(e) => format!("{program}: {what} ({e})\n"),
        None => format!("{program}: {what}\n"),
    }
}

fn dp_error_text(e: &DpifError) -> String {
    match e {
        DpifError::Netdev(s) => s.clone(),
        other => other.to_string(),
    }
}

/// Whether `name` names `dp` (`type@name` or `name`).
fn names_dp(dp: &DpifNetdev, name: &str) -> bool {
    name == dp.name() || name == dp.full_name()
}

/// Options common to the flow commands.
#[derive(Default)]
struct Opts {
    verbose: bool,
    names: Option<bool>,
    stats: bool,
    may_create: bool,
    clear: bool,
}

fn split_opts<'a>(args: &[&'a str]) -> (Opts, Vec<&'a str>) {
    let mut o = Opts::default();
    let mut rest = Vec::new();
    for a in args {
        match *a {
            "-m" | "--more" => o.verbose = true,
            "--names" => o.names = Some(true),
            "--no-names" => o.names = Some(false),
            "-s" | "--statistics" => o.stats = true,
            "--may-create" => o.may_create = true,
            "--clear" => o.clear = true,
            _ => rest.push(*a),
        }
    }
    (o, rest)
}

fn port_lookup(dp: &DpifNetdev) -> impl Fn(&str) -> Option<u32> + '_ {
    move |n: &str| dp.port_by_name(n)
}

fn stats_text(f: &DpifFlow, now: u64) -> String {
    let mut s = format!(
        "packets:{}, bytes:{}, used:",
        f.stats.n_packets, f.stats.n_bytes
    );
    if f.stats.used == 0 {
        s.push_str("never");
    } else {
        let _ = write!(
            s,
            "{:.3}s",
            now.saturating_sub(f.stats.used) as f64 / 1000.0
        );
    }
    if f.stats.tcp_flags != 0 {
        let _ = write!(s, ", flags:{}", show::format_tcp_flags(f.stats.tcp_flags));
    }
    s.push('\n');
    s
}

/// Picks the datapath: `explicit` by name, else the only one.
fn pick<'a>(
    dps: &[&'a DpifNetdev],
    explicit: Option<&str>,
    program: &str,
) -> Result<&'a DpifNetdev, String> {
    match explicit {
        Some(n) => dps
            .iter()
            .copied()
            .find(|d| names_dp(d, n))
            .ok_or_else(|| err(program, "datapath not found", Some("Invalid argument"))),
        None => match dps {
            [one] => Ok(one),
            [] => Err(err(program, "no datapaths exist", Some("No such device"))),
            _ => Err(err(
                program,
                "multiple datapaths, specify one",
                Some("Invalid argument"),
            )),
        },
    }
}

/// Runs `dpctl/<cmd>` with `args` (after the command name) against `dps`.
/// `program` prefixes error texts (`ovs-vswitchd`).
pub fn run(dps: &[&DpifNetdev], program: &str, cmd: &str, args: &[&str]) -> Result<String, String> {
    let (o, rest) = split_opts(args);
    match cmd {
        "show" => {
            let mut out = String::new();
            let chosen: Vec<&DpifNetdev> = if rest.is_empty() {
                dps.to_vec()
            } else {
                let mut v = Vec::new();
                for n in &rest {
                    match dps.iter().find(|d| names_dp(d, n)) {
                        Some(d) => v.push(*d),
                        None => {
                            return Err(err(
                                program,
                                &format!("opening datapath {n} failed"),
                                Some("Address family not supported by protocol"),
                            ))
                        }
                    }
                }
                v
            };
            for dp in chosen {
                out.push_str(&show::dpctl_show(dp, &dp.stats(), o.stats, &|p| {
                    dp.port_netdev(p).and_then(|n| n.stats().ok())
                }));
            }
            Ok(out)
        }
        "dump-flows" => {
            let mut dp_name = None;
            let mut type_ok = true;
            let mut filter = None;
            for a in &rest {
                if let Some(t) = a.strip_prefix("type=") {
                    type_ok = t
                        .split(',')
                        .any(|t| t == "ovs" || t == "all" || t == "netdev");
                } else if let Some(f) = a.strip_prefix("filter=") {
                    let parsed = flow::flow_str::parse_ofp_exact_flow(f, None).map_err(|e| {
                        err(program, &format!("Failed to parse filter ({e})"), None)
                    })?;
                    filter = Some(parsed);
                } else if a.starts_with("pmd=") {
                    // Every flow belongs to the one (main) thread.
                } else {
                    dp_name = Some(*a);
                }
            }
            let dp = pick(dps, dp_name, program)?;
            if !type_ok {
                return Ok(String::new());
            }
            let names = o.names.unwrap_or(o.verbose);
            let mut flows = dp.flow_dump();
            if let Some((ff, fwc)) = &filter {
                // As upstream: the filter is first narrowed to what the
                // megaflow looks at, then compared on the filter's bits.
                flows.retain(|f| f.key.and(&f.mask).and(fwc) == ff.and(&f.mask).and(fwc));
            }
            if flows.is_empty() {
                return Ok(String::new());
            }
            let mut s = String::from("flow-dump from the main thread:\n");
            let now = dp.now_ms();
            for f in &flows {
                if names && !o.verbose {
                    s.push_str(&show::format_flow_named(f, now, &|p| dp.port_name(p)));
                } else {
                    s.push_str(&show::format_flow(f, now, o.verbose, &|p| dp.port_name(p)));
                }
                s.push('\n');
            }
            Ok(s)
        }
        "add-flow" | "mod-flow" => {
            let (dp_name, key_text, acts_text) = match rest.as_slice() {
                [k, a] => (None, *k, *a),
                [d, k, a] => (Some(*d), *k, *a),
                _ => {
                    return Err(format!(
                        "\"dpctl/{cmd}\" command requires at least 2 arguments\n"
                    ))
                }
            };
            let dp = pick(dps, dp_name, program)?;
            let (ufid, key_text) = match Ufid::scan(key_text) {
                Some(Ok((u, rest))) => (Some(u), rest.trim_start_matches([',', ' '])),
                Some(Err(e)) => {
                    return Err(err(
                        program,
                        &format!("parsing flow ufid ({e})"),
                        Some("Invalid argument"),
                    ))
                }
                None => (None, key_text),
            };
            let lookup = port_lookup(dp);
            let (k, m) = parse_key(key_text, Some(&lookup)).map_err(|e| {
                err(
                    program,
                    &format!("parsing flow key ({e})"),
                    Some("Invalid argument"),
                )
            })?;
            let actions = parse_odp_actions(acts_text)
                .map_err(|_| err(program, "parsing actions", Some("Invalid argument")))?;
            let (key, fit) = key_to_flow(&k);
            let (mask, mfit) = mask_to_flow(&m, &key);
            if fit != Fitness::Perfect || mfit != Fitness::Perfect || mask.in_port != u32::MAX {
                return Err(err(
                    program,
                    "updating flow table",
                    Some("Invalid argument"),
                ));
            }
            if o.clear {
                return Err(err(
                    program,
                    "updating flow table",
                    Some("Operation not supported"),
                ));
            }
            let mode = if cmd == "add-flow" {
                PutMode::Create
            } else if o.may_create {
                PutMode::CreateOrModify
            } else {
                PutMode::Modify
            };
            let before = dp.lookup_flow(&key);
            dp.flow_put(&key, &mask, actions, ufid, mode)
                .map_err(|e| err(program, "updating flow table", Some(&dp_error_text(&e))))?;
            if o.stats {
                let zero = DpifFlow {
                    ufid: Ufid(0),
                    key,
                    mask,
                    actions: std::sync::Arc::from(Vec::new()),
                    stats: Default::default(),
                };
                return Ok(stats_text(before.as_ref().unwrap_or(&zero), dp.now_ms()));
            }
            Ok(String::new())
        }
        "del-flow" => {
            let (dp_name, key_text) = match rest.as_slice() {
                [k] => (None, *k),
                [d, k] => (Some(*d), *k),
                _ => {
                    return Err(format!(
                        "\"dpctl/{cmd}\" command requires at least 1 arguments\n"
                    ))
                }
            };
            let dp = pick(dps, dp_name, program)?;
            let not_found = || {
                format!(
                    "{}Perhaps you need to specify a UFID?\n",
                    err(program, "deleting flow", Some("No such file or directory"))
                )
            };
            let res = match Ufid::scan(key_text) {
                Some(Ok((u, _))) => dp.flow_del(None, Some(u)),
                Some(Err(e)) => {
                    return Err(err(
                        program,
                        &format!("parsing flow ufid ({e})"),
                        Some("Invalid argument"),
                    ))
                }
                None => {
                    let lookup = port_lookup(dp);
                    let (k, m) = parse_key(key_text, Some(&lookup)).map_err(|e| {
                        err(
                            program,
                            &format!("parsing flow key ({e})"),
                            Some("Invalid argument"),
                        )
                    })?;
                    let (key, _) = key_to_flow(&k);
                    let (mask, _) = mask_to_flow(&m, &key);
                    let mask = flow::odp::normalize_mask(&mask, &key);
                    dp.flow_del(Some((&key, &mask)), None)
                }
            };
            match res {
                Ok(f) if o.stats => Ok(stats_text(&f, dp.now_ms())),
                Ok(_) => Ok(String::new()),
                Err(DpifError::NotFound) => Err(not_found()),
                Err(e) => Err(err(program, "deleting flow", Some(&dp_error_text(&e)))),
            }
        }
        "del-flows" => {
            let dp = pick(dps, rest.first().copied(), program)?;
            dp.flow_flush();
            Ok(String::new())
        }
        "get-flow" => {
            let (dp_name, text) = match rest.as_slice() {
                [u] => (None, *u),
                [d, u] => (Some(*d), *u),
                _ => {
                    return Err(format!(
                        "\"dpctl/{cmd}\" command requires at least 1 arguments\n"
                    ))
                }
            };
            let dp = pick(dps, dp_name, program)?;
            let u = match Ufid::scan(text) {
                Some(Ok((u, _))) => u,
                _ => {
                    return Err(err(
                        program,
                        "failed to parse ufid",
                        Some("Invalid argument"),
                    ))
                }
            };
            match dp.flow_dump().into_iter().find(|f| f.ufid == u) {
                Some(f) => Ok(format!(
                    "{}\n",
                    show::format_flow(&f, dp.now_ms(), o.verbose, &|p| dp.port_name(p))
                )),
                None => Err(err(
                    program,
                    "getting flow",
                    Some("No such file or directory"),
                )),
            }
        }
        _ => Err(format!("\"dpctl/{cmd}\" is not a valid command\n")),
    }
}
