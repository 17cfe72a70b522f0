//! A pacer for `Slot::Pacer` that also sends probe clusters.
//!
//! Media is released at the pacing rate, `pacing_factor` × the target the estimator last
//! announced (`Attribute::TargetBitrateChanged` on the read leg, as rtc's own pacer reads it):
//! libwebrtc's 2.5 lets an encoder's frame burst drain within a fraction of a frame interval
//! without the pacer becoming a queue of its own. Departures are spaced by size / rate with a
//! 5 ms burst allowance (libwebrtc's pacing granularity), so an idle pacer never saves up more
//! than 5 ms of sending.
//!
//! Probe clusters come from the estimator through the [`ProbeMailbox`]. A cluster takes over the
//! sending: packets leave at the cluster's rate, media first if any is queued, padding packets
//! otherwise (see [`super::stream`]), until the cluster's `min_bytes` and `min_probes` are both
//! met; packet `k` leaves `bytes before k / rate` after the first, so the result estimator's send
//! rate (bytes without the last / interval) is the cluster's rate exactly. Each packet sent in a
//! cluster is recorded in the mailbox with its SSRC, wire sequence number and release instant,
//! which is what `BweSendSide` looks its feedback up by.
//!
//! # Congestion window
//!
//! As libwebrtc's pacer does (`PacingController::Congested`, fed by goog_cc's
//! `UpdateCongestionWindowSize`), media is held while the bytes in flight (released and not yet
//! resolved by feedback, counted through the [`ProbeMailbox`]) reach the congestion window,
//! `(RTT + accepted_queue) × target`, at least 3 000 bytes (`kMinCwndBytes`); the accepted queue
//! is 350 ms (`kDefaultAcceptedQueueMs`) and the RTT the estimator's. Padding and probes are held
//! too: no cluster starts while the window is full, and a cluster under way is abandoned
//! (its send rate would no longer be the cluster's). Held media waits in the queue, under the
//! queue policy below. Feedback shrinking the in-flight count resumes sending; so that a lost
//! feedback cannot stall the pacer for good, one queued packet is let through whenever nothing
//! has left for 500 ms (libwebrtc's `kCongestedPacketInterval` keep-alive), and its feedback
//! resolves everything before it. Until the estimator knows an RTT there is no window.
//!
//! The encoder is pushed back as well (libwebrtc's `CongestionWindowPushbackController`): on
//! each feedback the fill ratio, (bytes in flight + bytes queued here) / window, scales a
//! pushback ratio by 0.9 above 1.5, by 0.95 above 1, by 1.05 (up to 1) below that, and resets it
//! to 1 below 0.1; the queued bytes count as libwebrtc's `AddPacingToCongestionWindowPushback`
//! trial has it, so a backlog held by the window keeps the encoder down until it has drained.
//! The target × the ratio, never pushed below 30 kbit/s (`kDefaultMinPushbackTargetBitrateBps`)
//! unless the target is, is published as [`PacerStats::pushback_target`] and lowers the
//! handle's target, which is what the application encodes at.
//!
//! # Queue policy
//!
//! The queue holds at most [`PacerConfig::queue_limit`] packets, allocated once. Two rules keep
//! it short before that matters: when the queued bytes would not be gone by the time the oldest
//! packet has waited [`PacerConfig::max_queue_time`], the pacing rate is raised to drain them
//! by then (libwebrtc's `kMaxExpectedQueueLength`, which uses the average wait): the network,
//! not this queue, should see the excess. When the queue is full anyway, new packets are refused (counted in
//! [`PacerStats::dropped_packets`]) rather than evicting older ones: both leave a hole, but a
//! refused packet is still in the NACK responder's buffer (it sits application-ward), so the
//! receiver's NACK recovers it. RTCP is never queued.
//!
//! # Retransmissions
//!
//! The NACK responder (application-ward) answers every NACK it reads, and a receiver may NACK
//! the same packet again and again: rtc 0.21's NACK generator repeats every missing number every
//! 100 ms until it leaves its window, and never learns of an RTX repair (its receive log is keyed
//! by the media SSRC). Each copy would queue here; the queue's wait makes the receiver NACK more,
//! and the drain rule above would then put all of it on the wire at whatever rate empties the
//! queue: a retransmission storm many times the target. Two rules prevent it:
//!
//! - as libwebrtc's RTP sender does, a retransmission (RTX, or `Attribute::Retransmission` on
//!   the media SSRC) of a packet is refused while an earlier one of it is still queued or was
//!   accepted less than [`PacerConfig::min_retransmit_interval`] ago, an interval that doubles
//!   with each further retransmission of the packet (up to 16×), so that repeats of old losses
//!   give way to first retransmissions of new ones;
//! - retransmissions only use what new media leaves of the target: a budget accrues at the
//!   target (up to 250 ms of it, at least one full-size packet), new media draws
//!   on it first, a retransmission is queued only if enough is left. libwebrtc reaches the same
//!   sum by taking the retransmission rate out of the encoder's allocation; the encoder here is
//!   application-ward and cannot be told. rtc 0.21 does not bind the RTX SSRC to the chain, so
//!   RTX packets carry no transport-wide number and the estimator never sees them: on top of
//!   the target they would be load it cannot account for.
//!
//! Refusals are counted in [`PacerStats::retransmissions_refused`]; the receiver's next NACK
//! asks again.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bwe_core::{Bitrate, DataSize, ProbeInfo, TimeDelta};
use rtc::interceptor::{Attribute, Interceptor, Packet, Slot, StreamInfo, TaggedPacket};
use rtc::rtcp::transport_feedbacks::transport_layer_nack::TransportLayerNack;
use rtc::sansio::Protocol;
use rtc::shared::error::Error;

