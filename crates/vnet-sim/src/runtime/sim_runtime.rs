//! [`SimRuntime`]: webrtc's [`Runtime`] on a simulation, and the simulation's controls.
//!
//! Everything webrtc asks of a runtime maps onto the simulation: tasks onto the single-threaded
//! executor ([`crate::runtime::executor`]), `now`/`sleep`/`interval` onto the virtual clock, UDP
//! sockets onto simulated hosts and links. TCP and DNS are not simulated: they report
//! `Unsupported` (ICE-TCP and TURN-over-TCP are out of scope; literal addresses resolve).

use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use webrtc::runtime::{
    AsyncInterval, AsyncTcpListener, AsyncTcpStream, AsyncUdpSocket, JoinHandle, Runtime,
};

use crate::blackout::Window;
use crate::delay::DelaySchedule;
use crate::runtime::driver;
use crate::runtime::error::SimError;
use crate::runtime::event::LinkId;
use crate::runtime::executor::{BoxFuture, SimJoinHandle};
use crate::runtime::network::{HostId, LinkChange, NetworkStats};
use crate::runtime::socket::SimUdpSocket;
use crate::runtime::state::Inner;
use crate::runtime::timer::{SimInterval, Sleep};
use crate::schedule::RateSchedule;
use crate::stats::{LinkStats, PacketRecord};
use crate::time::{SimDuration, SimTime};

/// The runtime of one simulation. Pass it to webrtc with
/// `PeerConnectionBuilder::with_runtime(sim.runtime())`; it is also where the simulation is
/// driven ([`run`](Self::run)) and changed while it runs (the fault verbs).
///
/// Obtained from a [`crate::Sim`], which owns the simulation: when the `Sim` is dropped every
/// task is dropped and the runtime refuses further runs.
#[derive(Debug)]
pub struct SimRuntime {
    pub(crate) inner: Arc<Inner>,
}

impl SimRuntime {
    /// Drives `future`, and every task spawned on this runtime, until `future` completes.
    ///
    /// Virtual time advances only when every task is waiting, straight to the next timer or
    /// packet delivery. Fails on a livelock, a stall (nothing left that could wake `future`),
    /// past the time limit, or when called while a run is in progress.
    pub fn run<F: Future>(&self, future: F) -> Result<F::Output, SimError> {
        driver::run(&self.inner, future)
    }

    /// Why the last [`Runtime::block_on`] that failed on this runtime stopped before its future
    /// completed, taken (a second call gives `None`); `None` when none failed since the last
    /// call. The error says what the run reached: the virtual time it stopped at, and for a
    /// time limit the next event and the limit.
    pub fn take_block_on_error(&self) -> Option<SimError> {
        self.inner.lock().block_on_error.take()
    }

    /// The simulation's seed.
    pub fn seed(&self) -> u64 {
        self.inner.seed
    }

    /// The current virtual time.
    pub fn time(&self) -> SimTime {
        self.inner.lock().now
    }

    /// Virtual time `t` as an `Instant` on this simulation's clock (what
    /// [`Runtime::now`] returns at `t`).
    pub fn instant_at(&self, t: SimTime) -> Instant {
        self.inner.instant(t)
    }

    /// The virtual time of an `Instant` taken from this simulation's clock (zero for one before
    /// the simulation started).
    pub fn time_of(&self, instant: Instant) -> SimTime {
        SimTime::ZERO + SimDuration::from(instant.saturating_duration_since(self.inner.base))
    }

    /// Completes `duration` of virtual time from now.
    pub fn sleep_for(&self, duration: SimDuration) -> Sleep {
        Sleep::after(&self.inner, duration)
    }

    /// Completes when the virtual clock reaches `deadline` (at once if it has).
    pub fn sleep_until(&self, deadline: SimTime) -> Sleep {
        Sleep::until(&self.inner, deadline)
    }

    /// The loopback address of `host`.
    pub fn host_ip(&self, host: HostId) -> Result<Ipv4Addr, SimError> {
        self.inner
            .lock()
            .network
            .ip(host)
            .ok_or(SimError::UnknownHost { host })
    }

    /// The name `host` was given.
    pub fn host_name(&self, host: HostId) -> Result<String, SimError> {
        self.inner
            .lock()
            .network
            .name(host)
            .map(str::to_owned)
            .ok_or(SimError::UnknownHost { host })
    }

    /// The index of the next peer built on `host` (0 for the first), which keys its seed.
    pub(crate) fn next_peer_index(&self, host: HostId) -> u32 {
        self.inner.lock().network.next_peer_index(host)
    }

