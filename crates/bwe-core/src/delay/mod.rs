//! The delay-based signal path: arrival groups → delay filter → adaptive threshold → detector.

pub mod arrival_group;
pub mod delay_detector;
pub mod detector;
pub mod filter_output;
pub mod kalman;
pub mod threshold;
pub mod trendline;

pub use arrival_group::{
    ArrivalGroupAccumulator, ArrivalGroupConfig, ArrivalGroupStats, GroupDelta,
};
pub use delay_detector::{DelayDetector, DelayDetectorConfig, DelayFilterConfig, DelayStats};
pub use detector::{DetectorConfig, OveruseDetector};
pub use filter_output::FilterOutput;
pub use kalman::{KalmanConfig, KalmanFilter};
pub use threshold::{AdaptiveThreshold, ThresholdConfig};
pub use trendline::{TrendlineConfig, TrendlineEstimator};
