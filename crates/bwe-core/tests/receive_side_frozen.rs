//! The receive-side estimate never freezes on a link with room: on an empty queue and a steady
//! incoming rate it either moves or sits at its ceiling (1.5 × the incoming rate, which AIMD
//! never exceeds on an increase), within a few seconds — whatever the frame rate, frame sizes,
//! packet spacing and jitter, and also right after a standing queue has drained.

use bwe_core::receive_side::{PacketArrival, ReceiveSideConfig, ReceiveSideEstimator};
use bwe_core::rtp_ext::AbsSendTime;
use bwe_core::{DataSize, TimeDelta, Timestamp};
use proptest::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// How long the estimate may stand still below its ceiling.
const MAX_STILL: TimeDelta = TimeDelta::from_secs(3);
/// The ceiling with room for the incoming rate's wobble between the moment AIMD read it and now.
const CEILING_SHARE: f64 = 1.4;
const MTU: u64 = 1_200;

#[derive(Debug, Clone)]
struct Stream {
    kbps: u64,
    fps: u32,
    /// Relative frame-size variation, ± this.
    variation: f64,
    /// Packets of a frame leave this many × the stream rate apart (0: all at once).
    pacing_factor: f64,
    /// Uniform extra one-way delay, µs, on top of 40 ms (order kept).
    jitter_us: i64,
    seed: u64,
}

/// The longest the estimate stood still below `CEILING_SHARE` × the incoming rate, from the first
/// valid estimate on, over `seconds` of the stream; packets queue first for `backlog` (sent
/// faster than a link of the stream's rate drains them) when given.
fn longest_still(s: &Stream, seconds: i64, backlog: Option<TimeDelta>) -> TimeDelta {
    let mut est = ReceiveSideEstimator::new(ReceiveSideConfig::default());
    let mut rng = ChaCha8Rng::seed_from_u64(s.seed);
    let frame_gap = TimeDelta::from_micros(1_000_000 / i64::from(s.fps));
    let frame_bytes = s.kbps * 1_000 / 8 / u64::from(s.fps);
    let base_delay = TimeDelta::from_millis(40);
    // A link at twice the stream's rate: its queue empties within every frame interval.
    let link_bps = s.kbps * 2_000;
    let (mut link_free, mut last_arrival) = (Timestamp::ZERO, Timestamp::ZERO);
    let (mut still_since, mut last_estimate, mut longest) = (None, None, TimeDelta::ZERO);
    let mut frame_at = Timestamp::ZERO;
    let end = Timestamp::from_millis(seconds * 1_000);
    while frame_at < end {
        let size = (frame_bytes as f64 * (1.0 + rng.random_range(-s.variation..=s.variation)))
            .max(100.0) as u64;
        let mut send = frame_at;
        let mut left = size;
        while left > 0 {
            let bytes = left.min(MTU);
            left -= bytes;
            // During the backlog the link drains at the stream's own rate, slower than the
            // frames arrive at the start: a standing queue builds, then drains when it ends.
            let rate = match backlog {
                Some(b) if send < Timestamp::ZERO + b => s.kbps * 800,
                _ => link_bps,
            };
            let start = link_free.max(send);
            link_free = start + TimeDelta::from_micros((bytes * 8 * 1_000_000 / rate) as i64);
            let jitter = TimeDelta::from_micros(rng.random_range(0..=s.jitter_us));
            let arrival = (link_free + base_delay + jitter).max(last_arrival);
            last_arrival = arrival;
            est.on_packet(
                arrival,
                PacketArrival {
                    send_time: AbsSendTime::from_timestamp(send),
                    size: DataSize::from_bytes(bytes),
                    ssrc: 7,
                },
            );
            if s.pacing_factor > 0.0 {
                let bps = s.kbps as f64 * 1_000.0 * s.pacing_factor;
                send += TimeDelta::from_micros((bytes as f64 * 8e6 / bps) as i64);
            }
            let (Some(estimate), Some(incoming)) = (est.estimate(), est.stats().incoming_bitrate)
            else {
                continue;
            };
            if !est.valid_estimate() || backlog.is_some_and(|b| arrival < Timestamp::ZERO + b) {
                continue;
            }
            let below = estimate.as_bps_f64() < incoming.as_bps_f64() * CEILING_SHARE;
            if Some(estimate) != last_estimate || !below {
                still_since = Some(arrival);
                last_estimate = Some(estimate);
            }
            if let Some(since) = still_since {
                longest = longest.max(arrival - since);
            }
        }
        frame_at += frame_gap;
    }
    longest
}

fn stream() -> impl Strategy<Value = Stream> {
    (
        200u64..4_000,
        prop_oneof![Just(15u32), Just(30), Just(60)],
        0.0f64..0.5,
        prop_oneof![Just(0.0), 1.5f64..4.0],
        0i64..3_000,
        any::<u64>(),
    )
        .prop_map(
            |(kbps, fps, variation, pacing_factor, jitter_us, seed)| Stream {
                kbps,
                fps,
                variation,
                pacing_factor,
                jitter_us,
                seed,
            },
        )
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 24, ..ProptestConfig::default() })]

    /// On an empty queue the estimate never stands still below its ceiling for long.
    #[test]
    fn a_steady_stream_on_an_empty_queue_never_freezes_the_estimate(s in stream()) {
        let still = longest_still(&s, 30, None);
        prop_assert!(still <= MAX_STILL, "still for {still} on {s:?}");
    }
}

/// After a standing queue of several hundred milliseconds drains, the verdict that it was
/// draining must not outlive it: the estimate moves again within a few seconds.
#[test]
fn the_estimate_moves_again_after_a_standing_queue_drains() {
    for seed in 0..4 {
        let s = Stream {
            kbps: 800,
            fps: 30,
            variation: 0.2,
            pacing_factor: 2.5,
            jitter_us: 500,
            seed,
        };
        let still = longest_still(&s, 40, Some(TimeDelta::from_secs(2)));
        assert!(still <= MAX_STILL, "seed {seed}: still for {still}");
    }
}
