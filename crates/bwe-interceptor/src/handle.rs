//! The application's window onto estimators that live inside an interceptor chain.
//!
//! Once a registry is built, every interceptor is boxed inside the chain and the chain inside the
//! peer connection: nothing the application holds can reach them. So each of our components is
//! given a [`BweHandle`] (a cloneable `Arc`) and publishes to it; the application keeps another
//! clone and reads.
//!
//! Why this shape and not a channel or a `Stream`: the chain is sans-I/O and runs on whatever
//! drives the peer connection, so the handle must not pick an async runtime or block. It offers
//! two ways to learn about changes, both usable from any executor or thread:
//!
//! - **polling**: [`BweHandle::version`] is an atomic counter bumped on every change of a decision
//!   (target, delay- or loss-based limit, detector state, REMB sent or received);
//!   [`BweHandle::changed_since`] returns a snapshot only when the counter moved;
//! - **a callback**: [`BweHandle::set_on_change`] registers a function called synchronously on the
//!   thread driving the chain, right after a change is published, with the new snapshot. Keep it
//!   short (wake a task, send on a channel, store a number); the handle's lock is not held while
//!   it runs, so it may read the handle, but it must not drive the same chain re-entrantly.
//!
//! Counters (packets, malformed inputs) are refreshed in the snapshot when a component publishes,
//! without bumping the version: they are figures to read, not decisions to react to. Malformed
//! input is published as soon as it is seen.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use bwe_core::BandwidthUsage;
use bwe_core::Bitrate;

use crate::pacer::PacerStats;
use crate::remb::receiver_stats::RembReceiverStats;
use crate::remb::sender_stats::RembSenderStats;
use crate::send_side::BweSendSideStats;

/// Everything our components last published, at one version.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub struct BweSnapshot {
    /// Bumped on every published change of a decision; 0 before the first.
    pub version: u64,
    /// The rate the application should encode at: the send-side controller's encoder target
    /// (its target after the congestion-window pushback) or, on a REMB-only sender, the
    /// loss-based target under REMB; capped by the latest REMB received.
    pub target: Option<Bitrate>,
    /// The send-side estimator ([`BweSendSide`](crate::BweSendSide)), if one publishes here.
    pub send_side: Option<BweSendSideStats>,
    /// The REMB generator ([`RembInterceptor`](crate::RembInterceptor)), if one publishes here.
    pub remb_receiver: Option<RembReceiverStats>,
    /// The REMB reader ([`RembSenderInterceptor`](crate::RembSenderInterceptor)), if one
    /// publishes here.
    pub remb_sender: Option<RembSenderStats>,
    /// The send-side controller's pacer (through [`ProbingPacer`](crate::ProbingPacer)), if
    /// one publishes here: figures to read, refreshed at most every
    /// [`PUBLISH_INTERVAL`](crate::PUBLISH_INTERVAL) and on every drop.
    pub pacer: Option<PacerStats>,
}

impl BweSnapshot {
    /// The target implied by the published parts: the send side's encoder target (the
    /// controller already applied its pushback), or the REMB sender's loss-based target, capped
    /// by the latest REMB.
    ///
    /// The send side's part is matched first and read behind `std::hint::black_box`. Written as
    /// `send_side.and_then(|s| s.encoder_target.or(s.core.target))`, rustc 1.95.0 at
    /// `opt-level = 1` (this workspace's test profile) hoisted the choice between the two fields
    /// above the `None` check: it loaded from an address offset by `encoder_target`'s tag, which
    /// for a `None` part is uninitialised memory, and the REMB sender's unit tests crashed with
    /// SIGSEGV whenever an earlier test in the process had left other bytes there (`cargo test
    /// -p bwe-interceptor --lib` runs `remb::receiver` before `remb::sender`). Release builds
    /// were not affected. Hiding the reference from the optimiser keeps every load behind the
    /// check; the crate's unit tests running in one process are the test that would fail again.
    fn effective_target(&self) -> Option<Bitrate> {
        let cap = self.remb_sender.as_ref().and_then(|s| s.remb_cap);
        let send = match std::hint::black_box(self.send_side.as_ref()) {
            Some(s) => match s.encoder_target {
                Some(target) => Some(target),
                None => s.core.target,
            },
            None => None,
        };
        let base = send.or_else(|| self.remb_sender.as_ref().and_then(|s| s.loss_target));
        match (base, cap) {
            (Some(base), Some(cap)) => Some(base.min(cap)),
            (base, cap) => base.or(cap),
        }
    }

