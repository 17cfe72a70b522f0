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
    /// rtc refused to register a header extension or feedback type on the media engine.
    #[error("media engine registration failed: {0}")]
    MediaEngine(String),
}
