//! The link model on the wall clock: a UDP relay that puts a [`Link`] (capacity schedule,
//! drop-tail queue, delay, jitter, loss, blackouts) between two real endpoints, so a real
//! application — a browser, another WebRTC stack — meets the same impairments a simulated call
//! does.
//!
//! ```text
//!   endpoint X ──▶ side A ══ link A→B ══▶ side B ──▶ endpoint Y
//!   endpoint X ◀── side A ◀══ link B→A ══ side B ◀── endpoint Y
//! ```
//!
//! The relay binds two UDP sockets, *side A* and *side B*. Endpoint X is given side A's
//! address as its peer's, endpoint Y side B's (for WebRTC: the only ICE candidate in the SDP
//! each receives), so each believes the relay is the other.
//! A datagram arriving on side A enters link A→B and, when the link delivers it, leaves from
//! side B towards side B's endpoint; and the other way round. Each side's endpoint is the
//! source of the latest datagram received on that side (ICE's first checks teach it), or can
//! be set in advance; a datagram delivered before its side has an endpoint is counted
//! undeliverable and dropped.
//!
//! Time is the wall clock ([`tokio::time::Instant`]), read once per event and turned into the
//! link's [`SimTime`] from the relay's start. The link model itself is unchanged: the same
//! seeded stages, so loss and jitter draws follow the seed (the arrival instants, being real,
//! do not repeat exactly from run to run). Each datagram is charged its payload plus 28 bytes
//! of IPv4 and UDP headers ([`UDP_IPV4_OVERHEAD`]), as in the simulator, and
//! each link keeps its per-packet log ([`crate::PacketRecord`]) for the same recorder and
//! metrics as a simulated call.
//!
//! Timer resolution is tokio's (1 ms), so a packet may leave up to about a millisecond after
//! the model says; at 1 500-byte packets that is the serialisation time of one packet at
//! 12 Mbit/s, which bounds the rates at which the relay is faithful on a loaded machine.

use std::io;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;

use tokio::net::UdpSocket;
use tokio::sync::{Notify, mpsc};
use tokio::task::JoinHandle;
use tokio::time::Instant;

use crate::config::{ConfigError, LinkConfig};
use crate::link::Link;
use crate::packet::{Packet, UDP_IPV4_OVERHEAD};
use crate::schedule::RateSchedule;
use crate::stats::{LinkStats, PacketRecord};
use crate::time::SimTime;

/// The largest datagram the relay carries (an Ethernet-sized MTU's UDP payload and more).
const MAX_DATAGRAM: usize = 65_535;

/// The two directions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    /// From side A's endpoint to side B's.
    AToB,
    /// From side B's endpoint to side A's.
    BToA,
}

/// Settings for a [`ShapingRelay`].
#[derive(Debug, Clone)]
pub struct RelayConfig {
    /// The link from side A's endpoint to side B's.
    pub a_to_b: LinkConfig,
    /// The link from side B's endpoint to side A's.
    pub b_to_a: LinkConfig,
    /// The seed of both links' random stages (each link gets its own stream of it).
    pub seed: u64,
}

/// What one direction did, when the relay stopped.
#[derive(Debug, Clone)]
pub struct DirectionReport {
    /// The link's totals.
    pub stats: LinkStats,
    /// Every packet's fate, in the order packets met it (the links always keep the log).
    pub log: Vec<PacketRecord>,
    /// Datagrams the link delivered while the far side had no endpoint yet.
    pub undeliverable: u64,
    /// Datagrams the socket would not send (counted, not retried).
    pub send_errors: u64,
    /// Capacity changes the link refused (it has no bottleneck to change).
    pub capacity_refused: u64,
}

/// What the relay did, when it stopped.
#[derive(Debug, Clone)]
pub struct RelayReport {
    /// When the relay started: the links' time zero.
    pub start: Instant,
    /// Side A's endpoint → side B's.
    pub a_to_b: DirectionReport,
    /// Side B's endpoint → side A's.
    pub b_to_a: DirectionReport,
}

