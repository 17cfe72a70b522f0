//! The loss-based signal path (send side).

pub mod controller;
pub mod model;

pub use controller::{LossBasedController, LossControllerConfig};
pub use model::{LossModel, LossModelConfig, LossState};
