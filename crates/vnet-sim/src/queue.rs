//! The bottleneck: a drop-tail FIFO queue in front of a capacity server.
//!
//! Queue and capacity are one stage because neither means anything alone: a queue limit is about
//! how long packets wait for the capacity, and the capacity is what drains the queue. This is a
//! router's output port.
//!
//! # The drop rule
//!
//! A packet arriving at `now` is admitted if `backlog + size ≤ limit`, where `backlog` is the
//! bytes in the queue not yet serialised (including the unserialised part of the packet in
//! service) and `limit` is in bytes: given directly ([`QueueLimit::Bytes`]), or as time
//! ([`QueueLimit::Time`]) converted at the nominal rate in force at `now` (the current step, or a
//! trace's nominal rate, `MahimahiTrace::nominal_rate`: its instantaneous rate is a train of
//! 1500-byte spikes). At a constant rate this admits exactly the packets whose time in the bottleneck, waiting plus their own
//! serialisation, would not exceed the limit. While the rate is zero a time limit keeps the byte
//! size it had at the last non-zero rate the queue converted (a buffer is memory and does not
//! vanish because nothing drains it), so an outage fills the queue to its usual size and then
//! drops the tail; a link that has never had a rate holds nothing.
//!
//! The alternative, a limit on each packet's predicted sojourn under the future schedule, is a
//! deadline scheduler rather than a drop-tail buffer and would empty the queue during a trace's
//! gaps; real buffers are bytes.

use std::collections::VecDeque;

use crate::packet::InFlight;
use crate::rate::Rate;
use crate::schedule::RateSchedule;
use crate::server::{Booking, Server};
use crate::stage::{Control, Sink, Stage, earliest};
use crate::stats::DropCause;
use crate::time::{SimDuration, SimTime};

/// How much a bottleneck queue holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum QueueLimit {
    /// Never drops (the default, as in mahimahi). Beware: delay then grows without bound.
    #[default]
    Unlimited,
    /// At most this many bytes queued, including the new packet.
    Bytes(u64),
    /// At most this long's worth of bytes at the nominal rate in force (see the module docs).
    Time(SimDuration),
}

#[derive(Debug)]
struct Queued<T> {
    packet: InFlight<T>,
    arrival: SimTime,
    booking: Booking,
    /// Bytes this booking serialises (less than the size for a packet re-booked mid-service).
    work: u32,
}

/// A drop-tail queue and the capacity that drains it.
#[derive(Debug)]
pub struct Bottleneck<T, S> {
    server: Server,
    limit: QueueLimit,
    /// The last time limit converted to bytes, and the rate it was converted at.
    limit_cache: Option<(Rate, u64)>,
    /// The last non-zero rate of the schedules this one replaced, for a schedule that starts
    /// at zero (see `limit_bytes`).
    earlier_rate: Option<Rate>,
    queue: VecDeque<Queued<T>>,
    /// Sum of `work` over the queue.
    queued_bytes: u64,
    inner: S,
}

impl<T, S> Bottleneck<T, S> {
    /// A bottleneck following `schedule` from the start of the simulation, in front of `inner`.
    pub fn new(schedule: &RateSchedule, limit: QueueLimit, inner: S) -> Self {
        Self {
            server: Server::new(schedule, SimTime::ZERO),
            limit,
            limit_cache: None,
            earlier_rate: None,
            queue: VecDeque::with_capacity(64),
            queued_bytes: 0,
            inner,
        }
    }

    /// Bytes queued at `now` and not yet serialised. The packet in service is taken to progress
    /// linearly between its start and finish (exact at a constant rate).
    fn backlog(&self, now: SimTime) -> u64 {
        let served = self.queue.front().map_or(0, |q| served(q, now));
        self.queued_bytes - u64::from(served)
    }

