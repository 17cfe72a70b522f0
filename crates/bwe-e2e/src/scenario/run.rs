//! Running a [`Scenario`] and evaluating its checks.
//!
//! A file without `[[flow]]` runs the one-flow [`run_call`]; with flows it runs
//! [`run_multi_call`]. The checks are evaluated on the forward aggregate (the one flow itself
//! when single) or on the flow they name. Metrics are defined in `docs/scenarios.md`.

use bwe_core::Bitrate;
use vnet_sim::SimDuration;

use super::file::{CheckSpec, MetricName, Scenario};
use crate::capture::CallCapture;
use crate::error::CallError;
use crate::{
    Activity, Direction, Estimator, FlowSet, FlowSpec, Media, MultiCallSpec, TcpResult, Trace,
    run_call, run_multi_call,
};

/// A duration in milliseconds, as reports and checks state it.
pub fn ms(d: Option<SimDuration>) -> Option<f64> {
    d.map(|d| d.as_secs_f64() * 1e3)
}

/// A rate in kbit/s, as reports and checks state it.
pub fn kbps(r: Option<Bitrate>) -> Option<f64> {
    r.map(Bitrate::as_kbps_f64)
}

/// A duration in seconds, as reports and checks state it.
pub fn secs(d: Option<SimDuration>) -> Option<f64> {
    d.map(SimDuration::as_secs_f64)
}

/// One flow of a finished run.
#[derive(Debug, Clone)]
pub struct FlowOut {
    /// Its trace.
    pub trace: Trace,
    /// When it sent.
    pub activity: Activity,
    /// Which bottleneck its media crossed.
    pub direction: Direction,
    /// Its estimator.
    pub estimator: Estimator,
    /// What it sent.
    pub media: Media,
}

/// What a run recorded, single- or multi-flow, in the shape the metrics need.
#[derive(Debug, Clone)]
pub struct ScenarioRun {
    /// The flows, in file order (one for a file without `[[flow]]`).
    pub flows: Vec<FlowOut>,
    /// Whether the file had `[[flow]]` tables.
    pub multi: bool,
    /// Media time.
    pub duration: SimDuration,
    /// The links' pcaps and the taps, when the call spec asked for `capture`.
    pub capture: Option<CallCapture>,
    /// The `[[tcp]]` flows, in file order.
    pub tcp: Vec<TcpResult>,
}

/// A check's outcome.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CheckResult {
    /// The check as written.
    pub spec: CheckSpec,
    /// Its window start.
    pub from: SimDuration,
    /// Its window end.
    pub to: SimDuration,
    /// The metric's value; `None` when it could not be computed.
    pub value: Option<f64>,
    /// `min ≤ value ≤ max`; a metric that could not be computed fails.
    pub passed: bool,
}

impl ScenarioRun {
    /// Indices of the flows whose media crosses `direction`'s bottleneck.
    pub fn in_direction(&self, direction: Direction) -> Vec<usize> {
        (0..self.flows.len())
            .filter(|&i| self.flows[i].direction == direction)
            .collect()
    }

