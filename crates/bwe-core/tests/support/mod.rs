//! Closed-loop drivers shared by the integration tests.
#![allow(dead_code)]

pub mod bottleneck;
pub mod receive_loop;
pub mod send_loop;
