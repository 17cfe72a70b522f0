//! One call that builds a correct chain: estimation, feedback, NACK with RTX, RTCP reports.
//!
//! Assembling a chain by hand has two traps that these helpers exist to avoid:
//!
//! - `register_default_interceptors` together with `configure_congestion_control` registers the
//!   TWCC receiver twice; the second replaces the first ("TwccReceiver already held … replaced
//!   it"). These helpers add NACK and RTCP reports one by one instead.
//! - NACK without RTX collapses the estimate: retransmissions on the media SSRC are rejected by
//!   the receiver's SRTP replay check, feedback reports them lost and the target falls and stays
//!   down. rtc's NACK responder retransmits over RTX whenever the stream was negotiated with an
//!   RTX codec, so the media engine must offer one per video codec:
//!   `MediaEngine::register_default_codecs` does; for codecs registered by hand, call
//!   [`register_rtx_codec`]. (rtc 0.21 gives no way to inspect a media engine's codecs, so this
//!   cannot be checked here.)
//!
//! As with rtc's own helpers, call these **after** the codecs are registered: RTCP feedback is
//! added to the codecs the engine holds at the time.
//!
//! Positions, wire to application (read walks down this list, write walks up it):
//!
//! | slot | interceptor | preset |
//! |---|---|---|
//! | 50 | [`PacketTap`] (only when [`BweChainConfig::tap`] is set) | either |
//! | 100 | [`RtcpOrder`]: the RTCP of one instant in a fixed order | always |
//! | 900 | [`FeedbackTap`](crate::FeedbackTap): which sequence numbers each feedback covered | send side |
//! | 1 000 | `CongestionControlInterceptor<BweSendSide>` | send side |
//! | 2 000 | `TwccSenderInterceptor` | send side, TWCC |
//! | 2 200 | [`AbsSendTimeInterceptor`] | REMB |
//! | 2 500 | [`RembSenderInterceptor`] (with send side: the REMB caps the shared controller; REMB only: it drives it, with receiver-report loss) | both |
//! | 3 000 | [`ProbingPacer`](crate::ProbingPacer) (send side) or rtc's `PacerInterceptor` (REMB only) | both |
//! | 4 000 / 7 000 | NACK responder / generator | both |
//! | 8 000 or 9 000 | TWCC receiver or RFC 8888 | send side |
//! | 10 000 / 11 000 | receiver / sender reports | both |
//! | 10 500 | [`RembInterceptor`] | REMB |
//!
//! The send-side part is what rtc's `configure_congestion_control` registers, with the
//! [`ProbingPacer`](crate::ProbingPacer) in place of rtc's pacer, sharing one send-side controller with the
//! estimator ([`BweSendSide::with_pacer`]). It is assembled here rather than by calling that helper and then replacing its
//! pacer, because the registry announces every replacement with a warning.

use std::time::Duration;

use bwe_core::controller::ControllerConfig;
use bwe_core::probe::CAPACITY_PROBING_INTERVAL;
use bwe_core::send_side::SendSideConfig;
use rtc::interceptor::{
    CongestionControlBuilder, PacerBuilder, Registry, Rfc8888Builder, Slot, TwccReceiverBuilder,
    TwccSenderBuilder,
};
use rtc::peer_connection::configuration::interceptor_registry::{
    CongestionFeedback, configure_congestion_control, configure_nack, configure_rtcp_reports,
};
use rtc::peer_connection::configuration::media_engine::MediaEngine;
use rtc::rtp_transceiver::rtp_sender::{
    RTCPFeedback, RTCRtpCodec, RTCRtpCodecParameters, RTCRtpHeaderExtensionCapability, RtpCodecKind,
};

use crate::controller::SharedController;
use crate::error::ChainError;
use crate::feedback_tap::FEEDBACK_TAP_SLOT;
use crate::handle::BweHandle;
use crate::pacer::{PACER_SLOT, PacerConfig};
use crate::remb::extension_id::ABS_SEND_TIME_URI;
use crate::remb::receiver::{REMB_SLOT, RembConfig, RembInterceptor};
use crate::remb::sender::{REMB_SENDER_SLOT, RembSenderConfig, RembSenderInterceptor};
use crate::remb::stamper::{ABS_SEND_TIME_SLOT, AbsSendTimeInterceptor};
use crate::rtcp_order::{RTCP_ORDER_SLOT, RtcpOrder};
use crate::send_side::BweSendSide;
use crate::tap::{PacketTap, TAP_SLOT, TapHandle};

