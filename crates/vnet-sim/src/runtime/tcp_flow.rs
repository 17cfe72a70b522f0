//! TCP-model flows on a running simulation: the competing download or web traffic a
//! real-time call meets on a shared bottleneck.
//!
//! [`SimRuntime::spawn_tcp_flow`] runs a [`TcpSender`] on one host and a [`TcpReceiver`] on
//! another as two tasks of the simulation, exchanging their segments as UDP datagrams through
//! the same links, routes and queues as the PeerConnections' traffic. Each datagram is padded so
//! that the link charges it the segment's [`Segment::wire_size`] (a full segment is 1500 bytes
//! on the wire, an ACK 52): UDP's 28 header bytes plus a payload of `wire_size − 28`, at least
//! the encoded header (a data segment shorter than its 26-byte encoding costs 54 bytes instead
//! of `len + 52`, which only a message of under 2 bytes would notice).
//!
//! Why tasks on the runtime and not a second event loop beside it: the bottleneck is one
//! queue, so media and TCP must meet in the same link, in the same order of events, under the
//! same clock. The sender's timer is a runtime timer and its ACKs arrive through the network, so
//! the flow is as deterministic as everything else in the simulation: its randomness (message
//! sizes and idle times) comes from a stream derived from the simulation's seed and the flow's
//! id, and its ports are fixed by the id ([`TCP_PORT_BASE`]), not chosen by the OS.
//!
//! The sender waits on its ACK queue and its next deadline (retransmission timer, the next
//! message, the stop) at once, polling the queue first, so an ACK and a timer due at the same
//! instant are taken in that order every run. Datagrams that are not TCP-model segments of this
//! flow are counted ([`TcpFlowSnapshot::malformed`]) and dropped.

use std::future::Future;
use std::io;
use std::net::{SocketAddr, SocketAddrV4};
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError, Weak};
use std::task::{Context, Poll};

use rand_chacha::ChaCha8Rng;
use webrtc::runtime::Runtime;

use crate::runtime::error::SimError;
use crate::runtime::network::{HostId, UDP_IPV4_OVERHEAD};
use crate::runtime::sim_runtime::SimRuntime;
use crate::runtime::state::Inner;
use crate::runtime::timer::Sleep;
use crate::seed::{stream, unit_f64};
use crate::tcp::config::TcpConfig;
use crate::tcp::event::{MessageDone, TcpEvent};
use crate::tcp::receiver::TcpReceiver;
use crate::tcp::segment::{ACK_ENCODED_LEN, DATA_ENCODED_LEN, MAGIC, Segment};
use crate::tcp::sender::TcpSender;
use crate::tcp::stats::{TcpReceiverStats, TcpSenderStats};
use crate::time::{SimDuration, SimTime};

/// Flow `id` uses port `TCP_PORT_BASE + id % 20 000` on both of its hosts. Fixed ports keep a
/// run independent of the OS; a host that also runs PeerConnections may already have the port
/// bound, which [`SimRuntime::spawn_tcp_flow`] reports.
pub const TCP_PORT_BASE: u16 = 40_000;

/// What a TCP-model flow's application sends.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum TcpTraffic {
    /// An endless transfer from the start (a large download, `iperf`).
    Bulk,
    /// Transfers of a random size separated by random idle times (web pages, short downloads).
    Messages(MessagePlan),
}

/// Short transfers: sizes uniform in `[min_bytes, max_bytes]`, the time from one transfer's
/// start to the next exponential with mean `mean_gap` (the ON/OFF source of RFC 8867 §5.7 and
/// cisco/ns3-rmcat's `SetUpTCPShort`, which also measures the gap from the previous start).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct MessagePlan {
    /// Smallest transfer, bytes (at least 1).
    pub min_bytes: u64,
    /// Largest transfer, bytes (at least `min_bytes`).
    pub max_bytes: u64,
    /// Mean time from one transfer's start to the next.
    pub mean_gap: SimDuration,
    /// Whether the first transfer starts at the flow's start; otherwise after a first gap.
    pub first_at_start: bool,
}

