//! The probing pacer: the `Slot::Pacer` adapter of the send-side controller. It writes out what
//! the controller releases (media, retransmissions, probe padding), renumbering each stream so
//! padding has room, and translates NACKs back.

pub mod probing_pacer;
pub(crate) mod stream;

pub use bwe_core::pacer::{PacerConfig, PacerStats};
pub use probing_pacer::{PACER_SLOT, ProbingPacer};