/// Send-side estimation: which feedback the remote reports with, and the estimator's settings.
#[derive(Debug, Clone)]
pub struct SendSideChain {
    /// TWCC (the default; browsers support it) or RFC 8888.
    pub feedback: CongestionFeedback,
    /// The estimator.
    pub estimator: SendSideConfig,
    /// Our pacer (its start rate and pacing factor are taken from `estimator`), or `None` for
    /// rtc's pacer, which paces at the target, cannot probe and does not limit retransmissions.
    ///
    /// The default is our pacer with probing on: it paces at 2.5 × the target, sends the
    /// estimator's probe clusters, applies the congestion window, and throttles
    /// retransmissions. The last matters most. rtc 0.21's NACK generator asks again for every
    /// missing packet every 100 ms without limit, and rtc's RTX packets never enter the
    /// congestion controller's history. So after a capacity drop, rtc's pacer spent the whole
    /// target on retransmissions and sent no media for 3.5 s; the estimator, with no feedback,
    /// froze (RFC 8867 §5.1 at 60 s).
    ///
    /// Probing finds capacity in a round trip instead of at 8 %/s ([`BweChainConfig::
    /// send_side_without_probing`] turns it off). What made it safe as a default: a window
    /// sized by the path's round trip rather than the queue-inflated one, retransmissions
    /// limited to packets under 1 s old and to the pushed-back target, and ALR measured
    /// against the pushed-back target (see the pacer's and `bwe-core`'s docs).
    pub pacer: Option<PacerConfig>,
    /// How often this endpoint reports what it received (TWCC or RFC 8888). Default 100 ms,
    /// rtc's and libwebrtc's `RemoteEstimatorProxy` default (which adapts between 50 and
    /// 250 ms to keep feedback near 5 % of the media rate). 50 ms was measured on RFC 8867
    /// §5.1 over six seeds: p95 queuing delay 80 ms against 79, utilisation 91.6 % against
    /// 92.5 %, so the return path's extra load buys nothing here.
    pub feedback_interval: Duration,
}

/// What [`configure_bwe`] puts in the chain. Start from [`BweChainConfig::send_side`] or
/// [`BweChainConfig::remb`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct BweChainConfig {
    /// Send-side estimation with TWCC or RFC 8888 feedback (also reports what this endpoint
    /// receives, in the same format, for the remote's estimator).
    pub send_side: Option<SendSideChain>,
    /// Generate REMB for the media this endpoint receives (negotiates abs-send-time and
    /// `goog-remb`).
    pub remb_receiver: Option<RembConfig>,
    /// Act on REMB from the remote. With send-side estimation its loss control is turned off
    /// (the send-side estimator has its own) and the REMB only caps: the shared controller's
    /// target, hence the pacing rate and the probes, when our pacer is in the chain.
    pub remb_sender: Option<RembSenderConfig>,
    /// NACK generator and responder (retransmitting over RTX when negotiated; see module docs).
    pub nack: bool,
    /// RTCP sender and receiver reports (the REMB sender's loss figures come from these).
    pub rtcp_reports: bool,
    /// Stamp abs-send-time on outgoing media (rtc never does), so the remote can send REMB.
    pub abs_send_time: bool,
    /// Record every RTP header and RTCP packet at the chain's wire end into this handle
    /// ([`PacketTap`] at [`TAP_SLOT`]). `None` (the default in every preset): no tap at all.
    pub tap: Option<TapHandle>,
}

/// See [`SendSideChain::feedback_interval`].
pub const DEFAULT_FEEDBACK_INTERVAL: Duration = Duration::from_millis(100);

