//! [`TcpError`]: inputs a TCP-model sender or receiver refuses.
//!
//! Segments come from the network, so a wrong one is a value the caller can count, never a
//! panic; the refused input leaves the state unchanged.

use thiserror::Error;

/// An input refused by a sender or receiver.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TcpError {
    /// A data segment handed to a sender, or an ACK to a receiver.
    #[error("expected {expected} segment")]
    WrongKind {
        /// `"an ack"` or `"a data"`.
        expected: &'static str,
    },
    /// A segment of another flow.
    #[error("segment of flow {got} handed to flow {expected}")]
    WrongFlow {
        /// This endpoint's flow.
        expected: u32,
        /// The segment's flow.
        got: u32,
    },
    /// An ACK of bytes never sent.
    #[error("ACK of byte {ack}, beyond the {sent} bytes sent")]
    AckBeyondSent {
        /// The acknowledgement number.
        ack: u64,
        /// Bytes sent so far (`SND.MAX`).
        sent: u64,
    },
    /// A message of zero bytes, which could never be acknowledged.
    #[error("a message must have at least one byte")]
    EmptyMessage,
    /// A message written while a bulk transfer is running: it would never end.
    #[error("cannot write a message behind an endless bulk transfer")]
    Bulk,
    /// Data written after [`crate::tcp::TcpSender::stop`].
    #[error("the sender was stopped")]
    Stopped,
}
