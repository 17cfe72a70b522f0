//! [`SimUdpSocket`]: a UDP socket whose datagrams travel through the simulated network.
//!
//! webrtc binds a real `std::net::UdpSocket` for every address it is given and only then hands
//! it to [`Runtime::wrap_udp_socket`](webrtc::runtime::Runtime::wrap_udp_socket), keying its
//! sockets and candidates by the real socket's address. So the real bind has to succeed, and the
//! address it reports is the socket's identity in the simulation. The real socket is kept open
//! (so the OS does not hand the address to anyone else while the simulated one lives) and is
//! never read or written: no datagram of a simulation goes through the OS.

use std::io::{self, IoSliceMut};
use std::net::SocketAddr;
use std::sync::Weak;
use std::task::{Context, Poll};

use webrtc::runtime::{AsyncUdpSocket, RecvMeta, Transmit};

use crate::runtime::state::Inner;

/// A UDP socket on a simulated host.
#[derive(Debug)]
pub(crate) struct SimUdpSocket {
    addr: SocketAddr,
    inner: Weak<Inner>,
    /// Holds the address in the OS; never used for I/O.
    _reservation: std::net::UdpSocket,
}

impl SimUdpSocket {
    pub(crate) fn new(addr: SocketAddr, inner: Weak<Inner>, real: std::net::UdpSocket) -> Self {
        Self {
            addr,
            inner,
            _reservation: real,
        }
    }
}

fn shut_down() -> io::Error {
    io::Error::new(
        io::ErrorKind::NotConnected,
        "the simulation this socket belongs to has shut down",
    )
}

impl AsyncUdpSocket for SimUdpSocket {
    fn local_addr(&self) -> io::Result<SocketAddr> {
        Ok(self.addr)
    }

    fn poll_send(&self, _cx: &mut Context<'_>, transmit: &Transmit<'_>) -> Poll<io::Result<usize>> {
        let Some(inner) = self.inner.upgrade() else {
            return Poll::Ready(Err(shut_down()));
        };
        let mut state = inner.lock();
        let state = &mut *state;
        let now = state.now;
        // A GSO batch is several datagrams; the socket reports `max_gso_segments() == 1`, but
        // splitting keeps it correct if a caller sends one anyway.
        match transmit.segment_size {
            Some(size) if size > 0 => {
                for chunk in transmit.contents.chunks(size) {
                    state.network.send(
                        now,
                        &mut state.events,
                        self.addr,
                        transmit.destination,
                        chunk,
                    );
                }
            }
            _ => state.network.send(
                now,
                &mut state.events,
                self.addr,
                transmit.destination,
                transmit.contents,
            ),
        }
        Poll::Ready(Ok(transmit.contents.len()))
    }

    fn poll_recv(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
        meta: &mut [RecvMeta],
    ) -> Poll<io::Result<usize>> {
        let max = bufs.len().min(meta.len());
        if max == 0 {
            return Poll::Ready(Ok(0));
        }
        let Some(inner) = self.inner.upgrade() else {
            return Poll::Ready(Err(shut_down()));
        };
        let mut filled = 0;
        let local_ip = self.addr.ip();
        let got = inner
            .lock()
            .network
            .recv(self.addr, max, cx.waker(), |src, bytes| {
                let len = bytes.len().min(bufs[filled].len());
                bufs[filled][..len].copy_from_slice(&bytes[..len]);
                // `RecvMeta` is non-exhaustive: start from the default and assign.
                let mut m = RecvMeta::default();
                m.addr = src;
                m.len = len;
                // Never 0, even for an empty datagram: webrtc divides by it.
                m.stride = len.max(1);
                m.dst_ip = Some(local_ip);
                meta[filled] = m;
                filled += 1;
            });
        match got {
            None => Poll::Ready(Err(io::Error::new(
                io::ErrorKind::NotConnected,
                format!("{} is not bound in the simulation", self.addr),
            ))),
            Some(0) => Poll::Pending,
            Some(n) => Poll::Ready(Ok(n)),
        }
    }
}

