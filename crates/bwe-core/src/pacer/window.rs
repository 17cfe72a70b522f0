//! The congestion window and the encoder pushback it drives.
//!
//! As libwebrtc's pacer does (`PacingController::Congested`, fed by goog_cc's
//! `UpdateCongestionWindowSize`), media is held while the bytes in flight reach the window,
//! `(RTT + accepted_queue) × target`, at least 3 000 bytes (`kMinCwndBytes`); the accepted queue
//! is 350 ms (`kDefaultAcceptedQueueMs`) and the RTT the smallest of the last 5–10 s (see
//! [`super::flight`]). Until a round-trip time is known there is no window.
//!
//! The encoder is pushed back as well (libwebrtc's `CongestionWindowPushbackController`): each
//! update scales a ratio by how full the window is — (bytes in flight + bytes queued) / window —
//! by 0.9 above 1.5, by 0.95 above 1, by 1.05 (up to 1) below that, and resets it to 1 below
//! 0.1. The queued bytes count, as libwebrtc's `AddPacingToCongestionWindowPushback` trial has
//! it, so a backlog held by the window keeps the encoder down until it has drained. The target
//! × the ratio, never below 30 kbit/s (`kDefaultMinPushbackTargetBitrateBps`) unless the target
//! itself is, is the encoder target.

use crate::units::{Bitrate, DataSize, TimeDelta};

/// The smallest congestion window (libwebrtc `kMinCwndBytes`, two full-size packets).
const MIN_CONGESTION_WINDOW_BYTES: u64 = 3_000;

/// The pushback never takes the encoder target below this (unless the target itself is).
const MIN_PUSHBACK_TARGET: Bitrate = Bitrate::from_kbps(30);

/// The window for `target` over a path of `rtt` with `accepted_queue` on top.
pub(crate) fn congestion_window(
    target: Bitrate,
    rtt: TimeDelta,
    accepted_queue: TimeDelta,
) -> DataSize {
    let span = rtt + accepted_queue;
    let bytes = (target.as_bps_f64() * span.as_secs_f64() / 8.0) as u64;
    DataSize::from_bytes(bytes.max(MIN_CONGESTION_WINDOW_BYTES))
}

/// The encoder pushback ratio and the target it yields.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Pushback {
    ratio: f64,
    target: Option<Bitrate>,
}

impl Default for Pushback {
    fn default() -> Self {
        Self {
            ratio: 1.0,
            target: None,
        }
    }
}

impl Pushback {
    /// Scales the ratio by the window's fill (`outstanding` / `window`) and recomputes the
    /// pushed-back target of `target`; returns whether that target changed.
    pub(crate) fn update(&mut self, outstanding: u64, window: DataSize, target: Bitrate) -> bool {
        let fill = outstanding as f64 / window.bytes() as f64;
        self.ratio = if fill > 1.5 {
            self.ratio * 0.9
        } else if fill > 1.0 {
            self.ratio * 0.95
        } else if fill < 0.1 {
            1.0
        } else {
            (self.ratio * 1.05).min(1.0)
        };
        let before = self.target;
        self.target = (self.ratio < 1.0).then(|| {
            let pushed = target.mul_f64(self.ratio);
            if pushed < MIN_PUSHBACK_TARGET {
                target.min(MIN_PUSHBACK_TARGET)
            } else {
                pushed
            }
        });
        self.target != before
    }

    /// The pushed-back encoder target; `None` while the ratio is 1.
    pub(crate) fn target(&self) -> Option<Bitrate> {
        self.target
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The window is one round trip plus the accepted queue of the target, never below two
    /// full-size packets.
    #[test]
    fn the_window_is_rtt_plus_accepted_queue_of_the_target() {
        let w = congestion_window(
            Bitrate::from_kbps(1_000),
            TimeDelta::from_millis(50),
            TimeDelta::from_millis(350),
        );
        // 400 ms of 1 Mbit/s, truncated after a floating-point product.
        assert!((49_999..=50_000).contains(&w.bytes()), "{w}");
        let tiny = congestion_window(
            Bitrate::from_kbps(10),
            TimeDelta::from_millis(10),
            TimeDelta::ZERO,
        );
        assert_eq!(tiny, DataSize::from_bytes(3_000));
    }

    /// An overfull window lowers the encoder target step by step down to the 30 kbit/s floor,
    /// and an empty one lifts it at once.
    #[test]
    fn an_overfull_window_pushes_back_to_the_floor_and_an_empty_one_releases() {
        let mut p = Pushback::default();
        let target = Bitrate::from_kbps(1_000);
        let window = DataSize::from_bytes(10_000);
        assert!(p.update(20_000, window, target));
        assert_eq!(p.target(), Some(Bitrate::from_kbps(900)));
        for _ in 0..100 {
            p.update(20_000, window, target);
        }
        assert_eq!(p.target(), Some(Bitrate::from_kbps(30)));
        assert!(p.update(500, window, target));
        assert_eq!(p.target(), None);
    }
}
