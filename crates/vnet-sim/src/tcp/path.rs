//! [`TcpPath`]: TCP-model flows over one simulated path, driven in virtual time.
//!
//! A path is two [`Link`]s, forward (data) and reverse (ACKs), shared by every flow on it, so
//! a single flow and a competition between flows are the same driver with one or more
//! [`TcpPath::add_flow`] calls. Segments cross the links as encoded datagrams charged their
//! [`Segment::wire_size`], tagged with their flow as the packet origin so that a link's log
//! splits per flow.
//!
//! [`TcpPath::run_until`] is the event loop: settle everything due at the current instant
//! (timers, deliveries, the segments they release), then jump to the earliest pending event of
//! the links and senders. Work at one instant is bounded ([`MAX_ROUNDS_PER_INSTANT`]): a
//! zero-delay, unlimited link lets a bulk flow send forever without time passing, and the
//! driver says so with [`PathError::Livelock`] instead of hanging.

use thiserror::Error;

use crate::config::{ConfigError, LinkConfig};
use crate::link::Link;
use crate::packet::Packet;
use crate::seed::derive_seed;
use crate::tcp::config::{TcpConfig, TcpConfigError};
use crate::tcp::receiver::TcpReceiver;
use crate::tcp::segment::Segment;
use crate::tcp::sender::TcpSender;
use crate::time::SimTime;

/// Rounds of work at one instant (or instants that fail to advance) before the driver gives up.
pub const MAX_ROUNDS_PER_INSTANT: u32 = 100_000;

/// What stops a [`TcpPath`].
#[derive(Clone, Debug, PartialEq, Error)]
#[non_exhaustive]
pub enum PathError {
    /// Work kept coming without time advancing.
    #[error("livelock at {at}: {rounds} rounds without time advancing")]
    Livelock {
        /// The instant that never ended.
        at: SimTime,
        /// Rounds run at it.
        rounds: u32,
    },
    /// A link configuration that cannot be built.
    #[error(transparent)]
    Link(#[from] ConfigError),
}

#[derive(Clone, Debug)]
struct Flow {
    sender: TcpSender,
    receiver: TcpReceiver,
}

/// Flows sharing a forward and a reverse link.
#[derive(Debug)]
pub struct TcpPath {
    forward: Link<Vec<u8>>,
    reverse: Link<Vec<u8>>,
    flows: Vec<Flow>,
    now: SimTime,
    stray: u64,
}

impl TcpPath {
    /// A path over links built from `forward` and `reverse`, with seeds derived from `seed`
    /// (labels `"tcp forward"` and `"tcp reverse"`, [`derive_seed`]).
    pub fn new(forward: &LinkConfig, reverse: &LinkConfig, seed: u64) -> Result<Self, PathError> {
        Ok(Self::from_links(
            Link::new(forward, derive_seed(seed, "tcp forward"))?,
            Link::new(reverse, derive_seed(seed, "tcp reverse"))?,
        ))
    }

    /// A path over links built by hand; its clock starts at the later of theirs.
    pub fn from_links(forward: Link<Vec<u8>>, reverse: Link<Vec<u8>>) -> Self {
        let now = forward.now().max(reverse.now());
        Self {
            forward,
            reverse,
            flows: Vec::new(),
            now,
            stray: 0,
        }
    }

    /// Adds a flow: a sender and a receiver with the next flow id (0 for the first). It sends
    /// nothing until its sender is given data ([`TcpSender::start_bulk`], [`TcpSender::write`]).
    pub fn add_flow(&mut self, config: &TcpConfig) -> Result<u32, TcpConfigError> {
        let id = u32::try_from(self.flows.len()).unwrap_or(u32::MAX);
        self.flows.push(Flow {
            sender: TcpSender::new(id, config)?,
            receiver: TcpReceiver::new(id),
        });
        Ok(id)
    }

    /// Flow `id`'s sender.
    pub fn sender(&self, id: u32) -> Option<&TcpSender> {
        self.flows.get(id as usize).map(|f| &f.sender)
    }

    /// Flow `id`'s sender, to give it data or stop it (at [`TcpPath::now`]).
    pub fn sender_mut(&mut self, id: u32) -> Option<&mut TcpSender> {
        self.flows.get_mut(id as usize).map(|f| &mut f.sender)
    }

