//! [`Recorder`] and [`Trace`]: what happened in a call, per interval (RFC 8868 §2: 200 ms by
//! default).
//!
//! Two sources, each used for what only it knows:
//!
//! - **the link log** (vnet-sim's per-packet `PacketRecord`s of the forward link) for everything
//!   on the wire: send rate (bytes entering the link), goodput (bytes leaving it), loss, and
//!   queuing delay, computed as one-way delay minus propagation delay so it holds whichever stage
//!   held the packet. Reading the wire rather than webrtc's statistics means the figures are the
//!   same whichever estimator runs, and include RTCP, retransmissions and padding, which cost
//!   capacity too;
//! - **samples the call takes** at each interval boundary of what only the sender knows: its
//!   target and the REMB it received.
//!
//! The capacity column is the link schedule's capacity over each interval: the rate in force
//! for steps (they change on whole seconds, so that is the rate at the interval's start), and
//! for a mahimahi trace its delivery opportunities in the interval × 1 500 bytes.
//! Offsets count from the start of media, not of the simulation, so a trace does not depend on
//! how long ICE and DTLS took.

use std::fmt::Write as _;

use bwe_core::Bitrate;
use vnet_sim::{Fate, PacketRecord, RateSchedule, SimDuration, SimTime};

use crate::target::TargetSource;

/// One interval of a call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TraceRow {
    /// Start of the interval, from the start of media.
    pub t: SimDuration,
    /// The forward link's nominal capacity at `t`; `None` if unlimited.
    pub capacity: Option<Bitrate>,
    /// Bytes the sender put on the forward link during the interval, as a rate.
    pub send_rate: Bitrate,
    /// Bytes the forward link delivered during the interval, as a rate.
    pub goodput: Bitrate,
    /// The sender's target at `t`.
    pub target: Option<Bitrate>,
    /// The latest REMB the sender had received by `t`, if it reads REMB.
    pub remb: Option<Bitrate>,
    /// Mean queuing delay of the packets sent in the interval and delivered; `None` if none was.
    pub queue_delay: Option<SimDuration>,
    /// Fraction of the packets sent in the interval that the link dropped; `None` if none was
    /// sent.
    pub loss: Option<f64>,
    /// How long the oldest packet in the sender's pacer queue had waited at `t`; `None` when the
    /// sender's estimator does not publish it (rtc's `Gcc`) or the call did not sample it.
    pub pacer_queue: Option<SimDuration>,
}

/// One packet of the forward link, as the metrics need it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketSample {
    /// When it entered the link, from the start of media.
    pub sent: SimDuration,
    /// Its size on the wire, bytes.
    pub size: u32,
    /// Queuing delay if delivered; `None` if dropped.
    pub queue_delay: Option<SimDuration>,
}

/// A call's record: one row per interval and every media-time packet of the forward link.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Trace {
    /// Interval length.
    pub interval: SimDuration,
    /// One row per interval, in order.
    pub rows: Vec<TraceRow>,
    /// Every packet that entered the forward link after media started, in order.
    pub packets: Vec<PacketSample>,
}

/// Collects the sender-side samples during a call and builds the [`Trace`] at the end.
#[derive(Debug, Clone)]
pub struct Recorder {
    interval: SimDuration,
    samples: Vec<Sample>,
}

/// What the sender knew at one interval boundary.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Sample {
    /// Its target.
    pub target: Option<Bitrate>,
    /// The latest REMB it had received.
    pub remb: Option<Bitrate>,
    /// Its pacer's queue delay.
    pub pacer_queue: Option<SimDuration>,
}

impl Sample {
    /// What `source` knows now.
    pub fn of(source: &dyn TargetSource) -> Self {
        Self {
            target: source.target(),
            remb: source.remb(),
            pacer_queue: source
                .pacer_queue_delay()
                .map(|d| SimDuration::from_micros(u64::try_from(d.as_micros()).unwrap_or(0))),
        }
    }
}

/// How a packet's queuing delay is read from the link log.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum QueueDelaySource {
    /// One-way delay through the link minus its propagation delay: whatever stage held the
    /// packet (queue, serialisation, jitter) counts. The default for a hand-built view.
    #[default]
    OneWayMinusPropagation,
    /// The time the packet spent in the link's bottleneck (waiting and serialising), as the
    /// link logged it. What every call uses (a one-flow call is a multi-flow call): on a
    /// shared bottleneck that time is what one flow's traffic costs the others, and without
    /// jitter it equals the one-way delay minus propagation.
    TimeInBottleneck,
}

