//! Which sent packets belonged to which probe cluster, looked up when their feedback returns.
//!
//! Feedback names packets by what the transport sees — SSRC, sequence number on the wire and
//! departure instant (rtc's `PacketReport` carries all three) — not by what the pacer meant by
//! them, so the pacer's probe packets are recorded here under that key.
//!
//! The table has a lane per SSRC ([`ProbeAttribution::LANES`] lanes, taken by SSRCs in the
//! order they first carry a probe packet; when all are taken, the lane whose SSRC recorded
//! least recently is handed over), each direct-mapped by sequence number
//! ([`ProbeAttribution::SLOTS`] slots): a newer entry overwrites an older one in its slot. One
//! stream's packets collide only 1 024 sequence numbers apart, whatever number the stream
//! started at. A single table indexed by SSRC and sequence number let two streams (audio beside
//! video) collide wherever their random starting numbers lined up, so a probe result, and
//! everything after it, depended on that draw rather than on the seed. A cluster has tens of
//! packets and its feedback comes back within a second, long before its slots are reused; an
//! entry overwritten early only leaves that packet out of the probe result (the result
//! estimator wants 80 % of a cluster). The departure in the key means a stale entry never
//! matches a later packet that wrapped onto the same sequence number. Everything is allocated
//! at construction.

use crate::feedback::ProbeInfo;
use crate::units::Timestamp;

#[derive(Debug, Clone, Copy)]
struct Entry {
    ssrc: u32,
    sequence: u16,
    departure: Timestamp,
    probe: ProbeInfo,
}

/// The attribution table; see the module docs.
#[derive(Debug)]
pub struct ProbeAttribution {
    /// `LANES × SLOTS` entries, lane after lane.
    table: Box<[Option<Entry>]>,
    /// Each lane's SSRC and the last departure it recorded.
    lanes: [Option<(u32, Timestamp)>; Self::LANES],
}

impl Default for ProbeAttribution {
    fn default() -> Self {
        Self::new()
    }
}

impl ProbeAttribution {
    /// Entries kept per lane.
    pub const SLOTS: usize = 1024;

    /// SSRCs whose entries are kept apart (media, RTX and audio of one sender, and a spare).
    pub const LANES: usize = 4;

    /// An empty table.
    pub fn new() -> Self {
        Self {
            table: vec![None; Self::LANES * Self::SLOTS].into_boxed_slice(),
            lanes: [None; Self::LANES],
        }
    }

    fn slot(lane: usize, sequence: u16) -> usize {
        lane * Self::SLOTS + usize::from(sequence) % Self::SLOTS
    }

    fn lane_of(&self, ssrc: u32) -> Option<usize> {
        self.lanes
            .iter()
            .position(|l| l.is_some_and(|(s, _)| s == ssrc))
    }

    /// The packet `(ssrc, sequence)` that left at `departure` belongs to `probe`'s cluster.
    pub fn record(&mut self, ssrc: u32, sequence: u16, departure: Timestamp, probe: ProbeInfo) {
        let lane = self.lane_of(ssrc).unwrap_or_else(|| {
            // A new SSRC: a free lane, else the one that recorded least recently.
            (0..Self::LANES)
                .min_by_key(|&l| self.lanes[l].map(|(_, last)| last))
                .unwrap_or(0)
        });
        self.lanes[lane] = Some((ssrc, departure));
        self.table[Self::slot(lane, sequence)] = Some(Entry {
            ssrc,
            sequence,
            departure,
            probe,
        });
    }

    /// The cluster of the packet `(ssrc, sequence)` that left at `departure`, if it was a probe.
    pub fn probe_of(&self, ssrc: u32, sequence: u16, departure: Timestamp) -> Option<ProbeInfo> {
        let lane = self.lane_of(ssrc)?;
        self.table[Self::slot(lane, sequence)]
            .filter(|e| e.ssrc == ssrc && e.sequence == sequence && e.departure == departure)
            .map(|e| e.probe)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::units::DataSize;

    fn info(id: u32) -> ProbeInfo {
        ProbeInfo {
            cluster_id: id,
            min_probes: 5,
            min_bytes: DataSize::from_bytes(1_687),
        }
    }

    /// Only the exact packet (SSRC, sequence and departure) is attributed to a cluster.
    #[test]
    fn attribution_needs_ssrc_sequence_and_departure() {
        let mut a = ProbeAttribution::new();
        let t = Timestamp::from_millis(5);
        a.record(7, 100, t, info(1));
        assert_eq!(a.probe_of(7, 100, t), Some(info(1)));
        assert_eq!(a.probe_of(8, 100, t), None);
        assert_eq!(a.probe_of(7, 101, t), None);
        assert_eq!(a.probe_of(7, 100, Timestamp::from_millis(6)), None);
    }

    /// Two streams whose sequence numbers coincide keep their entries apart.
    #[test]
    fn streams_with_equal_sequence_numbers_do_not_collide() {
        let mut a = ProbeAttribution::new();
        let t = Timestamp::from_millis(5);
        a.record(1, 300, t, info(1));
        a.record(2, 300, t, info(2));
        assert_eq!(a.probe_of(1, 300, t), Some(info(1)));
        assert_eq!(a.probe_of(2, 300, t), Some(info(2)));
    }

    /// With every lane taken, a new SSRC takes the lane used least recently.
    #[test]
    fn a_fifth_stream_takes_the_least_recent_lane() {
        let mut a = ProbeAttribution::new();
        for ssrc in 1..=4u32 {
            a.record(ssrc, 1, Timestamp::from_millis(i64::from(ssrc)), info(ssrc));
        }
        a.record(5, 1, Timestamp::from_millis(10), info(5));
        assert_eq!(a.probe_of(1, 1, Timestamp::from_millis(1)), None);
        assert_eq!(a.probe_of(2, 1, Timestamp::from_millis(2)), Some(info(2)));
        assert_eq!(a.probe_of(5, 1, Timestamp::from_millis(10)), Some(info(5)));
    }
}
