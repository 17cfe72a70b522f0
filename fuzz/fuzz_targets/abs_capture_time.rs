//! abs-capture-time: any payload parses to its fields or is refused with its length.
#![no_main]

#[path = "../../crates/bwe-core/tests/contracts/rtp_ext.rs"]
mod contracts;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    contracts::abs_capture_time(data);
});
