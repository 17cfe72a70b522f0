//! What a probe cluster's feedback says about capacity.
//!
//! A cluster was paced out at a known rate; the receiver reports when each packet arrived. If the
//! link had room, packets arrive as fast as they were sent; if the burst hit the bottleneck,
//! they arrive spread out at the bottleneck rate. So the estimate is the smaller of the send rate
//! and the receive rate, measured per cluster:
//!
//! - send rate = (bytes − last packet sent) / (last send − first send): the send interval ends
//!   when the last packet *starts* leaving, so its bytes are not part of it;
//! - receive rate = (bytes − first packet received) / (last arrival − first arrival): the receive
//!   interval starts when the first packet has *fully* arrived.
//!
//! A result is only given once 80 % of the cluster's packets and bytes are acknowledged, and is
//! rejected when either interval is not in `(0, 1 s]` or when packets seemingly arrived more than
//! twice as fast as they were sent (a compressed arrival burst, not a capacity). When the receive
//! rate is below 90 % of the send rate the burst found the bottleneck, and the result is 95 % of
//! the receive rate so the sender settles just under capacity rather than at it.
//!
//! Clusters live in a fixed table of [`ProbeResultEstimator::CLUSTER_SLOTS`] slots: no allocation
//! per packet. A cluster with no feedback for 1 s (on the local clock) is forgotten; when every
//! slot is live the one updated longest ago is replaced.
//!
//! Constants, from libwebrtc `modules/congestion_controller/goog_cc/probe_bitrate_estimator.cc`:
//! `kMinReceivedProbesRatio` 0.80, `kMinReceivedBytesRatio` 0.80, `kMaxValidRatio` 2.0,
//! `kMinRatioForUnsaturatedLink` 0.9, `kTargetUtilizationFraction` 0.95, `kMaxClusterHistory`
//! 1 s, `kMaxProbeInterval` 1 s.
//!
//! Difference from libwebrtc: clusters expire by the local time of their last feedback rather
//! than by the remote arrival time, so a remote clock jump cannot keep a stale cluster alive or
//! drop a live one; and the map becomes a fixed table.

use crate::feedback::PacketResult;
use crate::units::{Bitrate, DataSize, TimeDelta, Timestamp};

/// Share of a cluster's packets that must be acknowledged before it yields a result.
const MIN_RECEIVED_PROBES_RATIO: f64 = 0.80;
/// Share of a cluster's bytes that must be acknowledged before it yields a result.
const MIN_RECEIVED_BYTES_RATIO: f64 = 0.80;
/// Receive rate above this multiple of the send rate is not a believable measurement.
const MAX_VALID_RATIO: f64 = 2.0;
/// Receive rate below this fraction of the send rate means the link was saturated.
const MIN_RATIO_FOR_UNSATURATED_LINK: f64 = 0.9;
/// On a saturated link, the result is this fraction of the receive rate.
const TARGET_UTILIZATION_FRACTION: f64 = 0.95;
/// A cluster with no feedback for this long is forgotten.
const MAX_CLUSTER_HISTORY: TimeDelta = TimeDelta::from_secs(1);
/// Longest valid span between first and last packet, on either side.
const MAX_PROBE_INTERVAL: TimeDelta = TimeDelta::from_secs(1);

#[derive(Debug, Clone, Copy)]
struct Cluster {
    id: u32,
    first_send: Timestamp,
    last_send: Timestamp,
    first_receive: Timestamp,
    last_receive: Timestamp,
    size_last_send: DataSize,
    size_first_receive: DataSize,
    size_total: DataSize,
    packets: u32,
    updated_at: Timestamp,
}

impl Cluster {
    fn new(id: u32, send: Timestamp, receive: Timestamp, now: Timestamp) -> Self {
        Self {
            id,
            first_send: send,
            last_send: send,
            first_receive: receive,
            last_receive: receive,
            size_last_send: DataSize::ZERO,
            size_first_receive: DataSize::ZERO,
            size_total: DataSize::ZERO,
            packets: 0,
            updated_at: now,
        }
    }

    fn add(&mut self, send: Timestamp, receive: Timestamp, size: DataSize, now: Timestamp) {
        if self.packets == 0 {
            self.size_last_send = size;
            self.size_first_receive = size;
        }
        if send < self.first_send {
            self.first_send = send;
        }
        if send > self.last_send {
            self.last_send = send;
            self.size_last_send = size;
        }
        if receive < self.first_receive {
            self.first_receive = receive;
            self.size_first_receive = size;
        }
        if receive > self.last_receive {
            self.last_receive = receive;
        }
        self.size_total += size;
        self.packets = self.packets.saturating_add(1);
        self.updated_at = now;
    }

