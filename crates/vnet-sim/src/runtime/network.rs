//! The simulated network: hosts, the directed [`Link`] between each ordered pair, and the
//! receive queues of bound sockets.
//!
//! A datagram sent from `a` to `b` enters the link `a → b` as a packet of its payload size plus
//! [`UDP_IPV4_OVERHEAD`] (the link's capacity and queue count what a wire would carry). When the
//! link delivers it, it lands in the receive queue of the socket bound to the destination
//! address, and that socket's waker is woken. A link asks to be polled again through the event
//! queue, so deliveries are timers like any other and fire in the same `(deadline, sequence)`
//! order.
//!
//! # Routes
//!
//! A datagram at a host goes next over the direct link to its destination host if there is one,
//! else over the link named by that host's static route for the destination
//! ([`crate::SimBuilder::route`]). When a link delivers a datagram addressed to a host other than
//! the link's end host, the network hands it to the next hop at that same instant: a router with
//! no forwarding delay of its own (model one with a link's delay or capacity). Forwarding happens
//! inside the delivering link's wake-up, in delivery order, so it adds no event and no
//! randomness, and a topology without routes runs exactly as before. Static routes, not a
//! routing protocol, because a scenario names its topology up front (RFC 8867 §5.5: several
//! access links into one bottleneck) and a protocol's convergence would be noise in the result.
//!
//! The builder refuses loops, so the hop limit (as many forwards as there are hosts) is only a
//! guard; a datagram that reaches it is counted in [`NetworkStats::hop_limit`].
//!
//! Every datagram enters its first link tagged with the sending host's index
//! ([`crate::Packet::origin`]), kept on every hop, so a shared link's log tells its flows apart.
//!
//! Datagrams with no way on to their destination host, or for an address nobody has bound,
//! vanish as on a real network, and are counted in [`NetworkStats`].

use std::collections::{HashMap, VecDeque};
use std::fmt;
use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr, SocketAddrV4};
use std::task::Waker;

use crate::blackout::Window;
use crate::capture::{Capture, UdpFrame};
use crate::config::{ConfigError, LinkConfig, LinkError};
use crate::link::{Link, Pipeline, pipeline};
use crate::packet::Packet;
use crate::runtime::event::{Events, LinkId};
use crate::schedule::RateSchedule;
use crate::stats::{Counter, LinkStats, PacketRecord};
use crate::time::SimTime;

pub use crate::packet::UDP_IPV4_OVERHEAD;

/// Datagrams a socket's receive queue holds before it drops new ones (a socket buffer of about
/// 1.5 MB of 200-byte datagrams; webrtc drains its sockets on every wake, so this only bounds a
/// socket nobody reads).
const INBOX_LIMIT: usize = 8192;

/// A host of a simulation, as returned by [`crate::SimBuilder::host`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct HostId(pub(crate) usize);

impl HostId {
    /// The host's index in its simulation: 0 for the first host added, then 1, 2, … It is the
    /// [`crate::PacketRecord::origin`] of every packet the host sends, so a shared link's log
    /// can be split per sending host.
    pub fn index(self) -> u32 {
        origin_of(self.0)
    }
}

/// The origin tag of host index `host` (host indices stay far below `u32::MAX`: each host takes
/// one of fewer than 2^24 loopback addresses).
fn origin_of(host: usize) -> u32 {
    u32::try_from(host).unwrap_or(u32::MAX)
}

impl fmt::Display for HostId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "host #{}", self.0)
    }
}

/// What the network itself (outside the links) did with datagrams.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct NetworkStats {
    /// Sent or forwarded at a host with neither a link nor a route to the destination host, or
    /// sent to an address outside the simulation.
    pub unroutable: Counter,
    /// Delivered by a link to an address no socket is bound to.
    pub no_socket: Counter,
    /// Dropped because the receiving socket's queue was full.
    pub socket_overflow: Counter,
    /// Dropped rather than forwarded more times than there are hosts: a routing loop. The builder refuses
    /// loops, so this stays zero; it is a guard.
    pub hop_limit: Counter,
}

