//! The capacity server: when each packet of a FIFO finishes serialisation under a
//! [`RateSchedule`].
//!
//! The queue is FIFO and a packet in service is never pre-empted, so a packet's finish time is
//! fixed the moment it joins the queue: it depends only on the packets ahead of it and on the
//! schedule. The server therefore books each packet on arrival and remembers only the state at
//! the tail of the queue. (Re-timing is needed only when the schedule itself is replaced; the
//! bottleneck does that by booking its queue again on a fresh server.)
//!
//! # Rates
//!
//! A packet starts when it arrives or when the one ahead finishes, whichever is later, and takes
//! `bits / rate` at the rate in force, integrated exactly across rate steps (integer bit·ns
//! arithmetic), rounded up to the nanosecond once per packet. At zero rate it waits for the next
//! step; with no next step it never finishes.
//!
//! # Traces: byte accounting
//!
//! Exactly mahimahi's `LinkQueue::rationalize`: each opportunity carries [`OPPORTUNITY_BYTES`]
//! (1500). Its bytes go to the packets at the head of the queue in order; a packet leaves at the
//! opportunity that supplies its last byte, and what is left of that opportunity goes to the next
//! packet, if one has arrived by then. Bytes of an opportunity that no waiting packet can use are
//! lost. So a 1500-byte packet uses one whole opportunity, two 750-byte packets share one, and a
//! 1200-byte packet following another leaves 300 bytes to the next and takes 900 from the
//! following opportunity. One deliberate difference: a packet arriving at the exact nanosecond of
//! an opportunity may use it (mahimahi's millisecond clock serves the opportunity first). Packets
//! over 1500 bytes, which mahimahi refuses, take as many opportunities as they need.

use std::sync::Arc;

use crate::rate::Rate;
use crate::schedule::RateSchedule;
use crate::time::SimTime;
use crate::trace::{MahimahiTrace, OPPORTUNITY_BYTES};

const NANOS_PER_SEC: u64 = 1_000_000_000;

/// When a booked packet starts and finishes serialisation. `finish` is [`SimTime::MAX`] for a
/// packet that never finishes (zero rate for ever).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Booking {
    pub(crate) start: SimTime,
    pub(crate) finish: SimTime,
}

#[derive(Debug)]
enum Kind {
    Unlimited,
    Rates {
        initial: Rate,
        /// Absolute times, sorted.
        steps: Vec<(SimTime, Rate)>,
        /// How many steps are at or before the tail (the tail only moves forward).
        passed: usize,
    },
    Trace {
        trace: Arc<MahimahiTrace>,
        mean: Rate,
        /// The next unused opportunity: period number and index within the period.
        cycle: u64,
        index: usize,
        /// Bytes left of the opportunity at `tail` that finished the last packet.
        leftover: u32,
    },
}

/// Books packets in FIFO order against a schedule that took effect at `origin`.
#[derive(Debug)]
pub(crate) struct Server {
    origin: SimTime,
    /// When the last booked packet finishes (the origin before any).
    tail: SimTime,
    kind: Kind,
}

impl Server {
    pub(crate) fn new(schedule: &RateSchedule, origin: SimTime) -> Self {
        let kind = match schedule {
            RateSchedule::Unlimited => Kind::Unlimited,
            RateSchedule::Constant(rate) => Kind::Rates {
                initial: *rate,
                steps: Vec::new(),
                passed: 0,
            },
            RateSchedule::Steps(s) => Kind::Rates {
                initial: s.initial(),
                steps: s
                    .steps()
                    .iter()
                    .map(|&(offset, rate)| (origin + offset, rate))
                    .collect(),
                passed: 0,
            },
            RateSchedule::Trace(trace) => Kind::Trace {
                mean: trace.nominal_rate(),
                trace: Arc::clone(trace),
                cycle: 0,
                index: 0,
                leftover: 0,
            },
        };
        Self {
            origin,
            tail: origin,
            kind,
        }
    }

    /// Whether packets take no time at all (nothing ever queues).
    pub(crate) fn is_unlimited(&self) -> bool {
        matches!(self.kind, Kind::Unlimited)
    }

