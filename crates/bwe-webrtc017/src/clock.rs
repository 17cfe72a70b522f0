//! The one place the crate reads a clock.
//!
//! webrtc-rs 0.17 runs interceptors as tokio tasks with no notion of a supplied time, so an
//! interceptor has to read one. It reads tokio's: `tokio::time::Instant::now()` follows
//! `tokio::time::pause()` / `advance()`, so a test with a paused runtime controls every instant
//! the estimator sees. Converted to `std::time::Instant` here, and to bwe-core `Timestamp`s by
//! [`crate::epoch::Epoch`], so the state machines below take plain instants as inputs.

use std::time::Instant;

/// Now, on tokio's clock.
pub fn now() -> Instant {
    tokio::time::Instant::now().into_std()
}
