//! The loss-based signal path (send side).

pub mod controller;
