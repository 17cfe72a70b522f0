//! Ready-made [`LinkConfig`]s for common paths.
//!
//! Presets are plain constructors, so a scenario can start from one and override a field with
//! struct-update syntax: `LinkConfig { delay: SimDuration::from_millis(50), ..LinkConfig::wired() }`.

use crate::config::LinkConfig;
use crate::queue::QueueLimit;
use crate::rate::Rate;
use crate::schedule::RateSchedule;
use crate::time::SimDuration;

impl LinkConfig {
    /// A good wired path: 100 Mbit/s, 5 ms one-way, a drop-tail queue of 50 ms at capacity
    /// (625 kB, a typical home-router buffer), no random loss or jitter. Fast enough that a
    /// single call never fills it, so it tests the endpoints rather than the network.
    pub fn wired() -> Self {
        LinkConfig {
            capacity: Rate::from_mbps(100).into(),
            queue: QueueLimit::Time(SimDuration::from_millis(50)),
            delay: SimDuration::from_millis(5),
            ..LinkConfig::default()
        }
    }
}

impl LinkConfig {
    /// The forward path of RFC 8867 §5.1 ("Variable Available Capacity with a Single Flow"):
    /// 1.0 Mbit/s, 2.5 Mbit/s from 40 s, 0.6 Mbit/s from 60 s, 1.0 Mbit/s from 80 s (the test
    /// runs 100 s); 50 ms one-way propagation delay; a drop-tail queue of 300 ms at the current
    /// capacity (the RFC's recommended queue length, §4.3).
    pub fn rfc8867_5_1() -> Self {
        let step = |s: u64, kbps: u64| (SimDuration::from_secs(s), Rate::from_kbps(kbps));
        LinkConfig {
            capacity: RateSchedule::steps(
                Rate::from_kbps(1_000),
                [step(40, 2_500), step(60, 600), step(80, 1_000)],
            ),
            queue: QueueLimit::Time(SimDuration::from_millis(300)),
            delay: SimDuration::from_millis(50),
            ..LinkConfig::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{Link, Packet, SimTime};

    /// The preset's documented numbers are what a packet experiences: 1250 bytes take 0.1 ms to
    /// serialise at 100 Mbit/s, then 5 ms on the wire.
    #[test]
    fn wired_delivers_after_serialisation_plus_five_ms() {
        let config = LinkConfig::wired();
        assert_eq!(config.validate(), Ok(()));
        let mut link = Link::new(&config, 1).expect("valid preset");
        link.handle_packet(SimTime::ZERO, Packet::new((), 1250));
        let got = crate::link::tests::drain(&mut link, SimTime::from_secs(1));
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].at, SimTime::from_micros(5_100));
    }

    /// The RFC 8867 §5.1 preset has the RFC's capacity steps, delay and queue length.
    #[test]
    fn rfc8867_5_1_follows_the_rfc_schedule() {
        let config = LinkConfig::rfc8867_5_1();
        assert_eq!(config.validate(), Ok(()));
        let at = |s: u64| config.capacity.nominal_rate_at(SimDuration::from_secs(s));
        assert_eq!(at(0), Some(Rate::from_kbps(1_000)));
        assert_eq!(at(39), Some(Rate::from_kbps(1_000)));
        assert_eq!(at(40), Some(Rate::from_kbps(2_500)));
        assert_eq!(at(60), Some(Rate::from_kbps(600)));
        assert_eq!(at(99), Some(Rate::from_kbps(1_000)));
        assert_eq!(config.delay, SimDuration::from_millis(50));
        assert_eq!(
            config.queue,
            QueueLimit::Time(SimDuration::from_millis(300))
        );
    }
}
