//! One call that makes a 0.17 `Registry` and `MediaEngine` REMB-capable
//! ([`configure_remb_bwe`]), or send-side capable ([`configure_send_side_bwe`]).
//!
//! **REMB.**
//! Both halves go in, because a PeerConnection usually sends and receives: the
//! [`AbsSendTimeStamper`](crate::AbsSendTimeStamper) on local streams (0.17 stamps no send time
//! by itself) and the [`RembInterceptor`](crate::RembInterceptor) on remote streams. Both are
//! added first, so that in 0.17's chain they sit next to the transport: the stamper then stamps
//! NACK retransmissions too, and the generator sees arrivals before any other interceptor's work.
//! NACK (generator and responder) and RTCP reports come from webrtc 0.17's own
//! `configure_nack` / `configure_rtcp_reports`. TWCC is not added: a sender reacting to REMB
//! ignores it, and the 0.17 default chain (`register_default_interceptors`) adds only its
//! receiver half anyway.

use interceptor::registry::Registry;
use webrtc::api::interceptor_registry::{configure_nack, configure_rtcp_reports};
use webrtc::api::media_engine::MediaEngine;
use webrtc::rtp_transceiver::rtp_codec::{RTCRtpHeaderExtensionCapability, RTPCodecType};
use webrtc::rtp_transceiver::{RTCPFeedback, TYPE_RTCP_FB_GOOG_REMB};

use bwe_core::controller::ControllerConfig;
use interceptor::twcc::receiver::Receiver as TwccReceiver;
use webrtc::rtp_transceiver::TYPE_RTCP_FB_TRANSPORT_CC;

use crate::config::{ConfigError, RembConfig};
use crate::extension_id::ABS_SEND_TIME_URI;
use crate::handle::RembHandle;
use crate::remb_interceptor::RembInterceptorBuilder;
use crate::send_side::{SendSideHandle, SendSideInterceptorBuilder, TRANSPORT_CC_URI};
use crate::stamper::AbsSendTimeStamperBuilder;

/// Setting up REMB on a registry failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SetupError {
    /// The REMB settings cannot work.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The MediaEngine refused a header extension.
    #[error("registering {uri} for {kind}: {source}")]
    HeaderExtension {
        /// The extension's URI.
        uri: &'static str,
        /// "audio" or "video".
        kind: &'static str,
        /// What the MediaEngine said.
        #[source]
        source: webrtc::Error,
    },
}

/// [`configure_remb_bwe_with`] the default [`RembConfig`].
pub fn configure_remb_bwe(
    registry: Registry,
    media_engine: &mut MediaEngine,
) -> Result<(Registry, RembHandle), SetupError> {
    configure_remb_bwe_with(registry, media_engine, RembConfig::default())
}

/// Registers abs-send-time for video and the `goog-remb` feedback on `media_engine`; adds the
/// abs-send-time stamper, the REMB generator (with `config`), NACK and RTCP reports to
/// `registry`. Returns the registry and the handle to read the estimate.
///
/// `register_default_codecs` already lists `goog-remb` for video; like 0.17's `configure_nack`
/// with `nack`, the feedback is registered again so that a MediaEngine with custom codecs gets
/// it too (the SDP then repeats the line, which peers accept).
pub fn configure_remb_bwe_with(
    mut registry: Registry,
    media_engine: &mut MediaEngine,
    config: RembConfig,
) -> Result<(Registry, RembHandle), SetupError> {
    let builder = RembInterceptorBuilder::new(config)?;
    let handle = builder.handle();
    media_engine
        .register_header_extension(
            RTCRtpHeaderExtensionCapability {
                uri: ABS_SEND_TIME_URI.to_owned(),
            },
            RTPCodecType::Video,
            None,
        )
        .map_err(|source| SetupError::HeaderExtension {
            uri: ABS_SEND_TIME_URI,
            kind: "video",
            source,
        })?;
    media_engine.register_feedback(
        RTCPFeedback {
            typ: TYPE_RTCP_FB_GOOG_REMB.to_owned(),
            parameter: String::new(),
        },
        RTPCodecType::Video,
    );
    registry.add(Box::new(AbsSendTimeStamperBuilder));
    registry.add(Box::new(builder));
    let registry = configure_nack(registry, media_engine);
    let registry = configure_rtcp_reports(registry);
    Ok((registry, handle))
}

/// [`configure_send_side_bwe_with`] the default [`ControllerConfig`].
pub fn configure_send_side_bwe(
    registry: Registry,
    media_engine: &mut MediaEngine,
) -> Result<(Registry, SendSideHandle), SetupError> {
    configure_send_side_bwe_with(registry, media_engine, ControllerConfig::default())
}

/// Registers the transport-wide sequence number extension and the `transport-cc` feedback for
/// audio and video on `media_engine`; adds the send side (estimator, pacer, probing; with
/// `config`) first, so it sits next to the transport, then 0.17's TWCC receiver (feedback for
/// what this PeerConnection receives), NACK (generator and responder; 0.17 resends on the
/// media SSRC, it has no RTX) and RTCP reports. Returns the registry and the handle the
/// application reads its encoder target from.
///
/// The application must read RTCP from each `RTCRtpSender` in a loop
/// (`sender.read_rtcp().await`), as 0.17 requires for NACK: that loop is what carries feedback
/// to the estimator.
pub fn configure_send_side_bwe_with(
    mut registry: Registry,
    media_engine: &mut MediaEngine,
    config: ControllerConfig,
) -> Result<(Registry, SendSideHandle), SetupError> {
    for (codec, kind) in [
        (RTPCodecType::Video, "video"),
        (RTPCodecType::Audio, "audio"),
    ] {
        media_engine
            .register_header_extension(
                RTCRtpHeaderExtensionCapability {
                    uri: TRANSPORT_CC_URI.to_owned(),
                },
                codec,
                None,
            )
            .map_err(|source| SetupError::HeaderExtension {
                uri: TRANSPORT_CC_URI,
                kind,
                source,
            })?;
        media_engine.register_feedback(
            RTCPFeedback {
                typ: TYPE_RTCP_FB_TRANSPORT_CC.to_owned(),
                parameter: String::new(),
            },
            codec,
        );
    }
    let builder = SendSideInterceptorBuilder::new(config);
    let handle = builder.handle();
    registry.add(Box::new(builder));
    registry.add(Box::new(TwccReceiver::builder()));
    let registry = configure_nack(registry, media_engine);
    let registry = configure_rtcp_reports(registry);
    Ok((registry, handle))
}
