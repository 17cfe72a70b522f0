//! [`FlowSet`]: the multi-flow metrics of RFC 8867 §5.2–§5.8 over flows that share one
//! bottleneck — convergence and overshoot after each capacity change, instability, startup
//! time and fairness. `docs/scenarios.md` defines each one; this is the code of those
//! definitions.
//!
//! Everything is computed from the per-flow [`Trace`]s (200 ms rows by default) and each flow's
//! [`Activity`], in **1 s windows** wherever a rate is compared with a capacity: one 1 250-byte
//! packet is 5 % of a 200 ms row at 1 Mbit/s and a frame burst can fill a row, so per-row
//! comparisons would measure packetisation, not the estimator. Rates over a window are summed
//! bytes over summed capacity (a ratio of sums, not a mean of ratios), so a row with little
//! capacity does not weigh like one with much.

use bwe_core::Bitrate;
use vnet_sim::SimDuration;

use crate::flow::Activity;
use crate::recorder::{PacketSample, Trace, TraceRow};

/// Lower edge of the convergence band, as a fraction of capacity.
pub const CONVERGED_LOW: f64 = 0.85;
/// Upper edge: capacity plus 2 % for packet quantisation in a 1 s window.
pub const CONVERGED_HIGH: f64 = 1.02;
/// How long the band must hold.
pub const CONVERGED_HOLD: SimDuration = SimDuration::from_secs(2);
/// How long after a change overshoot is looked for.
pub const OVERSHOOT_SPAN: SimDuration = SimDuration::from_secs(5);
/// What a flow must reach, of its fair share, to have started.
pub const STARTUP_SHARE: f64 = 0.85;
/// Time after every event (capacity change, a flow starting, pausing, resuming or stopping)
/// left out of the instability figure.
pub const SETTLE: SimDuration = SimDuration::from_secs(5);

/// How the flows responded to one capacity change.
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub struct ChangeResponse {
    /// When the capacity changed, from the start of media.
    pub at: SimDuration,
    /// Capacity before.
    pub from: Bitrate,
    /// Capacity after.
    pub to: Bitrate,
    /// Time from the change until the summed send rate entered the band for good
    /// ([`CONVERGED_LOW`]–[`CONVERGED_HIGH`] × capacity in every 1 s window over
    /// [`CONVERGED_HOLD`]); `None` if it never did before the next change or the end.
    pub convergence: Option<SimDuration>,
    /// Largest summed send rate over capacity, minus one, in the 1 s windows of the
    /// [`OVERSHOOT_SPAN`] after the change; at least 0. `None` if no window fits before the next
    /// change.
    pub overshoot: Option<f64>,
}

/// Flows that share one bottleneck (same direction), for the metrics between them.
#[derive(Debug, Clone)]
pub struct FlowSet<'a> {
    traces: Vec<&'a Trace>,
    activities: Vec<&'a Activity>,
    interval: SimDuration,
    rows: usize,
}

fn ratio(num: u128, den: u128) -> Option<f64> {
    (den > 0).then(|| num as f64 / den as f64)
}

impl<'a> FlowSet<'a> {
    /// The flows `(trace, activity)`; their traces must have the same interval and rows (they
    /// do when they come from one call).
    pub fn new(flows: impl IntoIterator<Item = (&'a Trace, &'a Activity)>) -> Self {
        let (traces, activities): (Vec<_>, Vec<_>) = flows.into_iter().unzip();
        let interval = traces
            .first()
            .map_or(SimDuration::from_millis(200), |t| t.interval);
        let rows = traces.iter().map(|t| t.rows.len()).min().unwrap_or(0);
        Self {
            traces,
            activities,
            interval,
            rows,
        }
    }

    /// Rows per second (at least one).
    fn per_second(&self) -> usize {
        (1_000_000_000 / self.interval.as_nanos().max(1)).max(1) as usize
    }

    fn t(&self, row: usize) -> SimDuration {
        self.interval.saturating_mul(row as u64)
    }

    fn capacity(&self, row: usize) -> Option<Bitrate> {
        self.traces.first().and_then(|t| t.rows[row].capacity)
    }

