//! Packet groups and the deltas between them.
//!
//! The delay signal is not measured per packet. A video frame leaves the sender as a burst of
//! packets, and the pacer or the network may clump or spread those packets by amounts that say
//! nothing about the bottleneck queue. So packets are grouped, and only the difference between
//! consecutive *groups* is passed on: the send-time delta, the arrival-time delta and the size
//! delta. A growing queue shows up as arrival deltas that exceed send deltas.
//!
//! A packet belongs to the current group when
//! - its send time is at most `burst_interval` (5 ms) after the group's first send time, or
//! - it arrived in a burst with the previous packet: at most 5 ms after it, with a negative
//!   propagation delta (it caught up), and within `max_burst_duration` (100 ms) of the group's
//!   first arrival. Bursts like this are produced by links that deliver in batches (Wi-Fi
//!   aggregation, cellular scheduling), and treating each as a new group would read the batching
//!   as a draining queue.
//!
//! Packets sent before the current group's first packet are late arrivals and are skipped. A group
//! that arrives before its predecessor is skipped too, and three such groups in a row reset the
//! accumulator, as does an arrival-clock jump of 3 s or more beyond what the local clock advanced.
//!
//! One rule is ours, not libwebrtc's: a packet sent more than that same 3 s *before* the current
//! group resets the accumulator (and is dropped) instead of being skipped as reordered. Without it
//! a single packet with a bogus far-future send time would open a group that every later packet
//! precedes, and the accumulator would skip everything from then on. Genuine reordering never
//! spans seconds, so the rule costs nothing on sane input.
//!
//! Source of the rules and constants: libwebrtc
//! `modules/congestion_controller/goog_cc/inter_arrival_delta.cc` (`kBurstDeltaThreshold` 5 ms,
//! `kMaxBurstDuration` 100 ms, `kArrivalTimeOffsetThreshold` 3 s, `kReorderedResetThreshold` 3)
//! and `modules/remote_bitrate_estimator/inter_arrival.cc` (the same rules on RTP-style
//! timestamps). One accumulator serves both the receive side and the send side here: send times
//! arrive as [`Timestamp`]s already unwrapped by the caller, so the wrap-around handling of the
//! older receive-side class has no place in this file.

use crate::units::{DataSize, TimeDelta, Timestamp};

/// How close to the previous packet a packet must arrive to be considered part of a burst
/// (`kBurstDeltaThreshold` in libwebrtc `inter_arrival_delta.cc`).
pub const BURST_ARRIVAL_DELTA: TimeDelta = TimeDelta::from_millis(5);

/// Grouping rules. The defaults are libwebrtc's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct ArrivalGroupConfig {
    /// A packet sent at most this long after a group's first packet joins the group. Default 5 ms.
    pub burst_interval: TimeDelta,
    /// A burst (see the module docs) may extend a group over at most this span of arrival time.
    /// Default 100 ms.
    pub max_burst_duration: TimeDelta,
    /// An arrival delta that exceeds the local-clock delta by at least this much is a clock jump
    /// and resets the accumulator. A packet sent more than this long before the current group
    /// does too. Default 3 s.
    pub arrival_jump_threshold: TimeDelta,
    /// This many consecutive groups arriving before their predecessor reset the accumulator.
    /// Default 3.
    pub reordered_reset_threshold: u32,
}

impl Default for ArrivalGroupConfig {
    fn default() -> Self {
        Self {
            burst_interval: TimeDelta::from_millis(5),
            max_burst_duration: TimeDelta::from_millis(100),
            arrival_jump_threshold: TimeDelta::from_secs(3),
            reordered_reset_threshold: 3,
        }
    }
}

/// The difference between two consecutive complete groups, newer minus older.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct GroupDelta {
    /// Difference of the groups' latest send times (sender clock).
    pub send_delta: TimeDelta,
    /// Difference of the groups' last arrival times (receiver clock).
    pub arrival_delta: TimeDelta,
    /// Difference of the groups' total sizes, in bytes.
    pub size_delta: i64,
    /// Arrival time of the last packet of the newer group (receiver clock).
    pub arrival_time: Timestamp,
}

