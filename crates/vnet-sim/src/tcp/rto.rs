//! [`RttEstimator`]: smoothed RTT and the retransmission timeout, per RFC 6298.
//!
//! ```text
//! first sample R:  SRTT = R, RTTVAR = R/2                          (§2.2)
//! later samples:   RTTVAR = (1 − β)·RTTVAR + β·|SRTT − R|,  β = 1/4 (§2.3, RTTVAR first)
//!                  SRTT   = (1 − α)·SRTT + α·R,             α = 1/8
//! RTO = SRTT + max(G, K·RTTVAR), K = 4, clamped to [min, max]      (§2.2–§2.5)
//! on expiry:       RTO = min(2·RTO, max)                           (§5.5)
//! ```
//!
//! Arithmetic is integer nanoseconds, so every platform computes the same timer. `G`, the clock
//! granularity, is zero: virtual time has none, and the minimum RTO dominates anyway.
//!
//! # Samples and Karn's algorithm
//!
//! Every segment carries a timestamp (RFC 7323), echoed by the receiver, so a sample is
//! unambiguous even for a retransmitted segment: the echo names the transmission that was
//! acknowledged. Karn's rule of taking no samples from retransmissions (RFC 6298 §3) exists for
//! senders without timestamps and is not needed here (RFC 7323 §4.1). Its other half, keeping
//! the backed-off RTO until a new sample arrives, holds: [`RttEstimator::on_sample`] is what
//! clears the backoff. A sample is taken from every ACK that acknowledges new data (RFC 7323
//! §4.2), with the RFC's α and β unscaled; RFC 6298 §2 asks for at least one sample per RTT
//! and RFC 7323 Appendix G's scaling by samples per window is optional.

use crate::tcp::config::RtoConfig;
use crate::time::SimDuration;

/// RFC 6298's `K`.
const K: u64 = 4;

/// SRTT, RTTVAR and the RTO of one sender.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RttEstimator {
    config: RtoConfig,
    /// `(SRTT, RTTVAR)` once there is a sample.
    smoothed: Option<(SimDuration, SimDuration)>,
    /// The RTO before backoff.
    base: SimDuration,
    /// Consecutive expiries since the last sample.
    backoffs: u32,
}

impl RttEstimator {
    /// An estimator with no sample yet: the RTO is `config.initial`.
    pub fn new(config: RtoConfig) -> Self {
        Self {
            config,
            smoothed: None,
            base: config.initial.min(config.max),
            backoffs: 0,
        }
    }

    /// Takes an RTT sample (RFC 6298 §2.2–§2.3) and clears any backoff.
    pub fn on_sample(&mut self, rtt: SimDuration) {
        let r = rtt.as_nanos();
        let (srtt, rttvar) = match self.smoothed {
            None => (r, r / 2),
            Some((srtt, rttvar)) => {
                let (s, v) = (srtt.as_nanos(), rttvar.as_nanos());
                let rttvar = (3 * u128::from(v) + u128::from(s.abs_diff(r))) / 4;
                let srtt = (7 * u128::from(s) + u128::from(r)) / 8;
                (saturate(srtt), saturate(rttvar))
            }
        };
        let rto = srtt.saturating_add(rttvar.saturating_mul(K));
        self.smoothed = Some((
            SimDuration::from_nanos(srtt),
            SimDuration::from_nanos(rttvar),
        ));
        self.base = SimDuration::from_nanos(rto).clamp(self.config.min, self.config.max);
        self.backoffs = 0;
    }

    /// The timer expired: doubles the RTO up to the maximum (RFC 6298 §5.5).
    pub fn on_timeout(&mut self) {
        self.backoffs = self.backoffs.saturating_add(1);
    }

    /// The current RTO, backoff included.
    pub fn rto(&self) -> SimDuration {
        let factor = 1u64.checked_shl(self.backoffs).unwrap_or(u64::MAX);
        self.base.saturating_mul(factor).min(self.config.max)
    }

    /// The smoothed RTT; `None` before the first sample.
    pub fn srtt(&self) -> Option<SimDuration> {
        self.smoothed.map(|(srtt, _)| srtt)
    }

    /// The RTT variation; `None` before the first sample.
    pub fn rttvar(&self) -> Option<SimDuration> {
        self.smoothed.map(|(_, rttvar)| rttvar)
    }

    /// Expiries since the last sample.
    pub fn backoffs(&self) -> u32 {
        self.backoffs
    }
}

fn saturate(n: u128) -> u64 {
    u64::try_from(n).unwrap_or(u64::MAX)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> SimDuration {
        SimDuration::from_millis(n)
    }

    /// RFC 6298 §2.1: before any sample the timer must be the conservative 1 s.
    #[test]
    fn the_rto_is_one_second_before_any_sample() {
        let e = RttEstimator::new(RtoConfig::RFC6298);
        assert_eq!(e.rto(), ms(1_000));
        assert_eq!(e.srtt(), None);
    }

    /// The equations of RFC 6298 §2.2–§2.3, checked by hand on two samples.
    #[test]
    fn samples_follow_the_rfc_6298_equations() {
        let mut e = RttEstimator::new(RtoConfig {
            min: ms(1),
            ..RtoConfig::RFC6298
        });
        e.on_sample(ms(100));
        assert_eq!((e.srtt(), e.rttvar()), (Some(ms(100)), Some(ms(50))));
        assert_eq!(e.rto(), ms(300));
        e.on_sample(ms(200));
        // RTTVAR = 3/4·50 + 1/4·|100 − 200| = 62.5; SRTT = 7/8·100 + 1/8·200 = 112.5.
        assert_eq!(e.rttvar(), Some(SimDuration::from_micros(62_500)));
        assert_eq!(e.srtt(), Some(SimDuration::from_micros(112_500)));
        assert_eq!(e.rto(), SimDuration::from_micros(362_500));
    }

    /// A 100 ms path must still wait the RFC's 1 s, or Linux's 200 ms when asked.
    #[test]
    fn the_rto_is_clamped_to_the_configured_minimum() {
        for (config, floor) in [(RtoConfig::RFC6298, ms(1_000)), (RtoConfig::LINUX, ms(200))] {
            let mut e = RttEstimator::new(config);
            for _ in 0..50 {
                e.on_sample(ms(20));
            }
            assert_eq!(e.rto(), floor);
        }
    }

    /// Exponential backoff (RFC 6298 §5.5) is what keeps a dead path from being flooded; a new
    /// sample ends it.
    #[test]
    fn each_timeout_doubles_the_rto_up_to_the_maximum_and_a_sample_resets_it() {
        let mut e = RttEstimator::new(RtoConfig::RFC6298);
        let mut seen = Vec::new();
        for _ in 0..8 {
            e.on_timeout();
            seen.push(e.rto().as_millis() / 1_000);
        }
        assert_eq!(seen, vec![2, 4, 8, 16, 32, 60, 60, 60]);
        for _ in 0..100 {
            e.on_timeout();
        }
        assert_eq!(e.rto(), ms(60_000));
        e.on_sample(ms(100));
        assert_eq!(e.rto(), ms(1_000));
    }
}
