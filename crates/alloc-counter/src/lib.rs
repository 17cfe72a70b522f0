//! A global allocator that counts allocations per thread, for the tests that prove a hot path
//! allocates nothing once warmed up.
//!
//! Counting per thread (not process-wide) keeps the test harness's own threads, which run other
//! tests in parallel, out of the figure. A test binary installs it with
//!
//! ```ignore
//! #[global_allocator]
//! static GLOBAL: alloc_counter::CountingAllocator = alloc_counter::CountingAllocator;
//! ```
//!
//! and reads [`allocations`] before and after the code under test. Without that line the counter
//! simply stays at zero, so a test must also check that it sees allocations where it expects
//! them (see [`allocations_are_counted`](tests)).

// A global allocator cannot be written without `unsafe`; this one only forwards to `System`.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

thread_local! {
    static ALLOCATIONS: Cell<u64> = const { Cell::new(0) };
}

/// Forwards to the system allocator and counts `alloc` and `realloc` calls on the calling thread.
#[derive(Debug, Clone, Copy, Default)]
pub struct CountingAllocator;

// SAFETY: every method forwards to `System` unchanged; the counter is a const-initialised
// thread-local `Cell`, which itself never allocates (and `try_with` tolerates thread teardown).
unsafe impl GlobalAlloc for CountingAllocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded with the caller's layout.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded with the caller's pointer and layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        // SAFETY: forwarded with the caller's arguments.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

/// Allocations made so far on the calling thread (0 unless [`CountingAllocator`] is installed).
pub fn allocations() -> u64 {
    ALLOCATIONS.with(Cell::get)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[global_allocator]
    static GLOBAL: CountingAllocator = CountingAllocator;

    /// A counter that never moves would make every zero-allocation test pass vacuously.
    #[test]
    fn allocations_are_counted() {
        let before = allocations();
        let v: Vec<u64> = Vec::with_capacity(16);
        std::hint::black_box(&v);
        assert_eq!(allocations() - before, 1);
    }

    /// Other threads' allocations do not show up in this thread's figure.
    #[test]
    fn other_threads_are_not_counted() {
        let before = allocations();
        std::thread::scope(|s| {
            s.spawn(|| {
                for _ in 0..1_000 {
                    std::hint::black_box(vec![0u8; 64]);
                }
            });
        });
        // Spawning the thread allocates a little here; its 1000 vectors must not count.
        let here = allocations() - before;
        assert!(here < 100, "{here} allocations seen on this thread");
    }
}
