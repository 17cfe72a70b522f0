//! The one shared state of a simulation: clock, event queue, tasks and network, behind one lock.
//!
//! Everything a simulation owns sits in a single [`State`] behind a single `Mutex`. The
//! simulation is single-threaded, so the lock is never contended; it exists because webrtc's
//! `Runtime` trait demands `Send + Sync` and because wakers may be called from anywhere. One lock
//! rather than one per part means there is no lock order to get wrong, and every step of the
//! simulation sees a consistent snapshot of time, timers and links.
//!
//! Two rules keep the lock safe to take from inside futures and wakers:
//! - no future is polled or dropped while the lock is held (the executor takes a task's future
//!   out of the state before polling it, and drops finished futures after unlocking);
//! - no waker is woken while the lock is held (firing an event collects wakers, and the caller
//!   wakes them after unlocking), because waking one of our own wakers takes the lock.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use crate::runtime::event::Events;
use crate::runtime::executor::Executor;
use crate::runtime::network::Network;
use crate::time::{SimDuration, SimTime};

/// Limits that turn a stuck simulation into an error instead of a hang.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Limits {
    /// Polls and events allowed at one instant of virtual time before the run is declared a
    /// livelock.
    pub(crate) max_steps_per_instant: u64,
    /// Virtual time after which a run stops with an error.
    pub(crate) time_limit: SimDuration,
}

/// Everything behind the lock.
#[derive(Debug)]
pub(crate) struct State {
    /// The virtual clock.
    pub(crate) now: SimTime,
    /// Timers and link wake-ups in `(deadline, sequence)` order.
    pub(crate) events: Events,
    /// Tasks and the run queue.
    pub(crate) executor: Executor,
    /// Hosts, links and sockets.
    pub(crate) network: Network,
    /// A `run` is in progress (runs do not nest).
    pub(crate) running: bool,
    /// The owning [`crate::Sim`] was dropped: tasks are gone, nothing new runs.
    pub(crate) shut_down: bool,
    /// Why the last failed `Runtime::block_on` stopped (the trait has no way to return it).
    pub(crate) block_on_error: Option<crate::runtime::error::SimError>,
}

/// The shared part of a simulation, referenced by the runtime, its wakers, timers and sockets.
#[derive(Debug)]
pub(crate) struct Inner {
    state: Mutex<State>,
    /// The wall-clock instant that stands for virtual time zero. `Instant` cannot be built from
    /// a number, so virtual instants are `base + offset`; only differences are meaningful.
    pub(crate) base: Instant,
    pub(crate) seed: u64,
    pub(crate) limits: Limits,
}

impl Inner {
    pub(crate) fn new(network: Network, seed: u64, limits: Limits) -> Self {
        Self {
            state: Mutex::new(State {
                now: SimTime::ZERO,
                events: Events::default(),
                executor: Executor::default(),
                network,
                running: false,
                shut_down: false,
                block_on_error: None,
            }),
            base: Instant::now(),
            seed,
            limits,
        }
    }

    /// The state. A poisoned lock (a panic inside the simulator itself) is taken over rather
    /// than propagated: the state is only ever left half-updated by a bug, never by user code,
    /// which does not run under the lock.
    pub(crate) fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Virtual `t` as an `Instant` on this simulation's time base.
    pub(crate) fn instant(&self, t: SimTime) -> Instant {
        self.base + t.since_start().to_std()
    }
}
