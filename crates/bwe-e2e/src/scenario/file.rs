//! Scenario files: `scenarios/*.toml` → [`Scenario`], with every error located as
//! `file:line:col: what is wrong`.
//!
//! Parsing is strict (`deny_unknown_fields`): a misspelt key is an error at that key, not a
//! silently ignored default. Values that parse but make no sense (a capacity step out of order, a
//! check whose minimum exceeds its maximum) are checked after parsing against the spans `toml`
//! keeps, so they are located too. The link tables are read in [`link`] and [`impairments`]; the
//! handshake's limits and the default connect timeout are in [`handshake`].

use std::ops::Range;
use std::path::Path;

use crate::{CallSpec, Direction, Estimator, FlowSpec, Media, TcpSpec, TcpWorkload};
use serde::Deserialize;
use toml::Spanned;
use vnet_sim::tcp::CubicConfig;
use vnet_sim::{LinkConfig, MessagePlan, SimDuration, TcpAlgorithm};

pub mod handshake;
pub mod impairments;
pub mod link;

pub use impairments::{JitterSpec, LossSpec, LossTable};
pub use link::{BlackoutSpec, DelayStep, LinkSpec, Step};

/// The longest media phase a file may ask for, seconds.
pub const MAX_DURATION_S: u64 = 3_600;

/// A scenario file as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ScenarioFile {
    /// Short name; the output folder is `target/scenarios/<name>/`.
    pub name: String,
    /// One line for `scenario list`.
    #[serde(default)]
    pub description: String,
    /// The simulation seed.
    pub seed: u64,
    /// Length of the media phase, in seconds.
    pub duration_s: Spanned<u64>,
    /// How long each flow's ICE and DTLS handshake may take, in seconds of virtual time; by
    /// default 10, more on a slow or long path (see [`handshake`]).
    #[serde(default)]
    pub connect_timeout_s: Option<Spanned<u64>>,
    /// `ours-send-side` (default), `ours-remb` or `rtc-gcc`.
    #[serde(default)]
    pub estimator: EstimatorName,
    /// The sender → receiver path.
    pub forward: LinkSpec,
    /// The receiver → sender path; by default uncongested with the forward delay.
    #[serde(default)]
    pub backward: Option<LinkSpec>,
    /// Flows sharing the bottleneck; none means one forward flow with `estimator`.
    #[serde(default, rename = "flow")]
    pub flows: Vec<Spanned<FlowFile>>,
    /// TCP-model flows competing with the media (see [`crate::tcp`]); with any, a file without
    /// `[[flow]]` runs its one flow as a multi-flow call.
    #[serde(default, rename = "tcp")]
    pub tcp: Vec<Spanned<TcpFile>>,
    /// The video encoder model, where it differs from the default (no key frame within the
    /// call).
    #[serde(default)]
    pub encoder: Option<EncoderFile>,
    /// Two-sided bounds on metrics.
    #[serde(default, rename = "check")]
    pub checks: Vec<Spanned<CheckSpec>>,
    /// Why some of the checks are not met yet: the failing check with its figure against the
    /// bound, and the cause. `scenario all` then counts a failed check as expected and a run
    /// that passes every check as an error, so the mark goes once the floor is reached.
    #[serde(default)]
    pub known_failing: Option<Spanned<String>>,
}

/// The `[encoder]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EncoderFile {
    /// Seconds between key frames (0.1 to 3600).
    pub key_frame_interval_s: Spanned<f64>,
    /// How many delta frames a key frame is worth (1 to 20; default 4).
    #[serde(default)]
    pub key_frame_factor: Option<Spanned<f64>>,
}

