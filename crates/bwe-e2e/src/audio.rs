//! [`AudioSender`]: the [`AudioModel`]'s frames written as real Opus samples on a real
//! `TrackLocalStaticSample`, so they take the same path as [`crate::VideoSender`]'s VP8 frames:
//! webrtc's Opus payloader, the interceptor chain (pacer, TWCC sequence numbers, NACK history),
//! SRTP and the simulated socket.
//!
//! The sender never reads a target: audio in WebRTC runs at a fixed, configured rate, and what
//! the estimator must learn is how much room it leaves video (see [`crate::audio_model`]).
//!
//! Each frame starts with a real Opus TOC byte (RFC 6716 §3.1): configuration 15 (hybrid,
//! fullband, 20 ms), mono, one frame per packet (code 0), what libopus produces for fullband
//! speech around 32 kbit/s. Nothing on the path decodes it; it is there so that a capture reads
//! as Opus. The rest of the payload is filler of the model's size.

use std::sync::Arc;
use std::time::Instant;

use rtc::media::Sample;
use rtc::media_stream::MediaStreamTrack;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodingParameters, RTCRtpEncodingParameters, RtpCodecKind,
};
use vnet_sim::SimTime;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;

use crate::audio_model::{AudioConfig, AudioFrame, AudioModel};
use crate::error::CallError;
use crate::estimator::{OPUS_PAYLOAD_TYPE, opus_codec};

/// The audio SSRC of every call (fixed, so nothing about the stream depends on a draw).
pub const AUDIO_SSRC: u32 = 0x0B5E_0A01;

/// The Opus TOC byte every frame starts with: config 15 (hybrid FB 20 ms) `<< 3`, mono, code 0
/// (RFC 6716 §3.1, Table 2).
const OPUS_TOC: u8 = 15 << 3;

/// An Opus track fed by an audio model.
pub struct AudioSender {
    track: Arc<TrackLocalStaticSample>,
    model: AudioModel,
    ssrc: u32,
}

impl std::fmt::Debug for AudioSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AudioSender")
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl AudioSender {
    /// A track created at `now` (the runtime's instant), on [`AUDIO_SSRC`]. Its clock starts at
    /// the first [`AudioSender::send_due`].
    pub fn new(now: Instant, config: AudioConfig) -> Result<Self, CallError> {
        Self::with_ssrc(now, config, AUDIO_SSRC)
    }

    /// The same on a chosen SSRC, so that several flows of one simulation are told apart by
    /// fixed numbers rather than draws.
    pub fn with_ssrc(now: Instant, config: AudioConfig, ssrc: u32) -> Result<Self, CallError> {
        let encoding = RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(ssrc),
                ..Default::default()
            },
            codec: opus_codec(),
            ..Default::default()
        };
        let track = TrackLocalStaticSample::new(
            now,
            MediaStreamTrack::new(
                "bwe-e2e".to_owned(),
                "audio".to_owned(),
                "audio".to_owned(),
                RtpCodecKind::Audio,
                vec![encoding],
            ),
        )
        .map_err(|e| CallError::webrtc("creating the audio track", e))?;
        Ok(Self {
            track: Arc::new(track),
            model: AudioModel::new(config),
            ssrc,
        })
    }

    /// Its SSRC.
    pub fn ssrc(&self) -> u32 {
        self.ssrc
    }

    /// The track, to add to the sending peer connection.
    pub fn track(&self) -> Arc<dyn TrackLocal> {
        Arc::clone(&self.track) as Arc<dyn TrackLocal>
    }

    /// The audio model (its rate, frames so far).
    pub fn model(&self) -> &AudioModel {
        &self.model
    }

    /// When the next frame is due; `None` before the first [`AudioSender::send_due`].
    pub fn poll_timeout(&self) -> Option<SimTime> {
        self.model.poll_timeout()
    }

    /// Writes every frame due at or before `now` to the track and returns them; `instant_at`
    /// maps a simulation time to the runtime's clock, for each frame's capture instant. The
    /// first call starts the clock and sends the first frame.
    pub async fn send_due(
        &mut self,
        now: SimTime,
        instant_at: impl Fn(SimTime) -> Instant,
    ) -> Result<Vec<AudioFrame>, CallError> {
        let mut sent = Vec::new();
        while let Some(frame) = self.model.poll_frame(now) {
            let mut data = vec![0xA5_u8; frame.size.max(1)];
            data[0] = OPUS_TOC;
            self.track
                .sample_writer(self.ssrc, OPUS_PAYLOAD_TYPE)
                .write_sample(&Sample {
                    data: data.into(),
                    // How far the RTP timestamp advances after this frame: longer than one
                    // frame for a comfort-noise frame in DTX silence.
                    duration: frame.duration.to_std(),
                    ..Sample::new(instant_at(frame.at))
                })
                .await
                .map_err(|e| CallError::webrtc("writing an audio sample", e))?;
            sent.push(frame);
        }
        Ok(sent)
    }

    /// Drops every frame due at or before `now` without writing it, and returns how many: the
    /// application muted or paused its media. The clock keeps running, so that frames resume on
    /// their slots rather than in a catch-up burst. The first call starts the clock.
    pub fn skip_due(&mut self, now: SimTime) -> u64 {
        let mut skipped = 0;
        while self.model.poll_frame(now).is_some() {
            skipped += 1;
        }
        skipped
    }
}
