//! The REMB generator fed RTP (parsed by rtc from any bytes, or built with any header
//! extensions) and timer expiries: media passes unchanged and every packet is accounted for.
#![no_main]

#[allow(dead_code)]
#[path = "../../crates/bwe-interceptor/tests/contracts/mod.rs"]
mod contracts;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    contracts::remb_receiver::remb_receiver(data);
});
