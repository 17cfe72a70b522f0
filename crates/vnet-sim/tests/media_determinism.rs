//! Same seed, same run, for a 10 s video call between two real PeerConnections (VP8 over SRTP
//! with RTCP reports, NACK and TWCC feedback) on a constrained, lossy, jittery path: the
//! per-packet link logs repeat exactly, and another seed changes them.
#![cfg(feature = "webrtc")]

mod support;

use std::sync::Arc;
use std::time::Duration;

use rtc::media::Sample;
use rtc::media_stream::MediaStreamTrack;
use rtc::rtp_transceiver::rtp_sender::{
    RTCRtpCodec, RTCRtpCodecParameters, RTCRtpCodingParameters, RTCRtpEncodingParameters,
    RtpCodecKind,
};
use vnet_sim::peer::connect;
use vnet_sim::{PacketRecord, SimDuration};
use webrtc::media_stream::track_local::TrackLocal;
use webrtc::media_stream::track_local::static_sample::TrackLocalStaticSample;
use webrtc::peer_connection::{
    MediaEngine, RTCPeerConnectionState, Registry, register_default_interceptors,
};
use webrtc::runtime::Runtime;

const SSRC: u32 = 0x2468_1357;
const FRAME: SimDuration = SimDuration::from_nanos(33_333_333);

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

fn media() -> (MediaEngine, Registry) {
    let mut media_engine = MediaEngine::default();
    media_engine
        .register_codec(vp8(), RtpCodecKind::Video)
        .expect("VP8 registers");
    let registry =
        register_default_interceptors(Registry::new(), &mut media_engine).expect("interceptors");
    (media_engine, registry)
}

/// Runs the call and returns both directions' link logs.
fn call(seed: u64) -> (Vec<PacketRecord>, Vec<PacketRecord>) {
    // 1.5 Mbit/s: the video (about 1.2 Mbit/s with key frames) queues, loses 1 % and gets
    // NACKed. Seeds 1 and 2 spare the DTLS client's last flight (see `tests/upstream.rs`).
    let (sim, a, b) = support::pair(seed, ("sender", "receiver"), support::impaired(1_500, 0.01));
    sim.run(async {
        let (me, reg) = media();
        let sender = sim
            .peer(a)
            .media_engine(me)
            .interceptor_registry(reg)
            .build()
            .await
            .expect("sender");
        let (me, reg) = media();
        let receiver = sim
            .peer(b)
            .media_engine(me)
            .interceptor_registry(reg)
            .build()
            .await
            .expect("receiver");
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
            .expect("track"),
        );
        sender
            .pc()
            .add_track(Arc::clone(&track) as Arc<dyn TrackLocal>)
            .await
            .expect("add track");
        connect(&sender, &receiver, SimDuration::from_secs(1))
            .await
            .expect("negotiates");
        sender
            .wait_for_state(
                RTCPeerConnectionState::Connected,
                SimDuration::from_secs(20),
            )
            .await
            .expect("connects");
        let start = sim.time();
        let end = start + SimDuration::from_secs(10);
        let mut next = start;
        let mut frame = 0u64;
        while next < end {
            sim.sleep_until(next).await;
            // ~1.2 Mbit/s: 4.5 kB frames, a 3× key frame every 2 s, sizes varying by frame.
            let size = if frame % 60 == 0 {
                13_500
            } else {
                4_000 + (frame as usize * 131) % 1_000
            };
            let mut data = vec![0x5A_u8; size];
            data[0] = if frame % 60 == 0 { 0x10 } else { 0x11 };
            track
                .sample_writer(SSRC, 96)
                .write_sample(&Sample {
                    data: data.into(),
                    duration: Duration::from_nanos(FRAME.as_nanos()),
                    ..Sample::new(sim.now())
                })
                .await
                .expect("write sample");
            frame += 1;
            next += FRAME;
        }
        sim.sleep_for(SimDuration::from_secs(1)).await;
    })
    .expect("the simulation runs");
    (
        sim.link_log(a, b).expect("sender -> receiver"),
        sim.link_log(b, a).expect("receiver -> sender"),
    )
}

/// The promise for media: a 10 s call with queueing, loss and retransmissions repeats
/// packet for packet under the same seed, and another seed gives another run.
#[test]
fn a_ten_second_media_call_repeats_packet_for_packet_under_the_same_seed() {
    let first = call(1);
    let second = call(1);
    let other = call(2);
    let dropped = first
        .0
        .iter()
        .filter(|r| !matches!(r.fate, vnet_sim::Fate::Delivered))
        .count();
    eprintln!(
        "seed 1: {} forward packets ({dropped} dropped), {} back; seed 2: {} + {}",
        first.0.len(),
        first.1.len(),
        other.0.len(),
        other.1.len()
    );
    // About 10 s of ~1.2 Mbit/s video in ~1.1 kB packets, plus feedback the other way.
    assert!(
        (1_000..3_000).contains(&first.0.len()) && (50..3_000).contains(&first.1.len()),
        "{} / {}",
        first.0.len(),
        first.1.len()
    );
    assert!(
        (1..300).contains(&dropped),
        "the path should drop some packets: {dropped}"
    );
    if let Some(i) = first.0.iter().zip(&second.0).position(|(x, y)| x != y) {
        panic!(
            "sender -> receiver diverges at packet {i}: {:?} vs {:?}",
            first.0[i], second.0[i]
        );
    }
    assert_eq!(first.0.len(), second.0.len());
    if let Some(i) = first.1.iter().zip(&second.1).position(|(x, y)| x != y) {
        panic!(
            "receiver -> sender diverges at packet {i}: {:?} vs {:?}",
            first.1[i], second.1[i]
        );
    }
    assert_eq!(first.1.len(), second.1.len());
    assert_ne!(first, other, "another seed must give another run");
}