/// What the forward link was, to interpret its log.
#[derive(Debug, Clone)]
pub struct LinkView<'a> {
    /// The capacity schedule, offsets from the start of media.
    pub capacity: &'a RateSchedule,
    /// Propagation delay, subtracted from one-way delay.
    pub delay: SimDuration,
    /// Which delay counts as queuing.
    pub queue_delay: QueueDelaySource,
}

impl Recorder {
    /// A recorder with `interval`-long rows (a zero interval is taken as 1 ms).
    pub fn new(interval: SimDuration) -> Self {
        Self {
            interval: interval.max(SimDuration::from_millis(1)),
            samples: Vec::new(),
        }
    }

    /// The row length.
    pub fn interval(&self) -> SimDuration {
        self.interval
    }

    /// When the next sample is due, from the start of media.
    pub fn next_sample_at(&self) -> SimDuration {
        self.interval.saturating_mul(self.samples.len() as u64)
    }

    /// Records the sender's target and REMB at the start of the next interval.
    pub fn sample(&mut self, target: Option<Bitrate>, remb: Option<Bitrate>) {
        self.record(Sample {
            target,
            remb,
            pacer_queue: None,
        });
    }

    /// Records everything the sender knew at the start of the next interval.
    pub fn record(&mut self, sample: Sample) {
        self.samples.push(sample);
    }

    /// Builds the trace for `[media_start, media_start + duration)` from the forward link's log.
    pub fn finish(
        &self,
        log: &[PacketRecord],
        media_start: SimTime,
        duration: SimDuration,
        link: &LinkView<'_>,
    ) -> Trace {
        let iv = self.interval.as_nanos();
        let n = duration.as_nanos().div_ceil(iv) as usize;
        let mut sent = vec![0u64; n];
        let mut received = vec![0u64; n];
        let mut packets_sent = vec![0u64; n];
        let mut dropped = vec![0u64; n];
        let mut delay_sum = vec![0u64; n];
        let mut delay_count = vec![0u64; n];
        let offset =
            |t: SimTime| (t >= media_start).then(|| t.saturating_duration_since(media_start));
        let index = |d: SimDuration| {
            let i = (d.as_nanos() / iv) as usize;
            (i < n).then_some(i)
        };
        let mut packets = Vec::new();
        for r in log {
            if r.fate == Fate::Delivered {
                if let Some(i) = offset(r.at).and_then(index) {
                    received[i] += u64::from(r.size);
                }
            }
            let Some(s) = offset(r.sent) else { continue };
            let queue_delay = (r.fate == Fate::Delivered).then(|| match link.queue_delay {
                // Both subtractions saturate at zero.
                QueueDelaySource::OneWayMinusPropagation => (r.at - r.sent) - link.delay,
                QueueDelaySource::TimeInBottleneck => r.queue_delay.unwrap_or_default(),
            });
            packets.push(PacketSample {
                sent: s,
                size: r.size,
                queue_delay,
            });
            let Some(i) = index(s) else { continue };
            sent[i] += u64::from(r.size);
            packets_sent[i] += 1;
            match queue_delay {
                Some(d) => {
                    delay_sum[i] += d.as_nanos();
                    delay_count[i] += 1;
                }
                None => dropped[i] += 1,
            }
        }
        let rate = |bytes: u64| {
            let bps = u128::from(bytes) * 8 * 1_000_000_000 / u128::from(iv);
            Bitrate::from_bps(u64::try_from(bps).unwrap_or(u64::MAX))
        };
        let rows = (0..n)
            .map(|i| {
                let t = self.interval.saturating_mul(i as u64);
                let sample = self.samples.get(i).copied().unwrap_or_default();
                TraceRow {
                    t,
                    capacity: link
                        .capacity
                        .rate_between(t, t + self.interval)
                        .map(|r| Bitrate::from_bps(r.bps())),
                    send_rate: rate(sent[i]),
                    goodput: rate(received[i]),
                    target: sample.target,
                    remb: sample.remb,
                    queue_delay: (delay_count[i] > 0)
                        .then(|| SimDuration::from_nanos(delay_sum[i] / delay_count[i])),
                    loss: (packets_sent[i] > 0).then(|| dropped[i] as f64 / packets_sent[i] as f64),
                    pacer_queue: sample.pacer_queue,
                }
            })
            .collect();
        Trace {
            interval: self.interval,
            rows,
            packets,
        }
    }
}