/// One TCP-model flow to run.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TcpFlowSpec {
    /// The flow's number: its segments carry it, its ports and random stream derive from it.
    /// Unique within a simulation.
    pub id: u32,
    /// The sender's algorithm and parameters.
    pub config: TcpConfig,
    /// When the application starts sending (virtual time).
    pub start: SimTime,
    /// When it stops writing (`None`: never). Data written before is still delivered.
    pub stop: Option<SimTime>,
    /// Bulk or messages.
    pub traffic: TcpTraffic,
}

/// A running flow: read its state at any time with [`TcpFlow::snapshot`].
#[derive(Clone, Debug)]
pub struct TcpFlow {
    shared: Arc<Mutex<Shared>>,
}

/// A flow's state when [`TcpFlow::snapshot`] was called.
#[derive(Clone, Debug, Default, PartialEq)]
#[non_exhaustive]
pub struct TcpFlowSnapshot {
    /// The sender's window, RTT and counters.
    pub sender: TcpSenderStats,
    /// The receiver's counters; `bytes_delivered` is the flow's goodput so far.
    pub receiver: TcpReceiverStats,
    /// Transfers written so far (messages mode).
    pub messages_started: u64,
    /// Transfers fully acknowledged, in completion order.
    pub messages_done: Vec<MessageDone>,
    /// Datagrams either end received that were not a segment of this flow.
    pub malformed: u64,
}

#[derive(Debug, Default)]
struct Shared {
    snapshot: TcpFlowSnapshot,
}

impl TcpFlow {
    /// The flow's state now.
    pub fn snapshot(&self) -> TcpFlowSnapshot {
        self.shared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .snapshot
            .clone()
    }

    fn update(&self, f: impl FnOnce(&mut TcpFlowSnapshot)) {
        f(&mut self
            .shared
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .snapshot);
    }
}

impl SimRuntime {
    /// Starts a TCP-model flow from host `from` to host `to` (see the module docs). The two
    /// tasks run until the simulation ends; the sender writes from `spec.start` to `spec.stop`.
    pub fn spawn_tcp_flow(
        &self,
        from: HostId,
        to: HostId,
        spec: TcpFlowSpec,
    ) -> Result<TcpFlow, SimError> {
        let invalid = |reason: String| SimError::InvalidTcpFlow {
            id: spec.id,
            reason,
        };
        if let TcpTraffic::Messages(plan) = spec.traffic {
            if plan.min_bytes == 0 || plan.min_bytes > plan.max_bytes {
                return Err(invalid(format!(
                    "message sizes must satisfy 1 <= min_bytes <= max_bytes, got {}..={}",
                    plan.min_bytes, plan.max_bytes
                )));
            }
            if plan.mean_gap == SimDuration::ZERO {
                return Err(invalid(
                    "the mean gap between messages must be positive".into(),
                ));
            }
        }
        if spec.stop.is_some_and(|stop| stop <= spec.start) {
            return Err(invalid("stop must come after start".into()));
        }
        let sender = TcpSender::new(spec.id, &spec.config).map_err(|e| invalid(e.to_string()))?;
        let receiver = TcpReceiver::new(spec.id);
        let port = TCP_PORT_BASE + u16::try_from(spec.id % 20_000).unwrap_or(0);
        let src = SocketAddr::V4(SocketAddrV4::new(self.host_ip(from)?, port));
        let dst = SocketAddr::V4(SocketAddrV4::new(self.host_ip(to)?, port));
        {
            let mut state = self.inner.lock();
            state
                .network
                .bind(src)
                .map_err(|e| invalid(e.to_string()))?;
            if let Err(e) = state.network.bind(dst) {
                state.network.unbind(src);
                return Err(invalid(e.to_string()));
            }
        }
        let flow = TcpFlow {
            shared: Arc::default(),
        };
        let rng = stream(self.seed(), &format!("tcp/flow{}", spec.id));
        let sending = SenderTask {
            inner: Arc::downgrade(&self.inner),
            addr: src,
            peer: dst,
            sender,
            spec,
            rng,
            flow: flow.clone(),
        };
        let receiving = ReceiverTask {
            inner: Arc::downgrade(&self.inner),
            addr: dst,
            peer: src,
            receiver,
            flow: flow.clone(),
        };
        // Dropping a join handle detaches the task; both end with the simulation.
        drop(Runtime::spawn(self, Box::pin(sending.run())));
        drop(Runtime::spawn(self, Box::pin(receiving.run())));
        Ok(flow)
    }
}