/// The estimator of the default send-side chain: `bwe-core`'s defaults with capacity probing
/// on. It finds a raised capacity within about a second and a half (RFC 8867 §5.1 at 40 s:
/// 85 % of 2.5 Mbit/s after 1.4 s, where AIMD alone takes about 12 s); see
/// `ProbeControllerConfig::capacity_probing_interval`.
fn default_estimator() -> SendSideConfig {
    let mut config = SendSideConfig::default();
    config.probe.capacity_probing_interval = Some(CAPACITY_PROBING_INTERVAL);
    config
}

impl BweChainConfig {
    /// Our send-side estimator with `feedback`, a REMB cap if the remote sends REMB, NACK with
    /// RTX and RTCP reports.
    pub fn send_side(feedback: CongestionFeedback) -> Self {
        Self {
            send_side: Some(SendSideChain {
                feedback,
                estimator: default_estimator(),
                pacer: Some(PacerConfig::default()),
                feedback_interval: DEFAULT_FEEDBACK_INTERVAL,
            }),
            remb_receiver: None,
            remb_sender: Some(RembSenderConfig {
                loss_control: false,
                ..RembSenderConfig::default()
            }),
            nack: true,
            rtcp_reports: true,
            abs_send_time: false,
            tap: None,
        }
    }

    /// [`Self::send_side`] with probe clusters off: the pacer still paces, applies the window
    /// and throttles retransmissions, but the target only climbs by AIMD.
    pub fn send_side_without_probing(feedback: CongestionFeedback) -> Self {
        let mut config = Self::send_side(feedback);
        if let Some(send_side) = &mut config.send_side {
            send_side.pacer = Some(PacerConfig {
                probing: false,
                ..PacerConfig::default()
            });
        }
        config
    }

    /// REMB both ways: generate it for what this endpoint receives; stamp abs-send-time on what
    /// it sends and send under the remote's REMB with the loss-based controller fed by receiver
    /// reports, a pacer enforcing the target. NACK with RTX and RTCP reports.
    pub fn remb() -> Self {
        Self {
            send_side: None,
            remb_receiver: Some(RembConfig::default()),
            remb_sender: Some(RembSenderConfig::default()),
            nack: true,
            rtcp_reports: true,
            abs_send_time: true,
            tap: None,
        }
    }
}

/// Adds the interceptors `config` asks for to `registry`, registers the feedback types and
/// header extensions they need on `media_engine`, and returns the registry with one
/// [`BweHandle`] all of them publish to.
pub fn configure_bwe(
    registry: Registry,
    media_engine: &mut MediaEngine,
    config: BweChainConfig,
) -> Result<(Registry, BweHandle), ChainError> {
    let handle = BweHandle::new();
    let mut registry = registry;

    let mut controller = None;
    if let Some(send_side) = &config.send_side {
        (registry, controller) = add_send_side(registry, media_engine, send_side, &handle)?;
    }

    if config.remb_receiver.is_some() || config.abs_send_time {
        register_remb(media_engine)?;
    }
    if config.abs_send_time {
        registry = registry.with(ABS_SEND_TIME_SLOT, AbsSendTimeInterceptor::new());
    }
    if let Some(remb) = &config.remb_receiver {
        let generator = RembInterceptor::new(remb.clone())?.with_handle(handle.clone());
        registry = registry.with(REMB_SLOT, generator);
    }

    if let Some(sender) = &config.remb_sender {
        let sender = RembSenderConfig {
            loss_control: sender.loss_control && config.send_side.is_none(),
            ..sender.clone()
        };
        if let (true, Some(pacer)) = (sender.loss_control, sender.pacer.clone()) {
            // A REMB-only sender on our pacer: one controller, REMB as its delay-based estimate.
            let mut estimator = default_estimator();
            estimator.start = sender.loss.start;
            estimator.loss = sender.loss;
            let (remb_sender, pacer) =
                RembSenderInterceptor::with_pacer(sender, ControllerConfig { estimator, pacer });
            registry = registry
                .with(REMB_SENDER_SLOT, remb_sender.with_handle(handle.clone()))
                .with(PACER_SLOT, pacer);
        } else {
            // A REMB-only sender on rtc's pacer needs that pacer (configure_congestion_control
            // would bring one, but there is none here), or the target would never reach the wire.
            let rtc_pacer = sender
                .loss_control
                .then(|| PacerBuilder::new().with_target_bitrate(sender.loss.start.as_bps_f64()));
            let mut remb_sender = RembSenderInterceptor::new(sender).with_handle(handle.clone());
            if let Some(shared) = controller.take() {
                // A send-side sender on our pacer: the REMB caps the controller, so the pacing
                // rate and the probes stay under it as well as the encoder target.
                remb_sender = remb_sender.capping(shared);
            }
            registry = registry.with(REMB_SENDER_SLOT, remb_sender);
            if let Some(pacer) = rtc_pacer {
                registry = registry.with(Slot::Pacer, pacer.build());
            }
        }
    }

    if config.nack {
        registry = configure_nack(registry, media_engine);
    }
    if config.rtcp_reports {
        registry = configure_rtcp_reports(registry);
    }
    // rtc's generators emit one RTCP message per SSRC in hash order; fix the order on the wire
    // so a seeded simulation does not depend on the process (see `rtcp_order`).
    registry = registry.with(RTCP_ORDER_SLOT, RtcpOrder::new());
    if let Some(tap) = &config.tap {
        registry = registry.with(TAP_SLOT, PacketTap::new(tap.clone()));
    }
    Ok((registry, handle))
}

