//! Propagation delay: every packet leaves a set time after it arrives, and that time may change
//! in steps ([`DelaySchedule`]), as a path's latency does after a route change or a handover.
//!
//! A constant delay keeps packets in arrival order by itself, so a FIFO holds them in leaving
//! order; no heap is needed. The FIFO grows to the number of packets in flight over the delay and
//! keeps that capacity, so the steady state allocates nothing.
//!
//! # When the delay drops
//!
//! A packet arriving after a decrease would, at the new delay, leave before packets still on the
//! wire. Unless the link allows reordering it leaves when the packet ahead of it does
//! (`max(now + delay, previous leave)`, the rule the jitter stage follows without reordering):
//! the decrease then shows as a burst of packets arriving together, as on a path that keeps one
//! queue. With reordering allowed ([`crate::JitterConfig::reorder`], the link's one switch for
//! overtaking) the packet leaves at `now + delay` and overtakes, as after a route change where
//! the old route's packets are still in flight; it is then inserted in leaving order, after
//! packets leaving at the same instant. An increase never reorders. Packets already on the wire
//! keep the delay they were sent with.

use std::collections::VecDeque;

use crate::packet::InFlight;
use crate::stage::{Control, Sink, Stage, earliest};
use crate::time::{SimDuration, SimTime};

/// A propagation delay over time: `initial` until the first step, then each step's delay from
/// its offset on. Offsets count from the moment the schedule takes effect: the start of the
/// simulation for the one a link is built with, `now` for one installed with
/// [`crate::Link::set_delay`], so a schedule means the same thing whenever a scenario applies it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct DelaySchedule {
    initial: SimDuration,
    /// Sorted by offset; at equal offsets the later entry wins.
    steps: Vec<(SimDuration, SimDuration)>,
}

impl DelaySchedule {
    /// The same delay throughout.
    pub fn constant(delay: SimDuration) -> Self {
        Self {
            initial: delay,
            steps: Vec::new(),
        }
    }

    /// `initial` until the first step, then each `(offset, delay)`. The steps may be given in any
    /// order; they are sorted by offset, and at equal offsets the one given last wins.
    pub fn steps(
        initial: SimDuration,
        steps: impl IntoIterator<Item = (SimDuration, SimDuration)>,
    ) -> Self {
        let mut steps: Vec<_> = steps.into_iter().collect();
        steps.sort_by_key(|&(offset, _)| offset); // stable: later duplicates stay later
        Self { initial, steps }
    }

    /// The delay before the first step.
    pub fn initial(&self) -> SimDuration {
        self.initial
    }

    /// The steps, sorted by offset.
    pub fn changes(&self) -> &[(SimDuration, SimDuration)] {
        &self.steps
    }

    /// The delay in force `offset` after the schedule took effect.
    pub fn delay_at(&self, offset: SimDuration) -> SimDuration {
        let i = self.steps.partition_point(|&(at, _)| at <= offset);
        match i.checked_sub(1).and_then(|j| self.steps.get(j)) {
            Some(&(_, delay)) => delay,
            None => self.initial,
        }
    }
}

impl From<SimDuration> for DelaySchedule {
    fn from(delay: SimDuration) -> Self {
        Self::constant(delay)
    }
}

/// Holds every packet for the delay in force when it arrives.
#[derive(Clone, Debug)]
pub struct Delay<T, S> {
    schedule: DelaySchedule,
    /// When `schedule` took effect.
    since: SimTime,
    /// Whether a packet may leave before one that arrived earlier (see the module docs).
    reorder: bool,
    /// In leaving order.
    in_flight: VecDeque<(SimTime, InFlight<T>)>,
    inner: S,
}

impl<T, S> Delay<T, S> {
    /// Delays every packet by `delay` before `inner`. A zero delay passes packets straight on.
    pub fn new(delay: SimDuration, inner: S) -> Self {
        Self::with_schedule(DelaySchedule::constant(delay), false, inner)
    }

