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
