//! Probe clusters seen from the receiving end: bursts found by their abs-send-time spacing.
//!
//! A receive-side (REMB) estimator is not told which packets were probes. What it can see is a
//! run of packets whose send times are evenly spaced, closer together than the rest of the
//! stream, and how that run arrived: if the link had room, as fast as it was sent; if it met the
//! bottleneck, spread out at the bottleneck's rate. libwebrtc's
//! `RemoteBitrateEstimatorAbsSendTime` finds the sender's start-up clusters that way; this
//! detector does the same on every packet, and [`crate::receive_side`] decides which results it
//! takes.
//!
//! A pacer spaces the packets of a cluster by their sizes: packet *k* leaves when the bytes before
//! it, at the cluster's rate, have had time to leave. So within a cluster each packet's
//! *instantaneous send rate* — the previous packet's size over the send delta — is the cluster's
//! rate, whatever the sizes (a cluster mixes full-size media with small padding). A run:
//! - continues while each instantaneous send rate is within ±[`RATE_TOLERANCE`] of the run's
//!   rate so far (bytes but the last over the send span); the first packet that is not ends it,
//!   and the delta that broke it (from the run's last packet to this one) starts the next run,
//!   as in libwebrtc;
//! - yields a result when it ends with at least [`MIN_CLUSTER_DELTAS`] deltas, more than half of
//!   them with both send and arrival deltas positive, packets of at least
//!   [`MIN_PROBE_PACKET_SIZE`] on average (a run of audio packets says little about the link),
//!   spanning at most 1 s on either clock.
//!
//! The rates and the result follow the send side's probe arithmetic
//! ([`super::result_estimator`]): send rate = bytes except the last packet's over the send span,
//! receive rate = bytes except the first packet's over the arrival span; a run that arrived more
//! than twice as fast as it was sent is no measurement; a receive rate under 90 % of the send rate
//! means the burst met the bottleneck and the result is 95 % of the receive rate; otherwise the
//! result is the smaller of the two.
//!
//! Constants from libwebrtc `modules/remote_bitrate_estimator/
//! remote_bitrate_estimator_abs_send_time.cc` (`kMinClusterSize` 4, `kMinProbePacketSize` 200
//! bytes, the ±2.5 ms cluster bound) and `modules/congestion_controller/goog_cc/
//! probe_bitrate_estimator.cc` (the ratios above). Deviations: libwebrtc keeps the last 15
//! candidates of at least 200 bytes and re-clusters all of them on every candidate, in whole
//! milliseconds, grouping by a ±2.5 ms bound on the send delta, and accepts a cluster only if its
//! mean arrival delta is within 2 ms above and 5 ms below its mean send delta. Here the run is
//! followed incrementally in microseconds (O(1) per packet, no buffer); runs are grouped by rate,
//! not by delta, because a delta bound splits every cluster that mixes packet sizes (a 1 200-byte
//! media packet and a 200-byte padding packet at 1.35 Mbit/s are 7.1 ms and 1.2 ms apart), which
//! is how this crate's pacer fills a cluster when media is queued; and a run that met the
//! bottleneck is measured as the send side measures it rather than discarded, because a fixed
//! 2 ms bound rejects every full-size-packet cluster sent faster than about 1.5 × the link
//! (1 200 bytes: 4.8 ms per packet at 2 Mbit/s, 9.6 ms at 1 Mbit/s).

use super::result_estimator::measure_burst;
use crate::units::{Bitrate, DataSize, TimeDelta, Timestamp};

/// A run's packets must be at least this large on average (`kMinProbePacketSize`, 200 bytes).
pub const MIN_PROBE_PACKET_SIZE: DataSize = DataSize::from_bytes(200);
/// A run needs at least this many deltas, i.e. one more packet (`kMinClusterSize`).
pub const MIN_CLUSTER_DELTAS: u32 = 4;
/// How far a packet's instantaneous send rate may stray from the run's rate and still belong
/// to it, as a fraction (±25 %).
pub const RATE_TOLERANCE: f64 = 0.25;
/// What a finished run measured.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ReceivedProbe {
    /// The capacity the run shows (see the module docs).
    pub bitrate: Bitrate,
    /// The rate it was sent at.
    pub send_rate: Bitrate,
    /// The rate it arrived at.
    pub receive_rate: Bitrate,
    /// Packets in the run.
    pub packets: u32,
    /// Whether it arrived markedly slower than it was sent (it met the bottleneck).
    pub saturated: bool,
}

#[derive(Debug, Clone, Copy)]
struct Run {
    first_send: Timestamp,
    first_arrival: Timestamp,
    last_send: Timestamp,
    last_arrival: Timestamp,
    first_size: DataSize,
    last_size: DataSize,
    total: DataSize,
    deltas: u32,
    positive_deltas: u32,
}

impl Run {
    fn start(send: Timestamp, arrival: Timestamp, size: DataSize) -> Self {
        Self {
            first_send: send,
            first_arrival: arrival,
            last_send: send,
            last_arrival: arrival,
            first_size: size,
            last_size: size,
            total: size,
            deltas: 0,
            positive_deltas: 0,
        }
    }

