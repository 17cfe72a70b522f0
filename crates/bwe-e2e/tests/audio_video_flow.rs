//! An audio + video flow of a multi-flow call: its receiving application gets both tracks, the
//! audio whole, and the same seed gives the same per-flow trace.

use bwe_e2e::{Estimator, FlowSpec, Media, MultiCallResult, MultiCallSpec, run_multi_call};
use vnet_sim::{LinkConfig, QueueLimit, Rate, SimDuration};

const MEDIA: SimDuration = SimDuration::from_secs(4);

fn call(seed: u64) -> MultiCallResult {
    let forward = LinkConfig {
        capacity: Rate::from_kbps(1_000).into(),
        queue: QueueLimit::Time(SimDuration::from_millis(300)),
        delay: SimDuration::from_millis(20),
        ..LinkConfig::default()
    };
    let mut flow = FlowSpec::new(Estimator::OursSendSide);
    flow.media = Media::AudioVideo;
    let mut spec = MultiCallSpec::new(seed, forward, vec![flow]);
    spec.duration = MEDIA;
    run_multi_call(&spec).expect("the call runs")
}

/// Audio must reach the application beside the video it shares the flow with, and a run must
/// be reproducible to be a test at all.
///
/// 4 s of 20 ms frames is 200 audio frames; the packets with a payload on the audio SSRC must be
/// within ±5 % of them (the last few may still be in flight when media ends). Padding-only
/// packets, the pacer's probes, may also arrive on the audio SSRC and are not counted.
#[test]
fn an_audio_video_flow_delivers_both_tracks_and_repeats_for_a_seed() {
    let first = call(5);
    let flow = &first.flows[0];
    println!(
        "audio frames {}, audio packets {}, video packets {}, all RTP {}",
        flow.audio_frames_sent, flow.audio_received, flow.video_received, flow.rtp_received
    );
    assert_eq!(flow.media, Media::AudioVideo);
    assert_eq!(flow.audio_frames_sent, 200);
    let frames = flow.audio_frames_sent as f64;
    let audio = flow.audio_received as f64;
    assert!(
        (frames * 0.95..=frames * 1.05).contains(&audio),
        "{audio} audio packets for {frames} frames"
    );
    assert!(flow.video_received > 100, "{}", flow.video_received);
    assert!(flow.rtp_received >= flow.audio_received + flow.video_received);

    let second = call(5);
    assert_eq!(first.flows, second.flows);
    assert_eq!(first.media_start, second.media_start);
}
