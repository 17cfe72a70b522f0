//! [`Pacer`]: the queue between the encoder and the wire, and the rules that empty it.
//!
//! # Release timing
//!
//! Media leaves at the pacing rate, `pacing_factor` × the target: libwebrtc's 2.5 lets an
//! encoder's frame burst drain within a fraction of a frame interval without the pacer becoming
//! a queue of its own. Departures are spaced by size / rate with a 5 ms burst allowance
//! (libwebrtc's pacing granularity), so an idle pacer never saves up more than 5 ms of sending.
//! When the queued bytes would not be gone by the time the oldest packet has waited
//! `max_queue_time`, the rate is raised to drain them by then (libwebrtc's
//! `kMaxExpectedQueueLength`): the network, not this queue, should see the excess.
//!
//! # Probe clusters
//!
//! Clusters come from the controller ([`Pacer::push_cluster`]) and are sent one at a time, media
//! first, padding when no media waits (see [`super::prober`]). Every packet of a cluster leaves
//! with its [`ProbeInfo`] so the caller can tell the controller which packets were probes.
//!
//! # Congestion window
//!
//! See [`super::window`]. While the window is full nothing leaves, a cluster under way is
//! abandoned (its send rate would no longer be the cluster's), and no cluster starts; so that a
//! lost feedback cannot stall the pacer for good, one queued packet is let through whenever
//! nothing has left for 500 ms (libwebrtc's `kCongestedPacketInterval` keep-alive), and its
//! feedback resolves everything before it.
//!
//! # Queue policy
//!
//! The queue holds at most `queue_limit` packets, allocated once; arrivals beyond are refused
//! rather than evicting older ones (both leave a hole, but a refused packet is still in the
//! caller's retransmission buffer, so a NACK recovers it).
//!
//! **Queue time limit.** Media that has waited longer than `queue_time_limit` when it reaches
//! the head is dropped (counted in [`PacerStats::stale_packets`]) and its retransmission is
//! refused later: after an outage, seconds of held media are worth nothing to a real-time
//! receiver, and sending them as a burst into the link that just came back fills its queue and
//! drops what is current. libwebrtc reaches the same end at the encoder (frames dropped while
//! the congestion window is full); an encoder outside the chain cannot be made to, so the pacer
//! drops packets, and the pushback (updated on a timer as well as on feedback) keeps the encoder
//! near its floor while the window stays full.
//!
//! # Retransmissions
//!
//! See [`super::retransmit`].

use std::collections::VecDeque;

use super::config::PacerConfig;
use super::feedback_gaps::FeedbackGaps;
use super::flight::{Flight, MinRtt};
use super::prober::ActiveProbe;
use super::retransmit::{Budget, History};
use super::stats::PacerStats;
use super::window::{Pushback, congestion_window};
use crate::feedback::ProbeInfo;
use crate::probe::ProbeCluster;
use crate::probe::cluster::ClusterQueue;
use crate::units::{Bitrate, DataSize, TimeDelta, Timestamp};

/// Sending allowance carried over an idle spell.
const BURST: TimeDelta = TimeDelta::from_millis(5);

/// The slowest the pacer ever paces at, so a zero or absurd target cannot stall the queue.
const MIN_PACING_RATE: Bitrate = Bitrate::from_kbps(10);

/// While the window is full, one queued packet leaves if nothing has for this long (libwebrtc
/// `kCongestedPacketInterval`).
const KEEPALIVE_INTERVAL: TimeDelta = TimeDelta::from_millis(500);

/// Feedback this late counts as overdue: from then on the pushback is updated on a timer.
///
/// Shorter silences are part of how cellular links behave (the EVDO trace has many gaps of
/// 250 ms to 1 s with nothing delivered, so nothing reported), and there the pushback held at
/// its last value served better: with 250 ms here, EVDO's utilisation fell from 66.2 % to
/// 61.7 % at the same delay, because the encoder, pushed to its floor in every gap, took
/// seconds to come back. A second of silence is an outage.
const FEEDBACK_OVERDUE: TimeDelta = TimeDelta::from_secs(1);

/// How often the pushback is updated while feedback is overdue (libwebrtc's goog_cc process
/// interval, which updates it whether or not feedback came).
const PUSHBACK_TICK: TimeDelta = TimeDelta::from_millis(25);

