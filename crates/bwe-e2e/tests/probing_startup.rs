//! Start-up on two real PeerConnections, ours against rtc 0.21's `Gcc` on the same seed: 300
//! kbit/s on an empty 2.5 Mbit/s, 50 ms, 300 ms-queue path. The bar: 85 % of capacity within
//! 2 s, with the start-up queue's p95 at most 30 ms. `Gcc`, which cannot probe, is held to what
//! it was measured to do, so that a change on either side shows up. See `support` for why each
//! case is a binary of its own.

mod support;

use bwe_e2e::{CallSpec, Estimator, Trace, run_call};
use support::{SEED, after, kbps, reaches, secs};
use vnet_sim::{Rate, SimDuration};

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