fn kbps(rate: Option<Bitrate>) -> String {
    rate.map_or_else(|| "-".to_owned(), |r| format!("{:.0}", r.as_kbps_f64()))
}

impl Trace {
    /// A compact table, one line per second (the row at each whole second): time in s,
    /// capacity, target, REMB, send rate and goodput in kbit/s, mean queuing delay in ms, loss as
    /// a fraction of the packets sent (as everywhere: `trace.csv`, `metrics.json`, the checks).
    pub fn render(&self) -> String {
        let mut out = String::from(
            "  t_s   cap_kbps target_kbps remb_kbps send_kbps goodput_kbps queue_ms loss_fraction\n",
        );
        let per_second = (1_000_000_000 / self.interval.as_nanos().max(1)).max(1) as usize;
        for row in self.rows.iter().step_by(per_second) {
            let _ = writeln!(
                out,
                "{:5.1} {:>10} {:>11} {:>9} {:>9.0} {:>12.0} {:>8} {:>13}",
                row.t.as_secs_f64(),
                kbps(row.capacity),
                kbps(row.target),
                kbps(row.remb),
                row.send_rate.as_kbps_f64(),
                row.goodput.as_kbps_f64(),
                row.queue_delay.map_or_else(
                    || "-".to_owned(),
                    |d| format!("{:.1}", d.as_secs_f64() * 1e3)
                ),
                row.loss
                    .map_or_else(|| "-".to_owned(), |l| format!("{l:.4}")),
            );
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use vnet_sim::{DropCause, Rate};

    fn record(seq: u64, sent_ms: u64, at_ms: u64, fate: Fate) -> PacketRecord {
        PacketRecord {
            seq,
            duplicate: false,
            sent: SimTime::from_millis(sent_ms),
            at: SimTime::from_millis(at_ms),
            size: 1_000,
            queue_delay: None,
            fate,
            origin: 0,
        }
    }

    /// Rates, delay and loss land in the interval the packet was sent (or, for goodput,
    /// delivered) in, and packets before media starts are ignored.
    #[test]
    fn rows_count_each_packet_in_its_interval() {
        let log = [
            record(0, 500, 560, Fate::Delivered), // before media: ignored
            record(1, 1_050, 1_100, Fate::Delivered),
            record(2, 1_150, 1_230, Fate::Delivered),
            record(3, 1_190, 1_190, Fate::Dropped(DropCause::QueueFull)),
        ];
        let mut rec = Recorder::new(SimDuration::from_millis(200));
        rec.sample(Some(Bitrate::from_kbps(300)), None);
        rec.sample(Some(Bitrate::from_kbps(400)), None);
        let schedule = RateSchedule::constant(Rate::from_mbps(1));
        let trace = rec.finish(
            &log,
            SimTime::from_secs(1),
            SimDuration::from_millis(400),
            &LinkView {
                capacity: &schedule,
                delay: SimDuration::from_millis(50),
                queue_delay: QueueDelaySource::default(),
            },
        );
        assert_eq!(trace.rows.len(), 2);
        assert_eq!(trace.packets.len(), 3);
        let first = trace.rows[0];
        assert_eq!(first.send_rate, Bitrate::from_kbps(120)); // 3 kB in 200 ms
        assert_eq!(first.goodput, Bitrate::from_kbps(40)); // packet 1 only; 2 lands later
        assert_eq!(first.queue_delay, Some(SimDuration::from_millis(15))); // (0 + 30) / 2
        assert_eq!(first.loss, Some(1.0 / 3.0));
        assert_eq!(first.capacity, Some(Bitrate::from_mbps(1)));
        assert_eq!(first.target, Some(Bitrate::from_kbps(300)));
        assert_eq!(trace.rows[1].goodput, Bitrate::from_kbps(40));
        assert_eq!(trace.rows[1].loss, None);
        assert!(trace.render().lines().count() == 2, "{}", trace.render());
    }
}
