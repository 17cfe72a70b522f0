//! [`Estimator`] and [`Nack`]: which congestion controller a call runs, and how lost packets are
//! repaired; [`Endpoint`] builds the media engine and interceptor registry for one peer.
//!
//! Both peers of a call get the same chain, because each side's chain also holds the receiver
//! half of the other's estimator (the TWCC receiver, the REMB generator). Our estimators come from
//! `bwe-interceptor`'s one-call helpers, exactly as an application would build them; the baseline
//! is rtc's own `Gcc` behind `configure_congestion_control`, wrapped in a
//! [`TappedEstimator`] because it publishes its target nowhere, with NACK and RTCP reports added
//! one by one (`register_default_interceptors` would register a second TWCC receiver).
//!
//! The codec is VP8 at payload type 96, registered by hand so that whether an RTX codec (97)
//! exists is this module's decision: [`Nack::WithoutRtx`] is how the SRTP-replay collapse is
//! reproduced. Opus at 111 is registered too, for calls that add an audio track
//! ([`crate::AudioSender`]).

use std::sync::Arc;

use bwe_core::Bitrate;
use bwe_interceptor::{
    BweChainConfig, BweHandle, PacketTap, RTCP_ORDER_SLOT, RtcpOrder, TAP_SLOT, TapHandle,
    configure_bwe, register_rtx_codec,
};
use rtc::interceptor::{Gcc, Registry};
use rtc::peer_connection::configuration::interceptor_registry::{
    CongestionFeedback, configure_congestion_control, configure_nack, configure_rtcp_reports,
};
use rtc::peer_connection::configuration::media_engine::MediaEngine;
use rtc::rtp_transceiver::rtp_sender::{RTCRtpCodec, RTCRtpCodecParameters, RtpCodecKind};

use crate::error::CallError;
use crate::target::{TappedEstimator, TargetSource};

/// VP8's payload type in every call.
pub const VP8_PAYLOAD_TYPE: u8 = 96;
/// Its RTX companion's, when [`Nack::WithRtx`].
pub const RTX_PAYLOAD_TYPE: u8 = 97;

/// Where rtc's `Gcc` starts and its bounds: the same as our send-side defaults, so a comparison
/// starts from the same place.
pub const GCC_START: Bitrate = Bitrate::from_kbps(300);
const GCC_MIN: Bitrate = Bitrate::from_kbps(30);
const GCC_MAX: Bitrate = Bitrate::from_mbps(30);

/// The congestion controller of a call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Estimator {
    /// Our send-side estimator with TWCC feedback (`configure_send_side_bwe`).
    OursSendSide,
    /// The same with probe clusters off (`send_side_without_probing`), to show what probing
    /// adds.
    OursSendSideNoProbing,
    /// Our REMB path both ways (`configure_remb_bwe`): REMB from the receiver, loss control
    /// under it at the sender, a pacer enforcing the result.
    OursRemb,
    /// rtc 0.21's own `Gcc` with TWCC feedback, the baseline.
    RtcGcc,
}

impl Estimator {
    /// A short name for tables.
    pub fn name(self) -> &'static str {
        match self {
            Self::OursSendSide => "ours (send side)",
            Self::OursSendSideNoProbing => "ours (no probing)",
            Self::OursRemb => "ours (REMB)",
            Self::RtcGcc => "rtc::Gcc",
        }
    }
}

/// How the peers repair lost packets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Nack {
    /// No NACK at all.
    Off,
    /// NACK, retransmitting on an RTX stream of its own (RFC 4588). The default.
    #[default]
    WithRtx,
    /// NACK without an RTX codec: retransmissions reuse the media SSRC and sequence number.
    WithoutRtx,
}

/// One peer's media engine, registry, and (at the sender) where its target is read.
pub struct Endpoint {
    /// VP8 (and RTX if asked), with the feedback and extensions the chain registered.
    pub media_engine: MediaEngine,
    /// The interceptor chain.
    pub registry: Registry,
    /// The chain's target, as the application sees it.
    pub target: Arc<dyn TargetSource>,
    /// Our chain's handle (`None` for rtc's `Gcc`), for what its other parts published.
    pub handle: Option<BweHandle>,
}

impl std::fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Endpoint").finish_non_exhaustive()
    }
}

fn vp8() -> RTCRtpCodecParameters {
    RTCRtpCodecParameters {
        rtp_codec: RTCRtpCodec {
            mime_type: "video/VP8".to_owned(),
            clock_rate: 90_000,
            channels: 0,
            sdp_fmtp_line: String::new(),
            rtcp_feedback: Vec::new(),
        },
        payload_type: VP8_PAYLOAD_TYPE,
    }
}

/// The VP8 codec as a track's encoding names it.
pub fn vp8_codec() -> RTCRtpCodec {
    vp8().rtp_codec
}

/// Opus's payload type in every call (the one browsers offer).
pub const OPUS_PAYLOAD_TYPE: u8 = 111;

