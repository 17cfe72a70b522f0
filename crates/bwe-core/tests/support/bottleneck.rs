//! A small deterministic bottleneck for closed-loop tests: a FIFO fluid link with a capacity
//! schedule, a drop-tail queue, one-way propagation delay and seeded Bernoulli loss.
//!
//! It is deliberately simpler than `vnet-sim`: the estimator's tests must not depend on the
//! simulator crate, and a fluid FIFO is all the delay signal needs. The queue is modelled by the
//! instant the link next becomes free: a packet entering at `t` starts service at
//! `max(t, free_at)` and takes `size / capacity` to serialise.

use bwe_core::{Bitrate, DataSize, TimeDelta, Timestamp};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// The capacity as a function of time: `(from, rate)` steps, sorted by `from`.
#[derive(Debug, Clone)]
pub struct Schedule(pub Vec<(Timestamp, Bitrate)>);

impl Schedule {
    pub fn constant(rate: Bitrate) -> Self {
        Self(vec![(Timestamp::ZERO, rate)])
    }

    pub fn steps(steps: &[(i64, u64)]) -> Self {
        Self(
            steps
                .iter()
                .map(|&(ms, kbps)| (Timestamp::from_millis(ms), Bitrate::from_kbps(kbps)))
                .collect(),
        )
    }

    pub fn at(&self, t: Timestamp) -> Bitrate {
        self.0
            .iter()
            .take_while(|(from, _)| *from <= t)
            .last()
            .map(|&(_, r)| r)
            .unwrap_or(self.0[0].1)
    }
}

/// What happened to one packet at the bottleneck.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Fate {
    /// Delivered at the receiver at this instant, having queued for the given span.
    Delivered { at: Timestamp, queued: TimeDelta },
    /// Dropped by the drop-tail queue.
    QueueDrop,
    /// Dropped by random loss.
    RandomLoss,
}

#[derive(Debug, Clone)]
pub struct Bottleneck {
    pub schedule: Schedule,
    pub one_way_delay: TimeDelta,
    pub queue_limit: TimeDelta,
    pub loss: f64,
    free_at: Timestamp,
    rng: ChaCha8Rng,
}

impl Bottleneck {
    pub fn new(
        schedule: Schedule,
        one_way_delay: TimeDelta,
        queue_limit: TimeDelta,
        seed: u64,
    ) -> Self {
        Self {
            schedule,
            one_way_delay,
            queue_limit,
            loss: 0.0,
            free_at: Timestamp::MIN,
            rng: ChaCha8Rng::seed_from_u64(seed),
        }
    }

    /// The queueing delay a packet entering now would see before its own serialisation.
    pub fn queue_delay(&self, now: Timestamp) -> TimeDelta {
        (self.free_at - now).clamp_to(TimeDelta::ZERO, TimeDelta::MAX)
    }

    /// Sends one packet into the link at `now`.
    pub fn send(&mut self, now: Timestamp, size: DataSize) -> Fate {
        let lost = self.loss > 0.0 && self.rng.random::<f64>() < self.loss;
        let queued = self.queue_delay(now);
        if queued > self.queue_limit {
            return Fate::QueueDrop;
        }
        let rate = self.schedule.at(now).bps().max(1);
        let service = TimeDelta::from_micros((size.bits() * 1_000_000 / rate) as i64);
        let start = if self.free_at > now {
            self.free_at
        } else {
            now
        };
        self.free_at = start + service;
        if lost {
            // Random loss happens on the wire after the bottleneck: the packet still used capacity.
            return Fate::RandomLoss;
        }
        Fate::Delivered {
            at: self.free_at + self.one_way_delay,
            queued,
        }
    }
}
