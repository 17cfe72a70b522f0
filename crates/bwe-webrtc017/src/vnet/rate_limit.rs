//! A bottleneck for webrtc-util 0.17's virtual network: a rate limit with a drop-tail queue in
//! front of a host.
//!
//! webrtc-util 0.17's vnet has latency, jitter, chunk filters and NAT but no rate limit (Pion's
//! `TokenBucketFilter` has no counterpart in it), and a congestion controller cannot be judged
//! without one. [`RateLimitedNic`] is a [`Nic`] wrapper for
//! [`super::VirtualNetwork::add_net_wrapped`]: every chunk the router delivers to the host is
//! serialised at the configured rate after the chunks before it, waits its turn, and is dropped
//! on arrival when the queue already holds more than its limit in time (what a router's
//! drop-tail buffer sized in milliseconds does). A chunk is charged its UDP payload plus 28
//! bytes of IPv4 and UDP headers.
//!
//! The queue runs on tokio's clock ([`tokio::time::Instant`]), so it follows
//! `tokio::time::pause()`: with the router's own latency at zero (the router measures its delay
//! on the wall clock), a rate-limited call runs in virtual time. The arithmetic is the sans-I/O
//! [`Shaper`], tested without a runtime.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError};
use std::time::Duration;

use async_trait::async_trait;
use bwe_core::Bitrate;
use ipnet::IpNet;
use tokio::sync::{Mutex, mpsc};
use tokio::time::Instant;
use webrtc_util::Result as UtilResult;
use webrtc_util::vnet::chunk::Chunk;
use webrtc_util::vnet::interface::Interface;
use webrtc_util::vnet::router::{Nic, Router};

/// IPv4 and UDP header bytes charged on top of each chunk's payload.
pub const UDP_IPV4_OVERHEAD: u64 = 28;

/// The rate and the queue of a [`RateLimitedNic`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Serialisation rate.
    pub rate: Bitrate,
    /// The most a chunk may wait in the queue; one that would wait longer is dropped.
    pub queue: Duration,
}

/// The queue's arithmetic: when each chunk leaves, or that it is dropped.
#[derive(Debug, Clone)]
pub struct Shaper {
    limit: RateLimit,
    /// When the last admitted chunk has finished serialising.
    busy_until: Option<Instant>,
}

impl Shaper {
    /// An empty queue with `limit`.
    pub fn new(limit: RateLimit) -> Self {
        Self {
            limit,
            busy_until: None,
        }
    }

    /// Changes the rate for chunks admitted from now on (chunks already queued keep their
    /// departure times: a link whose rate changes under a full buffer drains it at the old
    /// rate, a simplification that errs by at most one queue's length).
    pub fn set_rate(&mut self, rate: Bitrate) {
        self.limit.rate = rate;
    }

    /// The rate chunks are serialised at.
    pub fn rate(&self) -> Bitrate {
        self.limit.rate
    }

    /// A chunk of `bytes` on the wire arriving at `now`: the instant it has been serialised
    /// and is delivered, or `None` when the queue ahead of it is longer than the limit.
    pub fn admit(&mut self, now: Instant, bytes: u64) -> Option<Instant> {
        let start = self.busy_until.map_or(now, |b| b.max(now));
        if start - now > self.limit.queue {
            return None;
        }
        let bps = self.limit.rate.bps().max(1);
        let nanos = u128::from(bytes) * 8 * 1_000_000_000 / u128::from(bps);
        let done = start + Duration::from_nanos(u64::try_from(nanos).unwrap_or(u64::MAX));
        self.busy_until = Some(done);
        Some(done)
    }
}

/// What a [`RateLimitedNic`] did, readable while it runs.
#[derive(Debug, Default)]
pub struct RateLimitStats {
    offered: AtomicU64,
    offered_bytes: AtomicU64,
    delivered: AtomicU64,
    dropped: AtomicU64,
    delivered_bytes: AtomicU64,
    /// Each delivered chunk's arrival and its wait in the queue (serialisation included).
    delays: std::sync::Mutex<Vec<(Instant, Duration)>>,
}