    fn sum(&self, rows: std::ops::Range<usize>, of: impl Fn(&TraceRow) -> Bitrate) -> u128 {
        rows.flat_map(|i| self.traces.iter().map(move |t| &t.rows[i]))
            .map(|r| u128::from(of(r).bps()))
            .sum()
    }

    fn capacity_sum(&self, rows: std::ops::Range<usize>) -> u128 {
        rows.filter_map(|i| self.capacity(i))
            .map(|c| u128::from(c.bps()))
            .sum()
    }

    /// Row indices where the capacity differs from the row before (not row 0).
    fn change_rows(&self) -> Vec<usize> {
        (1..self.rows)
            .filter(|&i| self.capacity(i) != self.capacity(i - 1))
            .collect()
    }

    /// The flows' summed rows as one trace: capacity, summed send rate, goodput and the targets
    /// of the flows active at each row, the mean queuing delay and loss over every flow's
    /// packets, and all their packets in send order. Its [`Trace::metrics`] are the aggregate's.
    pub fn combined(&self) -> Trace {
        let rows = (0..self.rows)
            .map(|i| {
                let t = self.t(i);
                let each = || self.traces.iter().map(move |tr| &tr.rows[i]);
                let active_targets: Vec<Bitrate> = each()
                    .zip(&self.activities)
                    .filter(|(_, a)| a.is_active(t))
                    .filter_map(|(r, _)| r.target)
                    .collect();
                let sum = |f: fn(&TraceRow) -> Bitrate| {
                    Bitrate::from_bps(each().map(|r| f(r).bps()).sum())
                };
                let packets: Vec<&PacketSample> = self
                    .traces
                    .iter()
                    .flat_map(|tr| tr.packets.iter())
                    .filter(|p| p.sent >= t && p.sent < t + self.interval)
                    .collect();
                let delays: Vec<SimDuration> =
                    packets.iter().filter_map(|p| p.queue_delay).collect();
                TraceRow {
                    t,
                    capacity: self.capacity(i),
                    send_rate: sum(|r| r.send_rate),
                    goodput: sum(|r| r.goodput),
                    target: (!active_targets.is_empty())
                        .then(|| Bitrate::from_bps(active_targets.iter().map(|b| b.bps()).sum())),
                    remb: None,
                    queue_delay: (!delays.is_empty()).then(|| {
                        let total: u64 = delays.iter().map(|d| d.as_nanos()).sum();
                        SimDuration::from_nanos(total / delays.len() as u64)
                    }),
                    loss: (!packets.is_empty())
                        .then(|| (packets.len() - delays.len()) as f64 / packets.len() as f64),
                    pacer_queue: None,
                }
            })
            .collect();
        let mut packets: Vec<PacketSample> = self
            .traces
            .iter()
            .flat_map(|t| t.packets.iter().copied())
            .collect();
        packets.sort_by_key(|p| p.sent);
        Trace {
            interval: self.interval,
            rows,
            packets,
        }
    }

    /// Summed goodput over capacity in the 1 s window starting at `row`.
    fn window_utilisation(&self, row: usize, of: fn(&TraceRow) -> Bitrate) -> Option<f64> {
        let end = row + self.per_second();
        (end <= self.rows).then_some(())?;
        ratio(self.sum(row..end, of), self.capacity_sum(row..end))
    }

    /// Convergence and overshoot after every capacity change. See [`ChangeResponse`].
    pub fn changes(&self) -> Vec<ChangeResponse> {
        let n1 = self.per_second();
        let hold = (CONVERGED_HOLD.as_nanos() / self.interval.as_nanos().max(1)) as usize;
        let span = (OVERSHOOT_SPAN.as_nanos() / self.interval.as_nanos().max(1)) as usize;
        let changes = self.change_rows();
        changes
            .iter()
            .enumerate()
            .filter_map(|(k, &c)| {
                let phase_end = changes.get(k + 1).copied().unwrap_or(self.rows);
                let in_band = |j: usize| {
                    j + n1 <= phase_end
                        && self
                            .window_utilisation(j, |r| r.send_rate)
                            .is_some_and(|u| (CONVERGED_LOW..=CONVERGED_HIGH).contains(&u))
                };
                // Windows starting at j..=j+hold-n1 cover [t_j, t_j + hold).
                let convergence = (c..phase_end)
                    .find(|&j| (j..=j + hold.saturating_sub(n1)).all(in_band))
                    .map(|j| self.t(j) - self.t(c));
                let overshoot = (c..(c + span).min(phase_end))
                    .filter(|&j| j + n1 <= phase_end)
                    .filter_map(|j| self.window_utilisation(j, |r| r.send_rate))
                    .map(|u| (u - 1.0).max(0.0))
                    .reduce(f64::max);
                Some(ChangeResponse {
                    at: self.t(c),
                    from: self.capacity(c - 1)?,
                    to: self.capacity(c)?,
                    convergence,
                    overshoot,
                })
            })
            .collect()
    }

