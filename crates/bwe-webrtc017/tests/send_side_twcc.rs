//! The send side over TWCC behind a bottleneck: a 0.17 call whose receiver (0.17's default
//! chain, its TWCC receiver among it) sits behind a `RateLimitedNic`, on tokio's paused clock,
//! with the sender's encoder following our send side's encoder target.

mod common;

use std::sync::Arc;
use std::time::Duration;

use bwe_core::Bitrate;
use bwe_webrtc017::vnet::{RateControl, RateLimitStats};
use tokio::time::Instant;

const LINK_KBPS: u64 = 1_000;

async fn call(
    ours: bool,
) -> (
    common::Call<Option<bwe_webrtc017::SendSideHandle>>,
    Arc<RateLimitStats>,
) {
    let (call, stats, _) = call_with_control(ours).await;
    (call, stats)
}

async fn call_with_control(
    ours: bool,
) -> (
    common::Call<Option<bwe_webrtc017::SendSideHandle>>,
    Arc<RateLimitStats>,
    RateControl,
) {
    let (network, sender_net, receiver_net, stats, control) =
        common::rate_limited_hosts(LINK_KBPS).await;
    let call = common::send_side_call_between(network, sender_net, receiver_net, ours).await;
    (call, stats, control)
}

/// The encoder's rate: the send side's encoder target (300 kbit/s before there is one), up to
/// 2.5 Mbit/s.
fn encoder_rate(handle: &bwe_webrtc017::SendSideHandle) -> f64 {
    handle
        .encoder_target()
        .map_or(300e3, |b| b.bps() as f64)
        .min(2.5e6)
}

/// Ours: from 300 kbit/s the target settles within ±15 % of the 1 Mbit/s link, the link is
/// used, and its queue hardly overflows.
#[tokio::test(start_paused = true)]
async fn the_target_settles_near_a_one_megabit_bottleneck() {
    let (call, link) = call(true).await;
    let handle = call.handle.clone().expect("ours");
    let origin = Instant::now();
    let (samples, sampler) = sample_targets(handle.clone(), origin);
    let mut mark = None;
    let start = call
        .send_video_at(Duration::from_secs(40), || {
            if mark.is_none() && origin.elapsed() >= Duration::from_secs(20) {
                mark = Some(link.delivered_bytes());
            }
            encoder_rate(&handle)
        })
        .await;
    sampler.abort();
    let stats = handle.stats();
    let delivered = link.delivered_bytes() - mark.expect("past 20 s");
    let utilisation =
        delivered as f64 * 8.0 / (LINK_KBPS as f64 * 1e3 * (start.elapsed().as_secs_f64() - 20.0));
    let samples = samples.lock().unwrap().clone();
    let settled: Vec<f64> = samples
        .iter()
        .filter(|(at, _)| *at >= Duration::from_secs(20))
        .map(|(_, kbps)| *kbps)
        .collect();
    eprintln!(
        "target (kbit/s) every 0.5 s: {:?}\nutilisation 20-40 s {utilisation:.3}; link offered {} delivered {} dropped {}; {stats:#?}",
        samples
            .iter()
            .map(|(t, k)| (t.as_secs_f64(), k.round()))
            .collect::<Vec<_>>(),
        link.offered(),
        link.delivered(),
        link.dropped(),
    );
    assert!(settled.len() >= 30, "{} samples after 20 s", settled.len());
    let mut sorted = settled.clone();
    sorted.sort_by(f64::total_cmp);
    let median = sorted[sorted.len() / 2];
    eprintln!(
        "SUMMARY target 20-40 s: median {median:.0} min {:.0} max {:.0} kbit/s; utilisation {utilisation:.3}; dropped {}; first sample above 850: {:?}",
        sorted[0],
        sorted[sorted.len() - 1],
        link.dropped(),
        samples
            .iter()
            .find(|(_, k)| *k >= 850.0)
            .map(|(t, _)| t.as_secs_f64()),
    );
    assert!(
        (850.0..=1_150.0).contains(&median),
        "median target {median:.0} kbit/s"
    );
    assert!(
        stats.feedback_messages > 100,
        "{} feedback messages",
        stats.feedback_messages
    );
    call.close().await;
}

/// What the link saw when the application sent 1.5 Mbit/s for 20 s whatever it was told:
/// (offered bytes, the dropped fraction of datagrams, delivered kbit/s).
async fn overrun(
    ours: bool,
) -> (
    u64,
    f64,
    f64,
    Option<bwe_webrtc017::send_side::SendSideStats017>,
) {
    let (call, link) = call(ours).await;
    assert_eq!(call.handle.is_some(), ours);
    call.send_video_at(Duration::from_secs(20), || 1.5e6).await;
    let dropped = link.dropped() as f64 / link.offered() as f64;
    let delivered_kbps = link.delivered_bytes() as f64 * 8.0 / 20.0 / 1e3;
    eprintln!(
        "{} at 1.5 Mbit/s: offered {} datagrams ({} bytes), delivered {} ({delivered_kbps:.0} kbit/s), dropped {} ({:.1} %)",
        if ours { "ours" } else { "0.17 default chain" },
        link.offered(),
        link.offered_bytes(),
        link.delivered(),
        link.dropped(),
        dropped * 100.0
    );
    let stats = call.handle.as_ref().map(|h| h.stats());
    call.close().await;
    (link.offered_bytes(), dropped, delivered_kbps, stats)
}

