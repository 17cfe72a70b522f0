//! Peer helpers: real webrtc PeerConnections on simulated hosts.
//!
//! ```no_run
//! use vnet_sim::peer::connect;
//! use vnet_sim::{LinkConfig, Sim, SimDuration};
//! use webrtc::peer_connection::RTCPeerConnectionState;
//!
//! let mut builder = Sim::builder().seed(1);
//! let (a, b) = (builder.host("a"), builder.host("b"));
//! builder.path(a, b, LinkConfig::wired());
//! let sim = builder.build().expect("valid topology");
//! sim.run(async {
//!     let alice = sim.peer(a).build().await?;
//!     let bob = sim.peer(b).build().await?;
//!     alice.pc().create_data_channel("chat", None).await.expect("channel");
//!     connect(&alice, &bob, SimDuration::from_secs(5)).await?;
//!     alice.wait_for_state(RTCPeerConnectionState::Connected, SimDuration::from_secs(10)).await
//! })
//! .expect("the simulation runs")
//! .expect("the peers connect");
//! ```

pub mod builder;
pub mod crypto;
mod error;
mod events;
mod sim_peer;

pub use builder::PeerBuilder;
pub use crypto::{SeededCryptoProvider, seeded_certificate};
pub use error::PeerError;
pub use events::PeerEvents;
pub use sim_peer::{SimPeer, connect};
