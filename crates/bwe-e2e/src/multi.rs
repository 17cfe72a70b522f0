//! [`MultiCallSpec`] and [`run_multi_call`]: several flows (video, audio or both, see
//! [`crate::Media`]), each between its own pair of real PeerConnections, sharing one bottleneck
//! in each direction (RFC 8867 §5.2–§5.8).
//!
//! Topology (a dumbbell, RFC 8867 Figure 1):
//!
//! ```text
//!  flow senders/receivers on the left          flow senders/receivers on the right
//!  host ─access─┐                                        ┌─access─ host
//!  host ─access─┤ r1 ══ forward bottleneck r1 → r2 ══► r2 ├─access─ host
//!  host ─access─┘    ◄═ backward bottleneck r2 → r1 ══    └─access─ host
//! ```
//!
//! Each flow has a sender host and a receiver host; a [`Direction::LeftToRight`] flow's sender
//! sits on the left, a [`Direction::RightToLeft`] flow's on the right. Access links carry the
//! flow's access delay both ways and have no capacity limit or queue, so the only place flows
//! compete is the bottleneck. Static routes send every flow's media and its feedback across the
//! two bottleneck links, both of which log every packet; the log is split per flow by the
//! packet's origin (the sending host), so a flow's trace is exactly its sender's packets on its
//! bottleneck: media, retransmissions, padding and the RTCP it sends.
//!
//! **All flows connect before media starts**, one after the other, and a late flow simply
//! writes its first frame at its `start`. Connecting up front keeps the ICE and DTLS handshakes
//! (a few hundred virtual milliseconds each) out of the measured phase, so a flow joining at
//! 20 s starts its media at 20 s exactly, and the capacity schedule's offsets mean the same thing
//! for every flow. The cost: idle connections exchange keep-alives (a few hundred bytes a
//! second) before they start, which appear in the aggregate trace.
//!
//! The bottlenecks' capacity schedules (and blackout windows and delay steps) are re-applied at
//! the start of media so that their offsets count from there, and everything that decides timing
//! is seeded: links and crypto from `seed`, each flow's encoder and audio model from `seed` and
//! its index, each flow's SSRCs fixed by its index.
//!
//! A flow with audio writes its Opus frames on the same virtual clock as its video frames: the
//! loop wakes at the earliest of the next trace sample, any flow's next video frame and any
//! flow's next audio frame ([`AudioSender::poll_timeout`]); at one instant audio goes before
//! video. Audio starts, pauses and stops with the flow; frames due in a pause are dropped, not
//! sent late.

use std::sync::Arc;
use std::sync::atomic::Ordering;

use bwe_core::Bitrate;

use vnet_sim::peer::SimPeer;
use vnet_sim::seed::derive_seed;
use vnet_sim::{
    HostId, LinkConfig, LinkStats, Sim, SimDuration, SimTime, TcpConfig, TcpFlowSpec, TcpTraffic,
};

use crate::audio::AudioSender;
use crate::audio_model::AudioConfig;
use crate::capture::CallCapture;
use crate::encoder::EncoderConfig;
use crate::error::CallError;
use crate::estimator::{Estimator, GCC_START};
use crate::flow::{Activity, Direction, FlowSpec, Media};
use crate::pair::{PairSpec, Received, connect_pair, read_tracks};
use crate::recorder::{LinkView, QueueDelaySource, Recorder, Sample, Trace};
use crate::target::TargetSource;
use crate::tcp::{TCP_FLOW_ID_BASE, TcpResult, TcpSample, TcpSpec, TcpWorkload};
use crate::video::{RTX_SSRC, VIDEO_SSRC, VideoSender};