    /// Delays each packet by the delay `schedule` gives when it arrives (offsets from the start
    /// of the simulation), in front of `inner`; `reorder` lets a packet arriving after a
    /// decrease overtake packets still on the wire.
    pub fn with_schedule(schedule: DelaySchedule, reorder: bool, inner: S) -> Self {
        let capacity = if schedule == DelaySchedule::default() {
            0
        } else {
            64
        };
        Self {
            schedule,
            since: SimTime::ZERO,
            reorder,
            in_flight: VecDeque::with_capacity(capacity),
            inner,
        }
    }

    /// Replaces the schedule from `now` on; its offsets count from `now`. Packets on the wire
    /// keep the delay they were sent with.
    pub fn set_schedule(&mut self, now: SimTime, schedule: DelaySchedule) {
        self.schedule = schedule;
        self.since = now;
    }
}

impl<T, S: Stage<T>> Stage<T> for Delay<T, S> {
    #[inline]
    fn handle(&mut self, now: SimTime, packet: InFlight<T>, sink: &mut Sink<T>) {
        let delay = self
            .schedule
            .delay_at(now.saturating_duration_since(self.since));
        if delay == SimDuration::ZERO && self.in_flight.is_empty() {
            return self.inner.handle(now, packet, sink);
        }
        let at = now + delay;
        match self.in_flight.back() {
            Some(&(last, _)) if at < last => {
                if self.reorder {
                    let i = self.in_flight.partition_point(|(t, _)| *t <= at);
                    self.in_flight.insert(i, (at, packet));
                } else {
                    self.in_flight.push_back((last, packet));
                }
            }
            _ => self.in_flight.push_back((at, packet)),
        }
    }

    #[inline]
    fn advance(&mut self, now: SimTime, sink: &mut Sink<T>) {
        while self.in_flight.front().is_some_and(|(at, _)| *at <= now) {
            if let Some((at, packet)) = self.in_flight.pop_front() {
                self.inner.handle(at, packet, sink);
            }
        }
        self.inner.advance(now, sink);
    }

    #[inline]
    fn next_event(&self) -> Option<SimTime> {
        earliest(
            self.in_flight.front().map(|(at, _)| *at),
            self.inner.next_event(),
        )
    }