/// One `[[flow]]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FlowFile {
    /// Its estimator; the file's `estimator` by default.
    #[serde(default)]
    pub estimator: Option<EstimatorName>,
    /// `forward` (default: media over the forward link) or `backward`.
    #[serde(default)]
    pub direction: DirectionName,
    /// `video` (default), `audio` or `audio+video`.
    #[serde(default)]
    pub media: MediaName,
    /// First frame, seconds from the start of media (default 0).
    #[serde(default)]
    pub start_s: u64,
    /// No frames from here on (default: the end).
    #[serde(default)]
    pub stop_s: Option<u64>,
    /// `[[from_s, to_s], …]`: windows without frames.
    #[serde(default)]
    pub pauses: Vec<[u64; 2]>,
    /// One-way delay of each of the flow's access links, ms (default 0).
    #[serde(default)]
    pub access_delay_ms: u64,
}

/// One `[[tcp]]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct TcpFile {
    /// `newreno` (default) or `cubic`.
    #[serde(default)]
    pub algorithm: TcpAlgorithmName,
    /// `forward` (default: data over the forward link, ACKs back) or `backward`.
    #[serde(default)]
    pub direction: DirectionName,
    /// When it starts writing, seconds from the start of media (default 0).
    #[serde(default)]
    pub start_s: u64,
    /// When it stops writing (default: the end).
    #[serde(default)]
    pub stop_s: Option<u64>,
    /// `bulk` (default: an endless download) or `messages` (short transfers).
    #[serde(default)]
    pub workload: WorkloadName,
    /// Messages: `[min, max]` transfer size in KiB, drawn uniformly.
    #[serde(default)]
    pub message_kib: Option<Spanned<[u64; 2]>>,
    /// Messages: mean time from one transfer's start to the next, seconds (exponential).
    #[serde(default)]
    pub mean_gap_s: Option<Spanned<f64>>,
    /// Messages: whether the first transfer starts at `start_s` (default) or after a gap.
    #[serde(default)]
    pub first_at_start: Option<bool>,
    /// One-way delay of each of the flow's access links, ms (default 0).
    #[serde(default)]
    pub access_delay_ms: u64,
}

/// A TCP flow's congestion control.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TcpAlgorithmName {
    /// RFC 5681 / RFC 6582.
    #[default]
    Newreno,
    /// RFC 9438.
    Cubic,
}

/// What a TCP flow sends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum WorkloadName {
    /// An endless download.
    #[default]
    Bulk,
    /// Short transfers with idle gaps.
    Messages,
}

/// Which way a flow's media goes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DirectionName {
    /// Over the `[forward]` link.
    #[default]
    Forward,
    /// Over the `[backward]` link.
    Backward,
}

/// What a flow sends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
pub enum MediaName {
    /// A video track following the target.
    #[default]
    #[serde(rename = "video")]
    Video,
    /// An Opus track at a fixed rate.
    #[serde(rename = "audio")]
    Audio,
    /// Both, on one PeerConnection.
    #[serde(rename = "audio+video")]
    AudioVideo,
}

impl MediaName {
    /// The harness's media.
    pub fn media(self) -> Media {
        match self {
            Self::Video => Media::Video,
            Self::Audio => Media::Audio,
            Self::AudioVideo => Media::AudioVideo,
        }
    }
}

/// Which estimator the sender runs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum EstimatorName {
    /// Our send-side estimator, TWCC feedback.
    #[default]
    OursSendSide,
    /// Our send-side estimator without probe clusters.
    OursSendSideNoProbing,
    /// Our REMB path.
    OursRemb,
    /// webrtc-rs 0.21's `rtc::interceptor::Gcc`.
    RtcGcc,
}

impl EstimatorName {
    /// The harness's estimator.
    pub fn estimator(self) -> Estimator {
        match self {
            Self::OursSendSide => Estimator::OursSendSide,
            Self::OursSendSideNoProbing => Estimator::OursSendSideNoProbing,
            Self::OursRemb => Estimator::OursRemb,
            Self::RtcGcc => Estimator::RtcGcc,
        }
    }

    /// Parses the command-line spelling.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ours-send-side" => Some(Self::OursSendSide),
            "ours-send-side-no-probing" => Some(Self::OursSendSideNoProbing),
            "ours-remb" => Some(Self::OursRemb),
            "rtc-gcc" => Some(Self::RtcGcc),
            _ => None,
        }
    }
}