    /// The values whose change is worth waking someone for.
    ///
    fn decisions(&self) -> Decisions {
        let send = self.send_side.as_ref();
        Decisions {
            target: self.target,
            send_target: send.and_then(|s| s.core.target),
            encoder_target: send.and_then(|s| s.encoder_target),
            delay_based: send.and_then(|s| s.core.delay_based),
            loss_based: send.and_then(|s| s.core.loss_based),
            usage: send.and_then(|s| s.core.usage),
            remb_sent: self.remb_receiver.as_ref().and_then(|s| s.last_remb),
            remb_cap: self.remb_sender.as_ref().and_then(|s| s.remb_cap),
            remb_loss_target: self.remb_sender.as_ref().and_then(|s| s.loss_target),
        }
    }
}

#[derive(PartialEq)]
struct Decisions {
    target: Option<Bitrate>,
    send_target: Option<Bitrate>,
    encoder_target: Option<Bitrate>,
    delay_based: Option<Bitrate>,
    loss_based: Option<Bitrate>,
    usage: Option<BandwidthUsage>,
    remb_sent: Option<Bitrate>,
    remb_cap: Option<Bitrate>,
    remb_loss_target: Option<Bitrate>,
}

type OnChange = Arc<dyn Fn(&BweSnapshot) + Send + Sync>;

struct Shared {
    version: AtomicU64,
    state: Mutex<BweSnapshot>,
    on_change: Mutex<Option<OnChange>>,
}

/// A cloneable, runtime-agnostic view of the estimators in a chain. See the module docs.
#[derive(Clone)]
pub struct BweHandle {
    inner: Arc<Shared>,
}

impl Default for BweHandle {
    fn default() -> Self {
        Self::new()
    }
}

impl std::fmt::Debug for BweHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("BweHandle")
            .field("snapshot", &self.snapshot())
            .finish()
    }
}

