//! Send-side estimation in a closed loop of two real rtc chains: the sender's chain
//! (`configure_bwe` send-side preset, or rtc's own `Gcc` for comparison) and a receiver's,
//! joined by a bottleneck link carrying marshalled bytes. The sender's "encoder" follows the
//! target the chain announces; time advances in 1 ms steps from one base instant.

mod support;

use std::time::Duration;

use bwe_core::Bitrate;
use bwe_core::send_side::SendSideConfig;
use bwe_interceptor::{BweChainConfig, DEFAULT_FEEDBACK_INTERVAL, SendSideChain, configure_bwe};
use rtc::interceptor::{Gcc, Interceptor, Registry};
use rtc::peer_connection::configuration::interceptor_registry::{
    CongestionFeedback, configure_congestion_control,
};
use rtc::peer_connection::configuration::media_engine::MediaEngine;

use support::closed_loop::{Trace, render, run};

/// A queue of up to 2 s: deep enough that only delay, not loss, tells of congestion.
const DEEP: Duration = Duration::from_secs(2);

fn engine() -> MediaEngine {
    let mut engine = MediaEngine::default();
    engine.register_default_codecs().expect("codecs");
    engine
}

fn ours(feedback: CongestionFeedback, start: Bitrate) -> impl Interceptor {
    let mut config = BweChainConfig::send_side(feedback);
    config.send_side = Some(SendSideChain {
        feedback,
        estimator: SendSideConfig {
            start,
            ..SendSideConfig::default()
        },
        // rtc's pacer.
        pacer: None,
        feedback_interval: DEFAULT_FEEDBACK_INTERVAL,
    });
    let (registry, _) = configure_bwe(Registry::new(), &mut engine(), config).expect("chain");
    registry.build()
}

fn rtc_gcc(feedback: CongestionFeedback, start: Bitrate) -> impl Interceptor {
    let gcc = Gcc::new(start.as_bps_f64(), 100_000.0, 100_000_000.0);
    configure_congestion_control(Registry::new(), gcc, feedback, &mut engine())
        .expect("chain")
        .build()
}

fn receiver(feedback: CongestionFeedback) -> impl Interceptor {
    ours(feedback, Bitrate::from_kbps(300))
}

/// 2 Mbit/s for 5 s, then 500 kbit/s.
fn step_down(second: u64) -> Bitrate {
    if second < 5 {
        Bitrate::from_kbps(2_000)
    } else {
        Bitrate::from_kbps(500)
    }
}

/// After the capacity halves twice over, the target must come down to the new capacity and
/// the queue must drain: target at 5 s and at 15 s, and the queue left, within two-sided bounds.
fn assert_follows_the_drop(name: &str, trace: &Trace) {
    let (_, before, _, _) = trace[4];
    let (_, after, queue, _) = *trace.last().expect("samples");
    assert!(
        (800.0..=2_200.0).contains(&before),
        "{name}: {before:.0} kbit/s at 5 s on a 2 Mbit/s path"
    );
    assert!(
        (250.0..=600.0).contains(&after),
        "{name}: {after:.0} kbit/s at the end on a 500 kbit/s path"
    );
    assert!(queue <= 200, "{name}: {queue} ms of queue left");
}

/// Ours over TWCC: a drop-in for Gcc that follows a capacity drop and drains the queue.
#[test]
fn twcc_loop_follows_a_capacity_drop() {
    let start = Bitrate::from_kbps(1_000);
    let trace = run(
        ours(CongestionFeedback::Twcc, start),
        receiver(CongestionFeedback::Twcc),
        start,
        15,
        step_down,
        DEEP,
    );
    render("ours/twcc", &trace);
    let gcc = run(
        rtc_gcc(CongestionFeedback::Twcc, start),
        receiver(CongestionFeedback::Twcc),
        start,
        15,
        step_down,
        DEEP,
    );
    render("rtc-gcc/twcc", &gcc);
    assert_follows_the_drop("ours/twcc", &trace);
}

/// Ours over RFC 8888: the same, which also proves the arrival-time workaround (without it the
/// delay signal runs backwards).
#[test]
fn rfc8888_loop_follows_a_capacity_drop() {
    let start = Bitrate::from_kbps(1_000);
    let trace = run(
        ours(CongestionFeedback::Rfc8888, start),
        receiver(CongestionFeedback::Rfc8888),
        start,
        15,
        step_down,
        DEEP,
    );
    render("ours/rfc8888", &trace);
    let gcc = run(
        rtc_gcc(CongestionFeedback::Rfc8888, start),
        receiver(CongestionFeedback::Rfc8888),
        start,
        15,
        step_down,
        DEEP,
    );
    render("rtc-gcc/rfc8888", &gcc);
    assert_follows_the_drop("ours/rfc8888", &trace);
}
