//! abs-send-time: any payload parses or is refused, a parsed value writes back to its bytes,
//! and the unwrapper fed the input as 3-byte values never jumps more than half a period.
#![no_main]

#[path = "../../crates/bwe-core/tests/contracts/rtp_ext.rs"]
mod contracts;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    contracts::abs_send_time(data);
    contracts::abs_send_time_unwrap(data);
});
