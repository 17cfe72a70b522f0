//! A sans-I/O TCP flow model: NewReno and CUBIC senders, a cumulative-ACK receiver, and a
//! driver that runs them over simulated links.
//!
//! The model exists to put the competing traffic a real-time flow meets, a bulk download or a
//! web page, on a simulated bottleneck, with the dynamics a congestion-control researcher
//! expects from textbook TCP: IW10 slow start, an ACK-clocked sawtooth, fast retransmit, the
//! retransmission timer's backoff. It is not a TCP stack: no handshake, no receive window, no
//! payload bytes, no sequence wrap-around.
//!
//! Like the link, every part is sans-I/O: [`TcpSender`] and [`TcpReceiver`] take `now` with
//! each input, hand out segments from `poll_transmit`, and say when to wake them with
//! `poll_timeout`. [`TcpPath`] wires flows to a forward and a reverse [`crate::Link`] and jumps
//! virtual time from event to event, so a minute of a 2 Mbit/s bottleneck runs in milliseconds.
//!
//! # What is modelled, with its RFC
//!
//! | Part | Behaviour | Source |
//! |---|---|---|
//! | wire | 52-byte headers (IPv4 + TCP + timestamps), MSS 1448, a full segment is 1500 bytes | RFC 791, RFC 9293 §3.1, RFC 7323 ([`segment`]) |
//! | initial window | `min(10·MSS, max(2·MSS, 14600))` = 10 segments | RFC 6928 §2 |
//! | slow start | `cwnd += min(N, MSS)` per ACK; the first one with HyStart++ | RFC 5681 §3.1, RFC 9406 ([`slow_start`]) |
//! | NewReno avoidance | byte counting, one MSS per window; `ssthresh = max(FlightSize/2, 2·MSS)` | RFC 5681 §3.1, RFC 3465 §2.1 ([`newreno`]) |
//! | CUBIC | `C = 0.4`, `β = 0.7`, `K`, `W_max`, Reno-friendly region, fast convergence | RFC 9438 ([`cubic`]) |
//! | limited transmit | one segment on each of the first two duplicate ACKs | RFC 3042 |
//! | fast retransmit / recovery | 3 duplicate ACKs, inflation, partial ACKs, `recover` | RFC 5681 §3.2, RFC 6582 §3.2 ([`sender`], [`recovery`]) |
//! | RTO | SRTT/RTTVAR (α 1/8, β 1/4, K 4), 1 s initial and minimum, 60 s maximum, doubling | RFC 6298 ([`rto`]) |
//! | RTT samples | timestamp echo, from every ACK of new data | RFC 7323 §4 |
//! | after a timeout | `cwnd = 1·MSS`, go-back-N from `SND.UNA`, `recover = SND.MAX` | RFC 5681 §3.1, RFC 6298 §5, RFC 6582 |
//! | receiver | cumulative ACK per segment, immediate duplicate ACKs, out-of-order kept as ranges | RFC 5681 §4.2 ([`receiver`]) |
//!
//! Loss detection, recovery and the timer are shared; the algorithm decides only congestion
//! avoidance and the two `ssthresh` reductions ([`congestion`]).
//!
//! # Deliberate differences
//!
//! - **No SACK** (RFC 2018/6675), RACK-TLP (RFC 8985) or PRR (RFC 6937): recovery is
//!   NewReno's, one hole per round trip, as in the RFCs the textbooks teach. Linux recovers
//!   several holes per round trip.
//! - **The recovery timer restarts on every partial ACK** by default ("Slow-but-Steady", RFC
//!   6582 §6, RFC 6298 §5.3), not only on the first as RFC 6582 §3.2 step 5 specifies
//!   ("Impatient", [`RecoveryTimer::Impatient`]): without SACK, Impatient turns each loss
//!   event of more holes than fit in one RTO into a timeout that a deployed sender would not
//!   have (see [`RecoveryTimer`]).
//! - **HyStart++** in the first slow start, for both algorithms (RFC 9406 is not specific to
//!   one; Linux has HyStart in CUBIC only). Without it, the first slow start into a deep
//!   drop-tail buffer loses half a window, which NewReno recovery repairs only over tens of
//!   round trips. [`TcpConfig::hystart`] turns it off.
//! - **A timeout during fast recovery keeps `ssthresh`**, as Linux does; RFC 5681 §3.1 would
//!   halve FlightSize again, a FlightSize inflated by recovery's new data.
//! - **Go-back-N after a timeout**: without SACK the sender resends from the first
//!   unacknowledged byte; the receiver's cumulative ACKs skip what it already holds.
//! - **No delayed ACK**: one ACK per data segment (see [`receiver`]); Linux delays.
//! - **Minimum RTO 1 s** by default, RFC 6298 §2.4's value; Linux uses 200 ms
//!   ([`RtoConfig::LINUX`]).
//! - **No pacing, no receive window, no handshake, no Nagle**: ACK-clocked bursts (Linux without
//!   the `fq` qdisc), an unlimited receive buffer, flows that start established, data sent at
//!   once (`TCP_NODELAY`).
//! - Timestamps are 64-bit nanoseconds of virtual time, not RFC 7323's 32-bit ticks, and
//!   sequence numbers 64-bit byte offsets without wrap-around.
//!
//! Everything is integer bytes and nanoseconds except CUBIC's cubic, which is `f64` in basic
//! IEEE operations only; the same inputs give the same run on every platform.

pub mod config;
pub mod congestion;
pub mod cubic;
pub mod error;
pub mod event;
pub mod newreno;
pub mod path;
pub mod reassembly;
pub mod receiver;
pub mod recovery;
pub mod rto;
pub mod segment;
pub mod sender;
pub mod slow_start;
pub mod source;
pub mod stats;

pub use config::{CubicConfig, RecoveryTimer, RtoConfig, TcpAlgorithm, TcpConfig, TcpConfigError};
pub use error::TcpError;
pub use event::{MessageDone, MessageId, TcpEvent};
pub use path::{PathError, TcpPath};
pub use receiver::TcpReceiver;
pub use rto::RttEstimator;
pub use segment::{AckSegment, DataSegment, Segment, SegmentError};
pub use sender::TcpSender;
pub use stats::{TcpReceiverStats, TcpSenderStats};
