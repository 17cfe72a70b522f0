//! [`PacerConfig`]: the pacer's settings, with libwebrtc's values where it has one.

use crate::units::{Bitrate, TimeDelta};

/// Settings for [`super::Pacer`]. Defaults are libwebrtc's where it has one (revision of
/// `modules/pacing/pacing_controller.cc` and `goog_cc` as cited per field).
#[derive(Debug, Clone)]
pub struct PacerConfig {
    /// The target before the controller announces one (the estimator's start rate).
    pub start: Bitrate,
    /// Pacing rate = target × this (2.5, libwebrtc `kDefaultPaceMultiplier`): an encoder's
    /// frame burst drains within a fraction of a frame interval without the pacer becoming a
    /// queue of its own.
    pub pacing_factor: f64,
    /// The longest the queue may take to drain at the pacing rate before the rate is raised
    /// (2 s, libwebrtc `kMaxExpectedQueueLength`).
    pub max_queue_time: TimeDelta,
    /// Media that has waited longer than this when its turn comes is dropped, not sent (see
    /// the queue time limit in [`super::Pacer`]'s docs); `None` keeps everything. 1 s, the
    /// same age past which a retransmission is refused: a packet the receiver could no longer
    /// have repaired is not worth its first transmission either.
    pub queue_time_limit: Option<TimeDelta>,
    /// The most packets held (2 048); arrivals beyond are refused.
    pub queue_limit: usize,
    /// The least time between the first two retransmissions of one packet, doubled for each
    /// further one (250 ms: a few round trips on a short path, two and a half of rtc's 100 ms
    /// NACK intervals).
    pub min_retransmit_interval: TimeDelta,
    /// Retransmissions of packets first queued longer ago than this are refused (1 s,
    /// libwebrtc's shortest packet-history duration, `kMinPacketDurationMs`): a receiver's
    /// jitter buffer has given up on them, and after a capacity drop resending the losses of
    /// the drop would keep the bottleneck full for seconds.
    pub max_retransmit_age: TimeDelta,
    /// The queue the congestion window accepts on top of one RTT of data (350 ms, libwebrtc
    /// `kDefaultAcceptedQueueMs`); `None` turns the window off.
    pub accepted_queue: Option<TimeDelta>,
    /// Whether probe clusters are sent (true). Off, the pacer still paces, throttles
    /// retransmissions and applies the congestion window.
    pub probing: bool,
}

impl Default for PacerConfig {
    fn default() -> Self {
        Self {
            start: Bitrate::from_kbps(300),
            pacing_factor: 2.5,
            max_queue_time: TimeDelta::from_secs(2),
            queue_time_limit: Some(TimeDelta::from_secs(1)),
            queue_limit: 2_048,
            min_retransmit_interval: TimeDelta::from_millis(250),
            max_retransmit_age: TimeDelta::from_secs(1),
            accepted_queue: Some(TimeDelta::from_millis(350)),
            probing: true,
        }
    }
}
