//! The receive-side estimator: abs-send-time in, one REMB value out.
//!
//! One instance serves one sender (an SSRC group that shares a send clock, as abs-send-time is
//! stamped from the sender's single clock). Every media packet feeds the same delay path —
//! arrival groups, the delay filter (the trendline by default, the Kalman filter selectable), the
//! adaptive threshold and the over-use detector — and the incoming bitrate; AIMD turns the
//! detector's verdict into the estimate that a REMB carries.
//!
//! # Which filter
//!
//! libwebrtc's abs-send-time estimator runs the Kalman filter; this one defaults to the trendline
//! its send side runs, on the same arrival groups, because it measured better here: on RFC 8867
//! §5.1 in REMB mode with real PeerConnections, seeds 1–4, p95 queuing delay 43.3–47.8 ms with the
//! trendline against 47.0–55.0 ms with the Kalman filter (two seeds over the 50 ms floor), at
//! utilisation 88.6–90.4 % against 89.9–91.3 % and loss 0.53–0.60 % against 0.49–0.56 %. The Kalman filter also keeps reporting
//! under-use long after a standing queue has drained (its offset recovers at a gain of a few
//! percent per group while its noise estimate stays frozen outside Normal), which holds AIMD in
//! Hold: `tests/receive_side_frozen.rs` finds it standing still for 3.1 s after a 400 ms queue
//! drains, where the trendline's 20-group window has forgotten the drain. Select it with
//! `DelayDetectorConfig::kalman()`.
//!
//! Follows libwebrtc's `RemoteBitrateEstimatorAbsSendTime`
//! (`modules/remote_bitrate_estimator/remote_bitrate_estimator_abs_send_time.cc`): the estimate
//! is updated at once on over-use (when no valid estimate exists yet, or AIMD says it is time to
//! reduce further) and otherwise at most once per AIMD feedback interval. Deviations are listed
//! in `docs/algorithm.md`; the SSRC table has a fixed capacity.
//!
//! # Probes
//!
//! The sender's probe clusters are found from abs-send-time spacing
//! ([`crate::probe::ReceivedProbeDetector`]) and a cluster's measurement sets the estimate at once
//! when
//! - the delay detector does not report over-use, and
//! - the cluster was sent at least [`PROBE_MIN_SEND_RATIO`] × the incoming rate (a burst, not
//!   the stream's own pace), and
//! - it shows more than the estimate: anything more before the estimate is valid or within
//!   [`INITIAL_PROBING_INTERVAL`] of the first packet (the sender's start-up clusters; any
//!   measurement at all while there is no valid estimate), and at least [`PROBE_MIN_GAIN`] × the
//!   estimate afterwards.
//!
//! libwebrtc takes clusters only in the first 2 s (or before a valid estimate), so a REMB-only
//! sender's raise and ALR probes are lost on its receiver and the estimate climbs at 8 %/s. Taking
//! them at any time is what lets a REMB follow a raised link within a round trip. The gain
//! threshold keeps the sender's ordinary media out: an encoder frame paced at 2.5 × the target
//! into a full link arrives at the link's rate, 95 % of which is only about 1.1 × an estimate
//! just backed off to 0.85–0.9 × that rate, so a back-off is never undone by the next frame.
//!
//! Streams that send nothing for [`ReceiveSideConfig::stream_timeout`] are forgotten; when the
//! last one goes, the delay path and AIMD start afresh, because the next packet may come from a
//! different sender clock.

use crate::aimd::{AimdConfig, AimdRateControl};
use crate::delay::{DelayDetector, DelayDetectorConfig};
use crate::probe::{ReceivedProbe, ReceivedProbeDetector};
use crate::rate::IncomingBitrate;
use crate::rtp_ext::{AbsSendTime, AbsSendTimeUnwrapper};
use crate::units::{Bitrate, DataSize, TimeDelta, Timestamp};
use crate::usage::BandwidthUsage;

