//! [`Metrics`]: the few numbers a person compares between estimators, over a window of a
//! [`Trace`].
//!
//! Always over a window, because start-up and the seconds after a capacity change are different
//! questions from steady state, and a whole-call figure blurs them. Queuing delay percentiles are
//! over packets (every packet of the window weighs the same), not over intervals, so a burst
//! of queued packets counts for what it is. Percentiles use the nearest-rank method on the
//! sorted delays, which needs no interpolation and gives a delay some packet really had.

use std::fmt;

use bwe_core::Bitrate;
use vnet_sim::SimDuration;

use crate::recorder::Trace;

/// Figures for `[from, to)` of a call. Fields are `None` when the window holds nothing to
/// compute them from, so "not computed" never reads as zero.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct Metrics {
    /// Window start, from the start of media.
    pub from: SimDuration,
    /// Window end.
    pub to: SimDuration,
    /// Median queuing delay of the delivered packets sent in the window.
    pub queue_p50: Option<SimDuration>,
    /// 95th percentile of the same.
    pub queue_p95: Option<SimDuration>,
    /// Goodput over capacity, summed over the window's intervals that have a capacity.
    pub utilisation: Option<f64>,
    /// Fraction of the packets sent in the window that the link dropped.
    pub loss: Option<f64>,
    /// The largest loss fraction of any one interval (the trace's row length) in the window,
    /// over intervals that sent at least [`MIN_INTERVAL_PACKETS`]: a burst of loss the
    /// window's mean would hide, such as stale media sent into a link that just came back.
    /// `None` when no interval sent that many.
    pub max_interval_loss: Option<f64>,
    /// The lowest utilisation of any whole second of the window (seconds counted from the
    /// window's start, each with a capacity): "held", where [`utilisation`](Self::utilisation)
    /// is the mean.
    pub min_utilisation_1s: Option<f64>,
    /// From the window's start until the first trace row whose target is at least
    /// [`RAMP_SHARE`] × its capacity; the whole window when none is.
    pub time_to_85pct: Option<SimDuration>,
    /// The longest stretch of trace rows with the same target as the row before while the queue
    /// is below [`FROZEN_QUEUE_BELOW`] and the target below [`FROZEN_TARGET_SHARE`] × capacity:
    /// an estimate that stopped moving on a link with room.
    pub max_frozen: Option<SimDuration>,
    /// Mean rate the sender put on the link over the window's intervals.
    pub send_rate: Option<Bitrate>,
    /// Mean goodput over the window's intervals.
    pub goodput: Option<Bitrate>,
    /// Mean of the target samples in the window.
    pub target: Option<Bitrate>,
    /// The lowest target sample in the window.
    pub min_target: Option<Bitrate>,
    /// The highest target sample in the window.
    pub max_target: Option<Bitrate>,
}

/// An interval counts for [`Metrics::max_interval_loss`] from this many packets on: below
/// it one packet is a fraction of 20 % or more by itself. Measured: one 76-byte RTCP report
/// sent the instant a zero-capacity outage ended met the full queue, and its 200 ms interval
/// (that one packet) read as 100 % loss.
pub const MIN_INTERVAL_PACKETS: u64 = 5;

/// What [`Metrics::time_to_85pct`] waits for: the target at this share of the capacity.
pub const RAMP_SHARE: f64 = 0.85;

/// A trace row counts towards [`Metrics::max_frozen`] while its queuing delay is below this…
pub const FROZEN_QUEUE_BELOW: SimDuration = SimDuration::from_millis(20);
/// …and its target below this share of the capacity: a link with room the estimate does not
/// take.
pub const FROZEN_TARGET_SHARE: f64 = 0.8;

/// The `p`-quantile (`0 ≤ p ≤ 1`, clamped) of sorted values by nearest rank: the value at rank
/// `⌈p·n⌉` (at least 1); `None` for no values. The one percentile of the workspace: the metrics
/// and the plots' per-interval bands both use it.
pub fn nearest_rank<T: Copy>(sorted: &[T], p: f64) -> Option<T> {
    if sorted.is_empty() {
        return None;
    }
    let rank = (p.clamp(0.0, 1.0) * sorted.len() as f64).ceil() as usize;
    sorted.get(rank.clamp(1, sorted.len()) - 1).copied()
}

fn mean(rates: impl Iterator<Item = Bitrate>) -> Option<Bitrate> {
    let (sum, n) = rates.fold((0u128, 0u128), |(s, n), r| (s + u128::from(r.bps()), n + 1));
    (n > 0).then(|| Bitrate::from_bps((sum / n) as u64))
}

