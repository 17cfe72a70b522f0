//! [`AudioModel`]: when the next Opus frame is captured and how big it is.
//!
//! A WebRTC call carries audio beside its video, and audio packets share the bottleneck: small,
//! regular, not paced by the estimator. The model reproduces what matters for the estimator and
//! nothing else (no signal, no quality):
//!
//! - **fixed frame duration**, 20 ms by default, what WebRTC implementations send unless the
//!   SDP's `ptime` says otherwise (Opus itself allows 2.5 to 60 ms, RFC 6716 §2.1.4);
//! - **a fixed bitrate**, 32 kbit/s by default, inside RFC 7587 §3.1.1's recommended range for
//!   fullband speech (28–40 kbit/s), clamped to the 6–510 kbit/s Opus supports (RFC 6716 §2.1.1):
//!   80 bytes per 20 ms frame. Audio does **not** follow the estimator's target: libwebrtc and
//!   browsers run Opus at a configured rate and adapt video, so a harness whose audio tracked
//!   the target would hide how much of the link audio takes from video. The bytes are counted so
//!   that rates which do not divide into whole bytes per frame still average exactly (the
//!   running total, not each frame, is rounded);
//! - **size variation**: each talk frame is its nominal size ± `size_variation_percent`, drawn
//!   from a seeded `ChaCha8` stream and mapped to a whole number of bytes with integer arithmetic
//!   only (a multiply-and-shift of the 32-bit draw, no `rand` distributions, whose output may
//!   change between versions). Opus in its default variable-bitrate mode does vary frame sizes
//!   with content (RFC 7587 §3.1.2); ±10 % by default;
//! - **optional DTX** (RFC 7587 §3.1.3, RFC 6716 §2.1.9): a fixed cycle of talk and silence; in
//!   silence only a tiny comfort-noise frame goes out every 400 ms. The 400 ms spacing is what
//!   libopus does (it sends one frame after at most 20 suppressed 20 ms frames), not an RFC
//!   requirement; the 3-byte default size is this model's choice for "a TOC byte and a little".
//!   The cycle is fixed rather than drawn so a test can say exactly how many packets to expect.
//!
//! The first byte of every frame the sender writes is a real Opus TOC byte (RFC 6716 §3.1), see
//! [`crate::AudioSender`].
//!
//! The model is sans-I/O and follows the house loop shape: [`AudioModel::poll_timeout`] says when
//! the next frame is due, [`AudioModel::poll_frame`] hands out every frame due by `now`. Frames
//! are counted, not timed, so that rounding of the frame duration cannot shift the DTX cycle.

use bwe_core::Bitrate;
use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};
use vnet_sim::{SimDuration, SimTime};

/// Opus's lowest bitrate (RFC 6716 §2.1.1).
pub const OPUS_MIN_BITRATE: Bitrate = Bitrate::from_kbps(6);
/// Opus's highest bitrate (RFC 6716 §2.1.1).
pub const OPUS_MAX_BITRATE: Bitrate = Bitrate::from_kbps(510);
/// The largest Opus frame, bytes (RFC 6716 §3.2.1).
pub const OPUS_MAX_FRAME_BYTES: usize = 1_275;

/// Discontinuous transmission: a fixed cycle of talk then silence. Defaults: 2 s of talk, 1 s of
/// silence, a 3-byte frame every 400 ms while silent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DtxConfig {
    /// How long each talk spurt lasts (rounded down to whole frames, at least one).
    pub talk: SimDuration,
    /// How long each silence lasts (rounded down to whole frames; zero turns DTX off).
    pub silence: SimDuration,
    /// Time between the comfort-noise frames of a silence, the first one at its start (rounded
    /// down to whole frames, at least one).
    pub comfort_noise_interval: SimDuration,
    /// Size of a comfort-noise frame, bytes (at least 1).
    pub comfort_noise_bytes: usize,
}

impl Default for DtxConfig {
    fn default() -> Self {
        Self {
            talk: SimDuration::from_secs(2),
            silence: SimDuration::from_secs(1),
            comfort_noise_interval: SimDuration::from_millis(400),
            comfort_noise_bytes: 3,
        }
    }
}