    fn expired(&self, now: Timestamp) -> bool {
        now - self.updated_at > MAX_CLUSTER_HISTORY
    }

    /// The cluster's capacity estimate, if its packets so far make a valid measurement.
    fn estimate(&self) -> Option<Bitrate> {
        measure_burst(
            self.last_send - self.first_send,
            self.last_receive - self.first_receive,
            self.size_total,
            self.size_first_receive,
            self.size_last_send,
        )
        .map(|m| m.bitrate)
    }
}

/// What a burst of packets measured (see the module docs for the arithmetic).
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct BurstMeasurement {
    /// The capacity the burst shows.
    pub(crate) bitrate: Bitrate,
    /// The rate it was sent at.
    pub(crate) send_rate: Bitrate,
    /// The rate it arrived at.
    pub(crate) receive_rate: Bitrate,
    /// Whether it arrived markedly slower than it was sent (it met the bottleneck).
    pub(crate) saturated: bool,
}

/// Measures a burst of `total` bytes sent over `send_span` and received over `receive_span`:
/// the send rate leaves out the last packet's bytes (`last`), the receive rate the first's
/// (`first`). `None` when either span is not in `(0, 1 s]`, a rate is zero, or the burst arrived
/// more than twice as fast as it was sent. Shared by the send side's cluster table and the
/// receive side's detector ([`super::receive_detector`]).
pub(crate) fn measure_burst(
    send_span: TimeDelta,
    receive_span: TimeDelta,
    total: DataSize,
    first: DataSize,
    last: DataSize,
) -> Option<BurstMeasurement> {
    let valid = |span: TimeDelta| span.is_positive() && span <= MAX_PROBE_INTERVAL;
    if !valid(send_span) || !valid(receive_span) {
        return None;
    }
    let send_rate = (total - last).rate_over(send_span)?;
    let receive_rate = (total - first).rate_over(receive_span)?;
    if send_rate == Bitrate::ZERO || receive_rate == Bitrate::ZERO {
        return None;
    }
    let ratio = receive_rate.as_bps_f64() / send_rate.as_bps_f64();
    if ratio > MAX_VALID_RATIO {
        return None;
    }
    let saturated = ratio < MIN_RATIO_FOR_UNSATURATED_LINK;
    let bitrate = if saturated {
        receive_rate.mul_f64(TARGET_UTILIZATION_FRACTION)
    } else {
        send_rate.min(receive_rate)
    };
    Some(BurstMeasurement {
        bitrate,
        send_rate,
        receive_rate,
        saturated,
    })
}

/// Turns probe-cluster feedback into capacity estimates (libwebrtc's `ProbeBitrateEstimator`).
#[derive(Debug, Clone)]
pub struct ProbeResultEstimator {
    clusters: [Option<Cluster>; Self::CLUSTER_SLOTS],
    pending: Option<Bitrate>,
    last: Option<Bitrate>,
}

impl Default for ProbeResultEstimator {
    fn default() -> Self {
        Self::new()
    }
}

impl ProbeResultEstimator {
    /// How many clusters are tracked at once. Clusters are sent at most two at a time and live
    /// about one RTT, so 16 leaves ample room.
    pub const CLUSTER_SLOTS: usize = 16;

    /// An estimator with no clusters.
    pub fn new() -> Self {
        Self {
            clusters: [None; Self::CLUSTER_SLOTS],
            pending: None,
            last: None,
        }
    }

    /// Adds one packet's feedback. Packets that are not probes or were not received are
    /// ignored. Returns the cluster's estimate when it is valid, which also becomes the value of
    /// [`fetch_and_reset_last_estimate`](Self::fetch_and_reset_last_estimate).
    pub fn on_probe_feedback(&mut self, now: Timestamp, result: &PacketResult) -> Option<Bitrate> {
        let info = result.sent.probe?;
        let receive = result.receive_time?;
        let send = result.sent.send_time;

        for slot in &mut self.clusters {
            if slot.is_some_and(|c| c.expired(now)) {
                *slot = None;
            }
        }
        let index = self.slot_for(info.cluster_id);
        let cluster = self.clusters[index]
            .get_or_insert_with(|| Cluster::new(info.cluster_id, send, receive, now));
        cluster.add(send, receive, result.sent.size, now);

        // Truncated as libwebrtc's integer conversion: 5 probes need 4 acknowledged.
        let min_packets = (f64::from(info.min_probes) * MIN_RECEIVED_PROBES_RATIO) as u32;
        let min_size =
            DataSize::from_bytes((info.min_bytes.as_bytes_f64() * MIN_RECEIVED_BYTES_RATIO) as u64);
        if cluster.packets < min_packets || cluster.size_total < min_size {
            return None;
        }
        let estimate = cluster.estimate()?;
        self.pending = Some(estimate);
        self.last = Some(estimate);
        Some(estimate)
    }

