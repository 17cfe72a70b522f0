//! Jitter: a random extra delay per packet, with or without reordering.
//!
//! Without reordering a packet may not overtake the one before it: it leaves at
//! `max(now + extra, previous leave time)`, as libwebrtc's `SimulatedNetwork` does when
//! `allow_reordering` is off. This is how jitter looks on most real paths (one queue, FIFO), and
//! it means a large draw delays the packets behind it too. With reordering each packet leaves at
//! `now + extra` and later packets may overtake; packets are then held in a heap keyed on
//! (leave time, arrival order), so equal times leave in arrival order and runs are reproducible.
//!
//! The extra delay is drawn with integer and basic IEEE arithmetic only (the normal shape is an
//! Irwin–Hall sum of twelve uniforms, not Box–Muller), because `ln`, `sin` and `cos` may round
//! differently on different platforms, and a seed must give the same run everywhere.

use std::cmp::Ordering;
use std::collections::{BinaryHeap, VecDeque};

use rand_chacha::ChaCha8Rng;

use crate::packet::InFlight;
use crate::seed::{below, unit_f64};
use crate::stage::{Control, Sink, Stage, earliest};
use crate::time::{SimDuration, SimTime};

/// The distribution of the extra delay jitter adds to each packet.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum JitterDistribution {
    /// No jitter.
    #[default]
    None,
    /// Uniform on `[0, max]`, to the nanosecond.
    Uniform {
        /// The largest extra delay.
        max: SimDuration,
    },
    /// Normal with this mean and standard deviation (approximated by an Irwin–Hall sum of twelve
    /// uniforms, so within ±6σ), negative draws clamped to zero.
    Normal {
        /// The mean extra delay.
        mean: SimDuration,
        /// The standard deviation.
        std_dev: SimDuration,
    },
}

/// Jitter settings.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct JitterConfig {
    /// The extra delay's distribution. Default: none.
    pub distribution: JitterDistribution,
    /// Whether packets may overtake each other. Default: no.
    pub reorder: bool,
}

/// A packet in the reordering heap, ordered so the heap's top is the earliest to leave.
#[derive(Debug)]
struct HeapEntry<T> {
    at: SimTime,
    order: u64,
    packet: InFlight<T>,
}

impl<T> HeapEntry<T> {
    fn key(&self) -> (SimTime, u64) {
        (self.at, self.order)
    }
}

impl<T> PartialEq for HeapEntry<T> {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}

impl<T> Eq for HeapEntry<T> {}

impl<T> PartialOrd for HeapEntry<T> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl<T> Ord for HeapEntry<T> {
    /// Reversed: `BinaryHeap` is a max-heap and we want the earliest first.
    fn cmp(&self, other: &Self) -> Ordering {
        other.key().cmp(&self.key())
    }
}

#[derive(Debug)]
enum Held<T> {
    /// Leave times are non-decreasing; `last` is the latest handed out.
    Fifo {
        queue: VecDeque<(SimTime, InFlight<T>)>,
        last: SimTime,
    },
    Heap {
        heap: BinaryHeap<HeapEntry<T>>,
        next_order: u64,
    },
}

/// Adds a random extra delay to each packet.
#[derive(Debug)]
pub struct Jitter<T, S> {
    distribution: JitterDistribution,
    rng: ChaCha8Rng,
    held: Held<T>,
    inner: S,
}

impl<T, S> Jitter<T, S> {
    /// A jitter stage drawing from `rng` in front of `inner`.
    pub fn new(config: JitterConfig, rng: ChaCha8Rng, inner: S) -> Self {
        let held = if config.reorder {
            Held::Heap {
                heap: BinaryHeap::new(),
                next_order: 0,
            }
        } else {
            Held::Fifo {
                queue: VecDeque::new(),
                last: SimTime::ZERO,
            }
        };
        Self {
            distribution: config.distribution,
            rng,
            held,
            inner,
        }
    }

    #[inline]
    fn draw(&mut self) -> SimDuration {
        match self.distribution {
            JitterDistribution::None => SimDuration::ZERO,
            JitterDistribution::Uniform { max } => {
                SimDuration::from_nanos(below(&mut self.rng, max.as_nanos().saturating_add(1)))
            }
            JitterDistribution::Normal { mean, std_dev } => {
                let z = (0..12).map(|_| unit_f64(&mut self.rng)).sum::<f64>() - 6.0;
                let ns = mean.as_nanos() as f64 + std_dev.as_nanos() as f64 * z;
                // `as` saturates, and maps negative values to zero.
                SimDuration::from_nanos(ns.round() as u64)
            }
        }
    }
}

