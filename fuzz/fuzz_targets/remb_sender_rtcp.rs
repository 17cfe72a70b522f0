//! The REMB-only chain (the REMB reader driving the controller from REMB and receiver reports)
//! fed any RTCP, and valid REMBs and receiver reports with bytes changed.
#![no_main]

#[allow(dead_code)]
#[path = "../../crates/bwe-interceptor/tests/contracts/mod.rs"]
mod contracts;

use contracts::rtcp_feedback::Preset;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    contracts::rtcp_feedback::chain_fed_rtcp(Preset::Remb, data);
});