/// What a queued packet is, as far as the pacer's rules go.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketKind {
    /// A first transmission on a stream added with [`Pacer::add_stream`], by its sequence number
    /// before any renumbering.
    Media {
        /// The stream.
        ssrc: u32,
        /// Its sequence number.
        seq: u16,
    },
    /// A retransmission of packet `seq` of the (media) stream `ssrc`, whatever stream it goes
    /// out on (RTX or the media stream itself).
    Retransmission {
        /// The media stream repaired.
        ssrc: u32,
        /// The sequence number repeated.
        seq: u16,
    },
    /// Anything else that is paced (media of a stream the pacer was not told of).
    Other,
}

/// Why a packet was not queued.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The queue holds `queue_limit` packets already.
    QueueFull,
    /// A retransmission the rules in [`super::retransmit`] refuse.
    Retransmission,
}

/// A packet leaving now.
#[derive(Debug)]
pub struct Release<P> {
    /// The caller's packet (or the padding it built).
    pub payload: P,
    /// Its size on the wire as the pacer counted it.
    pub size: DataSize,
    /// The cluster it belongs to, if it is part of one.
    pub probe: Option<ProbeInfo>,
    /// Whether it is padding built for a cluster.
    pub padding: bool,
}

#[derive(Debug)]
struct Queued<P> {
    payload: P,
    enqueued: Timestamp,
    bytes: u64,
    kind: PacketKind,
}

/// The pacer; see the module docs.
#[derive(Debug)]
pub struct Pacer<P> {
    config: PacerConfig,
    target: Bitrate,
    queue: VecDeque<Queued<P>>,
    queued_bytes: u64,
    /// The earliest the next media packet may leave.
    next_send: Option<Timestamp>,
    probe: Option<ActiveProbe>,
    clusters: ClusterQueue,
    last_now: Option<Timestamp>,
    budget: Budget,
    histories: Vec<History>,
    flight: Flight,
    rtt: MinRtt,
    pushback: Pushback,
    feedback_gaps: FeedbackGaps,
    /// Since when the window has been full, and when it was last accounted for in the stats.
    full_since: Option<Timestamp>,
    full_accounted: Option<Timestamp>,
    /// When a packet last left.
    last_release: Option<Timestamp>,
    /// When feedback last came, and when the pushback was last updated.
    last_feedback: Option<Timestamp>,
    last_pushback_update: Option<Timestamp>,
    stats: PacerStats,
}

impl<P> Pacer<P> {
    /// A pacer with `config`, at `config.start` until told a target.
    pub fn new(config: PacerConfig) -> Self {
        let queue_limit = config.queue_limit.max(1);
        Self {
            target: config.start,
            config: PacerConfig {
                queue_limit,
                ..config
            },
            queue: VecDeque::with_capacity(queue_limit),
            queued_bytes: 0,
            next_send: None,
            probe: None,
            clusters: ClusterQueue::new(),
            last_now: None,
            budget: Budget::default(),
            histories: Vec::new(),
            flight: Flight::new(),
            rtt: MinRtt::default(),
            pushback: Pushback::default(),
            feedback_gaps: FeedbackGaps::default(),
            full_since: None,
            full_accounted: None,
            last_release: None,
            last_feedback: None,
            last_pushback_update: None,
            stats: PacerStats::default(),
        }
    }

    /// The settings in force.
    pub fn config(&self) -> &PacerConfig {
        &self.config
    }

    /// Keeps a retransmission history for `ssrc` (allocates its tables once).
    pub fn add_stream(&mut self, ssrc: u32) {
        if !self.histories.iter().any(|h| h.ssrc == ssrc) {
            self.histories.push(History::new(ssrc));
        }
    }

    /// Forgets `ssrc`'s history.
    pub fn remove_stream(&mut self, ssrc: u32) {
        self.histories.retain(|h| h.ssrc != ssrc);
    }

    /// Whether `ssrc` was added.
    pub fn has_stream(&self, ssrc: u32) -> bool {
        self.histories.iter().any(|h| h.ssrc == ssrc)
    }

    fn history(&mut self, ssrc: u32) -> Option<&mut History> {
        self.histories.iter_mut().find(|h| h.ssrc == ssrc)
    }

    fn observe(&mut self, now: Timestamp) {
        if self.last_now.is_none_or(|last| now > last) {
            self.last_now = Some(now);
        }
    }

    /// The target the pacer paces and sizes its window by.
    pub fn set_target(&mut self, target: Bitrate) {
        self.target = target;
    }

    /// The target.
    pub fn target(&self) -> Bitrate {
        self.target
    }

    /// Queues a cluster to send after any already waiting (the oldest waiting one is dropped
    /// when eight wait). Without probing, the cluster is dropped.
    pub fn push_cluster(&mut self, cluster: ProbeCluster) {
        if self.config.probing {
            self.clusters.push(cluster);
        }
    }