/// A poisoned lock only means a callback panicked elsewhere; the snapshot is plain data and
/// stays valid, so it is used as is rather than spreading the panic into the media path.
fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl BweHandle {
    /// An empty handle; give clones to the components and keep one.
    pub fn new() -> Self {
        Self {
            inner: Arc::new(Shared {
                version: AtomicU64::new(0),
                state: Mutex::new(BweSnapshot::default()),
                on_change: Mutex::new(None),
            }),
        }
    }

    /// The latest published state.
    pub fn snapshot(&self) -> BweSnapshot {
        *lock(&self.inner.state)
    }

    /// The change counter, without taking the lock.
    pub fn version(&self) -> u64 {
        self.inner.version.load(Ordering::Acquire)
    }

    /// The rate to encode at, once anything has published one.
    pub fn target(&self) -> Option<Bitrate> {
        lock(&self.inner.state).target
    }

    /// A snapshot if a decision changed since `seen` (a version read earlier), else `None`.
    pub fn changed_since(&self, seen: u64) -> Option<BweSnapshot> {
        if self.version() == seen {
            return None;
        }
        let snapshot = self.snapshot();
        (snapshot.version != seen).then_some(snapshot)
    }

    /// Calls `f` with the new snapshot after every change of a decision, on the thread that
    /// drives the chain. Replaces any earlier callback.
    pub fn set_on_change(&self, f: impl Fn(&BweSnapshot) + Send + Sync + 'static) {
        *lock(&self.inner.on_change) = Some(Arc::new(f));
    }

    /// Removes the callback.
    pub fn clear_on_change(&self) {
        *lock(&self.inner.on_change) = None;
    }

    /// Applies `f` to the shared state, recomputes the target and, if a decision changed, bumps
    /// the version and calls the callback (outside the lock). Returns whether it changed.
    pub(crate) fn update(&self, f: impl FnOnce(&mut BweSnapshot)) -> bool {
        let (snapshot, callback) = {
            let mut state = lock(&self.inner.state);
            let before = state.decisions();
            f(&mut state);
            state.target = state.effective_target();
            if state.decisions() == before {
                return false;
            }
            state.version += 1;
            self.inner.version.store(state.version, Ordering::Release);
            (*state, lock(&self.inner.on_change).clone())
        };
        if let Some(callback) = callback {
            callback(&snapshot);
        }
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicUsize;

    fn cap(kbps: u64) -> RembSenderStats {
        RembSenderStats {
            remb_cap: Some(Bitrate::from_kbps(kbps)),
            ..RembSenderStats::default()
        }
    }

    /// A poller must see nothing new until something changes, then exactly one new version.
    #[test]
    fn changed_since_reports_only_new_versions() {
        let handle = BweHandle::new();
        assert_eq!(handle.changed_since(0), None);
        assert!(handle.update(|s| s.remb_sender = Some(cap(500))));
        let seen = handle.changed_since(0).expect("a change was published");
        assert_eq!(seen.version, 1);
        assert_eq!(handle.changed_since(seen.version), None);
    }

    /// Re-publishing the same decision is not news: no version bump, no callback.
    #[test]
    fn unchanged_decisions_do_not_notify() {
        let handle = BweHandle::new();
        let calls = Arc::new(AtomicUsize::new(0));
        let c = calls.clone();
        handle.set_on_change(move |_| {
            c.fetch_add(1, Ordering::SeqCst);
        });
        handle.update(|s| s.remb_sender = Some(cap(500)));
        handle.update(|s| {
            let mut stats = cap(500);
            stats.rembs_received = 7;
            s.remb_sender = Some(stats);
        });
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        assert_eq!(handle.version(), 1);
        assert_eq!(
            handle.snapshot().remb_sender.map(|s| s.rembs_received),
            Some(7)
        );
    }

    /// The REMB cap limits the send-side target, whichever is lower wins.
    #[test]
    fn target_is_the_send_side_target_capped_by_remb() {
        let handle = BweHandle::new();
        let mut core = bwe_core::send_side::SendSideStats::default();
        core.target = Some(Bitrate::from_kbps(800));
        handle.update(|s| {
            s.send_side = Some(BweSendSideStats {
                core,
                ..Default::default()
            })
        });
        assert_eq!(handle.target(), Some(Bitrate::from_kbps(800)));
        handle.update(|s| s.remb_sender = Some(cap(600)));
        assert_eq!(handle.target(), Some(Bitrate::from_kbps(600)));
        handle.update(|s| s.remb_sender = Some(cap(900)));
        assert_eq!(handle.target(), Some(Bitrate::from_kbps(800)));
    }

    /// The callback may read the handle: the lock is released before it runs.
    #[test]
    fn callback_can_read_the_handle_without_deadlock() {
        let handle = BweHandle::new();
        let reader = handle.clone();
        let seen = Arc::new(AtomicU64::new(0));
        let s = seen.clone();
        handle.set_on_change(move |snap| {
            let again = reader.snapshot();
            assert_eq!(again.version, snap.version);
            s.store(snap.version, Ordering::SeqCst);
        });
        handle.update(|s| s.remb_sender = Some(cap(300)));
        assert_eq!(seen.load(Ordering::SeqCst), 1);
    }
}
