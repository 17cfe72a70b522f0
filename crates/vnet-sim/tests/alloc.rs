//! The hot path allocates nothing once queues have grown to their working size.

use alloc_counter::{CountingAllocator, allocations};
use vnet_sim::{
    JitterConfig, JitterDistribution, Link, LinkConfig, LossModel, Packet, QueueLimit, Rate,
    RateSchedule, SimDuration, SimTime,
};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Sends `n` packets from `*now` on, one every `gap`, draining as it goes.
fn pump(link: &mut Link<u64>, now: &mut SimTime, n: u64, gap: SimDuration) {
    for i in 0..n {
        link.handle_packet(*now, Packet::new(i, 1200));
        while link.poll_delivery(*now).is_some() {}
        *now += gap;
    }
}

/// A simulator that allocates per packet is slow and noisy to profile; after warm-up the
/// fully impaired link must not allocate at all, with and without reordering.
#[test]
fn a_warmed_up_link_allocates_nothing_per_packet() {
    let trace = RateSchedule::from_mahimahi("1\n2\n2\n3\n5\n6\n6\n8\n").expect("valid trace");
    // Offer slightly more than capacity (50 and 12 Mbit/s) so the queue reaches its limit.
    let cases = [
        (
            Rate::from_mbps(50).into(),
            false,
            SimDuration::from_micros(180),
        ),
        (trace, true, SimDuration::from_micros(760)),
    ];
    for (capacity, reorder, gap) in cases {
        let config = LinkConfig {
            capacity,
            queue: QueueLimit::Time(SimDuration::from_millis(100)),
            loss: LossModel::GilbertElliott {
                mean_loss: 0.02,
                mean_burst: 3.0,
            },
            duplicate: 0.01,
            delay: SimDuration::from_millis(20),
            jitter: JitterConfig {
                distribution: JitterDistribution::Uniform {
                    max: SimDuration::from_millis(5),
                },
                reorder,
            },
            ..LinkConfig::default()
        };
        let mut link = Link::new(&config, 3).expect("valid config");
        let mut now = SimTime::ZERO;
        pump(&mut link, &mut now, 200_000, gap);
        let before = allocations();
        pump(&mut link, &mut now, 200_000, gap);
        let after = allocations();
        assert_eq!(after - before, 0, "reorder: {reorder}");
        assert!(
            link.stats().dropped_queue_full.packets > 0,
            "reorder: {reorder}"
        );
        assert!(
            link.stats().delivered.packets > 300_000,
            "reorder: {reorder}"
        );
    }
}
