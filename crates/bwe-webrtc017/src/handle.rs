//! A read-only view of the REMB generator for the application.
//!
//! The builder makes the handle before any PeerConnection exists; each interceptor it builds
//! attaches its generator, and the handle reads the most recently built one. Reading locks the
//! generator for the length of a copy, so the figures are never stale (the alternative, a copy
//! published on every packet, would cost a second lock per packet for a value few read).

use std::sync::{Arc, Mutex, PoisonError};

use bwe_core::Bitrate;

use crate::generator::RembGenerator;
use crate::stats::RembStats;

/// The application's view of a REMB generator: its estimate and figures.
#[derive(Debug, Clone, Default)]
pub struct RembHandle {
    current: Arc<Mutex<Option<Arc<Mutex<RembGenerator>>>>>,
}

impl RembHandle {
    /// A handle with nothing attached yet.
    pub fn new() -> Self {
        Self::default()
    }

    pub(crate) fn attach(&self, generator: Arc<Mutex<RembGenerator>>) {
        *self.current.lock().unwrap_or_else(PoisonError::into_inner) = Some(generator);
    }

    fn read<T>(&self, f: impl FnOnce(&RembGenerator) -> T) -> Option<T> {
        let current = self
            .current
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()?;
        let generator = current.lock().unwrap_or_else(PoisonError::into_inner);
        Some(f(&generator))
    }

    /// The estimate a REMB would carry now; `None` before it rests on a measurement or before
    /// any PeerConnection was built.
    pub fn estimate(&self) -> Option<Bitrate> {
        self.read(RembGenerator::valid_estimate).flatten()
    }

    /// The current figures (all zero / `None` before any PeerConnection was built).
    pub fn stats(&self) -> RembStats {
        self.read(RembGenerator::stats).unwrap_or_default()
    }
}
