//! Duplication: with some probability a packet is passed on twice.
//!
//! The copy follows the original at the same instant, so it shares the original's fate in every
//! stage that does not draw per packet; a loss or jitter stage after this one treats it as a
//! packet of its own, as a network that duplicates (a retransmitting radio link, a routing loop)
//! would. Copies carry the original's sequence number and are flagged as duplicates.

use rand_chacha::ChaCha8Rng;

use crate::config::ConfigError;
use crate::packet::InFlight;
use crate::seed::Chance;
use crate::stage::{Control, Sink, Stage};
use crate::time::SimTime;

/// Passes some packets on twice.
#[derive(Clone, Debug)]
pub struct Duplicate<S> {
    chance: Chance,
    rng: ChaCha8Rng,
    inner: S,
}

impl<S> Duplicate<S> {
    /// Duplicates each packet with `probability` (in `[0, 1]`), drawing from `rng`.
    pub fn new(probability: f64, rng: ChaCha8Rng, inner: S) -> Result<Self, ConfigError> {
        ConfigError::check_probability("duplication probability", probability)?;
        Ok(Self {
            chance: Chance::new(probability),
            rng,
            inner,
        })
    }
}

impl<T: Clone, S: Stage<T>> Stage<T> for Duplicate<S> {
    #[inline]
    fn handle(&mut self, now: SimTime, packet: InFlight<T>, sink: &mut Sink<T>) {
        if self.chance.happens(&mut self.rng) {
            let mut copy = packet.clone();
            copy.duplicate = true;
            sink.stats_mut().duplicated.add(copy.size());
            self.inner.handle(now, packet, sink);
            self.inner.handle(now, copy, sink);
        } else {
            self.inner.handle(now, packet, sink);
        }
    }

    #[inline]
    fn advance(&mut self, now: SimTime, sink: &mut Sink<T>) {
        self.inner.advance(now, sink);
    }

    #[inline]
    fn next_event(&self) -> Option<SimTime> {
        self.inner.next_event()
    }

    fn control(&mut self, now: SimTime, command: &Control<'_>, sink: &mut Sink<T>) -> bool {
        self.inner.control(now, command, sink)
    }
}

#[cfg(test)]
mod tests {
    use crate::link::tests::drain;
    use crate::{Link, LinkConfig, Packet, SimDuration, SimTime};

    /// Duplication must hit its rate, and each copy arrive with its original.
    #[test]
    fn duplication_delivers_the_configured_share_twice() {
        let config = LinkConfig {
            duplicate: 0.2,
            delay: SimDuration::from_millis(10),
            ..LinkConfig::default()
        };
        let mut link = Link::new(&config, 3).expect("valid config");
        let n = 100_000u64;
        for i in 0..n {
            link.handle_packet(SimTime::from_micros(i * 10), Packet::new(i, 200));
        }
        let got = drain(&mut link, SimTime::from_secs(2));
        let copies = got.iter().filter(|d| d.duplicate).count() as f64;
        assert!((copies / n as f64 - 0.2).abs() < 0.004, "{copies}");
        assert_eq!(got.len() as u64, n + link.stats().duplicated.packets);
        for pair in got.windows(2).filter(|w| w[1].duplicate) {
            assert_eq!(pair[0].packet, pair[1].packet);
            assert_eq!(pair[0].at, pair[1].at);
            assert!(!pair[0].duplicate);
        }
    }
}