    /// The multi-flow metrics of the flows `members`.
    pub fn set(&self, members: &[usize]) -> FlowSet<'_> {
        FlowSet::new(
            members
                .iter()
                .map(|&i| (&self.flows[i].trace, &self.flows[i].activity)),
        )
    }

    /// The aggregate trace: the forward flows summed (the one flow itself when single).
    pub fn aggregate(&self) -> Trace {
        let forward = self.in_direction(Direction::LeftToRight);
        if forward.len() == 1 {
            return self.flows[forward[0]].trace.clone();
        }
        self.set(&forward).combined()
    }

    /// The value of `metric` over `[from, to)` for flow `flow` (1-based) or the forward
    /// aggregate.
    pub fn value(
        &self,
        aggregate: &Trace,
        metric: MetricName,
        flow: Option<usize>,
        from: SimDuration,
        to: SimDuration,
    ) -> Option<f64> {
        let direction = flow.map_or(Direction::LeftToRight, |f| self.flows[f - 1].direction);
        let members = self.in_direction(direction);
        let set = self.set(&members);
        let trace = flow.map_or(aggregate, |f| &self.flows[f - 1].trace);
        // The flow's position in its set, or every member for the aggregate.
        let positions: Vec<usize> = match flow {
            Some(f) => members
                .iter()
                .position(|&m| m == f - 1)
                .into_iter()
                .collect(),
            None => (0..members.len()).collect(),
        };
        let largest = |values: Vec<Option<f64>>| {
            values
                .into_iter()
                .collect::<Option<Vec<f64>>>()
                .and_then(|v| v.into_iter().reduce(f64::max))
        };
        let changes = || {
            set.changes()
                .into_iter()
                .filter(move |c| c.at >= from && c.at < to)
        };
        let m = || trace.metrics(from, to);
        match metric {
            MetricName::Utilisation => m().utilisation,
            MetricName::MinUtilisation1s => m().min_utilisation_1s,
            MetricName::TimeTo85pctS => secs(m().time_to_85pct),
            MetricName::MaxFrozenS => secs(m().max_frozen),
            MetricName::QueueP50Ms => ms(m().queue_p50),
            MetricName::QueueP95Ms => ms(m().queue_p95),
            MetricName::Loss => m().loss,
            MetricName::MaxIntervalLoss => m().max_interval_loss,
            MetricName::TargetKbps => kbps(m().target),
            MetricName::MinTargetKbps => kbps(m().min_target),
            MetricName::MaxTargetKbps => kbps(m().max_target),
            MetricName::TargetMinMax => {
                let m = m();
                match (m.min_target, m.max_target) {
                    (Some(lo), Some(hi)) if hi.bps() > 0 => Some(lo.as_bps_f64() / hi.as_bps_f64()),
                    _ => None,
                }
            }
            MetricName::GoodputKbps => kbps(m().goodput),
            MetricName::Fairness1s => set.fairness(SimDuration::from_secs(1), from, to),
            MetricName::Fairness5s => set.fairness(SimDuration::from_secs(5), from, to),
            MetricName::Fairness20s => set.fairness(SimDuration::from_secs(20), from, to),
            MetricName::ConvergenceS => largest(changes().map(|c| secs(c.convergence)).collect()),
            MetricName::Overshoot => largest(changes().map(|c| c.overshoot).collect()),
            MetricName::Instability => largest(
                positions
                    .iter()
                    .map(|&p| set.instability(p, from, to))
                    .collect(),
            ),
            MetricName::StartupS => {
                largest(positions.iter().map(|&p| secs(set.startup(p))).collect())
            }
        }
    }

    /// Evaluates `check` (on `aggregate`, this run's [`aggregate`](Self::aggregate)).
    pub fn check(&self, aggregate: &Trace, check: &CheckSpec) -> CheckResult {
        let from = SimDuration::from_secs(check.from_s.unwrap_or(0));
        let to = check.to_s.map_or(self.duration, SimDuration::from_secs);
        let value = self.value(aggregate, check.metric, check.flow, from, to);
        CheckResult {
            spec: *check,
            from,
            to,
            value,
            // A metric that could not be computed fails: "not measured" must never pass.
            passed: value.is_some_and(|v| v >= check.min && v <= check.max),
        }
    }

    /// Evaluates every check of `scenario`.
    pub fn checks(&self, scenario: &Scenario) -> Vec<CheckResult> {
        let aggregate = self.aggregate();
        scenario
            .checks
            .iter()
            .map(|c| self.check(&aggregate, c))
            .collect()
    }
}

/// Runs `scenario`'s call: its one flow, or its `[[flow]]`s over a shared bottleneck.
pub fn run(scenario: &Scenario) -> Result<ScenarioRun, CallError> {
    let call = &scenario.call;
    // TCP flows need the dumbbell; a file without `[[flow]]` then runs its one flow there.
    let single = [FlowSpec::new(call.estimator)];
    let flows = match &scenario.flows {
        Some(flows) => Some(flows.as_slice()),
        None if !scenario.tcp.is_empty() => Some(&single[..]),
        None => None,
    };
    let Some(flows) = flows else {
        let result = run_call(call)?;
        return Ok(ScenarioRun {
            flows: vec![FlowOut {
                trace: result.trace,
                activity: Activity::always(SimDuration::ZERO, call.duration),
                direction: Direction::LeftToRight,
                estimator: call.estimator,
                media: Media::Video,
            }],
            multi: false,
            duration: call.duration,
            capture: result.capture,
            tcp: Vec::new(),
        });
    };
    let mut spec = MultiCallSpec::new(call.seed, call.forward.clone(), flows.to_vec());
    spec.tcp = scenario.tcp.clone();
    spec.backward = call.backward.clone();
    spec.duration = call.duration;
    spec.encoder = call.encoder.clone();
    spec.connect_timeout = call.connect_timeout;
    spec.capture = call.capture;
    let result = run_multi_call(&spec)?;
    Ok(ScenarioRun {
        flows: result
            .flows
            .into_iter()
            .map(|f| FlowOut {
                trace: f.trace,
                activity: f.activity,
                direction: f.direction,
                estimator: f.estimator,
                media: f.media,
            })
            .collect(),
        multi: true,
        duration: call.duration,
        capture: result.capture,
        tcp: result.tcp,
    })
}
