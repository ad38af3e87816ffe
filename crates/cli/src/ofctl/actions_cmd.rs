//! `ovs-ofctl parse-actions` and `parse-instructions`: decode OpenFlow
//! actions or instructions given in hex on stdin and print them (the
//! work is `flow::actions::cmd`).

use super::options::Options;
use super::{CmdResult, Fatal};

fn run(args: &[String], instructions: bool) -> CmdResult {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    flow::actions::cmd::run_parse_actions(
        args.first().map(String::as_str),
        instructions,
        &mut input,
        &mut out,
    )
    .map_err(Fatal)
}

/// `parse-actions VERSION`
pub fn parse_actions(_: &Options, args: &[String]) -> CmdResult {
    run(args, false)
}

/// `parse-instructions VERSION`
pub fn parse_instructions(_: &Options, args: &[String]) -> CmdResult {
    run(args, true)
}
