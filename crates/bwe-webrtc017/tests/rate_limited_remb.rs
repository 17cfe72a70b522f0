//! The REMB generator behind a bottleneck: a 0.17 call whose receiver sits behind a
//! `RateLimitedNic`, on tokio's paused clock.

mod common;

use std::time::Duration;

/// A sender that starts at 300 kbit/s and follows the REMB (up to 1.5 Mbit/s) into a 1 Mbit/s,
/// 300 ms drop-tail
/// bottleneck: the REMB must settle within ±15 % of the link rate, as libwebrtc's receive-side
/// controller test (`ReceiveSideCongestionControllerTest.ConvergesToCapacity`, 900 ± 150 kbit/s on
/// 1 Mbit/s) expects of its estimate.
#[tokio::test(start_paused = true)]
async fn the_remb_settles_near_a_one_megabit_bottleneck() {
    let (network, sender_net, receiver_net, stats, _) = common::rate_limited_hosts(1_000).await;
    let mut call = common::remb_call_between(network, sender_net, receiver_net).await;

    let (start, rembs) = call
        .send_video_following_remb(Duration::from_secs(40), 300e3, 1.5e6)
        .await;
    let settled: Vec<f64> = rembs
        .iter()
        .filter(|(at, _)| *at - start >= Duration::from_secs(20))
        .map(|(_, r)| f64::from(r.bitrate) / 1e6)
        .collect();
    eprintln!(
        "REMBs after 20 s (Mbit/s): {settled:.3?}; link offered {} chunks ({} bytes), delivered {} ({} bytes), dropped {}; {:?}",
        stats.offered(),
        stats.offered_bytes(),
        stats.delivered(),
        stats.delivered_bytes(),
        stats.dropped(),
        call.handle.stats()
    );
    assert!(settled.len() >= 15, "{} REMBs after 20 s", settled.len());
    let mut sorted = settled.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    assert!(
        (0.85..=1.15).contains(&median),
        "median REMB {median:.3} Mbit/s"
    );
    // The sawtooth around it: each over-use takes the REMB to 0.85 x the incoming rate.
    for mbps in &settled {
        assert!(
            (0.75..=1.25).contains(mbps),
            "REMB of {mbps:.3} Mbit/s after 20 s"
        );
    }
    assert!(stats.delivered() > 1_000, "the bottleneck carried the call");
    // The REMB kept the sender under the link: the queue never overflowed once it had settled
    // (the few drops allowed are the first climb's over-shoot).
    assert!(stats.dropped() <= 50, "{} chunks dropped", stats.dropped());
    call.close().await;
}