/// Why a relay could not start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum RelayError {
    /// A link's settings are invalid.
    #[error("link {direction:?}: {source}")]
    Config {
        /// Which link.
        direction: Direction,
        /// What is wrong.
        #[source]
        source: ConfigError,
    },
    /// A socket could not be bound or read.
    #[error("relay socket: {0}")]
    Io(#[from] io::Error),
}

enum Event {
    Stop,
    Tick,
    Received(usize, (usize, SocketAddr)),
    Command(Command),
}

enum Command {
    SetCapacity(Direction, RateSchedule),
    SetEndpoint(Direction, SocketAddr),
}

/// A running relay; see the module docs.
#[derive(Debug)]
pub struct ShapingRelay {
    side_a: SocketAddr,
    side_b: SocketAddr,
    start: Instant,
    commands: mpsc::UnboundedSender<Command>,
    stop: Arc<Notify>,
    task: JoinHandle<io::Result<RelayReport>>,
}

struct Side {
    socket: UdpSocket,
    /// Where datagrams delivered out of this side go.
    endpoint: Option<SocketAddr>,
}

struct Direct {
    link: Link<Vec<u8>>,
    undeliverable: u64,
    send_errors: u64,
    capacity_refused: u64,
}

impl Direct {
    fn new(link: Link<Vec<u8>>) -> Self {
        Self {
            link,
            undeliverable: 0,
            send_errors: 0,
            capacity_refused: 0,
        }
    }

    fn report(mut self) -> DirectionReport {
        DirectionReport {
            stats: *self.link.stats(),
            log: self.link.take_log(),
            undeliverable: self.undeliverable,
            send_errors: self.send_errors,
            capacity_refused: self.capacity_refused,
        }
    }
}

impl ShapingRelay {
    /// Binds side A and side B on `ip` (ephemeral ports) and starts relaying on the current
    /// tokio runtime. Both links keep their per-packet log whatever `record_log` says.
    pub async fn start(ip: IpAddr, config: RelayConfig) -> Result<Self, RelayError> {
        let link = |mut c: LinkConfig, direction: Direction, seed: u64| {
            c.record_log = true;
            Link::new(&c, seed).map_err(|source| RelayError::Config { direction, source })
        };
        let a_to_b = link(config.a_to_b, Direction::AToB, config.seed)?;
        let b_to_a = link(
            config.b_to_a,
            Direction::BToA,
            config.seed ^ 0x9E37_79B9_7F4A_7C15,
        )?;
        let a = UdpSocket::bind(SocketAddr::new(ip, 0)).await?;
        let b = UdpSocket::bind(SocketAddr::new(ip, 0)).await?;
        let (side_a, side_b) = (a.local_addr()?, b.local_addr()?);
        let (commands, rx) = mpsc::unbounded_channel();
        let stop = Arc::new(Notify::new());
        let start = Instant::now();
        let task = tokio::spawn(run(
            start,
            [
                Side {
                    socket: a,
                    endpoint: None,
                },
                Side {
                    socket: b,
                    endpoint: None,
                },
            ],
            [Direct::new(a_to_b), Direct::new(b_to_a)],
            rx,
            Arc::clone(&stop),
        ));
        Ok(Self {
            side_a,
            side_b,
            start,
            commands,
            stop,
            task,
        })
    }

    /// Side A's address: give it to endpoint X (the one whose datagrams take link A→B) as
    /// its peer's.
    pub fn side_a(&self) -> SocketAddr {
        self.side_a
    }

    /// Side B's address: give it to endpoint Y as its peer's.
    pub fn side_b(&self) -> SocketAddr {
        self.side_b
    }

    /// The links' time zero.
    pub fn start_instant(&self) -> Instant {
        self.start
    }

    /// Replaces `direction`'s capacity from now on; the schedule's offsets count from now.
    pub fn set_capacity(&self, direction: Direction, schedule: impl Into<RateSchedule>) {
        // The task ends only through `stop`, which consumes `self`: the send cannot fail.
        let _ = self
            .commands
            .send(Command::SetCapacity(direction, schedule.into()));
    }

