//! `ovs-ofctl parse-group GROUP`: parses one group in the group syntax,
//! reports the protocols able to carry it and the version chosen (that of
//! the first protocol both usable and allowed), and prints the group-mod.

use super::options::Options;
use super::protocols::allowed_protocols;
use super::{CmdResult, Fatal};
use openflow::msgs::group_text::{command, parse_group_mod};
use openflow::protocol::protocol_version;

/// `parse-group GROUP`
pub fn parse_group(opts: &Options, args: &[String]) -> CmdResult {
    let parsed = parse_group_mod(&args[0], Some(command::ADD), None).map_err(Fatal)?;
    println!("usable protocols: {}", parsed.usable_protocols);
    let allowed = allowed_protocols(opts)?;
    let Some(first) = (allowed & parsed.usable_protocols).iter().next() else {
        return Err(Fatal("no usable protocol".into()));
    };
    let version = protocol_version(first);
    let name = flow::version::OfpVersion::from_wire(version).map_or("", |v| v.name());
    println!("chosen version: {name}");
    let msg = parsed.group_mod.encode(version, 1);
    print!("{}", openflow::print::ofp_to_string(&msg, 2));
    Ok(())
}
