//! Documents an upstream behaviour of webrtc/rtc 0.21.1: with NACK but no RTX codec, rtc's NACK
//! responder resends lost packets on the media SSRC with their original sequence numbers; the
//! receiver's SRTP replay check rejects them as duplicates, so TWCC reports them lost a second
//! time and rtc's `Gcc` backs off to its floor and stays there. Our chain helper negotiates RTX,
//! which keeps retransmissions on their own SSRC.
//!
//! If this test fails on the rtc::Gcc side, upstream has changed (the collapse is gone, or
//! looks different): update `docs/` and `bwe-interceptor`'s chain docs accordingly.

use bwe_core::Bitrate;
use bwe_e2e::{CallSpec, Estimator, Nack, run_call};
use vnet_sim::{LossModel, Rate, SimDuration};

/// 5 % random loss; the seed spares the DTLS flight that rtc-dtls never resends (see
/// `docs/simulator.md`, upstream limitations).
const SEED: u64 = 3;

fn settled_target(estimator: Estimator, nack: Nack) -> Bitrate {
    let mut forward = CallSpec::bottleneck(
        Rate::from_kbps(2_500),
        SimDuration::from_millis(25),
        SimDuration::from_millis(300),
    );
    forward.loss = LossModel::Bernoulli { probability: 0.05 };
    let mut spec = CallSpec::new(SEED, estimator, forward);
    spec.nack = nack;
    spec.duration = SimDuration::from_secs(30);
    let result = run_call(&spec).expect("the call runs");
    println!("{} {nack:?}:\n{}", estimator.name(), result.trace.render());
    let m = result
        .trace
        .metrics(SimDuration::from_secs(20), spec.duration);
    println!("{m}");
    m.target.expect("the sender published a target")
}

/// Pins the upstream collapse, and that our chain does not suffer it under the same loss.
#[test]
fn nack_without_rtx_collapses_rtc_gcc() {
    let collapsed = settled_target(Estimator::RtcGcc, Nack::WithoutRtx).as_kbps_f64();
    let gcc_rtx = settled_target(Estimator::RtcGcc, Nack::WithRtx).as_kbps_f64();
    let ours = settled_target(Estimator::OursSendSide, Nack::WithRtx).as_kbps_f64();
    println!(
        "mean target over [20 s, 30 s): rtc::Gcc NACK without RTX {collapsed:.0} kbit/s, \
         rtc::Gcc NACK with RTX {gcc_rtx:.0} kbit/s, ours (NACK with RTX) {ours:.0} kbit/s"
    );
    // As observed with rtc 0.21.1: at (or near) its 30 kbit/s floor.
    assert!((30.0..=100.0).contains(&collapsed), "{collapsed}");
    // RTX alone removes the collapse, for rtc::Gcc as for ours.
    assert!((200.0..=2_500.0).contains(&gcc_rtx), "{gcc_rtx}");
    assert!((200.0..=2_500.0).contains(&ours), "{ours}");
}