/// Clusters in this span after the first packet may set the estimate to anything above it
/// (`kInitialProbingIntervalMs` in libwebrtc `remote_bitrate_estimator_abs_send_time.cc`, 2 s).
pub const INITIAL_PROBING_INTERVAL: TimeDelta = TimeDelta::from_secs(2);
/// After the start-up interval a cluster's measurement must be at least this × the estimate
/// (the send side's threshold for capacity-probe results, `CAPACITY_PROBE_MIN_GAIN`).
pub const PROBE_MIN_GAIN: f64 = 1.2;
/// A cluster must have been sent at least this × the incoming rate to count as a probe.
pub const PROBE_MIN_SEND_RATIO: f64 = 1.3;

/// Window of the second incoming-rate measurement that over-use back-offs use (250 ms).
///
/// While the link is over-used it is saturated, so what arrives is its capacity, steadily; a
/// 1 s average still carries up to a second of the rate from before a capacity drop. On RFC 8867
/// §5.1's drop from 2.5 to 0.6 Mbit/s the 1 s rate took the estimate down in five steps over
/// 900 ms (2.2 → 1.67 → 1.34 → 1.03 → 0.71 → 0.49 Mbit/s) while the sender kept filling a
/// 300 ms queue; the smaller of the two rates reaches the link's rate within a few hundred
/// milliseconds. libwebrtc's receive side backs off from its single 1 s rate
/// (`kBitrateWindowMs`); its send side measures the acknowledged rate over 150 ms windows once
/// settled, for the same reason.
pub const OVERUSE_WINDOW: TimeDelta = TimeDelta::from_millis(250);

/// The most SSRCs one estimator tracks at once. A fixed table keeps the per-packet path free of
/// allocation; a sender with more simultaneous streams than this is not a WebRTC peer we know.
pub const MAX_SSRCS: usize = 16;

/// Settings for [`ReceiveSideEstimator`]. Defaults are libwebrtc's.
#[derive(Debug, Clone)]
pub struct ReceiveSideConfig {
    /// Lowest estimate ever reported.
    pub min: Bitrate,
    /// Highest estimate ever reported.
    pub max: Bitrate,
    /// Estimate before the first measurement. libwebrtc's REMB path starts from the incoming rate;
    /// this is the AIMD start value until then.
    pub start: Bitrate,
    /// The delay path (the trendline by default; see "Which filter" in the module docs).
    pub delay: DelayDetectorConfig,
    /// Window of the incoming-bitrate estimator (libwebrtc `kBitrateWindowMs` = 1 s,
    /// `remote_bitrate_estimator/include/bwe_defines.h`).
    pub incoming_window: TimeDelta,
    /// A stream with no packet for this long is removed (libwebrtc `kStreamTimeOutMs` = 2 s).
    pub stream_timeout: TimeDelta,
}

impl Default for ReceiveSideConfig {
    fn default() -> Self {
        Self {
            min: Bitrate::from_kbps(30),
            max: Bitrate::from_mbps(30),
            start: Bitrate::from_kbps(300),
            delay: DelayDetectorConfig::trendline(),
            incoming_window: IncomingBitrate::DEFAULT_WINDOW,
            stream_timeout: TimeDelta::from_secs(2),
        }
    }
}

/// One received media packet, as the receive-side estimator needs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PacketArrival {
    /// The packet's abs-send-time extension value.
    pub send_time: AbsSendTime,
    /// Size on the wire (RTP header + payload + padding).
    pub size: DataSize,
    /// The packet's SSRC.
    pub ssrc: u32,
}

