//! What the end-to-end tests share: the seed, unit helpers, when a trace "reaches" a share of
//! its capacity, and shipped scenario files run from their files ([`scenario_file`]).
//!
//! Goodput is read off the bottleneck's log in 200 ms rows; "reaches 85 % at t" means the row
//! starting at `t` and the mean of the 2 s from `t` are both at 85 % of capacity or more, so a
//! single burst (a key frame) does not count as arriving.

#![allow(dead_code)]

use bwe_core::Bitrate;
use bwe_e2e::Trace;
use vnet_sim::SimDuration;

pub mod scenario_file;

pub const SEED: u64 = 1;

pub fn secs(s: u64) -> SimDuration {
    SimDuration::from_secs(s)
}

pub fn kbps(rate: Bitrate) -> f64 {
    rate.as_bps_f64() / 1e3
}

/// The first row at or after `from` whose goodput, and the mean goodput of the 2 s from it, are
/// both at least `fraction` of the capacity then.
pub fn reaches(trace: &Trace, from: SimDuration, fraction: f64) -> Option<SimDuration> {
    let rows = &trace.rows;
    rows.iter().enumerate().find_map(|(i, row)| {
        let capacity = row.capacity?.as_bps_f64();
        if row.t < from || row.goodput.as_bps_f64() < fraction * capacity {
            return None;
        }
        let window: Vec<f64> = rows[i..]
            .iter()
            .take_while(|r| r.t < row.t + secs(2))
            .map(|r| r.goodput.as_bps_f64())
            .collect();
        let mean = window.iter().sum::<f64>() / window.len() as f64;
        (window.len() >= 10 && mean >= fraction * capacity).then_some(row.t)
    })
}

pub fn after(t: Option<SimDuration>, from: SimDuration) -> f64 {
    t.map_or(f64::INFINITY, |t| (t - from).as_secs_f64())
}