    /// Every instant something changed: capacity changes and every flow's activity edges.
    fn events(&self) -> Vec<SimDuration> {
        let mut events: Vec<SimDuration> = self
            .change_rows()
            .into_iter()
            .map(|i| self.t(i))
            .chain(self.activities.iter().flat_map(|a| a.edges()))
            .collect();
        events.push(SimDuration::ZERO);
        events.push(self.t(self.rows));
        events.sort_unstable();
        events.dedup();
        events
    }

    /// Instability of flow `flow` in `[from, to)`: the coefficient of variation (population
    /// standard deviation over mean) of its target samples in each steady segment — between two
    /// events (capacity change, any flow starting, pausing, resuming, stopping), leaving out
    /// the first [`SETTLE`] of each and rows where the flow is not sending — averaged over the
    /// segments weighted by their sample counts. Segments with fewer than 2 s of samples are
    /// skipped; `None` if none is left.
    pub fn instability(&self, flow: usize, from: SimDuration, to: SimDuration) -> Option<f64> {
        let (trace, activity) = (self.traces.get(flow)?, self.activities.get(flow)?);
        let min_samples = 2 * self.per_second();
        let (mut weighted, mut weight) = (0.0, 0usize);
        for pair in self.events().windows(2) {
            let (lo, hi) = ((pair[0] + SETTLE).max(from), pair[1].min(to));
            let values: Vec<f64> = trace
                .rows
                .iter()
                .filter(|r| r.t >= lo && r.t < hi && activity.is_active(r.t))
                .filter_map(|r| r.target.map(|b| b.bps() as f64))
                .collect();
            if values.len() < min_samples {
                continue;
            }
            let n = values.len() as f64;
            let mean = values.iter().sum::<f64>() / n;
            if mean <= 0.0 {
                continue;
            }
            let var = values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / n;
            weighted += var.sqrt() / mean * n;
            weight += values.len();
        }
        (weight > 0).then(|| weighted / weight as f64)
    }

    /// Flow `flow`'s fair share at row `row`: capacity over the flows of the set sending then.
    fn fair_share(&self, row: usize) -> Option<u128> {
        let t = self.t(row);
        let active = self.activities.iter().filter(|a| a.is_active(t)).count();
        let cap = self.capacity(row)?;
        (active > 0).then(|| u128::from(cap.bps()) / active as u128)
    }

    /// Startup time of flow `flow`: from its start until the end of the first 1 s window, inside
    /// which it sent throughout, whose goodput reached [`STARTUP_SHARE`] of its fair share
    /// (capacity over the flows sending, row by row). `None` if it never did.
    pub fn startup(&self, flow: usize) -> Option<SimDuration> {
        let (trace, activity) = (self.traces.get(flow)?, self.activities.get(flow)?);
        let n1 = self.per_second();
        let first = (0..self.rows).find(|&i| self.t(i) >= activity.start)?;
        (first..self.rows.saturating_sub(n1 - 1))
            .filter(|&j| activity.covers(self.t(j), self.t(j + n1)))
            .find(|&j| {
                let good: u128 = (j..j + n1)
                    .map(|i| u128::from(trace.rows[i].goodput.bps()))
                    .sum();
                let fair: u128 = (j..j + n1).filter_map(|i| self.fair_share(i)).sum();
                fair > 0 && good as f64 >= STARTUP_SHARE * fair as f64
            })
            .map(|j| self.t(j + n1) - activity.start)
    }