/// What the receive-side estimator can say about itself.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub struct ReceiveSideStats {
    /// The current estimate, once there is one.
    pub estimate: Option<Bitrate>,
    /// The measured incoming bitrate.
    pub incoming_bitrate: Option<Bitrate>,
    /// The detector's current verdict.
    pub usage: Option<BandwidthUsage>,
    /// The delay filter's estimate, in ms: the trendline's slope × gain, or the Kalman filter's
    /// queue-delay offset.
    pub delay_estimate_ms: Option<f64>,
    /// The adaptive threshold γ, in ms.
    pub threshold_ms: Option<f64>,
    /// The link capacity estimate AIMD uses to decide between additive and multiplicative increase.
    pub link_capacity: Option<Bitrate>,
    /// Packets fed in.
    pub packets: u64,
    /// Packets skipped as out of order by the arrival grouping.
    pub reordered: u64,
    /// Times the delay path was reset (arrival-time jumps, stream timeouts).
    pub resets: u64,
    /// Streams currently live.
    pub live_streams: usize,
    /// Probe clusters whose measurement set the estimate.
    pub probe_results: u64,
    /// The latest such measurement.
    pub last_probe_result: Option<Bitrate>,
    /// Clusters found, taken or not.
    pub probe_clusters: u64,
    /// Clusters not taken because the delay detector reported over-use.
    pub clusters_during_overuse: u64,
    /// Clusters not taken because they were sent at under [`PROBE_MIN_SEND_RATIO`] × the
    /// incoming rate (the stream's own pace, not a burst).
    pub clusters_at_stream_pace: u64,
    /// Clusters not taken because they showed no more than the estimate (or, after the
    /// start-up, less than [`PROBE_MIN_GAIN`] × it).
    pub clusters_below_estimate: u64,
    /// The latest cluster found, taken or not.
    pub last_cluster: Option<ReceivedProbe>,
}

#[derive(Debug, Clone, Copy)]
struct Stream {
    ssrc: u32,
    last_seen: Timestamp,
}

/// Estimates the available bandwidth from the arrival pattern of received packets, for REMB.
#[derive(Debug)]
pub struct ReceiveSideEstimator {
    config: ReceiveSideConfig,
    unwrapper: AbsSendTimeUnwrapper,
    delay: DelayDetector,
    incoming: IncomingBitrate,
    /// The incoming rate over [`OVERUSE_WINDOW`], for back-offs.
    recent: IncomingBitrate,
    aimd: AimdRateControl,
    streams: [Option<Stream>; MAX_SSRCS],
    /// The slot of the stream last heard from.
    last_slot: usize,
    /// No stream can expire before this instant (it may be early, never late).
    next_expiry: Timestamp,
    last_update: Option<Timestamp>,
    /// [`Self::compute_feedback_interval`] for the current estimate, refreshed when it changes.
    feedback_interval: TimeDelta,
    last_now: Timestamp,
    last_incoming: Option<Bitrate>,
    has_estimate: bool,
    packets: u64,
    timeout_resets: u64,
    probes: ReceivedProbeDetector,
    first_packet: Option<Timestamp>,
    probe_results: u64,
    probe_clusters: u64,
    clusters_during_overuse: u64,
    clusters_at_stream_pace: u64,
    clusters_below_estimate: u64,
    last_cluster: Option<ReceivedProbe>,
    last_probe_result: Option<Bitrate>,
}

impl ReceiveSideEstimator {
    /// A fresh estimator with no streams.
    pub fn new(config: ReceiveSideConfig) -> Self {
        let aimd = AimdRateControl::new(Self::aimd_config(&config));
        Self {
            unwrapper: AbsSendTimeUnwrapper::new(),
            delay: DelayDetector::new(config.delay),
            incoming: IncomingBitrate::new(config.incoming_window),
            recent: IncomingBitrate::new(OVERUSE_WINDOW),
            aimd,
            streams: [None; MAX_SSRCS],
            last_slot: 0,
            next_expiry: Timestamp::MAX,
            last_update: None,
            feedback_interval: TimeDelta::from_secs(1),
            last_now: Timestamp::MIN,
            last_incoming: None,
            has_estimate: false,
            packets: 0,
            timeout_resets: 0,
            probes: ReceivedProbeDetector::new(),
            first_packet: None,
            probe_results: 0,
            probe_clusters: 0,
            clusters_during_overuse: 0,
            clusters_at_stream_pace: 0,
            clusters_below_estimate: 0,
            last_cluster: None,
            last_probe_result: None,
            config,
        }
    }

    fn aimd_config(config: &ReceiveSideConfig) -> AimdConfig {
        AimdConfig {
            min: config.min,
            max: config.max,
            start: config.start,
            ..AimdConfig::default()
        }
    }

