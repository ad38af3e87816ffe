//! Any frame through flow extraction: must never panic or read out of bounds.
#![no_main]
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let md = packet::extract::Metadata::default();
    let _ = packet::extract::extract(data, &md);
});