/// The transport-wide CC header extension (draft-holmer-rmcat-transport-wide-cc-extensions-01).
const TRANSPORT_CC_URI: &str =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

/// rtc's `configure_congestion_control` with the probing pacer: negotiates the feedback, and
/// adds the send history with our estimator, the pacer, and the feedback sender and receiver.
fn add_send_side(
    registry: Registry,
    media_engine: &mut MediaEngine,
    send_side: &SendSideChain,
    handle: &BweHandle,
) -> Result<(Registry, Option<SharedController>), ChainError> {
    let Some(pacer_config) = &send_side.pacer else {
        // rtc's helper: feedback, send history with our estimator, rtc's pacer.
        let estimator = BweSendSide::new(send_side.estimator.clone()).with_handle(handle.clone());
        let tap = estimator.feedback_tap();
        let registry =
            configure_congestion_control(registry, estimator, send_side.feedback, media_engine)?;
        return Ok((registry.with(FEEDBACK_TAP_SLOT, tap), None));
    };
    let (estimator, pacer) = BweSendSide::with_pacer(ControllerConfig {
        estimator: send_side.estimator.clone(),
        pacer: pacer_config.clone(),
    });
    let estimator = estimator.with_handle(handle.clone());
    let shared = Some(estimator.shared());
    let registry = registry.with(FEEDBACK_TAP_SLOT, estimator.feedback_tap());
    let (twcc, registry) = match send_side.feedback {
        CongestionFeedback::Twcc => (true, registry),
        CongestionFeedback::Rfc8888 => (false, registry),
        // A format this crate does not know yet: rtc's helper registers it, then its pacer is
        // replaced (which the registry logs).
        other => {
            let registry = configure_congestion_control(registry, estimator, other, media_engine)?;
            return Ok((registry.with(PACER_SLOT, pacer), shared));
        }
    };
    for kind in [RtpCodecKind::Video, RtpCodecKind::Audio] {
        if twcc {
            media_engine.register_feedback(
                RTCPFeedback {
                    typ: "transport-cc".to_owned(),
                    parameter: String::new(),
                },
                kind,
            );
            media_engine.register_header_extension(
                RTCRtpHeaderExtensionCapability {
                    uri: TRANSPORT_CC_URI.to_owned(),
                },
                kind,
                None,
            )?;
        } else {
            media_engine.register_feedback(
                RTCPFeedback {
                    typ: "ack".to_owned(),
                    parameter: "ccfb".to_owned(),
                },
                kind,
            );
        }
    }
    let registry = registry
        .with(
            Slot::CongestionControl,
            CongestionControlBuilder::new(estimator).build(),
        )
        .with(PACER_SLOT, pacer);
    let registry = if twcc {
        registry
            .with(Slot::TwccSender, TwccSenderBuilder::new().build())
            .with(
                Slot::TwccReceiver,
                TwccReceiverBuilder::new()
                    .with_interval(send_side.feedback_interval)
                    .build(),
            )
    } else {
        registry.with(
            Slot::Rfc8888,
            Rfc8888Builder::new()
                .with_interval(send_side.feedback_interval)
                .build(),
        )
    };
    Ok((registry, shared))
}