use super::mailbox::ProbeMailbox;
use super::stats::PacerStats;
use super::stream::{MAX_FILLER, PacedStream, retransmitted_seq, wire_size};
use crate::handle::BweHandle;

/// Where the probing pacer sits: rtc's pacer position, between the NACK responder and the
/// TWCC sender.
pub const PACER_SLOT: Slot = Slot::Pacer;

/// Settings for [`ProbingPacer`]. Defaults are libwebrtc's where it has one.
#[derive(Debug, Clone)]
pub struct PacerConfig {
    /// The target before the estimator announces one (use the estimator's start rate).
    pub start: Bitrate,
    /// Pacing rate = target × this (2.5, libwebrtc `kDefaultPaceMultiplier`).
    pub pacing_factor: f64,
    /// The longest the queue may take to drain at the pacing rate before the rate is raised
    /// (2 s, libwebrtc `kMaxExpectedQueueLength`).
    pub max_queue_time: Duration,
    /// The most packets held (2 048); arrivals beyond are refused.
    pub queue_limit: usize,
    /// How often the figures are published to the handle at most (100 ms).
    pub publish_interval: Duration,
    /// The least time between the first two retransmissions of one packet, doubled for each
    /// further one (250 ms: a few round trips on a short path, two and a half of rtc's 100 ms
    /// NACK intervals).
    pub min_retransmit_interval: Duration,
    /// Retransmissions of packets first queued longer ago than this are refused (1 s,
    /// libwebrtc's shortest packet-history duration, `kMinPacketDurationMs`): a receiver's
    /// jitter buffer has given up on them, and after a capacity drop resending the losses of
    /// the drop would keep the bottleneck full for seconds.
    pub max_retransmit_age: Duration,
    /// The queue the congestion window accepts on top of one RTT of data (350 ms, libwebrtc
    /// `kDefaultAcceptedQueueMs`); `None` turns the window off.
    pub accepted_queue: Option<Duration>,
    /// Whether probe clusters the estimator asks for are sent (true). Off, the pacer still
    /// paces, throttles retransmissions and applies the congestion window.
    pub probing: bool,
}

impl Default for PacerConfig {
    fn default() -> Self {
        Self {
            start: Bitrate::from_kbps(300),
            pacing_factor: 2.5,
            max_queue_time: Duration::from_secs(2),
            queue_limit: 2_048,
            publish_interval: Duration::from_millis(100),
            min_retransmit_interval: Duration::from_millis(250),
            max_retransmit_age: Duration::from_secs(1),
            accepted_queue: Some(Duration::from_millis(350)),
            probing: true,
        }
    }
}

