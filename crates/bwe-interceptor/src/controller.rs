//! The send side's one owner inside a chain: a [`bwe_core::controller::SendSideController`]
//! shared by the two adapters rtc's chain needs.
//!
//! rtc 0.21 splits the send side across two chain positions: the departure record and the
//! feedback join live in `CongestionControlInterceptor` at the wire end (which hands
//! [`BweSendSide`](crate::BweSendSide) ready-made reports through its `BandwidthEstimator`
//! seam), while packets can only be held and reordered application-ward of the TWCC sender,
//! which numbers them in the order they leave ([`ProbingPacer`](crate::ProbingPacer)). Neither
//! position sees everything. So both adapters hold a `SharedController`: one controller, one
//! epoch, one handle, behind one lock. The adapters decide nothing: `BweSendSide` turns reports
//! into results and calls the controller; `ProbingPacer` renumbers, builds padding, translates
//! NACKs and puts what the controller releases on the wire.
//!
//! Why a lock and not messages: every decision then happens in one place, in one order, in the
//! call that caused it (feedback moves the target, the window and the pushback before the call
//! returns), instead of in whichever adapter next reads a message. Each adapter takes the lock
//! once per batch (a feedback message, a timeout that releases packets, a packet written), and
//! both run on the thread that drives the chain, so it is never contended.

use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bwe_core::controller::{ControllerConfig, SendSideController};
use bwe_core::pacer::PacerStats;
use bwe_core::{FeedbackCoverage, Timestamp};
use rtc::interceptor::TaggedPacket;

use crate::epoch::Epoch;
use crate::handle::BweHandle;
use crate::send_side::BweSendSideStats;

/// How often the pacer's figures are published to the handle at most, besides every change of
/// a decision.
pub const PUBLISH_INTERVAL: Duration = Duration::from_millis(100);

/// What both adapters share.
pub(crate) struct Core {
    pub(crate) controller: SendSideController<TaggedPacket>,
    pub(crate) epoch: Epoch,
    pub(crate) handle: BweHandle,
    /// The estimator adapter's counters and the estimator's figures, as last published.
    pub(crate) stats: BweSendSideStats,
    pub(crate) pacer_stats: PacerStats,
    /// Which sequence numbers feedback has reported on (filled by a
    /// [`FeedbackTap`](crate::FeedbackTap)); tells a lost packet from one whose feedback was
    /// lost.
    pub(crate) coverage: FeedbackCoverage,
    last_pacer_publish: Option<Instant>,
    /// Whether a [`ProbingPacer`](crate::ProbingPacer) drives the timeouts (else
    /// [`BweSendSide`](crate::BweSendSide) does, and the controller's pacer is unused).
    pub(crate) paced: bool,
}

/// A cloneable reference to one controller; see the module docs.
#[derive(Clone)]
pub(crate) struct SharedController {
    inner: Arc<Mutex<Core>>,
}

impl std::fmt::Debug for SharedController {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedController").finish_non_exhaustive()
    }
}

/// A poisoned lock only means a panic elsewhere; the state is plain data and stays usable.
fn lock(m: &Mutex<Core>) -> MutexGuard<'_, Core> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl SharedController {
    pub(crate) fn new(config: ControllerConfig, paced: bool) -> Self {
        let mut config = config;
        if !paced {
            // Nothing would send the clusters.
            config.pacer.probing = false;
        }
        let controller = SendSideController::new(config);
        let stats = BweSendSideStats {
            core: controller.estimator_stats(),
            encoder_target: Some(controller.output().encoder_target),
            ..BweSendSideStats::default()
        };
        Self {
            inner: Arc::new(Mutex::new(Core {
                controller,
                epoch: Epoch::new(),
                handle: BweHandle::new(),
                stats,
                pacer_stats: PacerStats::default(),
                coverage: FeedbackCoverage::new(),
                last_pacer_publish: None,
                paced,
            })),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, Core> {
        lock(&self.inner)
    }
}

impl Core {
    /// Publishes the estimator's figures and the encoder target.
    pub(crate) fn publish_estimator(&mut self) {
        self.stats.core = self.controller.estimator_stats();
        self.stats.encoder_target = Some(self.controller.output().encoder_target);
        let stats = self.stats;
        self.handle.update(|s| s.send_side = Some(stats));
    }

    /// After timer work: publishes the estimator's figures if the encoder target moved, and
    /// the pacer's when `force` or when the last publish is older than [`PUBLISH_INTERVAL`].
    pub(crate) fn publish_changes(&mut self, now: Instant, force: bool) {
        let encoder_target = self.controller.output().encoder_target;
        if self.stats.encoder_target != Some(encoder_target) {
            self.publish_estimator();
        }
        self.publish_pacer(now, force);
    }

    /// Publishes the pacer's figures when `force` or when due.
    pub(crate) fn publish_pacer(&mut self, now: Instant, force: bool) {
        let due = self
            .last_pacer_publish
            .is_none_or(|t| now.saturating_duration_since(t) >= PUBLISH_INTERVAL);
        if !self.paced || !(due || force) {
            return;
        }
        self.last_pacer_publish = Some(now);
        let now_ts: Timestamp = self.epoch.timestamp(now);
        self.pacer_stats = self.controller.pacer_stats(now_ts);
        let p = &self.pacer_stats;
        tracing::debug!(
            target: "bwe::pacer",
            queued_packets = p.queued_packets,
            queued_bytes = p.queued_bytes.bytes(),
            queue_delay_ms = p.queue_delay.map(|d| d.as_millis()),
            in_flight = p.in_flight.bytes(),
            window = p.congestion_window.map(|w| w.bytes()),
            pushback = ?p.pushback_target,
            stale = p.stale_packets,
            "pacer state"
        );
        let stats = *p;
        self.handle.update(|s| s.pacer = Some(stats));
    }
}

/// A read-only view of a chain's send-side controller, for diagnostics and tests: which
/// packets were probes, the pacer's figures, the controller's output. It reads under the same
/// lock the adapters take and changes nothing. Get one from
/// [`ProbingPacer::view`](crate::ProbingPacer::view) before the pacer moves into a chain.
#[derive(Clone, Debug)]
pub struct SendSideView {
    shared: SharedController,
}

impl SendSideView {
    pub(crate) fn new(shared: SharedController) -> Self {
        Self { shared }
    }

    /// The cluster the packet `(ssrc, wire sequence)` released at `departure` belonged to.
    pub fn probe_of(
        &self,
        ssrc: u32,
        sequence: u16,
        departure: Instant,
    ) -> Option<bwe_core::ProbeInfo> {
        let core = self.shared.lock();
        let departure = { core.epoch }.timestamp(departure);
        core.controller.probe_of(ssrc, sequence, departure)
    }

    /// The pacer's figures as of `now`.
    pub fn pacer_stats(&self, now: Instant) -> PacerStats {
        let mut core = self.shared.lock();
        let now = { core.epoch }.timestamp(now);
        core.controller.pacer_stats(now)
    }

    /// What the controller decided last.
    pub fn output(&self) -> bwe_core::controller::ControllerOutput {
        self.shared.lock().controller.output()
    }
}
