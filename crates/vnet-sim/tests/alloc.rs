//! The hot path allocates nothing once queues have grown to their working size.

// A counting global allocator needs `unsafe impl GlobalAlloc`; it only forwards to `System`.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicU64, Ordering};

use vnet_sim::{
    JitterConfig, JitterDistribution, Link, LinkConfig, LossModel, Packet, QueueLimit, Rate,
    RateSchedule, SimDuration, SimTime,
};

struct Counting;

static ALLOCATIONS: AtomicU64 = AtomicU64::new(0);

// SAFETY: every method forwards to `System` with the caller's arguments unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::alloc`'s contract.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout, as the caller guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        ALLOCATIONS.fetch_add(1, Ordering::Relaxed);
        // SAFETY: forwarded unchanged; the caller upholds `GlobalAlloc::realloc`'s contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

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
        let before = ALLOCATIONS.load(Ordering::Relaxed);
        pump(&mut link, &mut now, 200_000, gap);
        let after = ALLOCATIONS.load(Ordering::Relaxed);
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