    /// Whether a packet sent `send_delta` after the last one belongs to this run: the last
    /// packet's size over that delta is the run's rate, within the tolerance.
    fn accepts(&self, send_delta: TimeDelta) -> bool {
        if !send_delta.is_positive() {
            return false;
        }
        if self.deltas == 0 {
            return true;
        }
        let span = (self.last_send - self.first_send).as_micros() as f64;
        let run_bytes = (self.total - self.last_size).as_bytes_f64();
        let own = self.last_size.as_bytes_f64() * span;
        let expected = run_bytes * send_delta.as_micros() as f64;
        // own / delta vs run_bytes / span, without a division.
        (own - expected).abs() <= RATE_TOLERANCE * expected
    }

    fn push(&mut self, send: Timestamp, arrival: Timestamp, size: DataSize) {
        if send > self.last_send && arrival > self.last_arrival {
            self.positive_deltas += 1;
        }
        self.deltas += 1;
        self.last_send = send;
        self.last_arrival = arrival.max(self.last_arrival);
        self.last_size = size;
        self.total += size;
    }

    fn measure(&self) -> Option<ReceivedProbe> {
        if self.deltas < MIN_CLUSTER_DELTAS
            || self.positive_deltas * 2 <= self.deltas
            || self.total.bytes() < MIN_PROBE_PACKET_SIZE.bytes() * u64::from(self.deltas + 1)
        {
            return None;
        }
        // The send side's arithmetic. For a run of mixed sizes the two rates leave out
        // different packets' bytes; the error is on the safe side: a run that starts with a large
        // packet and ends with small ones reads as slowed by the link even when it was not (its
        // result is then too low, not too high), while comparing spans instead reads a run that
        // *was* slowed as unhindered and took 876 kbit/s through a 600 kbit/s link (RFC 8867
        // §5.1 at 65 s).
        let m = measure_burst(
            self.last_send - self.first_send,
            self.last_arrival - self.first_arrival,
            self.total,
            self.first_size,
            self.last_size,
        )?;
        Some(ReceivedProbe {
            bitrate: m.bitrate,
            send_rate: m.send_rate,
            receive_rate: m.receive_rate,
            packets: self.deltas + 1,
            saturated: m.saturated,
        })
    }
}

/// Finds evenly spaced bursts in a received stream; see the module docs.
#[derive(Debug, Clone, Default)]
pub struct ReceivedProbeDetector {
    run: Option<Run>,
}

impl ReceivedProbeDetector {
    /// A detector with no history.
    pub fn new() -> Self {
        Self::default()
    }

    /// Offers one received packet: its send time (sender clock, unwrapped), arrival time
    /// (receiver clock) and size. Returns the measurement of the run this packet ended, if that
    /// run was a cluster.
    #[inline]
    pub fn on_packet(
        &mut self,
        send_time: Timestamp,
        arrival: Timestamp,
        size: DataSize,
    ) -> Option<ReceivedProbe> {
        let Some(run) = &mut self.run else {
            self.run = Some(Run::start(send_time, arrival, size));
            return None;
        };
        let send_delta = send_time - run.last_send;
        if run.accepts(send_delta) {
            run.push(send_time, arrival, size);
            return None;
        }
        Self::restart(run, send_time, arrival, size)
    }

    /// Ends `run`, starts the next one from its last packet to this one (or from this one alone
    /// if it was sent before the last), and returns the ended run's measurement.
    #[inline(never)]
    fn restart(
        run: &mut Run,
        send_time: Timestamp,
        arrival: Timestamp,
        size: DataSize,
    ) -> Option<ReceivedProbe> {
        let ended = run.measure();
        if send_time > run.last_send {
            *run = Run::start(run.last_send, run.last_arrival, run.last_size);
            run.push(send_time, arrival, size);
        } else {
            *run = Run::start(send_time, arrival, size);
        }
        ended
    }