    /// The limit in bytes at `now`; `None` when there is none.
    ///
    /// A limit in time is the bytes the capacity in force carries in that time. While the
    /// capacity is zero (a link that lost its grants, a schedule's outage window) the limit of
    /// the last non-zero rate holds: a buffer is memory, sized in bytes, and does not vanish
    /// because nothing drains it, so the queue fills to its usual size and then drops the tail.
    /// Before any non-zero rate there is no such size and the limit is zero.
    #[inline]
    fn limit_bytes(&mut self, now: SimTime) -> Option<u64> {
        match self.limit {
            QueueLimit::Unlimited => None,
            QueueLimit::Bytes(bytes) => Some(bytes),
            QueueLimit::Time(span) => {
                let mut rate = self.server.nominal_rate(now)?;
                if rate == Rate::ZERO {
                    match self.server.last_nonzero_rate(now).or(self.earlier_rate) {
                        Some(earlier) => rate = earlier,
                        None => return Some(0),
                    }
                }
                match self.limit_cache {
                    Some((cached, bytes)) if cached == rate => Some(bytes),
                    _ => {
                        let bytes = rate.bytes_in(span);
                        self.limit_cache = Some((rate, bytes));
                        Some(bytes)
                    }
                }
            }
        }
    }
}

/// Bytes of `q`'s work done by `now`, interpolated linearly over its service; rounded down.
fn served<T>(q: &Queued<T>, now: SimTime) -> u32 {
    let Booking { start, finish } = q.booking;
    if now <= start || finish <= now {
        return 0;
    }
    let (elapsed, total) = ((now - start).as_nanos(), (finish - start).as_nanos());
    // elapsed < total, so the quotient is below `work`. u64 unless the product overflows.
    let done = match u64::from(q.work).checked_mul(elapsed) {
        Some(product) => product / total,
        None => (u128::from(q.work) * u128::from(elapsed) / u128::from(total)) as u64,
    };
    u32::try_from(done).unwrap_or(q.work)
}

impl<T, S: Stage<T>> Bottleneck<T, S> {
    /// Passes on every packet that has finished serialisation by `now`.
    #[inline]
    fn release(&mut self, now: SimTime, sink: &mut Sink<T>) {
        while self.queue.front().is_some_and(|q| q.booking.finish <= now) {
            if let Some(mut q) = self.queue.pop_front() {
                self.queued_bytes -= u64::from(q.work);
                let delay = q.booking.finish - q.arrival;
                sink.stats_mut().queue_delay.add(delay);
                q.packet.queue_delay = Some(delay);
                self.inner.handle(q.booking.finish, q.packet, sink);
            }
        }
    }

    /// Replaces the schedule from `now` on: the packet in service keeps the bytes it has sent and
    /// every queued packet is booked again, in order, on a server starting at `now`.
    fn set_schedule(&mut self, now: SimTime, schedule: &RateSchedule, sink: &mut Sink<T>) {
        self.release(now, sink);
        if let Some(rate) = self.server.last_nonzero_rate(now) {
            self.earlier_rate = Some(rate);
        }
        self.server = Server::new(schedule, now);
        self.queued_bytes = 0;
        for q in &mut self.queue {
            q.work -= served(q, now);
            q.booking = self.server.book(q.arrival, q.work);
            self.queued_bytes += u64::from(q.work);
        }
        self.release(now, sink);
    }
}

impl<T, S: Stage<T>> Stage<T> for Bottleneck<T, S> {
    #[inline]
    fn handle(&mut self, now: SimTime, mut packet: InFlight<T>, sink: &mut Sink<T>) {
        if self.server.is_unlimited() {
            sink.stats_mut().queue_delay.add(SimDuration::ZERO);
            packet.queue_delay = Some(SimDuration::ZERO);
            return self.inner.handle(now, packet, sink);
        }
        self.release(now, sink);
        let size = packet.size();
        if let Some(limit) = self.limit_bytes(now) {
            if self.backlog(now) + u64::from(size) > limit {
                return sink.drop_packet(now, packet, DropCause::QueueFull);
            }
        }
        let booking = self.server.book(now, size);
        if booking.finish <= now {
            // Zero-size packet on an idle link: after `release` nothing can be ahead of it.
            sink.stats_mut().queue_delay.add(SimDuration::ZERO);
            packet.queue_delay = Some(SimDuration::ZERO);
            return self.inner.handle(now, packet, sink);
        }
        self.queued_bytes += u64::from(size);
        self.queue.push_back(Queued {
            packet,
            arrival: now,
            booking,
            work: size,
        });
    }