/// Sending allowance carried over an idle spell.
const BURST: Duration = Duration::from_millis(5);

/// The slowest the pacer ever paces at, so a zero or absurd target cannot stall the queue.
const MIN_PACING_RATE: Bitrate = Bitrate::from_kbps(10);

/// How much unused target the retransmission budget keeps (see the module docs).
const RETRANSMIT_WINDOW: Duration = Duration::from_millis(250);

/// The retransmission budget always holds at least one packet this big, so that a low target
/// does not rule retransmissions out altogether.
const RETRANSMIT_MIN_BUDGET_BYTES: f64 = 1_500.0;

/// The smallest congestion window (libwebrtc `kMinCwndBytes`, two full-size packets).
const MIN_CONGESTION_WINDOW_BYTES: u64 = 3_000;

/// The pushback never takes the encoder target below this (unless the target itself is).
const MIN_PUSHBACK_TARGET: Bitrate = Bitrate::from_kbps(30);

/// While the window is full, one queued packet leaves if nothing has for this long (libwebrtc
/// `kCongestedPacketInterval`).
const KEEPALIVE_INTERVAL: Duration = Duration::from_millis(500);

struct Queued {
    packet: TaggedPacket,
    enqueued: Instant,
    bytes: usize,
    /// For a retransmission: the media SSRC and the application number it repeats.
    resends: Option<(u32, u16)>,
}

/// The cluster being sent.
struct ActiveProbe {
    info: ProbeInfo,
    rate: Bitrate,
    started: Instant,
    bytes: u64,
    packets: u32,
    next: Instant,
}

/// The probing pacer; see the module docs.
pub struct ProbingPacer {
    config: PacerConfig,
    mailbox: ProbeMailbox,
    handle: Option<BweHandle>,
    streams: Vec<PacedStream>,
    /// The stream padding goes on: the one that sent media last.
    pad_on: Option<usize>,
    target: Bitrate,
    queue: VecDeque<Queued>,
    queued_bytes: usize,
    /// The earliest the next media packet may leave.
    next_send: Option<Instant>,
    probe: Option<ActiveProbe>,
    last_now: Option<Instant>,
    last_publish: Option<Instant>,
    /// Whether the mailbox was told that media started (so it is locked once, not per packet).
    media_announced: bool,
    /// Retransmission budget left, in bits, and when it was last refilled.
    retransmit_budget: f64,
    retransmit_refilled: Option<Instant>,
    stats: PacerStats,
    read_queue: VecDeque<TaggedPacket>,
    write_queue: VecDeque<TaggedPacket>,
    /// Bytes in flight as last read from the mailbox, plus what was released since.
    in_flight: u64,
    /// The smallest round-trip time the estimator reported lately (see [`MinRtt`]).
    rtt: MinRtt,
    /// Bytes released in the current batch, not yet handed to the mailbox.
    unreported: usize,
    /// Since when the window has been full, and when it was last accounted for in the stats.
    full_since: Option<Instant>,
    full_accounted: Option<Instant>,
    /// When an RTP packet last left.
    last_release: Option<Instant>,
    /// The encoder pushback ratio (1: none).
    pushback_ratio: f64,
}

impl ProbingPacer {
    /// A pacer with `config`, taking clusters from and recording probes into `mailbox`.
    pub fn new(config: PacerConfig, mailbox: ProbeMailbox) -> Self {
        let queue_limit = config.queue_limit.max(1);
        Self {
            target: config.start,
            config: PacerConfig {
                queue_limit,
                ..config
            },
            mailbox,
            handle: None,
            streams: Vec::new(),
            pad_on: None,
            queue: VecDeque::with_capacity(queue_limit),
            queued_bytes: 0,
            next_send: None,
            probe: None,
            last_now: None,
            last_publish: None,
            media_announced: false,
            retransmit_budget: 0.0,
            retransmit_refilled: None,
            stats: PacerStats::default(),
            read_queue: VecDeque::with_capacity(64),
            write_queue: VecDeque::with_capacity(queue_limit),
            in_flight: 0,
            rtt: MinRtt::default(),
            unreported: 0,
            full_since: None,
            full_accounted: None,
            last_release: None,
            pushback_ratio: 1.0,
        }
    }

