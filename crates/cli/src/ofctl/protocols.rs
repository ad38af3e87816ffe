//! The protocol variants the global options allow (`-O`/`--protocols`
//! versions intersected with `-F`/`--flow-format` variants), with upstream's
//! errors.

use super::options::Options;
use super::Fatal;
use flow::Protocols;
use openflow::protocol::protocols_from_version_bitmap;

/// The versions ovs-ofctl enables without `-O`: OpenFlow 1.0 only (whatever
/// its `--help` text says).
pub const DEFAULT_VERSIONS: u32 = 1 << 1;

/// The OpenFlow wire version named `OpenFlow1X` (case-insensitive).
pub fn version_from_name(name: &str) -> Option<u8> {
    flow::version::OfpVersion::from_name(name).map(|v| v.wire())
}

fn version_name(v: u8) -> &'static str {
    flow::version::OfpVersion::from_wire(v).map_or("", |v| v.name())
}

/// The versions `-O` allows, as a bitmap (bit N = wire version N).
pub fn allowed_versions(opts: &Options) -> Result<u32, Fatal> {
    let Some(list) = &opts.protocols else {
        return Ok(DEFAULT_VERSIONS);
    };
    let mut bitmap = 0;
    for name in list.split([',', ' ', '\t']).filter(|s| !s.is_empty()) {
        let v = version_from_name(name)
            .ok_or_else(|| Fatal(format!("Unknown OpenFlow version: \"{name}\"")))?;
        bitmap |= 1 << v;
    }
    Ok(if bitmap == 0 {
        DEFAULT_VERSIONS
    } else {
        bitmap
    })
}

/// The versions the session may use: `-O`'s, except that `--bundle` keeps
/// only OpenFlow 1.3 and later (OpenFlow 1.4 when none of those is left).
pub fn session_versions(opts: &Options) -> Result<u32, Fatal> {
    let v = allowed_versions(opts)?;
    if !opts.bundle {
        return Ok(v);
    }
    let bundling = v & ((1 << 4) | (1 << 5) | (1 << 6));
    Ok(if bundling == 0 { 1 << 5 } else { bundling })
}

/// The protocol variants the options allow.
pub fn allowed_protocols(opts: &Options) -> Result<Protocols, Fatal> {
    let mut allowed = Protocols::ANY;
    if let Some(f) = &opts.flow_format {
        if f.trim().is_empty() {
            return Err(Fatal(format!("{f}: no flow protocol specified")));
        }
        allowed =
            Protocols::parse(f).ok_or_else(|| Fatal(format!("{f}: unknown flow protocol")))?;
    }
    let versions = session_versions(opts)?;
    let by_version = protocols_from_version_bitmap(versions);
    if (allowed & by_version).is_empty() {
        let names: Vec<&str> = (1..=6)
            .filter(|v| versions & (1 << v) != 0)
            .map(version_name)
            .collect();
        return Err(Fatal(format!(
            "None of the enabled OpenFlow versions ({}) supports any of the enabled flow \
             formats ({allowed}).  (Use -O to enable additional OpenFlow versions or -F to \
             enable additional flow formats.)",
            names.join(", ")
        )));
    }
    Ok(allowed & by_version)
}
