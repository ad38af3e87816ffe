//! Any bytes through the whole OpenFlow decoder and printer (every message
//! type, every version), and every message that decodes back through the
//! encoder and decoder: must never panic.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Decoding logs warnings about malformed input; keep them off the console.
    vlog::set_level(None, Some(vlog::Destination::Console), vlog::Level::Off);
    for verbosity in [0, 3] {
        let _ = openflow::print::ofp_to_string(data, verbosity);
    }
    if let Ok((raw, msg)) = openflow::msgs::message::OfpMessage::decode(data) {
        let again = msg.encode(raw, data[0], 1);
        let _ = openflow::msgs::message::OfpMessage::decode(&again);
    }
});