    /// Flow `id`'s receiver.
    pub fn receiver(&self, id: u32) -> Option<&TcpReceiver> {
        self.flows.get(id as usize).map(|f| &f.receiver)
    }

    /// The number of flows.
    pub fn flow_count(&self) -> u32 {
        u32::try_from(self.flows.len()).unwrap_or(u32::MAX)
    }

    /// The data link.
    pub fn forward(&self) -> &Link<Vec<u8>> {
        &self.forward
    }

    /// The data link, to change it while running (capacity, blackouts).
    pub fn forward_mut(&mut self) -> &mut Link<Vec<u8>> {
        &mut self.forward
    }

    /// The ACK link.
    pub fn reverse(&self) -> &Link<Vec<u8>> {
        &self.reverse
    }

    /// The ACK link, to change it while running.
    pub fn reverse_mut(&mut self) -> &mut Link<Vec<u8>> {
        &mut self.reverse
    }

    /// The time the path has been run to.
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Datagrams delivered that were not a segment of a flow here, or that its endpoint
    /// refused.
    pub fn stray_datagrams(&self) -> u64 {
        self.stray
    }

    /// Runs every event up to and including `until`, then leaves the clock at `until`.
    pub fn run_until(&mut self, until: SimTime) -> Result<(), PathError> {
        let mut stalled = 0;
        loop {
            self.settle()?;
            match self.next_event() {
                Some(t) if t <= until => {
                    if t > self.now {
                        self.now = t;
                        stalled = 0;
                    } else {
                        stalled += 1;
                        if stalled > MAX_ROUNDS_PER_INSTANT {
                            return Err(PathError::Livelock {
                                at: self.now,
                                rounds: stalled,
                            });
                        }
                    }
                }
                _ => {
                    self.now = self.now.max(until);
                    return Ok(());
                }
            }
        }
    }

    /// The earliest instant something on the path is due.
    fn next_event(&self) -> Option<SimTime> {
        let senders = self.flows.iter().filter_map(|f| f.sender.poll_timeout());
        [self.forward.poll_timeout(), self.reverse.poll_timeout()]
            .into_iter()
            .flatten()
            .chain(senders)
            .min()
    }

    /// Does everything due at `self.now`, until nothing moves.
    fn settle(&mut self) -> Result<(), PathError> {
        let now = self.now;
        for flow in &mut self.flows {
            if flow.sender.poll_timeout().is_some_and(|t| t <= now) {
                flow.sender.handle_timeout(now);
            }
        }
        for rounds in 1.. {
            let mut moved = false;
            while let Some(d) = self.forward.poll_delivery(now) {
                moved = true;
                let accepted = Segment::decode(&d.packet.payload).ok().and_then(|s| {
                    let flow = self.flows.get_mut(s.flow() as usize)?;
                    flow.receiver.handle_data(now, &s).ok()
                });
                self.stray += u64::from(accepted.is_none());
            }
            while let Some(d) = self.reverse.poll_delivery(now) {
                moved = true;
                let accepted = Segment::decode(&d.packet.payload).ok().and_then(|s| {
                    let flow = self.flows.get_mut(s.flow() as usize)?;
                    flow.sender.handle_ack(now, &s).ok()
                });
                self.stray += u64::from(accepted.is_none());
            }
            for flow in &mut self.flows {
                while let Some(segment) = flow.sender.poll_transmit(now) {
                    moved = true;
                    self.forward.handle_packet(now, packet(&segment));
                }
                while let Some(segment) = flow.receiver.poll_transmit() {
                    moved = true;
                    self.reverse.handle_packet(now, packet(&segment));
                }
            }
            if !moved {
                return Ok(());
            }
            if rounds >= MAX_ROUNDS_PER_INSTANT {
                return Err(PathError::Livelock { at: now, rounds });
            }
        }
        Ok(())
    }
}

/// `segment` as a datagram the size of the real one, tagged with its flow.
fn packet(segment: &Segment) -> Packet<Vec<u8>> {
    let mut bytes = Vec::new();
    segment.encode(&mut bytes);
    Packet::new(bytes, segment.wire_size()).with_origin(segment.flow())
}