    /// Publishes the pacer's figures to `handle`.
    pub fn with_handle(mut self, handle: BweHandle) -> Self {
        self.handle = Some(handle);
        self
    }

    /// The current figures.
    pub fn stats(&self) -> PacerStats {
        self.stats
    }

    /// The rate media is released at `now`: the target × the factor, or faster when the queue
    /// would otherwise not be empty by the time its oldest packet has waited `max_queue_time`.
    pub fn pacing_rate(&self, now: Instant) -> Bitrate {
        let paced = self
            .target
            .mul_f64(self.config.pacing_factor)
            .max(MIN_PACING_RATE);
        let Some(head) = self.queue.front() else {
            return paced;
        };
        let waited = now.saturating_duration_since(head.enqueued);
        let left = self
            .config
            .max_queue_time
            .saturating_sub(waited)
            .max(Duration::from_millis(1));
        let drain = TimeDelta::try_from(left)
            .ok()
            .and_then(|left| DataSize::from_bytes(self.queued_bytes as u64).rate_over(left));
        drain.map_or(paced, |d| paced.max(d))
    }

    fn observe(&mut self, now: Instant) {
        if self.last_now.is_none_or(|last| now > last) {
            self.last_now = Some(now);
        }
    }

    fn stream_index(&self, ssrc: u32) -> Option<usize> {
        self.streams.iter().position(|s| s.ssrc == ssrc)
    }

    /// Renumbers and records a packet leaving at `now`; returns its wire size.
    fn release(&mut self, mut packet: TaggedPacket, now: Instant) -> usize {
        packet.now = now;
        if let Packet::Rtp(rtp) = &mut packet.message.packet {
            let ssrc = rtp.header.ssrc;
            if let Some(i) = self.stream_index(ssrc) {
                self.streams[i].on_media(rtp);
                self.pad_on = Some(i);
            } else if let Some(s) = self.streams.iter().find(|s| s.rtx_ssrc == Some(ssrc)) {
                s.on_rtx(rtp);
            }
            if let Some(probe) = &self.probe {
                self.mailbox
                    .record(ssrc, rtp.header.sequence_number, now, probe.info);
            }
        }
        let bytes = match &packet.message.packet {
            Packet::Rtp(rtp) => wire_size(rtp),
            _ => 0,
        };
        self.write_queue.push_back(packet);
        self.sent(now, bytes);
        bytes
    }

    /// Counts `bytes` released at `now` as in flight.
    fn sent(&mut self, now: Instant, bytes: usize) {
        self.in_flight += bytes as u64;
        self.unreported += bytes;
        self.last_release = Some(now);
    }

    /// The congestion window, once there is an RTT to size it by.
    pub fn congestion_window(&self) -> Option<DataSize> {
        let span = self.rtt.get()? + self.config.accepted_queue?;
        let bytes = (self.target.as_bps_f64() * span.as_secs_f64() / 8.0) as u64;
        Some(DataSize::from_bytes(bytes.max(MIN_CONGESTION_WINDOW_BYTES)))
    }

    /// Whether the bytes in flight fill the congestion window.
    fn window_full(&self) -> bool {
        self.congestion_window()
            .is_some_and(|w| self.in_flight >= w.bytes())
    }

    /// Reads the in-flight count and RTT from the mailbox; on news of feedback, updates the
    /// pushback and publishes it if it changed.
    fn refresh_flight(&mut self, now: Instant) {
        let feedback = self.mailbox.has_feedback_news();
        let (in_flight, rtt) = self.mailbox.in_flight();
        self.in_flight = in_flight;
        if let Some(rtt) = rtt {
            self.rtt.update(now, rtt);
        }
        if feedback && self.update_pushback() {
            self.publish(now, true);
        }
    }

