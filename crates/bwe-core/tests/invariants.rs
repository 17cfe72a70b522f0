//! Property tests: whatever the network throws at the estimators — reordering, duplicates, time
//! going backwards, abs-send-time wraps, zero and huge sizes, long gaps — they never panic and
//! their estimate stays finite and within the configured bounds.

use bwe_core::receive_side::{PacketArrival, ReceiveSideConfig, ReceiveSideEstimator};
use bwe_core::rtp_ext::AbsSendTime;
use bwe_core::send_side::{SendSideConfig, SendSideEstimator};
use bwe_core::{Bitrate, DataSize, PacketResult, ProbeInfo, SentPacket, TimeDelta, Timestamp};
use proptest::prelude::*;

const MIN: Bitrate = Bitrate::from_kbps(50);
const MAX: Bitrate = Bitrate::from_mbps(20);

/// A step of time: mostly small forward steps, sometimes backwards, sometimes a long gap.
fn time_step() -> impl Strategy<Value = i64> {
    prop_oneof![
        8 => 0i64..20_000,
        1 => -200_000i64..0,
        1 => 1_000_000i64..120_000_000,
    ]
}

fn size() -> impl Strategy<Value = u64> {
    prop_oneof![
        8 => 50u64..1500,
        1 => Just(0u64),
        1 => 1_000_000u64..u32::MAX as u64,
    ]
}

#[derive(Debug, Clone)]
enum RecvOp {
    Packet {
        step: i64,
        send_step: i64,
        size: u64,
        ssrc: u32,
    },
    Timeout {
        step: i64,
    },
    Rtt(i64),
}

fn recv_op() -> impl Strategy<Value = RecvOp> {
    prop_oneof![
        10 => (time_step(), prop_oneof![4 => 0i64..20_000, 1 => -100_000i64..0, 1 => 0i64..70_000_000], size(), 0u32..4)
            .prop_map(|(step, send_step, size, ssrc)| RecvOp::Packet { step, send_step, size, ssrc }),
        1 => time_step().prop_map(|step| RecvOp::Timeout { step }),
        1 => (-1_000_000i64..10_000_000).prop_map(RecvOp::Rtt),
    ]
}

