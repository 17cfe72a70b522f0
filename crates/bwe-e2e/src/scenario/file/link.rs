//! A `[forward]` or `[backward]` table → [`LinkConfig`]: the bottleneck (capacity, queue),
//! the propagation delay and its steps, outages, and the random stages ([`super::impairments`]).
//!
//! Every key maps to one vnet-sim stage, and every check that needs the run's length (a
//! capacity or delay step, a blackout) is made here, located at the entry that breaks it, so
//! that a file that parses runs the link it describes, from its first packet to its last.

use std::ops::Range;
use std::path::Path;

use serde::Deserialize;
use toml::Spanned;
use vnet_sim::{
    JitterConfig, LinkConfig, QueueLimit, Rate, RateSchedule, SimDuration, SimTime, Window,
};

use super::impairments::{JitterSpec, LossSpec, duplicate, jitter, loss};

/// The largest packet a queue must be able to hold, bytes: a full-size Ethernet frame's IP
/// packet, one MTU, the least any router's buffer holds. The video and DTLS datagrams of a call
/// stay below it. (With 1 250 bytes at 1 Mbit/s a call still connects, but loses 9 % of its
/// packets on a link it uses a quarter of.)
pub const FULL_SIZE_PACKET: u64 = 1_500;

/// One direction of the path.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LinkSpec {
    /// One-way propagation delay in ms, from the start of the call (the handshake sees it).
    pub delay_ms: Spanned<u64>,
    /// Changes of the propagation delay from the start of media; none means constant.
    #[serde(default)]
    pub delay_steps: Option<Spanned<Vec<Spanned<DelayStep>>>>,
    /// Drop-tail queue length in ms at the current capacity; none means unlimited.
    #[serde(default)]
    pub queue_ms: Option<Spanned<u64>>,
    /// Random loss: a probability (Bernoulli) or a table (Gilbert–Elliott).
    #[serde(default)]
    pub loss: Option<Spanned<LossSpec>>,
    /// Probability that a packet is delivered twice.
    #[serde(default)]
    pub duplicate: Option<Spanned<f64>>,
    /// Random extra delay per packet.
    #[serde(default)]
    pub jitter: Option<Spanned<JitterSpec>>,
    /// Whether packets may overtake each other (after a jitter draw or a delay decrease).
    #[serde(default)]
    pub reorder: bool,
    /// Capacity steps from the start of media; none means unlimited.
    #[serde(default)]
    pub capacity: Option<Spanned<Vec<Spanned<Step>>>>,
    /// A mahimahi trace file for the capacity instead of steps, relative to the workspace root.
    #[serde(default)]
    pub trace: Option<Spanned<String>>,
    /// Windows in which every packet leaving the bottleneck is lost (the wire is cut), in
    /// seconds from the start of media.
    #[serde(default)]
    pub blackouts: Option<Vec<Spanned<BlackoutSpec>>>,
}

/// From `from_s` to `to_s` (seconds from the start of media, fractions allowed) the wire is cut.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BlackoutSpec {
    /// Start, seconds.
    pub from_s: f64,
    /// End, seconds (exclusive).
    pub to_s: f64,
}

/// From `at_s` on, the capacity is `kbps` (0: nothing is served; the queue keeps its size).
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Step {
    /// Seconds from the start of media.
    pub at_s: u64,
    /// Capacity in kbit/s.
    pub kbps: u64,
}

/// From `at_s` on, the one-way propagation delay is `delay_ms`.
#[derive(Debug, Clone, Copy, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DelayStep {
    /// Seconds from the start of media, after 0.
    pub at_s: u64,
    /// The new one-way delay, ms.
    pub delay_ms: u64,
}

/// Builds the link `spec` describes for a run of `duration` seconds; errors are located with
/// `at`. Trace paths are relative to `root`.
pub(super) fn link(
    spec: &LinkSpec,
    root: &Path,
    duration: u64,
    at: &impl Fn(Option<Range<usize>>, &str) -> String,
) -> Result<LinkConfig, String> {
    let capacity = capacity(spec, root, duration, at)?;
    let queue = queue(spec, &capacity, at)?;
    let delay_steps = delay_steps(spec, duration, at)?;
    let mut blackouts = Vec::new();
    for entry in spec.blackouts.iter().flatten() {
        let b = entry.get_ref();
        let ok = b.from_s.is_finite()
            && b.to_s.is_finite()
            && b.from_s >= 0.0
            && b.from_s < b.to_s
            && b.to_s <= duration as f64;
        if !ok {
            return Err(at(
                Some(entry.span()),
                "a blackout needs 0 <= from_s < to_s <= duration_s (it counts from the start of \
                 media, and a window outside the call would never cut anything)",
            ));
        }
        blackouts.push(Window::new(
            SimTime::ZERO + micros(b.from_s),
            SimTime::ZERO + micros(b.to_s),
        ));
    }
    let distribution = match &spec.jitter {
        Some(j) => jitter(j, at)?,
        None => Default::default(),
    };
    Ok(LinkConfig {
        capacity,
        queue,
        delay: SimDuration::from_millis(*spec.delay_ms.get_ref()),
        delay_steps,
        loss: spec
            .loss
            .as_ref()
            .map_or(Ok(Default::default()), |l| loss(l, at))?,
        duplicate: spec
            .duplicate
            .as_ref()
            .map_or(Ok(0.0), |d| duplicate(d, at))?,
        jitter: JitterConfig {
            distribution,
            reorder: spec.reorder,
        },
        blackouts,
        ..LinkConfig::default()
    })
}