    /// The latest valid estimate since the previous call, then forgets it, so each probe
    /// result is acted on once.
    pub fn fetch_and_reset_last_estimate(&mut self) -> Option<Bitrate> {
        self.pending.take()
    }

    /// The latest valid estimate ever produced (not reset by fetching).
    pub fn last_estimate(&self) -> Option<Bitrate> {
        self.last
    }

    /// The slot holding `id`, else a free slot, else the slot updated longest ago.
    fn slot_for(&mut self, id: u32) -> usize {
        if let Some(i) = self
            .clusters
            .iter()
            .position(|c| c.is_some_and(|c| c.id == id))
        {
            return i;
        }
        if let Some(i) = self.clusters.iter().position(Option::is_none) {
            return i;
        }
        let oldest = self
            .clusters
            .iter()
            .enumerate()
            .min_by_key(|(_, c)| c.map(|c| c.updated_at))
            .map_or(0, |(i, _)| i);
        self.clusters[oldest] = None;
        oldest
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::feedback::{ProbeInfo, SentPacket};
    use proptest::prelude::*;

    fn us(v: i64) -> Timestamp {
        Timestamp::from_micros(v)
    }

    fn probe(cluster_id: u32, send_us: i64, recv_us: Option<i64>, bytes: u64) -> PacketResult {
        PacketResult {
            sent: SentPacket {
                sequence: 0,
                send_time: us(send_us),
                size: DataSize::from_bytes(bytes),
                probe: Some(ProbeInfo {
                    cluster_id,
                    min_probes: 5,
                    min_bytes: DataSize::from_bytes(5_000),
                }),
            },
            receive_time: recv_us.map(us),
        }
    }

    /// Feeds `n` 1250-byte packets sent every `send_gap` µs and received every `recv_gap` µs;
    /// returns the estimate after each.
    fn feed(
        e: &mut ProbeResultEstimator,
        id: u32,
        n: i64,
        send_gap: i64,
        recv_gap: i64,
    ) -> Vec<Option<Bitrate>> {
        (0..n)
            .map(|i| {
                let p = probe(id, i * send_gap, Some(50_000 + i * recv_gap), 1_250);
                e.on_probe_feedback(us(100_000 + i * 1_000), &p)
            })
            .collect()
    }

    fn assert_within(actual: Bitrate, lo: Bitrate, hi: Bitrate) {
        assert!(actual >= lo && actual <= hi, "{actual} not in [{lo}, {hi}]");
    }

    /// A handful of packets is noise; 80 % of the cluster (4 of 5 packets, 4000 of 5000 bytes)
    /// must be acknowledged first.
    #[test]
    fn probe_result_needs_enough_packets() {
        let mut e = ProbeResultEstimator::new();
        let results = feed(&mut e, 1, 5, 1_000, 1_000);
        assert_eq!(&results[..3], &[None, None, None]);
        assert!(results[3].is_some() && results[4].is_some());
        // Enough packets but too few bytes: 4 × 900 B < 4000 B.
        let mut e = ProbeResultEstimator::new();
        for i in 0..4 {
            let p = probe(2, i * 1_000, Some(i * 1_000), 900);
            assert_eq!(e.on_probe_feedback(us(0), &p), None);
        }
    }

    /// The burst can be no faster than it was sent nor than it arrived.
    #[test]
    fn probe_result_is_min_of_send_and_receive_rate() {
        // 1250 B every 1 ms = 10 Mbit/s sent; received every 1.05 ms ≈ 9.52 Mbit/s.
        let mut e = ProbeResultEstimator::new();
        let last = feed(&mut e, 1, 5, 1_000, 1_050)
            .pop()
            .flatten()
            .expect("valid");
        assert_within(
            last,
            Bitrate::from_bps(9_520_000),
            Bitrate::from_bps(9_530_000),
        );
        // Received faster (0.8 ms): the send rate, 10 Mbit/s, is the limit.
        let mut e = ProbeResultEstimator::new();
        let last = feed(&mut e, 1, 5, 1_000, 800)
            .pop()
            .flatten()
            .expect("valid");
        assert_within(
            last,
            Bitrate::from_bps(9_999_000),
            Bitrate::from_bps(10_000_000),
        );
    }

    /// A burst that arrived clearly slower than it was sent found the bottleneck: aim 5 % under.
    #[test]
    fn saturated_link_gives_ninety_five_percent_of_receive_rate() {
        // Received every 2 ms = 5 Mbit/s against 10 Mbit/s sent.
        let mut e = ProbeResultEstimator::new();
        let last = feed(&mut e, 1, 5, 1_000, 2_000)
            .pop()
            .flatten()
            .expect("valid");
        assert_within(
            last,
            Bitrate::from_bps(4_749_000),
            Bitrate::from_bps(4_751_000),
        );
    }

    /// Packets cannot really arrive more than twice as fast as they left; such a burst was
    /// compressed by queues upstream and measures nothing.
    #[test]
    fn receive_rate_over_twice_send_rate_is_rejected() {
        let mut e = ProbeResultEstimator::new();
        assert!(feed(&mut e, 1, 5, 1_000, 400).iter().all(Option::is_none));
        assert_eq!(e.fetch_and_reset_last_estimate(), None);
    }

    /// A cluster spread over more than a second is not a probe burst any more.
    #[test]
    fn intervals_longer_than_a_second_are_rejected() {
        let mut e = ProbeResultEstimator::new();
        assert!(
            feed(&mut e, 1, 5, 400_000, 1_000)
                .iter()
                .all(Option::is_none)
        );
        let mut e = ProbeResultEstimator::new();
        assert!(
            feed(&mut e, 1, 5, 1_000, 400_000)
                .iter()
                .all(Option::is_none)
        );
    }

    /// Each result is acted on once; lost and non-probe packets do not count.
    #[test]
    fn fetch_returns_each_result_once() {
        let mut e = ProbeResultEstimator::new();
        let lost = probe(1, 0, None, 1_250);
        assert_eq!(e.on_probe_feedback(us(0), &lost), None);
        let mut plain = probe(1, 0, Some(0), 1_250);
        plain.sent.probe = None;
        assert_eq!(e.on_probe_feedback(us(0), &plain), None);
        assert_eq!(e.fetch_and_reset_last_estimate(), None);
        feed(&mut e, 1, 5, 1_000, 1_000);
        let got = e.fetch_and_reset_last_estimate().expect("result");
        assert_within(
            got,
            Bitrate::from_bps(9_999_000),
            Bitrate::from_bps(10_000_000),
        );
        assert_eq!(e.fetch_and_reset_last_estimate(), None);
        assert_eq!(e.last_estimate(), Some(got));
    }

    /// Feedback arriving a second after the rest belongs to a stale measurement.
    #[test]
    fn clusters_expire_after_one_second() {
        let mut e = ProbeResultEstimator::new();
        for i in 0..3 {
            let p = probe(1, i * 1_000, Some(i * 1_000), 1_250);
            e.on_probe_feedback(us(0), &p);
        }
        // A packet of another cluster 1.1 s later evicts cluster 1 ...
        e.on_probe_feedback(us(1_100_000), &probe(2, 0, Some(0), 1_250));
        // ... so two more packets of cluster 1 are not enough on their own.
        for i in 3..5 {
            let p = probe(1, i * 1_000, Some(i * 1_000), 1_250);
            assert_eq!(e.on_probe_feedback(us(1_100_000), &p), None);
        }
    }

    /// More concurrent clusters than slots reuse the table instead of growing it.
    #[test]
    fn many_clusters_reuse_fixed_slots() {
        let mut e = ProbeResultEstimator::new();
        for id in 0..100 {
            let r = feed(&mut e, id, 5, 1_000, 1_000);
            assert!(r[4].is_some(), "cluster {id}");
        }
        assert_eq!(e.clusters.iter().filter(|c| c.is_some()).count(), 16);
    }

    proptest! {
        /// Arbitrary times (backwards, extreme) and sizes never panic, and any result is a
        /// positive rate.
        #[test]
        fn absurd_inputs_never_panic(
            packets in proptest::collection::vec(
                (0u32..4, any::<i64>(), any::<i64>(), any::<u64>(), any::<i64>(), any::<u32>()),
                1..100)
        ) {
            let mut e = ProbeResultEstimator::new();
            for (id, send, recv, size, now, min_probes) in packets {
                let mut p = probe(id, send, Some(recv), size);
                if let Some(info) = p.sent.probe.as_mut() {
                    info.min_probes = min_probes % 8;
                    info.min_bytes = DataSize::from_bytes(size % 10_000);
                }
                if let Some(rate) = e.on_probe_feedback(us(now), &p) {
                    prop_assert!(rate > Bitrate::ZERO);
                }
            }
            let _ = e.fetch_and_reset_last_estimate();
        }
    }
}
