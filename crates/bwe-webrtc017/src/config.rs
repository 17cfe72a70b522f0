//! Settings of the REMB generator, checked when it is built.

use std::time::Duration;

use bwe_core::receive_side::ReceiveSideConfig;

/// Settings for the REMB generator ([`RembInterceptorBuilder`](crate::RembInterceptorBuilder)).
#[derive(Debug, Clone)]
pub struct RembConfig {
    /// The receive-side estimator; its `stream_timeout` (2 s by default) drops silent streams.
    pub estimator: ReceiveSideConfig,
    /// A REMB is sent at least this often while there is a valid estimate (default 1 s,
    /// libwebrtc's `kRembSendInterval`).
    pub interval: Duration,
    /// A REMB is sent at once when the estimate falls by at least this fraction of the last value
    /// sent (default 0.03, libwebrtc's `kSendThresholdPercent` = 97).
    pub drop_threshold: f64,
    /// The SSRC REMBs are sent from; `None` uses the first bound local stream, or 0.
    pub sender_ssrc: Option<u32>,
}

impl Default for RembConfig {
    fn default() -> Self {
        Self {
            estimator: ReceiveSideConfig::default(),
            interval: Duration::from_secs(1),
            drop_threshold: 0.03,
            sender_ssrc: None,
        }
    }
}

impl RembConfig {
    /// `Ok(())` when every field is usable.
    pub fn validate(&self) -> Result<(), ConfigError> {
        if self.interval.is_zero() {
            return Err(ConfigError::ZeroRembInterval(self.interval));
        }
        if !(0.0..1.0).contains(&self.drop_threshold) {
            return Err(ConfigError::DropThreshold(self.drop_threshold));
        }
        Ok(())
    }
}

/// A [`RembConfig`] that cannot work.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// The periodic REMB interval must be positive, or the generator would send on every wake.
    #[error("REMB interval must be positive, got {0:?}")]
    ZeroRembInterval(Duration),
    /// The drop that triggers an immediate REMB is a fraction of the last value sent.
    #[error("REMB drop threshold must be a fraction in [0, 1), got {0}")]
    DropThreshold(f64),
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bad settings are refused when built, not discovered in the media path.
    #[test]
    fn invalid_config_is_an_error_value() {
        let zero = RembConfig {
            interval: Duration::ZERO,
            ..RembConfig::default()
        };
        assert_eq!(
            zero.validate(),
            Err(ConfigError::ZeroRembInterval(Duration::ZERO))
        );
        let bad = RembConfig {
            drop_threshold: 1.5,
            ..RembConfig::default()
        };
        assert_eq!(bad.validate(), Err(ConfigError::DropThreshold(1.5)));
        assert_eq!(RembConfig::default().validate(), Ok(()));
    }
}