    /// Fairness over `window`-long tiles of `[from, to)`: in each tile where at least two flows
    /// of the set sent throughout, the lowest of their goodputs over the highest; the mean of
    /// that ratio over such tiles. 1 is perfect sharing, 0 a starved flow. `None` if no tile
    /// had two flows.
    pub fn fairness(&self, window: SimDuration, from: SimDuration, to: SimDuration) -> Option<f64> {
        let w = (window.as_nanos() / self.interval.as_nanos().max(1)).max(1) as usize;
        let first = (from.as_nanos().div_ceil(self.interval.as_nanos().max(1))) as usize;
        let last = ((to.as_nanos() / self.interval.as_nanos().max(1)) as usize).min(self.rows);
        let (mut sum, mut count) = (0.0, 0usize);
        let mut start = first;
        while start + w <= last {
            let (t0, t1) = (self.t(start), self.t(start + w));
            let rates: Vec<u128> = self
                .traces
                .iter()
                .zip(&self.activities)
                .filter(|(_, a)| a.covers(t0, t1))
                .map(|(tr, _)| {
                    (start..start + w)
                        .map(|i| u128::from(tr.rows[i].goodput.bps()))
                        .sum()
                })
                .collect();
            if rates.len() >= 2 {
                let (lo, hi) = (
                    rates.iter().copied().min().unwrap_or(0),
                    rates.iter().copied().max().unwrap_or(0),
                );
                if let Some(r) = ratio(lo, hi) {
                    sum += r;
                    count += 1;
                }
            }
            start += w;
        }
        (count > 0).then(|| sum / count as f64)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u64) -> SimDuration {
        SimDuration::from_secs(n)
    }

    /// A trace of 1 s rows (to keep the arithmetic readable) with goodput = send rate.
    fn trace(capacity: &[u64], goodput: &[u64]) -> Trace {
        let rows = capacity
            .iter()
            .zip(goodput)
            .enumerate()
            .map(|(i, (&c, &g))| TraceRow {
                t: s(i as u64),
                capacity: Some(Bitrate::from_kbps(c)),
                send_rate: Bitrate::from_kbps(g),
                goodput: Bitrate::from_kbps(g),
                target: Some(Bitrate::from_kbps(g)),
                remb: None,
                queue_delay: None,
                loss: None,
                pacer_queue: None,
            })
            .collect();
        Trace {
            interval: s(1),
            rows,
            packets: Vec::new(),
        }
    }

    /// Convergence is measured from the change to the first second of a 2 s stay of the send
    /// rate in the band, so a dip after a first touch of the band restarts the clock, and
    /// overshoot reads the send rate over capacity.
    #[test]
    fn convergence_waits_for_two_seconds_in_the_band_and_overshoot_reads_the_send_rate() {
        let cap = [1000, 1000, 500, 500, 500, 500, 500, 500, 500, 500];
        let good = [900, 900, 600, 450, 300, 450, 460, 470, 480, 480];
        let t = trace(&cap, &good);
        let a = Activity::always(s(0), s(10));
        let set = FlowSet::new([(&t, &a)]);
        let changes = set.changes();
        assert_eq!(changes.len(), 1);
        let c = changes[0];
        assert_eq!(
            (c.at, c.from, c.to),
            (s(2), Bitrate::from_kbps(1000), Bitrate::from_kbps(500))
        );
        // 450 at 3 s is in the band, 300 at 4 s is not; from 5 s on it stays.
        assert_eq!(c.convergence, Some(s(3)));
        let overshoot = c.overshoot.expect("windows after the change");
        assert!((overshoot - 0.2).abs() < 1e-9, "{overshoot}");
    }

    /// A flow that never reaches the band has no convergence time, rather than the longest one.
    #[test]
    fn a_flow_that_never_converges_has_no_convergence_time() {
        let cap = [1000, 1000, 2000, 2000, 2000, 2000];
        let good = [900, 900, 1000, 1100, 1200, 1300];
        let t = trace(&cap, &good);
        let a = Activity::always(s(0), s(6));
        let c = FlowSet::new([(&t, &a)]).changes()[0];
        assert_eq!(c.convergence, None);
        assert_eq!(c.overshoot, Some(0.0));
    }

