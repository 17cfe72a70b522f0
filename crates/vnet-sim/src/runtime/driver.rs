//! The run loop: poll what is runnable, and when nothing is, jump the clock to the next event.
//!
//! ```text
//! loop:
//!   next runnable (FIFO)?  poll it (the run's own future is one of them; done → return)
//!   else                   pop the earliest live event, set the clock to its deadline,
//!                          fire every live event due then (timers wake their tasks, links
//!                          deliver datagrams and wake their sockets)
//! ```
//!
//! Virtual time only moves when every task is waiting, so a simulation never waits on the wall
//! clock: an idle minute of a call costs nothing. Three guards turn a stuck simulation into a
//! [`SimError`] instead of a hang: too many polls at one instant (a livelock), nothing left to
//! wait for (a stall), and an event past the time limit.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Waker};

use crate::runtime::error::SimError;
use crate::runtime::event::{Event, EventKind};
use crate::runtime::executor::{MAIN, Runnable, TaskWaker};
use crate::runtime::state::{Inner, State};
use crate::time::{SimDuration, SimTime};

impl State {
    fn is_live(&self, event: &Event) -> bool {
        match event.kind {
            EventKind::Timer => self.events.timer_is_live(event),
            EventKind::Link(id) => self.network.link_is_armed(id, event.at),
        }
    }

    /// Moves the clock to the earliest live event and fires every live event due then,
    /// collecting the wakers to wake once the lock is released. `true` when the clock moved.
    fn advance(&mut self, limit: SimDuration, wakers: &mut Vec<Waker>) -> Result<bool, SimError> {
        let first = loop {
            let Some(event) = self.events.peek() else {
                return Err(SimError::Stalled { at: self.now });
            };
            if self.is_live(&event) {
                break event;
            }
            self.events.pop();
        };
        if first.at > SimTime::ZERO + limit {
            return Err(SimError::TimeLimit {
                next: first.at,
                limit,
            });
        }
        let moved = first.at > self.now;
        self.now = self.now.max(first.at);
        while let Some(event) = self.events.peek().filter(|e| e.at <= self.now) {
            self.events.pop();
            if !self.is_live(&event) {
                continue;
            }
            match event.kind {
                EventKind::Timer => wakers.extend(self.events.fire_timer(&event)),
                EventKind::Link(id) => {
                    self.network
                        .fire_link(id, self.now, &mut self.events, wakers)
                }
            }
        }
        Ok(moved)
    }
}

/// Clears the run flag however the run ends (result, error or panic).
struct Running<'a>(&'a Inner);

impl Drop for Running<'_> {
    fn drop(&mut self) {
        let mut state = self.0.lock();
        state.running = false;
        state.executor.forget_main();
    }
}

/// Drives `future` and every task of the simulation until `future` completes.
pub(crate) fn run<F: Future>(inner: &Arc<Inner>, future: F) -> Result<F::Output, SimError> {
    {
        let mut state = inner.lock();
        if state.shut_down {
            return Err(SimError::ShutDown);
        }
        if state.running {
            return Err(SimError::AlreadyRunning);
        }
        state.running = true;
        state.executor.wake(MAIN);
    }
    let _running = Running(inner);
    let main_waker = Waker::from(Arc::new(TaskWaker {
        id: MAIN,
        inner: Arc::downgrade(inner),
    }));
    let mut future = pin!(future);
    let limits = inner.limits;
    let mut steps: u64 = 0;
    let mut wakers = Vec::new();
    loop {
        let next = inner.lock().executor.next();
        match next {
            Some(Runnable::Main) => {
                if let Poll::Ready(out) =
                    future.as_mut().poll(&mut Context::from_waker(&main_waker))
                {
                    return Ok(out);
                }
            }
            Some(Runnable::Task {
                id,
                mut future,
                waker,
            }) => {
                let done = future
                    .as_mut()
                    .poll(&mut Context::from_waker(&waker))
                    .is_ready();
                let finished = inner.lock().executor.finish(id, future, done);
                drop(finished);
            }
            Some(Runnable::Drop(future)) => drop(future),
            None => {
                let moved = inner.lock().advance(limits.time_limit, &mut wakers)?;
                if moved {
                    steps = 0;
                }
                for waker in wakers.drain(..) {
                    waker.wake();
                }
            }
        }
        steps += 1;
        if steps > limits.max_steps_per_instant {
            return Err(SimError::Livelock {
                at: inner.lock().now,
                steps,
                limit: limits.max_steps_per_instant,
            });
        }
    }
}