/// A UDP datagram in flight.
#[derive(Clone, Debug)]
pub(crate) struct Datagram {
    src: SocketAddr,
    dst: SocketAddr,
    bytes: Vec<u8>,
    /// Times forwarded so far.
    hops: usize,
}

impl UdpFrame for Datagram {
    fn udp(&self) -> Option<(SocketAddrV4, SocketAddrV4, &[u8])> {
        match (self.src, self.dst) {
            (SocketAddr::V4(src), SocketAddr::V4(dst)) => Some((src, dst, &self.bytes)),
            _ => None,
        }
    }
}

/// A link of the runtime: the [`LinkConfig`] pipeline behind a [`Capture`] at its entrance
/// (a pass-through unless the simulation captures).
pub(crate) type SimLink = Link<Datagram, Capture<Pipeline<Datagram>>>;

/// Builds the link `config` describes, capturing at its entrance when `capture`.
pub(crate) fn sim_link(
    config: &LinkConfig,
    seed: u64,
    capture: bool,
) -> Result<SimLink, ConfigError> {
    let stages = Capture::new(capture, pipeline(config, seed)?);
    Ok(Link::from_stages(stages, config.record_log))
}

#[derive(Debug)]
struct Host {
    name: String,
    ip: Ipv4Addr,
    /// Peers built on this host so far (each gets its own seed).
    peers: u32,
}

#[derive(Debug)]
struct LinkSlot {
    link: SimLink,
    /// The host at the far end.
    to: usize,
    /// The earliest wake-up armed in the event queue and not yet fired.
    armed: Option<SimTime>,
}

#[derive(Debug, Default)]
struct Inbox {
    queue: VecDeque<(SocketAddr, Vec<u8>)>,
    waker: Option<Waker>,
}

/// Hosts, links and sockets.
#[derive(Debug, Default)]
pub(crate) struct Network {
    hosts: Vec<Host>,
    by_ip: HashMap<IpAddr, usize>,
    links: Vec<LinkSlot>,
    /// The direct link of each `(from, to)` pair that has one.
    direct: HashMap<(usize, usize), LinkId>,
    /// Static routes: `(at, dst)` to the link `at → via` a datagram takes next.
    next_hops: HashMap<(usize, usize), LinkId>,
    inboxes: HashMap<SocketAddr, Inbox>,
    stats: NetworkStats,
}

impl Network {
    /// Adds a host at `ip`.
    pub(crate) fn add_host(&mut self, name: String, ip: Ipv4Addr) -> HostId {
        let id = self.hosts.len();
        self.hosts.push(Host { name, ip, peers: 0 });
        self.by_ip.insert(IpAddr::V4(ip), id);
        HostId(id)
    }

    /// Adds the link `from → to`. The caller has checked the hosts exist and the pair is new.
    pub(crate) fn add_link(&mut self, from: HostId, to: HostId, link: SimLink) {
        let id = self.links.len();
        self.links.push(LinkSlot {
            link,
            to: to.0,
            armed: None,
        });
        self.direct.insert((from.0, to.0), id);
    }

    /// Sends datagrams at `at` for `dst` over the link `at → via`. The caller has checked the
    /// hosts, the link and the absence of loops.
    pub(crate) fn add_route(&mut self, at: HostId, dst: HostId, via: HostId) {
        if let Some(id) = self.link(at, via) {
            self.next_hops.insert((at.0, dst.0), id);
        }
    }

    /// The host's name, if it exists.
    pub(crate) fn name(&self, host: HostId) -> Option<&str> {
        self.hosts.get(host.0).map(|h| h.name.as_str())
    }

    /// The host's address, if it exists.
    pub(crate) fn ip(&self, host: HostId) -> Option<Ipv4Addr> {
        self.hosts.get(host.0).map(|h| h.ip)
    }

    /// The index of the next peer built on `host`: 0, 1, 2, …
    pub(crate) fn next_peer_index(&mut self, host: HostId) -> u32 {
        self.hosts.get_mut(host.0).map_or(0, |h| {
            h.peers += 1;
            h.peers - 1
        })
    }

    /// The host at `ip`, if any.
    pub(crate) fn host_at(&self, ip: IpAddr) -> Option<HostId> {
        self.by_ip.get(&ip).copied().map(HostId)
    }