    /// The rate media is released at `now`: the target × the factor, or faster when the queue
    /// would otherwise not be empty by the time its oldest packet has waited `max_queue_time`.
    pub fn pacing_rate(&self, now: Timestamp) -> Bitrate {
        let paced = self
            .target
            .mul_f64(self.config.pacing_factor)
            .max(MIN_PACING_RATE);
        let Some(head) = self.queue.front() else {
            return paced;
        };
        let waited = (now - head.enqueued).max(TimeDelta::ZERO);
        let left = (self.config.max_queue_time - waited).max(TimeDelta::from_millis(1));
        DataSize::from_bytes(self.queued_bytes)
            .rate_over(left)
            .map_or(paced, |d| paced.max(d))
    }

    /// The encoder target after the congestion-window pushback; `None` while not pushed back.
    pub fn pushback_target(&self) -> Option<Bitrate> {
        self.pushback.target()
    }

    /// Offers a packet of `size` at `now`. A refused packet is not kept (the caller drops it).
    pub fn enqueue(
        &mut self,
        now: Timestamp,
        payload: P,
        size: DataSize,
        kind: PacketKind,
    ) -> Result<(), Refusal> {
        self.observe(now);
        if self.queue.len() >= self.config.queue_limit {
            self.stats.dropped_packets += 1;
            return Err(Refusal::QueueFull);
        }
        let bits = size.as_bits_f64();
        let spendable = self.spendable();
        match kind {
            PacketKind::Retransmission { ssrc, seq } if self.has_stream(ssrc) => {
                self.budget.refill(now, spendable);
                let (min, age) = (
                    self.config.min_retransmit_interval,
                    self.config.max_retransmit_age,
                );
                let allowed = self
                    .history(ssrc)
                    .is_some_and(|h| h.allowed(seq, now, min, age));
                if !allowed || !self.budget.take(bits) {
                    self.stats.retransmissions_refused += 1;
                    return Err(Refusal::Retransmission);
                }
                if let Some(h) = self.history(ssrc) {
                    h.retransmission_queued(seq, now);
                }
                self.stats.retransmissions += 1;
            }
            _ => {
                if let PacketKind::Media { ssrc, seq } = kind
                    && let Some(h) = self.history(ssrc)
                {
                    h.original_queued(seq, now);
                }
                self.budget.refill(now, spendable);
                self.budget.charge(bits);
            }
        }
        self.queued_bytes += size.bytes();
        self.queue.push_back(Queued {
            payload,
            enqueued: now,
            bytes: size.bytes(),
            kind,
        });
        Ok(())
    }

    /// What the sender may spend in all, repairs included: the pushed-back target.
    fn spendable(&self) -> Bitrate {
        self.pushback
            .target()
            .map_or(self.target, |p| p.min(self.target))
    }

    /// The congestion window, once there is an RTT to size it by. On a path that loses
    /// feedback the accepted queue grows to ride out the gaps that loss makes (see
    /// [`super::feedback_gaps`]).
    pub fn congestion_window(&self) -> Option<DataSize> {
        let accepted = self
            .config
            .accepted_queue?
            .max(self.feedback_gaps.allowance());
        Some(congestion_window(self.target, self.rtt.get()?, accepted))
    }

    /// Packets of the feedback message being processed: `reported` had a report, `unknown`
    /// were skipped by it (their feedback was lost). Counted until
    /// [`on_feedback`](Self::on_feedback).
    pub fn count_reports(&mut self, reported: u64, unknown: u64) {
        self.feedback_gaps.count(reported, unknown);
    }

    /// The smoothed share of packets whose feedback was lost.
    pub fn unknown_share(&self) -> f64 {
        self.feedback_gaps.unknown_share()
    }

    /// Whether the bytes in flight fill the congestion window.
    fn window_full(&self) -> bool {
        self.congestion_window()
            .is_some_and(|w| self.flight.bytes() >= w.bytes())
    }

    /// Feedback at `now` accounted for everything released up to `through`; the path's
    /// round-trip time is now `rtt`. Updates the pushback; returns whether its target changed.
    pub fn on_feedback(
        &mut self,
        now: Timestamp,
        through: Option<Timestamp>,
        rtt: Option<TimeDelta>,
    ) -> bool {
        self.observe(now);
        if let Some(through) = through {
            self.flight.resolve_through(through);
        }
        if let Some(rtt) = rtt {
            self.rtt.update(now, rtt);
        }
        self.last_feedback = Some(now);
        self.feedback_gaps.on_feedback(now);
        let changed = self.update_pushback(now);
        self.note_window(now);
        changed
    }