    /// Scales the pushback ratio by how full the window is; returns whether the pushed-back
    /// target changed.
    fn update_pushback(&mut self) -> bool {
        let Some(window) = self.congestion_window() else {
            return false;
        };
        let fill = (self.in_flight + self.queued_bytes as u64) as f64 / window.bytes() as f64;
        self.pushback_ratio = if fill > 1.5 {
            self.pushback_ratio * 0.9
        } else if fill > 1.0 {
            self.pushback_ratio * 0.95
        } else if fill < 0.1 {
            1.0
        } else {
            (self.pushback_ratio * 1.05).min(1.0)
        };
        let before = self.stats.pushback_target;
        self.stats.pushback_target = (self.pushback_ratio < 1.0).then(|| {
            let pushed = self.target.mul_f64(self.pushback_ratio);
            if pushed < MIN_PUSHBACK_TARGET {
                self.target.min(MIN_PUSHBACK_TARGET)
            } else {
                pushed
            }
        });
        if self.stats.pushback_target == before {
            return false;
        }
        self.mailbox.set_pushback(self.stats.pushback_target);
        true
    }

    /// Hands the batch released at `now` to the mailbox.
    fn report_released(&mut self, now: Instant) {
        if self.unreported > 0 {
            self.mailbox.released(now, self.unreported);
            self.unreported = 0;
        }
    }