    /// Replaces the capacity of the link `from → to` from now on (a [`crate::Rate`] converts);
    /// the schedule's offsets count from now.
    pub fn set_capacity(
        &self,
        from: HostId,
        to: HostId,
        schedule: impl Into<RateSchedule>,
    ) -> Result<(), SimError> {
        let schedule = schedule.into();
        self.change(from, to, LinkChange::Capacity(&schedule))
    }

    /// Replaces the propagation delay of the link `from → to` from now on (a [`SimDuration`]
    /// converts); the schedule's offsets count from now, and packets on the wire keep the delay
    /// they were sent with (see [`crate::delay`]).
    pub fn set_delay(
        &self,
        from: HostId,
        to: HostId,
        schedule: impl Into<DelaySchedule>,
    ) -> Result<(), SimError> {
        let schedule = schedule.into();
        self.change(from, to, LinkChange::Delay(&schedule))
    }

    /// Cuts the wire `from → to` for `duration` from now: packets leaving its queue meanwhile
    /// are lost (see [`crate::blackout`]).
    pub fn blackout(
        &self,
        from: HostId,
        to: HostId,
        duration: SimDuration,
    ) -> Result<(), SimError> {
        let now = self.time();
        self.change(
            from,
            to,
            LinkChange::Blackout(Window::new(now, now + duration)),
        )
    }

    /// Cuts the wire `from → to` during `window` (absolute simulation time; a part already past
    /// has no effect): a blackout planned ahead, e.g. at an offset from the start of media.
    pub fn add_blackout(&self, from: HostId, to: HostId, window: Window) -> Result<(), SimError> {
        self.change(from, to, LinkChange::Blackout(window))
    }

    /// Cuts both directions between `a` and `b` until [`heal`](Self::heal). Either direction
    /// may be missing; at least one must exist.
    pub fn partition(&self, a: HostId, b: HostId) -> Result<(), SimError> {
        let now = self.time();
        self.both_ways(a, b, LinkChange::Blackout(Window::new(now, SimTime::MAX)))
    }

    /// Ends every blackout and partition between `a` and `b`, in both directions, now.
    pub fn heal(&self, a: HostId, b: HostId) -> Result<(), SimError> {
        self.both_ways(a, b, LinkChange::EndBlackouts)
    }

    /// Totals of the link `from → to`.
    pub fn link_stats(&self, from: HostId, to: HostId) -> Result<LinkStats, SimError> {
        let state = self.inner.lock();
        let id = self.link_id(&state.network, from, to)?;
        Ok(state.network.link_stats(id).unwrap_or_default())
    }

    /// The per-packet log of the link `from → to` so far (empty unless its
    /// [`crate::LinkConfig::record_log`] is on).
    pub fn link_log(&self, from: HostId, to: HostId) -> Result<Vec<PacketRecord>, SimError> {
        let state = self.inner.lock();
        let id = self.link_id(&state.network, from, to)?;
        Ok(state.network.link_log(id).unwrap_or_default())
    }

    /// What the network dropped outside the links (no route, no socket, full socket).
    pub fn network_stats(&self) -> NetworkStats {
        self.inner.lock().network.stats()
    }

    /// Tasks alive on the executor.
    pub fn task_count(&self) -> usize {
        self.inner.lock().executor.task_count()
    }

    /// Timers armed and not yet fired.
    pub fn pending_timers(&self) -> usize {
        self.inner.lock().events.pending_timers()
    }

    fn link_id(
        &self,
        network: &crate::runtime::network::Network,
        from: HostId,
        to: HostId,
    ) -> Result<LinkId, SimError> {
        let name = |h| {
            network
                .name(h)
                .map(str::to_owned)
                .ok_or(SimError::UnknownHost { host: h })
        };
        let (from_name, to_name) = (name(from)?, name(to)?);
        network.link(from, to).ok_or(SimError::NoLink {
            from: from_name,
            to: to_name,
        })
    }

    fn change(&self, from: HostId, to: HostId, change: LinkChange<'_>) -> Result<(), SimError> {
        let mut state = self.inner.lock();
        let state = &mut *state;
        let id = self.link_id(&state.network, from, to)?;
        state
            .network
            .change(id, state.now, &mut state.events, change)
            .map_err(|source| SimError::Link {
                from: state.network.name(from).unwrap_or_default().to_owned(),
                to: state.network.name(to).unwrap_or_default().to_owned(),
                source,
            })
    }

