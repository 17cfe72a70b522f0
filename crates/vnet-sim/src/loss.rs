//! Random loss: independent (Bernoulli) or in bursts (Gilbert–Elliott).
//!
//! # Gilbert–Elliott from (mean loss, mean burst)
//!
//! A two-state Markov chain advanced once per packet: in *Good* no packet is lost, in *Bad* every
//! packet is (Gilbert's original model; Elliott's generalisation, with loss probabilities
//! `1 - k` in Good and `1 - h` in Bad, is this with `k = 1, h = 0`). With `p = P(Good → Bad)` and
//! `r = P(Bad → Good)`:
//!
//! - a burst (a run of losses) lasts as long as the chain stays in Bad: geometric, mean `L = 1/r`;
//! - the stationary share of Bad, and so the mean loss rate, is `π = p / (p + r)`.
//!
//! Solving for the transition probabilities from the two numbers people actually know:
//!
//! ```text
//! r = 1 / L
//! p = r·π / (1 − π) = π / (L·(1 − π))
//! ```
//!
//! `p ≤ 1` requires `π ≤ L / (1 + L)`: with bursts of one packet on average no more than half of
//! the packets can be lost, since every burst must be followed by at least one delivery. Outside
//! that, or for `L < 1` or `π ∉ [0, 1)`, the model is rejected with a [`ConfigError`].
//!
//! Per packet the chain first moves, then the packet is lost if the chain is in Bad. It starts in
//! Good. Parametrising by (π, L) rather than by (p, r) is what NetEm's `loss gemodel` leaves to
//! its users and what RFC 8867-style test descriptions specify.

use rand_chacha::ChaCha8Rng;

use crate::config::ConfigError;
use crate::packet::InFlight;
use crate::seed::Chance;
use crate::stage::{Control, Sink, Stage};
use crate::stats::DropCause;
use crate::time::SimTime;

/// Which random loss a link applies.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum LossModel {
    /// No random loss.
    #[default]
    None,
    /// Each packet is lost independently with `probability` (in `[0, 1]`).
    Bernoulli {
        /// Probability that a packet is lost.
        probability: f64,
    },
    /// Bursty loss (see the module docs).
    GilbertElliott {
        /// The long-run share of packets lost, in `[0, 1)`.
        mean_loss: f64,
        /// The mean number of consecutive losses in a burst, at least 1.
        mean_burst: f64,
    },
}

impl LossModel {
    /// Checks the parameters.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.decider().map(|_| ())
    }

    fn decider(&self) -> Result<Decider, ConfigError> {
        match *self {
            LossModel::None => Ok(Decider::None),
            LossModel::Bernoulli { probability } => {
                ConfigError::check_probability("loss probability", probability)?;
                Ok(Decider::Bernoulli(Chance::new(probability)))
            }
            LossModel::GilbertElliott {
                mean_loss,
                mean_burst,
            } => GilbertElliott::new(mean_loss, mean_burst).map(Decider::GilbertElliott),
        }
    }
}

/// The Gilbert–Elliott chain.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(crate) struct GilbertElliott {
    enter_bad: Chance,
    leave_bad: Chance,
    bad: bool,
}

impl GilbertElliott {
    fn new(mean_loss: f64, mean_burst: f64) -> Result<Self, ConfigError> {
        let invalid = |reason: &'static str| ConfigError::GilbertElliott {
            mean_loss,
            mean_burst,
            reason,
        };
        if !(0.0..1.0).contains(&mean_loss) {
            return Err(invalid("the mean loss must be in [0, 1)"));
        }
        if !(mean_burst >= 1.0 && mean_burst.is_finite()) {
            return Err(invalid("the mean burst length must be a finite number ≥ 1"));
        }
        if mean_loss > mean_burst / (1.0 + mean_burst) {
            return Err(invalid(
                "the mean loss exceeds L/(1+L): bursts this short cannot lose that much",
            ));
        }
        let r = 1.0 / mean_burst;
        let p = mean_loss / (mean_burst * (1.0 - mean_loss));
        Ok(Self {
            enter_bad: Chance::new(p),
            leave_bad: Chance::new(r),
            bad: false,
        })
    }

    /// Moves the chain one packet on; `true` if that packet is lost.
    #[inline]
    pub(crate) fn lose(&mut self, rng: &mut ChaCha8Rng) -> bool {
        self.bad = if self.bad {
            !self.leave_bad.happens(rng)
        } else {
            self.enter_bad.happens(rng)
        };
        self.bad
    }
}

