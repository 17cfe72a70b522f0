//! The send-side chain (`BweSendSide` behind rtc's congestion controller, the REMB reader
//! capping it) fed any RTCP, and valid TWCC or RFC 8888 feedback with bytes changed. The first
//! byte picks the feedback format.
#![no_main]

#[allow(dead_code)]
#[path = "../../crates/bwe-interceptor/tests/contracts/mod.rs"]
mod contracts;

use contracts::rtcp_feedback::Preset;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&format, rest)) = data.split_first() else {
        return;
    };
    let preset = if format & 1 == 0 {
        Preset::SendSideTwcc
    } else {
        Preset::SendSideRfc8888
    };
    contracts::rtcp_feedback::chain_fed_rtcp(preset, rest);
});
