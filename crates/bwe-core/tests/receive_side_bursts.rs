//! Key-frame bursts are not congestion: a burst that fits the queue and drains within its own
//! frame interval must not cut the receive-side estimate, while a standing queue still does.

use bwe_core::receive_side::{PacketArrival, ReceiveSideConfig, ReceiveSideEstimator};
use bwe_core::rtp_ext::AbsSendTime;
use bwe_core::{Bitrate, DataSize, TimeDelta, Timestamp};

const MTU: u64 = 1_200;
const FPS: i64 = 30;

/// A 30 fps stream of `kbps` through a `link_kbps` bottleneck (40 ms one way), paced at 2.5 × the
/// stream rate, with a key frame of `key_factor` × a delta frame every 3 s, for `seconds`.
/// Returns every estimate change after the first valid estimate as (time, before, after).
fn run(
    kbps: u64,
    link_kbps: u64,
    key_factor: f64,
    seconds: i64,
) -> Vec<(Timestamp, Bitrate, Bitrate)> {
    let mut est = ReceiveSideEstimator::new(ReceiveSideConfig::default());
    let frame_gap = TimeDelta::from_micros(1_000_000 / FPS);
    let delta_frame = kbps * 1_000 / 8 / FPS as u64;
    let pace_bps = kbps as f64 * 1_000.0 * 2.5;
    let mut link_free = Timestamp::ZERO;
    let mut changes = Vec::new();
    let mut last: Option<Bitrate> = None;
    for frame in 0..seconds * FPS {
        let frame_at = Timestamp::ZERO + frame_gap * frame;
        let key = frame % (3 * FPS) == 0;
        let size = if key {
            (delta_frame as f64 * key_factor) as u64
        } else {
            delta_frame
        };
        let (mut send, mut left) = (frame_at, size);
        while left > 0 {
            let bytes = left.min(MTU);
            left -= bytes;
            let start = link_free.max(send);
            link_free = start
                + TimeDelta::from_micros((bytes * 8 * 1_000_000 / (link_kbps * 1_000)) as i64);
            est.on_packet(
                link_free + TimeDelta::from_millis(40),
                PacketArrival {
                    send_time: AbsSendTime::from_timestamp(send),
                    size: DataSize::from_bytes(bytes),
                    ssrc: 1,
                },
            );
            send += TimeDelta::from_micros((bytes as f64 * 8e6 / pace_bps) as i64);
            if est.valid_estimate() {
                let now = est.estimate();
                if let (Some(before), Some(after)) = (last, now)
                    && before != after
                {
                    changes.push((link_free, before, after));
                }
                last = now;
            }
        }
    }
    changes
}

/// A key frame 1.8 × a delta frame, on a link twice the stream's rate, queues for 0.9 of a frame
/// interval and is gone before the next frame: it must never cut the estimate.
#[test]
fn a_key_frame_that_drains_within_its_frame_interval_never_cuts_the_estimate() {
    let changes = run(500, 1_000, 1.8, 40);
    let cuts: Vec<_> = changes.iter().filter(|(_, b, a)| a < b).collect();
    assert!(cuts.is_empty(), "cut at {cuts:?}");
    // And the estimate did move (it climbs towards its ceiling), so the test saw estimates.
    assert!(changes.len() >= 5, "{} changes", changes.len());
}

/// The same stream on a link slower than it builds a standing queue: that is congestion and
/// must cut the estimate, to below the link's rate.
#[test]
fn a_stream_faster_than_the_link_is_cut() {
    let changes = run(500, 400, 1.8, 20);
    let lowest = changes.iter().map(|&(_, _, a)| a).min().expect("changes");
    assert!(lowest <= Bitrate::from_kbps(400), "lowest {lowest}");
    assert!(lowest >= Bitrate::from_kbps(200), "lowest {lowest}");
}
