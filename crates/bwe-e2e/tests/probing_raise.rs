//! RFC 8867 §5.1's raise from 1.0 to 2.5 Mbit/s at 40 s on two real PeerConnections, ours
//! against rtc 0.21's `Gcc` on the same seed. The bar: 85 % of 2.5 Mbit/s within 2 s of the
//! raise. See `support` for why each case is a binary of its own.

mod support;

use bwe_e2e::{CallSpec, Estimator, Trace, run_call};
use support::{SEED, after, kbps, reaches, secs};
use vnet_sim::{LinkConfig, SimDuration};

fn rfc8867_5_1_until(estimator: Estimator, duration: SimDuration) -> Trace {
    let mut spec = CallSpec::new(SEED, estimator, LinkConfig::rfc8867_5_1());
    spec.duration = duration;
    run_call(&spec).expect("the call runs").trace
}

/// RFC 8867 §5.1's raise from 1.0 to 2.5 Mbit/s at 40 s: a sender that fills its estimate is
/// not application-limited, so only capacity probing finds the new room quickly.
#[test]
fn rfc8867_5_1_raise_reaches_85_percent_within_2_s() {
    let ours = rfc8867_5_1_until(Estimator::OursSendSide, secs(46));
    let gcc = rfc8867_5_1_until(Estimator::RtcGcc, secs(46));
    let ours_at = after(reaches(&ours, secs(40), 0.85), secs(40));
    let gcc_at = after(reaches(&gcc, secs(40), 0.85), secs(40));
    let rows = |t: &Trace| {
        t.rows
            .iter()
            .filter(|r| r.t >= secs(39) && r.t < secs(44))
            .map(|r| {
                format!(
                    "{:5.1} s target {:6.0} goodput {:6.0}",
                    r.t.as_secs_f64(),
                    r.target.map_or(f64::NAN, kbps),
                    kbps(r.goodput)
                )
            })
            .collect::<Vec<_>>()
            .join("\n")
    };
    println!("ours:\n{}\nrtc::Gcc:\n{}", rows(&ours), rows(&gcc));
    println!("85 % of 2.5 Mbit/s after the raise: ours {ours_at:.1} s, rtc::Gcc {gcc_at:.1} s");
    assert!((0.0..=2.0).contains(&ours_at), "ours: {ours_at} s");
    assert!(gcc_at > 4.0, "rtc::Gcc: {gcc_at} s");
}