    /// The link `from → to`, if any.
    pub(crate) fn link(&self, from: HostId, to: HostId) -> Option<LinkId> {
        self.direct.get(&(from.0, to.0)).copied()
    }

    /// The link a datagram at host `at` for host `dst` takes next: the direct one if any, else
    /// the route's.
    fn next_link(&self, at: usize, dst: usize) -> Option<LinkId> {
        self.direct
            .get(&(at, dst))
            .or_else(|| self.next_hops.get(&(at, dst)))
            .copied()
    }

    /// Opens a receive queue for `addr`, which must belong to a host.
    pub(crate) fn bind(&mut self, addr: SocketAddr) -> io::Result<()> {
        if self.host_at(addr.ip()).is_none() {
            return Err(io::Error::new(
                io::ErrorKind::AddrNotAvailable,
                format!("{addr} is not the address of a host of this simulation"),
            ));
        }
        if self.inboxes.contains_key(&addr) {
            return Err(io::Error::new(
                io::ErrorKind::AddrInUse,
                format!("{addr} is already bound in this simulation"),
            ));
        }
        self.inboxes.insert(addr, Inbox::default());
        Ok(())
    }

    /// Closes `addr`'s receive queue; datagrams still in it are discarded.
    pub(crate) fn unbind(&mut self, addr: SocketAddr) -> Option<Waker> {
        self.inboxes.remove(&addr).and_then(|i| i.waker)
    }

    /// Hands a datagram from `src` to `dst` to the first link on the way to `dst`'s host, tagged
    /// with the sending host.
    pub(crate) fn send(
        &mut self,
        now: SimTime,
        events: &mut Events,
        src: SocketAddr,
        dst: SocketAddr,
        bytes: &[u8],
    ) {
        let size = u32::try_from(bytes.len())
            .unwrap_or(u32::MAX)
            .saturating_add(UDP_IPV4_OVERHEAD);
        let route = self
            .host_at(src.ip())
            .zip(self.host_at(dst.ip()))
            .and_then(|(from, to)| Some((from, self.next_link(from.0, to.0)?)));
        let Some((from, id)) = route else {
            self.stats.unroutable.add(size);
            return;
        };
        let datagram = Datagram {
            src,
            dst,
            bytes: bytes.to_vec(),
            hops: 0,
        };
        let packet = Packet::new(datagram, size).with_origin(from.index());
        self.links[id].link.handle_packet(now, packet);
        self.arm(id, events);
    }

    /// Hands a datagram a link delivered at host `at` to the next link towards its destination
    /// host `dst`, at `now`.
    fn forward(
        &mut self,
        now: SimTime,
        events: &mut Events,
        at: usize,
        dst: usize,
        packet: Packet<Datagram>,
    ) {
        let Packet {
            payload: mut datagram,
            size,
            origin,
        } = packet;
        datagram.hops += 1;
        if datagram.hops > self.hosts.len() {
            self.stats.hop_limit.add(size);
            return;
        }
        let Some(id) = self.next_link(at, dst) else {
            self.stats.unroutable.add(size);
            return;
        };
        let packet = Packet::new(datagram, size).with_origin(origin);
        self.links[id].link.handle_packet(now, packet);
        self.arm(id, events);
    }

    /// Takes up to `max` datagrams queued for `addr`, or keeps `waker` for when one arrives.
    /// `None` when `addr` is not bound.
    pub(crate) fn recv(
        &mut self,
        addr: SocketAddr,
        max: usize,
        waker: &Waker,
        mut take: impl FnMut(SocketAddr, &[u8]),
    ) -> Option<usize> {
        let inbox = self.inboxes.get_mut(&addr)?;
        let mut n = 0;
        while n < max {
            let Some((src, bytes)) = inbox.queue.pop_front() else {
                break;
            };
            take(src, &bytes);
            n += 1;
        }
        if n == 0 {
            match &mut inbox.waker {
                Some(w) if w.will_wake(waker) => {}
                w => *w = Some(waker.clone()),
            }
        }
        Some(n)
    }