fn opus() -> RTCRtpCodecParameters {
    RTCRtpCodecParameters {
        rtp_codec: RTCRtpCodec {
            // Opus is always signalled at 48 kHz with two channels, whatever it carries
            // (RFC 7587 §7).
            mime_type: "audio/opus".to_owned(),
            clock_rate: 48_000,
            channels: 2,
            sdp_fmtp_line: "minptime=10;useinbandfec=1".to_owned(),
            rtcp_feedback: Vec::new(),
        },
        payload_type: OPUS_PAYLOAD_TYPE,
    }
}

/// The Opus codec as a track's encoding names it.
pub fn opus_codec() -> RTCRtpCodec {
    opus().rtp_codec
}

impl Endpoint {
    /// Builds the endpoint for `estimator` with `nack`.
    pub fn new(estimator: Estimator, nack: Nack) -> Result<Self, CallError> {
        Self::with_tap(estimator, nack, None)
    }

    /// The same, with a [`PacketTap`] recording into `tap` at the chain's wire end when given.
    pub fn with_tap(
        estimator: Estimator,
        nack: Nack,
        tap: Option<TapHandle>,
    ) -> Result<Self, CallError> {
        let mut media_engine = MediaEngine::default();
        media_engine
            .register_codec(vp8(), RtpCodecKind::Video)
            .map_err(|e| CallError::webrtc("registering VP8", e))?;
        // Registered before the chain so that its feedback and header extensions (which it
        // registers for audio too) apply to Opus. Offering a codec negotiates nothing: only the
        // tracks a call adds get an m-line.
        media_engine
            .register_codec(opus(), RtpCodecKind::Audio)
            .map_err(|e| CallError::webrtc("registering Opus", e))?;
        if nack == Nack::WithRtx {
            register_rtx_codec(&mut media_engine, VP8_PAYLOAD_TYPE, RTX_PAYLOAD_TYPE)?;
        }
        let (registry, target, handle): (Registry, Arc<dyn TargetSource>, _) = match estimator {
            Estimator::OursSendSide | Estimator::OursSendSideNoProbing | Estimator::OursRemb => {
                let mut config = match estimator {
                    Estimator::OursSendSide => BweChainConfig::send_side(CongestionFeedback::Twcc),
                    Estimator::OursSendSideNoProbing => {
                        BweChainConfig::send_side_without_probing(CongestionFeedback::Twcc)
                    }
                    _ => BweChainConfig::remb(),
                };
                config.nack = nack != Nack::Off;
                config.tap = tap;
                let (registry, handle) = configure_bwe(Registry::new(), &mut media_engine, config)?;
                (registry, Arc::new(handle.clone()), Some(handle))
            }
            Estimator::RtcGcc => {
                let (gcc, estimator_tap) = TappedEstimator::new(Gcc::new(
                    GCC_START.as_bps_f64(),
                    GCC_MIN.as_bps_f64(),
                    GCC_MAX.as_bps_f64(),
                ));
                let mut registry = configure_congestion_control(
                    Registry::new(),
                    gcc,
                    CongestionFeedback::Twcc,
                    &mut media_engine,
                )
                .map_err(|e| CallError::webrtc("configuring rtc::Gcc", e))?;
                if nack != Nack::Off {
                    registry = configure_nack(registry, &mut media_engine);
                }
                if let Some(packets) = tap {
                    registry = registry.with(TAP_SLOT, PacketTap::new(packets));
                }
                // rtc's RTCP generators emit in hash order; ours fixes the order on the wire
                // (it changes nothing else), so the baseline repeats across processes too.
                let registry =
                    configure_rtcp_reports(registry).with(RTCP_ORDER_SLOT, RtcpOrder::new());
                (registry, Arc::new(estimator_tap), None)
            }
        };
        Ok(Self {
            media_engine,
            registry,
            target,
            handle,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn names(registry: &Registry) -> Vec<String> {
        registry.slots().into_iter().map(|(_, name)| name).collect()
    }

    /// The baseline must have one TWCC receiver, NACK when asked and reports, like ours.
    #[test]
    fn the_gcc_baseline_chain_has_feedback_nack_and_reports_once() {
        let e = Endpoint::new(Estimator::RtcGcc, Nack::WithoutRtx).expect("builds");
        let names = names(&e.registry);
        for wanted in [
            "TwccReceiverInterceptor",
            "NackResponderInterceptor",
            "ReceiverReportInterceptor",
        ] {
            assert_eq!(
                names.iter().filter(|n| *n == wanted).count(),
                1,
                "{names:?}"
            );
        }
        assert_eq!(e.target.target(), Some(GCC_START));
    }

    /// Turning NACK off removes both halves from our chain.
    #[test]
    fn nack_off_leaves_no_nack_interceptor() {
        let e = Endpoint::new(Estimator::OursSendSide, Nack::Off).expect("builds");
        assert!(!names(&e.registry).iter().any(|n| n.contains("Nack")));
    }
}