/// A multi-flow call to run. Start from [`MultiCallSpec::new`].
#[derive(Debug, Clone)]
pub struct MultiCallSpec {
    /// Seeds the links, the peers' crypto and every flow's encoder.
    pub seed: u64,
    /// Virtual time of media, from the moment every flow is connected.
    pub duration: SimDuration,
    /// The bottleneck `r1 → r2` (left to right). Its capacity schedule's offsets, its blackout
    /// windows (as offsets from `SimTime::ZERO`) and its delay steps count from the start of
    /// media (the handshakes see `delay`); `record_log` is turned on by the runner.
    pub forward: LinkConfig,
    /// The bottleneck `r2 → r1`, likewise.
    pub backward: LinkConfig,
    /// The flows, in order; flow `i`'s hosts are `flow<i+1>-sender` and `flow<i+1>-receiver`.
    pub flows: Vec<FlowSpec>,
    /// The encoder model of every flow; each flow's seed is derived from `seed` and its index.
    pub encoder: EncoderConfig,
    /// The audio model of every flow that sends audio; each flow's seed is derived from `seed`
    /// and its index.
    pub audio: AudioConfig,
    /// Trace row length (default 200 ms).
    pub interval: SimDuration,
    /// How long each flow's ICE and DTLS may take (default 10 s).
    pub connect_timeout: SimDuration,
    /// Capture every link and every PeerConnection's plaintext RTP and RTCP
    /// ([`MultiCallResult::capture`], see [`crate::capture`]). Default off: a capture holds
    /// about three copies of everything sent in memory.
    pub capture: bool,
    /// TCP-model flows competing on the bottleneck (see [`crate::tcp`]); none by default.
    /// TCP flow `i`'s hosts are `tcp<i+1>-sender` and `tcp<i+1>-receiver`.
    pub tcp: Vec<TcpSpec>,
}

impl MultiCallSpec {
    /// A 20 s call of `flows` over `forward`, with a backward bottleneck of the same delay and
    /// no capacity limit.
    pub fn new(seed: u64, forward: LinkConfig, flows: Vec<FlowSpec>) -> Self {
        let backward = LinkConfig {
            delay: forward.delay,
            ..LinkConfig::default()
        };
        Self {
            seed,
            duration: SimDuration::from_secs(20),
            forward,
            backward,
            flows,
            encoder: EncoderConfig::default(),
            audio: AudioConfig::default(),
            interval: SimDuration::from_millis(200),
            connect_timeout: SimDuration::from_secs(10),
            capture: false,
            tcp: Vec::new(),
        }
    }
}

/// What one flow of a multi-flow call produced.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct FlowResult {
    /// Its sender's packets on its bottleneck, per interval, with its target, REMB and pacer
    /// queue delay. Queuing delay is the time in the bottleneck.
    pub trace: Trace,
    /// When it sent.
    pub activity: Activity,
    /// Which bottleneck its media crossed.
    pub direction: Direction,
    /// Its estimator.
    pub estimator: Estimator,
    /// RTP packets its receiving application read, on every track, padding-only ones included.
    pub rtp_received: u64,
    /// What it sent.
    pub media: Media,
    /// Audio frames it wrote to its track (0 without audio).
    pub audio_frames_sent: u64,
    /// RTP packets with a payload its receiving application read on its audio SSRC.
    pub audio_received: u64,
    /// RTP packets with a payload its receiving application read on its video SSRC.
    pub video_received: u64,
}

/// What a multi-flow call produced.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct MultiCallResult {
    /// One per flow, in the spec's order.
    pub flows: Vec<FlowResult>,
    /// Everything that crossed `r1 → r2` (every origin: forward media and backward flows'
    /// feedback), per interval; no target columns.
    pub forward: Trace,
    /// Everything that crossed `r2 → r1`.
    pub backward: Trace,
    /// The forward bottleneck's totals over the whole simulation (handshakes included).
    pub forward_stats: LinkStats,
    /// The backward bottleneck's.
    pub backward_stats: LinkStats,
    /// When media started, in simulation time (after every flow connected).
    pub media_start: SimTime,
    /// The links' pcaps and the PeerConnections' taps, when the spec asked for `capture`.
    pub capture: Option<CallCapture>,
    /// One per TCP flow of the spec, in its order.
    pub tcp: Vec<TcpResult>,
}

