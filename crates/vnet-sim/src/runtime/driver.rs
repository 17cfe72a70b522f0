//! The run loop: poll what is runnable, and when nothing is, jump the clock to the next event.
//!
//! ```text
//! loop:
//!   next runnable (FIFO)?  poll it (the run's own future is one of them; done → return)
//!   else                   pop the earliest live event, set the clock to its deadline and
//!                          fire it (a timer wakes its task, a link delivers what is due and
//!                          wakes the sockets)
//! ```
//!
//! One event at a time, with every task it made runnable polled before the next, even when
//! several are due at the same instant; and a timer counts as ready only once its own event has
//! fired (`Events::poll_timer`). Together they keep a task that waits on several sources from
//! finding two of them ready in one poll. That matters because webrtc's peer-connection driver
//! waits in `futures::select!` (futures-util 0.3), which picks among ready branches with a
//! thread-local generator seeded from a process-wide counter: the choice, and from it the
//! call, would depend on what the thread had run before and not only on the seed. (Seen, when
//! a timer was ready as soon as the clock reached its deadline: RFC 8867 §5.5 gave a different
//! trace alone, after another scenario, and after one unrelated `select!`.)
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

    /// Moves the clock to the earliest live event and fires it (only it: see the module docs),
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
                at: self.now,
                next: first.at,
                limit,
            });
        }
        let moved = first.at > self.now;
        self.now = self.now.max(first.at);
        self.events.pop();
        match first.kind {
            EventKind::Timer => wakers.extend(self.events.fire_timer(&first)),
            EventKind::Link(id) => self
                .network
                .fire_link(id, self.now, &mut self.events, wakers),
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

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};
    use std::time::{Duration, Instant};

    use webrtc::runtime::Runtime;

    use crate::runtime::SimError;
    use crate::sim::Sim;
    use crate::time::{SimDuration, SimTime};

    fn sim() -> Sim {
        Sim::builder()
            .seed(1)
            .build()
            .expect("an empty topology is valid")
    }

    /// Timers are the simulation's schedule: equal deadlines must fire in the order they were
    /// set and the clock must read exactly each deadline, or two runs could diverge.
    #[test]
    fn timers_fire_in_deadline_then_arming_order_at_exact_times() {
        let sim = sim();
        let log = Arc::new(Mutex::new(Vec::new()));
        for (name, ms) in [("a", 30), ("b", 10), ("c", 30), ("d", 20), ("e", 10)] {
            let rt = sim.runtime();
            let log = Arc::clone(&log);
            let sleep = rt.sleep_for(SimDuration::from_millis(ms));
            drop(sim.spawn(Box::pin(async move {
                sleep.await;
                log.lock().expect("unpoisoned").push((name, rt.time()));
            })));
        }
        sim.run(sim.sleep_for(SimDuration::from_millis(100)))
            .expect("runs");
        let ms = SimTime::from_millis;
        assert_eq!(
            *log.lock().expect("unpoisoned"),
            vec![
                ("b", ms(10)),
                ("e", ms(10)),
                ("d", ms(20)),
                ("a", ms(30)),
                ("c", ms(30))
            ]
        );
        assert_eq!(sim.time(), ms(100));
    }

    /// Idle virtual time must cost no wall time: a simulated hour is one jump.
    #[test]
    fn an_idle_hour_of_virtual_time_takes_no_wall_time() {
        let sim = Sim::builder()
            .seed(1)
            .time_limit(SimDuration::from_secs(7200))
            .build()
            .expect("valid");
        let wall = Instant::now();
        sim.run(sim.sleep_for(SimDuration::from_secs(3600)))
            .expect("runs");
        assert_eq!(sim.time(), SimTime::from_secs(3600));
        assert!(
            wall.elapsed() < Duration::from_millis(500),
            "{:?}",
            wall.elapsed()
        );
        let instant = sim.now();
        assert_eq!(sim.time_of(instant), SimTime::from_secs(3600));
    }

    /// A task that never waits on anything would spin forever; the guard must name it.
    #[test]
    fn a_task_that_only_ever_yields_is_a_livelock_error() {
        let sim = Sim::builder()
            .seed(1)
            .max_steps_per_instant(1_000)
            .build()
            .expect("valid");
        let rt = sim.runtime();
        drop(sim.spawn(Box::pin(async move {
            loop {
                rt.yield_now().await;
            }
        })));
        let err = sim
            .run(sim.sleep_for(SimDuration::from_millis(1)))
            .expect_err("never gets to 1 ms");
        assert_eq!(
            err,
            SimError::Livelock {
                at: SimTime::ZERO,
                steps: 1_001,
                limit: 1_000
            }
        );
    }

    /// A future nothing can ever wake must end the run with an error, not hang it.
    #[test]
    fn waiting_on_nothing_is_a_stall_error() {
        let sim = sim();
        let err = sim
            .run(std::future::pending::<()>())
            .expect_err("nothing can wake it");
        assert_eq!(err, SimError::Stalled { at: SimTime::ZERO });
    }

    /// A scenario that keeps timers busy forever must stop at the time limit.
    #[test]
    fn an_event_past_the_time_limit_ends_the_run() {
        let sim = Sim::builder()
            .seed(1)
            .time_limit(SimDuration::from_secs(10))
            .build()
            .expect("valid");
        let err = sim
            .run(sim.sleep_for(SimDuration::from_secs(11)))
            .expect_err("past the limit");
        assert_eq!(
            err,
            SimError::TimeLimit {
                at: SimTime::ZERO,
                next: SimTime::from_secs(11),
                limit: SimDuration::from_secs(10)
            }
        );
    }

    /// webrtc's `Runtime::block_on` returns nothing; a stuck simulation must still not panic
    /// the caller, and why it stopped, with the virtual time reached, must be retrievable.
    #[test]
    fn block_on_keeps_the_error_instead_of_panicking() {
        let sim = Sim::builder()
            .seed(1)
            .time_limit(SimDuration::from_secs(10))
            .max_steps_per_instant(1_000)
            .build()
            .expect("valid");
        let rt = sim.runtime();
        assert_eq!(rt.take_block_on_error(), None);

        let sleep = rt.sleep_for(SimDuration::from_secs(11));
        rt.block_on(Box::pin(async move {
            sleep.await;
        }));
        assert_eq!(
            rt.take_block_on_error(),
            Some(SimError::TimeLimit {
                at: SimTime::ZERO,
                next: SimTime::from_secs(11),
                limit: SimDuration::from_secs(10)
            })
        );
        assert_eq!(rt.take_block_on_error(), None, "taken once");

        rt.block_on(Box::pin(std::future::pending::<()>()));
        assert_eq!(
            rt.take_block_on_error(),
            Some(SimError::Stalled { at: SimTime::ZERO })
        );

        let spinner = Arc::clone(&rt);
        rt.block_on(Box::pin(async move {
            loop {
                spinner.yield_now().await;
            }
        }));
        assert!(matches!(
            rt.take_block_on_error(),
            Some(SimError::Livelock {
                at: SimTime::ZERO,
                ..
            })
        ));

        let sleep = rt.sleep_for(SimDuration::from_secs(1));
        rt.block_on(Box::pin(sleep));
        assert_eq!(
            rt.take_block_on_error(),
            None,
            "a run that completes leaves none"
        );
        assert_eq!(sim.time(), SimTime::from_secs(1));
    }

    /// webrtc's `close()` aborts its driver task; an aborted task must be dropped (releasing
    /// what it holds) and report finished.
    #[test]
    fn an_aborted_task_is_dropped_and_reports_finished() {
        let sim = sim();
        let held = Arc::new(());
        let rt = sim.runtime();
        let inside = Arc::clone(&held);
        let sleep = rt.sleep_for(SimDuration::from_secs(5));
        let handle = rt.spawn(Box::pin(async move {
            sleep.await;
            drop(inside);
        }));
        sim.run(async {
            sim.sleep_for(SimDuration::from_secs(1)).await;
            assert!(!handle.is_finished());
            handle.abort();
            sim.sleep_for(SimDuration::from_secs(1)).await;
        })
        .expect("runs");
        assert!(handle.is_finished());
        assert_eq!(Arc::strong_count(&held), 1);
        assert_eq!(sim.task_count(), 0);
        assert_eq!(
            sim.pending_timers(),
            0,
            "the aborted task's timer is disarmed"
        );
    }

    /// Runs share one executor; a nested run would deadlock it, so it is an error.
    #[test]
    fn a_run_inside_a_run_is_refused() {
        let sim = sim();
        let inner = sim
            .run(async { sim.run(async {}) })
            .expect("the outer run works");
        assert_eq!(inner, Err(SimError::AlreadyRunning));
        assert_eq!(
            sim.run(async { 7 }),
            Ok(7),
            "the flag is cleared after a run"
        );
    }

    /// webrtc holds its runtime inside every connection; dropping the `Sim` must still free
    /// the tasks, or every test would leak its peers.
    #[test]
    fn dropping_the_sim_drops_its_tasks() {
        let sim = sim();
        let held = Arc::new(());
        let inside = Arc::clone(&held);
        let rt = sim.runtime();
        let keep_runtime = Arc::clone(&rt);
        drop(rt.spawn(Box::pin(async move {
            let _runtime = keep_runtime;
            std::future::pending::<()>().await;
            drop(inside);
        })));
        sim.run(sim.sleep_for(SimDuration::from_millis(1)))
            .expect("runs");
        assert_eq!(Arc::strong_count(&held), 2);
        drop(sim);
        assert_eq!(Arc::strong_count(&held), 1);
        assert_eq!(rt.run(async {}), Err(SimError::ShutDown));
    }

    /// Intervals drive webrtc's periodic work; they must tick at 0, p, 2p… exactly.
    #[test]
    fn an_interval_ticks_immediately_then_every_period() {
        let sim = sim();
        let mut interval = sim.interval(Duration::from_millis(20));
        let ticks = sim
            .run(async {
                let mut ticks = Vec::new();
                for _ in 0..4 {
                    interval.tick().await;
                    ticks.push(sim.time().as_millis());
                }
                ticks
            })
            .expect("runs");
        assert_eq!(ticks, vec![0, 20, 40, 60]);
    }
}
