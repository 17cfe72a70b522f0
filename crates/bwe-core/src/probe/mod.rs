//! Probing: when to send probe clusters and what their feedback says about capacity.

pub mod controller;
pub mod result_estimator;

pub use controller::{ProbeCluster, ProbeController, ProbeControllerConfig};
