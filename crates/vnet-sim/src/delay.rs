//! Propagation delay: every packet leaves exactly a fixed time after it arrives.
//!
//! Packets arrive in time order and all wait the same, so a FIFO holds them in leaving order; no
//! heap is needed. The FIFO grows to the number of packets in flight over the delay and keeps that
//! capacity, so the steady state allocates nothing.

use std::collections::VecDeque;

use crate::packet::InFlight;
use crate::stage::{Control, Sink, Stage, earliest};
use crate::time::{SimDuration, SimTime};

/// Holds every packet for a fixed time.
#[derive(Clone, Debug)]
pub struct Delay<T, S> {
    delay: SimDuration,
    in_flight: VecDeque<(SimTime, InFlight<T>)>,
    inner: S,
}

impl<T, S> Delay<T, S> {
    /// Delays every packet by `delay` before `inner`. A zero delay passes packets straight on.
    pub fn new(delay: SimDuration, inner: S) -> Self {
        Self {
            delay,
            in_flight: VecDeque::with_capacity(if delay == SimDuration::ZERO { 0 } else { 64 }),
            inner,
        }
    }
}

impl<T, S: Stage<T>> Stage<T> for Delay<T, S> {
    #[inline]
    fn handle(&mut self, now: SimTime, packet: InFlight<T>, sink: &mut Sink<T>) {
        if self.delay == SimDuration::ZERO {
            self.inner.handle(now, packet, sink);
        } else {
            self.in_flight.push_back((now + self.delay, packet));
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
        self.inner.control(now, command, sink)
    }
}

#[cfg(test)]
mod tests {
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
}
