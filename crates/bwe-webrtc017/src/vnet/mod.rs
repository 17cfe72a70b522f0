//! Real 0.17 PeerConnections over webrtc-util's virtual network, in the spirit of Pion's
//! `NewVNetPeerConnection` / `ConnectVNetPeers` / `WaitForPeerConnectionState`.

mod error;
mod network;
mod peers;
mod rate_limit;

pub use error::VnetError;
pub use network::{VirtualNetwork, VnetConfig};
pub use peers::{
    connect_vnet_peers, new_vnet_peer_connection, vnet_setting_engine,
    wait_for_peer_connection_state,
};
pub use rate_limit::{
    RateControl, RateLimit, RateLimitStats, RateLimitedNic, Shaper, UDP_IPV4_OVERHEAD,
};