    /// The rate for converting a queue limit in time to bytes at `now`; see
    /// [`RateSchedule::nominal_rate_at`].
    pub(crate) fn nominal_rate(&self, now: SimTime) -> Option<Rate> {
        match &self.kind {
            Kind::Unlimited => None,
            Kind::Rates { initial, steps, .. } => {
                let i = steps.partition_point(|&(at, _)| at <= now);
                Some(i.checked_sub(1).map_or(*initial, |j| steps[j].1))
            }
            Kind::Trace { mean, .. } => Some(*mean),
        }
    }

    /// The last non-zero rate in force at or before `now` under this schedule (a trace's mean
    /// rate), or `None` if it has had none: what a time-limited queue keeps its size by while
    /// the rate is zero.
    pub(crate) fn last_nonzero_rate(&self, now: SimTime) -> Option<Rate> {
        let nonzero = |r: Rate| (r != Rate::ZERO).then_some(r);
        match &self.kind {
            Kind::Unlimited => None,
            Kind::Rates { initial, steps, .. } => {
                let i = steps.partition_point(|&(at, _)| at <= now);
                steps[..i]
                    .iter()
                    .rev()
                    .find_map(|&(_, r)| nonzero(r))
                    .or_else(|| nonzero(*initial))
            }
            Kind::Trace { mean, .. } => nonzero(*mean),
        }
    }

    /// Books `bytes` for a packet joining the back of the queue at `arrival`. Arrivals must not
    /// decrease between calls.
    #[inline]
    pub(crate) fn book(&mut self, arrival: SimTime, bytes: u32) -> Booking {
        let ready = arrival.max(self.origin);
        let booking = match &mut self.kind {
            Kind::Unlimited => Booking {
                start: ready,
                finish: ready,
            },
            Kind::Rates {
                initial,
                steps,
                passed,
            } => {
                let start = ready.max(self.tail);
                let finish = serve_rates(*initial, steps, passed, start, bytes);
                Booking { start, finish }
            }
            Kind::Trace {
                trace,
                cycle,
                index,
                leftover,
                ..
            } => {
                let mut cursor = Cursor {
                    trace,
                    origin: self.origin,
                    cycle: *cycle,
                    index: *index,
                };
                let b = serve_trace(&mut cursor, leftover, self.tail, ready, bytes);
                (*cycle, *index) = (cursor.cycle, cursor.index);
                b
            }
        };
        self.tail = booking.finish;
        booking
    }
}

/// Finish time of `bytes` starting at `start` under a piecewise-constant rate.
#[inline]
fn serve_rates(
    initial: Rate,
    steps: &[(SimTime, Rate)],
    passed: &mut usize,
    start: SimTime,
    bytes: u32,
) -> SimTime {
    // Common case, no steps: one multiplication and one division in u64 (bytes ≤ 2^32, so
    // bytes · 8e9 < 2^64 · 1.9, which checked_mul guards).
    if steps.is_empty() {
        if initial.bps() == 0 {
            return SimTime::MAX;
        }
        return match u64::from(bytes).checked_mul(8 * NANOS_PER_SEC) {
            Some(work) => start + crate::SimDuration::from_nanos(work.div_ceil(initial.bps())),
            None => match initial.serialization_time(u64::from(bytes)) {
                Some(d) => start + d,
                None => SimTime::MAX,
            },
        };
    }
    // Work in bit·ns/s: a packet needs bits·1e9; a segment of `dt` ns at `r` bit/s supplies r·dt.
    let mut work = u128::from(bytes) * 8 * u128::from(NANOS_PER_SEC);
    let mut t = start;
    loop {
        while steps.get(*passed).is_some_and(|&(at, _)| at <= t) {
            *passed += 1;
        }
        let rate = match passed.checked_sub(1) {
            Some(i) => steps[i].1.bps(),
            None => initial.bps(),
        };
        let end = steps.get(*passed).map(|&(at, _)| at);
        if rate == 0 {
            match end {
                Some(end) => {
                    t = end;
                    continue;
                }
                None => return SimTime::MAX,
            }
        }
        let need = work.div_ceil(u128::from(rate));
        let fits = end.is_none_or(|end| need <= u128::from((end - t).as_nanos()));
        if fits {
            let ns = u64::try_from(need).unwrap_or(u64::MAX);
            return t + crate::SimDuration::from_nanos(ns);
        }
        if let Some(end) = end {
            // need > end − t means work > rate·(end − t): the subtraction cannot underflow.
            work -= u128::from(rate) * u128::from((end - t).as_nanos());
            t = end;
        }
    }
}