/// The audio model's settings. Defaults: 20 ms frames at 32 kbit/s (80 bytes), ±10 % size
/// variation, no DTX, seed 0.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AudioConfig {
    /// The codec's bitrate while talking, clamped to [`OPUS_MIN_BITRATE`]–[`OPUS_MAX_BITRATE`].
    pub bitrate: Bitrate,
    /// Audio per frame (at least 1 ms).
    pub frame_duration: SimDuration,
    /// Half-width of the uniform size variation of talk frames, percent (clamped to 0–100).
    pub size_variation_percent: u32,
    /// Discontinuous transmission, off by default (WebRTC's default: browsers enable it only on
    /// request, `usedtx=1`).
    pub dtx: Option<DtxConfig>,
    /// Seeds the size variation.
    pub seed: u64,
}

impl Default for AudioConfig {
    fn default() -> Self {
        Self {
            bitrate: Bitrate::from_kbps(32),
            frame_duration: SimDuration::from_millis(20),
            size_variation_percent: 10,
            dtx: None,
            seed: 0,
        }
    }
}

/// One encoded audio frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AudioFrame {
    /// When its audio was captured (its RTP timestamp, on the simulation's clock).
    pub at: SimTime,
    /// Payload bytes (at least 1, at most [`OPUS_MAX_FRAME_BYTES`]).
    pub size: usize,
    /// The audio it stands for, up to the next frame sent: one frame duration while talking,
    /// longer for a comfort-noise frame whose successors are suppressed. The RTP timestamp must
    /// advance by this much, or the receiver's jitter buffer would see the silence as lost time.
    pub duration: SimDuration,
    /// A comfort-noise frame sent during DTX silence.
    pub comfort_noise: bool,
}

/// The DTX cycle in whole frames.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Cycle {
    talk: u64,
    silence: u64,
    comfort_noise_every: u64,
    comfort_noise_bytes: usize,
}

/// The audio model. See the module docs.
#[derive(Debug, Clone)]
pub struct AudioModel {
    config: AudioConfig,
    rng: ChaCha8Rng,
    cycle: Option<Cycle>,
    /// The first frame's capture time, set by the first `poll_frame`.
    start: Option<SimTime>,
    /// Index of the next frame slot, sent or suppressed.
    next: u64,
    /// Talk frames produced so far, for the byte accounting.
    talk_frames: u64,
    /// Frames produced so far (talk and comfort noise).
    frames: u64,
}

impl AudioModel {
    /// A model whose first frame is captured at the first `now` given to
    /// [`AudioModel::poll_frame`].
    pub fn new(config: AudioConfig) -> Self {
        let frame_ns = config.frame_duration.as_nanos().max(1_000_000);
        let whole = |d: SimDuration| d.as_nanos() / frame_ns;
        let cycle = config.dtx.as_ref().and_then(|dtx| {
            let silence = whole(dtx.silence);
            (silence > 0).then(|| Cycle {
                talk: whole(dtx.talk).max(1),
                silence,
                comfort_noise_every: whole(dtx.comfort_noise_interval).max(1),
                comfort_noise_bytes: dtx.comfort_noise_bytes.clamp(1, OPUS_MAX_FRAME_BYTES),
            })
        });
        Self {
            rng: ChaCha8Rng::seed_from_u64(config.seed),
            config,
            cycle,
            start: None,
            next: 0,
            talk_frames: 0,
            frames: 0,
        }
    }

    /// Audio per frame slot.
    pub fn frame_interval(&self) -> SimDuration {
        SimDuration::from_nanos(self.config.frame_duration.as_nanos().max(1_000_000))
    }

    /// The bitrate while talking, after clamping to Opus's range.
    pub fn bitrate(&self) -> Bitrate {
        self.config
            .bitrate
            .clamp_to(OPUS_MIN_BITRATE, OPUS_MAX_BITRATE)
    }

    /// Frames produced so far (talk and comfort noise).
    pub fn frames(&self) -> u64 {
        self.frames
    }

    /// When the next frame is due; `None` before the first [`AudioModel::poll_frame`], which
    /// starts the clock.
    pub fn poll_timeout(&self) -> Option<SimTime> {
        let start = self.start?;
        Some(self.slot_time(start, self.next_sent_slot(self.next)))
    }

    /// The next frame due at or before `now`, if any; call again until `None` to catch up. The
    /// first call starts the clock at `now` and returns the first frame.
    pub fn poll_frame(&mut self, now: SimTime) -> Option<AudioFrame> {
        let start = *self.start.get_or_insert(now);
        let slot = self.next_sent_slot(self.next);
        let at = self.slot_time(start, slot);
        if at > now {
            return None;
        }
        let following = self.next_sent_slot(slot + 1);
        self.next = slot + 1;
        let duration = self.frame_interval().saturating_mul(following - slot);
        let (size, comfort_noise) = match self.silent(slot) {
            Some(bytes) => (bytes, true),
            None => (self.talk_frame_size(), false),
        };
        self.frames += 1;
        Some(AudioFrame {
            at,
            size,
            duration,
            comfort_noise,
        })
    }

