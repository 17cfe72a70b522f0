//! [`RateSchedule`]: how a bottleneck's capacity varies over time.
//!
//! A schedule's times are offsets from the moment it takes effect: the start of the simulation for
//! the schedule a link is built with, `now` for one installed by [`crate::Link::set_capacity`]. So
//! "drop to 500 kbit/s for 10 s, then back" means the same thing whenever a scenario applies it,
//! and a trace starts from its beginning when it is installed, as mahimahi starts it when the
//! shell starts.

use std::path::Path;
use std::sync::Arc;

use crate::rate::Rate;
use crate::time::SimDuration;
use crate::trace::{MahimahiTrace, TraceFileError, TraceParseError};

/// How the capacity of a bottleneck varies over time.
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub enum RateSchedule {
    /// No bottleneck: packets take no time to serialise and nothing ever queues.
    #[default]
    Unlimited,
    /// A constant rate.
    Constant(Rate),
    /// A piecewise-constant rate.
    Steps(Steps),
    /// Delivery opportunities from a mahimahi trace, repeated with its period. Shared, since a
    /// trace is large and several links may replay it.
    Trace(Arc<MahimahiTrace>),
}

/// A piecewise-constant rate: `initial` until the first step, then each step's rate from its
/// offset on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Steps {
    initial: Rate,
    /// Sorted by offset; at equal offsets the later entry wins.
    steps: Vec<(SimDuration, Rate)>,
}

impl Steps {
    /// `initial` until the first step, then each `(offset, rate)`. The steps may be given in any
    /// order; they are sorted by offset, and at equal offsets the one given last wins.
    pub fn new(initial: Rate, steps: impl IntoIterator<Item = (SimDuration, Rate)>) -> Self {
        let mut steps: Vec<_> = steps.into_iter().collect();
        steps.sort_by_key(|&(offset, _)| offset); // stable: later duplicates stay later
        Self { initial, steps }
    }

    /// The rate before the first step.
    pub fn initial(&self) -> Rate {
        self.initial
    }

    /// The steps, sorted by offset.
    pub fn steps(&self) -> &[(SimDuration, Rate)] {
        &self.steps
    }

    /// The rate in force at `offset`.
    pub fn rate_at(&self, offset: SimDuration) -> Rate {
        let i = self.steps.partition_point(|&(at, _)| at <= offset);
        match i.checked_sub(1).and_then(|j| self.steps.get(j)) {
            Some(&(_, rate)) => rate,
            None => self.initial,
        }
    }
}

impl RateSchedule {
    /// A constant rate.
    pub fn constant(rate: Rate) -> Self {
        Self::Constant(rate)
    }

    /// A piecewise-constant rate; see [`Steps::new`].
    pub fn steps(initial: Rate, steps: impl IntoIterator<Item = (SimDuration, Rate)>) -> Self {
        Self::Steps(Steps::new(initial, steps))
    }

    /// A mahimahi trace given as text.
    pub fn from_mahimahi(text: &str) -> Result<Self, TraceParseError> {
        MahimahiTrace::parse(text).map(|t| Self::Trace(Arc::new(t)))
    }

    /// A mahimahi trace read from a file.
    pub fn from_mahimahi_file(path: impl AsRef<Path>) -> Result<Self, TraceFileError> {
        MahimahiTrace::from_file(path).map(|t| Self::Trace(Arc::new(t)))
    }

    /// The rate used to turn a queue limit in time into bytes, `offset` after the schedule took
    /// effect: the rate in force for constant and stepped schedules, the trace's nominal rate
    /// for a trace (its instantaneous rate is a train of 1500-byte spikes; see
    /// [`MahimahiTrace::nominal_rate`]), `None` when unlimited.
    pub fn nominal_rate_at(&self, offset: SimDuration) -> Option<Rate> {
        match self {
            Self::Unlimited => None,
            Self::Constant(rate) => Some(*rate),
            Self::Steps(steps) => Some(steps.rate_at(offset)),
            Self::Trace(trace) => Some(trace.nominal_rate()),
        }
    }