/// A position in a looping trace.
struct Cursor<'a> {
    trace: &'a MahimahiTrace,
    origin: SimTime,
    cycle: u64,
    index: usize,
}

impl Cursor<'_> {
    /// When the opportunity under the cursor happens.
    #[inline]
    fn time(&self) -> SimTime {
        let base = self.cycle.saturating_mul(self.trace.period_ns());
        let offset = self
            .trace
            .offsets_ns()
            .get(self.index)
            .copied()
            .unwrap_or(0);
        self.origin + crate::SimDuration::from_nanos(base.saturating_add(offset))
    }

    #[inline]
    fn step(&mut self) {
        self.index += 1;
        if self.index >= self.trace.offsets_ns().len() {
            self.index = 0;
            self.cycle = self.cycle.saturating_add(1);
        }
    }

    /// Moves to the first opportunity at or after `t`, if the cursor is before it.
    fn seek(&mut self, t: SimTime) {
        if self.time() >= t {
            return;
        }
        let period = self.trace.period_ns();
        let offset = (t - self.origin).as_nanos();
        let (mut cycle, mut within) = (offset / period, offset % period);
        // The last offset equals the period, so the instant `cycle · period` is also the end of
        // the previous period, whose last opportunities come first.
        if within == 0 && cycle > 0 {
            cycle -= 1;
            within = period;
        }
        self.cycle = cycle;
        self.index = self.trace.offsets_ns().partition_point(|&o| o < within);
    }
}

