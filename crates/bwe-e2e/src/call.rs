//! [`CallSpec`] and [`run_call`]: one video call between two real webrtc PeerConnections over a
//! vnet-sim path, in virtual time, returning its [`Trace`].
//!
//! The call is a plain struct (typed config as the factory): a seed, the estimator, how NACK
//! works, the forward and return links as vnet-sim `LinkConfig`s, the encoder and the trace
//! interval. The runner:
//!
//! 1. builds a two-host simulation (`sender`, `receiver`), the forward link logging every packet;
//! 2. builds both peers with [`Endpoint`]s for the estimator, adds the video track, connects and
//!    waits for `Connected`;
//! 3. at the start of media, re-applies the forward capacity schedule and adds the blackout
//!    windows, so that their offsets count from there (ICE and DTLS take a few hundred virtual milliseconds, which a schedule written
//!    as "600 kbit/s at 8 s" should not have to know);
//! 4. sends a frame every frame interval at the target the sender's chain publishes, and samples
//!    target and REMB at each interval boundary, sleeping on the virtual clock in between;
//! 5. turns the forward link's log into the trace.
//!
//! Everything that decides timing is seeded from `seed` (links, crypto, encoder sizes) and the
//! SSRCs are fixed, so the same spec gives the same trace; webrtc's own unseeded draws change
//! bytes, not sizes or times (see `docs/simulator.md`).

use std::sync::Arc;
use std::sync::atomic::Ordering;

use vnet_sim::seed::derive_seed;
use vnet_sim::{
    LinkConfig, LinkStats, QueueLimit, RateSchedule, Sim, SimDuration, SimTime, Window,
};

use crate::audio::AUDIO_SSRC;
use crate::audio_model::AudioConfig;
use crate::encoder::EncoderConfig;
use crate::error::CallError;
use crate::estimator::{Estimator, GCC_START, Nack};
use crate::flow::Media;
use crate::pair::{Pair, PairSpec, Received, connect_pair, read_tracks};
use crate::recorder::{LinkView, QueueDelaySource, Recorder, Sample, Trace};
use crate::video::{RTX_SSRC, VIDEO_SSRC};

/// A call to run. Start from [`CallSpec::new`].
#[derive(Debug, Clone)]
pub struct CallSpec {
    /// Seeds the links, the peers' crypto and the encoder's frame sizes.
    pub seed: u64,
    /// The congestion controller, on both peers.
    pub estimator: Estimator,
    /// Loss repair. Default [`Nack::WithRtx`].
    pub nack: Nack,
    /// Virtual time of media, from the moment both peers are connected.
    pub duration: SimDuration,
    /// Sender → receiver. Its capacity schedule's offsets and its blackout windows (read as
    /// offsets from `SimTime::ZERO`) count from the start of media; `record_log` is turned on
    /// by the runner.
    pub forward: LinkConfig,
    /// Receiver → sender (feedback). Its blackout windows count from the start of media too.
    pub backward: LinkConfig,
    /// The encoder model; its seed is derived from `seed`.
    pub encoder: EncoderConfig,
    /// Trace row length (default 200 ms).
    pub interval: SimDuration,
    /// How long ICE and DTLS may take (default 10 s).
    pub connect_timeout: SimDuration,
}

impl CallSpec {
    /// A 20 s call with `estimator` over `forward` and a return link with the same delay, no
    /// bottleneck and no loss.
    pub fn new(seed: u64, estimator: Estimator, forward: LinkConfig) -> Self {
        let backward = LinkConfig {
            delay: forward.delay,
            ..LinkConfig::default()
        };
        Self {
            seed,
            estimator,
            nack: Nack::default(),
            duration: SimDuration::from_secs(20),
            forward,
            backward,
            encoder: EncoderConfig::default(),
            interval: SimDuration::from_millis(200),
            connect_timeout: SimDuration::from_secs(10),
        }
    }

    /// A bottleneck link: `capacity`, `delay` one way, a drop-tail queue holding `queue` of
    /// traffic at the current rate.
    pub fn bottleneck(
        capacity: impl Into<RateSchedule>,
        delay: SimDuration,
        queue: SimDuration,
    ) -> LinkConfig {
        LinkConfig {
            capacity: capacity.into(),
            queue: QueueLimit::Time(queue),
            delay,
            ..LinkConfig::default()
        }
    }
}

/// What a call produced.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct CallResult {
    /// Per-interval record and per-packet samples of the forward link.
    pub trace: Trace,
    /// The forward link's totals over the whole simulation (handshake included).
    pub forward_stats: LinkStats,
    /// RTP packets the receiving application read from its track.
    pub rtp_received: u64,
    /// When media started, in simulation time (after ICE and DTLS).
    pub media_start: SimTime,
}

