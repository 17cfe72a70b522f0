//! What the REMB generator publishes: the receive-side estimator's figures plus what the
//! interceptor saw on the wire, including every input it had to skip.

use bwe_core::Bitrate;
use bwe_core::receive_side::ReceiveSideStats;

/// Figures of a [`RembInterceptor`](crate::RembInterceptor).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub struct RembReceiverStats {
    /// bwe-core's receive-side figures (estimate, incoming rate, detector state, live streams).
    pub core: ReceiveSideStats,
    /// Whether the estimate rests on a measurement yet; no REMB is sent before it does.
    pub estimate_valid: bool,
    /// Inbound RTP packets seen.
    pub rtp_packets: u64,
    /// Packets fed to the estimator.
    pub fed: u64,
    /// Packets with an impossible header (RTP version other than 2); skipped.
    pub malformed_rtp: u64,
    /// abs-send-time extensions of the wrong length; skipped.
    pub malformed_extension: u64,
    /// Packets of a stream that negotiated abs-send-time but carried none; skipped.
    pub missing_extension: u64,
    /// Packets of streams bound without abs-send-time negotiated; passed through untouched.
    pub not_negotiated: u64,
    /// Packets of SSRCs never bound as remote streams; passed through untouched.
    pub unbound: u64,
    /// Packets rebuilt by FEC, which never arrived at the instant they carry; not fed.
    pub recovered_by_fec: u64,
    /// REMB messages sent.
    pub rembs_sent: u64,
    /// The bitrate of the last REMB sent.
    pub last_remb: Option<Bitrate>,
    /// How many SSRCs the last REMB listed.
    pub last_remb_ssrcs: usize,
}