    fn slot_time(&self, start: SimTime, slot: u64) -> SimTime {
        start + self.frame_interval().saturating_mul(slot)
    }

    /// `Some(comfort-noise size)` if `slot` falls in a silence, `None` while talking.
    fn silent(&self, slot: u64) -> Option<usize> {
        let c = self.cycle?;
        let phase = slot % (c.talk + c.silence);
        (phase >= c.talk).then_some(c.comfort_noise_bytes)
    }

    /// Whether a frame goes out in `slot`.
    fn sends(&self, slot: u64) -> bool {
        match self.cycle {
            None => true,
            Some(c) => {
                let phase = slot % (c.talk + c.silence);
                phase < c.talk || (phase - c.talk) % c.comfort_noise_every == 0
            }
        }
    }

    /// The first slot at or after `from` in which a frame goes out. Bounded: a silence sends its
    /// first slot, and then one every `comfort_noise_every` slots.
    fn next_sent_slot(&self, from: u64) -> u64 {
        let mut slot = from;
        while !self.sends(slot) {
            slot += 1;
        }
        slot
    }

    /// The next talk frame's size: its share of the running byte total, scaled by the seeded
    /// variation.
    fn talk_frame_size(&mut self) -> usize {
        let bps = u128::from(self.bitrate().bps());
        let frame_ns = u128::from(self.frame_interval().as_nanos());
        // Bytes owed after `n` talk frames: bps · n · frame / (8 · 10⁹), rounded down.
        let owed = |n: u64| bps * u128::from(n) * frame_ns / 8_000_000_000;
        let n = self.talk_frames;
        let nominal = (owed(n + 1) - owed(n)) as u64;
        self.talk_frames += 1;
        let percent = u64::from(self.config.size_variation_percent.min(100));
        let half_width = nominal * percent / 100;
        // A uniform whole number in [0, 2·half_width] from the 32-bit draw: multiply and shift.
        let span = 2 * half_width + 1;
        let draw = (u64::from(self.rng.next_u32()) * span) >> 32;
        let size = (nominal + draw).saturating_sub(half_width);
        usize::try_from(size)
            .unwrap_or(OPUS_MAX_FRAME_BYTES)
            .clamp(1, OPUS_MAX_FRAME_BYTES)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every frame due in `[0, secs)`, polled every frame interval as a sender would.
    fn frames(config: AudioConfig, secs: u64) -> Vec<AudioFrame> {
        let mut m = AudioModel::new(config);
        let end = SimTime::from_secs(secs);
        let mut t = SimTime::ZERO;
        let mut out = Vec::new();
        while t < end {
            while let Some(f) = m.poll_frame(t) {
                out.push(f);
            }
            t = m.poll_timeout().expect("started");
        }
        out
    }

    /// 32 kbit/s in 20 ms frames is 80 bytes a frame, the figure every Opus overhead
    /// calculation starts from.
    #[test]
    fn thirty_two_kbits_in_twenty_ms_frames_is_eighty_bytes() {
        let fs = frames(
            AudioConfig {
                size_variation_percent: 0,
                ..AudioConfig::default()
            },
            1,
        );
        assert_eq!(fs.len(), 50);
        assert!(
            fs.iter().all(|f| f.size == 80 && !f.comfort_noise),
            "{fs:?}"
        );
        assert!(
            fs.iter()
                .all(|f| f.duration == SimDuration::from_millis(20))
        );
        assert_eq!(fs[49].at, SimTime::from_millis(980));
    }

    /// Sizes scatter, but never beyond the configured ± percentage of the nominal size.
    #[test]
    fn sizes_stay_within_the_variation_and_do_vary() {
        let fs = frames(AudioConfig::default(), 10);
        let sizes: Vec<usize> = fs.iter().map(|f| f.size).collect();
        assert!(sizes.iter().all(|s| (72..=88).contains(s)), "{sizes:?}");
        let (lo, hi) = (sizes.iter().min(), sizes.iter().max());
        assert!(lo < Some(&75) && hi > Some(&85), "{lo:?} {hi:?}");
    }

    /// The audio source must average its configured rate, or a test would measure the model's
    /// bias instead of the link.
    #[test]
    fn the_mean_rate_is_within_five_percent_of_the_config() {
        for kbps in [12, 32, 64] {
            let fs = frames(
                AudioConfig {
                    bitrate: Bitrate::from_kbps(kbps),
                    seed: 7,
                    ..AudioConfig::default()
                },
                30,
            );
            let rate = fs.iter().map(|f| f.size as f64).sum::<f64>() * 8.0 / 30.0;
            let want = kbps as f64 * 1_000.0;
            assert!(
                (want * 0.95..=want * 1.05).contains(&rate),
                "{kbps} kbit/s: {rate}"
            );
        }
    }

    /// A rate that does not divide into whole bytes a frame still averages exactly.
    #[test]
    fn fractional_bytes_per_frame_are_carried_over() {
        // 6.1 kbit/s × 20 ms = 15.25 bytes a frame.
        let fs = frames(
            AudioConfig {
                bitrate: Bitrate::from_bps(6_100),
                size_variation_percent: 0,
                ..AudioConfig::default()
            },
            1,
        );
        let sizes: Vec<usize> = fs.iter().take(4).map(|f| f.size).collect();
        assert_eq!(sizes, vec![15, 15, 15, 16]);
        assert_eq!(fs.iter().map(|f| f.size).sum::<usize>(), 762);
    }

    /// The same seed gives the same sizes; another seed different ones.
    #[test]
    fn frame_sizes_repeat_for_a_seed() {
        let sizes = |seed| {
            frames(
                AudioConfig {
                    seed,
                    ..AudioConfig::default()
                },
                2,
            )
            .into_iter()
            .map(|f| f.size)
            .collect::<Vec<_>>()
        };
        assert_eq!(sizes(1), sizes(1));
        assert_ne!(sizes(1), sizes(2));
    }

    /// The rate does not depend on any target: there is no input for one, and the configured
    /// rate is clamped to what Opus can do.
    #[test]
    fn the_bitrate_is_clamped_to_the_opus_range() {
        let m = |kbps| {
            AudioModel::new(AudioConfig {
                bitrate: Bitrate::from_kbps(kbps),
                ..AudioConfig::default()
            })
            .bitrate()
        };
        assert_eq!(m(1), OPUS_MIN_BITRATE);
        assert_eq!(m(32), Bitrate::from_kbps(32));
        assert_eq!(m(2_000), OPUS_MAX_BITRATE);
    }

    /// With DTX, a 1 s silence sends three 3-byte frames (at 0, 400 and 800 ms of it), and
    /// the RTP durations still add up to the wall time, so the receiver sees no lost audio.
    #[test]
    fn dtx_silence_sends_a_small_frame_every_400_ms() {
        let fs = frames(
            AudioConfig {
                dtx: Some(DtxConfig::default()),
                size_variation_percent: 0,
                ..AudioConfig::default()
            },
            3,
        );
        let silent: Vec<&AudioFrame> = fs.iter().filter(|f| f.comfort_noise).collect();
        assert_eq!(fs.len() - silent.len(), 100);
        let at: Vec<u64> = silent.iter().map(|f| f.at.as_millis()).collect();
        assert_eq!(at, vec![2_000, 2_400, 2_800]);
        assert!(silent.iter().all(|f| f.size == 3));
        let durations: Vec<u64> = silent.iter().map(|f| f.duration.as_millis()).collect();
        assert_eq!(durations, vec![400, 400, 200]);
        let total: u64 = fs.iter().map(|f| f.duration.as_millis()).sum();
        assert_eq!(total, 3_000);
    }

    /// A sender that falls behind gets every missed frame, in order, with its own capture time.
    #[test]
    fn a_late_poll_catches_up_in_order() {
        let mut m = AudioModel::new(AudioConfig::default());
        assert_eq!(m.poll_timeout(), None);
        assert!(m.poll_frame(SimTime::ZERO).is_some());
        assert_eq!(m.poll_timeout(), Some(SimTime::from_millis(20)));
        let mut at = Vec::new();
        while let Some(f) = m.poll_frame(SimTime::from_millis(65)) {
            at.push(f.at.as_millis());
        }
        assert_eq!(at, vec![20, 40, 60]);
        assert_eq!(m.poll_timeout(), Some(SimTime::from_millis(80)));
        assert_eq!(m.frames(), 4);
    }
}
