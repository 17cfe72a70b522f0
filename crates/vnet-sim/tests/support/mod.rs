//! What the webrtc tests share: the impaired test path and the two-host topology.
#![allow(dead_code)]

use vnet_sim::{
    HostId, JitterConfig, JitterDistribution, LinkConfig, LossModel, QueueLimit, Rate, Sim,
    SimDuration,
};

/// A constrained, lossy, jittery path (`capacity_kbps`, a 100 ms queue, Bernoulli `loss`,
/// 20 ms one way, up to 5 ms of jitter without reordering) with the per-packet log on: every
/// random stage of the link is exercised.
pub fn impaired(capacity_kbps: u64, loss: f64) -> LinkConfig {
    LinkConfig {
        capacity: Rate::from_kbps(capacity_kbps).into(),
        queue: QueueLimit::Time(SimDuration::from_millis(100)),
        loss: LossModel::Bernoulli { probability: loss },
        delay: SimDuration::from_millis(20),
        jitter: JitterConfig {
            distribution: JitterDistribution::Uniform {
                max: SimDuration::from_millis(5),
            },
            reorder: false,
        },
        record_log: true,
        ..LinkConfig::default()
    }
}

/// A simulator with two hosts named `names` joined by `link` in both directions.
pub fn pair(seed: u64, names: (&str, &str), link: LinkConfig) -> (Sim, HostId, HostId) {
    let mut builder = Sim::builder().seed(seed);
    let (a, b) = (builder.host(names.0), builder.host(names.1));
    builder.path(a, b, link);
    (builder.build().expect("valid topology"), a, b)
}