    /// The capacity over `[from, to)` after the schedule took effect: the time-weighted mean of
    /// the rates in force, or for a trace its opportunities in the span
    /// ([`MahimahiTrace::rate_between`]); `None` when unlimited, zero for an empty span.
    pub fn rate_between(&self, from: SimDuration, to: SimDuration) -> Option<Rate> {
        if to <= from {
            return match self {
                Self::Unlimited => None,
                _ => Some(Rate::ZERO),
            };
        }
        match self {
            Self::Unlimited => None,
            Self::Constant(rate) => Some(*rate),
            Self::Steps(steps) => {
                // Integrate the piecewise-constant rate over the span.
                let mut bits: u128 = 0;
                let mut t = from;
                let mut rate = steps.rate_at(from);
                for &(at, next) in steps.steps() {
                    if at <= from {
                        continue;
                    }
                    if at >= to {
                        break;
                    }
                    bits += u128::from(rate.bps()) * u128::from((at - t).as_nanos());
                    t = at;
                    rate = next;
                }
                bits += u128::from(rate.bps()) * u128::from((to - t).as_nanos());
                let bps = bits / u128::from((to - from).as_nanos());
                Some(Rate::from_bps(u64::try_from(bps).unwrap_or(u64::MAX)))
            }
            Self::Trace(trace) => Some(trace.rate_between(from, to)),
        }
    }

    /// For a trace, the same trace with its nominal rate taken over the first `span` (see
    /// [`MahimahiTrace::with_nominal_span`]): a run of `span` then sizes its queue by the
    /// capacity it has. Other schedules are returned unchanged.
    pub fn with_nominal_span(self, span: SimDuration) -> Self {
        match self {
            Self::Trace(trace) => Self::Trace(Arc::new(
                MahimahiTrace::clone(&trace).with_nominal_span(span),
            )),
            other => other,
        }
    }
}

impl From<Rate> for RateSchedule {
    fn from(rate: Rate) -> Self {
        Self::Constant(rate)
    }
}

impl From<Steps> for RateSchedule {
    fn from(steps: Steps) -> Self {
        Self::Steps(steps)
    }
}

impl From<MahimahiTrace> for RateSchedule {
    fn from(trace: MahimahiTrace) -> Self {
        Self::Trace(Arc::new(trace))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Scenario files list steps in whatever order; the schedule must not depend on it.
    #[test]
    fn steps_are_sorted_and_the_last_of_equal_offsets_wins() {
        let ms = SimDuration::from_millis;
        let s = Steps::new(
            Rate::from_mbps(1),
            [
                (ms(20), Rate::from_mbps(3)),
                (ms(10), Rate::from_mbps(2)),
                (ms(20), Rate::from_mbps(4)),
            ],
        );
        assert_eq!(s.rate_at(ms(0)), Rate::from_mbps(1));
        assert_eq!(s.rate_at(ms(9)), Rate::from_mbps(1));
        assert_eq!(s.rate_at(ms(10)), Rate::from_mbps(2));
        assert_eq!(s.rate_at(ms(19)), Rate::from_mbps(2));
        assert_eq!(s.rate_at(ms(20)), Rate::from_mbps(4));
        assert_eq!(s.rate_at(SimDuration::MAX), Rate::from_mbps(4));
    }

    /// Steps are integrated over the span; unlimited has no capacity to give.
    #[test]
    fn rate_between_integrates_steps() {
        let s = RateSchedule::steps(
            Rate::from_mbps(1),
            [(SimDuration::from_secs(1), Rate::from_mbps(2))],
        );
        let ms = SimDuration::from_millis;
        assert_eq!(s.rate_between(ms(0), ms(1_000)), Some(Rate::from_mbps(1)));
        assert_eq!(
            s.rate_between(ms(500), ms(1_500)),
            Some(Rate::from_kbps(1_500))
        );
        assert_eq!(
            s.rate_between(ms(1_000), ms(1_200)),
            Some(Rate::from_mbps(2))
        );
        assert_eq!(RateSchedule::Unlimited.rate_between(ms(0), ms(1)), None);
        assert_eq!(
            RateSchedule::Constant(Rate::from_kbps(300)).rate_between(ms(0), ms(200)),
            Some(Rate::from_kbps(300))
        );
    }
}