impl Trace {
    /// The metrics of `[from, to)`.
    pub fn metrics(&self, from: SimDuration, to: SimDuration) -> Metrics {
        let inside = |t: SimDuration| t >= from && t < to;
        let mut delays: Vec<SimDuration> = Vec::new();
        let (mut sent, mut dropped) = (0u64, 0u64);
        // (interval index, sent, dropped), in order: packets are in send order.
        let mut intervals: Vec<(u64, u64, u64)> = Vec::new();
        let span = self.interval.as_nanos().max(1);
        for p in self.packets.iter().filter(|p| inside(p.sent)) {
            sent += 1;
            let lost = p.queue_delay.is_none();
            match p.queue_delay {
                Some(d) => delays.push(d),
                None => dropped += 1,
            }
            let index = p.sent.as_nanos() / span;
            match intervals.last_mut() {
                Some(last) if last.0 == index => {
                    last.1 += 1;
                    last.2 += u64::from(lost);
                }
                _ => intervals.push((index, 1, u64::from(lost))),
            }
        }
        delays.sort_unstable();
        let rows: Vec<_> = self.rows.iter().filter(|r| inside(r.t)).collect();
        let (good, cap) = rows
            .iter()
            .filter_map(|r| r.capacity.map(|c| (r.goodput.bps(), c.bps())))
            .fold((0u128, 0u128), |(g, c), (rg, rc)| {
                (g + u128::from(rg), c + u128::from(rc))
            });
        let per_second = (SimDuration::from_secs(1).as_nanos() / span) as usize;
        let min_utilisation_1s = if per_second == 0 {
            None
        } else {
            rows.chunks_exact(per_second)
                .filter_map(|second| {
                    let (g, c) = second.iter().try_fold((0u128, 0u128), |(g, c), r| {
                        r.capacity
                            .map(|cap| (g + u128::from(r.goodput.bps()), c + u128::from(cap.bps())))
                    })?;
                    (c > 0).then(|| g as f64 / c as f64)
                })
                .reduce(f64::min)
        };
        let time_to_85pct = rows
            .iter()
            .find(|r| {
                matches!((r.target, r.capacity), (Some(t), Some(c))
                    if c.bps() > 0 && t.as_bps_f64() >= c.as_bps_f64() * RAMP_SHARE)
            })
            .map_or(to - from, |r| r.t - from);
        let mut max_frozen = SimDuration::ZERO;
        let mut frozen_since: Option<SimDuration> = None;
        for pair in rows.windows(2) {
            let (before, row) = (pair[0], pair[1]);
            let frozen = match (before.target, row.target, row.capacity, row.queue_delay) {
                (Some(b), Some(t), Some(c), Some(q)) => {
                    b == t
                        && q < FROZEN_QUEUE_BELOW
                        && t.as_bps_f64() < c.as_bps_f64() * FROZEN_TARGET_SHARE
                }
                _ => false,
            };
            if frozen {
                let since = *frozen_since.get_or_insert(before.t);
                max_frozen = max_frozen.max(row.t - since);
            } else {
                frozen_since = None;
            }
        }
        Metrics {
            from,
            to,
            min_utilisation_1s,
            time_to_85pct: (!rows.is_empty()).then_some(time_to_85pct),
            max_frozen: (!rows.is_empty()).then_some(max_frozen),
            queue_p50: nearest_rank(&delays, 0.50),
            queue_p95: nearest_rank(&delays, 0.95),
            utilisation: (cap > 0).then(|| good as f64 / cap as f64),
            loss: (sent > 0).then(|| dropped as f64 / sent as f64),
            max_interval_loss: intervals
                .iter()
                .filter(|&&(_, n, _)| n >= MIN_INTERVAL_PACKETS)
                .map(|&(_, n, lost)| lost as f64 / n as f64)
                .reduce(f64::max),
            send_rate: mean(rows.iter().map(|r| r.send_rate)),
            goodput: mean(rows.iter().map(|r| r.goodput)),
            target: mean(rows.iter().filter_map(|r| r.target)),
            min_target: rows.iter().filter_map(|r| r.target).min(),
            max_target: rows.iter().filter_map(|r| r.target).max(),
        }
    }
}

fn ms(d: Option<SimDuration>) -> String {
    d.map_or_else(
        || "-".to_owned(),
        |d| format!("{:.1} ms", d.as_secs_f64() * 1e3),
    )
}