    /// When the pushback next updates on its timer: every [`PUSHBACK_TICK`] once feedback is
    /// [`FEEDBACK_OVERDUE`], while the window is full or the encoder is pushed back. Feedback
    /// normally drives the pushback (once per message, as tuned); when it stops — an outage, a
    /// lost return path — the window stays full and the timer takes over, so the encoder comes
    /// down to its floor about a second later instead of producing media that can only wait.
    fn next_pushback_tick(&self) -> Option<Timestamp> {
        let feedback = self.last_feedback?;
        self.congestion_window()?;
        if !(self.window_full() || self.pushback.target().is_some()) {
            return None;
        }
        let overdue = feedback + FEEDBACK_OVERDUE;
        Some(match self.last_pushback_update {
            Some(t) => overdue.max(t + PUSHBACK_TICK),
            None => overdue,
        })
    }

    /// Timer work at `now`: the pushback while feedback is overdue. Returns whether the
    /// pushed-back target changed.
    pub fn handle_timeout(&mut self, now: Timestamp) -> bool {
        self.observe(now);
        if self.next_pushback_tick().is_some_and(|t| t <= now) {
            return self.update_pushback(now);
        }
        false
    }

    /// Scales the pushback by the window's fill; returns whether its target changed.
    pub fn update_pushback(&mut self, now: Timestamp) -> bool {
        self.last_pushback_update = Some(now);
        let Some(window) = self.congestion_window() else {
            return false;
        };
        let outstanding = self.flight.bytes() + self.queued_bytes;
        let changed = self.pushback.update(outstanding, window, self.target);
        self.stats.pushback_target = self.pushback.target();
        changed
    }

    /// Drops media at the head that has waited longer than the queue time limit.
    fn drop_stale(&mut self, now: Timestamp) {
        let Some(limit) = self.config.queue_time_limit else {
            return;
        };
        while let Some(head) = self.queue.front() {
            if now - head.enqueued <= limit {
                break;
            }
            let Some(q) = self.queue.pop_front() else {
                break;
            };
            self.queued_bytes -= q.bytes;
            self.stats.stale_packets += 1;
            self.stats.stale_bytes += DataSize::from_bytes(q.bytes);
            match q.kind {
                PacketKind::Media { ssrc, seq } => {
                    if let Some(h) = self.history(ssrc) {
                        h.original_dropped(seq);
                    }
                }
                PacketKind::Retransmission { ssrc, seq } => {
                    if let Some(h) = self.history(ssrc) {
                        h.retransmission_released(seq);
                    }
                }
                PacketKind::Other => {}
            }
        }
    }

    /// Takes the oldest queued packet off the queue.
    fn pop_queued(&mut self) -> Option<Queued<P>> {
        let q = self.queue.pop_front()?;
        self.queued_bytes -= q.bytes;
        self.stats.media_packets += 1;
        if let PacketKind::Retransmission { ssrc, seq } = q.kind
            && let Some(h) = self.history(ssrc)
        {
            h.retransmission_released(seq);
        }
        Some(q)
    }

    /// Counts `bytes` released at `now` as in flight.
    fn sent(&mut self, now: Timestamp, bytes: u64) {
        self.flight.push(now, bytes);
        self.last_release = Some(now);
    }

    /// Advances the media schedule by one packet of `bytes` sent at `now`.
    fn charge(&mut self, now: Timestamp, bytes: u64) {
        let rate = self.pacing_rate(now).bps().max(1);
        let floor = now - BURST;
        let from = self.next_send.map_or(floor, |t| t.max(floor));
        self.next_send = Some(from + TimeDelta::from_micros((bytes * 8_000_000 / rate) as i64));
    }