/// The unit of a metric's value and of its check's bounds. Every output names it: in the
/// column header, the JSON key (`loss_fraction`), the check line and the axis label.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum MetricUnit {
    /// A share of a whole, 0 to 1: of the capacity (utilisation, overshoot), of the packets
    /// sent (loss). Never a percentage, so a check's `max = 0.01` reads as printed.
    #[serde(rename = "fraction")]
    Fraction,
    /// One quantity over another of the same kind: min ÷ max (fairness, target_min_max), standard
    /// deviation ÷ mean (instability).
    #[serde(rename = "ratio")]
    Ratio,
    /// Milliseconds.
    #[serde(rename = "ms")]
    Ms,
    /// Seconds.
    #[serde(rename = "s")]
    S,
    /// Kilobits per second.
    #[serde(rename = "kbit/s")]
    Kbps,
}

impl MetricUnit {
    /// How outputs write it: `fraction`, `ratio`, `ms`, `s`, `kbit/s`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Fraction => "fraction",
            Self::Ratio => "ratio",
            Self::Ms => "ms",
            Self::S => "s",
            Self::Kbps => "kbit/s",
        }
    }
}

/// A metric that a check bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MetricName {
    /// Goodput over capacity.
    Utilisation,
    /// The lowest goodput over capacity of any whole second in the window ("held").
    #[serde(rename = "min_utilisation_1s")]
    MinUtilisation1s,
    /// Seconds from the window's start until the target first reaches 85 % of the capacity
    /// (the whole window if it never does).
    #[serde(rename = "time_to_85pct_s")]
    TimeTo85pctS,
    /// The longest time, s, the target stayed exactly constant while the queue was below 20 ms
    /// and the target below 80 % of the capacity (a frozen estimate).
    #[serde(rename = "max_frozen_s")]
    MaxFrozenS,
    /// Median queuing delay, ms.
    QueueP50Ms,
    /// 95th-percentile queuing delay, ms.
    QueueP95Ms,
    /// Fraction of packets lost on the forward link.
    Loss,
    /// The largest loss fraction of any one trace interval (200 ms) in the window.
    MaxIntervalLoss,
    /// Mean target, kbit/s.
    TargetKbps,
    /// The lowest target sample (one per trace row), kbit/s.
    MinTargetKbps,
    /// The highest target sample, kbit/s.
    MaxTargetKbps,
    /// The lowest target sample over the highest (1: the target never moved).
    TargetMinMax,
    /// Mean goodput, kbit/s.
    GoodputKbps,
    /// Mean min/max goodput ratio between flows over 1 s windows.
    #[serde(rename = "fairness_1s")]
    Fairness1s,
    /// The same over 5 s windows.
    #[serde(rename = "fairness_5s")]
    Fairness5s,
    /// The same over 20 s windows.
    #[serde(rename = "fairness_20s")]
    Fairness20s,
    /// Longest convergence time after a capacity change in the window, s.
    ConvergenceS,
    /// Largest overshoot after a capacity change in the window (fraction of capacity).
    Overshoot,
    /// Coefficient of variation of the target over steady segments (a flow's; the aggregate's
    /// is the largest of its flows').
    Instability,
    /// Startup time, s (the aggregate's is the largest of its flows').
    StartupS,
}

impl MetricName {
    /// The unit of the metric's value, and so of a check's `min` and `max`.
    pub fn unit(self) -> MetricUnit {
        match self {
            Self::Utilisation
            | Self::MinUtilisation1s
            | Self::Loss
            | Self::MaxIntervalLoss
            | Self::Overshoot => MetricUnit::Fraction,
            Self::TargetMinMax
            | Self::Fairness1s
            | Self::Fairness5s
            | Self::Fairness20s
            | Self::Instability => MetricUnit::Ratio,
            Self::QueueP50Ms | Self::QueueP95Ms => MetricUnit::Ms,
            Self::TimeTo85pctS | Self::MaxFrozenS | Self::ConvergenceS | Self::StartupS => {
                MetricUnit::S
            }
            Self::TargetKbps | Self::MinTargetKbps | Self::MaxTargetKbps | Self::GoodputKbps => {
                MetricUnit::Kbps
            }
        }
    }
}

