//! Sending one probe cluster: when each of its packets is due, and how big its padding is.
//!
//! A cluster takes over the sending: packets leave at the cluster's rate, media first if any is
//! queued, padding otherwise, until the cluster's `min_bytes` and `min_probes` are both met.
//! Packet `k` leaves `bytes before k / rate` after the first, so the result estimator's send rate
//! (bytes without the last / interval) is the cluster's rate exactly.

use crate::feedback::ProbeInfo;
use crate::probe::ProbeCluster;
use crate::units::{Bitrate, DataSize, TimeDelta, Timestamp};

/// The largest padding packet asked for (about 1 050 bytes once the adapter's transport-wide
/// extension and headers are on it).
pub(crate) const MAX_PADDING: u64 = 1_032;

/// The smallest padding packet asked for.
pub(crate) const MIN_PADDING: u64 = 200;

/// The cluster being sent.
#[derive(Debug, Clone, Copy)]
pub(crate) struct ActiveProbe {
    pub(crate) info: ProbeInfo,
    rate: Bitrate,
    started: Timestamp,
    bytes: u64,
    packets: u32,
    pub(crate) next: Timestamp,
}

impl ActiveProbe {
    /// Starts `cluster` at `now`, never slower than `floor`.
    pub(crate) fn start(cluster: &ProbeCluster, now: Timestamp, floor: Bitrate) -> Self {
        Self {
            info: ProbeInfo {
                cluster_id: cluster.id,
                min_probes: cluster.min_probes,
                min_bytes: cluster.min_bytes,
            },
            rate: cluster.target.max(floor),
            started: now,
            bytes: 0,
            packets: 0,
            next: now,
        }
    }

    /// The padding size to ask for: the bytes still owed spread over the packets still owed,
    /// in packets of 200 to 1 032 bytes. At high rates big enough that their UDP/IP and SRTP
    /// overhead weighs on the measured rate about as it does on media; at low rates small
    /// enough that the cluster's five packets do not outlast its 15 ms by much.
    pub(crate) fn padding_size(&self) -> DataSize {
        let remaining = self.info.min_bytes.bytes().saturating_sub(self.bytes);
        let packets_left = u64::from(self.info.min_probes.saturating_sub(self.packets)).max(1);
        DataSize::from_bytes((remaining / packets_left).clamp(MIN_PADDING, MAX_PADDING))
    }

    /// A packet of `bytes` left; returns whether the cluster is complete.
    pub(crate) fn sent(&mut self, bytes: u64) -> bool {
        self.bytes += bytes;
        self.packets += 1;
        let elapsed_us = self.bytes * 8_000_000 / self.rate.bps().max(1);
        self.next = self.started + TimeDelta::from_micros(elapsed_us as i64);
        self.bytes >= self.info.min_bytes.bytes() && self.packets >= self.info.min_probes
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster() -> ProbeCluster {
        ProbeCluster {
            id: 4,
            target: Bitrate::from_kbps(2_400),
            min_probes: 5,
            min_bytes: DataSize::from_bytes(4_500),
            duration: TimeDelta::from_millis(15),
            created_at: Timestamp::ZERO,
        }
    }

    /// Packets are spaced so that bytes before each / time since the first is the cluster's
    /// rate, and the cluster ends when both its byte and packet minimums are met.
    #[test]
    fn packets_are_spaced_at_the_cluster_rate_until_both_minimums_are_met() {
        let mut p = ActiveProbe::start(&cluster(), Timestamp::ZERO, Bitrate::from_kbps(10));
        assert_eq!(p.padding_size(), DataSize::from_bytes(900));
        assert!(!p.sent(900));
        assert_eq!(p.next, Timestamp::from_micros(3_000));
        for _ in 0..3 {
            assert!(!p.sent(900));
        }
        assert!(p.sent(900));
        assert_eq!(p.next, Timestamp::from_micros(15_000));
    }

    /// Padding requests stay between 200 and 1 050 bytes whatever is owed.
    #[test]
    fn padding_sizes_are_clamped() {
        let mut big = cluster();
        big.min_bytes = DataSize::from_bytes(100_000);
        let p = ActiveProbe::start(&big, Timestamp::ZERO, Bitrate::ZERO);
        assert_eq!(p.padding_size(), DataSize::from_bytes(MAX_PADDING));
        let mut small = cluster();
        small.min_bytes = DataSize::from_bytes(100);
        let p = ActiveProbe::start(&small, Timestamp::ZERO, Bitrate::ZERO);
        assert_eq!(p.padding_size(), DataSize::from_bytes(MIN_PADDING));
    }
}
