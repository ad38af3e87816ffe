//! Offline flow commands: `parse-flow FLOW` and `parse-flows FILE` (parse,
//! report the usable protocols, encode each flow_mod in the first allowed
//! one, and print it as ofp-print does).

use super::options::Options;
use super::protocols::allowed_protocols;
use super::{CmdResult, Fatal};
use flow::flow_str::{parse_ofp_str_with_warnings, FlowModCommand, FlowStrKind, ParsedFlowMod};
use flow::Protocols;
use openflow::msgs::flow_mod::FlowMod;
use openflow::protocol::encode_flow_mod;
use std::collections::HashSet;

/// Logs parse warnings through vlog, each "once" site only once.
pub fn log_warnings(warnings: &[flow::port::Warning], seen: &mut HashSet<&'static str>) {
    for w in warnings {
        if w.once && !seen.insert(w.site) {
            continue;
        }
        vlog::warn!(w.module, "{}", w.text);
    }
}

fn parse_one(text: &str, seen: &mut HashSet<&'static str>) -> Result<ParsedFlowMod, String> {
    let mut warnings = Vec::new();
    let r = parse_ofp_str_with_warnings(
        text,
        FlowStrKind::FlowMod(FlowModCommand::Add),
        None,
        &mut warnings,
    );
    log_warnings(&warnings, seen);
    let mut fm = r?;
    // Upstream normalizes a parsed match (dropping fields whose
    // prerequisites it lacks) before using it, and says so at INFO.
    if let Some((pre, post)) = fm.match_.normalize() {
        log_normalization(&pre, &post);
    }
    Ok(fm)
}

/// Reports a match that normalization changed, at INFO, as upstream does:
/// its rate limit lets a burst of five reports through, which is all one
/// short-lived ovs-ofctl run ever sees.
pub fn log_normalization(pre: &str, post: &str) {
    use std::sync::atomic::{AtomicU32, Ordering};
    static REPORTED: AtomicU32 = AtomicU32::new(0);
    if REPORTED.fetch_add(1, Ordering::Relaxed) >= 5 {
        return;
    }
    vlog::info!("ofp_match", "normalization changed ofp_match, details:");
    vlog::info!("ofp_match", " pre: {}", pre);
    vlog::info!("ofp_match", "post: {}", post);
}

/// Reads the flows of `name` ("-" for stdin): one per line, `#` comments and
/// blank lines skipped. Errors are `FILE:LINE: message`.
pub fn read_flow_file(name: &str) -> Result<Vec<ParsedFlowMod>, Fatal> {
    let text = if name == "-" {
        let mut t = String::new();
        std::io::Read::read_to_string(&mut std::io::stdin(), &mut t)
            .map_err(|e| Fatal(format!("{name}: read failed ({e})")))?;
        t
    } else {
        std::fs::read_to_string(name).map_err(|e| {
            Fatal(format!(
                "{name}: open failed ({})",
                rpc::errno::io_error_text(&e)
            ))
        })?
    };
    let mut seen = HashSet::new();
    flow::flow_str::preprocessed_lines(&text)
        .map(|(n, line)| parse_one(line, &mut seen).map_err(|e| Fatal(format!("{name}:{n}: {e}"))))
        .collect()
}

fn print_flow_mods(opts: &Options, fms: &[ParsedFlowMod]) -> CmdResult {
    let usable = fms
        .iter()
        .fold(Protocols::ANY, |p, fm| p & fm.usable_protocols);
    println!("usable protocols: {usable}");
    let allowed = allowed_protocols(opts)?;
    let Some(protocol) = (usable & allowed).iter().next() else {
        return Err(Fatal("no usable protocol".into()));
    };
    println!(
        "chosen protocol: {}",
        protocol.single_name().unwrap_or("unknown")
    );
    for (i, fm) in fms.iter().enumerate() {
        let msg = encode_flow_mod(&FlowMod::from(fm), protocol, i as u32 + 1);
        print!("{}", openflow::print::ofp_to_string(&msg, opts.verbosity));
    }
    Ok(())
}

/// `parse-flow FLOW`
pub fn parse_flow(opts: &Options, args: &[String]) -> CmdResult {
    let mut seen = HashSet::new();
    let fm = parse_one(&args[0], &mut seen).map_err(Fatal)?;
    print_flow_mods(opts, std::slice::from_ref(&fm))
}

/// `parse-flows FILE`
pub fn parse_flows(opts: &Options, args: &[String]) -> CmdResult {
    let fms = read_flow_file(&args[0])?;
    print_flow_mods(opts, &fms)
}