    /// The next packet due at `now`, if any; call until it returns `None`. `pad` builds a
    /// padding packet of about the size asked for and returns it with its actual size, or
    /// `None` when it cannot (no stream has sent media yet), which abandons the cluster.
    pub fn poll_release(
        &mut self,
        now: Timestamp,
        mut pad: impl FnMut(DataSize) -> Option<(P, DataSize)>,
    ) -> Option<Release<P>> {
        self.observe(now);
        self.drop_stale(now);
        // Bounded: every iteration returns or ends a cluster, and clusters are finite.
        loop {
            if self.window_full() {
                self.note_window(now);
                return self.hold(now);
            }
            if self.probe.is_none()
                && let Some(cluster) = self.clusters.pop()
            {
                self.probe = Some(ActiveProbe::start(&cluster, now, MIN_PACING_RATE));
            }
            if let Some(probe) = self.probe {
                if now < probe.next {
                    self.note_window(now);
                    return None;
                }
                let (payload, bytes, padding) = if let Some(q) = self.pop_queued() {
                    (q.payload, q.bytes, false)
                } else {
                    let Some((payload, size)) = pad(probe.padding_size()) else {
                        self.probe = None;
                        self.stats.clusters_skipped += 1;
                        continue;
                    };
                    self.stats.padding_packets += 1;
                    self.stats.padding_bytes += size;
                    (payload, size.bytes(), true)
                };
                self.sent(now, bytes);
                self.charge(now, bytes);
                if let Some(active) = &mut self.probe
                    && active.sent(bytes)
                {
                    self.probe = None;
                    self.stats.clusters_sent += 1;
                }
                return Some(Release {
                    payload,
                    size: DataSize::from_bytes(bytes),
                    probe: Some(probe.info),
                    padding,
                });
            }
            if self.next_send.is_some_and(|t| now < t) {
                self.note_window(now);
                return None;
            }
            let Some(q) = self.pop_queued() else {
                self.note_window(now);
                return None;
            };
            self.sent(now, q.bytes);
            self.charge(now, q.bytes);
            return Some(Release {
                payload: q.payload,
                size: DataSize::from_bytes(q.bytes),
                probe: None,
                padding: false,
            });
        }
    }

    /// With the window full: abandons a cluster under way, and lets one queued packet through
    /// if nothing has left for the keep-alive interval.
    fn hold(&mut self, now: Timestamp) -> Option<Release<P>> {
        if self.probe.take().is_some() {
            self.stats.clusters_interrupted += 1;
        }
        let quiet = self
            .last_release
            .is_none_or(|t| now - t >= KEEPALIVE_INTERVAL);
        if !quiet {
            return None;
        }
        let q = self.pop_queued()?;
        self.sent(now, q.bytes);
        self.charge(now, q.bytes);
        self.stats.keepalive_packets += 1;
        Some(Release {
            payload: q.payload,
            size: DataSize::from_bytes(q.bytes),
            probe: None,
            padding: false,
        })
    }

    /// When [`poll_release`](Self::poll_release) or [`handle_timeout`](Self::handle_timeout)
    /// next has something to do.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        let last = self.last_now?;
        let release = self.next_release(last);
        let tick = self.next_pushback_tick().map(|t| t.max(last));
        match (release, tick) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    fn next_release(&self, last: Timestamp) -> Option<Timestamp> {
        if self.window_full() {
            // Only the keep-alive can send; nothing to do without a queue.
            let since = self.last_release.unwrap_or(last);
            return (!self.queue.is_empty()).then(|| (since + KEEPALIVE_INTERVAL).max(last));
        }
        let due = if let Some(probe) = &self.probe {
            Some(probe.next)
        } else if !self.clusters.is_empty() {
            Some(last)
        } else if !self.queue.is_empty() {
            Some(self.next_send.unwrap_or(last))
        } else {
            None
        };
        due.map(|t| t.max(last))
    }

    /// Tracks the window's full spells for the stats, as of `now`.
    fn note_window(&mut self, now: Timestamp) {
        let full = self.window_full();
        if let Some(since) = self.full_accounted {
            self.stats.congestion_window_full_time += (now - since).max(TimeDelta::ZERO);
        }
        match (full, self.full_since) {
            (true, None) => {
                self.full_since = Some(now);
                self.stats.congestion_window_full_count += 1;
            }
            (false, Some(_)) => self.full_since = None,
            _ => {}
        }
        self.full_accounted = self.full_since.map(|_| now);
    }

    /// The figures as of `now`.
    pub fn stats(&mut self, now: Timestamp) -> PacerStats {
        self.stats.pacing_rate = Some(self.pacing_rate(now));
        let wait = self
            .queue
            .front()
            .map_or(TimeDelta::ZERO, |q| (now - q.enqueued).max(TimeDelta::ZERO));
        self.stats.queue_delay = Some(wait);
        self.stats.queued_packets = self.queue.len() as u64;
        self.stats.queued_bytes = DataSize::from_bytes(self.queued_bytes);
        self.stats.congestion_window = self.congestion_window();
        self.stats.in_flight = DataSize::from_bytes(self.flight.bytes());
        self.note_window(now);
        self.stats
    }

    /// Counts a NACK the caller rewrote (it renumbers; the pacer only keeps the figure).
    pub fn count_nack_translated(&mut self) {
        self.stats.nacks_translated += 1;
    }
}