/// `window`, written as offsets from `SimTime::ZERO`, moved to start at `media_start`.
pub(crate) fn after(media_start: SimTime, window: &Window) -> Window {
    Window::new(
        media_start + window.start.since_start(),
        media_start + window.end.since_start(),
    )
}

/// Runs `spec`. See the module docs for the steps.
pub fn run_call(spec: &CallSpec) -> Result<CallResult, CallError> {
    if spec.duration == SimDuration::ZERO {
        return Err(CallError::Invalid("duration must be positive".to_owned()));
    }
    let mut builder = Sim::builder().seed(spec.seed);
    let (a, b) = (builder.host("sender"), builder.host("receiver"));
    builder.link(
        a,
        b,
        LinkConfig {
            record_log: true,
            blackouts: Vec::new(),
            ..spec.forward.clone()
        },
    );
    builder.link(
        b,
        a,
        LinkConfig {
            blackouts: Vec::new(),
            ..spec.backward.clone()
        },
    );
    let sim = builder.build()?;
    let received = Arc::new(Received::default());
    let encoder = EncoderConfig {
        seed: derive_seed(spec.seed, "encoder"),
        ..spec.encoder.clone()
    };

    let (recorder, media_start) = sim.run(async {
        let Pair {
            sender,
            receiver,
            target,
            video,
            ..
        } = connect_pair(
            &sim,
            PairSpec {
                sender: a,
                receiver: b,
                estimator: spec.estimator,
                nack: spec.nack,
                encoder,
                media: Media::Video,
                ssrcs: (VIDEO_SSRC, RTX_SSRC),
                audio: AudioConfig::default(),
                audio_ssrc: AUDIO_SSRC,
                connect_timeout: spec.connect_timeout,
            },
        )
        .await?;
        let mut video =
            video.ok_or_else(|| CallError::Invalid("a video call without video".to_owned()))?;
        read_tracks(
            &sim,
            &receiver,
            1,
            (AUDIO_SSRC, VIDEO_SSRC),
            &received,
            spec.duration + spec.connect_timeout,
        );

        let media_start = sim.time();
        sim.set_capacity(a, b, spec.forward.capacity.clone())?;
        for w in &spec.forward.blackouts {
            sim.add_blackout(a, b, after(media_start, w))?;
        }
        for w in &spec.backward.blackouts {
            sim.add_blackout(b, a, after(media_start, w))?;
        }
        let mut recorder = Recorder::new(spec.interval);
        let end = media_start + spec.duration;
        let frame_interval = video.model().frame_interval();
        let mut next_frame = media_start;
        loop {
            let next_sample = media_start + recorder.next_sample_at();
            let now = next_frame.min(next_sample);
            if now >= end {
                break;
            }
            sim.sleep_until(now).await;
            if now == next_sample {
                recorder.record(Sample::of(target.as_ref()));
            }
            if now == next_frame {
                let rate = target.target().unwrap_or(GCC_START);
                video.send_frame(now, sim.instant_at(now), rate).await?;
                next_frame += frame_interval;
            }
        }
        drop(sender);
        drop(receiver);
        Ok::<_, CallError>((recorder, media_start))
    })??;

    let log = sim.link_log(a, b)?;
    let trace = recorder.finish(
        &log,
        media_start,
        spec.duration,
        &LinkView {
            capacity: &spec.forward.capacity,
            delay: spec.forward.delay,
            queue_delay: QueueDelaySource::OneWayMinusPropagation,
        },
    );
    Ok(CallResult {
        trace,
        forward_stats: sim.link_stats(a, b)?,
        rtp_received: received.rtp.load(Ordering::Relaxed),
        media_start,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vnet_sim::Rate;

    fn spec() -> CallSpec {
        let link = CallSpec::bottleneck(
            Rate::from_mbps(1),
            SimDuration::from_millis(10),
            SimDuration::from_millis(100),
        );
        CallSpec::new(1, Estimator::OursSendSide, link)
    }

    /// A call with no media time has nothing to measure: an error, not an empty trace.
    #[test]
    fn a_call_without_duration_is_refused() {
        let mut s = spec();
        s.duration = SimDuration::ZERO;
        assert!(matches!(run_call(&s), Err(CallError::Invalid(_))));
    }

    /// A bad link is reported with its direction, before any peer is built.
    #[test]
    fn an_invalid_link_is_an_error_naming_it() {
        let mut s = spec();
        s.forward.duplicate = 2.0;
        let err = run_call(&s).expect_err("invalid duplication probability");
        assert!(err.to_string().contains("sender -> receiver"), "{err}");
    }
}
