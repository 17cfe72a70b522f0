//! Ready-made [`LinkConfig`]s for common paths.
//!
//! Presets are plain constructors, so a scenario can start from one and override a field with
//! struct-update syntax: `LinkConfig { delay: SimDuration::from_millis(50), ..LinkConfig::wired() }`.

use crate::config::LinkConfig;
use crate::queue::QueueLimit;
use crate::rate::Rate;
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
}
