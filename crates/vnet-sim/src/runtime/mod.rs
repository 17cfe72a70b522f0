//! The runtime layer: a [`SimRuntime`] that implements webrtc-rs 0.21's
//! [`Runtime`](webrtc::runtime::Runtime), so real PeerConnections (ICE, DTLS, SRTP, SCTP) run
//! over simulated links in virtual time.
//!
//! - `executor`: single-threaded, FIFO run queue, join handles with abort/detach;
//! - `event`: timers and link wake-ups in `(deadline, sequence)` order;
//! - `driver`: the run loop that jumps the clock, with livelock, stall and time-limit guards;
//! - `network` and `socket`: hosts, directed links, forwarding and UDP sockets;
//! - `routes`: the checks a topology's static routes pass before a run;
//! - `address`: loopback addresses that parallel simulations never share;
//! - `link_capture`: the per-link pcap files of a simulation that captures;
//! - `sim_runtime`: the `Runtime` implementation and the fault verbs;
//! - `state`: the single lock everything above shares, and the two rules that keep it safe.

pub(crate) mod address;
pub(crate) mod driver;
mod error;
pub(crate) mod event;
pub(crate) mod executor;
mod link_capture;
pub(crate) mod network;
pub(crate) mod routes;
mod sim_runtime;
mod socket;
pub(crate) mod state;
pub(crate) mod tcp_flow;
mod timer;

pub use error::SimError;
pub use executor::SimJoinHandle;
pub use link_capture::LinkCapture;
pub use network::{HostId, NetworkStats, UDP_IPV4_OVERHEAD};
pub use sim_runtime::SimRuntime;
pub use tcp_flow::{MessagePlan, TCP_PORT_BASE, TcpFlow, TcpFlowSnapshot, TcpFlowSpec, TcpTraffic};
pub use timer::Sleep;
