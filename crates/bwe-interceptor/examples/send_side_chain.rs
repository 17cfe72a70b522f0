//! Our send-side estimator in a real webrtc-rs 0.21 PeerConnection, in place of
//! `rtc::interceptor::Gcc`: one call to [`configure_send_side_bwe`] on the sender's registry,
//! then the application encodes at whatever [`BweHandle::target`] says.
//!
//! To run it without a network, both PeerConnections live in vnet-sim's virtual time over a
//! 1.5 Mbit/s, 40 ms, 300 ms-queue bottleneck that drops to 800 kbit/s 12 s into the simulation
//! (about 11.4 s into the media, after ICE and DTLS); in an
//! application the same registry and media engine go to `PeerConnectionBuilder` as they are.
//!
//! ```sh
//! cargo run --release -p bwe-interceptor --example send_side_chain
//! ```

use std::sync::Arc;
use std::time::Duration;

use bwe_interceptor::rtc::interceptor::Registry;
use bwe_interceptor::rtc::media::Sample;
use bwe_interceptor::rtc::media_stream::MediaStreamTrack;
use bwe_interceptor::rtc::peer_connection::configuration::interceptor_registry::CongestionFeedback;
use bwe_interceptor::rtc::peer_connection::configuration::media_engine::MediaEngine;
use bwe_interceptor::rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RTCRtpRtxParameters, RtpCodecKind,
};
use bwe_interceptor::{BweHandle, configure_send_side_bwe, register_rtx_codec};
use vnet_sim::peer::connect;
use vnet_sim::webrtc::media_stream::track_local::TrackLocal;
use vnet_sim::webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use vnet_sim::webrtc::peer_connection::RTCPeerConnectionState;
use vnet_sim::webrtc::runtime::Runtime;
use vnet_sim::{LinkConfig, QueueLimit, Rate, RateSchedule, Sim, SimDuration};

const VP8: u8 = 96;
const RTX: u8 = 97;
const SSRC: u32 = 0x1234_0001;
const FPS: u64 = 30;

fn vp8() -> RTCRtpCodec {
    RTCRtpCodec {
        mime_type: "video/VP8".to_owned(),
        clock_rate: 90_000,
        channels: 0,
        sdp_fmtp_line: String::new(),
        rtcp_feedback: Vec::new(),
    }
}

/// A media engine with VP8 and its RTX, and a registry with our send-side chain (TWCC feedback,
/// the probing pacer, NACK with RTX, RTCP reports), plus the handle the application reads.
fn endpoint() -> Result<(MediaEngine, Registry, BweHandle), Box<dyn std::error::Error>> {
    let mut media_engine = MediaEngine::default();
    media_engine.register_codec(
        RTCRtpCodecParameters {
            rtp_codec: vp8(),
            payload_type: VP8,
        },
        RtpCodecKind::Video,
    )?;
    register_rtx_codec(&mut media_engine, VP8, RTX)?;
    // After the codecs: the helper adds its feedback types to the codecs registered so far.
    let (registry, handle) =
        configure_send_side_bwe(Registry::new(), &mut media_engine, CongestionFeedback::Twcc)?;
    Ok((media_engine, registry, handle))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut builder = Sim::builder().seed(1);
    let (sender_host, receiver_host) = (builder.host("sender"), builder.host("receiver"));
    let bottleneck = LinkConfig {
        capacity: RateSchedule::steps(
            Rate::from_kbps(1_500),
            [(SimDuration::from_secs(12), Rate::from_kbps(800))],
        ),
        queue: QueueLimit::Time(SimDuration::from_millis(300)),
        delay: SimDuration::from_millis(40),
        ..LinkConfig::default()
    };
    builder.link(sender_host, receiver_host, bottleneck);
    builder.link(
        receiver_host,
        sender_host,
        LinkConfig {
            delay: SimDuration::from_millis(40),
            ..LinkConfig::default()
        },
    );
    let sim = builder.build()?;

    let (media_engine, registry, handle) = endpoint()?;
    let (receiver_engine, receiver_registry, _) = endpoint()?;
    sim.run(async {
        let sender = sim
            .peer(sender_host)
            .media_engine(media_engine)
            .interceptor_registry(registry)
            .build()
            .await?;
        let receiver = sim
            .peer(receiver_host)
            .media_engine(receiver_engine)
            .interceptor_registry(receiver_registry)
            .build()
            .await?;
        let encoding = RTCRtpEncodingParameters {
            rtp_coding_parameters: RTCRtpCodingParameters {
                ssrc: Some(SSRC),
                rtx: Some(RTCRtpRtxParameters { ssrc: SSRC + 1 }),
                ..Default::default()
            },
            codec: vp8(),
            ..Default::default()
        };
        let track = Arc::new(TrackLocalStaticSample::new(
            sim.now(),
            MediaStreamTrack::new(
                "example".to_owned(),
                "video".to_owned(),
                "video".to_owned(),
                RtpCodecKind::Video,
                vec![encoding],
            ),
        )?);
        sender
            .pc()
            .add_track(Arc::clone(&track) as Arc<dyn TrackLocal>)
            .await?;
        connect(&sender, &receiver, SimDuration::from_secs(5)).await?;
        sender
            .wait_for_state(RTCPeerConnectionState::Connected, SimDuration::from_secs(10))
            .await?;
        println!("connected at {}", sim.time());

        // The application: one frame every 1/30 s, sized from the estimator's target.
        let start = sim.time();
        let mut delivered_bytes = 0;
        let frame_interval = Duration::from_nanos(1_000_000_000 / FPS);
        for frame in 0..20 * FPS {
            let target = handle.target().map_or(300_000.0, |t| t.as_bps_f64());
            let size = (target / 8.0 / FPS as f64) as usize;
            let mut data = vec![0xAB_u8; size.max(1)];
            data[0] = if frame % (3 * FPS) == 0 { 0x10 } else { 0x11 };
            track
                .sample_writer(SSRC, VP8)
                .write_sample(&Sample {
                    data: data.into(),
                    duration: frame_interval,
                    ..Sample::new(sim.now())
                })
                .await?;
            if frame % FPS == 0 {
                let stats = sim.link_stats(sender_host, receiver_host)?;
                let goodput = (stats.delivered.bytes - delivered_bytes) * 8;
                delivered_bytes = stats.delivered.bytes;
                println!(
                    "t = {:>4.1} s   target {:>5.0} kbit/s   delivered {:>5} kbit/s   dropped (queue full) {}",
                    sim.time().saturating_duration_since(start).as_secs_f64(),
                    target / 1e3,
                    goodput / 1_000,
                    stats.dropped_queue_full.packets,
                );
            }
            sim.sleep_until(start + SimDuration::from_nanos((frame + 1) * 1_000_000_000 / FPS))
                .await;
        }
        Ok::<_, Box<dyn std::error::Error>>(())
    })??;
    Ok(())
}
