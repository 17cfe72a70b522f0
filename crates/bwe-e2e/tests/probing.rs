//! The probing cases on two real PeerConnections, ours against rtc 0.21's `Gcc` on the same
//! seed each time. They share one binary: a call does not depend on what ran before it in the
//! process (see `docs/simulator.md`, "Determinism"), so each figure is what a lone
//! `cargo xtask scenario run` of the same case gives.
//!
//! - Start-up: 300 kbit/s on an empty 2.5 Mbit/s, 50 ms, 300 ms-queue path. The bar: 85 % of
//!   capacity within 2 s, with the start-up queue's p95 at most 30 ms. `Gcc`, which cannot
//!   probe, is held to what it was measured to do, so that a change on either side shows up.
//! - RFC 8867 §5.1's raise from 1.0 to 2.5 Mbit/s at 40 s. The bar: 85 % of 2.5 Mbit/s within
//!   2 s of the raise.
//! - An application capped at 500 kbit/s on a 2.5 Mbit/s path for 30 s, then let go. The bars:
//!   while application-limited, a target at most twice what is sent; 85 % of capacity within
//!   3 s of the limit being lifted.

mod support;

use bwe_core::Bitrate;
use bwe_e2e::{CallSpec, EncoderConfig, Estimator, Trace, run_call};
use support::{SEED, after, kbps, reaches, secs};
use vnet_sim::{LinkConfig, Rate, SimDuration};

fn startup(estimator: Estimator) -> Trace {
    let link = CallSpec::bottleneck(
        Rate::from_kbps(2_500),
        SimDuration::from_millis(50),
        SimDuration::from_millis(300),
    );
    let mut spec = CallSpec::new(SEED, estimator, link);
    spec.duration = secs(8);
    run_call(&spec).expect("the call runs").trace
}

/// Start-up on an empty 2.5 Mbit/s path from 300 kbit/s: the initial probes at 3× and 6× find
/// the capacity in one round trip; without them 8 %/s would need 28 s.
#[test]
fn startup_reaches_85_percent_of_capacity_within_2_s_with_a_short_queue() {
    let ours = startup(Estimator::OursSendSide);
    let gcc = startup(Estimator::RtcGcc);
    let ours_at = after(reaches(&ours, SimDuration::ZERO, 0.85), SimDuration::ZERO);
    let gcc_at = after(reaches(&gcc, SimDuration::ZERO, 0.85), SimDuration::ZERO);
    let ours_p95 = ours.metrics(SimDuration::ZERO, secs(2)).queue_p95;
    let gcc_p95 = gcc.metrics(SimDuration::ZERO, secs(2)).queue_p95;
    println!("ours:\n{}\nrtc::Gcc:\n{}", ours.render(), gcc.render());
    println!(
        "85 % of 2.5 Mbit/s after: ours {ours_at:.1} s, rtc::Gcc {gcc_at:.1} s; \
         start-up queue p95 (0-2 s): ours {ours_p95:?}, rtc::Gcc {gcc_p95:?}"
    );
    assert!((0.2..=2.0).contains(&ours_at), "ours: {ours_at} s");
    let p95 = ours_p95.expect("packets in start-up").as_secs_f64() * 1e3;
    assert!((0.0..=30.0).contains(&p95), "ours: start-up p95 {p95} ms");
    // rtc::Gcc climbs at about 8 %/s: nowhere near within the 8 s.
    assert!(gcc_at > 6.0, "rtc::Gcc reached 85 % after {gcc_at} s");

    // What a person reads: the first 3 s of ours, 200 ms rows.
    let head: Vec<String> = ours
        .rows
        .iter()
        .take_while(|r| r.t < secs(3))
        .map(|r| {
            format!(
                "{:4.1} s  target {:5.0}  sent {:5.0}  goodput {:5.0} kbit/s  queue {:5.1} ms",
                r.t.as_secs_f64(),
                r.target.map_or(f64::NAN, kbps),
                kbps(r.send_rate),
                kbps(r.goodput),
                r.queue_delay.map_or(f64::NAN, |d| d.as_secs_f64() * 1e3),
            )
        })
        .collect();
    insta::assert_snapshot!("startup_2_5_mbps", head.join("\n"));
}

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