impl MultiCallResult {
    /// The aggregate trace of the bottleneck `direction`'s media crosses.
    pub fn aggregate(&self, direction: Direction) -> &Trace {
        match direction {
            Direction::LeftToRight => &self.forward,
            Direction::RightToLeft => &self.backward,
        }
    }
}

/// The video media and RTX SSRCs of flow `index`: fixed, distinct per flow.
pub fn flow_ssrcs(index: usize) -> (u32, u32) {
    let step = 0x100 * index as u32;
    (VIDEO_SSRC + step, RTX_SSRC + step)
}

/// The audio SSRC of flow `index`: fixed, distinct per flow and from every flow's video and RTX
/// SSRCs. The low byte names the kind (`01` video, `02` RTX, `03` audio) and the next ones the
/// flow. ([`crate::AUDIO_SSRC`], the one-call constant, is not reused: it is flow 11's video SSRC.)
pub fn flow_audio_ssrc(index: usize) -> u32 {
    FLOW_AUDIO_SSRC_BASE + 0x100 * index as u32
}

/// Flow 1's audio SSRC: [`VIDEO_SSRC`] with the audio kind in the low byte.
const FLOW_AUDIO_SSRC_BASE: u32 = (VIDEO_SSRC & !0xFF) | 0x03;

struct Hosts {
    r1: HostId,
    r2: HostId,
    senders: Vec<HostId>,
    receivers: Vec<HostId>,
    tcp_senders: Vec<HostId>,
    tcp_receivers: Vec<HostId>,
}

fn build_sim(spec: &MultiCallSpec) -> Result<(Sim, Hosts), CallError> {
    // Each flow's handshake may use its connect timeout three times (gathering on either side,
    // then the connection); the runtime's default limit of one virtual hour would end an hour
    // of media in its last seconds.
    let handshakes = spec
        .connect_timeout
        .saturating_mul(3 * spec.flows.len() as u64 + 1);
    let mut builder = Sim::builder()
        .seed(spec.seed)
        .capture(spec.capture)
        .time_limit(handshakes + spec.duration);
    let (r1, r2) = (builder.host("r1"), builder.host("r2"));
    let mut senders = Vec::with_capacity(spec.flows.len());
    let mut receivers = Vec::with_capacity(spec.flows.len());
    let mut tcp_senders = Vec::with_capacity(spec.tcp.len());
    let mut tcp_receivers = Vec::with_capacity(spec.tcp.len());
    let media = spec
        .flows
        .iter()
        .enumerate()
        .map(|(i, f)| (format!("flow{}", i + 1), f.direction, f.access_delay, false));
    let tcp = spec
        .tcp
        .iter()
        .enumerate()
        .map(|(i, t)| (format!("tcp{}", i + 1), t.direction, t.access_delay, true));
    for (name, direction, access_delay, is_tcp) in media.chain(tcp) {
        let sender = builder.host(format!("{name}-sender"));
        let receiver = builder.host(format!("{name}-receiver"));
        let (left, right) = match direction {
            Direction::LeftToRight => (sender, receiver),
            Direction::RightToLeft => (receiver, sender),
        };
        let access = LinkConfig {
            delay: access_delay,
            ..LinkConfig::default()
        };
        builder.path(left, r1, access.clone());
        builder.path(right, r2, access);
        builder
            .route(left, right, r1)
            .route(r1, right, r2)
            .route(right, left, r2)
            .route(r2, left, r1);
        if is_tcp {
            tcp_senders.push(sender);
            tcp_receivers.push(receiver);
        } else {
            senders.push(sender);
            receivers.push(receiver);
        }
    }
    builder.link(
        r1,
        r2,
        LinkConfig {
            record_log: true,
            blackouts: Vec::new(),
            delay_steps: Vec::new(),
            ..spec.forward.clone()
        },
    );
    builder.link(
        r2,
        r1,
        LinkConfig {
            record_log: true,
            blackouts: Vec::new(),
            delay_steps: Vec::new(),
            ..spec.backward.clone()
        },
    );
    Ok((
        builder.build()?,
        Hosts {
            r1,
            r2,
            senders,
            receivers,
            tcp_senders,
            tcp_receivers,
        },
    ))
}

