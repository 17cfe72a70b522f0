//! [`TargetSource`]: where the video source reads the rate to encode at.
//!
//! Estimators live inside the interceptor chain, out of the application's reach once the peer
//! connection is built. Ours publish to a [`BweHandle`]; rtc's `Gcc` publishes nothing, so
//! [`TappedEstimator`] wraps any `BandwidthEstimator` and copies its target out after every
//! update into a [`EstimatorTap`]. Both are a `TargetSource`, as is any closure through
//! [`FnTarget`], so the source and the recorder never need to know which estimator runs.
//!
//! A trait rather than a closure alone, because the recorder also wants the REMB the sender
//! received, which only some sources have.

use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use bwe_core::{Bitrate, TimeDelta};
use bwe_interceptor::BweHandle;
use rtc::interceptor::{BandwidthEstimator, EstimatorStats, PacketReport};

/// The sender's current target, and the REMB it last received if it reads REMB.
pub trait TargetSource: Send + Sync {
    /// The rate to encode at, once known.
    fn target(&self) -> Option<Bitrate>;

    /// The latest REMB received from the remote, if this source reads REMB.
    fn remb(&self) -> Option<Bitrate> {
        None
    }

    /// How long the oldest packet in the sender's pacer queue has waited, if the source knows
    /// (our pacer publishes it; rtc's `Gcc` chain does not).
    fn pacer_queue_delay(&self) -> Option<TimeDelta> {
        None
    }
}

impl TargetSource for BweHandle {
    fn target(&self) -> Option<Bitrate> {
        BweHandle::target(self)
    }

    fn remb(&self) -> Option<Bitrate> {
        self.snapshot().remb_sender.and_then(|s| s.remb_cap)
    }

    fn pacer_queue_delay(&self) -> Option<TimeDelta> {
        self.snapshot().pacer.and_then(|p| p.queue_delay)
    }
}

/// A closure as a [`TargetSource`].
pub struct FnTarget<F>(pub F);

impl<F: Fn() -> Option<Bitrate> + Send + Sync> TargetSource for FnTarget<F> {
    fn target(&self) -> Option<Bitrate> {
        (self.0)()
    }
}

impl<T: TargetSource + ?Sized> TargetSource for Arc<T> {
    fn target(&self) -> Option<Bitrate> {
        (**self).target()
    }

    fn remb(&self) -> Option<Bitrate> {
        (**self).remb()
    }

    fn pacer_queue_delay(&self) -> Option<TimeDelta> {
        (**self).pacer_queue_delay()
    }
}

/// What a [`TappedEstimator`] last saw: a cloneable reader.
#[derive(Debug, Clone, Default)]
pub struct EstimatorTap {
    latest: Arc<Mutex<Option<(Bitrate, EstimatorStats)>>>,
}

impl EstimatorTap {
    /// The wrapped estimator's statistics after its latest update.
    pub fn stats(&self) -> Option<EstimatorStats> {
        self.lock().map(|(_, s)| s)
    }

    fn lock(&self) -> Option<(Bitrate, EstimatorStats)> {
        *self.latest.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn publish(&self, estimator: &dyn BandwidthEstimator) {
        let target = Bitrate::saturating_from_bps_f64(estimator.target_bitrate());
        *self.latest.lock().unwrap_or_else(PoisonError::into_inner) =
            Some((target, estimator.stats()));
    }
}

impl TargetSource for EstimatorTap {
    fn target(&self) -> Option<Bitrate> {
        self.lock().map(|(t, _)| t)
    }
}

/// Any `BandwidthEstimator` (rtc's `Gcc`, say), publishing its target to an [`EstimatorTap`]
/// after every report batch and timeout.
pub struct TappedEstimator<E> {
    inner: E,
    tap: EstimatorTap,
}

impl<E: BandwidthEstimator> TappedEstimator<E> {
    /// Wraps `inner`; its start target is published at once.
    pub fn new(inner: E) -> (Self, EstimatorTap) {
        let tap = EstimatorTap::default();
        tap.publish(&inner);
        (
            Self {
                inner,
                tap: tap.clone(),
            },
            tap,
        )
    }
}

impl<E: BandwidthEstimator> BandwidthEstimator for TappedEstimator<E> {
    fn on_reports(&mut self, now: Instant, reports: &[PacketReport]) {
        self.inner.on_reports(now, reports);
        self.tap.publish(&self.inner);
    }

    fn target_bitrate(&self) -> f64 {
        self.inner.target_bitrate()
    }

    fn handle_timeout(&mut self, now: Instant) {
        self.inner.handle_timeout(now);
        self.tap.publish(&self.inner);
    }

    fn poll_timeout(&self) -> Option<Instant> {
        self.inner.poll_timeout()
    }

    fn stats(&self) -> EstimatorStats {
        self.inner.stats()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc::interceptor::Gcc;

    /// The tap must show the wrapped estimator's start rate before any feedback, so the source
    /// has a rate to begin with.
    #[test]
    fn a_tapped_gcc_publishes_its_start_rate_at_once() {
        let (_gcc, tap) = TappedEstimator::new(Gcc::new(300_000.0, 30_000.0, 30_000_000.0));
        assert_eq!(tap.target(), Some(Bitrate::from_kbps(300)));
        assert_eq!(tap.remb(), None);
    }

    /// A closure is a target source.
    #[test]
    fn a_closure_is_a_target_source() {
        let source = FnTarget(|| Some(Bitrate::from_kbps(42)));
        assert_eq!(source.target(), Some(Bitrate::from_kbps(42)));
    }
}
