//! A single-threaded executor with a FIFO run queue.
//!
//! Tasks are polled one at a time, in the order they were woken, on the thread that runs the
//! simulation. That order is a pure function of the program: no thread scheduling, no work
//! stealing, so the same inputs wake the same tasks in the same order on every run. A task woken
//! several times before it runs is queued once.
//!
//! The future being driven by a run (`block_on`'s) is not stored here: it may borrow and need not
//! be `Send`. It takes part in the queue under the reserved id [`MAIN`], so it is polled in its
//! turn like any task.

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};
use std::task::{Wake, Waker};

use crate::runtime::state::Inner;

/// A spawned future.
pub(crate) type BoxFuture = Pin<Box<dyn Future<Output = ()> + Send>>;

/// A task's identity; [`MAIN`] is the future a run drives.
pub(crate) type TaskId = u64;

/// The id of the future a run drives.
pub(crate) const MAIN: TaskId = 0;

/// Flags a task shares with its join handle.
#[derive(Debug, Default)]
pub(crate) struct TaskFlags {
    finished: AtomicBool,
    abort: AtomicBool,
}

struct Task {
    /// `None` while the task is being polled.
    future: Option<BoxFuture>,
    waker: Waker,
    /// In the run queue already.
    scheduled: bool,
    flags: Arc<TaskFlags>,
}

/// What the run loop should do next.
pub(crate) enum Runnable {
    /// Poll the run's own future.
    Main,
    /// Poll a task, then hand its future back with [`Executor::finish`].
    Task {
        id: TaskId,
        future: BoxFuture,
        waker: Waker,
    },
    /// Drop an aborted task's future (outside the lock).
    Drop(BoxFuture),
}

/// Tasks and the run queue.
#[derive(Default)]
pub(crate) struct Executor {
    tasks: HashMap<TaskId, Task>,
    queue: VecDeque<TaskId>,
    main_scheduled: bool,
    /// Last id handed out; ids are never reused, so a stale waker cannot wake a newer task.
    last_id: TaskId,
}

impl fmt::Debug for Executor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Executor")
            .field("tasks", &self.tasks.len())
            .field("queued", &self.queue.len())
            .finish()
    }
}

impl Executor {
    /// Adds a task and queues it.
    pub(crate) fn spawn(&mut self, future: BoxFuture, inner: Weak<Inner>) -> SimJoinHandle {
        self.last_id += 1;
        let id = self.last_id;
        let flags = Arc::new(TaskFlags::default());
        let waker = Waker::from(Arc::new(TaskWaker {
            id,
            inner: inner.clone(),
        }));
        self.tasks.insert(
            id,
            Task {
                future: Some(future),
                waker,
                scheduled: true,
                flags: Arc::clone(&flags),
            },
        );
        self.queue.push_back(id);
        SimJoinHandle { id, flags, inner }
    }

    /// Queues task `id` unless it is queued already or gone.
    pub(crate) fn wake(&mut self, id: TaskId) {
        if id == MAIN {
            if !self.main_scheduled {
                self.main_scheduled = true;
                self.queue.push_back(MAIN);
            }
        } else if let Some(task) = self.tasks.get_mut(&id) {
            if !task.scheduled {
                task.scheduled = true;
                self.queue.push_back(id);
            }
        }
    }

    /// The next thing to run, in wake order; `None` when nothing is runnable.
    pub(crate) fn next(&mut self) -> Option<Runnable> {
        while let Some(id) = self.queue.pop_front() {
            if id == MAIN {
                self.main_scheduled = false;
                return Some(Runnable::Main);
            }
            let Some(task) = self.tasks.get_mut(&id) else {
                continue; // finished since it was queued
            };
            task.scheduled = false;
            if task.flags.abort.load(Ordering::Acquire) {
                let task = self.tasks.remove(&id)?;
                task.flags.finished.store(true, Ordering::Release);
                if let Some(future) = task.future {
                    return Some(Runnable::Drop(future));
                }
                continue;
            }
            let Some(future) = task.future.take() else {
                continue; // being polled (cannot happen on one thread; harmless if it does)
            };
            return Some(Runnable::Task {
                id,
                future,
                waker: task.waker.clone(),
            });
        }
        None
    }

    /// Takes back a task's future after a poll. Returns the future when the task is done, for
    /// the caller to drop outside the lock.
    pub(crate) fn finish(
        &mut self,
        id: TaskId,
        future: BoxFuture,
        done: bool,
    ) -> Option<BoxFuture> {
        if done {
            if let Some(task) = self.tasks.remove(&id) {
                task.flags.finished.store(true, Ordering::Release);
            }
            return Some(future);
        }
        match self.tasks.get_mut(&id) {
            Some(task) => {
                task.future = Some(future);
                None
            }
            None => Some(future),
        }
    }