/// The virtual time, while the simulation exists.
fn clock(inner: &Weak<Inner>) -> Option<SimTime> {
    inner.upgrade().map(|i| i.lock().now)
}

/// A timer for `deadline`, while the simulation exists.
fn sleep_until(inner: &Weak<Inner>, deadline: SimTime) -> Option<Sleep> {
    inner.upgrade().map(|i| Sleep::until(&i, deadline))
}

/// Sends `segment` from `src` to `dst`, padded to its wire size (see the module docs).
fn send(inner: &Weak<Inner>, buf: &mut Vec<u8>, src: SocketAddr, dst: SocketAddr, seg: &Segment) {
    let Some(inner) = inner.upgrade() else {
        return;
    };
    buf.clear();
    seg.encode(buf);
    let payload = seg.wire_size().saturating_sub(UDP_IPV4_OVERHEAD) as usize;
    if buf.len() < payload {
        buf.resize(payload, 0);
    }
    let mut state = inner.lock();
    let state = &mut *state;
    let now = state.now;
    state.network.send(now, &mut state.events, src, dst, buf);
}

/// The segment at the start of a padded datagram.
fn decode(bytes: &[u8]) -> Option<Segment> {
    let len = match bytes {
        [MAGIC, 1, ..] => DATA_ENCODED_LEN,
        [MAGIC, 2, ..] => ACK_ENCODED_LEN,
        _ => return None,
    };
    Segment::decode(bytes.get(..len)?).ok()
}

/// Waits for datagrams queued for `addr` and takes them all.
struct Recv<'a> {
    inner: &'a Weak<Inner>,
    addr: SocketAddr,
    out: &'a mut Vec<Vec<u8>>,
}

impl Future for Recv<'_> {
    type Output = io::Result<()>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.get_mut();
        let Some(inner) = this.inner.upgrade() else {
            return Poll::Ready(Err(io::ErrorKind::NotConnected.into()));
        };
        let out = &mut *this.out;
        let got = inner
            .lock()
            .network
            .recv(this.addr, usize::MAX, cx.waker(), |_, bytes| {
                out.push(bytes.to_vec());
            });
        match got {
            None => Poll::Ready(Err(io::ErrorKind::NotConnected.into())),
            Some(0) => Poll::Pending,
            Some(_) => Poll::Ready(Ok(())),
        }
    }
}

struct SenderTask {
    inner: Weak<Inner>,
    addr: SocketAddr,
    peer: SocketAddr,
    sender: TcpSender,
    spec: TcpFlowSpec,
    rng: ChaCha8Rng,
    flow: TcpFlow,
}