    /// Whether a wake-up of link `id` at `at` is the one currently armed.
    pub(crate) fn link_is_armed(&self, id: LinkId, at: SimTime) -> bool {
        self.links.get(id).is_some_and(|l| l.armed == Some(at))
    }

    /// Runs link `id` at `now`: delivers what is due into receive queues (collecting the wakers
    /// to wake) or, for datagrams addressed beyond the link's end host, on to their next link;
    /// then arms its next wake-up.
    pub(crate) fn fire_link(
        &mut self,
        id: LinkId,
        now: SimTime,
        events: &mut Events,
        wakers: &mut Vec<Waker>,
    ) {
        let Some(slot) = self.links.get_mut(id) else {
            return;
        };
        slot.armed = None;
        let end = slot.to;
        // Forwards wait until the slot is no longer borrowed; the order they are handed on in
        // is the delivery order, so it is deterministic.
        let mut forwards = Vec::new();
        while let Some(delivered) = slot.link.poll_delivery(now) {
            let dst_host = self.by_ip.get(&delivered.packet.payload.dst.ip()).copied();
            if let Some(dst_host) = dst_host.filter(|&h| h != end) {
                forwards.push((dst_host, delivered.packet));
                continue;
            }
            let size = delivered.packet.size;
            let Datagram {
                src, dst, bytes, ..
            } = delivered.packet.payload;
            match self.inboxes.get_mut(&dst) {
                None => self.stats.no_socket.add(size),
                Some(inbox) if inbox.queue.len() >= INBOX_LIMIT => {
                    self.stats.socket_overflow.add(size);
                }
                Some(inbox) => {
                    inbox.queue.push_back((src, bytes));
                    wakers.extend(inbox.waker.take());
                }
            }
        }
        self.arm(id, events);
        for (dst_host, packet) in forwards {
            self.forward(now, events, end, dst_host, packet);
        }
    }

    /// Arms link `id`'s next wake-up unless an earlier or equal one is armed already.
    fn arm(&mut self, id: LinkId, events: &mut Events) {
        let Some(slot) = self.links.get_mut(id) else {
            return;
        };
        if let Some(at) = slot.link.poll_timeout() {
            if slot.armed.is_none_or(|armed| at < armed) {
                slot.armed = Some(at);
                events.arm_link(at, id);
            }
        }
    }

    /// Applies a change to link `id` at `now` and re-arms it.
    pub(crate) fn change(
        &mut self,
        id: LinkId,
        now: SimTime,
        events: &mut Events,
        change: LinkChange<'_>,
    ) -> Result<(), LinkError> {
        let Some(slot) = self.links.get_mut(id) else {
            return Ok(());
        };
        match change {
            LinkChange::Capacity(schedule) => slot.link.set_capacity(now, schedule.clone())?,
            LinkChange::Blackout(window) => slot.link.add_blackout(now, window)?,
            LinkChange::EndBlackouts => slot.link.end_blackouts(now)?,
            LinkChange::Delay(schedule) => slot.link.set_delay(now, schedule.clone())?,
        }
        self.arm(id, events);
        Ok(())
    }

    /// Link `id`'s totals.
    pub(crate) fn link_stats(&self, id: LinkId) -> Option<LinkStats> {
        self.links.get(id).map(|l| *l.link.stats())
    }

    /// Link `id`'s per-packet log so far.
    pub(crate) fn link_log(&self, id: LinkId) -> Option<Vec<PacketRecord>> {
        self.links.get(id).map(|l| l.link.log().to_vec())
    }

    /// Takes the pcap file of every capturing link, as `(from, to, file)` in the order the
    /// links were added; each link goes on capturing into a new file.
    pub(crate) fn take_captures(&mut self) -> Vec<(HostId, HostId, Vec<u8>)> {
        let mut pairs: Vec<((usize, usize), LinkId)> =
            self.direct.iter().map(|(&pair, &id)| (pair, id)).collect();
        pairs.sort_unstable_by_key(|&(_, id)| id);
        pairs
            .into_iter()
            .filter_map(|((from, to), id)| {
                let pcap = self.links.get_mut(id)?.link.stages_mut().take_pcap()?;
                Some((HostId(from), HostId(to), pcap))
            })
            .collect()
    }