    /// Two flows splitting the link 1:3 have a fairness ratio of a third, whatever the window;
    /// a window where only one flow sends is not a comparison and does not count.
    #[test]
    fn fairness_is_the_mean_min_over_max_in_windows_with_two_flows() {
        let cap = [1000; 10];
        let a = trace(&cap, &[250; 10]);
        let b = trace(&cap, &[750, 750, 750, 750, 750, 750, 750, 750, 1000, 1000]);
        let (act_a, act_b) = (Activity::always(s(0), s(8)), Activity::always(s(0), s(10)));
        let set = FlowSet::new([(&a, &act_a), (&b, &act_b)]);
        for w in [1, 2, 4] {
            let f = set.fairness(s(w), s(0), s(10)).expect("two flows");
            assert!((f - 1.0 / 3.0).abs() < 1e-9, "window {w}: {f}");
        }
        let alone = FlowSet::new([(&b, &act_b)]);
        assert_eq!(alone.fairness(s(1), s(0), s(10)), None);
        assert_eq!(set.fairness(s(1), s(8), s(10)), None);
    }

    /// Startup counts from the flow's own start to the end of the first second at 85 % of its
    /// fair share, where the share is split among the flows sending at the time.
    #[test]
    fn startup_is_measured_against_the_fair_share_at_the_time() {
        let cap = [2000; 10];
        let first = trace(&cap, &[1000; 10]);
        let late = trace(&cap, &[0, 0, 0, 300, 600, 900, 1000, 1000, 1000, 1000]);
        let a = Activity::always(s(0), s(10));
        let b = Activity::always(s(3), s(10));
        let set = FlowSet::new([(&first, &a), (&late, &b)]);
        // Fair share 1000 from 3 s: 850 is first reached in the second starting at 5 s.
        assert_eq!(set.startup(1), Some(s(3)));
        // Alone for 3 s with a share of 2000, the first flow's 1000 is never 85 % of it; from
        // 3 s on its share is 1000 and it has it at once.
        assert_eq!(set.startup(0), Some(s(4)));
        let never = trace(&cap, &[100; 10]);
        let lone = FlowSet::new([(&never, &a)]);
        assert_eq!(lone.startup(0), None);
    }

    /// A steady target has no instability; one swinging ±20 % around its mean has 0.2, and the
    /// settling seconds after a change do not count.
    #[test]
    fn instability_is_the_coefficient_of_variation_of_the_steady_target() {
        let cap = [1000; 21];
        let steady = trace(&cap, &[800; 21]);
        let mut swinging: Vec<u64> = (0..21)
            .map(|i| if i % 2 == 0 { 960 } else { 640 })
            .collect();
        swinging[0] = 100; // inside the settling time: ignored
        let swing = trace(&cap, &swinging);
        let a = Activity::always(s(0), s(21));
        let set = FlowSet::new([(&steady, &a), (&swing, &a)]);
        assert_eq!(set.instability(0, s(0), s(21)), Some(0.0));
        let cv = set.instability(1, s(0), s(21)).expect("16 steady samples");
        assert!((cv - 0.2).abs() < 1e-9, "{cv}");
        assert_eq!(set.instability(1, s(0), s(6)), None, "too few samples");
    }

    /// The combined trace sums the flows' rates and keeps every packet.
    #[test]
    fn the_combined_trace_sums_rates_and_keeps_every_packet() {
        let cap = [1000; 3];
        let mut a = trace(&cap, &[100, 200, 300]);
        let b = trace(&cap, &[400, 500, 600]);
        a.packets.push(PacketSample {
            sent: s(1),
            size: 100,
            queue_delay: None,
        });
        let (act, late) = (Activity::always(s(0), s(3)), Activity::always(s(2), s(3)));
        let c = FlowSet::new([(&a, &act), (&b, &late)]).combined();
        assert_eq!(c.rows[1].goodput, Bitrate::from_kbps(700));
        assert_eq!(
            c.rows[1].target,
            Some(Bitrate::from_kbps(200)),
            "only active flows"
        );
        assert_eq!(c.rows[2].target, Some(Bitrate::from_kbps(900)));
        assert_eq!(c.rows[1].loss, Some(1.0));
        assert_eq!(c.packets.len(), 1);
    }
}
