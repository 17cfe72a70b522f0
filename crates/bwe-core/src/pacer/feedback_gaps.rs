//! How long the congestion window must ride out a gap in feedback on a path that loses it.
//!
//! The window (see [`super::window`]) holds media once the bytes in flight reach
//! `(RTT + accepted queue) × target`. Feedback resolves bytes in flight, so when feedback
//! messages are lost on the way back, bytes stay "in flight" until the next message gets
//! through, though they were delivered long ago. With 30 % of the return path lost, three or
//! more messages in a row go missing a few times a minute (0.3³ per message at ten messages a
//! second): a 400–800 ms gap, longer than libwebrtc's 350 ms accepted queue. The window then
//! filled, the pacer stopped sending for most of a second, the pushback cut the encoder to its
//! floor, and when feedback returned the backlog left in a burst that built a 100 ms queue.
//!
//! A gap caused by lost feedback is told apart from an outage by what the feedback around it
//! says: after lost feedback, the next message shows the packets of the missing one as
//! *unknown* (no message covered them; see [`crate::FeedbackCoverage`]); after an outage the
//! packets were reported lost. So this module learns the share `f` of packets whose feedback
//! was lost and the interval `i` at which feedback comes, and allows the gap that `f` makes
//! rare: `k` messages lost in a row happens with probability `fᵏ`, so the allowance is
//! `(k + 1) × i` for the `k` with `fᵏ = 10⁻³` (at `f` = 0.3, `k` = 5.7: about 670 ms at
//! 100 ms feedback). On a path that loses no feedback the allowance is zero and the window is
//! libwebrtc's.

use crate::units::{TimeDelta, Timestamp};

/// Weight of one feedback message in the smoothed unknown share and interval.
const SMOOTHING: f64 = 0.05;
/// Below this unknown share the window is left as it is.
const MIN_SHARE: f64 = 0.01;
/// The probability of a longer run of lost feedback the allowance accepts.
const RARE: f64 = 1e-3;
/// The allowance never exceeds this: a longer silence is an outage, whatever caused it.
const MAX_ALLOWANCE: TimeDelta = TimeDelta::from_secs(1);
/// A gap longer than this is not an interval sample (an outage, a paused sender).
const MAX_INTERVAL_SAMPLE: TimeDelta = TimeDelta::from_secs(1);

/// See the module docs.
#[derive(Debug, Clone, Default)]
pub(crate) struct FeedbackGaps {
    last: Option<Timestamp>,
    /// Smoothed time between feedback messages that arrived, s.
    gap_s: Option<f64>,
    /// Smoothed share of packets whose feedback was lost.
    unknown_share: f64,
    reported: u64,
    unknown: u64,
}

impl FeedbackGaps {
    /// Packets of the message being processed: `reported` with a report, `unknown` without.
    pub(crate) fn count(&mut self, reported: u64, unknown: u64) {
        self.reported += reported;
        self.unknown += unknown;
    }

    /// A feedback message was processed at `now`.
    pub(crate) fn on_feedback(&mut self, now: Timestamp) {
        if let Some(last) = self.last {
            let gap = now - last;
            if gap.is_positive() && gap <= MAX_INTERVAL_SAMPLE {
                let g = gap.as_secs_f64();
                self.gap_s = Some(self.gap_s.map_or(g, |s| s + SMOOTHING * (g - s)));
            }
        }
        self.last = Some(now);
        let total = self.reported + self.unknown;
        if total > 0 {
            let share = self.unknown as f64 / total as f64;
            self.unknown_share += SMOOTHING * (share - self.unknown_share);
        }
        self.reported = 0;
        self.unknown = 0;
    }

    /// The smoothed share of packets whose feedback was lost.
    pub(crate) fn unknown_share(&self) -> f64 {
        self.unknown_share
    }

    /// The feedback gap the window should absorb on top of the round trip (zero while
    /// feedback is not being lost).
    pub(crate) fn allowance(&self) -> TimeDelta {
        let f = self.unknown_share;
        let Some(gap_s) = self.gap_s else {
            return TimeDelta::ZERO;
        };
        if f < MIN_SHARE {
            return TimeDelta::ZERO;
        }
        let f = f.min(0.9);
        // The gaps seen include the ones lost feedback made: the sender's interval is shorter.
        let interval = gap_s * (1.0 - f);
        let run = RARE.ln() / f.ln();
        let allowance = (run + 1.0) * interval;
        TimeDelta::try_from_secs_f64(allowance)
            .unwrap_or(MAX_ALLOWANCE)
            .min(MAX_ALLOWANCE)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn feed(g: &mut FeedbackGaps, every_ms: i64, share: f64, n: i64) {
        for i in 0..n {
            let lost = (share * 100.0) as u64;
            g.count(100 - lost, lost);
            g.on_feedback(Timestamp::from_millis(i * every_ms));
        }
    }

    #[test]
    fn clean_feedback_allows_nothing() {
        let mut g = FeedbackGaps::default();
        feed(&mut g, 100, 0.0, 200);
        assert_eq!(g.allowance(), TimeDelta::ZERO);
    }

    /// 30 % of feedback lost, messages every 100 ms (seen 143 ms apart): about 670 ms.
    #[test]
    fn lossy_feedback_allows_the_rare_run() {
        let mut g = FeedbackGaps::default();
        feed(&mut g, 143, 0.3, 400);
        let a = g.allowance();
        assert!(
            a >= TimeDelta::from_millis(600) && a <= TimeDelta::from_millis(750),
            "{a:?}"
        );
        let mut g = FeedbackGaps::default();
        feed(&mut g, 111, 0.1, 400);
        let a = g.allowance();
        assert!(
            a >= TimeDelta::from_millis(350) && a <= TimeDelta::from_millis(450),
            "{a:?}"
        );
    }
}
