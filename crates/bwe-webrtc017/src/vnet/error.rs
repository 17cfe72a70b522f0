//! What can go wrong while wiring PeerConnections to a virtual network.

use std::time::Duration;

use webrtc::peer_connection::peer_connection_state::RTCPeerConnectionState;

/// Building, connecting or waiting on a virtual-network PeerConnection failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum VnetError {
    /// A PeerConnection was asked for without a `Net`: it would silently use the host's real
    /// interfaces instead of the virtual network.
    #[error(
        "no virtual network given: pass the Net from VirtualNetwork::add_net, or the \
         PeerConnection would bind the host's real interfaces"
    )]
    NoNet,
    /// The virtual network refused a configuration (bad CIDR or address, router already
    /// started, ...).
    #[error("virtual network: {0}")]
    Net(#[from] webrtc_util::Error),
    /// webrtc refused an API call (offer, answer, description, ...).
    #[error("webrtc: {0}")]
    Webrtc(#[from] webrtc::Error),
    /// A side had no local description after setting one.
    #[error("the {0} has no local description after set_local_description")]
    NoLocalDescription(&'static str),
    /// The state was not reached in time.
    #[error("peer connection still {last} after {waited:?}, waiting for {wanted}")]
    Timeout {
        /// The state waited for.
        wanted: RTCPeerConnectionState,
        /// The state when the wait gave up.
        last: RTCPeerConnectionState,
        /// How long it waited.
        waited: Duration,
    },
    /// The connection reached a state it never leaves (failed or closed) before the one waited
    /// for.
    #[error("peer connection reached {reached} while waiting for {wanted}")]
    Unreachable {
        /// The state waited for.
        wanted: RTCPeerConnectionState,
        /// The terminal state reached instead.
        reached: RTCPeerConnectionState,
    },
    /// More hosts than the network's /24 holds.
    #[error("the virtual network has no address left for host number {0}")]
    AddressesExhausted(usize),
}
