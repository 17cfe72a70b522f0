//! Probing: when to send probe clusters and what their feedback says about capacity.

pub mod attribution;
pub(crate) mod cluster;
pub mod controller;
pub mod receive_detector;
pub mod result_estimator;

pub use attribution::ProbeAttribution;
pub use cluster::ProbeCluster;
pub use controller::{CAPACITY_PROBING_INTERVAL, ProbeController, ProbeControllerConfig};
pub use receive_detector::{ReceivedProbe, ReceivedProbeDetector};
pub use result_estimator::ProbeResultEstimator;