    /// Feeds one received packet that arrived at `now` (local clock).
    pub fn on_packet(&mut self, now: Timestamp, packet: PacketArrival) {
        self.packets += 1;
        self.last_now = self.last_now.max(now);
        if now >= self.next_expiry {
            self.expire_streams(now);
        }
        self.touch_stream(now, packet.ssrc);

        let send_time = self.unwrapper.unwrap(packet.send_time);
        self.incoming.update(now, packet.size);
        self.recent.update(now, packet.size);
        let first = *self.first_packet.get_or_insert(now);
        if let Some(probe) = self.probes.on_packet(send_time, now, packet.size) {
            self.on_probe(now, first, probe);
        }
        let verdict = self.delay.on_packet(now, send_time, now, packet.size);

        // The incoming rate is only read when a decision needs it: measuring it on every packet
        // would cost as much as the rest of this path.
        // Measured at most once per packet, and only when a decision needs it.
        let mut incoming = None;
        let update = match verdict.unwrap_or(self.delay.usage()) {
            BandwidthUsage::Overusing => {
                incoming = Some(self.measure_overuse_incoming(now));
                match incoming.flatten() {
                    Some(rate) => {
                        !self.aimd.valid_estimate() || self.aimd.time_to_reduce_further(now, rate)
                    }
                    None => false,
                }
            }
            _ => match self.last_update {
                None => {
                    incoming = Some(self.measure_incoming(now));
                    incoming.flatten().is_some()
                }
                Some(last) => now - last >= self.feedback_interval,
            },
        };
        if update {
            let incoming = match incoming {
                Some(measured) => measured,
                None => self.measure_incoming(now),
            };
            self.aimd.update(now, self.delay.usage(), incoming);
            self.feedback_interval = self.compute_feedback_interval();
            self.last_update = Some(now);
            self.has_estimate = true;
        }
    }

    /// Takes a cluster's measurement if the rules in the module docs allow it.
    #[inline(never)]
    fn on_probe(&mut self, now: Timestamp, first: Timestamp, probe: ReceivedProbe) {
        self.probe_clusters += 1;
        self.last_cluster = Some(probe);
        if self.delay.usage() == BandwidthUsage::Overusing {
            self.clusters_during_overuse += 1;
            return;
        }
        if let Some(incoming) = self.measure_incoming(now)
            && probe.send_rate.as_bps_f64() < incoming.as_bps_f64() * PROBE_MIN_SEND_RATIO
        {
            self.clusters_at_stream_pace += 1;
            return;
        }
        let estimate = self.aimd.estimate();
        let initial = !self.valid_estimate() || now - first < INITIAL_PROBING_INTERVAL;
        let taken = if initial {
            probe.bitrate > estimate || !self.valid_estimate()
        } else {
            probe.bitrate.as_bps_f64() >= estimate.as_bps_f64() * PROBE_MIN_GAIN
        };
        if !taken {
            self.clusters_below_estimate += 1;
            return;
        }
        self.aimd.set_estimate(now, probe.bitrate);
        self.feedback_interval = self.compute_feedback_interval();
        self.last_update = Some(now);
        self.has_estimate = true;
        self.probe_results += 1;
        self.last_probe_result = Some(self.aimd.estimate());
    }

    /// The incoming rate a back-off is based on: the smaller of the 1 s rate and the rate over
    /// the last [`OVERUSE_WINDOW`]. See [`OVERUSE_WINDOW`] for why.
    fn measure_overuse_incoming(&mut self, now: Timestamp) -> Option<Bitrate> {
        let long = self.measure_incoming(now);
        match (long, self.recent.rate(now)) {
            (Some(long), Some(recent)) => Some(long.min(recent)),
            (long, recent) => long.or(recent),
        }
    }

    fn measure_incoming(&mut self, now: Timestamp) -> Option<Bitrate> {
        self.last_incoming = self.incoming.rate(now);
        self.last_incoming
    }