    /// What the network dropped outside the links.
    pub(crate) fn stats(&self) -> NetworkStats {
        self.stats
    }

    /// Empties every receive queue (shutdown), returning their wakers to drop unlocked.
    pub(crate) fn clear_inboxes(&mut self) -> Vec<Waker> {
        self.inboxes.drain().filter_map(|(_, i)| i.waker).collect()
    }
}

/// A fault applied to a running link.
#[derive(Clone, Copy, Debug)]
pub(crate) enum LinkChange<'a> {
    Capacity(&'a RateSchedule),
    Blackout(Window),
    EndBlackouts,
    Delay(&'a crate::delay::DelaySchedule),
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::runtime::event::EventKind;
    use crate::time::SimDuration;

    fn link(ms: u64) -> SimLink {
        let config = LinkConfig {
            delay: SimDuration::from_millis(ms),
            record_log: true,
            ..LinkConfig::default()
        };
        sim_link(&config, 1, false).expect("valid config")
    }

    /// Fires every link event in order, as the driver does.
    fn run(network: &mut Network, events: &mut Events) {
        let mut wakers = Vec::new();
        while let Some(event) = events.pop() {
            if let EventKind::Link(id) = event.kind {
                if network.link_is_armed(id, event.at) {
                    network.fire_link(id, event.at, events, &mut wakers);
                }
            }
        }
    }

    /// The builder refuses loops, but a table that loops anyway must drop the datagram after a
    /// bounded number of forwards, not circle it forever.
    #[test]
    fn a_routing_loop_that_slips_past_the_builder_is_cut_by_the_hop_limit() {
        let mut network = Network::default();
        let a = network.add_host("a".into(), Ipv4Addr::new(10, 0, 0, 1));
        let r = network.add_host("r".into(), Ipv4Addr::new(10, 0, 0, 2));
        let d = network.add_host("d".into(), Ipv4Addr::new(10, 0, 0, 3));
        network.add_link(a, r, link(1));
        network.add_link(r, a, link(1));
        network.add_route(a, d, r);
        network.add_route(r, d, a);
        let mut events = Events::default();
        let src = SocketAddr::new(Ipv4Addr::new(10, 0, 0, 1).into(), 1);
        let dst = SocketAddr::new(Ipv4Addr::new(10, 0, 0, 3).into(), 1);
        network.send(SimTime::ZERO, &mut events, src, dst, b"x");
        run(&mut network, &mut events);
        let stats = network.stats();
        assert_eq!(stats.hop_limit.packets, 1);
        assert_eq!(stats.unroutable.packets, 0);
        // Sent once, then forwarded once per host before the limit: four link crossings.
        let crossings: usize = [0, 1]
            .iter()
            .map(|&id| network.link_log(id).expect("exists").len())
            .sum();
        assert_eq!(crossings, 4);
    }

    /// A direct link wins over a route, so adding routes never changes a direct path's timing.
    #[test]
    fn a_direct_link_takes_precedence_over_a_route() {
        let mut network = Network::default();
        let a = network.add_host("a".into(), Ipv4Addr::new(10, 0, 1, 1));
        let r = network.add_host("r".into(), Ipv4Addr::new(10, 0, 1, 2));
        let d = network.add_host("d".into(), Ipv4Addr::new(10, 0, 1, 3));
        network.add_link(a, r, link(1));
        network.add_link(r, d, link(1));
        network.add_link(a, d, link(7));
        network.add_route(a, d, r);
        let mut events = Events::default();
        let src = SocketAddr::new(Ipv4Addr::new(10, 0, 1, 1).into(), 1);
        let dst = SocketAddr::new(Ipv4Addr::new(10, 0, 1, 3).into(), 1);
        network.send(SimTime::ZERO, &mut events, src, dst, b"x");
        run(&mut network, &mut events);
        let direct = network.link_log(2).expect("a -> d");
        assert_eq!(direct.len(), 1);
        assert_eq!(direct[0].origin, a.index());
        assert!(network.link_log(0).expect("a -> r").is_empty());
    }
}