    /// Forgets the current run (a new sender clock).
    pub fn reset(&mut self) {
        self.run = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A pacer's cluster of mixed sizes (media, then padding) is one run at the cluster's rate.
    #[test]
    fn a_cluster_of_mixed_sizes_is_one_run() {
        let mut d = ReceivedProbeDetector::new();
        // 1.2 Mbit/s = 150 bytes per ms: each packet leaves (previous size / 150) ms after it.
        let sizes = [1_200u64, 1_200, 300, 300, 300, 300];
        let (mut send, mut out) = (0i64, None);
        for (i, &size) in sizes.iter().enumerate() {
            if i > 0 {
                send += (sizes[i - 1] * 1_000 / 150) as i64;
            }
            out = out.or(d.on_packet(us(send), us(send + 30_000), DataSize::from_bytes(size)));
        }
        assert_eq!(out, None, "still running");
        let p = d
            .on_packet(
                us(send + 40_000),
                us(send + 70_000),
                DataSize::from_bytes(1_000),
            )
            .expect("ended");
        assert_eq!(p.packets, 6);
        // The receive rate leaves out the first (large) packet, the send rate the last (small)
        // one: 2 400 bytes against 3 300 over the same 22 ms, read as slowed by the link. The
        // result errs low (0.95 × 873 kbit/s), never high.
        let kbps = p.bitrate.as_kbps_f64();
        assert!((820.0..=840.0).contains(&kbps), "{kbps}");
        assert!(p.saturated);
    }

    /// A run of mixed sizes that the link did slow is measured at the link's rate, never at
    /// the rate it was sent at.
    #[test]
    fn a_slowed_run_of_mixed_sizes_is_measured_at_the_link_rate() {
        let mut d = ReceivedProbeDetector::new();
        // Sent at 876 kbit/s (109.5 bytes per ms), through a 600 kbit/s link (75 bytes per ms)
        // with a queue: each arrives its own size / 75 ms after the previous one.
        let sizes = [1_200u64, 300, 300, 300, 300];
        let (mut send, mut arrival, mut out) = (0.0f64, 30_000.0f64, None);
        for (i, &size) in sizes.iter().enumerate() {
            if i > 0 {
                send += sizes[i - 1] as f64 * 1_000.0 / 109.5;
                arrival += size as f64 * 1_000.0 / 75.0;
            }
            out = out.or(d.on_packet(
                us(send as i64),
                us(arrival as i64),
                DataSize::from_bytes(size),
            ));
        }
        let p = out
            .or(d.on_packet(us(200_000), us(260_000), DataSize::from_bytes(1_000)))
            .expect("ended");
        let kbps = p.bitrate.as_kbps_f64();
        assert!((560.0..=580.0).contains(&kbps), "{kbps}");
    }

    fn us(v: i64) -> Timestamp {
        Timestamp::from_micros(v)
    }

    /// Feeds `n` packets of `size` bytes sent `send_gap` µs apart, each arriving after the
    /// previous one by `arrival_gap` µs (and 30 ms after it was sent for the first), then one
    /// packet 40 ms later that ends the run.
    fn burst(
        d: &mut ReceivedProbeDetector,
        start: i64,
        n: i64,
        size: u64,
        send_gap: i64,
        arrival_gap: i64,
    ) -> Option<ReceivedProbe> {
        let mut out = None;
        for i in 0..n {
            let r = d.on_packet(
                us(start + i * send_gap),
                us(start + 30_000 + i * arrival_gap),
                DataSize::from_bytes(size),
            );
            out = out.or(r);
        }
        let end = start + n * send_gap + 40_000;
        out.or(d.on_packet(us(end), us(end + 30_000), DataSize::from_bytes(size)))
    }

    /// A run that arrives as it was sent measures its send rate.
    #[test]
    fn an_unsaturated_run_measures_its_send_rate() {
        let mut d = ReceivedProbeDetector::new();
        // 1 000 bytes every 4 ms = 2 Mbit/s.
        let p = burst(&mut d, 0, 8, 1_000, 4_000, 4_000).expect("a cluster");
        assert_eq!(p.packets, 8);
        assert!(!p.saturated);
        let kbps = p.bitrate.as_kbps_f64();
        assert!((1_990.0..=2_010.0).contains(&kbps), "{kbps}");
    }

    /// A run that met a 1 Mbit/s bottleneck is measured at 95 % of what got through.
    #[test]
    fn a_saturated_run_measures_the_bottleneck() {
        let mut d = ReceivedProbeDetector::new();
        // Sent at 2 Mbit/s, drained at 1 Mbit/s (8 ms per 1 000 bytes).
        let p = burst(&mut d, 0, 8, 1_000, 4_000, 8_000).expect("a cluster");
        assert!(p.saturated);
        let kbps = p.bitrate.as_kbps_f64();
        assert!((940.0..=960.0).contains(&kbps), "{kbps}");
    }

    /// Too few packets, small packets, or a compressed arrival give nothing.
    #[test]
    fn short_small_or_compressed_runs_give_nothing() {
        let mut d = ReceivedProbeDetector::new();
        assert_eq!(burst(&mut d, 0, 4, 1_000, 4_000, 4_000), None, "3 deltas");
        let mut d = ReceivedProbeDetector::new();
        assert_eq!(burst(&mut d, 0, 10, 150, 1_000, 1_000), None, "small");
        let mut d = ReceivedProbeDetector::new();
        assert_eq!(burst(&mut d, 0, 10, 1_000, 4_000, 1_000), None, "4× faster");
    }

    /// A change of rate splits runs: a video frame's packets followed by a gap are not one run
    /// with the next frame.
    #[test]
    fn a_spacing_change_ends_the_run() {
        let mut d = ReceivedProbeDetector::new();
        for i in 0..6 {
            assert_eq!(
                d.on_packet(
                    us(i * 2_000),
                    us(30_000 + i * 2_000),
                    DataSize::from_bytes(900)
                ),
                None
            );
        }
        // 20 ms later: the run of 6 ends and is measured (900 B / 2 ms = 3.6 Mbit/s).
        let p = d
            .on_packet(us(30_000), us(60_000), DataSize::from_bytes(900))
            .expect("ended");
        assert_eq!(p.packets, 6);
        let kbps = p.bitrate.as_kbps_f64();
        assert!((3_590.0..=3_610.0).contains(&kbps), "{kbps}");
    }
}