impl SenderTask {
    async fn run(mut self) {
        let Some(start) = sleep_until(&self.inner, self.spec.start) else {
            return;
        };
        start.await;
        let mut next_message = match self.spec.traffic {
            TcpTraffic::Bulk => {
                if self.sender.start_bulk(self.spec.start).is_err() {
                    return;
                }
                None
            }
            TcpTraffic::Messages(plan) if plan.first_at_start => Some(self.spec.start),
            TcpTraffic::Messages(plan) => Some(self.spec.start + self.gap(plan)),
        };
        let mut stopped = false;
        let mut buf = Vec::with_capacity(1500);
        let mut inbox = Vec::new();
        loop {
            let Some(now) = clock(&self.inner) else {
                return;
            };
            if !stopped && self.spec.stop.is_some_and(|stop| now >= stop) {
                self.sender.stop(now);
                stopped = true;
                next_message = None;
            }
            while let (Some(at), TcpTraffic::Messages(plan)) = (next_message, self.spec.traffic) {
                if at > now {
                    break;
                }
                let size = plan.min_bytes
                    + crate::seed::below(&mut self.rng, plan.max_bytes - plan.min_bytes + 1);
                if self.sender.write(now, size).is_err() {
                    next_message = None;
                    break;
                }
                self.flow.update(|s| s.messages_started += 1);
                next_message = Some(at + self.gap(plan));
            }
            if self.sender.poll_timeout().is_some_and(|t| t <= now) {
                self.sender.handle_timeout(now);
            }
            while let Some(seg) = self.sender.poll_transmit(now) {
                send(&self.inner, &mut buf, self.addr, self.peer, &seg);
            }
            let stats = self.sender.stats();
            let mut done = Vec::new();
            while let Some(event) = self.sender.poll_event() {
                if let TcpEvent::MessageDone(m) = event {
                    done.push(m);
                }
            }
            self.flow.update(|s| {
                s.sender = stats;
                s.messages_done.extend(done);
            });

            let stop = self.spec.stop.filter(|_| !stopped);
            let wake = [self.sender.poll_timeout(), next_message, stop]
                .into_iter()
                .flatten()
                .min();
            inbox.clear();
            let recv = Recv {
                inner: &self.inner,
                addr: self.addr,
                out: &mut inbox,
            };
            let got = match wake.and_then(|at| sleep_until(&self.inner, at)) {
                Some(sleep) => first_of(recv, sleep).await,
                None => Some(recv.await),
            };
            match got {
                Some(Err(_)) => return,
                Some(Ok(())) => {
                    let Some(now) = clock(&self.inner) else {
                        return;
                    };
                    let mut malformed = 0;
                    for bytes in &inbox {
                        match decode(bytes) {
                            Some(seg @ Segment::Ack(_)) if seg.flow() == self.spec.id => {
                                if self.sender.handle_ack(now, &seg).is_err() {
                                    malformed += 1;
                                }
                            }
                            _ => malformed += 1,
                        }
                    }
                    if malformed > 0 {
                        self.flow.update(|s| s.malformed += malformed);
                    }
                }
                None => {}
            }
        }
    }

    /// An exponential gap with the plan's mean.
    fn gap(&mut self, plan: MessagePlan) -> SimDuration {
        // 1 − u is in (0, 1], so the logarithm is finite.
        let u = 1.0 - unit_f64(&mut self.rng);
        let secs = -u.ln() * plan.mean_gap.as_secs_f64();
        SimDuration::from_micros((secs * 1e6).round() as u64)
    }
}

struct ReceiverTask {
    inner: Weak<Inner>,
    addr: SocketAddr,
    peer: SocketAddr,
    receiver: TcpReceiver,
    flow: TcpFlow,
}

impl ReceiverTask {
    async fn run(mut self) {
        let mut buf = Vec::with_capacity(64);
        let mut inbox = Vec::new();
        loop {
            inbox.clear();
            let recv = Recv {
                inner: &self.inner,
                addr: self.addr,
                out: &mut inbox,
            };
            if recv.await.is_err() {
                return;
            }
            let Some(now) = clock(&self.inner) else {
                return;
            };
            let mut malformed = 0;
            for bytes in &inbox {
                match decode(bytes) {
                    Some(seg @ Segment::Data(_)) if seg.flow() == self.receiver.flow() => {
                        if self.receiver.handle_data(now, &seg).is_err() {
                            malformed += 1;
                        }
                    }
                    _ => malformed += 1,
                }
                while let Some(ack) = self.receiver.poll_transmit() {
                    send(&self.inner, &mut buf, self.addr, self.peer, &ack);
                }
            }
            let stats = self.receiver.stats();
            self.flow.update(|s| {
                s.receiver = stats;
                s.malformed += malformed;
            });
        }
    }
}

/// Polls `a` then `b`; the output of `a` if it is ready (`Some`), else `None` once `b` is.
/// Polling `a` first makes the choice at an instant where both are ready the same in every run.
async fn first_of<A: Future, B: Future>(a: A, b: B) -> Option<A::Output> {
    let mut a = std::pin::pin!(a);
    let mut b = std::pin::pin!(b);
    std::future::poll_fn(|cx| {
        if let Poll::Ready(out) = a.as_mut().poll(cx) {
            return Poll::Ready(Some(out));
        }
        if b.as_mut().poll(cx).is_ready() {
            return Poll::Ready(None);
        }
        Poll::Pending
    })
    .await
}
