//! `tracing` events for every decision the estimators make.
//!
//! bwe-core is deliberately free of logging (it is pure math, run per packet), so the adapters
//! compare the stats before and after each input and emit one event per changed decision. Events
//! use fixed targets so a subscriber can filter by stage:
//!
//! | target | event |
//! |---|---|
//! | `bwe::detector` | the delay detector's verdict changed (normal / overusing / underusing) |
//! | `bwe::aimd` | the delay-based (AIMD) estimate changed |
//! | `bwe::loss` | the loss-based limit or the loss fraction changed |
//! | `bwe::target` | the target handed to the encoder and pacer changed |
//! | `bwe::remb` | a REMB was sent or received, a stream joined or left the REMB |
//!
//! All are `debug` except the one-off warnings (`warn`) about configuration that disables an
//! estimator. Nothing here allocates when no subscriber listens.

use bwe_core::Timestamp;
use bwe_core::receive_side::ReceiveSideStats;
use bwe_core::send_side::SendSideStats;

/// One event per decision that differs between `before` and `after`.
pub(crate) fn send_side_changes(now: Timestamp, before: &SendSideStats, after: &SendSideStats) {
    let at_ms = now.as_millis();
    if before.usage != after.usage {
        tracing::debug!(
            target: "bwe::detector",
            at_ms,
            from = ?before.usage,
            to = ?after.usage,
            trend_ms = ?after.delay_trend_ms,
            threshold_ms = ?after.threshold_ms,
            "send-side delay detector changed state"
        );
    }
    if before.delay_based != after.delay_based {
        tracing::debug!(
            target: "bwe::aimd",
            at_ms,
            from = ?before.delay_based,
            to = ?after.delay_based,
            acked = ?after.acked_bitrate,
            "send-side delay-based estimate changed"
        );
    }
    if before.loss_based != after.loss_based || before.loss_fraction != after.loss_fraction {
        tracing::debug!(
            target: "bwe::loss",
            at_ms,
            from = ?before.loss_based,
            to = ?after.loss_based,
            loss_fraction = ?after.loss_fraction,
            "send-side loss-based limit changed"
        );
    }
    if before.target != after.target {
        tracing::debug!(
            target: "bwe::target",
            at_ms,
            from = ?before.target,
            to = ?after.target,
            "send-side target changed"
        );
    }
}

/// Detector and estimate changes of the receive-side (REMB) estimator.
pub(crate) fn receive_side_changes(
    now: Timestamp,
    before: &ReceiveSideStats,
    after: &ReceiveSideStats,
) {
    let at_ms = now.as_millis();
    if before.usage != after.usage {
        tracing::debug!(
            target: "bwe::detector",
            at_ms,
            from = ?before.usage,
            to = ?after.usage,
            delay_ms = ?after.delay_estimate_ms,
            threshold_ms = ?after.threshold_ms,
            "receive-side delay detector changed state"
        );
    }
    if before.estimate != after.estimate {
        tracing::debug!(
            target: "bwe::aimd",
            at_ms,
            from = ?before.estimate,
            to = ?after.estimate,
            incoming = ?after.incoming_bitrate,
            "receive-side estimate changed"
        );
    }
    if before.live_streams != after.live_streams {
        tracing::debug!(
            target: "bwe::remb",
            at_ms,
            from = before.live_streams,
            to = after.live_streams,
            "live streams in the REMB changed"
        );
    }
}