impl RateLimitStats {
    /// Chunks that arrived at the limiter.
    pub fn offered(&self) -> u64 {
        self.offered.load(Ordering::Relaxed)
    }

    /// Bytes that arrived, headers included.
    pub fn offered_bytes(&self) -> u64 {
        self.offered_bytes.load(Ordering::Relaxed)
    }

    /// Chunks passed on to the host.
    pub fn delivered(&self) -> u64 {
        self.delivered.load(Ordering::Relaxed)
    }

    /// Chunks dropped because the queue was full.
    pub fn dropped(&self) -> u64 {
        self.dropped.load(Ordering::Relaxed)
    }

    /// Bytes passed on, headers included.
    pub fn delivered_bytes(&self) -> u64 {
        self.delivered_bytes.load(Ordering::Relaxed)
    }

    /// Each delivered chunk's arrival at the limiter and the time it spent there (its wait
    /// behind the chunks ahead plus its own serialisation), in delivery order.
    pub fn delays(&self) -> Vec<(Instant, Duration)> {
        self.delays
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }
}

/// Changes a running [`RateLimitedNic`]'s rate (a capacity schedule), from any task.
#[derive(Debug, Clone)]
pub struct RateControl {
    shaper: Arc<std::sync::Mutex<Shaper>>,
}

impl RateControl {
    /// Chunks arriving from now on are serialised at `rate`.
    pub fn set_rate(&self, rate: Bitrate) {
        self.shaper
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .set_rate(rate);
    }

    /// The current rate.
    pub fn rate(&self) -> Bitrate {
        self.shaper
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .rate()
    }
}

type Boxed = Box<dyn Chunk + Send + Sync>;

/// A host's `Nic` behind a rate limit (see the module docs).
pub struct RateLimitedNic {
    inner: Arc<Mutex<dyn Nic + Send + Sync>>,
    shaper: Arc<std::sync::Mutex<Shaper>>,
    queue: mpsc::UnboundedSender<(Instant, Instant, u64, Boxed)>,
    stats: Arc<RateLimitStats>,
}

impl RateLimitedNic {
    /// Wraps `inner` (what `add_net_wrapped` hands its closure). Spawns the task that delivers
    /// queued chunks, so it must be called inside a tokio runtime.
    pub fn new(inner: Arc<Mutex<dyn Nic + Send + Sync>>, limit: RateLimit) -> Self {
        let (queue, mut rx) = mpsc::unbounded_channel::<(Instant, Instant, u64, Boxed)>();
        let stats = Arc::new(RateLimitStats::default());
        let target = Arc::clone(&inner);
        let counts = Arc::clone(&stats);
        tokio::spawn(async move {
            // Departures are monotonic, so delivering in channel order keeps them in time order.
            while let Some((arrived, at, bytes, chunk)) = rx.recv().await {
                tokio::time::sleep_until(at).await;
                counts
                    .delays
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .push((arrived, at - arrived));
                target.lock().await.on_inbound_chunk(chunk).await;
                counts.delivered.fetch_add(1, Ordering::Relaxed);
                counts.delivered_bytes.fetch_add(bytes, Ordering::Relaxed);
            }
        });
        Self {
            inner,
            shaper: Arc::new(std::sync::Mutex::new(Shaper::new(limit))),
            queue,
            stats,
        }
    }

    /// The counters, shared with the running limiter.
    pub fn stats(&self) -> Arc<RateLimitStats> {
        Arc::clone(&self.stats)
    }

    /// A handle that changes the rate while the network runs.
    pub fn control(&self) -> RateControl {
        RateControl {
            shaper: Arc::clone(&self.shaper),
        }
    }
}

#[async_trait]
impl Nic for RateLimitedNic {
    async fn get_interface(&self, ifc_name: &str) -> Option<Interface> {
        self.inner.lock().await.get_interface(ifc_name).await
    }