/// 20 s of media at 1.5 Mbit/s is 3.75 MB.
const MEDIA_BYTES: f64 = 1.5e6 * 20.0 / 8.0;

/// The same link with 0.17's default chain on the sender, which has no estimator and an
/// application that ignores the link: the link drops what it cannot carry, and 0.17's unpaced
/// NACK responder resends into the full queue, many times the media.
#[tokio::test(start_paused = true)]
async fn without_a_pacer_nack_resends_flood_the_link() {
    let (offered, dropped, delivered_kbps, _) = overrun(false).await;
    assert!(
        offered as f64 >= 5.0 * MEDIA_BYTES,
        "offered {offered} bytes"
    );
    assert!((0.3..=0.999).contains(&dropped), "dropped {dropped:.3}");
    assert!(
        (800.0..=1_050.0).contains(&delivered_kbps),
        "{delivered_kbps:.0} kbit/s"
    );
}

/// With our send side, the same careless application: resends go through the pacer, whose
/// retransmission budget is the target, and the pacer sheds what waits too long in its queue,
/// so the link is offered less than the media, not many times it.
#[tokio::test(start_paused = true)]
async fn with_our_pacer_resends_stay_within_the_budget() {
    let (offered, dropped, delivered_kbps, stats) = overrun(true).await;
    let stats = stats.expect("ours");
    eprintln!("{:#?}", stats.pacer);
    assert!(
        (0.5 * MEDIA_BYTES..=1.2 * MEDIA_BYTES).contains(&(offered as f64)),
        "offered {offered} bytes for {MEDIA_BYTES} of media"
    );
    assert!(
        stats.pacer.stale_packets + stats.pacer.dropped_packets > 0,
        "the pacer shed load"
    );
    assert!(dropped <= 0.2, "dropped {dropped:.3}");
    assert!(
        (800.0..=1_050.0).contains(&delivered_kbps),
        "{delivered_kbps:.0} kbit/s"
    );
}

/// (time since the start, target in kbit/s) pairs.
type Samples = Arc<std::sync::Mutex<Vec<(Duration, f64)>>>;

/// The target over time (every 0.5 s) while `handle` is read by a sampler task.
fn sample_targets(
    handle: bwe_webrtc017::SendSideHandle,
    origin: Instant,
) -> (Samples, tokio::task::JoinHandle<()>) {
    let samples = Arc::new(std::sync::Mutex::new(Vec::new()));
    let s = Arc::clone(&samples);
    let task = tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_millis(500));
        loop {
            tick.tick().await;
            if let Some(out) = handle.stats().output {
                s.lock()
                    .unwrap()
                    .push((origin.elapsed(), out.target.as_kbps_f64()));
            }
        }
    });
    (samples, task)
}

/// RFC 8867 §5.1's shape on 0.17: 1.0 → 0.5 (at 20 s) → 1.5 Mbit/s (at 40 s, to 80 s), 300 ms
/// queue. In the last 10 s of the first two phases and the last 20 s of the third (the climb
/// from 0.5 to 1.5 Mbit/s takes about 15 s) the target's median is within ±15 % of the link,
/// and the queue's p95 over the call stays well under its 300 ms.
#[tokio::test(start_paused = true)]
async fn the_target_follows_a_capacity_schedule() {
    let (call, link, control) = call_with_control(true).await;
    let handle = call.handle.clone().expect("ours");
    let origin = Instant::now();
    let (samples, sampler) = sample_targets(handle.clone(), origin);
    let schedule = tokio::spawn(async move {
        tokio::time::sleep_until(origin + Duration::from_secs(20)).await;
        control.set_rate(Bitrate::from_kbps(500));
        tokio::time::sleep_until(origin + Duration::from_secs(40)).await;
        control.set_rate(Bitrate::from_kbps(1_500));
    });
    call.send_video_at(Duration::from_secs(80), || encoder_rate(&handle))
        .await;
    sampler.abort();
    schedule.await.expect("schedule ran");
    let samples = samples.lock().unwrap().clone();
    let median_in = |from: u64, to: u64| {
        let mut v: Vec<f64> = samples
            .iter()
            .filter(|(t, _)| *t >= Duration::from_secs(from) && *t < Duration::from_secs(to))
            .map(|(_, k)| *k)
            .collect();
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let mut delays: Vec<f64> = link
        .delays()
        .iter()
        .filter(|(at, _)| *at - origin >= Duration::from_secs(5))
        .map(|(_, d)| d.as_secs_f64() * 1e3)
        .collect();
    delays.sort_by(f64::total_cmp);
    let p95 = delays[delays.len() * 95 / 100];
    let phases = [(10, 20, 1_000.0), (30, 40, 500.0), (60, 80, 1_500.0)];
    let medians: Vec<f64> = phases.iter().map(|(a, b, _)| median_in(*a, *b)).collect();
    eprintln!(
        "SUMMARY schedule: medians {medians:.0?} kbit/s; link p95 delay {p95:.1} ms; dropped {} of {}; {:?}",
        link.dropped(),
        link.offered(),
        samples
            .iter()
            .map(|(t, k)| (t.as_secs_f64(), k.round()))
            .collect::<Vec<_>>()
    );
    for ((_, _, link_kbps), median) in phases.iter().zip(&medians) {
        assert!(
            (0.85 * link_kbps..=1.15 * link_kbps).contains(median),
            "median {median:.0} kbit/s on {link_kbps} kbit/s"
        );
    }
    assert!((1.0..=100.0).contains(&p95), "p95 queue delay {p95:.1} ms");
    call.close().await;
}
