//! [`FlowSpec`]: one flow of a multi-flow call — its estimator, direction, the [`Media`] it
//! sends, when it sends (start, stop, pauses) and its own access delay — and [`Activity`], the
//! question every per-flow metric asks: was this flow sending at `t`?
//!
//! A flow is "active" while the application writes frames: from `start` until `stop`, outside
//! its pauses. Activity is a property of the spec, not guessed from the trace, so a flow whose
//! estimator starved it still counts as competing (a fairness ratio must see that starvation,
//! not hide it).

use vnet_sim::SimDuration;

use crate::estimator::{Estimator, Nack};

/// Which way a flow's media crosses the bottleneck.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Direction {
    /// From a left-side host through `r1 → r2` to a right-side host (the forward bottleneck).
    #[default]
    LeftToRight,
    /// From a right-side host through `r2 → r1` to a left-side host (the backward bottleneck).
    RightToLeft,
}

/// What a flow sends: a video track (following the target), an Opus track at a fixed rate, or
/// both on one PeerConnection, as a WebRTC call usually does.
///
/// With both, the audio comes first in the budget: the video encoder gets the target minus the
/// audio's payload rate, as libwebrtc's `BitrateAllocator` serves the audio stream's allocation
/// before video's. Audio's per-packet overhead (about 26 kbit/s at 50 packets a second) is not
/// subtracted, as the video encoder model counts payload only. The alternative, audio on top of
/// a video that takes the whole target, would have the flow send ~60 kbit/s more than its
/// estimator allows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Media {
    /// A VP8 track following the target (RTX when NACK has it).
    #[default]
    Video,
    /// An Opus track at the audio model's fixed rate, and nothing else.
    Audio,
    /// Both tracks on the one PeerConnection.
    AudioVideo,
}

impl Media {
    /// Whether a video track is sent.
    pub fn has_video(self) -> bool {
        matches!(self, Self::Video | Self::AudioVideo)
    }

    /// Whether an audio track is sent.
    pub fn has_audio(self) -> bool {
        matches!(self, Self::Audio | Self::AudioVideo)
    }
}

/// One flow of a [`crate::MultiCallSpec`]. Start from [`FlowSpec::new`].
#[derive(Debug, Clone, PartialEq)]
pub struct FlowSpec {
    /// The congestion controller, on both of this flow's peers.
    pub estimator: Estimator,
    /// Which bottleneck its media crosses; its feedback crosses the other.
    pub direction: Direction,
    /// What it sends. Default [`Media::Video`].
    pub media: Media,
    /// When its first frame is written, from the start of media.
    pub start: SimDuration,
    /// When it stops for good; `None` runs to the end.
    pub stop: Option<SimDuration>,
    /// `[from, to)` windows without frames, audio and video alike (media paused; the connection
    /// stays up).
    pub pauses: Vec<(SimDuration, SimDuration)>,
    /// One-way delay of each of its two access links (sender side and receiver side), in both
    /// directions; added to the bottleneck's own delay. Default zero.
    pub access_delay: SimDuration,
    /// Loss repair. Default [`Nack::WithRtx`].
    pub nack: Nack,
}

impl FlowSpec {
    /// A forward video flow with `estimator`, sending for the whole call, no access delay.
    pub fn new(estimator: Estimator) -> Self {
        Self {
            estimator,
            direction: Direction::LeftToRight,
            media: Media::Video,
            start: SimDuration::ZERO,
            stop: None,
            pauses: Vec::new(),
            access_delay: SimDuration::ZERO,
            nack: Nack::default(),
        }
    }

    /// When the flow sends, for the metrics.
    pub fn activity(&self, duration: SimDuration) -> Activity {
        Activity {
            start: self.start,
            stop: self.stop.map_or(duration, |s| s.min(duration)),
            pauses: self.pauses.clone(),
        }
    }
}

/// When a flow writes frames: `[start, stop)` minus its pauses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Activity {
    /// First frame.
    pub start: SimDuration,
    /// No frame from here on.
    pub stop: SimDuration,
    /// `[from, to)` windows without frames.
    pub pauses: Vec<(SimDuration, SimDuration)>,
}

impl Activity {
    /// Active for the whole of `[from, to)`.
    pub fn always(from: SimDuration, to: SimDuration) -> Self {
        Self {
            start: from,
            stop: to,
            pauses: Vec::new(),
        }
    }

    /// Whether frames are written at `t`.
    pub fn is_active(&self, t: SimDuration) -> bool {
        t >= self.start && t < self.stop && !self.pauses.iter().any(|&(a, b)| t >= a && t < b)
    }

    /// Whether frames are written throughout `[from, to)`.
    pub fn covers(&self, from: SimDuration, to: SimDuration) -> bool {
        from >= self.start
            && to <= self.stop
            && !self.pauses.iter().any(|&(a, b)| a < to && b > from)
    }

    /// The instants its sending changes: start, every pause edge, stop.
    pub fn edges(&self) -> Vec<SimDuration> {
        let mut out = vec![self.start, self.stop];
        for &(a, b) in &self.pauses {
            out.extend([a, b]);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(n: u64) -> SimDuration {
        SimDuration::from_secs(n)
    }

    /// A pause is a hole in the activity: inside it the flow is not competing, around it it is.
    #[test]
    fn a_paused_flow_is_inactive_only_inside_its_pause() {
        let mut f = FlowSpec::new(Estimator::OursSendSide);
        f.start = s(5);
        f.pauses = vec![(s(20), s(40))];
        let a = f.activity(s(60));
        assert!(!a.is_active(s(4)) && a.is_active(s(5)) && a.is_active(s(19)));
        assert!(!a.is_active(s(20)) && !a.is_active(s(39)) && a.is_active(s(40)));
        assert!(!a.is_active(s(60)));
        assert!(a.covers(s(5), s(20)) && a.covers(s(40), s(60)));
        assert!(!a.covers(s(15), s(25)) && !a.covers(s(0), s(10)));
    }
}