/// [`configure_bwe`] with [`BweChainConfig::send_side`]: our estimator in place of
/// `rtc::interceptor::Gcc`, NACK with RTX, RTCP reports.
pub fn configure_send_side_bwe(
    registry: Registry,
    media_engine: &mut MediaEngine,
    feedback: CongestionFeedback,
) -> Result<(Registry, BweHandle), ChainError> {
    configure_bwe(registry, media_engine, BweChainConfig::send_side(feedback))
}

/// [`configure_bwe`] with [`BweChainConfig::remb`]: REMB both ways, loss control under the
/// remote's REMB, NACK with RTX, RTCP reports.
pub fn configure_remb_bwe(
    registry: Registry,
    media_engine: &mut MediaEngine,
) -> Result<(Registry, BweHandle), ChainError> {
    configure_bwe(registry, media_engine, BweChainConfig::remb())
}

/// Offers abs-send-time (audio and video) and `goog-remb` (video) so a remote sender stamps the
/// extension the REMB generator reads and expects REMB back.
pub fn register_remb(media_engine: &mut MediaEngine) -> Result<(), ChainError> {
    for kind in [RtpCodecKind::Video, RtpCodecKind::Audio] {
        media_engine.register_header_extension(
            RTCRtpHeaderExtensionCapability {
                uri: ABS_SEND_TIME_URI.to_owned(),
            },
            kind,
            None,
        )?;
    }
    media_engine.register_feedback(
        RTCPFeedback {
            typ: "goog-remb".to_owned(),
            parameter: String::new(),
        },
        RtpCodecKind::Video,
    );
    Ok(())
}