/// `min ≤ metric ≤ max` over `[from_s, to_s)` of the media phase (the whole run by default).
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct CheckSpec {
    /// What is bounded.
    pub metric: MetricName,
    /// Lower bound (inclusive).
    pub min: f64,
    /// Upper bound (inclusive).
    pub max: f64,
    /// Window start, seconds.
    #[serde(default)]
    pub from_s: Option<u64>,
    /// Window end, seconds.
    #[serde(default)]
    pub to_s: Option<u64>,
    /// The flow (1-based) the check is about; none means the aggregate of the forward flows.
    #[serde(default)]
    pub flow: Option<usize>,
}

/// A validated scenario, ready to run.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Name.
    pub name: String,
    /// One-line description.
    pub description: String,
    /// The call to run: seed, duration, links and (for a single flow) the estimator.
    pub call: CallSpec,
    /// The flows when the file has `[[flow]]` tables; `None` for the one-flow call of `call`.
    pub flows: Option<Vec<FlowSpec>>,
    /// The `[[tcp]]` flows.
    pub tcp: Vec<TcpSpec>,
    /// The checks.
    pub checks: Vec<CheckSpec>,
    /// The file's `known_failing`: why some check is expected to fail (see [`ScenarioFile`]).
    pub known_failing: Option<String>,
}

/// Reads and validates a scenario file; the error is `file:line:col: message`. Trace paths are
/// relative to `root`.
pub fn load(path: &Path, root: &Path) -> Result<Scenario, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("{}: cannot read: {e}", path.display()))?;
    parse(&path.display().to_string(), &text, root)
}

/// Parses and validates scenario text; `origin` names it in errors.
pub fn parse(origin: &str, text: &str, root: &Path) -> Result<Scenario, String> {
    let at = |span: Option<Range<usize>>, message: &str| {
        let (line, col) = span.map_or((1, 1), |s| line_col(text, s.start));
        format!("{origin}:{line}:{col}: {message}")
    };
    let file: ScenarioFile = toml::from_str(text).map_err(|e| at(e.span(), e.message()))?;

    let duration = *file.duration_s.get_ref();
    if duration == 0 || duration > MAX_DURATION_S {
        return Err(at(
            Some(file.duration_s.span()),
            &format!(
                "duration_s must be between 1 and {MAX_DURATION_S} (an hour of media: both \
                 bottlenecks keep a record of every packet in memory until the call ends)"
            ),
        ));
    }
    let forward = link::link(&file.forward, root, duration, &at)?;
    let backward = match &file.backward {
        Some(spec) => link::link(spec, root, duration, &at)?,
        None => LinkConfig {
            delay: forward.delay,
            ..LinkConfig::default()
        },
    };
    let flows = file
        .flows
        .iter()
        .map(|f| flow(f, file.estimator, duration, &at))
        .collect::<Result<Vec<_>, _>>()?;
    let tcp = file
        .tcp
        .iter()
        .map(|t| tcp(t, duration, &at))
        .collect::<Result<Vec<_>, _>>()?;
    let flow_count = flows.len().max(1);
    let mut checks = Vec::with_capacity(file.checks.len());
    for check in &file.checks {
        let c = *check.get_ref();
        if c.flow.is_some_and(|f| f == 0 || f > flow_count) {
            return Err(at(
                Some(check.span()),
                &format!("a check's flow must be between 1 and {flow_count}"),
            ));
        }
        // A window without `to_s` ends with the run, so `from_s` must be before that too.
        let window_ok = c
            .from_s
            .is_none_or(|from| from < c.to_s.unwrap_or(duration));
        if !(c.min.is_finite() && c.max.is_finite() && c.min <= c.max) {
            return Err(at(
                Some(check.span()),
                "a check needs finite bounds with min <= max",
            ));
        }
        if !window_ok || c.to_s.is_some_and(|to| to > duration) {
            return Err(at(
                Some(check.span()),
                "a check's window must satisfy from_s < to_s <= duration_s",
            ));
        }
        checks.push(c);
    }
    let connect_timeout = connect_timeout(&file, &forward, &backward, &flows, &at)?;
    let mut call = CallSpec::new(file.seed, file.estimator.estimator(), forward);
    call.backward = backward;
    call.duration = SimDuration::from_secs(duration);
    call.connect_timeout = connect_timeout;
    if let Some(encoder) = &file.encoder {
        let interval = &encoder.key_frame_interval_s;
        if !(0.1..=3_600.0).contains(interval.get_ref()) {
            return Err(at(
                Some(interval.span()),
                "key_frame_interval_s must be between 0.1 and 3600",
            ));
        }
        if let Some(factor) = &encoder.key_frame_factor {
            if !(1.0..=20.0).contains(factor.get_ref()) {
                return Err(at(
                    Some(factor.span()),
                    "key_frame_factor must be between 1 and 20",
                ));
            }
            call.encoder.key_frame_factor = *factor.get_ref();
        }
        call.encoder.key_frame_interval =
            SimDuration::from_micros((interval.get_ref() * 1e6).round() as u64);
    }
    let known_failing = match &file.known_failing {
        None => None,
        Some(reason) if checks.is_empty() => {
            return Err(at(
                Some(reason.span()),
                "known_failing marks a file whose checks fail, and this file has no check",
            ));
        }
        Some(reason) if reason.get_ref().trim().is_empty() => {
            return Err(at(
                Some(reason.span()),
                "known_failing needs the reason: the check that fails, its figure against the \
                 bound, and why",
            ));
        }
        Some(reason) => Some(reason.get_ref().trim().to_owned()),
    };
    Ok(Scenario {
        name: file.name,
        description: file.description,
        call,
        flows: (!flows.is_empty()).then_some(flows),
        tcp,
        checks,
        known_failing,
    })
}

