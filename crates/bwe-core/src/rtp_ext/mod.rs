//! Parsers for the RTP header extensions the estimators read.
//!
//! Only the extension *payloads* are parsed here (the bytes after the one- or two-byte extension
//! header); locating an extension in an RTP packet by its negotiated id is the job of whoever owns
//! the packet. Parsers return typed errors carrying the offending length, never panic.

mod abs_capture_time;
mod abs_send_time;

pub use abs_capture_time::AbsCaptureTime;
pub use abs_send_time::{AbsSendTime, AbsSendTimeUnwrapper};

/// An extension payload could not be parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum ExtensionError {
    /// The payload has a length the extension does not define.
    #[error("{extension} payload has {got} bytes, expected {expected}")]
    BadLength {
        /// Which extension was being parsed.
        extension: &'static str,
        /// The length found.
        got: usize,
        /// The length(s) the extension defines.
        expected: &'static str,
    },
}