impl Drop for SimUdpSocket {
    fn drop(&mut self) {
        if let Some(inner) = self.inner.upgrade() {
            let waker = inner.lock().network.unbind(self.addr);
            drop(waker);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::net::{SocketAddr, UdpSocket};
    use std::sync::Arc;

    use webrtc::runtime::{AsyncUdpSocket, Runtime};

    use crate::blackout::Window;
    use crate::config::LinkConfig;
    use crate::delay::DelaySchedule;
    use crate::rate::Rate;
    use crate::runtime::{HostId, SimError};
    use crate::sim::Sim;
    use crate::time::{SimDuration, SimTime};

    fn socket(sim: &Sim, host: HostId) -> (Arc<dyn AsyncUdpSocket>, SocketAddr) {
        let ip = sim.host_ip(host).expect("a host of this simulation");
        let real = UdpSocket::bind((ip, 0)).expect("127/8 binds on Linux");
        let socket = sim.wrap_udp_socket(real).expect("a host address");
        let addr = socket.local_addr().expect("bound");
        (socket, addr)
    }

    fn two_hosts(forward: LinkConfig, backward: Option<LinkConfig>) -> (Sim, HostId, HostId) {
        let mut builder = Sim::builder().seed(3);
        let (a, b) = (builder.host("a"), builder.host("b"));
        builder.link(a, b, forward);
        if let Some(config) = backward {
            builder.link(b, a, config);
        }
        (builder.build().expect("valid topology"), a, b)
    }

    /// A datagram must see the link exactly: serialisation of payload plus 28 header bytes at
    /// the capacity, then the propagation delay.
    #[test]
    fn a_datagram_arrives_after_serialisation_and_delay_exactly() {
        let config = LinkConfig {
            capacity: Rate::from_mbps(1).into(),
            delay: SimDuration::from_millis(40),
            ..LinkConfig::default()
        };
        let (sim, a, b) = two_hosts(config, None);
        let (tx, tx_addr) = socket(&sim, a);
        let (rx, rx_addr) = socket(&sim, b);
        let (at, got, from) = sim
            .run(async {
                tx.send_to(&[7; 97], rx_addr).await.expect("sent");
                let mut buf = [0u8; 256];
                let (n, from) = rx.recv_from(&mut buf).await.expect("received");
                (sim.time(), buf[..n].to_vec(), from)
            })
            .expect("runs");
        // 97 + 28 = 125 bytes = 1000 bits: 1 ms at 1 Mbit/s, then 40 ms.
        assert_eq!(at, SimTime::from_millis(41));
        assert_eq!(got, vec![7; 97]);
        assert_eq!(from, tx_addr);
        let stats = sim.link_stats(a, b).expect("the link exists");
        assert_eq!(stats.delivered.bytes, 125);
    }

    /// No simulated datagram may go through the OS, though the real socket stays bound.
    #[test]
    fn nothing_reaches_the_real_socket() {
        let (sim, a, b) = two_hosts(LinkConfig::default(), None);
        let (tx, _) = socket(&sim, a);
        let ip = sim.host_ip(b).expect("exists");
        let real = UdpSocket::bind((ip, 0)).expect("binds");
        let spy = real.try_clone().expect("clones");
        spy.set_nonblocking(true).expect("nonblocking");
        let rx = sim.wrap_udp_socket(real).expect("a host address");
        let rx_addr = rx.local_addr().expect("bound");
        sim.run(async {
            tx.send_to(b"x", rx_addr).await.expect("sent");
            let mut buf = [0u8; 8];
            rx.recv_from(&mut buf)
                .await
                .expect("received in the simulation");
        })
        .expect("runs");
        let mut buf = [0u8; 8];
        let err = spy.recv_from(&mut buf).expect_err("the OS saw nothing");
        assert_eq!(err.kind(), std::io::ErrorKind::WouldBlock);
    }

    /// A datagram with no link to carry it vanishes, as on a real network, and is counted.
    #[test]
    fn a_datagram_without_a_route_vanishes_and_is_counted() {
        let (sim, a, b) = two_hosts(LinkConfig::default(), None);
        let (tx, tx_addr) = socket(&sim, a);
        let (rx, _) = socket(&sim, b);
        sim.run(async {
            rx.send_to(b"back", tx_addr).await.expect("accepted");
            tx.send_to(b"out", "10.9.9.9:9".parse().expect("literal"))
                .await
                .expect("accepted");
            sim.sleep_for(SimDuration::from_secs(1)).await;
        })
        .expect("runs");
        assert_eq!(sim.network_stats().unroutable.packets, 2);
        assert_eq!(sim.network_stats().unroutable.bytes, 4 + 3 + 2 * 28);
    }

    /// An address that is not a simulated host's cannot be wrapped: webrtc would otherwise
    /// send through a socket that can reach nobody.
    #[test]
    fn a_socket_outside_the_simulation_is_refused() {
        let (sim, _, _) = two_hosts(LinkConfig::default(), None);
        let real = UdpSocket::bind("127.0.0.1:0").expect("binds");
        let err = sim.wrap_udp_socket(real).expect_err("not a host");
        assert_eq!(err.kind(), std::io::ErrorKind::AddrNotAvailable);
    }

    /// `partition` must cut both directions and `heal` must restore both.
    #[test]
    fn a_partition_cuts_both_ways_until_healed() {
        let config = LinkConfig {
            delay: SimDuration::from_millis(10),
            ..LinkConfig::default()
        };
        let (sim, a, b) = two_hosts(config.clone(), Some(config));
        let (sa, addr_a) = socket(&sim, a);
        let (sb, addr_b) = socket(&sim, b);
        let got = sim
            .run(async {
                sim.partition(a, b).expect("both links exist");
                sa.send_to(b"1", addr_b).await.expect("accepted");
                sb.send_to(b"2", addr_a).await.expect("accepted");
                sim.sleep_for(SimDuration::from_secs(1)).await;
                sim.heal(a, b).expect("both links exist");
                sa.send_to(b"3", addr_b).await.expect("accepted");
                let mut buf = [0u8; 8];
                let (n, _) = sb.recv_from(&mut buf).await.expect("received");
                (buf[..n].to_vec(), sim.time())
            })
            .expect("runs");
        assert_eq!(got, (b"3".to_vec(), SimTime::from_millis(1010)));
        for (from, to) in [(a, b), (b, a)] {
            let stats = sim.link_stats(from, to).expect("exists");
            assert_eq!(stats.dropped_blackout.packets, 1);
        }
    }

    /// The capacity and blackout verbs must act on the running link at the moment they are
    /// called: the next datagram serialises at the new rate, and one sent into a blackout is
    /// lost while one sent after it passes.
    #[test]
    fn capacity_and_blackout_verbs_take_effect_mid_run() {
        let config = LinkConfig {
            capacity: Rate::from_mbps(1).into(),
            ..LinkConfig::default()
        };
        let (sim, a, b) = two_hosts(config, None);
        let (tx, _) = socket(&sim, a);
        let (rx, rx_addr) = socket(&sim, b);
        let arrivals = sim
            .run(async {
                let mut buf = [0u8; 256];
                let mut arrivals = Vec::new();
                // 222 + 28 = 250 bytes: 2 ms at 1 Mbit/s, 1 ms at 2 Mbit/s.
                tx.send_to(&[1; 222], rx_addr).await.expect("sent");
                rx.recv_from(&mut buf).await.expect("received");
                arrivals.push(sim.time());
                sim.set_capacity(a, b, Rate::from_mbps(2))
                    .expect("a -> b exists");
                tx.send_to(&[2; 222], rx_addr).await.expect("sent");
                rx.recv_from(&mut buf).await.expect("received");
                arrivals.push(sim.time());
                sim.blackout(a, b, SimDuration::from_millis(10))
                    .expect("a -> b exists");
                tx.send_to(&[3; 222], rx_addr).await.expect("sent");
                sim.sleep_for(SimDuration::from_millis(10)).await;
                tx.send_to(&[4; 222], rx_addr).await.expect("sent");
                let (n, _) = rx.recv_from(&mut buf).await.expect("received");
                arrivals.push(sim.time());
                assert_eq!(buf[..n], [4; 222]);
                arrivals
            })
            .expect("runs");
        let us = SimTime::from_micros;
        assert_eq!(arrivals, vec![us(2_000), us(3_000), us(14_000)]);
        let stats = sim.link_stats(a, b).expect("exists");
        assert_eq!(stats.dropped_blackout.packets, 1);
    }

    /// A blackout planned ahead cuts exactly its window: a datagram before it arrives, one
    /// inside it is lost, one after it arrives.
    #[test]
    fn a_planned_blackout_cuts_only_its_window() {
        let (sim, a, b) = two_hosts(LinkConfig::default(), None);
        let (tx, _) = socket(&sim, a);
        let (rx, rx_addr) = socket(&sim, b);
        sim.add_blackout(
            a,
            b,
            Window::new(SimTime::from_millis(10), SimTime::from_millis(20)),
        )
        .expect("a -> b exists");
        let got = sim
            .run(async {
                let mut buf = [0u8; 16];
                let mut got = Vec::new();
                for (at, byte) in [(5, 1u8), (15, 2), (25, 3)] {
                    sim.sleep_until(SimTime::from_millis(at)).await;
                    tx.send_to(&[byte], rx_addr).await.expect("sent");
                }
                for _ in 0..2 {
                    let (n, _) = rx.recv_from(&mut buf).await.expect("received");
                    got.extend_from_slice(&buf[..n]);
                }
                got
            })
            .expect("runs");
        assert_eq!(got, [1, 3]);
        let stats = sim.link_stats(a, b).expect("exists");
        assert_eq!(stats.dropped_blackout.packets, 1);
        let err = sim
            .add_blackout(b, a, Window::new(SimTime::ZERO, SimTime::MAX))
            .expect_err("there is no b -> a");
        assert!(matches!(err, SimError::NoLink { .. }), "{err:?}");
    }

    /// A harness installs a scenario's delay schedule when media starts; its offsets must count
    /// from then and each datagram must take the delay in force when it was sent.
    #[test]
    fn the_delay_verb_takes_effect_mid_run_with_offsets_from_then() {
        let config = LinkConfig {
            delay: SimDuration::from_millis(30),
            ..LinkConfig::default()
        };
        let (sim, a, b) = two_hosts(config, None);
        let (tx, _) = socket(&sim, a);
        let (rx, rx_addr) = socket(&sim, b);
        let arrivals = sim
            .run(async {
                let mut buf = [0u8; 8];
                let mut arrivals = Vec::new();
                sim.sleep_until(SimTime::from_millis(100)).await;
                let steps = [(SimDuration::from_millis(50), SimDuration::from_millis(80))];
                sim.set_delay(
                    a,
                    b,
                    DelaySchedule::steps(SimDuration::from_millis(10), steps),
                )
                .expect("a -> b exists");
                for at in [100, 200] {
                    sim.sleep_until(SimTime::from_millis(at)).await;
                    tx.send_to(&[1], rx_addr).await.expect("sent");
                    rx.recv_from(&mut buf).await.expect("received");
                    arrivals.push(sim.time().as_millis());
                }
                arrivals
            })
            .expect("runs");
        assert_eq!(arrivals, vec![110, 280]);
        assert!(matches!(
            sim.set_delay(b, a, SimDuration::ZERO),
            Err(SimError::NoLink { .. })
        ));
    }

    /// Fault verbs on a direction with no link must say which direction.
    #[test]
    fn a_fault_on_a_missing_link_names_it() {
        let (sim, a, b) = two_hosts(LinkConfig::default(), None);
        let err = sim
            .blackout(b, a, SimDuration::from_secs(1))
            .expect_err("there is no b -> a");
        assert_eq!(
            err,
            SimError::NoLink {
                from: "b".to_owned(),
                to: "a".to_owned()
            }
        );
        assert_eq!(sim.partition(a, b), Ok(()), "one direction is enough");
    }
}