/// Registers an RTX codec (RFC 4588, `video/rtx`, `apt=<primary>`) for a video codec registered
/// by hand, so NACK retransmissions travel on their own SSRC (see the module docs for why that
/// matters to the estimate). `register_default_codecs` already does this for its codecs.
pub fn register_rtx_codec(
    media_engine: &mut MediaEngine,
    primary_payload_type: u8,
    rtx_payload_type: u8,
) -> Result<(), ChainError> {
    media_engine.register_codec(
        RTCRtpCodecParameters {
            rtp_codec: RTCRtpCodec {
                mime_type: "video/rtx".to_owned(),
                clock_rate: 90_000,
                channels: 0,
                sdp_fmtp_line: format!("apt={primary_payload_type}"),
                rtcp_feedback: Vec::new(),
            },
            payload_type: rtx_payload_type,
        },
        RtpCodecKind::Video,
    )?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn names(registry: &Registry) -> Vec<(usize, String)> {
        registry
            .slots()
            .into_iter()
            .map(|(slot, name)| (slot.slot(), name))
            .collect()
    }

    fn engine() -> MediaEngine {
        let mut engine = MediaEngine::default();
        engine.register_default_codecs().expect("default codecs");
        engine
    }

    /// The send-side preset is the whole loop with our estimator, one TWCC receiver (not two),
    /// NACK and reports, each where the chain contract puts it.
    #[test]
    fn send_side_twcc_chain_has_every_part_once_in_order() {
        let mut engine = engine();
        let (registry, _) =
            configure_send_side_bwe(Registry::new(), &mut engine, CongestionFeedback::Twcc)
                .expect("configures");
        assert_eq!(
            names(&registry),
            vec![
                (100, "RtcpOrder".to_owned()),
                (900, "FeedbackTap".to_owned()),
                (
                    1_000,
                    "CongestionControlInterceptor<BweSendSide>".to_owned()
                ),
                (2_000, "TwccSenderInterceptor".to_owned()),
                (2_500, "RembSenderInterceptor".to_owned()),
                (3_000, "ProbingPacer".to_owned()),
                (4_000, "NackResponderInterceptor".to_owned()),
                (7_000, "NackGeneratorInterceptor".to_owned()),
                (8_000, "TwccReceiverInterceptor".to_owned()),
                (10_000, "ReceiverReportInterceptor".to_owned()),
                (11_000, "SenderReportInterceptor".to_owned()),
            ]
        );
    }

    /// With probing turned off, the chain is the same; only the pacer's setting differs.
    #[test]
    fn the_preset_without_probing_keeps_our_pacer_in_the_pacer_slot() {
        let mut engine = engine();
        let (registry, _) = configure_bwe(
            Registry::new(),
            &mut engine,
            BweChainConfig::send_side_without_probing(CongestionFeedback::Twcc),
        )
        .expect("configures");
        let names = names(&registry);
        assert!(
            names.contains(&(3_000, "ProbingPacer".to_owned())),
            "{names:?}"
        );
        assert!(
            !names.iter().any(|(_, n)| n == "PacerInterceptor"),
            "{names:?}"
        );
        assert_eq!(names.len(), 11, "{names:?}");
    }

    /// RFC 8888 replaces both TWCC parts; it needs no sequence-number stamping.
    #[test]
    fn send_side_rfc8888_chain_uses_ccfb_instead_of_twcc() {
        let mut engine = engine();
        let (registry, _) =
            configure_send_side_bwe(Registry::new(), &mut engine, CongestionFeedback::Rfc8888)
                .expect("configures");
        let names = names(&registry);
        assert!(names.contains(&(9_000, "Rfc8888Interceptor".to_owned())));
        assert!(
            !names.iter().any(|(_, n)| n.starts_with("Twcc")),
            "{names:?}"
        );
    }

    /// The REMB preset generates and reads REMB, and brings a pacer for the loss-based target.
    #[test]
    fn remb_chain_generates_reads_and_paces() {
        let mut engine = engine();
        let (registry, handle) = configure_remb_bwe(Registry::new(), &mut engine).expect("ok");
        let names = names(&registry);
        for expected in [
            (2_200, "AbsSendTimeInterceptor"),
            (2_500, "RembSenderInterceptor"),
            (3_000, "ProbingPacer"),
            (10_500, "RembInterceptor"),
        ] {
            assert!(
                names.contains(&(expected.0, expected.1.to_owned())),
                "{expected:?} missing from {names:?}"
            );
        }
        assert!(!names.iter().any(|(slot, _)| *slot == 1_000));
        // The controller's start rate is published before any packet.
        assert_eq!(handle.target(), Some(bwe_core::Bitrate::from_kbps(300)));
    }

    /// Without our pacer a REMB-only sender keeps rtc's, which reads the target from the
    /// attribute the REMB sender attaches.
    #[test]
    fn remb_chain_without_our_pacer_keeps_rtcs() {
        let mut engine = engine();
        let mut config = BweChainConfig::remb();
        if let Some(sender) = &mut config.remb_sender {
            sender.pacer = None;
        }
        let (registry, handle) = configure_bwe(Registry::new(), &mut engine, config).expect("ok");
        let names = names(&registry);
        assert!(
            names.contains(&(3_000, "PacerInterceptor".to_owned())),
            "{names:?}"
        );
        assert!(!names.iter().any(|(_, n)| n == "ProbingPacer"), "{names:?}");
        assert_eq!(handle.target(), Some(bwe_core::Bitrate::from_kbps(300)));
    }

    /// Configuration errors surface as values from the helper.
    #[test]
    fn invalid_remb_config_is_refused() {
        let mut engine = engine();
        let mut config = BweChainConfig::remb();
        config.remb_receiver = Some(RembConfig {
            interval: Duration::ZERO,
            ..RembConfig::default()
        });
        let err = configure_bwe(Registry::new(), &mut engine, config).err();
        assert!(matches!(err, Some(ChainError::Config(_))), "{err:?}");
    }

    /// A hand-registered codec gets its RTX companion without error.
    #[test]
    fn rtx_codec_registers() {
        let mut engine = MediaEngine::default();
        register_rtx_codec(&mut engine, 96, 97).expect("registers");
    }
}
