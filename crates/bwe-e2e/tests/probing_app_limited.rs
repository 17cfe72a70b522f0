//! An application capped at 500 kbit/s on a 2.5 Mbit/s path for 30 s, then let go, on two real
//! PeerConnections, ours against rtc 0.21's `Gcc` on the same seed. The bars: while
//! application-limited, a target at most twice what is sent; 85 % of capacity within 3 s of
//! the limit being lifted. See `support` for why each case is a binary of its own.

mod support;

use bwe_core::Bitrate;
use bwe_e2e::{CallSpec, EncoderConfig, Estimator, Trace, run_call};
use support::{SEED, after, reaches, secs};
use vnet_sim::{Rate, SimDuration};

fn app_limited(estimator: Estimator) -> Trace {
    let link = CallSpec::bottleneck(
        Rate::from_kbps(2_500),
        SimDuration::from_millis(50),
        SimDuration::from_millis(300),
    );
    let mut spec = CallSpec::new(SEED, estimator, link);
    spec.duration = secs(40);
    spec.encoder = EncoderConfig {
        app_limit: vec![
            (SimDuration::ZERO, Some(Bitrate::from_kbps(500))),
            (secs(30), None),
        ],
        ..EncoderConfig::default()
    };
    run_call(&spec).expect("the call runs").trace
}

/// An application sending 500 kbit/s on a 2.5 Mbit/s path for 30 s: the target must stay tied
/// to what is sent (an estimate nobody tests is a guess), and once the application wants more,
/// ALR probing must find the capacity within 3 s. (rtc::Gcc reached 2.9 Mbit/s of target on
/// 533 kbit/s sent: its lift is instant only because its estimate was never tied to anything.)
#[test]
fn application_limited_target_stays_within_2x_sent_and_recovers_within_3_s() {
    let ours = app_limited(Estimator::OursSendSide);
    let gcc = app_limited(Estimator::RtcGcc);
    let limited = |t: &Trace| {
        let rows: Vec<_> = t
            .rows
            .iter()
            .filter(|r| r.t >= secs(5) && r.t < secs(30))
            .collect();
        let sent = rows.iter().map(|r| r.send_rate.as_bps_f64()).sum::<f64>() / rows.len() as f64;
        let most = rows
            .iter()
            .filter_map(|r| r.target)
            .map(|t| t.as_bps_f64())
            .fold(0.0, f64::max);
        (sent, most)
    };
    let (ours_sent, ours_max) = limited(&ours);
    let (gcc_sent, gcc_max) = limited(&gcc);
    let ours_at = after(reaches(&ours, secs(30), 0.85), secs(30));
    let gcc_at = after(reaches(&gcc, secs(30), 0.85), secs(30));
    println!(
        "5-30 s: ours sends {:.0} kbit/s, target at most {:.0}; rtc::Gcc sends {:.0}, target at most {:.0}",
        ours_sent / 1e3,
        ours_max / 1e3,
        gcc_sent / 1e3,
        gcc_max / 1e3
    );
    println!("85 % of 2.5 Mbit/s after the lift: ours {ours_at:.1} s, rtc::Gcc {gcc_at:.1} s");
    assert!(
        (450e3..=650e3).contains(&ours_sent),
        "the application sends its 500 kbit/s: {ours_sent}"
    );
    assert!(
        ours_max >= ours_sent && ours_max <= 2.0 * ours_sent,
        "ours: target up to {ours_max} for {ours_sent} sent"
    );
    assert!((0.0..=3.0).contains(&ours_at), "ours: {ours_at} s");
    // rtc::Gcc's estimate, untested by what is sent, inflates far past it (Pion #299's
    // complaint); that is also why it fills the link at once when the limit goes.
    assert!(
        gcc_max > 3.0 * gcc_sent,
        "rtc::Gcc: target up to {gcc_max} for {gcc_sent} sent"
    );
}