    async fn add_addrs_to_interface(&mut self, ifc_name: &str, addrs: &[IpNet]) -> UtilResult<()> {
        self.inner
            .lock()
            .await
            .add_addrs_to_interface(ifc_name, addrs)
            .await
    }

    async fn on_inbound_chunk(&self, c: Boxed) {
        let bytes = c.user_data().len() as u64 + UDP_IPV4_OVERHEAD;
        self.stats.offered.fetch_add(1, Ordering::Relaxed);
        self.stats.offered_bytes.fetch_add(bytes, Ordering::Relaxed);
        let now = Instant::now();
        let departure = self
            .shaper
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .admit(now, bytes);
        match departure {
            Some(at) => {
                // The delivery task ends only with this wrapper, so the send cannot fail while
                // `self` exists; a failure would mean the chunk is dropped, as on a full queue.
                if self.queue.send((now, at, bytes, c)).is_err() {
                    self.stats.dropped.fetch_add(1, Ordering::Relaxed);
                }
            }
            None => {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            }
        }
    }

    async fn get_static_ips(&self) -> Vec<std::net::IpAddr> {
        self.inner.lock().await.get_static_ips().await
    }

    async fn set_router(&self, r: Arc<Mutex<Router>>) -> UtilResult<()> {
        self.inner.lock().await.set_router(r).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limit(kbps: u64, queue_ms: u64) -> RateLimit {
        RateLimit {
            rate: Bitrate::from_kbps(kbps),
            queue: Duration::from_millis(queue_ms),
        }
    }

    /// A chunk on an idle link leaves after its own serialisation time: 1250 bytes at
    /// 1 Mbit/s take 10 ms.
    #[test]
    fn an_idle_queue_delays_a_chunk_by_its_serialisation_only() {
        let mut s = Shaper::new(limit(1_000, 300));
        let now = Instant::now();
        assert_eq!(s.admit(now, 1_250), Some(now + Duration::from_millis(10)));
    }

    /// Back-to-back chunks queue behind each other, and the one that would wait past the limit
    /// is dropped while later arrivals, after the queue drained, are admitted again.
    #[test]
    fn chunks_queue_behind_each_other_and_a_full_queue_drops() {
        let mut s = Shaper::new(limit(1_000, 25));
        let now = Instant::now();
        let departures: Vec<_> = (0..4).map(|_| s.admit(now, 1_250)).collect();
        assert_eq!(
            departures,
            vec![
                Some(now + Duration::from_millis(10)),
                Some(now + Duration::from_millis(20)),
                Some(now + Duration::from_millis(30)),
                None,
            ],
            "the fourth would wait 30 ms, past the 25 ms queue"
        );
        let later = now + Duration::from_millis(30);
        assert_eq!(
            s.admit(later, 1_250),
            Some(later + Duration::from_millis(10))
        );
    }

    /// Over a long run the admitted bytes leave at the configured rate, whatever arrives.
    #[test]
    fn the_departure_rate_is_the_configured_rate() {
        let mut s = Shaper::new(limit(2_000, 100));
        let start = Instant::now();
        let mut last = start;
        let mut admitted = 0u64;
        for i in 0..10_000u64 {
            // Offered at 3 Mbit/s: 1250 bytes every 3.33 ms.
            let now = start + Duration::from_micros(i * 3_333);
            if let Some(at) = s.admit(now, 1_250) {
                admitted += 1_250;
                last = at;
            }
        }
        let rate = admitted as f64 * 8.0 / (last - start).as_secs_f64();
        assert!((1.98e6..=2.0e6).contains(&rate), "{rate:.0} bit/s");
    }

    #[test]
    fn a_new_rate_applies_to_chunks_admitted_after_it() {
        let mut s = Shaper::new(limit(1_000, 300));
        let now = Instant::now();
        assert_eq!(s.admit(now, 1_250), Some(now + Duration::from_millis(10)));
        s.set_rate(Bitrate::from_kbps(500));
        assert_eq!(s.rate(), Bitrate::from_kbps(500));
        assert_eq!(s.admit(now, 1_250), Some(now + Duration::from_millis(30)));
    }
}
