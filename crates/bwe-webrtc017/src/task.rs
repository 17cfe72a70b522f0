//! A background task an interceptor owns: 0.17 interceptors do timed work in tokio tasks,
//! which must end with the interceptor (on `close`, or when the chain is dropped without it).

use std::sync::{Mutex, MutexGuard, PoisonError};

use std::time::Instant;

use tokio::sync::Notify;
use tokio::task::JoinHandle;

/// Returns when `wake` is rung or `deadline` (tokio's clock) passes, whichever comes first;
/// without a deadline, only when rung.
pub(crate) async fn wait(wake: &Notify, deadline: Option<Instant>) {
    match deadline {
        Some(at) => {
            tokio::select! {
                () = wake.notified() => {}
                () = tokio::time::sleep_until(tokio::time::Instant::from_std(at)) => {}
            }
        }
        None => wake.notified().await,
    }
}

/// At most one task; aborted when replaced, on [`abort`](Self::abort) and on drop.
#[derive(Debug, Default)]
pub(crate) struct TaskSlot(Mutex<Option<JoinHandle<()>>>);

impl TaskSlot {
    fn lock(&self) -> MutexGuard<'_, Option<JoinHandle<()>>> {
        self.0.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Runs `task` here, aborting the one before.
    pub(crate) fn replace(&self, task: JoinHandle<()>) {
        if let Some(previous) = self.lock().replace(task) {
            previous.abort();
        }
    }

    /// Starts a task with `start` unless one is here already.
    pub(crate) fn start_once(&self, start: impl FnOnce() -> JoinHandle<()>) {
        let mut slot = self.lock();
        if slot.is_none() {
            *slot = Some(start());
        }
    }

    /// Ends the task, if any.
    pub(crate) fn abort(&self) {
        if let Some(task) = self.lock().take() {
            task.abort();
        }
    }
}

impl Drop for TaskSlot {
    fn drop(&mut self) {
        if let Some(task) = self
            .0
            .get_mut()
            .unwrap_or_else(PoisonError::into_inner)
            .take()
        {
            task.abort();
        }
    }
}