fn flow(
    spec: &Spanned<FlowFile>,
    estimator: EstimatorName,
    duration: u64,
    at: &impl Fn(Option<Range<usize>>, &str) -> String,
) -> Result<FlowSpec, String> {
    let f = spec.get_ref();
    let stop = f.stop_s.unwrap_or(duration);
    if f.start_s >= stop || stop > duration {
        return Err(at(
            Some(spec.span()),
            "a flow needs start_s < stop_s <= duration_s",
        ));
    }
    if f.pauses
        .iter()
        .any(|&[a, b]| a >= b || a < f.start_s || b > stop)
    {
        return Err(at(
            Some(spec.span()),
            "a flow's pauses must be [from_s, to_s] with from_s < to_s, inside its start and stop",
        ));
    }
    let mut out = FlowSpec::new(f.estimator.unwrap_or(estimator).estimator());
    out.direction = match f.direction {
        DirectionName::Forward => Direction::LeftToRight,
        DirectionName::Backward => Direction::RightToLeft,
    };
    out.media = f.media.media();
    out.start = SimDuration::from_secs(f.start_s);
    out.stop = f.stop_s.map(SimDuration::from_secs);
    out.pauses = f
        .pauses
        .iter()
        .map(|&[a, b]| (SimDuration::from_secs(a), SimDuration::from_secs(b)))
        .collect();
    out.access_delay = SimDuration::from_millis(f.access_delay_ms);
    Ok(out)
}