    #[inline]
    fn advance(&mut self, now: SimTime, sink: &mut Sink<T>) {
        self.release(now, sink);
        self.inner.advance(now, sink);
    }

    #[inline]
    fn next_event(&self) -> Option<SimTime> {
        let own = self
            .queue
            .front()
            .map(|q| q.booking.finish)
            .filter(|&t| t != SimTime::MAX);
        earliest(own, self.inner.next_event())
    }

    fn control(&mut self, now: SimTime, command: &Control<'_>, sink: &mut Sink<T>) -> bool {
        match command {
            Control::SetCapacity(schedule) => {
                self.set_schedule(now, schedule, sink);
                true
            }
            _ => self.inner.control(now, command, sink),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::tests::drain;
    use crate::stats::Fate;
    use crate::{Link, LinkConfig, Packet};

    fn ms(v: u64) -> SimTime {
        SimTime::from_millis(v)
    }

    fn link(capacity: RateSchedule, queue: QueueLimit) -> Link<u64> {
        let config = LinkConfig {
            capacity,
            queue,
            record_log: true,
            ..LinkConfig::default()
        };
        Link::new(&config, 0).expect("valid config")
    }

    /// Serialisation delay is what makes capacity observable; it must be exact.
    #[test]
    fn a_1250_byte_packet_takes_exactly_10_ms_at_1_mbps() {
        let mut l = link(Rate::from_mbps(1).into(), QueueLimit::Unlimited);
        l.handle_packet(ms(3), Packet::new(7, 1250));
        assert_eq!(l.poll_timeout(), Some(ms(13)));
        assert_eq!(l.poll_delivery(SimTime::from_nanos(12_999_999)), None);
        let d = l.poll_delivery(ms(13)).expect("due at 13 ms");
        assert_eq!((d.packet.payload, d.sent, d.at), (7, ms(3), ms(13)));
        assert_eq!(
            l.stats().queue_delay.max,
            Some(SimDuration::from_millis(10))
        );
    }

    /// The limit is what bounds queuing delay in every congestion test; it must drop exactly
    /// the packets that would spend more than 300 ms in the bottleneck.
    #[test]
    fn a_300_ms_queue_drops_exactly_the_packets_that_would_exceed_300_ms() {
        // 1 Mbit/s, 1250 B = 10 ms each; 300 ms = 37 500 B = 30 packets.
        let mut l = link(
            Rate::from_mbps(1).into(),
            QueueLimit::Time(SimDuration::from_millis(300)),
        );
        // Burst of 40 at 0: packet k would leave at (k+1)·10 ms; k = 0..=29 fit, 30..=39 do not.
        for k in 0..40 {
            l.handle_packet(ms(0), Packet::new(k, 1250));
        }
        // At 55 ms packets 0..=4 have left and 5 is half sent: the backlog is 24.5 packets
        // (245 ms). Six more: the j-th would take 245 + 10·(j+1) ms; j = 0..=4 fit (≤ 295),
        // j = 5 (305 ms) does not.
        for k in 40..46 {
            l.handle_packet(ms(55), Packet::new(k, 1250));
        }
        drain(&mut l, ms(1000));
        let mut dropped: Vec<u64> = Vec::new();
        for r in l.log() {
            match r.fate {
                Fate::Dropped(DropCause::QueueFull) => dropped.push(r.seq),
                Fate::Delivered => {
                    // Delivered ones leave back to back: 0..=29 then 40..=44.
                    let slot = if r.seq < 30 { r.seq } else { r.seq - 10 };
                    assert_eq!(r.at, ms(10 * (slot + 1)), "{r:?}");
                    assert_eq!(r.queue_delay, Some(r.at - r.sent), "{r:?}");
                }
                other => panic!("unexpected fate {other:?}"),
            }
        }
        dropped.sort_unstable();
        assert_eq!(dropped, (30..40).chain([45]).collect::<Vec<_>>());
        assert_eq!(
            l.stats().queue_delay.max,
            Some(SimDuration::from_millis(300))
        );
        assert_eq!(l.stats().delivered.packets, 35);
    }

    /// A capacity of zero for a while is an outage the buffer survives: the queue keeps the
    /// byte size of its 300 ms at the last rate, fills to it and drops the tail, and what it
    /// holds is served, in order, when the capacity returns.
    #[test]
    fn a_zero_capacity_window_holds_the_usual_queue_and_serves_it_afterwards() {
        // 1 Mbit/s, then nothing from 100 ms to 1 100 ms, then 1 Mbit/s again.
        let capacity = RateSchedule::steps(
            Rate::from_mbps(1),
            [
                (SimDuration::from_millis(100), Rate::ZERO),
                (SimDuration::from_millis(1_100), Rate::from_mbps(1)),
            ],
        );
        let mut l = link(capacity, QueueLimit::Time(SimDuration::from_millis(300)));
        // One 1 250-byte packet every 10 ms, 0..2 000 ms.
        for k in 0..200 {
            l.handle_packet(ms(10 * k), Packet::new(k, 1250));
            drain(&mut l, ms(10 * k));
        }
        drain(&mut l, ms(5_000));
        let delivered: Vec<u64> = l
            .log()
            .iter()
            .filter(|r| r.fate == Fate::Delivered)
            .map(|r| r.seq)
            .collect();
        let dropped_in_outage = l
            .log()
            .iter()
            .filter(|r| r.fate == Fate::Dropped(DropCause::QueueFull) && r.sent < ms(1_100))
            .count();
        // 0..=9 leave before the outage; of its 100 arrivals, 30 (37 500 B, 300 ms at
        // 1 Mbit/s) wait through it and the other 70 are dropped.
        assert!(delivered.windows(2).all(|w| w[0] < w[1]), "in order");
        assert!(
            (69..=71).contains(&dropped_in_outage),
            "{dropped_in_outage} dropped"
        );
        let first_after = l
            .log()
            .iter()
            .find(|r| r.fate == Fate::Delivered && r.at > ms(1_100))
            .expect("served after the outage");
        assert_eq!(first_after.at, ms(1_110), "{first_after:?}");
        assert!(
            first_after.queue_delay >= Some(SimDuration::from_millis(900)),
            "{first_after:?}"
        );
    }

    /// The size kept through an outage is that of the last rate before it, read from the
    /// schedule, even when no packet arrived at that rate; a schedule installed at zero keeps
    /// the one it replaced.
    #[test]
    fn a_zero_capacity_queue_keeps_the_size_of_the_last_rate_before_it() {
        // 2 Mbit/s, 1 Mbit/s from 10 ms (no arrival at that rate), 0 from 20 ms.
        let capacity = RateSchedule::steps(
            Rate::from_mbps(2),
            [
                (SimDuration::from_millis(10), Rate::from_mbps(1)),
                (SimDuration::from_millis(20), Rate::ZERO),
            ],
        );
        let mut l = link(capacity, QueueLimit::Time(SimDuration::from_millis(100)));
        l.handle_packet(ms(0), Packet::new(0, 100));
        // 100 ms at 1 Mbit/s is 12 500 B: ten 1 250-byte packets, not twenty.
        for k in 1..=20 {
            l.handle_packet(ms(30), Packet::new(k, 1250));
        }
        assert_eq!(l.stats().dropped_queue_full.packets, 10);
        let mut l = link(
            Rate::from_mbps(1).into(),
            QueueLimit::Time(SimDuration::from_millis(100)),
        );
        l.set_capacity(ms(5), Rate::ZERO).expect("bottleneck");
        for k in 0..20 {
            l.handle_packet(ms(10), Packet::new(k, 1250));
        }
        assert_eq!(l.stats().dropped_queue_full.packets, 10);
    }

    /// A byte limit counts the newcomer: a full buffer takes nothing until bytes leave.
    #[test]
    fn a_byte_limited_queue_admits_up_to_its_limit() {
        let mut l = link(Rate::from_mbps(1).into(), QueueLimit::Bytes(3000));
        for k in 0..4 {
            l.handle_packet(ms(0), Packet::new(k, 1000)); // 3 fit
        }
        // At 12 ms packet 0 has left and 1 is half sent: (2000 − 500) + 1000 ≤ 3000 fits…
        l.handle_packet(ms(12), Packet::new(4, 1000));
        // …and then 2500 + 600 > 3000 does not.
        l.handle_packet(ms(12), Packet::new(5, 600));
        let got: Vec<u64> = drain(&mut l, ms(100))
            .iter()
            .map(|d| d.packet.payload)
            .collect();
        assert_eq!(got, vec![0, 1, 2, 4]);
        assert_eq!(l.stats().dropped_queue_full.packets, 2);
        assert_eq!(l.stats().dropped_queue_full.bytes, 1600);
    }

    /// Fault verbs change capacity mid-run; a packet half-sent must keep its progress.
    #[test]
    fn set_capacity_retimes_the_packet_in_service_and_the_queue() {
        let mut l = link(Rate::from_mbps(1).into(), QueueLimit::Unlimited);
        l.handle_packet(ms(0), Packet::new(0, 1250)); // would finish at 10 ms
        l.handle_packet(ms(0), Packet::new(1, 1250)); // would finish at 20 ms
        l.set_capacity(ms(5), Rate::from_mbps(2))
            .expect("the default link has a bottleneck");
        // 625 B left at 2 Mbit/s = 2.5 ms; then 1250 B = 5 ms.
        let got: Vec<SimTime> = drain(&mut l, ms(100)).iter().map(|d| d.at).collect();
        assert_eq!(
            got,
            vec![SimTime::from_micros(7_500), SimTime::from_micros(12_500)]
        );
        // Unlimited from now on: queued packets leave at once.
        l.handle_packet(ms(100), Packet::new(2, 1250));
        l.set_capacity(ms(101), RateSchedule::Unlimited)
            .expect("bottleneck present");
        assert_eq!(l.poll_delivery(ms(101)).map(|d| d.at), Some(ms(101)));
    }

    /// Trace-driven capacity is only useful if a saturated link delivers what the trace offers:
    /// over one period, opportunities × 1500 B, within 1 %.
    #[test]
    fn saturated_throughput_over_one_period_matches_each_trace_mean() {
        for name in [
            "Verizon-EVDO-driving.up",
            "TMobile-UMTS-driving.down",
            "TMobile-LTE-short.up",
        ] {
            let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/data")
                .join(name);
            let trace = crate::MahimahiTrace::from_file(path).expect("shipped trace parses");
            let (period, mean) = (trace.period(), trace.mean_rate());
            let mut l = link(trace.into(), QueueLimit::Unlimited);
            // Keep 64 packets queued: every delivery is replaced at once. 1200-byte packets
            // exercise opportunities shared between packets.
            let mut id = 0;
            for _ in 0..64 {
                l.handle_packet(SimTime::ZERO, Packet::new(id, 1200));
                id += 1;
            }
            let end = SimTime::ZERO + period;
            let mut bytes = 0u64;
            while let Some(now) = l.poll_timeout().filter(|&t| t <= end) {
                while let Some(d) = l.poll_delivery(now) {
                    bytes += u64::from(d.packet.size);
                    l.handle_packet(now, Packet::new(id, 1200));
                    id += 1;
                }
            }
            let got = bytes as f64 * 8.0 / period.as_secs_f64();
            let want = mean.bps() as f64;
            assert!((got / want - 1.0).abs() < 0.01, "{name}: {got} vs {want}");
            assert_eq!(l.stats().dropped_total().packets, 0);
        }
    }

    /// A stalled link must hold packets without spinning or panicking, and resume on change.
    #[test]
    fn a_zero_rate_holds_packets_until_capacity_returns() {
        let mut l = link(Rate::ZERO.into(), QueueLimit::Bytes(10_000));
        l.handle_packet(ms(0), Packet::new(0, 1250));
        assert_eq!(l.poll_timeout(), None);
        assert_eq!(l.poll_delivery(ms(1000)), None);
        l.set_capacity(ms(1000), Rate::from_mbps(1))
            .expect("bottleneck");
        assert_eq!(l.poll_timeout(), Some(ms(1010)));
        // A time limit on a link that never had a rate is zero bytes: everything is dropped.
        let mut l = link(
            Rate::ZERO.into(),
            QueueLimit::Time(SimDuration::from_millis(100)),
        );
        l.handle_packet(ms(0), Packet::new(0, 1250));
        assert_eq!(l.stats().dropped_queue_full.packets, 1);
    }
}
