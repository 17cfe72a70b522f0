//! The event queue: timers and link wake-ups, fired in `(deadline, sequence)` order.
//!
//! Every future instant at which something may happen is an entry here: a task's timer
//! ([`Runtime::sleep`](webrtc::runtime::Runtime::sleep), intervals) or a link that has a packet to
//! move. Entries are ordered by deadline and, at equal deadlines, by a sequence number handed out
//! when they were armed, so two timers for the same instant always fire in the order they were
//! set, on every run. (A `HashMap` of timers, as webrtc's `MockRuntime` keeps, fires equal
//! deadlines in hash order: different on every run.)
//!
//! Cancelled timers and superseded link wake-ups are left in the heap and skipped when they
//! surface (lazy deletion); they never move the clock.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::task::{Poll, Waker};

use crate::time::SimTime;

/// Index of a link in the network.
pub(crate) type LinkId = usize;

/// What an entry wakes.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum EventKind {
    /// The timer whose id is the entry's sequence number.
    Timer,
    /// A link with something due.
    Link(LinkId),
}

/// One armed entry.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Event {
    pub(crate) at: SimTime,
    pub(crate) seq: u64,
    pub(crate) kind: EventKind,
}

/// A timer a future is waiting on.
#[derive(Debug)]
struct TimerSlot {
    waker: Option<Waker>,
    fired: bool,
}

/// The heap of entries and the state of live timers.
#[derive(Debug, Default)]
pub(crate) struct Events {
    heap: BinaryHeap<Reverse<Event>>,
    timers: HashMap<u64, TimerSlot>,
    next_seq: u64,
}

impl Events {
    fn push(&mut self, at: SimTime, kind: EventKind) -> u64 {
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Reverse(Event { at, seq, kind }));
        seq
    }

    /// Arms a timer for `deadline`; the id is for [`poll_timer`](Self::poll_timer) and
    /// [`cancel_timer`](Self::cancel_timer).
    pub(crate) fn add_timer(&mut self, deadline: SimTime) -> u64 {
        let id = self.push(deadline, EventKind::Timer);
        self.timers.insert(
            id,
            TimerSlot {
                waker: None,
                fired: false,
            },
        );
        id
    }

    /// Ready (and forgotten) once the timer's event has fired; otherwise keeps `waker` to wake
    /// when it does. An unknown id is ready: it has fired and been collected already.
    ///
    /// Not "ready once the clock has reached the deadline": the clock reaches it when the first
    /// event of that instant fires, and a task woken by that event (a datagram, say) would find
    /// its timer ready too. webrtc's peer-connection driver waits on both in one
    /// `futures::select!` (futures-util 0.3), which picks among ready branches with a
    /// thread-local generator seeded from a process-wide counter, so which one it handled first
    /// depended on what the process had run before (RFC 8867 §5.5 gave a different trace after
    /// another call). Readiness on firing keeps one source ready per wake-up: the timer's own
    /// event comes later in the same instant, in arming order.
    pub(crate) fn poll_timer(&mut self, id: u64, waker: &Waker) -> Poll<()> {
        let Some(slot) = self.timers.get_mut(&id) else {
            return Poll::Ready(());
        };
        if slot.fired {
            self.timers.remove(&id);
            return Poll::Ready(());
        }
        match &mut slot.waker {
            Some(w) if w.will_wake(waker) => {}
            w => *w = Some(waker.clone()),
        }
        Poll::Pending
    }

    /// Forgets a timer nobody waits for any more; its heap entry is skipped when it surfaces.
    pub(crate) fn cancel_timer(&mut self, id: u64) {
        self.timers.remove(&id);
    }

    /// Arms a wake-up of `link` at `at`.
    pub(crate) fn arm_link(&mut self, at: SimTime, link: LinkId) {
        self.push(at, EventKind::Link(link));
    }

    /// The earliest entry, live or not.
    pub(crate) fn peek(&self) -> Option<Event> {
        self.heap.peek().map(|Reverse(e)| *e)
    }

    /// Removes the earliest entry.
    pub(crate) fn pop(&mut self) -> Option<Event> {
        self.heap.pop().map(|Reverse(e)| e)
    }

    /// Whether the timer entry `event` still has someone waiting (it was not cancelled).
    pub(crate) fn timer_is_live(&self, event: &Event) -> bool {
        self.timers.get(&event.seq).is_some_and(|t| !t.fired)
    }

    /// Marks a timer fired and hands back its waker, to be woken once the lock is released.
    pub(crate) fn fire_timer(&mut self, event: &Event) -> Option<Waker> {
        let slot = self.timers.get_mut(&event.seq)?;
        slot.fired = true;
        slot.waker.take()
    }

    /// Timers still armed (not fired, not cancelled).
    pub(crate) fn pending_timers(&self) -> usize {
        self.timers.values().filter(|t| !t.fired).count()
    }

    /// Forgets every entry and timer (shutdown). Returns the wakers, to be dropped unlocked.
    pub(crate) fn clear(&mut self) -> Vec<Waker> {
        self.heap.clear();
        self.timers.drain().filter_map(|(_, t)| t.waker).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Timers with equal deadlines must surface in the order they were armed, on every run.
    #[test]
    fn equal_deadlines_surface_in_arming_order() {
        let mut events = Events::default();
        let t = SimTime::from_millis(5);
        let a = events.add_timer(t);
        events.arm_link(t, 3);
        let b = events.add_timer(SimTime::from_millis(1));
        let c = events.add_timer(t);
        let order: Vec<(u64, EventKind)> =
            std::iter::from_fn(|| events.pop().map(|e| (e.seq, e.kind))).collect();
        assert_eq!(
            order,
            vec![
                (b, EventKind::Timer),
                (a, EventKind::Timer),
                (1, EventKind::Link(3)),
                (c, EventKind::Timer),
            ]
        );
    }

    /// A cancelled timer must not count as live, so it never moves the clock.
    #[test]
    fn a_cancelled_timer_is_not_live() {
        let mut events = Events::default();
        let id = events.add_timer(SimTime::from_millis(5));
        let entry = events.peek().expect("one entry");
        assert!(events.timer_is_live(&entry));
        events.cancel_timer(id);
        assert!(!events.timer_is_live(&entry));
        assert_eq!(events.pending_timers(), 0);
    }

    /// A timer is ready once its own event has fired, and not merely because the clock reached
    /// its deadline through another event of that instant: a task woken by that other event
    /// must not find two sources ready at once (see `poll_timer`).
    #[test]
    fn a_timer_is_ready_when_its_event_fires_not_when_its_instant_comes() {
        let mut events = Events::default();
        let deadline = SimTime::from_millis(5);
        events.arm_link(deadline, 3);
        let id = events.add_timer(deadline);
        let waker = Waker::noop();
        let link = events.pop().expect("the link's entry first");
        assert_eq!((link.at, link.kind), (deadline, EventKind::Link(3)));
        assert_eq!(events.poll_timer(id, waker), Poll::Pending);
        let timer = events.pop().expect("then the timer's");
        assert!(events.timer_is_live(&timer));
        events.fire_timer(&timer);
        assert_eq!(events.poll_timer(id, waker), Poll::Ready(()));
        assert_eq!(events.pending_timers(), 0);
    }
}