/// Counters describing what the accumulator did with its input, since construction.
#[non_exhaustive]
#[derive(Default, Clone, Copy, Debug, PartialEq, Eq)]
pub struct ArrivalGroupStats {
    /// Packets offered.
    pub packets: u64,
    /// Groups completed (closed by the first packet of a later group).
    pub groups: u64,
    /// Packets skipped as out of order: sent before the current group began, or closing a group
    /// that arrived before its predecessor.
    pub reordered: u64,
    /// Resets caused by a clock jump (arrival ahead of the local clock, or send time far behind
    /// the current group) or by repeated reordering.
    pub resets: u64,
}

/// One group of packets being accumulated or just completed.
#[derive(Clone, Copy, Debug)]
struct Group {
    first_send: Timestamp,
    /// The latest send time seen in the group; deltas are taken between these.
    last_send: Timestamp,
    first_arrival: Timestamp,
    /// The arrival time of the most recently added packet.
    last_arrival: Timestamp,
    /// The local clock when the most recent packet was added.
    last_local: Timestamp,
    size: u64,
}

impl Group {
    fn start(now: Timestamp, send: Timestamp, arrival: Timestamp, size: DataSize) -> Self {
        Self {
            first_send: send,
            last_send: send,
            first_arrival: arrival,
            last_arrival: arrival,
            last_local: now,
            size: size.bytes(),
        }
    }

    fn add(&mut self, now: Timestamp, send: Timestamp, arrival: Timestamp, size: DataSize) {
        self.last_send = self.last_send.max(send);
        self.last_arrival = arrival;
        self.last_local = now;
        self.size = self.size.saturating_add(size.bytes());
    }

    /// Whether a packet that is not out of order joins this group.
    #[inline]
    fn accepts(&self, config: &ArrivalGroupConfig, send: Timestamp, arrival: Timestamp) -> bool {
        send - self.first_send <= config.burst_interval || self.in_burst(config, send, arrival)
    }

    fn in_burst(&self, config: &ArrivalGroupConfig, send: Timestamp, arrival: Timestamp) -> bool {
        let send_delta = send - self.last_send;
        if send_delta == TimeDelta::ZERO {
            return true;
        }
        let arrival_delta = arrival - self.last_arrival;
        let propagation_delta = arrival_delta - send_delta;
        propagation_delta.is_negative()
            && arrival_delta <= BURST_ARRIVAL_DELTA
            && arrival - self.first_arrival < config.max_burst_duration
    }
}

/// The part of a closed group that the delta to the next one reads.
#[derive(Clone, Copy, Debug)]
struct Closed {
    last_send: Timestamp,
    last_arrival: Timestamp,
    last_local: Timestamp,
    size: u64,
}

/// Groups packets and yields the delta between each pair of consecutive complete groups.
///
/// Holds two groups and a few counters; no heap memory at all.
#[derive(Clone, Debug)]
pub struct ArrivalGroupAccumulator {
    config: ArrivalGroupConfig,
    current: Option<Group>,
    /// What the next delta needs of the last closed group: not the whole group, so that closing
    /// one copies four words rather than seven.
    previous: Option<Closed>,
    consecutive_reordered: u32,
    stats: ArrivalGroupStats,
}

impl ArrivalGroupAccumulator {
    /// An empty accumulator.
    pub fn new(config: ArrivalGroupConfig) -> Self {
        Self {
            config,
            current: None,
            previous: None,
            consecutive_reordered: 0,
            stats: ArrivalGroupStats::default(),
        }
    }

    /// Offers one packet.
    ///
    /// `now` is the local clock when the packet (or the feedback reporting it) was processed,
    /// `send_time` is on the sender's clock and `arrival_time` on the receiver's. Returns the
    /// delta between the two most recent complete groups when this packet starts a new group.
    #[inline]
    pub fn on_packet(
        &mut self,
        now: Timestamp,
        send_time: Timestamp,
        arrival_time: Timestamp,
        size: DataSize,
    ) -> Option<GroupDelta> {
        // A `u64` count of packets cannot overflow (584 years at 10⁹ packets per second), so a
        // plain increment; likewise for groups below.
        self.stats.packets += 1;
        // Most packets join the current group. The rest (first packet, reordering, closing a
        // group) is a separate function for reading, but inlined as well: out of line, every
        // closed group paid a call and a round trip of the delta through memory, which measured
        // far slower in wall time than its instruction count suggests.
        if let Some(current) = self.current.as_mut() {
            if send_time >= current.first_send
                && current.accepts(&self.config, send_time, arrival_time)
            {
                current.add(now, send_time, arrival_time, size);
                return None;
            }
        }
        self.on_packet_outside_group(now, send_time, arrival_time, size)
    }