#[derive(Clone, Copy, Debug, PartialEq)]
enum Decider {
    None,
    Bernoulli(Chance),
    GilbertElliott(GilbertElliott),
}

/// Drops packets at random, following a [`LossModel`].
#[derive(Clone, Debug)]
pub struct Loss<S> {
    decider: Decider,
    rng: ChaCha8Rng,
    inner: S,
}

impl<S> Loss<S> {
    /// A loss stage drawing from `rng` in front of `inner`.
    pub fn new(model: LossModel, rng: ChaCha8Rng, inner: S) -> Result<Self, ConfigError> {
        Ok(Self {
            decider: model.decider()?,
            rng,
            inner,
        })
    }

    #[inline]
    fn lose(&mut self) -> bool {
        match &mut self.decider {
            Decider::None => false,
            Decider::Bernoulli(chance) => chance.happens(&mut self.rng),
            Decider::GilbertElliott(ge) => ge.lose(&mut self.rng),
        }
    }
}

impl<T, S: Stage<T>> Stage<T> for Loss<S> {
    #[inline]
    fn handle(&mut self, now: SimTime, packet: InFlight<T>, sink: &mut Sink<T>) {
        if self.lose() {
            sink.drop_packet(now, packet, DropCause::Loss);
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
    use super::*;
    use crate::seed::stream;

    /// Mean loss and mean burst length over `n` packets.
    fn measure(model: LossModel, seed: u64, n: usize) -> (f64, f64) {
        let mut stage = Loss::new(model, stream(seed, "loss"), crate::Exit).expect("valid");
        let (mut lost, mut bursts, mut in_burst) = (0usize, 0usize, false);
        for _ in 0..n {
            let l = stage.lose();
            if l {
                lost += 1;
                if !in_burst {
                    bursts += 1;
                }
            }
            in_burst = l;
        }
        (lost as f64 / n as f64, lost as f64 / bursts.max(1) as f64)
    }

    fn within(actual: f64, expected: f64, rel: f64) -> bool {
        (actual - expected).abs() <= expected * rel
    }

    /// Scenario authors specify (loss, burst); the derived chain must honour both.
    #[test]
    fn gilbert_elliott_matches_the_configured_mean_loss_and_burst_length() {
        for (mean_loss, mean_burst) in [(0.05, 3.0), (0.01, 1.5), (0.2, 8.0)] {
            let model = LossModel::GilbertElliott {
                mean_loss,
                mean_burst,
            };
            let (loss, burst) = measure(model, 11, 1_000_000);
            assert!(within(loss, mean_loss, 0.05), "{model:?}: loss {loss}");
            assert!(within(burst, mean_burst, 0.05), "{model:?}: burst {burst}");
        }
    }

    /// Independent loss must hit its rate and come in bursts of 1/(1−p), as theory says.
    #[test]
    fn bernoulli_loss_matches_the_configured_probability() {
        let (loss, burst) = measure(LossModel::Bernoulli { probability: 0.1 }, 5, 1_000_000);
        assert!(within(loss, 0.1, 0.02), "loss {loss}");
        assert!(within(burst, 1.0 / 0.9, 0.02), "burst {burst}");
        assert_eq!(
            measure(LossModel::Bernoulli { probability: 0.0 }, 5, 1000).0,
            0.0
        );
        assert_eq!(
            measure(LossModel::Bernoulli { probability: 1.0 }, 5, 1000).0,
            1.0
        );
    }

    /// Impossible parameter pairs must be refused with the reason, not silently clamped.
    #[test]
    fn impossible_gilbert_elliott_parameters_are_rejected() {
        for (mean_loss, mean_burst) in [
            (0.6, 1.0),
            (0.1, 0.5),
            (1.0, 5.0),
            (-0.1, 2.0),
            (f64::NAN, 2.0),
            (0.1, f64::INFINITY),
        ] {
            let model = LossModel::GilbertElliott {
                mean_loss,
                mean_burst,
            };
            assert!(model.validate().is_err(), "{model:?}");
        }
        // The boundary itself is valid: L = 1, π = 1/2 alternates lost and delivered.
        let edge = LossModel::GilbertElliott {
            mean_loss: 0.5,
            mean_burst: 1.0,
        };
        assert!(edge.validate().is_ok());
        assert!(
            LossModel::Bernoulli {
                probability: f64::NAN
            }
            .validate()
            .is_err()
        );
        assert!(
            LossModel::Bernoulli { probability: 1.5 }
                .validate()
                .is_err()
        );
    }
}
