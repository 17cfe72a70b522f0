//! The REMB generator in a real 0.17 receiver: the sender reads and decodes what it sends.

mod common;

use std::time::Duration;

use bwe_core::Bitrate;
use common::{RembCall, remb_call_with_latency};

/// Checks what every run of a clean ~1 Mbit/s call must show after `span` of media: REMBs for
/// the media SSRC near the sent rate, from the first valid estimate on.
fn check_clean_call(call: &mut RembCall, start: tokio::time::Instant, span: Duration) {
    let received = call.take_rembs();
    let stats = call.handle.stats();
    let bitrates: Vec<f64> = received
        .iter()
        .map(|(_, r)| f64::from(r.bitrate) / 1e6)
        .collect();
    eprintln!("REMBs (Mbit/s): {bitrates:.3?}; {stats:?}");
    // The first is the incoming rate adopted 5 s after it was first measured, then one a second.
    let expected = 1 + (span.as_millis() as usize).saturating_sub(5_500) / 1_000;
    assert!(
        (1..=expected + 1).contains(&received.len()),
        "{} REMBs in {span:?}",
        received.len()
    );
    let first_after = received[0].0 - start;
    assert!(
        (Duration::from_secs(4)..=Duration::from_millis(6_500)).contains(&first_after),
        "first REMB {first_after:?} after media started"
    );
    for (_, remb) in &received {
        assert_eq!(remb.ssrcs, vec![call.media_ssrc]);
    }
    for mbps in &bitrates {
        assert!((0.8..=1.5).contains(mbps), "REMB of {mbps:.3} Mbit/s");
    }
    let estimate = call.handle.estimate().expect("a valid estimate");
    assert!(
        (Bitrate::from_kbps(800)..=Bitrate::from_kbps(1_500)).contains(&estimate),
        "{estimate}"
    );
    assert_eq!(stats.malformed_extension + stats.malformed_rtp, 0);
    assert_eq!(
        stats.missing_extension, 0,
        "the sender stamped every packet"
    );
    assert!(stats.fed > 500, "{stats:?}");
}

/// A REMB must reach the sender carrying the media SSRC and a bitrate near what it sends: the
/// receive side measured ~1 Mbit/s arriving and no congestion. Real time, 20 ms one-way.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn receiver_sends_remb_for_the_video_ssrc_near_the_sent_rate() {
    let mut call = remb_call_with_latency(Duration::from_millis(20)).await;
    let span = Duration::from_millis(7_500);
    let start = call.send_video(span).await;
    check_clean_call(&mut call, start, span);
    call.close().await;
}

/// The same call on tokio's paused clock: with no router latency (the 0.17 router measures
/// latency on the wall clock) everything the estimator and the REMB timer see is virtual, so
/// 9 s of media run in a fraction of that.
#[tokio::test(start_paused = true)]
async fn on_a_paused_clock_the_same_call_runs_in_virtual_time() {
    let wall = std::time::Instant::now();
    let mut call = remb_call_with_latency(Duration::ZERO).await;
    let span = Duration::from_secs(9);
    let start = call.send_video(span).await;
    check_clean_call(&mut call, start, span);
    call.close().await;
    let wall = wall.elapsed();
    assert!(
        wall < Duration::from_secs(5),
        "9 s of virtual media took {wall:?}"
    );
}