    /// How often the estimate is refreshed while not over-using: libwebrtc's REMB feedback
    /// interval, 5 % of the estimate in 80-byte RTCP packets, clamped to [200 ms, 1 s].
    fn compute_feedback_interval(&self) -> TimeDelta {
        const RTCP_SIZE_BITS: f64 = 80.0 * 8.0;
        let rtcp_rate = self.aimd.estimate().as_bps_f64() * 0.05;
        let interval_ms = if rtcp_rate > 0.0 {
            (RTCP_SIZE_BITS / rtcp_rate * 1000.0).clamp(200.0, 1000.0)
        } else {
            1000.0
        };
        TimeDelta::from_millis(interval_ms as i64)
    }

    /// Tells the estimator the round-trip time, which sets AIMD's response time.
    pub fn on_rtt(&mut self, rtt: TimeDelta) {
        self.aimd.set_rtt(rtt);
    }

    /// Changes the bounds of the estimate.
    pub fn set_min_max(&mut self, min: Bitrate, max: Bitrate) {
        self.config.min = min;
        self.config.max = max;
        self.aimd.set_min_max(min, max);
        self.feedback_interval = self.compute_feedback_interval();
    }

    /// The current estimate, once the first measurement has produced one.
    pub fn estimate(&self) -> Option<Bitrate> {
        self.has_estimate.then(|| self.aimd.estimate())
    }

    /// Whether AIMD's estimate rests on a measurement (the first over-use, or the incoming rate
    /// adopted after its initialisation time) rather than on the configured start rate.
    /// libwebrtc sends no REMB before this (`RemoteBitrateEstimatorAbsSendTime` checks
    /// `ValidEstimate()`).
    pub fn valid_estimate(&self) -> bool {
        self.has_estimate && self.aimd.valid_estimate()
    }