    /// Tracks the window's full spells for the stats, as of `now`.
    fn note_window(&mut self, now: Instant) {
        let full = self.window_full();
        if let Some(since) = self.full_accounted {
            let spell = now.saturating_duration_since(since);
            self.stats.congestion_window_full_time +=
                TimeDelta::try_from(spell).unwrap_or(TimeDelta::ZERO);
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

    /// Takes the oldest queued packet off the queue.
    fn pop_queued(&mut self) -> Option<TaggedPacket> {
        let q = self.queue.pop_front()?;
        self.queued_bytes -= q.bytes;
        self.stats.media_packets += 1;
        if let Some((ssrc, seq)) = q.resends
            && let Some(i) = self.stream_index(ssrc)
        {
            self.streams[i].retransmission_released(seq);
        }
        Some(q.packet)
    }

    /// For a retransmission on a bound stream: the stream's index and the application number
    /// it repeats.
    fn retransmission_of(&self, msg: &TaggedPacket) -> Option<(usize, u16)> {
        let Packet::Rtp(rtp) = &msg.message.packet else {
            return None;
        };
        let ssrc = rtp.header.ssrc;
        if let Some(i) = self.stream_index(ssrc) {
            if !msg.message.has(&Attribute::Retransmission) {
                return None;
            }
            return retransmitted_seq(rtp, false).map(|seq| (i, seq));
        }
        let i = self.streams.iter().position(|s| s.rtx_ssrc == Some(ssrc))?;
        retransmitted_seq(rtp, true).map(|seq| (i, seq))
    }

    /// Refills the retransmission budget to `now`: the target accrues, up to one window of it.
    fn refill_retransmit_budget(&mut self, now: Instant) {
        // The pushed-back target is what the sender may spend in all, repairs included.
        let rate = self
            .stats
            .pushback_target
            .map_or(self.target, |p| p.min(self.target))
            .as_bps_f64();
        let cap = (rate * RETRANSMIT_WINDOW.as_secs_f64()).max(RETRANSMIT_MIN_BUDGET_BYTES * 8.0);
        let budget = match self.retransmit_refilled {
            None => cap,
            Some(t) => {
                self.retransmit_budget + rate * now.saturating_duration_since(t).as_secs_f64()
            }
        };
        self.retransmit_budget = budget.min(cap);
        if self.retransmit_refilled.is_none_or(|t| now > t) {
            self.retransmit_refilled = Some(now);
        }
    }

    /// Whether a retransmission of `bytes` repeating `seq` on stream `i` may be queued at
    /// `now`; charges the budget when it may.
    fn admit_retransmission(&mut self, i: usize, seq: u16, bytes: usize, now: Instant) -> bool {
        self.refill_retransmit_budget(now);
        let bits = bytes as f64 * 8.0;
        let too_old = self.streams[i]
            .original_age(seq, now)
            .is_some_and(|age| age > self.config.max_retransmit_age);
        if too_old
            || !self.streams[i].retransmission_allowed(
                seq,
                now,
                self.config.min_retransmit_interval,
            )
            || self.retransmit_budget < bits
        {
            return false;
        }
        self.retransmit_budget -= bits;
        self.streams[i].retransmission_queued(seq, now);
        true
    }

    /// New media of `bytes` was queued at `now`: it takes its share of the budget first.
    fn charge_media(&mut self, bytes: usize, now: Instant) {
        self.refill_retransmit_budget(now);
        self.retransmit_budget = (self.retransmit_budget - bytes as f64 * 8.0).max(0.0);
    }

    /// Advances the media schedule by one packet of `bytes` sent at `now`.
    fn charge(&mut self, now: Instant, bytes: usize) {
        let rate = self.pacing_rate(now).bps().max(1);
        let floor = now.checked_sub(BURST).unwrap_or(now);
        let from = self.next_send.map_or(floor, |t| t.max(floor));
        self.next_send = Some(from + Duration::from_micros(bytes as u64 * 8_000_000 / rate));
    }

    /// Sends one packet of the active cluster if it is due; returns whether it did.
    fn probe_step(&mut self, now: Instant) -> bool {
        let Some(probe) = &self.probe else {
            return false;
        };
        if now < probe.next {
            return false;
        }
        let remaining = probe.info.min_bytes.bytes().saturating_sub(probe.bytes);
        let packets_left = u64::from(probe.info.min_probes.saturating_sub(probe.packets)).max(1);
        let bytes = if let Some(packet) = self.pop_queued() {
            self.release(packet, now)
        } else {
            // The bytes still owed spread over the packets still owed, in packets of 200 to
            // 1 050 bytes: at high rates big enough that their UDP/IP and SRTP overhead weighs
            // on the measured rate about as it does on media; at low rates small enough that
            // the cluster's five packets do not outlast its 15 ms by much.
            let size = ((remaining / packets_left) as usize).clamp(MAX_FILLER / 5, MAX_FILLER + 32);
            let padding = self.pad_on.and_then(|i| self.streams[i].padding(size));
            let Some(rtp) = padding else {
                self.probe = None;
                self.stats.clusters_skipped += 1;
                return true;
            };
            let packet = TaggedPacket {
                now,
                transport: Default::default(),
                message: rtc::interceptor::AttributedPacket::new(Packet::Rtp(rtp)),
            };
            let bytes = self.release_padding(packet, now);
            self.stats.padding_packets += 1;
            self.stats.padding_bytes += DataSize::from_bytes(bytes as u64);
            bytes
        };
        self.charge(now, bytes);
        let Some(probe) = &mut self.probe else {
            return true;
        };
        probe.bytes += bytes as u64;
        probe.packets += 1;
        let elapsed_us = probe.bytes * 8_000_000 / probe.rate.bps().max(1);
        probe.next = probe.started + Duration::from_micros(elapsed_us);
        if probe.bytes >= probe.info.min_bytes.bytes() && probe.packets >= probe.info.min_probes {
            self.probe = None;
            self.stats.clusters_sent += 1;
        }
        true
    }

    /// A padding packet leaves: already numbered, only recorded.
    fn release_padding(&mut self, packet: TaggedPacket, now: Instant) -> usize {
        if let (Packet::Rtp(rtp), Some(probe)) = (&packet.message.packet, &self.probe) {
            self.mailbox
                .record(rtp.header.ssrc, rtp.header.sequence_number, now, probe.info);
        }
        let bytes = match &packet.message.packet {
            Packet::Rtp(rtp) => wire_size(rtp),
            _ => 0,
        };
        self.write_queue.push_back(packet);
        self.sent(now, bytes);
        bytes
    }

    /// With the window full: abandons a cluster under way, and lets one queued packet through
    /// if nothing has left for the keep-alive interval.
    fn hold(&mut self, now: Instant) {
        if self.probe.take().is_some() {
            self.stats.clusters_interrupted += 1;
        }
        let quiet = self
            .last_release
            .is_none_or(|t| now.saturating_duration_since(t) >= KEEPALIVE_INTERVAL);
        if quiet && let Some(packet) = self.pop_queued() {
            let bytes = self.release(packet, now);
            self.charge(now, bytes);
            self.stats.keepalive_packets += 1;
        }
    }

    /// Releases everything due at `now`.
    fn process(&mut self, now: Instant) {
        self.refresh_flight(now);
        self.process_unwindowed(now);
        self.report_released(now);
        self.note_window(now);
    }

    fn process_unwindowed(&mut self, now: Instant) {
        // Bounded: every iteration sends a packet or stops; a cluster is finite.
        loop {
            if self.window_full() {
                self.note_window(now);
                self.hold(now);
                break;
            }
            if self.probe.is_none()
                && self.config.probing
                && self.mailbox.has_news()
                && let Some(cluster) = self.mailbox.take_cluster()
            {
                self.probe = Some(ActiveProbe {
                    info: ProbeInfo {
                        cluster_id: cluster.id,
                        min_probes: cluster.min_probes,
                        min_bytes: cluster.min_bytes,
                    },
                    rate: cluster.target.max(MIN_PACING_RATE),
                    started: now,
                    bytes: 0,
                    packets: 0,
                    next: now,
                });
            }
            if self.probe.is_some() {
                if self.probe_step(now) {
                    continue;
                }
                break;
            }
            if self.queue.is_empty() || self.next_send.is_some_and(|t| now < t) {
                break;
            }
            let Some(packet) = self.pop_queued() else {
                break;
            };
            let bytes = self.release(packet, now);
            self.charge(now, bytes);
        }
    }

    fn refresh_stats(&mut self, now: Instant) {
        self.stats.pacing_rate = Some(self.pacing_rate(now));
        let wait = self.queue.front().map_or(Duration::ZERO, |q| {
            now.saturating_duration_since(q.enqueued)
        });
        self.stats.queue_delay = TimeDelta::try_from(wait).ok();
        self.stats.queued_packets = self.queue.len() as u64;
        self.stats.queued_bytes = DataSize::from_bytes(self.queued_bytes as u64);
        self.stats.congestion_window = self.congestion_window();
        self.stats.in_flight = DataSize::from_bytes(self.in_flight);
        self.note_window(now);
    }

    fn publish(&mut self, now: Instant, force: bool) {
        let due = self
            .last_publish
            .is_none_or(|t| now.saturating_duration_since(t) >= self.config.publish_interval);
        if !(due || force) {
            return;
        }
        self.refresh_stats(now);
        self.last_publish = Some(now);
        tracing::debug!(
            target: "bwe::pacer",
            queued_packets = self.stats.queued_packets,
            queued_bytes = self.queued_bytes,
            queue_delay_ms = self.stats.queue_delay.map(|d| d.as_millis()),
            in_flight = self.in_flight,
            window = self.stats.congestion_window.map(|w| w.bytes()),
            pushback = ?self.stats.pushback_target,
            "pacer state"
        );
        if let Some(handle) = &self.handle {
            let stats = self.stats;
            handle.update(|s| s.pacer = Some(stats));
        }
    }

    fn translate_nacks(&mut self, packets: &mut [Box<dyn rtc::rtcp::Packet>]) {
        for packet in packets.iter_mut() {
            let Some(nack) = packet.as_any().downcast_ref::<TransportLayerNack>() else {
                continue;
            };
            let Some(stream) = self.streams.iter().find(|s| s.ssrc == nack.media_ssrc) else {
                continue;
            };
            if let Some(translated) = stream.translate_nack(nack) {
                *packet = Box::new(translated);
                self.stats.nacks_translated += 1;
            }
        }
    }
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for ProbingPacer {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = Error;
    type Time = Instant;

    fn handle_read(&mut self, mut msg: TaggedPacket) -> Result<(), Self::Error> {
        self.observe(msg.now);
        if let Some(Attribute::TargetBitrateChanged { bits_per_second }) =
            msg.message.get(&Attribute::TargetBitrateChanged {
                bits_per_second: 0.0,
            })
            && let Some(target) = Bitrate::try_from_bps_f64(*bits_per_second)
        {
            self.target = target;
        }
        if let Packet::Rtcp(packets) = &mut msg.message.packet {
            self.translate_nacks(packets);
        }
        if self.mailbox.has_feedback_news() {
            self.refresh_flight(msg.now);
            self.note_window(msg.now);
        }
        self.read_queue.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<Self::Rout> {
        self.read_queue.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        self.observe(msg.now);
        let Packet::Rtp(rtp) = &msg.message.packet else {
            self.write_queue.push_back(msg);
            return Ok(());
        };
        if !self.media_announced && self.stream_index(rtp.header.ssrc).is_some() {
            self.media_announced = true;
            self.mailbox.media_started(msg.now);
        }
        let bytes = wire_size(rtp);
        let now = msg.now;
        if self.queue.len() >= self.config.queue_limit {
            self.stats.dropped_packets += 1;
            self.publish(now, true);
            return Ok(());
        }
        let resends = self.retransmission_of(&msg);
        if let Some((i, seq)) = resends {
            if !self.admit_retransmission(i, seq, bytes, now) {
                self.stats.retransmissions_refused += 1;
                return Ok(());
            }
            self.stats.retransmissions += 1;
        } else {
            if let Some(i) = self.stream_index(rtp.header.ssrc) {
                self.streams[i].original_queued(rtp.header.sequence_number, now);
            }
            self.charge_media(bytes, now);
        }
        self.queued_bytes += bytes;
        self.queue.push_back(Queued {
            enqueued: now,
            packet: msg,
            bytes,
            resends: resends.map(|(i, seq)| (self.streams[i].ssrc, seq)),
        });
        Ok(())
    }

    fn poll_write(&mut self) -> Option<TaggedPacket> {
        self.write_queue.pop_front()
    }

    fn handle_timeout(&mut self, now: Instant) -> Result<(), Error> {
        self.observe(now);
        self.process(now);
        self.publish(now, false);
        Ok(())
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        let last = self.last_now?;
        if self.mailbox.has_feedback_news() {
            return Some(last);
        }
        if self.window_full() {
            // Only the keep-alive can send; nothing to do without a queue.
            let since = self.last_release.unwrap_or(last);
            return (!self.queue.is_empty()).then(|| (since + KEEPALIVE_INTERVAL).max(last));
        }
        let due = if let Some(probe) = &self.probe {
            Some(probe.next)
        } else if self.mailbox.has_news() {
            Some(last)
        } else if !self.queue.is_empty() {
            Some(self.next_send.unwrap_or(last))
        } else {
            None
        };
        due.map(|t| t.max(last))
    }
}

impl Interceptor for ProbingPacer {
    fn bind_local_stream(&mut self, info: &StreamInfo) {
        if self.stream_index(info.ssrc).is_none() {
            self.streams.push(PacedStream::new(info));
        }
    }

    fn unbind_local_stream(&mut self, info: &StreamInfo) {
        if let Some(i) = self.stream_index(info.ssrc) {
            self.streams.remove(i);
            self.pad_on = None;
        }
    }

    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}

    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}

/// The smallest round-trip time over the last 5–10 s: the minimum of the current 5 s bucket
/// and the one before it.
///
/// The window is sized by the path's round trip, not by the latest one: a round trip measured
/// through a standing queue includes that queue, and a window sized from it would grow with the
/// queue it is meant to bound (after a capacity drop, 300 ms of queue made the window admit
/// another 300 ms). libwebrtc takes the minimum of recent per-feedback maxima for the same
/// reason; two buckets keep this O(1) and let a lasting path change in after at most 10 s.
#[derive(Debug, Default, Clone, Copy)]
struct MinRtt {
    current: Option<Duration>,
    previous: Option<Duration>,
    bucket_start: Option<Instant>,
}

impl MinRtt {
    const BUCKET: Duration = Duration::from_secs(5);

    fn update(&mut self, now: Instant, rtt: Duration) {
        match self.bucket_start {
            Some(start) if now.saturating_duration_since(start) < Self::BUCKET => {}
            _ => {
                self.previous = self.current.take();
                self.bucket_start = Some(now);
            }
        }
        self.current = Some(self.current.map_or(rtt, |c| c.min(rtt)));
    }

    fn get(&self) -> Option<Duration> {
        match (self.current, self.previous) {
            (Some(c), Some(p)) => Some(c.min(p)),
            (c, p) => c.or(p),
        }
    }
}