    /// Sends what `direction` delivers to `endpoint` from now on (until a datagram from
    /// another source arrives on that side).
    pub fn set_endpoint(&self, direction: Direction, endpoint: SocketAddr) {
        let _ = self
            .commands
            .send(Command::SetEndpoint(direction, endpoint));
    }

    /// Stops relaying (packets still in a link are dropped with it) and returns what happened.
    pub async fn stop(self) -> io::Result<RelayReport> {
        self.stop.notify_one();
        self.task
            .await
            .map_err(|e| io::Error::other(format!("relay task: {e}")))?
    }
}

fn sim_time(start: Instant, now: Instant) -> SimTime {
    SimTime::from_nanos(u64::try_from((now - start).as_nanos()).unwrap_or(u64::MAX))
}

/// The side a direction enters at, and the side it leaves from.
fn sides(direction: usize) -> (usize, usize) {
    (direction, 1 - direction)
}

async fn run(
    start: Instant,
    mut sides_: [Side; 2],
    mut links: [Direct; 2],
    mut commands: mpsc::UnboundedReceiver<Command>,
    stop: Arc<Notify>,
) -> io::Result<RelayReport> {
    let mut buf_a = vec![0u8; MAX_DATAGRAM];
    let mut buf_b = vec![0u8; MAX_DATAGRAM];
    loop {
        let now = sim_time(start, Instant::now());
        for (d, direct) in links.iter_mut().enumerate() {
            let (_, out) = sides(d);
            while let Some(delivered) = direct.link.poll_delivery(now) {
                let side = &sides_[out];
                match side.endpoint {
                    Some(to) => {
                        if side
                            .socket
                            .try_send_to(&delivered.packet.payload, to)
                            .is_err()
                        {
                            direct.send_errors += 1;
                        }
                    }
                    None => direct.undeliverable += 1,
                }
            }
        }
        let next = links
            .iter()
            .filter_map(|d| d.link.poll_timeout())
            .min()
            .map(|t| start + t.since_start().to_std());
        let sleep = async {
            match next {
                Some(at) => tokio::time::sleep_until(at).await,
                None => std::future::pending().await,
            }
        };
        let event = {
            let [side_a, side_b] = &sides_;
            tokio::select! {
                () = stop.notified() => Event::Stop,
                received = side_a.socket.recv_from(&mut buf_a) => Event::Received(0, received?),
                received = side_b.socket.recv_from(&mut buf_b) => Event::Received(1, received?),
                command = commands.recv() => command.map_or(Event::Tick, Event::Command),
                () = sleep => Event::Tick,
            }
        };
        match event {
            Event::Stop => break,
            Event::Tick => {}
            Event::Received(side, (n, from)) => {
                sides_[side].endpoint = Some(from);
                let bytes = if side == 0 { &buf_a[..n] } else { &buf_b[..n] };
                enter(&mut links[side], start, bytes);
            }
            Event::Command(Command::SetCapacity(direction, schedule)) => {
                let direct = &mut links[direction as usize];
                let now = sim_time(start, Instant::now()).max(direct.link.now());
                if direct.link.set_capacity(now, schedule).is_err() {
                    direct.capacity_refused += 1;
                }
            }
            Event::Command(Command::SetEndpoint(direction, endpoint)) => {
                let (_, out) = sides(direction as usize);
                sides_[out].endpoint = Some(endpoint);
            }
        }
    }
    let [a_to_b, b_to_a] = links;
    Ok(RelayReport {
        start,
        a_to_b: a_to_b.report(),
        b_to_a: b_to_a.report(),
    })
}

fn enter(direct: &mut Direct, start: Instant, bytes: &[u8]) {
    let now = sim_time(start, Instant::now()).max(direct.link.now());
    let size = u32::try_from(bytes.len()).unwrap_or(u32::MAX) + UDP_IPV4_OVERHEAD;
    direct
        .link
        .handle_packet(now, Packet::new(bytes.to_vec(), size));
}
