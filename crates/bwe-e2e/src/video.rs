//! [`VideoSender`]: the [`EncoderModel`]'s frames written as real VP8 samples on a real
//! `TrackLocalStaticSample`, so they go through webrtc's packetiser, the interceptor chain
//! (pacer, TWCC sequence numbers, NACK history), SRTP and the simulated socket like any
//! application's media. Never a mock: a shortcut here would skip exactly the parts an estimator
//! is sensitive to (packet sizes, bursts, pacing).

use std::sync::Arc;
use std::time::{Duration, Instant};

use bwe_core::Bitrate;
use rtc::media::Sample;
use rtc::media_stream::MediaStreamTrack;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodingParameters, RTCRtpEncodingParameters, RTCRtpRtxParameters, RtpCodecKind,
};
use vnet_sim::SimTime;
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;

use crate::encoder::{EncoderConfig, EncoderModel, Frame};
use crate::error::CallError;
use crate::estimator::{VP8_PAYLOAD_TYPE, vp8_codec};

/// The media SSRC of every call (fixed, so nothing about the stream depends on a draw).
pub const VIDEO_SSRC: u32 = 0x0B5E_0001;
/// Its RTX SSRC, when RTX is negotiated.
pub const RTX_SSRC: u32 = 0x0B5E_0002;

/// A VP8 track fed by an encoder model.
pub struct VideoSender {
    track: Arc<TrackLocalStaticSample>,
    model: EncoderModel,
    ssrc: u32,
}

impl std::fmt::Debug for VideoSender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VideoSender")
            .field("model", &self.model)
            .finish_non_exhaustive()
    }
}

impl VideoSender {
    /// A track created at `now` (the runtime's instant), with an RTX stream if `rtx`, on
    /// [`VIDEO_SSRC`] and [`RTX_SSRC`].
    pub fn new(now: Instant, config: EncoderConfig, rtx: bool) -> Result<Self, CallError> {
        Self::with_ssrcs(now, config, rtx, VIDEO_SSRC, RTX_SSRC)
    }

    /// The same on chosen SSRCs (media, RTX), so that several flows of one simulation are told
    /// apart by fixed numbers rather than draws.
    pub fn with_ssrcs(
        now: Instant,
        config: EncoderConfig,
        rtx: bool,
        ssrc: u32,
        rtx_ssrc: u32,
    ) -> Result<Self, CallError> {
        let encoding = RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(ssrc),
                rtx: rtx.then_some(RTCRtpRtxParameters { ssrc: rtx_ssrc }),
                ..Default::default()
            },
            codec: vp8_codec(),
            ..Default::default()
        };
        let track = TrackLocalStaticSample::new(
            now,
            MediaStreamTrack::new(
                "bwe-e2e".to_owned(),
                "video".to_owned(),
                "video".to_owned(),
                RtpCodecKind::Video,
                vec![encoding],
            ),
        )
        .map_err(|e| CallError::webrtc("creating the video track", e))?;
        Ok(Self {
            track: Arc::new(track),
            model: EncoderModel::new(config),
            ssrc,
        })
    }

    /// The track, to add to the sending peer connection.
    pub fn track(&self) -> Arc<dyn TrackLocal> {
        Arc::clone(&self.track) as Arc<dyn TrackLocal>
    }

    /// The encoder model (its budget, frames so far).
    pub fn model(&self) -> &EncoderModel {
        &self.model
    }

    /// Time between frames.
    pub fn frame_interval(&self) -> Duration {
        self.model.frame_interval().to_std()
    }

    /// Encodes one frame at `now` (`instant` is the same moment on the runtime's clock) for
    /// `target` and writes it to the track.
    pub async fn send_frame(
        &mut self,
        now: SimTime,
        instant: Instant,
        target: Bitrate,
    ) -> Result<Frame, CallError> {
        let frame = self.model.next_frame(now, target);
        let mut data = vec![0xAB_u8; frame.size.max(1)];
        // The VP8 frame tag's lowest bit is 0 for a key frame (RFC 6386 §9.1).
        data[0] = if frame.key { 0x10 } else { 0x11 };
        self.track
            .sample_writer(self.ssrc, VP8_PAYLOAD_TYPE)
            .write_sample(&Sample {
                data: data.into(),
                duration: self.frame_interval(),
                ..Sample::new(instant)
            })
            .await
            .map_err(|e| CallError::webrtc("writing a video sample", e))?;
        Ok(frame)
    }
}
