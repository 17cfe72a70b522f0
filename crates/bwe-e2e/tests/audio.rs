//! An Opus track beside the VP8 one, on real PeerConnections over vnet-sim: every audio frame
//! reaches the receiving application as an RTP packet on its own SSRC, and the forward link
//! carries the audio at its configured rate (plus per-packet overhead), whatever the estimator
//! does.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use bwe_core::Bitrate;
use bwe_e2e::video::VIDEO_SSRC;
use bwe_e2e::{
    AUDIO_SSRC, AudioConfig, AudioSender, CallError, EncoderConfig, Endpoint, Estimator, Nack,
    VideoSender,
};
use vnet_sim::peer::connect;
use vnet_sim::{LinkConfig, PacketRecord, Rate, RateSchedule, Sim, SimDuration, SimTime};
use webrtc::media_stream::track_remote::TrackRemoteEvent;
use webrtc::peer_connection::RTCPeerConnectionState;
use webrtc::runtime::Runtime;

const SEED: u64 = 11;
const MEDIA: SimDuration = SimDuration::from_secs(5);
const TIMEOUT: SimDuration = SimDuration::from_secs(10);

/// What the call produced.
struct Outcome {
    audio_rtp: u64,
    video_rtp: u64,
    audio_frames: u64,
    media_start: SimTime,
    log: Vec<PacketRecord>,
}

/// Two hosts, a 5 Mbit/s forward link that logs every packet, our send-side estimator, an
/// audio and a video track; 5 s of media, then a little time for the last packets to land.
fn call(audio: AudioConfig) -> Result<Outcome, CallError> {
    let mut builder = Sim::builder().seed(SEED);
    let (a, b) = (builder.host("sender"), builder.host("receiver"));
    let delay = SimDuration::from_millis(20);
    builder.link(
        a,
        b,
        LinkConfig {
            capacity: RateSchedule::constant(Rate::from_mbps(5)),
            delay,
            record_log: true,
            ..LinkConfig::default()
        },
    );
    builder.link(
        b,
        a,
        LinkConfig {
            delay,
            ..LinkConfig::default()
        },
    );
    let sim = builder.build()?;
    let (audio_rtp, video_rtp) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));

    let (audio_frames, media_start) = sim.run(async {
        let sending = Endpoint::new(Estimator::OursSendSide, Nack::WithRtx)?;
        let receiving = Endpoint::new(Estimator::OursSendSide, Nack::WithRtx)?;
        let sender = sim
            .peer(a)
            .media_engine(sending.media_engine)
            .interceptor_registry(sending.registry)
            .build()
            .await?;
        let receiver = Arc::new(
            sim.peer(b)
                .media_engine(receiving.media_engine)
                .interceptor_registry(receiving.registry)
                .build()
                .await?,
        );
        let mut audio = AudioSender::new(sim.now(), audio)?;
        let mut video = VideoSender::new(sim.now(), EncoderConfig::default(), true)?;
        for track in [audio.track(), video.track()] {
            sender
                .pc()
                .add_track(track)
                .await
                .map_err(|e| CallError::Invalid(format!("adding a track: {e}")))?;
        }
        connect(&sender, &receiver, TIMEOUT).await?;
        sender
            .wait_for_state(RTCPeerConnectionState::Connected, TIMEOUT)
            .await?;

        // The receiving application reads both tracks and counts packets per SSRC.
        for _ in 0..2 {
            let (peer, audio_rtp, video_rtp) = (
                Arc::clone(&receiver),
                Arc::clone(&audio_rtp),
                Arc::clone(&video_rtp),
            );
            drop(sim.spawn(Box::pin(async move {
                if let Ok(track) = peer.next_track(MEDIA + TIMEOUT).await {
                    while let Some(event) = track.poll().await {
                        // Padding-only packets (the pacer's probes, RFC 3550 §5.1) carry no
                        // media; the application sees them but they are no frame.
                        if let TrackRemoteEvent::OnRtpPacket(p) = event
                            && !p.payload.is_empty()
                        {
                            match p.header.ssrc {
                                AUDIO_SSRC => audio_rtp.fetch_add(1, Ordering::Relaxed),
                                VIDEO_SSRC => video_rtp.fetch_add(1, Ordering::Relaxed),
                                _ => 0,
                            };
                        }
                    }
                }
            })));
        }

        let media_start = sim.time();
        let end = media_start + MEDIA;
        let frame_interval = video.model().frame_interval();
        let mut next_video = media_start;
        let mut next_audio = media_start;
        let mut audio_frames = 0;
        loop {
            let now = next_video.min(next_audio);
            if now >= end {
                break;
            }
            sim.sleep_until(now).await;
            if now == next_audio {
                audio_frames += audio.send_due(now, |t| sim.instant_at(t)).await?.len() as u64;
                next_audio = audio.poll_timeout().expect("started by the first send");
            }
            if now == next_video {
                video
                    .send_frame(now, sim.instant_at(now), Bitrate::from_kbps(500))
                    .await?;
                next_video += frame_interval;
            }
        }
        // Let the last frames cross the link and reach the application.
        sim.sleep_until(end + SimDuration::from_millis(500)).await;
        drop(sender);
        Ok::<_, CallError>((audio_frames, media_start))
    })??;

    Ok(Outcome {
        audio_rtp: audio_rtp.load(Ordering::Relaxed),
        video_rtp: video_rtp.load(Ordering::Relaxed),
        audio_frames,
        media_start,
        log: sim.link_log(a, b)?,
    })
}