    /// The SSRCs currently live, for the REMB's SSRC list.
    pub fn ssrcs(&self) -> impl Iterator<Item = u32> + '_ {
        self.streams.iter().flatten().map(|s| s.ssrc)
    }

    /// The next instant at which a stream would time out, if any is live.
    pub fn poll_timeout(&self) -> Option<Timestamp> {
        self.streams
            .iter()
            .flatten()
            .map(|s| s.last_seen + self.config.stream_timeout)
            .min()
            .map(|t| t.max(self.last_now + TimeDelta::from_micros(1)))
    }

    /// Expires silent streams at `now`.
    pub fn handle_timeout(&mut self, now: Timestamp) {
        self.last_now = self.last_now.max(now);
        self.expire_streams(now);
    }

    /// How many probe clusters have set the estimate: a change says a REMB is worth sending
    /// now.
    pub fn probe_results(&self) -> u64 {
        self.probe_results
    }

    /// Current figures.
    pub fn stats(&self) -> ReceiveSideStats {
        let delay = self.delay.stats();
        ReceiveSideStats {
            estimate: self.estimate(),
            incoming_bitrate: self.last_incoming,
            usage: Some(self.delay.usage()),
            delay_estimate_ms: delay.filter_estimate_ms,
            threshold_ms: Some(delay.threshold_ms),
            link_capacity: self.aimd.link_capacity(),
            packets: self.packets,
            reordered: delay.groups.reordered,
            resets: delay.groups.resets + self.timeout_resets,
            live_streams: self.streams.iter().flatten().count(),
            probe_results: self.probe_results,
            last_probe_result: self.last_probe_result,
            probe_clusters: self.probe_clusters,
            clusters_during_overuse: self.clusters_during_overuse,
            clusters_at_stream_pace: self.clusters_at_stream_pace,
            clusters_below_estimate: self.clusters_below_estimate,
            last_cluster: self.last_cluster,
        }
    }

    fn touch_stream(&mut self, now: Timestamp, ssrc: u32) {
        // Most packets come from the stream of the packet before: look there first.
        let slot = match self.streams[self.last_slot] {
            Some(s) if s.ssrc == ssrc => Some(self.last_slot),
            _ => self
                .streams
                .iter()
                .position(|s| s.is_some_and(|s| s.ssrc == ssrc)),
        };
        if let Some(i) = slot {
            if let Some(s) = &mut self.streams[i] {
                s.last_seen = s.last_seen.max(now);
            }
            self.last_slot = i;
            return;
        }
        let slot = match self.streams.iter().position(Option::is_none) {
            Some(free) => free,
            // Table full: the stream heard from longest ago makes room.
            None => self
                .streams
                .iter()
                .enumerate()
                .min_by_key(|(_, s)| s.map(|s| s.last_seen))
                .map(|(i, _)| i)
                .unwrap_or(0),
        };
        self.streams[slot] = Some(Stream {
            ssrc,
            last_seen: now,
        });
        self.last_slot = slot;
        self.next_expiry = self.next_expiry.min(now + self.config.stream_timeout);
    }

    /// Removes the streams silent for the timeout and works out when the next one could expire.
    fn expire_streams(&mut self, now: Timestamp) {
        let timeout = self.config.stream_timeout;
        let mut any_live = false;
        let mut any_expired = false;
        let mut next = Timestamp::MAX;
        for slot in &mut self.streams {
            if let Some(s) = slot {
                if now - s.last_seen >= timeout {
                    *slot = None;
                    any_expired = true;
                } else {
                    any_live = true;
                    next = next.min(s.last_seen + timeout);
                }
            }
        }
        self.next_expiry = next;
        if any_expired && !any_live {
            self.reset();
        }
    }

    /// Everything but the configuration starts afresh.
    fn reset(&mut self) {
        self.timeout_resets += 1;
        self.unwrapper.reset();
        self.delay.reset();
        self.incoming.reset();
        self.recent.reset();
        self.aimd = AimdRateControl::new(Self::aimd_config(&self.config));
        self.last_update = None;
        self.feedback_interval = TimeDelta::from_secs(1);
        self.last_incoming = None;
        self.has_estimate = false;
        self.probes.reset();
        self.first_packet = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn packet(send_ms: i64, ssrc: u32) -> PacketArrival {
        PacketArrival {
            send_time: AbsSendTime::from_timestamp(Timestamp::from_millis(send_ms)),
            size: DataSize::from_bytes(1200),
            ssrc,
        }
    }

    /// Feeds a 960 kbit/s stream (1200 B every 10 ms) on `ssrcs` from `from` to `to` ms.
    fn feed(est: &mut ReceiveSideEstimator, from: i64, to: i64, ssrcs: &[u32]) {
        for (i, t) in (from..to).step_by(10).enumerate() {
            let ssrc = ssrcs[i % ssrcs.len()];
            est.on_packet(Timestamp::from_millis(t + 40), packet(t, ssrc));
        }
    }

    /// Every cluster found is either taken or counted under the reason it was not: a burst
    /// at four times the stream's pace that arrived as fast is taken; the stream's own packets
    /// never form a taken cluster.
    #[test]
    fn clusters_are_taken_or_counted_under_their_reason() {
        let mut est = ReceiveSideEstimator::new(ReceiveSideConfig::default());
        feed(&mut est, 0, 5_000, &[11]);
        let before = est.stats();
        assert_eq!(before.probe_results, 0, "a steady stream is no probe");
        // Six 1 200-byte packets 2.5 ms apart (3.84 Mbit/s), arriving as sent.
        for i in 0..6 {
            let t = 5_000 * 1_000 + i * 2_500;
            est.on_packet(
                Timestamp::from_micros(t + 40_000),
                PacketArrival {
                    send_time: AbsSendTime::from_timestamp(Timestamp::from_micros(t)),
                    size: DataSize::from_bytes(1200),
                    ssrc: 11,
                },
            );
        }
        feed(&mut est, 5_020, 6_000, &[11]);
        let s = est.stats();
        assert_eq!(s.probe_results, 1, "{s:?}");
        let taken = s.last_probe_result.expect("taken");
        assert!(taken >= Bitrate::from_kbps(3_000), "{taken}");
        assert_eq!(
            s.probe_clusters,
            s.probe_results
                + s.clusters_during_overuse
                + s.clusters_at_stream_pace
                + s.clusters_below_estimate,
            "{s:?}"
        );
        assert!(s.last_cluster.is_some());
    }

    /// No REMB may be sent before there is a measurement behind it.
    #[test]
    fn no_estimate_before_the_first_measurement() {
        let est = ReceiveSideEstimator::new(ReceiveSideConfig::default());
        assert_eq!(est.estimate(), None);
        assert_eq!(est.poll_timeout(), None);
    }

    /// A steady stream yields an estimate, and every SSRC it arrived on is listed for the REMB.
    #[test]
    fn steady_stream_gives_an_estimate_listing_every_ssrc() {
        let mut est = ReceiveSideEstimator::new(ReceiveSideConfig::default());
        feed(&mut est, 0, 3_000, &[11, 22]);
        let e = est
            .estimate()
            .expect("three seconds of traffic give an estimate");
        assert!(
            e >= Bitrate::from_kbps(250) && e <= Bitrate::from_kbps(1500),
            "{e}"
        );
        let mut ssrcs: Vec<u32> = est.ssrcs().collect();
        ssrcs.sort();
        assert_eq!(ssrcs, vec![11, 22]);
    }

    /// A stream silent for 2 s leaves the REMB's SSRC list while the others stay.
    #[test]
    fn stream_silent_for_two_seconds_is_removed() {
        let mut est = ReceiveSideEstimator::new(ReceiveSideConfig::default());
        feed(&mut est, 0, 1_000, &[11, 22]);
        feed(&mut est, 1_000, 3_100, &[11]);
        assert_eq!(est.ssrcs().collect::<Vec<_>>(), vec![11]);
        assert_eq!(est.stats().live_streams, 1);
    }

    /// When every stream has gone, the next sender may use another clock: start afresh.
    #[test]
    fn all_streams_timing_out_resets_the_estimate() {
        let mut est = ReceiveSideEstimator::new(ReceiveSideConfig::default());
        feed(&mut est, 0, 3_000, &[11]);
        assert!(est.estimate().is_some());
        let deadline = est.poll_timeout().expect("a live stream has a timeout");
        assert_eq!(
            deadline,
            Timestamp::from_millis(2_990 + 40) + TimeDelta::from_secs(2)
        );
        est.handle_timeout(deadline);
        assert_eq!(est.estimate(), None);
        assert_eq!(est.ssrcs().count(), 0);
        assert_eq!(est.stats().resets, 1);
    }

    /// More SSRCs than the table holds: the longest-silent one makes room, nothing panics.
    #[test]
    fn full_ssrc_table_evicts_the_longest_silent_stream() {
        let mut est = ReceiveSideEstimator::new(ReceiveSideConfig::default());
        for ssrc in 0..(MAX_SSRCS as u32 + 1) {
            est.on_packet(
                Timestamp::from_millis(i64::from(ssrc)),
                packet(i64::from(ssrc), ssrc),
            );
        }
        let ssrcs: Vec<u32> = est.ssrcs().collect();
        assert_eq!(ssrcs.len(), MAX_SSRCS);
        assert!(
            !ssrcs.contains(&0),
            "the oldest stream should have been evicted"
        );
        assert!(ssrcs.contains(&(MAX_SSRCS as u32)));
    }

    /// Arrivals that spread out (a growing queue) must pull the estimate below the incoming rate.
    #[test]
    fn growing_queue_brings_the_estimate_below_the_incoming_rate() {
        let mut est = ReceiveSideEstimator::new(ReceiveSideConfig::default());
        feed(&mut est, 0, 8_000, &[1]);
        let before = est.estimate().expect("estimate after 8 s");
        // Sent every 10 ms, delivered every 12 ms: the path carries 800 kbit/s.
        for i in 0..300i64 {
            let send = 8_000 + i * 10;
            est.on_packet(Timestamp::from_millis(8_040 + i * 12), packet(send, 1));
        }
        let after = est.estimate().expect("still an estimate");
        assert!(after < before, "{after} should be below {before}");
        assert!(
            after <= Bitrate::from_kbps(800) && after >= Bitrate::from_kbps(400),
            "{after}"
        );
        assert_eq!(est.stats().usage, Some(BandwidthUsage::Overusing));
    }
}