fn tcp(
    spec: &Spanned<TcpFile>,
    duration: u64,
    at: &impl Fn(Option<Range<usize>>, &str) -> String,
) -> Result<TcpSpec, String> {
    let t = spec.get_ref();
    let stop = t.stop_s.unwrap_or(duration);
    if t.start_s >= stop || stop > duration {
        return Err(at(
            Some(spec.span()),
            "a tcp flow needs start_s < stop_s <= duration_s",
        ));
    }
    let workload = match t.workload {
        WorkloadName::Bulk => {
            if t.message_kib.is_some() || t.mean_gap_s.is_some() || t.first_at_start.is_some() {
                return Err(at(
                    Some(spec.span()),
                    "message_kib, mean_gap_s and first_at_start belong to workload = \"messages\"",
                ));
            }
            TcpWorkload::Bulk
        }
        WorkloadName::Messages => {
            let (Some(kib), Some(gap)) = (&t.message_kib, &t.mean_gap_s) else {
                return Err(at(
                    Some(spec.span()),
                    "workload = \"messages\" needs message_kib = [min, max] and mean_gap_s",
                ));
            };
            let [lo, hi] = *kib.get_ref();
            if lo == 0 || lo > hi || hi > 1_048_576 {
                return Err(at(
                    Some(kib.span()),
                    "message_kib must be [min, max] with 1 <= min <= max <= 1048576 (1 GiB)",
                ));
            }
            let g = *gap.get_ref();
            if !(g > 0.0 && g <= 3_600.0) {
                return Err(at(
                    Some(gap.span()),
                    "mean_gap_s must be above 0 and at most 3600",
                ));
            }
            TcpWorkload::Messages(MessagePlan {
                min_bytes: lo * 1024,
                max_bytes: hi * 1024,
                mean_gap: SimDuration::from_micros((g * 1e6).round() as u64),
                first_at_start: t.first_at_start.unwrap_or(true),
            })
        }
    };
    Ok(TcpSpec {
        algorithm: match t.algorithm {
            TcpAlgorithmName::Newreno => TcpAlgorithm::NewReno,
            TcpAlgorithmName::Cubic => TcpAlgorithm::Cubic(CubicConfig::default()),
        },
        direction: match t.direction {
            DirectionName::Forward => Direction::LeftToRight,
            DirectionName::Backward => Direction::RightToLeft,
        },
        start: SimDuration::from_secs(t.start_s),
        stop: t.stop_s.map(SimDuration::from_secs),
        workload,
        access_delay: SimDuration::from_millis(t.access_delay_ms),
    })
}

/// The file's `connect_timeout_s`, or the default for its paths; a path on which a flow could
/// never connect is refused, located at the key that makes it so.
fn connect_timeout(
    file: &ScenarioFile,
    forward: &LinkConfig,
    backward: &LinkConfig,
    flows: &[FlowSpec],
    at: &impl Fn(Option<Range<usize>>, &str) -> String,
) -> Result<SimDuration, String> {
    if let Some(why) = handshake::unreachable(forward, backward, SimDuration::ZERO) {
        return Err(at(Some(file.forward.delay_ms.span()), &why));
    }
    for (spec, flow) in file.flows.iter().zip(flows) {
        if let Some(why) = handshake::unreachable(forward, backward, flow.access_delay) {
            return Err(at(Some(spec.span()), &why));
        }
    }
    if let Some(timeout) = &file.connect_timeout_s {
        let s = *timeout.get_ref();
        if s == 0 || s > MAX_DURATION_S {
            return Err(at(
                Some(timeout.span()),
                &format!("connect_timeout_s must be between 1 and {MAX_DURATION_S}"),
            ));
        }
        return Ok(SimDuration::from_secs(s));
    }
    let access = flows.iter().map(|f| f.access_delay).max();
    Ok(handshake::default_connect_timeout(
        forward,
        backward,
        access.unwrap_or(SimDuration::ZERO),
    ))
}

impl Scenario {
    /// Replaces the seed.
    pub fn set_seed(&mut self, seed: u64) {
        self.call.seed = seed;
    }

    /// Replaces the estimator of the call and of every flow.
    pub fn set_estimator(&mut self, estimator: Estimator) {
        self.call.estimator = estimator;
        for f in self.flows.iter_mut().flatten() {
            f.estimator = estimator;
        }
    }
}

/// 1-based line and column (in characters) of byte offset `at`.
fn line_col(text: &str, at: usize) -> (usize, usize) {
    let before = &text[..at.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, col)
}

#[cfg(test)]
mod tests;