    fn control(&mut self, now: SimTime, command: &Control<'_>, sink: &mut Sink<T>) -> bool {
        match command {
            Control::SetDelay(schedule) => {
                self.set_schedule(now, (*schedule).clone());
                true
            }
            _ => self.inner.control(now, command, sink),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::DelaySchedule;
    use crate::jitter::JitterConfig;
    use crate::link::tests::drain;
    use crate::{Link, LinkConfig, Packet, SimDuration, SimTime};

    /// Propagation delay is the floor of every one-way delay an estimator sees; it must be exact.
    #[test]
    fn every_packet_arrives_exactly_the_propagation_delay_later() {
        let config = LinkConfig {
            delay: SimDuration::from_millis(25),
            ..LinkConfig::default()
        };
        let mut link = Link::new(&config, 0).expect("valid config");
        link.handle_packet(SimTime::ZERO, Packet::new(0, 1200));
        assert_eq!(link.poll_timeout(), Some(SimTime::from_millis(25)));
        for i in 1..100u64 {
            link.handle_packet(SimTime::from_micros(i * 333), Packet::new(i, 1200));
        }
        let got = drain(&mut link, SimTime::from_secs(1));
        assert_eq!(got.len(), 100);
        for d in got {
            assert_eq!(d.at - d.sent, SimDuration::from_millis(25), "{d:?}");
        }
    }

    const MS: fn(u64) -> SimDuration = SimDuration::from_millis;

    /// Scenario files list steps in whatever order; the schedule must not depend on it.
    #[test]
    fn schedule_steps_are_sorted_and_the_last_of_equal_offsets_wins() {
        let s = DelaySchedule::steps(
            MS(50),
            [(MS(20), MS(10)), (MS(10), MS(80)), (MS(20), MS(5))],
        );
        assert_eq!(s.delay_at(MS(0)), MS(50));
        assert_eq!(s.delay_at(MS(10)), MS(80));
        assert_eq!(s.delay_at(MS(19)), MS(80));
        assert_eq!(s.delay_at(MS(20)), MS(5));
        assert_eq!(s.delay_at(SimDuration::MAX), MS(5));
    }

    /// One packet every ms for 100 ms over a link whose delay goes 50 → 100 ms at 30 ms and
    /// → 10 ms at 60 ms; `(sent ms, one-way delay ms)` of each delivery, in delivery order.
    fn stepped(reorder: bool) -> Vec<(u64, u64)> {
        let config = LinkConfig {
            delay: MS(50),
            delay_steps: vec![(MS(30), MS(100)), (MS(60), MS(10))],
            jitter: JitterConfig {
                reorder,
                ..JitterConfig::default()
            },
            ..LinkConfig::default()
        };
        let mut link = Link::new(&config, 0).expect("valid config");
        for i in 0..100u64 {
            link.handle_packet(SimTime::from_millis(i), Packet::new(i, 100));
        }
        drain(&mut link, SimTime::from_secs(1))
            .iter()
            .map(|d| (d.sent.as_millis(), (d.at - d.sent).as_millis()))
            .collect()
    }

    /// A path whose latency changes is what a delay-based estimator must follow; each packet
    /// must see the delay in force when it was sent, and an increase must reorder nothing.
    #[test]
    fn each_packet_takes_the_delay_in_force_when_it_is_sent() {
        let got = stepped(true);
        assert_eq!(got.len(), 100);
        for &(sent, owd) in &got {
            let want = match sent {
                0..30 => 50,
                30..60 => 100,
                _ => 10,
            };
            assert_eq!(owd, want, "sent at {sent} ms");
        }
        let before_the_drop: Vec<u64> = got.iter().map(|g| g.0).filter(|&s| s < 60).collect();
        assert_eq!(before_the_drop, (0..60).collect::<Vec<_>>());
    }

    /// Without reordering a drop in delay must not let packets overtake (most paths are one
    /// queue); they bunch up behind the last packet sent at the old delay instead.
    #[test]
    fn a_delay_decrease_does_not_reorder_unless_reordering_is_allowed() {
        let fifo = stepped(false);
        let sent: Vec<u64> = fifo.iter().map(|g| g.0).collect();
        assert_eq!(
            sent,
            (0..100).collect::<Vec<_>>(),
            "delivered in sending order"
        );
        // Sent at 60 ms, it waits for the one sent at 59 ms (due at 159 ms): 99 ms, not 10.
        assert!(fifo.contains(&(60, 99)), "{fifo:?}");
        // Every later one leaves with it at 159 ms, the last (sent at 99 ms) after 60 ms.
        assert_eq!(fifo.last(), Some(&(99, 60)));

        let reordered = stepped(true);
        assert!(reordered.contains(&(60, 10)) && reordered.contains(&(99, 10)));
        let sent: Vec<u64> = reordered.iter().map(|g| g.0).collect();
        // Sent at 60 ms with 10 ms, it leaves at 70 ms with the one sent at 20 ms (after it:
        // ties leave in arrival order) and ahead of the thirty sent at 100 ms.
        assert_eq!(sent[..21], (0..21).collect::<Vec<_>>());
        assert_eq!(sent[21], 60);
    }

    /// A harness applies a scenario's delay schedule when media starts: offsets must count from
    /// then, and packets on the wire must keep the delay they were sent with.
    #[test]
    fn set_delay_counts_offsets_from_now_and_spares_packets_in_flight() {
        let config = LinkConfig {
            delay: MS(40),
            ..LinkConfig::default()
        };
        let mut link = Link::new(&config, 0).expect("valid config");
        link.handle_packet(SimTime::from_millis(0), Packet::new(0u8, 100));
        link.set_delay(
            SimTime::from_millis(5),
            DelaySchedule::steps(MS(20), [(MS(10), MS(70))]),
        )
        .expect("a LinkConfig link has a delay stage");
        for (i, t) in [(1u8, 5u64), (2, 14), (3, 15)] {
            link.handle_packet(SimTime::from_millis(t), Packet::new(i, 100));
        }
        let got: Vec<(u8, u64)> = drain(&mut link, SimTime::from_secs(1))
            .iter()
            .map(|d| (d.packet.payload, d.at.as_millis()))
            .collect();
        assert_eq!(got, vec![(0, 40), (1, 40), (2, 40), (3, 85)]);
    }
}
