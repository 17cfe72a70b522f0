//! Scenario files (`scenarios/*.toml`): parsing with located errors ([`file`](mod@file)) and
//! running them with their checks ([`run`](mod@run)), so that a test runs a shipped file exactly
//! as `cargo xtask scenario run` does.

pub mod file;
pub mod run;

pub use file::{
    CheckSpec, DirectionName, EstimatorName, MediaName, MetricName, MetricUnit, Scenario, load,
    parse,
};
pub use run::{CheckResult, FlowOut, ScenarioRun, run};
