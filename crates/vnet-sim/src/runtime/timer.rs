//! Timers on the virtual clock: [`Sleep`] and the interval behind
//! [`Runtime::interval`](webrtc::runtime::Runtime::interval).

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Weak};
use std::task::{Context, Poll};

use webrtc::runtime::AsyncInterval;

use crate::runtime::state::Inner;
use crate::time::{SimDuration, SimTime};

/// A future that completes when the virtual clock reaches a deadline.
///
/// The timer is armed when the `Sleep` is created, so timers created in a given order fire in
/// that order at equal deadlines. Dropping it disarms it.
#[derive(Debug)]
#[must_use = "a Sleep does nothing unless awaited"]
pub struct Sleep {
    inner: Weak<Inner>,
    /// The timer's id; `None` once complete (or if the deadline had passed when created).
    id: Option<u64>,
}

impl Sleep {
    pub(crate) fn until(inner: &Arc<Inner>, deadline: SimTime) -> Self {
        let mut state = inner.lock();
        let id = (deadline > state.now).then(|| state.events.add_timer(deadline));
        Self {
            inner: Arc::downgrade(inner),
            id,
        }
    }

    pub(crate) fn after(inner: &Arc<Inner>, duration: SimDuration) -> Self {
        let now = inner.lock().now;
        Self::until(inner, now + duration)
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let Some(id) = self.id else {
            return Poll::Ready(());
        };
        let Some(inner) = self.inner.upgrade() else {
            // The simulation is gone: nothing will ever fire, and nothing will poll again.
            return Poll::Ready(());
        };
        let mut state = inner.lock();
        let ready = state.events.poll_timer(id, cx.waker());
        drop(state);
        if ready.is_ready() {
            self.id = None;
        }
        ready
    }
}

impl Drop for Sleep {
    fn drop(&mut self) {
        if let (Some(id), Some(inner)) = (self.id, self.inner.upgrade()) {
            inner.lock().events.cancel_timer(id);
        }
    }
}

/// A repeating timer: the first tick is immediate, then one every `period` after the previous
/// tick. A tick awaited after its deadline fires at once, and the next is one period after that:
/// missed ticks are skipped, not burst (tokio's `MissedTickBehavior::Delay`).
#[derive(Debug)]
pub(crate) struct SimInterval {
    inner: Weak<Inner>,
    period: SimDuration,
    /// Deadline of the next tick; `None` before the first.
    next: Option<SimTime>,
}

impl SimInterval {
    pub(crate) fn new(inner: &Arc<Inner>, period: SimDuration) -> Self {
        Self {
            inner: Arc::downgrade(inner),
            period,
            next: None,
        }
    }
}

impl AsyncInterval for SimInterval {
    fn tick(&mut self) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        let Some(inner) = self.inner.upgrade() else {
            return Box::pin(std::future::ready(()));
        };
        let now = inner.lock().now;
        let sleep = Sleep::until(&inner, self.next.unwrap_or(now));
        let weak = Arc::downgrade(&inner);
        let period = self.period;
        let next = &mut self.next;
        Box::pin(async move {
            sleep.await;
            // The tick's own time: its deadline, or later if it was awaited late.
            let fired = weak
                .upgrade()
                .map_or(SimTime::MAX, |inner| inner.lock().now);
            *next = Some(fired + period);
        })
    }
}