    fn both_ways(&self, a: HostId, b: HostId, change: LinkChange<'_>) -> Result<(), SimError> {
        let forward = self.change(a, b, change);
        let backward = self.change(b, a, change);
        let is_no_link = |e: &SimError| matches!(e, SimError::NoLink { .. });
        match (forward, backward) {
            (Err(e), Err(f)) if is_no_link(&e) && is_no_link(&f) => Err(e),
            (Err(e), _) | (_, Err(e)) if !is_no_link(&e) => Err(e),
            _ => Ok(()),
        }
    }

    /// Drops every task, timer and queued datagram; later runs fail with
    /// [`SimError::ShutDown`]. Called when the owning [`crate::Sim`] is dropped.
    pub(crate) fn shut_down(&self) {
        let (futures, timer_wakers, inbox_wakers) = {
            let mut state = self.inner.lock();
            state.shut_down = true;
            (
                state.executor.clear(),
                state.events.clear(),
                state.network.clear_inboxes(),
            )
        };
        // Outside the lock: dropping a task may drop sockets and timers, which take it.
        drop(futures);
        drop(timer_wakers);
        drop(inbox_wakers);
    }
}

fn unsupported(what: &str) -> io::Error {
    io::Error::new(
        io::ErrorKind::Unsupported,
        format!("vnet-sim simulates UDP only; {what} is not supported"),
    )
}

impl Runtime for SimRuntime {
    fn spawn(&self, future: BoxFuture) -> Box<dyn JoinHandle> {
        let mut state = self.inner.lock();
        if state.shut_down {
            drop(state);
            drop(future);
            return Box::new(SimJoinHandle::finished());
        }
        Box::new(state.executor.spawn(future, Arc::downgrade(&self.inner)))
    }

    /// There is one executor; a "dedicated reactor" is the same one.
    fn spawn_reactor(&self, _reactor_pool_size: usize, future: BoxFuture) -> Box<dyn JoinHandle> {
        self.spawn(future)
    }

    fn wrap_udp_socket(&self, socket: std::net::UdpSocket) -> io::Result<Arc<dyn AsyncUdpSocket>> {
        let addr = socket.local_addr()?;
        self.inner.lock().network.bind(addr)?;
        Ok(Arc::new(SimUdpSocket::new(
            addr,
            Arc::downgrade(&self.inner),
            socket,
        )))
    }

    fn wrap_tcp_listener(
        &self,
        _listener: std::net::TcpListener,
    ) -> io::Result<Arc<dyn AsyncTcpListener>> {
        Err(unsupported("TCP"))
    }

    fn connect_tcp<'a>(
        &'a self,
        _remote_addr: SocketAddr,
    ) -> Pin<Box<dyn Future<Output = io::Result<Arc<dyn AsyncTcpStream>>> + Send + 'a>> {
        Box::pin(std::future::ready(Err(unsupported("TCP"))))
    }

    /// Literal `ip:port` strings resolve to themselves; there is no DNS in a simulation.
    fn resolve_host<'a>(
        &'a self,
        host: &'a str,
    ) -> Pin<Box<dyn Future<Output = io::Result<Vec<SocketAddr>>> + Send + 'a>> {
        let result = host
            .parse::<SocketAddr>()
            .map(|a| vec![a])
            .map_err(|_| unsupported(&format!("resolving the name {host:?} (DNS)")));
        Box::pin(std::future::ready(result))
    }

    fn now(&self) -> Instant {
        let now = self.inner.lock().now;
        self.inner.instant(now)
    }

    fn sleep(&self, duration: Duration) -> Pin<Box<dyn Future<Output = ()> + Send + 'static>> {
        Box::pin(self.sleep_for(SimDuration::from(duration)))
    }

    fn interval(&self, period: Duration) -> Box<dyn AsyncInterval> {
        Box::new(SimInterval::new(&self.inner, SimDuration::from(period)))
    }

    /// Runs `future` like [`run`](SimRuntime::run).
    ///
    /// The trait returns nothing, so when the run fails (livelock, stall, time limit, a nested
    /// call, a simulation shut down) `future` is dropped unfinished and the error is kept for
    /// [`take_block_on_error`](SimRuntime::take_block_on_error). It does not panic: a stuck
    /// simulation is an outcome the caller should be able to report (a harness names the
    /// scenario and exits non-zero), and a panic is not a value it can match on. Call
    /// [`run`](SimRuntime::run) to get the error as a value directly.
    fn block_on(&self, future: Pin<Box<dyn Future<Output = ()> + '_>>) {
        if let Err(e) = self.run(future) {
            self.inner.lock().block_on_error = Some(e);
        }
    }

    fn name(&self) -> &'static str {
        "vnet-sim"
    }
}