    /// [`Self::on_packet`] for a packet that does not join the current group (or when there is
    /// none).
    #[inline]
    fn on_packet_outside_group(
        &mut self,
        now: Timestamp,
        send_time: Timestamp,
        arrival_time: Timestamp,
        size: DataSize,
    ) -> Option<GroupDelta> {
        let Some(current) = self.current else {
            self.current = Some(Group::start(now, send_time, arrival_time, size));
            return None;
        };
        if send_time < current.first_send {
            if current.first_send - send_time > self.config.arrival_jump_threshold {
                // No reordering spans seconds: the send clock jumped back, or the current group
                // began with a bogus send time that would otherwise reject every later packet.
                self.reset_after_fault();
            } else {
                self.stats.reordered = self.stats.reordered.saturating_add(1);
            }
            return None;
        }

        // The caller found that this packet does not join `current`: it closes it.
        let mut delta = None;
        if let Some(previous) = self.previous {
            let arrival_delta = current.last_arrival - previous.last_arrival;
            let local_delta = current.last_local - previous.last_local;
            if arrival_delta - local_delta >= self.config.arrival_jump_threshold {
                self.reset_after_fault();
                return None;
            }
            if arrival_delta.is_negative() {
                self.stats.reordered = self.stats.reordered.saturating_add(1);
                self.consecutive_reordered = self.consecutive_reordered.saturating_add(1);
                if self.consecutive_reordered >= self.config.reordered_reset_threshold {
                    self.reset_after_fault();
                }
                return None;
            }
            self.consecutive_reordered = 0;
            delta = Some(GroupDelta {
                send_delta: current.last_send - previous.last_send,
                arrival_delta,
                size_delta: size_difference(current.size, previous.size),
                arrival_time: current.last_arrival,
            });
        }
        self.stats.groups += 1;
        self.previous = Some(Closed {
            last_send: current.last_send,
            last_arrival: current.last_arrival,
            last_local: current.last_local,
            size: current.size,
        });
        self.current = Some(Group::start(now, send_time, arrival_time, size));
        delta
    }

    /// Counters since construction; [`reset`](Self::reset) does not clear them.
    pub fn stats(&self) -> ArrivalGroupStats {
        self.stats
    }

    /// Forgets both groups, as if no packet had been seen. The counters are kept.
    pub fn reset(&mut self) {
        self.current = None;
        self.previous = None;
        self.consecutive_reordered = 0;
    }

    fn reset_after_fault(&mut self) {
        self.reset();
        self.stats.resets = self.stats.resets.saturating_add(1);
    }
}