impl<T, S: Stage<T>> Stage<T> for Jitter<T, S> {
    #[inline]
    fn handle(&mut self, now: SimTime, packet: InFlight<T>, sink: &mut Sink<T>) {
        if self.distribution == JitterDistribution::None {
            return self.inner.handle(now, packet, sink);
        }
        let at = now + self.draw();
        match &mut self.held {
            Held::Fifo { queue, last } => {
                *last = at.max(*last);
                queue.push_back((*last, packet));
            }
            Held::Heap { heap, next_order } => {
                heap.push(HeapEntry {
                    at,
                    order: *next_order,
                    packet,
                });
                *next_order += 1;
            }
        }
    }

    #[inline]
    fn advance(&mut self, now: SimTime, sink: &mut Sink<T>) {
        match &mut self.held {
            Held::Fifo { queue, .. } => {
                while queue.front().is_some_and(|(at, _)| *at <= now) {
                    if let Some((at, packet)) = queue.pop_front() {
                        self.inner.handle(at, packet, sink);
                    }
                }
            }
            Held::Heap { heap, .. } => {
                while heap.peek().is_some_and(|h| h.at <= now) {
                    if let Some(h) = heap.pop() {
                        self.inner.handle(h.at, h.packet, sink);
                    }
                }
            }
        }
        self.inner.advance(now, sink);
    }

    #[inline]
    fn next_event(&self) -> Option<SimTime> {
        let own = match &self.held {
            Held::Fifo { queue, .. } => queue.front().map(|(at, _)| *at),
            Held::Heap { heap, .. } => heap.peek().map(|h| h.at),
        };
        earliest(own, self.inner.next_event())
    }

    fn control(&mut self, now: SimTime, command: &Control<'_>, sink: &mut Sink<T>) -> bool {
        self.inner.control(now, command, sink)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::link::tests::drain;
    use crate::{Link, LinkConfig, Packet};

    fn run(reorder: bool, distribution: JitterDistribution) -> Vec<crate::Delivered<u64>> {
        let config = LinkConfig {
            delay: SimDuration::from_millis(20),
            jitter: JitterConfig {
                distribution,
                reorder,
            },
            ..LinkConfig::default()
        };
        let mut link = Link::new(&config, 9).expect("valid config");
        for i in 0..20_000u64 {
            // One packet per ms; jitter up to 10 ms makes overtaking possible.
            link.handle_packet(SimTime::from_millis(i), Packet::new(i, 1000));
        }
        drain(&mut link, SimTime::from_secs(30))
    }

    const UNIFORM_10MS: JitterDistribution = JitterDistribution::Uniform {
        max: SimDuration::from_millis(10),
    };

    /// Most paths are FIFO; an estimator must see jitter there without reordering.
    #[test]
    fn jitter_without_reordering_never_reorders() {
        let got = run(false, UNIFORM_10MS);
        assert_eq!(got.len(), 20_000);
        assert!(got.windows(2).all(|w| w[0].seq < w[1].seq));
        // And it does jitter: one-way delays spread over [20 ms, 30 ms + pile-up].
        let owd = |d: &crate::Delivered<u64>| (d.at - d.sent).as_micros();
        let (lo, hi) = (
            got.iter().map(owd).min().unwrap_or(0),
            got.iter().map(owd).max().unwrap_or(0),
        );
        assert!((20_000..20_500).contains(&lo), "{lo}");
        assert!((29_500..40_000).contains(&hi), "{hi}");
    }

    /// Reordering is the point of the option; it must actually happen, and be a minority.
    #[test]
    fn jitter_with_reordering_reorders_some_packets() {
        let got = run(true, UNIFORM_10MS);
        assert_eq!(got.len(), 20_000);
        let overtaken = got.windows(2).filter(|w| w[0].seq > w[1].seq).count();
        // Two packets 1 ms apart with independent U[0, 10 ms] extras swap with probability 0.405;
        // counting adjacent descents in delivery order gives roughly a third of packets.
        assert!((3_000..10_000).contains(&overtaken), "{overtaken}");
        for d in &got {
            let owd = (d.at - d.sent).as_nanos();
            assert!((20_000_000..=30_000_000).contains(&owd), "{d:?}");
        }
        assert!(got.windows(2).all(|w| w[0].at <= w[1].at));
    }

    /// The normal shape must have the configured mean and spread (within sampling error).
    #[test]
    fn normal_jitter_has_the_configured_mean_and_standard_deviation() {
        let got = run(
            true,
            JitterDistribution::Normal {
                mean: SimDuration::from_millis(5),
                std_dev: SimDuration::from_millis(1),
            },
        );
        let extra: Vec<f64> = got
            .iter()
            .map(|d| (d.at - d.sent).as_nanos() as f64 / 1e6 - 20.0)
            .collect();
        let n = extra.len() as f64;
        let mean = extra.iter().sum::<f64>() / n;
        let sd = (extra.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n).sqrt();
        assert!((mean - 5.0).abs() < 0.05, "{mean}");
        assert!((sd - 1.0).abs() < 0.03, "{sd}");
    }
}
