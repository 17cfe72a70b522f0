//! The loss-based signal path (send side).

pub mod controller;

pub use controller::{LossBasedController, LossControllerConfig};
