//! Any text through the flow-syntax parser (matches and actions) and the
//! group syntax: must never panic, only return errors.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        for kind in [
            flow::flow_str::FlowStrKind::FlowModAnyCommand,
            flow::flow_str::FlowStrKind::FlowStats,
        ] {
            let _ = flow::flow_str::parse_ofp_str(text, kind, None);
        }
        let _ = openflow::msgs::group_text::parse_group_mod(text, None, None);
    }
});
