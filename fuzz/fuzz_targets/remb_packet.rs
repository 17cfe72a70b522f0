//! The REMB mapping: bytes rtc reads as a REMB give a cap exactly when they carry a rate, and a
//! REMB built from any rate and SSRC list (taken from the same bytes) reads back as sent.
#![no_main]

#[allow(dead_code)]
#[path = "../../crates/bwe-interceptor/tests/contracts/mod.rs"]
mod contracts;

use contracts::input::Input;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    contracts::remb_packet::received(data);
    let mut input = Input::new(data);
    let sender = input.u32();
    let bps = u64::from(input.u32()) << (input.u8() % 33);
    let mut ssrcs = Vec::new();
    while !input.is_empty() {
        ssrcs.push(input.u32());
    }
    contracts::remb_packet::built(sender, bps, ssrcs);
});