/// One connected flow during the media phase.
struct LiveFlow {
    video: Option<VideoSender>,
    audio: Option<AudioSender>,
    target: Arc<dyn TargetSource>,
    recorder: Recorder,
    activity: Activity,
    /// The next video frame; `None` without video or after the flow's stop.
    next_frame: Option<SimTime>,
    /// The next audio frame; `None` without audio or after the flow's stop.
    next_audio: Option<SimTime>,
    audio_frames_sent: u64,
    _peers: (SimPeer, Arc<SimPeer>),
}

fn view(link: &LinkConfig) -> LinkView<'_> {
    LinkView {
        capacity: &link.capacity,
        delay: link.delay,
        queue_delay: QueueDelaySource::TimeInBottleneck,
    }
}

/// Runs `spec`. See the module docs for the topology and the order of events.
pub fn run_multi_call(spec: &MultiCallSpec) -> Result<MultiCallResult, CallError> {
    if spec.duration == SimDuration::ZERO {
        return Err(CallError::Invalid("duration must be positive".to_owned()));
    }
    if spec.flows.is_empty() {
        return Err(CallError::Invalid(
            "a call needs at least one flow".to_owned(),
        ));
    }
    for (i, f) in spec.flows.iter().enumerate() {
        let stop = f.stop.unwrap_or(spec.duration);
        if f.start >= stop || f.pauses.iter().any(|&(a, b)| a >= b) {
            return Err(CallError::Invalid(format!(
                "flow {}: start must precede stop and every pause must end after it begins",
                i + 1
            )));
        }
    }
    let (sim, hosts) = build_sim(spec)?;
    let received: Vec<Arc<Received>> = spec
        .flows
        .iter()
        .map(|_| Arc::new(Received::default()))
        .collect();

    let mut tapped = Vec::new();
    let (finished, media_start, tcp_samples, tcp_last) = sim.run(async {
        let mut live = Vec::with_capacity(spec.flows.len());
        for (i, flow) in spec.flows.iter().enumerate() {
            let pair = connect_pair(
                &sim,
                PairSpec {
                    sender: hosts.senders[i],
                    receiver: hosts.receivers[i],
                    estimator: flow.estimator,
                    nack: flow.nack,
                    encoder: EncoderConfig {
                        seed: derive_seed(spec.seed, &format!("encoder/flow{}", i + 1)),
                        ..spec.encoder.clone()
                    },
                    media: flow.media,
                    ssrcs: flow_ssrcs(i),
                    audio: AudioConfig {
                        seed: derive_seed(spec.seed, &format!("audio/flow{}", i + 1)),
                        ..spec.audio.clone()
                    },
                    audio_ssrc: flow_audio_ssrc(i),
                    connect_timeout: spec.connect_timeout,
                    capture: spec.capture,
                },
            )
            .await
            .map_err(|e| CallError::connect(i, spec, e))?;
            let tracks = usize::from(flow.media.has_audio()) + usize::from(flow.media.has_video());
            read_tracks(
                &sim,
                &pair.receiver,
                tracks,
                (flow_audio_ssrc(i), flow_ssrcs(i).0),
                &received[i],
                spec.duration + spec.connect_timeout,
            );
            tapped.extend(pair.tapped);
            live.push(LiveFlow {
                video: pair.video,
                audio: pair.audio,
                target: pair.target,
                recorder: Recorder::new(spec.interval),
                activity: flow.activity(spec.duration),
                next_frame: None,
                next_audio: None,
                audio_frames_sent: 0,
                _peers: (pair.sender, pair.receiver),
            });
        }

        let media_start = sim.time();
        sim.set_capacity(hosts.r1, hosts.r2, spec.forward.capacity.clone())?;
        sim.set_capacity(hosts.r2, hosts.r1, spec.backward.capacity.clone())?;
        for w in &spec.forward.blackouts {
            sim.add_blackout(hosts.r1, hosts.r2, crate::call::after(media_start, w))?;
        }
        for w in &spec.backward.blackouts {
            sim.add_blackout(hosts.r2, hosts.r1, crate::call::after(media_start, w))?;
        }
        for (from, to, link) in [
            (hosts.r1, hosts.r2, &spec.forward),
            (hosts.r2, hosts.r1, &spec.backward),
        ] {
            if !link.delay_steps.is_empty() {
                sim.set_delay(from, to, link.delay_schedule())?;
            }
        }
        let tcp_flows = spec
            .tcp
            .iter()
            .zip(hosts.tcp_senders.iter().zip(&hosts.tcp_receivers))
            .zip(TCP_FLOW_ID_BASE..)
            .map(|((t, (&from, &to)), id)| {
                sim.spawn_tcp_flow(
                    from,
                    to,
                    TcpFlowSpec {
                        id,
                        config: TcpConfig {
                            algorithm: t.algorithm,
                            ..TcpConfig::default()
                        },
                        start: crate::tcp::at(media_start, t.start),
                        stop: t.stop.map(|s| crate::tcp::at(media_start, s)),
                        traffic: match t.workload {
                            TcpWorkload::Bulk => TcpTraffic::Bulk,
                            TcpWorkload::Messages(plan) => TcpTraffic::Messages(plan),
                        },
                    },
                )
            })
            .collect::<Result<Vec<_>, _>>()?;
        let mut tcp_samples = vec![Vec::new(); tcp_flows.len()];
        let sample_tcp = |samples: &mut Vec<Vec<TcpSample>>, now: SimTime| {
            for (flow, out) in tcp_flows.iter().zip(samples.iter_mut()) {
                let s = flow.snapshot();
                out.push(TcpSample {
                    at: now.saturating_duration_since(media_start),
                    delivered: s.receiver.bytes_delivered,
                    cwnd: s.sender.cwnd,
                    srtt: s.sender.srtt,
                });
            }
        };
        for f in &mut live {
            let first = media_start + f.activity.start;
            f.next_frame = f.video.is_some().then_some(first);
            f.next_audio = f.audio.is_some().then_some(first);
        }
        let end = media_start + spec.duration;
        let interval = Recorder::new(spec.interval).interval();
        let mut samples = 0u64;
        loop {
            let next_sample = media_start + interval.saturating_mul(samples);
            let now = live
                .iter()
                .flat_map(|f| [f.next_frame, f.next_audio])
                .flatten()
                .fold(next_sample, SimTime::min);
            if now >= end {
                break;
            }
            sim.sleep_until(now).await;
            if now == next_sample {
                samples += 1;
                for f in &mut live {
                    f.recorder.record(Sample::of(f.target.as_ref()));
                }
                sample_tcp(&mut tcp_samples, now);
            }
            for f in &mut live {
                let active = f
                    .activity
                    .is_active(now.saturating_duration_since(media_start));
                let stop = media_start + f.activity.stop;
                if let (Some(audio), true) = (&mut f.audio, f.next_audio == Some(now)) {
                    if active {
                        let sent = audio.send_due(now, |t| sim.instant_at(t)).await?;
                        f.audio_frames_sent += sent.len() as u64;
                    } else {
                        audio.skip_due(now);
                    }
                    f.next_audio = audio.poll_timeout().filter(|&t| t > now && t < stop);
                }
                if let (Some(video), true) = (&mut f.video, f.next_frame == Some(now)) {
                    if active {
                        let target = f.target.target().unwrap_or(GCC_START);
                        // Audio is served first (see `Media`): video gets what it leaves.
                        let audio = f
                            .audio
                            .as_ref()
                            .map_or(Bitrate::ZERO, |a| a.model().bitrate());
                        video
                            .send_frame(now, sim.instant_at(now), target - audio)
                            .await?;
                    }
                    let next = now + video.model().frame_interval();
                    f.next_frame = (next < stop).then_some(next);
                }
            }
        }
        sim.sleep_until(end).await;
        sample_tcp(&mut tcp_samples, end);
        let tcp_last: Vec<_> = tcp_flows.iter().map(|f| f.snapshot()).collect();
        let finished: Vec<(Recorder, u64)> = live
            .into_iter()
            .map(|f| (f.recorder, f.audio_frames_sent))
            .collect();
        Ok::<_, CallError>((finished, media_start, tcp_samples, tcp_last))
    })??;

    let forward_log = sim.link_log(hosts.r1, hosts.r2)?;
    let backward_log = sim.link_log(hosts.r2, hosts.r1)?;
    let mut flows = Vec::with_capacity(spec.flows.len());
    for (i, (flow, (recorder, audio_frames_sent))) in spec.flows.iter().zip(&finished).enumerate() {
        let (log, link) = match flow.direction {
            Direction::LeftToRight => (&forward_log, &spec.forward),
            Direction::RightToLeft => (&backward_log, &spec.backward),
        };
        let origin = hosts.senders[i].index();
        let own: Vec<_> = log.iter().filter(|r| r.origin == origin).copied().collect();
        flows.push(FlowResult {
            trace: recorder.finish(&own, media_start, spec.duration, &view(link)),
            activity: flow.activity(spec.duration),
            direction: flow.direction,
            estimator: flow.estimator,
            rtp_received: received[i].rtp.load(Ordering::Relaxed),
            media: flow.media,
            audio_frames_sent: *audio_frames_sent,
            audio_received: received[i].audio.load(Ordering::Relaxed),
            video_received: received[i].video.load(Ordering::Relaxed),
        });
    }
    let whole = Recorder::new(spec.interval);
    let tcp = spec
        .tcp
        .iter()
        .zip(&hosts.tcp_senders)
        .zip(tcp_samples.into_iter().zip(tcp_last))
        .map(|((t, sender), (samples, last))| {
            let (log, link) = match t.direction {
                Direction::LeftToRight => (&forward_log, &spec.forward),
                Direction::RightToLeft => (&backward_log, &spec.backward),
            };
            let own: Vec<_> = log
                .iter()
                .filter(|r| r.origin == sender.index())
                .copied()
                .collect();
            TcpResult {
                spec: *t,
                trace: whole.finish(&own, media_start, spec.duration, &view(link)),
                samples,
                last,
            }
        })
        .collect();
    Ok(MultiCallResult {
        flows,
        forward: whole.finish(
            &forward_log,
            media_start,
            spec.duration,
            &view(&spec.forward),
        ),
        backward: whole.finish(
            &backward_log,
            media_start,
            spec.duration,
            &view(&spec.backward),
        ),
        forward_stats: sim.link_stats(hosts.r1, hosts.r2)?,
        backward_stats: sim.link_stats(hosts.r2, hosts.r1)?,
        media_start,
        capture: spec.capture.then(|| crate::capture::collect(&sim, &tapped)),
        tcp,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Flows are told apart on the wire by fixed numbers, never by the same SSRC twice, whether
    /// video, RTX or audio.
    #[test]
    fn every_flow_has_its_own_ssrcs() {
        let all: Vec<u32> = (0..64)
            .flat_map(|i| {
                let (a, b) = flow_ssrcs(i);
                [a, b, flow_audio_ssrc(i)]
            })
            .collect();
        let mut unique = all.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), all.len());
        assert_eq!(flow_ssrcs(0), (VIDEO_SSRC, RTX_SSRC));
    }

    /// A flow that stops before it starts is refused before any peer is built.
    #[test]
    fn a_flow_that_never_sends_is_refused() {
        let mut flow = FlowSpec::new(Estimator::OursSendSide);
        flow.start = SimDuration::from_secs(30);
        let spec = MultiCallSpec::new(1, LinkConfig::default(), vec![flow]);
        assert!(matches!(run_multi_call(&spec), Err(CallError::Invalid(_))));
        let empty = MultiCallSpec::new(1, LinkConfig::default(), Vec::new());
        assert!(matches!(run_multi_call(&empty), Err(CallError::Invalid(_))));
    }
}
