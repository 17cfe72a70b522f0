//! A sender that sends at the estimator's target through a [`Bottleneck`], a receiver that
//! returns per-packet feedback every 50 ms over an uncongested return path, and the estimator in
//! between. Probe clusters the estimator asks for are sent at their rate, marked as probes.

use std::collections::VecDeque;

use bwe_core::probe::ProbeCluster;
use bwe_core::send_side::{SendSideConfig, SendSideEstimator};
use bwe_core::{Bitrate, DataSize, PacketResult, ProbeInfo, SentPacket, TimeDelta, Timestamp};

use super::bottleneck::{Bottleneck, Fate};

/// The receiver's clock is this far ahead of the sender's: the estimator must only ever
/// difference remote instants with each other.
const REMOTE_CLOCK_OFFSET: TimeDelta = TimeDelta::from_secs(1_000);
const PACKET: DataSize = DataSize::from_bytes(1200);
const FEEDBACK_INTERVAL: TimeDelta = TimeDelta::from_millis(50);
const TICK: TimeDelta = TimeDelta::from_millis(1);

/// One row of the per-tick record.
#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub at: Timestamp,
    pub target: Bitrate,
    pub capacity: Bitrate,
    pub queue_delay: TimeDelta,
}

pub struct SendLoop {
    pub estimator: SendSideEstimator,
    pub link: Bottleneck,
    pub now: Timestamp,
    pub samples: Vec<Sample>,
    /// Caps what the "application" offers, to model an application-limited sender.
    pub app_limit: Option<Bitrate>,
    next_media: Timestamp,
    next_probe: Timestamp,
    probe: Option<(ProbeCluster, u32)>,
    next_feedback: Timestamp,
    sequence: u64,
    /// Packets sent and not yet reported, with their fate.
    unreported: VecDeque<(SentPacket, Fate)>,
    /// Feedback in flight back to the sender: (arrival at sender, results, receiver report time).
    returning: VecDeque<(Timestamp, Vec<PacketResult>, Timestamp)>,
    pub delivered_bytes: u64,
    pub lost: u64,
    pub sent: u64,
}

impl SendLoop {
    pub fn new(config: SendSideConfig, link: Bottleneck) -> Self {
        let mut estimator = SendSideEstimator::new(config);
        estimator.on_network_available(Timestamp::ZERO);
        Self {
            estimator,
            link,
            now: Timestamp::ZERO,
            samples: Vec::new(),
            app_limit: None,
            next_media: Timestamp::ZERO,
            next_probe: Timestamp::ZERO,
            probe: None,
            next_feedback: Timestamp::ZERO + FEEDBACK_INTERVAL,
            sequence: 0,
            unreported: VecDeque::new(),
            returning: VecDeque::new(),
            delivered_bytes: 0,
            lost: 0,
            sent: 0,
        }
    }

    /// Runs until `until`, one millisecond at a time.
    pub fn run_until(&mut self, until: Timestamp) {
        while self.now < until {
            self.now += TICK;
            self.step();
        }
    }

    fn send(&mut self, at: Timestamp, probe: Option<ProbeInfo>) {
        let packet = SentPacket {
            sequence: self.sequence,
            send_time: at,
            size: PACKET,
            probe,
        };
        self.sequence += 1;
        self.sent += 1;
        self.estimator.on_sent(at, &packet);
        let fate = self.link.send(at, PACKET);
        self.unreported.push_back((packet, fate));
    }

    fn step(&mut self) {
        let now = self.now;
        if self.estimator.poll_timeout().is_some_and(|t| t <= now) {
            self.estimator.handle_timeout(now);
        }
        if self.probe.is_none()
            && let Some(cluster) = self.estimator.poll_probe()
        {
            let packets = cluster
                .min_probes
                .max(cluster.min_bytes.bytes().div_ceil(PACKET.bytes()) as u32);
            self.probe = Some((cluster, packets));
            self.next_probe = now;
        }

        // Media at the target (or the application's limit).
        let rate = match self.app_limit {
            Some(limit) => self.estimator.target().min(limit),
            None => self.estimator.target(),
        };
        // As in libwebrtc's pacer, media sent while a cluster is active belongs to the cluster.
        let active = self.probe.map(|(cluster, _)| ProbeInfo {
            cluster_id: cluster.id,
            min_probes: cluster.min_probes,
            min_bytes: cluster.min_bytes,
        });
        while self.next_media <= now {
            let at = self.next_media;
            self.send(at, active);
            self.next_media = at + interval(rate);
        }
        // Probe packets at the cluster's rate, on top of media.
        while let Some((cluster, left)) = self.probe
            && self.next_probe <= now
        {
            let at = self.next_probe;
            let info = ProbeInfo {
                cluster_id: cluster.id,
                min_probes: cluster.min_probes,
                min_bytes: cluster.min_bytes,
            };
            self.send(at, Some(info));
            self.next_probe = at + interval(cluster.target);
            self.probe = (left > 1).then_some((cluster, left - 1));
        }

        // The receiver reports everything whose fate it knows.
        if now >= self.next_feedback {
            self.next_feedback = now + FEEDBACK_INTERVAL;
            let last_delivered = self
                .unreported
                .iter()
                .rposition(|(_, f)| matches!(f, Fate::Delivered { at, .. } if *at <= now));
            if let Some(last) = last_delivered {
                let results: Vec<PacketResult> = self
                    .unreported
                    .drain(..=last)
                    .map(|(sent, fate)| PacketResult {
                        sent,
                        receive_time: match fate {
                            Fate::Delivered { at, .. } => Some(at + REMOTE_CLOCK_OFFSET),
                            _ => None,
                        },
                    })
                    .collect();
                for r in &results {
                    match r.receive_time {
                        Some(_) => self.delivered_bytes += r.sent.size.bytes(),
                        None => self.lost += 1,
                    }
                }
                self.returning
                    .push_back((now + self.link.one_way_delay, results, now));
            }
        }
        while self.returning.front().is_some_and(|(at, _, _)| *at <= now) {
            let Some((_, results, reported_at)) = self.returning.pop_front() else {
                break;
            };
            if let Some(newest) = results.iter().rev().find(|r| r.receive_time.is_some()) {
                let held = reported_at + REMOTE_CLOCK_OFFSET
                    - newest.receive_time.unwrap_or(Timestamp::ZERO);
                let rtt = now - newest.sent.send_time - held;
                self.estimator.on_rtt(now, rtt);
            }
            self.estimator.on_feedback(now, &results);
        }

        self.samples.push(Sample {
            at: now,
            target: self.estimator.target(),
            capacity: self.link.schedule.at(now),
            queue_delay: self.link.queue_delay(now),
        });
    }

    /// Targets sampled in `[from, to)`.
    pub fn targets(&self, from: Timestamp, to: Timestamp) -> impl Iterator<Item = Bitrate> + '_ {
        self.samples
            .iter()
            .filter(move |s| s.at >= from && s.at < to)
            .map(|s| s.target)
    }

    /// Queue delays sampled in `[from, to)`.
    pub fn queue_delays(
        &self,
        from: Timestamp,
        to: Timestamp,
    ) -> impl Iterator<Item = TimeDelta> + '_ {
        self.samples
            .iter()
            .filter(move |s| s.at >= from && s.at < to)
            .map(|s| s.queue_delay)
    }
}

/// The spacing of 1200-byte packets at `rate` (at least 1 µs, so a zero rate cannot stall time).
pub fn interval(rate: Bitrate) -> TimeDelta {
    let bps = rate.bps().max(1);
    TimeDelta::from_micros(((PACKET.bits() * 1_000_000) / bps).max(1) as i64)
}