    /// Whether anything is queued.
    #[cfg(test)]
    pub(crate) fn has_runnable(&self) -> bool {
        !self.queue.is_empty()
    }

    /// Tasks alive (spawned, not finished).
    pub(crate) fn task_count(&self) -> usize {
        self.tasks.len()
    }

    /// Removes every task (shutdown), returning the futures to drop outside the lock.
    pub(crate) fn clear(&mut self) -> Vec<BoxFuture> {
        self.queue.clear();
        self.main_scheduled = false;
        self.tasks
            .drain()
            .filter_map(|(_, task)| {
                task.flags.finished.store(true, Ordering::Release);
                task.future
            })
            .collect()
    }

    /// Forgets that the run's future is queued (a run ended).
    pub(crate) fn forget_main(&mut self) {
        self.main_scheduled = false;
        self.queue.retain(|&id| id != MAIN);
    }
}

/// Wakes task `id` by queueing it on its simulation.
pub(crate) struct TaskWaker {
    pub(crate) id: TaskId,
    pub(crate) inner: Weak<Inner>,
}

impl Wake for TaskWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        if let Some(inner) = self.inner.upgrade() {
            inner.lock().executor.wake(self.id);
        }
    }
}

/// The handle [`Runtime::spawn`](webrtc::runtime::Runtime::spawn) returns.
///
/// Dropping it detaches the task. Aborting drops the task's future the next time the executor
/// reaches it, which is at an await point by construction: a task is only ever between polls
/// when anything else runs.
#[derive(Debug)]
pub struct SimJoinHandle {
    id: TaskId,
    flags: Arc<TaskFlags>,
    inner: Weak<Inner>,
}

impl SimJoinHandle {
    /// A handle to a task that never ran (spawned on a simulation that was shut down).
    pub(crate) fn finished() -> Self {
        let flags = TaskFlags::default();
        flags.finished.store(true, Ordering::Release);
        Self {
            id: MAIN,
            flags: Arc::new(flags),
            inner: Weak::new(),
        }
    }
}

impl webrtc::runtime::JoinHandle for SimJoinHandle {
    fn detach(&self) {}

    fn abort(&self) {
        if self.flags.finished.load(Ordering::Acquire) {
            return;
        }
        self.flags.abort.store(true, Ordering::Release);
        if let Some(inner) = self.inner.upgrade() {
            inner.lock().executor.wake(self.id);
        }
    }

    fn is_finished(&self) -> bool {
        self.flags.finished.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn idle() -> BoxFuture {
        Box::pin(std::future::pending())
    }

    fn ids(executor: &mut Executor) -> Vec<TaskId> {
        let mut ids = Vec::new();
        while let Some(r) = executor.next() {
            ids.push(match r {
                Runnable::Main => MAIN,
                Runnable::Task { id, future, .. } => {
                    executor.finish(id, future, false);
                    id
                }
                Runnable::Drop(_) => u64::MAX,
            });
        }
        ids
    }

    /// Tasks must run in the order they were woken, each once however often it was woken.
    #[test]
    fn tasks_run_in_wake_order_once_per_wake_batch() {
        let mut ex = Executor::default();
        let a = ex.spawn(idle(), Weak::new()).id;
        let b = ex.spawn(idle(), Weak::new()).id;
        assert_eq!(ids(&mut ex), vec![a, b]);
        ex.wake(b);
        ex.wake(MAIN);
        ex.wake(a);
        ex.wake(b);
        ex.wake(MAIN);
        assert_eq!(ids(&mut ex), vec![b, MAIN, a]);
        assert!(!ex.has_runnable());
    }

    /// Ids are never reused, so a waker kept by a finished task cannot wake a newer one.
    #[test]
    fn a_finished_task_ignores_wakes_and_its_id_is_not_reused() {
        let mut ex = Executor::default();
        let a = ex.spawn(idle(), Weak::new()).id;
        let Some(Runnable::Task { id, future, .. }) = ex.next() else {
            panic!("the spawned task is runnable");
        };
        assert!(ex.finish(id, future, true).is_some());
        ex.wake(a);
        assert!(ex.next().is_none());
        let b = ex.spawn(idle(), Weak::new()).id;
        assert_ne!(a, b);
        assert_eq!(ex.task_count(), 1);
    }
}
