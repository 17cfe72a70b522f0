//! How fast the simulator runs a call: a 60 s, 2.5 Mbit/s video call between two real webrtc
//! PeerConnections (ICE, DTLS, SRTP, RTCP reports, NACK, TWCC feedback), reported as virtual
//! seconds per wall-clock second.
//!
//! ```text
//! cargo run --release -p vnet-sim --example call_speed [seconds]
//! ```
//!
//! The sender writes a 10.4 kB VP8 sample every 33.3 ms (2.5 Mbit/s of payload, ~9 RTP packets
//! per frame); the path is 10 Mbit/s with 25 ms one-way delay and a 100 ms queue each way.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use rtc::media::Sample;
use rtc::media_stream::MediaStreamTrack;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};
use vnet_sim::peer::connect;
use vnet_sim::{LinkConfig, QueueLimit, Rate, Sim, SimDuration};
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::media_stream::track_remote::TrackRemoteEvent;
use webrtc::peer_connection::{
    MediaEngine, RTCPeerConnectionState, Registry, register_default_interceptors,
};
use webrtc::runtime::Runtime;

const SSRC: u32 = 0x1234_5678;
const FRAME: SimDuration = SimDuration::from_nanos(33_333_333);
const FRAME_BYTES: usize = 2_500_000 / 30 / 8;

fn vp8() -> RTCRtpCodecParameters {
    RTCRtpCodecParameters {
        rtp_codec: RTCRtpCodec {
            mime_type: "video/VP8".to_owned(),
            clock_rate: 90_000,
            channels: 0,
            sdp_fmtp_line: String::new(),
            rtcp_feedback: vec![],
        },
        payload_type: 96,
    }
}

/// A media engine with VP8 and the default interceptors (RTCP reports, NACK, TWCC).
fn media() -> Result<(MediaEngine, Registry), String> {
    let mut media_engine = MediaEngine::default();
    media_engine
        .register_codec(vp8(), RtpCodecKind::Video)
        .map_err(|e| e.to_string())?;
    let registry = register_default_interceptors(Registry::new(), &mut media_engine)
        .map_err(|e| e.to_string())?;
    Ok((media_engine, registry))
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let seconds: u64 = std::env::args()
        .nth(1)
        .map(|s| s.parse())
        .transpose()?
        .unwrap_or(60);
    let path = LinkConfig {
        capacity: Rate::from_mbps(10).into(),
        queue: QueueLimit::Time(SimDuration::from_millis(100)),
        delay: SimDuration::from_millis(25),
        ..LinkConfig::default()
    };
    let mut builder = Sim::builder().seed(1);
    let (a, b) = (builder.host("sender"), builder.host("receiver"));
    builder.path(a, b, path);
    let sim = builder.build()?;
    let received = Arc::new(AtomicU64::new(0));
    let received_bytes = Arc::new(AtomicU64::new(0));
    let wall_start = Instant::now();
    let (setup_wall, media_wall) = sim.run(async {
        let (me, reg) = media()?;
        let sender = sim
            .peer(a)
            .media_engine(me)
            .interceptor_registry(reg)
            .build()
            .await?;
        let (me, reg) = media()?;
        let receiver = sim
            .peer(b)
            .media_engine(me)
            .interceptor_registry(reg)
            .build()
            .await?;
        let track = Arc::new(
            TrackLocalStaticSample::new(
                sim.now(),
                MediaStreamTrack::new(
                    "stream".to_owned(),
                    "video".to_owned(),
                    "video".to_owned(),
                    RtpCodecKind::Video,
                    vec![RTCRtpEncodingParameters {
                        rtp_coding_parameters: RTCRtpCodingParameters {
                            ssrc: Some(SSRC),
                            ..Default::default()
                        },
                        codec: vp8().rtp_codec,
                        ..Default::default()
                    }],
                ),
            )
            .map_err(|e| e.to_string())?,
        );
        sender
            .pc()
            .add_track(Arc::clone(&track) as Arc<dyn TrackLocal>)
            .await
            .map_err(|e| e.to_string())?;
        connect(&sender, &receiver, SimDuration::from_secs(1)).await?;
        sender
            .wait_for_state(
                RTCPeerConnectionState::Connected,
                SimDuration::from_secs(10),
            )
            .await?;
        let setup_wall = wall_start.elapsed();

        let media_start = sim.time();
        let media_wall_start = Instant::now();
        let end = media_start + SimDuration::from_secs(seconds);
        let mut next = media_start;
        let mut frame = 0u64;
        let mut counting = false;
        while next < end {
            sim.sleep_until(next).await;
            let mut data = vec![0xAB_u8; FRAME_BYTES];
            data[0] = if frame % 60 == 0 { 0x10 } else { 0x11 }; // a key frame every 2 s
            track
                .sample_writer(SSRC, 96)
                .write_sample(&Sample {
                    data: data.into(),
                    duration: Duration::from_nanos(FRAME.as_nanos()),
                    ..Sample::new(sim.now())
                })
                .await
                .map_err(|e| e.to_string())?;
            frame += 1;
            next += FRAME;
            if !counting {
                if let Ok(remote) = receiver.next_track(SimDuration::ZERO).await {
                    let (n, bytes) = (Arc::clone(&received), Arc::clone(&received_bytes));
                    drop(sim.spawn(Box::pin(async move {
                        while let Some(event) = remote.poll().await {
                            if let TrackRemoteEvent::OnRtpPacket(p) = event {
                                n.fetch_add(1, Ordering::Relaxed);
                                bytes.fetch_add(p.payload.len() as u64, Ordering::Relaxed);
                            }
                        }
                    })));
                    counting = true;
                }
            }
        }
        Ok::<_, Box<dyn std::error::Error>>((setup_wall, media_wall_start.elapsed()))
    })??;
    let forward = sim.link_stats(a, b)?;
    let speed = seconds as f64 / media_wall.as_secs_f64();
    println!(
        "{seconds} s call: setup {:.1} ms wall; media {:.3} s wall => {speed:.0}x real time",
        setup_wall.as_secs_f64() * 1e3,
        media_wall.as_secs_f64()
    );
    println!(
        "sender -> receiver: {} packets, {:.2} Mbit/s on the wire; receiver got {} RTP packets \
         ({:.2} Mbit/s of payload)",
        forward.delivered.packets,
        forward.delivered.bytes as f64 * 8.0 / seconds as f64 / 1e6,
        received.load(Ordering::Relaxed),
        received_bytes.load(Ordering::Relaxed) as f64 * 8.0 / seconds as f64 / 1e6,
    );
    Ok(())
}