/// Per-packet overhead on the wire of an audio frame, bytes: IPv4 and UDP (28, which vnet-sim
/// counts), the RTP header (12), SRTP's authentication tag (10) and the header extensions the
/// chain adds (TWCC sequence number and the like). 64 as observed with webrtc 0.21.1; the range
/// leaves ±8 for an extension more or less.
const OVERHEAD: std::ops::RangeInclusive<u32> = 56..=72;

/// Audio shares the link with video at a fixed rate: 250 frames in 5 s arrive as 240 to 250 RTP
/// packets, and the forward link carries them at 32 kbit/s ± 5 % plus 50 packets a second of
/// overhead, whatever the estimator and the video do.
#[test]
fn an_opus_track_beside_video_arrives_whole_at_its_fixed_rate() {
    let config = AudioConfig::default();
    let out = call(config.clone()).expect("the call runs");
    println!(
        "audio frames {}, audio RTP packets {}, video RTP packets {}",
        out.audio_frames, out.audio_rtp, out.video_rtp
    );
    assert_eq!(out.audio_frames, 250);
    assert!((240..=250).contains(&out.audio_rtp), "{}", out.audio_rtp);
    // Video ran beside it: 500 kbit/s in packets of up to ~1 200 bytes.
    assert!((150..=450).contains(&out.video_rtp), "{}", out.video_rtp);

    // Audio packets on the wire are the ones whose size an Opus frame of ± 10 % around 80 bytes
    // plus the overhead can have; video fragments and probes are far bigger, RTCP smaller
    // (a stray one in the window costs ~1 %).
    let lo = 72 + OVERHEAD.start();
    let hi = 88 + OVERHEAD.end();
    let window = out.media_start..out.media_start + MEDIA + SimDuration::from_millis(500);
    let audio: Vec<&PacketRecord> = out
        .log
        .iter()
        .filter(|r| window.contains(&r.sent) && (lo..=hi).contains(&r.size))
        .collect();
    let bytes: u64 = audio.iter().map(|r| u64::from(r.size)).sum();
    let rate = bytes as f64 * 8.0 / MEDIA.as_secs_f64();
    let payload = config.bitrate.as_bps_f64();
    let per_second = 1.0 / config.frame_duration.as_secs_f64();
    let overhead = |bytes: u32| f64::from(bytes) * 8.0 * per_second;
    let (min, max) = (
        payload * 0.95 + overhead(*OVERHEAD.start()),
        payload * 1.05 + overhead(*OVERHEAD.end()),
    );
    println!(
        "{} audio-sized packets, {:.1} kbit/s on the wire, expected {:.1}–{:.1}",
        audio.len(),
        rate / 1e3,
        min / 1e3,
        max / 1e3
    );
    assert!((240..=260).contains(&audio.len()), "{}", audio.len());
    assert!((min..=max).contains(&rate), "{rate}");
}
