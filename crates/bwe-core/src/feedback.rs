//! What the send side knows about each packet: when and how it was sent, and what the remote
//! later said about it.
//!
//! The joining of sent-packet records with feedback (TWCC sequence numbers, RFC 8888 per-SSRC
//! sequence numbers) is left to the caller — an interceptor already keeps that history — so the
//! estimator receives ready-made [`PacketResult`]s and keeps no per-packet map of its own.

use crate::units::{DataSize, Timestamp};

/// Marks a packet as part of a probe cluster, so its feedback can be attributed to the cluster.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct ProbeInfo {
    /// The cluster's id, as given in [`crate::probe::controller::ProbeCluster`].
    pub cluster_id: u32,
    /// How many packets of the cluster must be acknowledged before a result is trusted.
    pub min_probes: u32,
    /// How many bytes of the cluster must be acknowledged before a result is trusted.
    pub min_bytes: DataSize,
}

/// One packet as it left this endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SentPacket {
    /// A per-sender sequence number that increases with send order and never wraps
    /// (e.g. an unwrapped transport-wide sequence number).
    pub sequence: u64,
    /// When the packet left this endpoint (after the pacer), on the local clock.
    pub send_time: Timestamp,
    /// Size on the wire, including headers.
    pub size: DataSize,
    /// Set when the packet belongs to a probe cluster.
    pub probe: Option<ProbeInfo>,
}

/// One packet's fate as reported by feedback.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct PacketResult {
    /// The packet as it was sent.
    pub sent: SentPacket,
    /// When it arrived, on the **remote** clock; `None` if reported lost.
    pub receive_time: Option<Timestamp>,
}

impl PacketResult {
    /// Whether the remote reported the packet as received.
    pub const fn is_received(&self) -> bool {
        self.receive_time.is_some()
    }
}