/// A fraction as it is, 0 to 1 (never a percentage: the checks bound it in 0..1 too).
fn fraction(x: Option<f64>, digits: usize) -> String {
    x.map_or_else(|| "-".to_owned(), |x| format!("{x:.digits$}"))
}

fn kbps(r: Option<Bitrate>) -> String {
    r.map_or_else(
        || "-".to_owned(),
        |r| format!("{:.0} kbit/s", r.as_kbps_f64()),
    )
}

/// One line: delays in ms, utilisation and loss as fractions (0 to 1), rates in kbit/s.
impl fmt::Display for Metrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "[{:.1} s, {:.1} s): queue p50 {} p95 {}, utilisation {}, loss {}, sent {}, \
             goodput {}, target {}",
            self.from.as_secs_f64(),
            self.to.as_secs_f64(),
            ms(self.queue_p50),
            ms(self.queue_p95),
            fraction(self.utilisation, 3),
            fraction(self.loss, 4),
            kbps(self.send_rate),
            kbps(self.goodput),
            kbps(self.target),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recorder::{PacketSample, TraceRow};

    fn ms(n: u64) -> SimDuration {
        SimDuration::from_millis(n)
    }

    /// Nearest rank gives a delay some packet had, and the 95th of twenty values is the 19th.
    #[test]
    fn percentiles_are_nearest_rank() {
        let sorted: Vec<SimDuration> = (1..=20).map(ms).collect();
        assert_eq!(nearest_rank(&sorted, 0.5), Some(ms(10)));
        assert_eq!(nearest_rank(&sorted, 0.95), Some(ms(19)));
        assert_eq!(nearest_rank::<SimDuration>(&[], 0.5), None);
    }

    /// Only what lies inside the window counts; an empty window computes nothing.
    #[test]
    fn metrics_respect_the_window() {
        let row = |t, goodput| TraceRow {
            t: ms(t),
            capacity: Some(Bitrate::from_kbps(1_000)),
            send_rate: Bitrate::from_kbps(goodput),
            goodput: Bitrate::from_kbps(goodput),
            target: Some(Bitrate::from_kbps(goodput)),
            remb: None,
            queue_delay: None,
            loss: None,
            pacer_queue: None,
        };
        let packet = |sent, delay: Option<u64>| PacketSample {
            sent: ms(sent),
            size: 1_000,
            queue_delay: delay.map(ms),
        };
        let trace = Trace {
            interval: ms(200),
            rows: vec![row(0, 200), row(200, 800), row(400, 900)],
            packets: vec![
                packet(10, Some(500)),
                packet(250, Some(10)),
                packet(300, None),
                packet(450, Some(30)),
            ],
        };
        let m = trace.metrics(ms(200), ms(600));
        assert_eq!(m.queue_p50, Some(ms(10)));
        assert_eq!(m.queue_p95, Some(ms(30)));
        assert_eq!(m.loss, Some(1.0 / 3.0));
        assert_eq!(m.utilisation, Some(0.85));
        assert_eq!(m.goodput, Some(Bitrate::from_kbps(850)));
        assert_eq!(m.send_rate, Some(Bitrate::from_kbps(850)));
        let empty = trace.metrics(ms(1_000), ms(2_000));
        assert_eq!(
            (empty.queue_p95, empty.loss, empty.utilisation),
            (None, None, None)
        );
    }
}

#[cfg(test)]
mod interval_loss_tests {
    use super::*;
    use crate::recorder::{PacketSample, TraceRow};

    fn ms(v: u64) -> SimDuration {
        SimDuration::from_millis(v)
    }

    /// A loss burst in one interval must show even when the window's mean is small; only the
    /// window's own intervals count, and an interval of a packet or two is no burst.
    #[test]
    fn max_interval_loss_is_the_worst_interval_of_enough_packets_in_the_window() {
        let mut packets = Vec::new();
        // Interval 0: 10 packets, 9 lost. 1: 10, none lost. 2: 8, 2 lost. 3: 1, lost.
        for (interval, n, lost) in [(0u64, 10u64, 9u64), (1, 10, 0), (2, 8, 2), (3, 1, 1)] {
            for k in 0..n {
                packets.push(PacketSample {
                    sent: ms(200 * interval + 10 * k),
                    size: 1_000,
                    queue_delay: (k >= lost).then(|| ms(5)),
                });
            }
        }
        let trace = Trace {
            interval: ms(200),
            rows: Vec::new(),
            packets,
        };
        assert_eq!(
            trace.metrics(ms(200), ms(800)).max_interval_loss,
            Some(0.25)
        );
        assert_eq!(trace.metrics(ms(0), ms(200)).max_interval_loss, Some(0.9));
        assert_eq!(trace.metrics(ms(600), ms(800)).max_interval_loss, None);
        assert!(trace.metrics(ms(0), ms(800)).loss.is_some_and(|l| l < 0.5));
    }

