//! TCP-model flows competing with the media on the bottleneck (RFC 8867 §5.6, §5.7).
//!
//! A [`TcpSpec`] in [`crate::MultiCallSpec::tcp`] adds a sender and a receiver host on either
//! side of the dumbbell, with their own access links, and starts a
//! [`vnet_sim::SimRuntime::spawn_tcp_flow`] between them at its start (counted from the start
//! of media, like a media flow's). Its segments cross the same bottleneck queue as the media,
//! so everything the link does to them (drops, queuing) it does to both.
//!
//! What a TCP flow produced ([`TcpResult`]) is read two ways: the bottleneck's log of its
//! sender's packets, as for a media flow (send rate, delivery, drops, time in the queue), and a
//! sample of the endpoints each trace interval (bytes delivered in order at the receiver: the
//! goodput; the congestion window and smoothed RTT at the sender).

use vnet_sim::{MessagePlan, SimDuration, SimTime, TcpAlgorithm, TcpFlowSnapshot};

use crate::flow::Direction;
use crate::recorder::Trace;

/// Flow ids of TCP-model flows start here (ports and random streams derive from them).
pub const TCP_FLOW_ID_BASE: u32 = 1;

/// What a TCP flow's application sends.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TcpWorkload {
    /// An endless download from its start to its stop.
    Bulk,
    /// Transfers of random size with random gaps between their starts.
    Messages(MessagePlan),
}

/// One TCP-model flow of a multi-flow call.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TcpSpec {
    /// NewReno (default, as cisco/ns3-rmcat runs RFC 8867's cases) or CUBIC.
    pub algorithm: TcpAlgorithm,
    /// Which bottleneck its data crosses (its ACKs cross the other).
    pub direction: Direction,
    /// When it starts writing, from the start of media.
    pub start: SimDuration,
    /// When it stops writing (`None`: at the end of the call).
    pub stop: Option<SimDuration>,
    /// Bulk or short transfers.
    pub workload: TcpWorkload,
    /// One-way delay of each of its access links.
    pub access_delay: SimDuration,
}

impl TcpSpec {
    /// A NewReno download over the forward bottleneck for the whole call.
    pub fn bulk() -> Self {
        Self {
            algorithm: TcpAlgorithm::NewReno,
            direction: Direction::LeftToRight,
            start: SimDuration::ZERO,
            stop: None,
            workload: TcpWorkload::Bulk,
            access_delay: SimDuration::ZERO,
        }
    }
}

/// The endpoints' state at one trace row.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TcpSample {
    /// Time from the start of media.
    pub at: SimDuration,
    /// Bytes delivered in order at the receiver so far.
    pub delivered: u64,
    /// The sender's congestion window, bytes.
    pub cwnd: u64,
    /// The sender's smoothed RTT, if it has one.
    pub srtt: Option<SimDuration>,
}

/// What one TCP flow of a call produced.
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub struct TcpResult {
    /// The flow as specified.
    pub spec: TcpSpec,
    /// Its sender's packets on its bottleneck, per interval (no target columns).
    pub trace: Trace,
    /// The endpoints at the start of each trace row, and once at the end.
    pub samples: Vec<TcpSample>,
    /// The endpoints at the end of the call.
    pub last: TcpFlowSnapshot,
}

impl TcpResult {
    /// Mean goodput (bytes delivered in order) over `[from, to)`, bit/s; `None` when the
    /// samples do not cover the window.
    pub fn goodput_bps(&self, from: SimDuration, to: SimDuration) -> Option<f64> {
        let at = |t: SimDuration| {
            self.samples
                .iter()
                .rev()
                .find(|s| s.at <= t)
                .filter(|s| t - s.at < SimDuration::from_secs(1))
        };
        let (a, b) = (at(from)?, at(to)?);
        let secs = (b.at - a.at).as_secs_f64();
        (secs > 0.0).then(|| (b.delivered - a.delivered) as f64 * 8.0 / secs)
    }
}

/// The simulation time a call-relative offset stands for.
pub(crate) fn at(media_start: SimTime, offset: SimDuration) -> SimTime {
    media_start + offset
}