/// `newer - older` in bytes, saturated into `i64`.
fn size_difference(newer: u64, older: u64) -> i64 {
    // Two u64 branches rather than an i128 difference: this runs once per group.
    if newer >= older {
        i64::try_from(newer - older).unwrap_or(i64::MAX)
    } else {
        0_i64
            .checked_sub_unsigned(older - newer)
            .unwrap_or(i64::MIN)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn ms(v: i64) -> Timestamp {
        Timestamp::from_millis(v)
    }

    fn bytes(n: u64) -> DataSize {
        DataSize::from_bytes(n)
    }

    fn acc() -> ArrivalGroupAccumulator {
        ArrivalGroupAccumulator::new(ArrivalGroupConfig::default())
    }

    /// Offers a packet whose local processing time equals its arrival time (receive side).
    fn offer(
        a: &mut ArrivalGroupAccumulator,
        send: i64,
        arrival: i64,
        size: u64,
    ) -> Option<GroupDelta> {
        a.on_packet(ms(arrival), ms(send), ms(arrival), bytes(size))
    }

    /// The filters depend on deltas between *complete* groups: the first delta needs three groups.
    #[test]
    fn deltas_are_between_the_two_latest_complete_groups() {
        let mut a = acc();
        assert_eq!(offer(&mut a, 0, 100, 100), None);
        assert_eq!(offer(&mut a, 2, 102, 200), None); // same group: 2 ms after its first send
        assert_eq!(offer(&mut a, 20, 125, 500), None); // closes group 1, nothing before it
        assert_eq!(
            offer(&mut a, 40, 150, 50),
            Some(GroupDelta {
                send_delta: TimeDelta::from_millis(18),
                arrival_delta: TimeDelta::from_millis(23),
                size_delta: 200,
                arrival_time: ms(125),
            })
        );
        assert_eq!(a.stats().groups, 2);
        assert_eq!(a.stats().packets, 4);
    }

    /// Packets of one frame sent within 5 ms are one sample, not several noisy ones.
    #[test]
    fn packets_within_the_burst_interval_form_one_group() {
        let mut a = acc();
        for (send, arrival) in [(0, 100), (5, 108), (10, 120), (15, 130)] {
            let _ = offer(&mut a, send, arrival, 100);
        }
        // 0 and 5 share a group (5 ms is inclusive); 10 starts a new one; 15 joins it.
        assert_eq!(a.stats().groups, 1);
        let d = offer(&mut a, 30, 140, 100).expect("second group closed");
        assert_eq!(d.send_delta, TimeDelta::from_millis(10));
        assert_eq!(d.arrival_delta, TimeDelta::from_millis(22));
    }

    /// Batched delivery (Wi-Fi, cellular) must not be read as a draining queue.
    #[test]
    fn burst_packets_join_the_current_group() {
        let mut a = acc();
        assert_eq!(offer(&mut a, 0, 100, 100), None);
        // Sent 20 ms later but arrives 1 ms after the previous packet: caught up in a burst.
        assert_eq!(offer(&mut a, 20, 101, 100), None);
        assert_eq!(a.stats().groups, 0);
        // Arrives 10 ms after the previous packet: not a burst, starts a new group.
        assert_eq!(offer(&mut a, 40, 111, 100), None);
        assert_eq!(a.stats().groups, 1);
    }

    /// A burst cannot swallow an unbounded stretch of traffic into one group.
    #[test]
    fn burst_longer_than_max_duration_is_split() {
        let mut a = acc();
        let _ = offer(&mut a, 0, 0, 100);
        // Each packet arrives 4 ms after the previous one but was sent 10 ms later.
        let mut closed_at = None;
        for i in 1..40 {
            let _ = offer(&mut a, 10 * i, 4 * i, 100);
            if a.stats().groups == 1 && closed_at.is_none() {
                closed_at = Some(i);
            }
        }
        // 4 ms × 25 = 100 ms, the first arrival that is not *within* 100 ms of the group start.
        assert_eq!(closed_at, Some(25));
    }

    /// A duplicate (same send time) must neither panic nor start a spurious group.
    #[test]
    fn duplicate_send_time_joins_the_current_group() {
        let mut a = acc();
        let _ = offer(&mut a, 0, 100, 100);
        let _ = offer(&mut a, 50, 150, 100);
        let _ = offer(&mut a, 50, 190, 100); // duplicate of the previous, arrives 40 ms later
        assert_eq!(a.stats().groups, 1);
        assert_eq!(a.stats().reordered, 0);
    }

    /// A late packet from an old group would corrupt the group's size and times; it is dropped.
    #[test]
    fn reordered_packet_is_skipped_and_counted() {
        let mut a = acc();
        let _ = offer(&mut a, 0, 100, 100);
        let _ = offer(&mut a, 20, 120, 100);
        assert_eq!(offer(&mut a, 10, 121, 5000), None);
        assert_eq!(a.stats().reordered, 1);
        let _ = offer(&mut a, 40, 140, 100);
        // The skipped 5000 bytes did not enter the second group.
        let d = offer(&mut a, 60, 160, 100).expect("delta");
        assert_eq!(d.size_delta, 0);
        assert_eq!(a.stats().resets, 0);
    }

    /// A receiver clock that leaps forward must not look like a 3-second queue.
    #[test]
    fn arrival_jump_resets_the_accumulator() {
        let mut a = acc();
        let now = |t: i64| ms(t);
        // Local clock advances 20 ms per group; the arrival clock jumps by 5 s once.
        let _ = a.on_packet(now(0), ms(0), ms(0), bytes(100));
        let _ = a.on_packet(now(20), ms(20), ms(20), bytes(100));
        let _ = a.on_packet(now(40), ms(40), ms(5_040), bytes(100));
        assert_eq!(a.stats().resets, 0);
        assert_eq!(a.on_packet(now(60), ms(60), ms(5_060), bytes(100)), None);
        assert_eq!(a.stats().resets, 1);
        // A jump just under the threshold is a delta like any other.
        let mut b = acc();
        let _ = b.on_packet(now(0), ms(0), ms(0), bytes(100));
        let _ = b.on_packet(now(20), ms(20), ms(20), bytes(100));
        let _ = b.on_packet(now(40), ms(40), ms(3_010), bytes(100));
        let d = b.on_packet(now(60), ms(60), ms(3_030), bytes(100));
        assert_eq!(
            d.map(|d| d.arrival_delta),
            Some(TimeDelta::from_millis(2_990))
        );
        assert_eq!(b.stats().resets, 0);
    }

    /// One packet with a bogus far-future send time must not lock the accumulator forever.
    #[test]
    fn send_time_far_behind_the_group_resets_instead_of_skipping() {
        let mut a = acc();
        let _ = offer(&mut a, 0, 100, 100);
        let _ = offer(&mut a, 20, 120, 100);
        let _ = offer(&mut a, 3_600_000, 140, 100); // a group that "began" an hour later
        // Back on the real clock: 20 ms late is reordering, an hour late is a clock fault.
        assert_eq!(offer(&mut a, 3_599_990, 141, 100), None);
        assert_eq!((a.stats().reordered, a.stats().resets), (1, 0));
        assert_eq!(offer(&mut a, 60, 160, 100), None);
        assert_eq!((a.stats().reordered, a.stats().resets), (1, 1));
        for send in [80, 100] {
            assert_eq!(offer(&mut a, send, send + 100, 100), None);
        }
        assert!(offer(&mut a, 120, 220, 100).is_some());
    }

    /// Groups arriving before their predecessors mean the arrival clock went back: start over.
    #[test]
    fn repeated_negative_arrival_deltas_reset_the_accumulator() {
        let mut a = acc();
        let _ = offer(&mut a, 0, 1_000, 100);
        let _ = offer(&mut a, 20, 1_020, 100);
        // From here on the arrival clock runs 900 ms behind. The first such packet looks like a
        // burst and joins the open group; each later one tries to close that group and is refused.
        let expected = [(40, 0, 0), (60, 1, 0), (80, 2, 0), (100, 3, 1)];
        for (send, reordered, resets) in expected {
            assert_eq!(offer(&mut a, send, send + 100, 100), None);
            assert_eq!((a.stats().reordered, a.stats().resets), (reordered, resets));
        }
        // After the reset the new clock is accepted: three groups later deltas flow again.
        for send in [120, 140] {
            assert_eq!(offer(&mut a, send, send + 100, 100), None);
        }
        assert!(offer(&mut a, 160, 260, 100).is_some());
    }

    /// After a reset the first delta again waits for the third group to begin, as in a new one.
    #[test]
    fn reset_forgets_groups_but_keeps_counters() {
        let mut a = acc();
        for i in 0..5 {
            let _ = offer(&mut a, 20 * i, 20 * i, 100);
        }
        a.reset();
        assert_eq!(a.stats().packets, 5);
        assert_eq!(offer(&mut a, 200, 200, 100), None);
        assert_eq!(offer(&mut a, 220, 220, 100), None);
        assert!(offer(&mut a, 240, 240, 100).is_some());
    }

    /// Size differences between absurd group sizes saturate instead of wrapping.
    #[test]
    fn size_delta_saturates() {
        assert_eq!(size_difference(u64::MAX, 0), i64::MAX);
        assert_eq!(size_difference(0, u64::MAX), i64::MIN);
        assert_eq!(size_difference(10, 30), -20);
    }

    proptest! {
        /// Input from the network must never panic the accumulator.
        #[test]
        fn arbitrary_input_never_panics(
            packets in proptest::collection::vec(
                (any::<i64>(), any::<i64>(), any::<i64>(), any::<u64>()), 0..64)
        ) {
            let mut a = acc();
            for (now, send, arrival, size) in packets {
                let _ = a.on_packet(
                    Timestamp::from_micros(now),
                    Timestamp::from_micros(send),
                    Timestamp::from_micros(arrival),
                    DataSize::from_bytes(size),
                );
            }
            prop_assert!(a.stats().groups <= a.stats().packets);
        }
    }
}