    /// The ramp time is measured to the first row at 85 % of capacity; a target that stands
    /// still on an empty queue below 80 % of capacity is frozen, one that moves or a full queue
    /// is not.
    #[test]
    fn ramp_time_and_frozen_stretches_are_read_from_the_rows() {
        let row = |t: u64, target: u64, queue: u64| TraceRow {
            t: ms(t),
            capacity: Some(Bitrate::from_kbps(1_000)),
            send_rate: Bitrate::from_kbps(target),
            goodput: Bitrate::from_kbps(target),
            target: Some(Bitrate::from_kbps(target)),
            remb: None,
            queue_delay: Some(ms(queue)),
            loss: None,
            pacer_queue: None,
        };
        let mut rows = Vec::new();
        // 0–1 s climbing to 900 (85 % at 600 ms); 1–4 s frozen at 500 on an empty queue;
        // 4–6 s frozen at 500 but with a 40 ms queue; 6–7 s moving.
        for (i, t) in (0..1_000).step_by(200).enumerate() {
            rows.push(row(t, 300 + 200 * i as u64, 5));
        }
        for t in (1_000..4_000).step_by(200) {
            rows.push(row(t, 500, 5));
        }
        for t in (4_000..6_000).step_by(200) {
            rows.push(row(t, 500, 40));
        }
        for (i, t) in (6_000..7_000).step_by(200).enumerate() {
            rows.push(row(t, 500 + i as u64, 5));
        }
        let trace = Trace {
            interval: ms(200),
            rows,
            packets: Vec::new(),
        };
        let m = trace.metrics(ms(0), ms(7_000));
        assert_eq!(m.time_to_85pct, Some(ms(600)));
        assert_eq!(m.max_frozen, Some(ms(2_800)), "1.0 s to 3.8 s");
        let later = trace.metrics(ms(1_000), ms(7_000));
        assert_eq!(
            later.time_to_85pct,
            Some(ms(6_000)),
            "never: the whole window"
        );
        assert_eq!(trace.metrics(ms(9_000), ms(9_500)).max_frozen, None);
    }

    /// "Held" means every whole second, not the mean: one weak second shows.
    #[test]
    fn min_utilisation_1s_is_the_weakest_whole_second() {
        let row = |t: u64, kbps: u64| TraceRow {
            t: ms(t),
            capacity: Some(Bitrate::from_kbps(1_000)),
            send_rate: Bitrate::from_kbps(kbps),
            goodput: Bitrate::from_kbps(kbps),
            target: None,
            remb: None,
            queue_delay: None,
            loss: None,
            pacer_queue: None,
        };
        // Three seconds of 200 ms rows: 900, then 500, then 950 kbit/s; then a partial second.
        let mut rows = Vec::new();
        for (second, kbps) in [(0u64, 900u64), (1, 500), (2, 950), (3, 100)] {
            let n = if second == 3 { 2 } else { 5 };
            for i in 0..n {
                rows.push(row(1_000 * second + 200 * i, kbps));
            }
        }
        let trace = Trace {
            interval: ms(200),
            rows,
            packets: Vec::new(),
        };
        let m = trace.metrics(ms(0), ms(4_000));
        assert_eq!(
            m.min_utilisation_1s,
            Some(0.5),
            "the partial second is left out"
        );
        assert!(m.utilisation.is_some_and(|u| u > 0.6));
        assert_eq!(
            trace.metrics(ms(2_000), ms(4_000)).min_utilisation_1s,
            Some(0.95)
        );
        assert_eq!(trace.metrics(ms(3_000), ms(4_000)).min_utilisation_1s, None);
    }

    /// Nearest rank on any sorted values: the p50 of 1..=4 is 2, the p95 is 4, p outside
    /// [0, 1] is clamped, and no values have no percentile.
    #[test]
    fn nearest_rank_of_plain_numbers() {
        let v = [1.0, 2.0, 3.0, 4.0];
        assert_eq!(nearest_rank(&v, 0.5), Some(2.0));
        assert_eq!(nearest_rank(&v, 0.95), Some(4.0));
        assert_eq!(nearest_rank(&v, 1.5), Some(4.0));
        assert_eq!(nearest_rank(&v, -1.0), Some(1.0));
        assert_eq!(nearest_rank::<f64>(&[], 0.5), None);
    }
}
