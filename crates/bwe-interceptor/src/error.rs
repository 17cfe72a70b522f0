//! Errors are values: a configuration that cannot work is refused when the component is built,
//! with the offending value in the message, never discovered later as a panic or a silent no-op.

use std::time::Duration;

/// A configuration value outside what the component can work with.
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

/// Building a chain failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ChainError {
    /// One of our components refused its configuration.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// rtc refused a registration on the media engine (e.g. no free header-extension id).
    #[error("rtc refused the configuration: {0}")]
    Rtc(#[from] rtc::shared::error::Error),
}
