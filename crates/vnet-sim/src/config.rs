//! [`LinkConfig`]: the plain, typed description a [`crate::Link`] is built from, and the errors
//! building or changing a link can give.

use thiserror::Error;

use crate::blackout::Window;
use crate::delay::DelaySchedule;
use crate::jitter::JitterConfig;
use crate::loss::LossModel;
use crate::queue::QueueLimit;
use crate::schedule::RateSchedule;
use crate::time::SimDuration;

/// One direction of a link. Every field has a default that turns its stage off, so
/// `LinkConfig { delay: …, ..LinkConfig::default() }` describes just the impairments named.
///
/// The stages run in this order (see [`crate::link`] for why): bottleneck (queue, then capacity)
/// → blackout → loss → duplication → propagation delay → jitter.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct LinkConfig {
    /// The bottleneck's capacity over time. Default: [`RateSchedule::Unlimited`].
    pub capacity: RateSchedule,
    /// How much the bottleneck queue holds. Default: [`QueueLimit::Unlimited`].
    pub queue: QueueLimit,
    /// Windows in which every packet leaving the bottleneck is dropped. Default: none.
    pub blackouts: Vec<Window>,
    /// Random loss. Default: [`LossModel::None`].
    pub loss: LossModel,
    /// Probability in `[0, 1]` that a packet is delivered twice. Default: 0.
    pub duplicate: f64,
    /// Propagation delay (before the first of `delay_steps`). Default: zero.
    pub delay: SimDuration,
    /// Changes of the propagation delay: from each offset (from the start of the simulation,
    /// like the capacity schedule's), the delay given. Any order; at equal offsets the last
    /// wins. A decrease lets packets overtake only with `jitter.reorder` (see
    /// [`crate::delay`]). Default: none.
    pub delay_steps: Vec<(SimDuration, SimDuration)>,
    /// Random extra delay, and whether packets may overtake each other on this link (after a
    /// jitter draw or a delay decrease). Default: none, no overtaking.
    pub jitter: JitterConfig,
    /// Keep a [`crate::PacketRecord`] for every packet. Default: off (it costs memory per
    /// packet).
    pub record_log: bool,
}

impl LinkConfig {
    /// The propagation delay over time: `delay`, then `delay_steps`.
    pub fn delay_schedule(&self) -> DelaySchedule {
        DelaySchedule::steps(self.delay, self.delay_steps.iter().copied())
    }

    /// Checks every parameter; [`crate::Link::new`] does this too.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.loss.validate()?;
        ConfigError::check_probability("duplication probability", self.duplicate)?;
        if let Some(w) = self.blackouts.iter().find(|w| w.end < w.start) {
            return Err(ConfigError::InvertedWindow { window: *w });
        }
        Ok(())
    }
}

/// A link configuration that cannot be built.
#[derive(Clone, Debug, PartialEq, Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A probability outside `[0, 1]`, or NaN.
    #[error("{what} must be in [0, 1], got {value}")]
    Probability {
        /// Which probability.
        what: &'static str,
        /// The value given.
        value: f64,
    },
    /// Gilbert–Elliott parameters with no matching chain.
    #[error("Gilbert–Elliott loss {mean_loss} with mean burst {mean_burst}: {reason}")]
    GilbertElliott {
        /// The mean loss given.
        mean_loss: f64,
        /// The mean burst length given.
        mean_burst: f64,
        /// Why they cannot work.
        reason: &'static str,
    },
    /// A blackout window that ends before it starts.
    #[error("blackout window ends ({}) before it starts ({})", .window.end, .window.start)]
    InvertedWindow {
        /// The window given.
        window: Window,
    },
}

impl ConfigError {
    pub(crate) fn check_probability(what: &'static str, value: f64) -> Result<(), ConfigError> {
        if (0.0..=1.0).contains(&value) {
            Ok(())
        } else {
            Err(ConfigError::Probability { what, value })
        }
    }
}

/// A change to a running link that no stage of it can apply.
#[derive(Clone, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum LinkError {
    /// The link has no stage of the kind the change needs (only possible for a link assembled
    /// by hand with [`crate::Link::from_stages`]).
    #[error("this link has no {stage} stage")]
    NoSuchStage {
        /// The kind of stage needed.
        stage: &'static str,
    },
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::SimTime;

    /// A typo in a scenario must be refused at build time with the offending value.
    #[test]
    fn invalid_parameters_are_refused_with_the_value() {
        let bad_dup = LinkConfig {
            duplicate: -0.5,
            ..LinkConfig::default()
        };
        assert_eq!(
            bad_dup.validate().map_err(|e| e.to_string()),
            Err("duplication probability must be in [0, 1], got -0.5".to_owned())
        );
        let bad_window = LinkConfig {
            blackouts: vec![Window::new(
                SimTime::from_millis(9),
                SimTime::from_millis(3),
            )],
            ..LinkConfig::default()
        };
        assert!(matches!(
            bad_window.validate(),
            Err(ConfigError::InvertedWindow { .. })
        ));
        assert_eq!(LinkConfig::default().validate(), Ok(()));
    }
}
