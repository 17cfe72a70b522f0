//! The probing pacer: paces media at a multiple of the target, sends the estimator's probe
//! clusters (padding when there is not enough media) and tells the estimator which packets
//! were probes.

pub mod mailbox;
pub mod probing_pacer;
pub(crate) mod sequence_map;
pub mod stats;
pub(crate) mod stream;

pub use mailbox::ProbeMailbox;
pub use probing_pacer::{PACER_SLOT, PacerConfig, ProbingPacer};
pub use stats::PacerStats;