/// Seconds, checked finite, non-negative and within the run (≤ 3 600 s), as a duration; the
/// cast is exact to the microsecond and cannot overflow.
fn micros(s: f64) -> SimDuration {
    SimDuration::from_micros((s * 1e6).round() as u64)
}

fn capacity(
    spec: &LinkSpec,
    root: &Path,
    duration: u64,
    at: &impl Fn(Option<Range<usize>>, &str) -> String,
) -> Result<RateSchedule, String> {
    Ok(match (&spec.capacity, &spec.trace) {
        (Some(steps), Some(_)) => {
            return Err(at(
                Some(steps.span()),
                "give either capacity steps or a trace, not both",
            ));
        }
        (None, Some(trace)) => {
            let path = root.join(trace.get_ref());
            // The queue is sized by the capacity of the part of the trace the run uses, not
            // the whole file's (see `MahimahiTrace::with_nominal_span`).
            RateSchedule::from_mahimahi_file(&path)
                .map_err(|e| at(Some(trace.span()), &format!("trace: {e}")))?
                .with_nominal_span(SimDuration::from_secs(duration))
        }
        (None, None) => RateSchedule::Unlimited,
        (Some(steps), None) => {
            let list: Vec<Step> = steps.get_ref().iter().map(|s| *s.get_ref()).collect();
            let ordered = list.windows(2).all(|w| w[0].at_s < w[1].at_s);
            if list.is_empty() || list[0].at_s != 0 || !ordered || list[0].kbps == 0 {
                return Err(at(
                    Some(steps.span()),
                    "capacity needs steps with at_s starting at 0 and strictly increasing, and \
                     kbps > 0 at 0 (a later step may be 0: an outage)",
                ));
            }
            if let Some(late) = steps
                .get_ref()
                .iter()
                .find(|s| s.get_ref().at_s >= duration)
            {
                return Err(at(
                    Some(late.span()),
                    &format!(
                        "a capacity step at {} s is at or after the end of the call \
                         (duration_s = {duration}) and would never take effect",
                        late.get_ref().at_s
                    ),
                ));
            }
            RateSchedule::steps(
                Rate::from_kbps(list[0].kbps),
                list[1..]
                    .iter()
                    .map(|s| (SimDuration::from_secs(s.at_s), Rate::from_kbps(s.kbps))),
            )
        }
    })
}

fn queue(
    spec: &LinkSpec,
    capacity: &RateSchedule,
    at: &impl Fn(Option<Range<usize>>, &str) -> String,
) -> Result<QueueLimit, String> {
    let Some(queue) = &spec.queue_ms else {
        return Ok(QueueLimit::Unlimited);
    };
    let ms = *queue.get_ref();
    if ms == 0 {
        return Err(at(
            Some(queue.span()),
            "queue_ms = 0 holds no packet at all: every packet would be dropped, the handshake \
             included (leave queue_ms out for an unlimited queue)",
        ));
    }
    let span = SimDuration::from_millis(ms);
    let rates: Vec<Rate> = match capacity {
        RateSchedule::Unlimited => {
            return Err(at(
                Some(queue.span()),
                "queue_ms needs a capacity (steps or a trace): an unlimited link never queues, \
                 so the limit would do nothing",
            ));
        }
        RateSchedule::Steps(steps) => std::iter::once(steps.initial())
            .chain(steps.steps().iter().map(|&(_, r)| r))
            .collect(),
        other => other
            .nominal_rate_at(SimDuration::ZERO)
            .into_iter()
            .collect(),
    };
    // Zero steps keep the size of the last non-zero rate (see vnet-sim's queue), so only the
    // non-zero ones size it.
    let slowest = rates.into_iter().filter(|r| r.bps() > 0).min();
    if let Some(slowest) = slowest.filter(|r| r.bytes_in(span) < FULL_SIZE_PACKET) {
        let needed = (FULL_SIZE_PACKET * 8_000).div_ceil(slowest.bps());
        return Err(at(
            Some(queue.span()),
            &format!(
                "queue_ms = {ms} holds {} bytes at {} kbit/s, less than one full-size \
                 ({FULL_SIZE_PACKET}-byte) packet: a drop-tail queue that small drops packets \
                 while the link is idle, and the run would measure the buffer rather than the \
                 estimator; give queue_ms >= {needed}",
                slowest.bytes_in(span),
                slowest.bps() as f64 / 1e3,
            ),
        ));
    }
    Ok(QueueLimit::Time(span))
}

fn delay_steps(
    spec: &LinkSpec,
    duration: u64,
    at: &impl Fn(Option<Range<usize>>, &str) -> String,
) -> Result<Vec<(SimDuration, SimDuration)>, String> {
    let Some(steps) = &spec.delay_steps else {
        return Ok(Vec::new());
    };
    let mut out = Vec::with_capacity(steps.get_ref().len());
    let mut previous = 0;
    for entry in steps.get_ref() {
        let step = entry.get_ref();
        if step.at_s <= previous || step.at_s >= duration {
            return Err(at(
                Some(entry.span()),
                "delay steps need at_s strictly increasing, after 0 (delay_ms is the delay at \
                 the start) and before duration_s (a later step would never take effect)",
            ));
        }
        previous = step.at_s;
        out.push((
            SimDuration::from_secs(step.at_s),
            SimDuration::from_millis(step.delay_ms),
        ));
    }
    if out.is_empty() {
        return Err(at(
            Some(steps.span()),
            "delay_steps is empty: leave it out for a constant delay",
        ));
    }
    Ok(out)
}

#[cfg(test)]
mod tests;