/// Books `bytes` ready at `ready` on a trace; see the module docs for the accounting.
#[inline]
fn serve_trace(
    cursor: &mut Cursor<'_>,
    leftover: &mut u32,
    tail: SimTime,
    ready: SimTime,
    bytes: u32,
) -> Booking {
    let ready_or_tail = ready.max(tail);
    if bytes == 0 {
        return Booking {
            start: ready_or_tail,
            finish: ready_or_tail,
        };
    }
    let mut need = bytes;
    let mut start = None;
    // The rest of the opportunity that finished the previous packet, if this one was waiting.
    if *leftover > 0 && ready <= tail {
        let take = need.min(*leftover);
        *leftover -= take;
        need -= take;
        if need == 0 {
            return Booking {
                start: tail,
                finish: tail,
            };
        }
        start = Some(tail);
    }
    *leftover = 0;
    cursor.seek(ready);
    loop {
        let t = cursor.time();
        cursor.step();
        let start = *start.get_or_insert(t);
        if need <= OPPORTUNITY_BYTES {
            *leftover = OPPORTUNITY_BYTES - need;
            return Booking { start, finish: t };
        }
        need -= OPPORTUNITY_BYTES;
        if t == SimTime::MAX {
            return Booking { start, finish: t };
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::SimDuration;

    fn ms(v: u64) -> SimTime {
        SimTime::from_millis(v)
    }

    fn trace(text: &str) -> RateSchedule {
        RateSchedule::from_mahimahi(text).expect("valid trace")
    }

    fn finishes(server: &mut Server, packets: &[(u64, u32)]) -> Vec<SimTime> {
        packets
            .iter()
            .map(|&(at, size)| server.book(ms(at), size).finish)
            .collect()
    }

    /// mahimahi shares an opportunity's 1500 bytes between small packets and carries a large
    /// packet over several; results must match its accounting exactly.
    #[test]
    fn trace_bytes_are_shared_and_carried_over_as_in_mahimahi() {
        let mut s = Server::new(&trace("1\n2\n3\n4\n5\n"), SimTime::ZERO);
        // All queued at 0: 750 + 750 share opportunity 1; 1200 takes 2 (300 left);
        // 1000 takes 300 of 2 and 700 of 3 (800 left); 2000 takes 800 of 3, all of 4 → 4.
        let got = finishes(
            &mut s,
            &[(0, 750), (0, 750), (0, 1200), (0, 1000), (0, 2000)],
        );
        assert_eq!(got, vec![ms(1), ms(1), ms(2), ms(3), ms(4)]);
    }

    /// Unused opportunities are lost: a link cannot bank idle capacity for a later burst.
    #[test]
    fn opportunities_with_no_packet_waiting_are_lost() {
        let mut s = Server::new(&trace("1\n2\n3\n4\n5\n6\n"), SimTime::ZERO);
        // 500 bytes at 1 leaves 1000 unused at 1; a packet arriving at 2 cannot use them.
        let got = finishes(&mut s, &[(0, 500), (2, 1500), (5, 100), (5, 100)]);
        assert_eq!(got, vec![ms(1), ms(2), ms(5), ms(5)]);
    }

    /// The trace repeats with its period, and the period's end instant appears in both periods.
    #[test]
    fn the_trace_loops_with_its_period() {
        let mut s = Server::new(&trace("0\n4\n10\n"), SimTime::from_millis(100));
        // Opportunities at 100, 104, 110 | 110, 114, 120 | 120, 124, 130 | 130, … (origin 100).
        let got = finishes(
            &mut s,
            &[
                (0, 1500),
                (101, 1500),
                (105, 1500),
                (105, 1500),
                (111, 1500),
            ],
        );
        assert_eq!(got, vec![ms(100), ms(104), ms(110), ms(110), ms(114)]);
        // Arriving idle at exactly a period's end: both opportunities at that instant are usable.
        let got = finishes(&mut s, &[(130, 1500), (130, 1500), (130, 1500)]);
        assert_eq!(got, vec![ms(130), ms(130), ms(134)]);
        // Far ahead, a seek lands on the right period.
        let got = s.book(ms(100 + 10 * 1000 + 5), 1500).finish;
        assert_eq!(got, ms(100 + 10 * 1000 + 10));
    }

    /// A step in the middle of a packet's serialisation splits its bits between the two rates.
    #[test]
    fn a_packet_straddling_a_step_is_served_at_both_rates() {
        let schedule = RateSchedule::steps(
            Rate::from_mbps(1),
            [
                (SimDuration::from_millis(5), Rate::from_mbps(2)),
                (SimDuration::from_millis(20), Rate::ZERO),
                (SimDuration::from_millis(30), Rate::from_mbps(1)),
            ],
        );
        let mut s = Server::new(&schedule, SimTime::ZERO);
        // 5 ms at 1 Mbit/s = 5000 bits, the other 5000 at 2 Mbit/s = 2.5 ms.
        assert_eq!(s.book(ms(0), 1250).finish, SimTime::from_micros(7_500));
        // 10 000 bits from 7.5 ms at 2 Mbit/s = 5 ms.
        assert_eq!(s.book(ms(0), 1250).finish, SimTime::from_micros(12_500));
        // From 12.5: 7.5 ms at 2 Mbit/s = 15 000 bits, pause until 30, 5 000 bits at 1 Mbit/s.
        assert_eq!(s.book(ms(0), 2500).finish, ms(35));
        assert_eq!(s.nominal_rate(ms(25)), Some(Rate::ZERO));
    }

    /// A rate of zero for ever must give "never", not a panic or a wrapped time.
    #[test]
    fn a_zero_rate_never_finishes() {
        let mut s = Server::new(&RateSchedule::constant(Rate::ZERO), SimTime::ZERO);
        assert_eq!(s.book(ms(1), 100).finish, SimTime::MAX);
        assert_eq!(s.book(ms(2), 100).finish, SimTime::MAX);
    }
}