fn check_finite(x: Option<f64>, what: &str) {
    if let Some(v) = x {
        assert!(v.is_finite(), "{what} is not finite: {v}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The REMB estimate is always within [min, max] and every reported figure is finite.
    #[test]
    fn receive_side_estimate_is_bounded_and_finite(ops in prop::collection::vec(recv_op(), 1..400), start in 0i64..i64::MAX / 4) {
        let mut est = ReceiveSideEstimator::new(ReceiveSideConfig { min: MIN, max: MAX, ..ReceiveSideConfig::default() });
        let mut now = Timestamp::from_micros(start);
        let mut send = Timestamp::ZERO;
        for op in ops {
            match op {
                RecvOp::Packet { step, send_step, size, ssrc } => {
                    now += TimeDelta::from_micros(step);
                    send += TimeDelta::from_micros(send_step);
                    est.on_packet(now, PacketArrival { send_time: AbsSendTime::from_timestamp(send), size: DataSize::from_bytes(size), ssrc });
                }
                RecvOp::Timeout { step } => {
                    now += TimeDelta::from_micros(step);
                    est.handle_timeout(now);
                }
                RecvOp::Rtt(us) => est.on_rtt(TimeDelta::from_micros(us)),
            }
            if let Some(e) = est.estimate() {
                prop_assert!(e >= MIN && e <= MAX, "estimate {e} outside [{MIN}, {MAX}]");
            }
            let stats = est.stats();
            check_finite(stats.delay_estimate_ms, "delay estimate");
            check_finite(stats.threshold_ms, "threshold");
            prop_assert!(stats.live_streams <= bwe_core::receive_side::MAX_SSRCS);
        }
    }
}

#[derive(Debug, Clone)]
enum SendOp {
    /// Send `count` packets, `gap` µs apart.
    Send {
        step: i64,
        count: u8,
        gap: i64,
        size: u64,
        probe: bool,
    },
    /// Report on the oldest `count` unreported packets (or replay old ones).
    Feedback {
        step: i64,
        count: u8,
        loss_mask: u64,
        jitter: i64,
        replay: bool,
        reorder: bool,
    },
    Rtt {
        step: i64,
        rtt: i64,
    },
    Timeout {
        step: i64,
    },
}

fn send_op() -> impl Strategy<Value = SendOp> {
    prop_oneof![
        6 => (time_step(), 1u8..20, 0i64..50_000, size(), any::<bool>())
            .prop_map(|(step, count, gap, size, probe)| SendOp::Send { step, count, gap, size, probe }),
        6 => (time_step(), 1u8..40, any::<u64>(), -50_000i64..500_000, prop::bool::weighted(0.1), prop::bool::weighted(0.1))
            .prop_map(|(step, count, loss_mask, jitter, replay, reorder)| SendOp::Feedback { step, count, loss_mask, jitter, replay, reorder }),
        1 => (time_step(), -1_000_000i64..20_000_000).prop_map(|(step, rtt)| SendOp::Rtt { step, rtt }),
        1 => time_step().prop_map(|step| SendOp::Timeout { step }),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The send-side target is always within [min, max], and pacing and stats stay finite.
    #[test]
    fn send_side_target_is_bounded_and_finite(ops in prop::collection::vec(send_op(), 1..300), start in -1_000_000_000i64..1_000_000_000) {
        let mut est = SendSideEstimator::new(SendSideConfig { min: MIN, max: MAX, ..SendSideConfig::default() });
        let mut now = Timestamp::from_micros(start);
        est.on_network_available(now);
        let mut sent: Vec<SentPacket> = Vec::new();
        let mut reported = 0usize;
        let mut seq = 0u64;
        for op in ops {
            match op {
                SendOp::Send { step, count, gap, size, probe } => {
                    now += TimeDelta::from_micros(step);
                    let cluster = est.poll_probe();
                    for i in 0..count {
                        let p = SentPacket {
                            sequence: seq,
                            send_time: now + TimeDelta::from_micros(gap * i64::from(i)),
                            size: DataSize::from_bytes(size),
                            probe: (probe || cluster.is_some()).then(|| ProbeInfo {
                                cluster_id: cluster.map_or(1, |c| c.id),
                                min_probes: cluster.map_or(5, |c| c.min_probes),
                                min_bytes: cluster.map_or(DataSize::from_bytes(1000), |c| c.min_bytes),
                            }),
                        };
                        seq += 1;
                        est.on_sent(now, &p);
                        sent.push(p);
                    }
                }
                SendOp::Feedback { step, count, loss_mask, jitter, replay, reorder } => {
                    now += TimeDelta::from_micros(step);
                    let from = if replay { reported.saturating_sub(count as usize) } else { reported };
                    let to = (from + count as usize).min(sent.len());
                    let mut results: Vec<PacketResult> = sent[from..to]
                        .iter()
                        .enumerate()
                        .map(|(i, p)| PacketResult {
                            sent: *p,
                            receive_time: (loss_mask >> (i % 64) & 1 == 0)
                                .then(|| p.send_time + TimeDelta::from_micros(40_000 + jitter * (i as i64 % 3 - 1))),
                        })
                        .collect();
                    if reorder {
                        results.reverse();
                    }
                    est.on_feedback(now, &results);
                    reported = reported.max(to);
                }
                SendOp::Rtt { step, rtt } => {
                    now += TimeDelta::from_micros(step);
                    est.on_rtt(now, TimeDelta::from_micros(rtt));
                }
                SendOp::Timeout { step } => {
                    now += TimeDelta::from_micros(step);
                    est.handle_timeout(now);
                }
            }
            let t = est.target();
            prop_assert!(t >= MIN && t <= MAX, "target {t} outside [{MIN}, {MAX}]");
            prop_assert!(est.pacing_rate() >= t);
            let stats = est.stats();
            check_finite(stats.loss_fraction, "loss fraction");
            check_finite(stats.delay_trend_ms, "delay trend");
            check_finite(stats.threshold_ms, "threshold");
            if let Some(l) = stats.loss_fraction {
                prop_assert!((0.0..=1.0).contains(&l), "loss fraction {l}");
            }
            if let Some(deadline) = est.poll_timeout() {
                prop_assert!(deadline > Timestamp::MIN);
            }
        }
    }
}
