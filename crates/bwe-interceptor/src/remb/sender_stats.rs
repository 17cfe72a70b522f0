//! What the REMB reader publishes: the cap the remote asked for and the loss-based target this
//! endpoint runs under it.

use bwe_core::{Bitrate, TimeDelta};

/// Figures of a [`RembSenderInterceptor`](crate::RembSenderInterceptor).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub struct RembSenderStats {
    /// The bitrate of the latest valid REMB received.
    pub remb_cap: Option<Bitrate>,
    /// Valid REMB messages received.
    pub rembs_received: u64,
    /// REMB messages with a bitrate that is not a rate (negative, NaN, infinite); ignored.
    pub invalid_rembs: u64,
    /// The loss-based controller's target under the REMB cap, when this endpoint runs one.
    pub loss_target: Option<Bitrate>,
    /// The loss fraction the receiver reports gave, over the controller's last window.
    pub loss_fraction: Option<f64>,
    /// Round-trip time from receiver reports answering our sender reports.
    pub rtt: Option<TimeDelta>,
    /// Reception-report blocks about our streams that were used.
    pub report_blocks: u64,
    /// The last target attached for rtc's pacer (on our pacer: for the interceptors
    /// application-ward).
    pub pacer_target: Option<Bitrate>,
}
