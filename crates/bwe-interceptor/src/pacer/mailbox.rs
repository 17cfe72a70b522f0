//! The channel between the estimator and the pacer.
//!
//! Both live in one chain, but in different interceptors: the estimator ([`crate::BweSendSide`])
//! inside rtc's `CongestionControlInterceptor` at the wire end, the pacer application-ward of
//! the TWCC sender. rtc's only way across is an attribute riding a packet, and nothing rides
//! from the estimator to the pacer at the moment a probe is decided (a timeout), nor back from
//! the pacer to the estimator (feedback names packets, not what the pacer meant by them). So the
//! chain helper creates one [`ProbeMailbox`] and gives a clone to each; it carries
//!
//! - **pacer → estimator**: that media started flowing (the network is up: the initial probes
//!   may go), and which packets belonged to which probe cluster, keyed by what both sides can
//!   see: SSRC, wire sequence number and release instant (`PacketReport` carries all three);
//! - **estimator → pacer**: the clusters to send;
//! - **pacer → estimator, for ALR**: the encoder target after congestion-window pushback, so
//!   that a sender held down by its own window is not mistaken for an application-limited one;
//! - **both ways, for the congestion window**: the bytes in flight. The pacer adds what it
//!   releases, batched per release instant (merged within [`ProbeMailbox::FLIGHT_MERGE`]);
//!   the estimator, after each feedback batch, resolves everything released up to the newest
//!   departure the batch reports (TWCC and RFC 8888 report every packet of their range, arrived
//!   or lost, so anything released before that departure is accounted for; packets that never
//!   get a report, like RTX, which rtc does not number, are resolved with them) and leaves the
//!   round-trip time it knows. The record is a ring of [`ProbeMailbox::FLIGHT_SLOTS`] batches;
//!   when it is full the oldest batch counts as resolved.
//!
//! Why a mutex and not lock-free queues: each side takes the lock once per batch (a feedback
//! message, a timeout that releases packets), never per report, and both run on the thread that
//! drives the chain, so it is never contended; an atomic flag lets the pacer's `poll_timeout`
//! check for news without locking. Everything inside is fixed-size: nothing allocates after
//! construction.
//!
//! The attribution table has a lane per SSRC ([`ProbeMailbox::TABLE_LANES`] lanes, taken by the
//! SSRCs in the order they first carry a probe packet; when all are taken, the lane whose SSRC
//! recorded least recently is handed over), each direct-mapped by sequence number
//! ([`ProbeMailbox::TABLE_SLOTS`] slots): a newer entry overwrites an older one in its slot. One
//! stream's packets collide only 1 024 sequence numbers apart, whatever number the stream
//! started at. A single table indexed by SSRC and sequence number let two streams (audio beside
//! video) collide wherever their random starting numbers lined up, so a probe result, and
//! everything after it, depended on that draw rather than on the seed. A cluster has tens of
//! packets and its feedback comes back within a second, long before its slots are reused; an
//! entry overwritten early only leaves that packet out of the probe result (the result
//! estimator wants 80 % of a cluster). The release instant in the key means a stale entry never
//! matches a later packet that wrapped onto the same sequence number.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use bwe_core::probe::ProbeCluster;
use bwe_core::{Bitrate, ProbeInfo};

/// How many clusters may wait for the pacer.
const CLUSTER_SLOTS: usize = 8;

#[derive(Debug, Clone, Copy)]
struct Entry {
    ssrc: u32,
    sequence: u16,
    departure: Instant,
    probe: ProbeInfo,
}

#[derive(Debug)]
struct State {
    media_started: Option<Instant>,
    clusters: [Option<ProbeCluster>; CLUSTER_SLOTS],
    cluster_head: usize,
    cluster_len: usize,
    clusters_dropped: u64,
    /// `TABLE_LANES × TABLE_SLOTS` entries, lane after lane.
    table: Box<[Option<Entry>]>,
    /// Each lane's SSRC and the last release it recorded.
    lanes: [Option<(u32, Instant)>; ProbeMailbox::TABLE_LANES],
    flight: Flight,
    pushback: Option<Bitrate>,
}

/// Released bytes not yet resolved by feedback: a ring of `(release instant, bytes)` batches.
#[derive(Debug)]
struct Flight {
    batches: Box<[(Instant, u64)]>,
    head: usize,
    len: usize,
    bytes: u64,
    rtt: Option<Duration>,
}

impl Flight {
    fn push(&mut self, at: Instant, bytes: u64) {
        self.bytes += bytes;
        let cap = self.batches.len();
        if self.len > 0 {
            let last = (self.head + self.len - 1) % cap;
            let (t, b) = &mut self.batches[last];
            if at.saturating_duration_since(*t) < ProbeMailbox::FLIGHT_MERGE {
                *t = (*t).max(at);
                *b += bytes;
                return;
            }
        }
        if self.len == cap {
            self.pop();
        }
        self.batches[(self.head + self.len) % cap] = (at, bytes);
        self.len += 1;
    }

    fn pop(&mut self) {
        let (_, b) = self.batches[self.head];
        self.bytes = self.bytes.saturating_sub(b);
        self.head = (self.head + 1) % self.batches.len();
        self.len -= 1;
    }

    fn resolve_through(&mut self, through: Instant) {
        while self.len > 0 && self.batches[self.head].0 <= through {
            self.pop();
        }
    }
}

/// A clonable handle to the shared state; see the module docs.
#[derive(Debug, Clone)]
pub struct ProbeMailbox {
    state: Arc<Mutex<State>>,
    news: Arc<AtomicBool>,
    feedback_news: Arc<AtomicBool>,
}

impl Default for ProbeMailbox {
    fn default() -> Self {
        Self::new()
    }
}

/// A poisoned lock only means a panic elsewhere; the state is plain data and stays usable.
fn lock(m: &Mutex<State>) -> MutexGuard<'_, State> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The slot of `sequence` in lane `lane`.
fn slot(lane: usize, sequence: u16) -> usize {
    lane * ProbeMailbox::TABLE_SLOTS + usize::from(sequence) % ProbeMailbox::TABLE_SLOTS
}

/// The lane of `ssrc`, if it has one.
fn lane_of(state: &State, ssrc: u32) -> Option<usize> {
    state
        .lanes
        .iter()
        .position(|l| l.is_some_and(|(s, _)| s == ssrc))
}

impl ProbeMailbox {
    /// Attribution entries kept.
    pub const TABLE_SLOTS: usize = 1024;

    /// SSRCs whose entries are kept apart (media, RTX and audio of one sender, and a spare).
    pub const TABLE_LANES: usize = 4;

    /// Release batches kept for the in-flight count.
    pub const FLIGHT_SLOTS: usize = 4_096;

    /// Releases closer together than this share one batch of the in-flight record, so the ring
    /// always spans at least `FLIGHT_SLOTS` × this (4 s).
    pub const FLIGHT_MERGE: Duration = Duration::from_millis(1);

    /// An empty mailbox; give clones to the estimator and the pacer.
    pub fn new() -> Self {
        Self {
            state: Arc::new(Mutex::new(State {
                media_started: None,
                clusters: [None; CLUSTER_SLOTS],
                cluster_head: 0,
                cluster_len: 0,
                clusters_dropped: 0,
                table: vec![None; Self::TABLE_LANES * Self::TABLE_SLOTS].into_boxed_slice(),
                lanes: [None; Self::TABLE_LANES],
                flight: Flight {
                    batches: vec![(Instant::now(), 0); Self::FLIGHT_SLOTS].into_boxed_slice(),
                    head: 0,
                    len: 0,
                    bytes: 0,
                    rtt: None,
                },
                pushback: None,
            })),
            news: Arc::new(AtomicBool::new(false)),
            feedback_news: Arc::new(AtomicBool::new(false)),
        }
    }

    /// Pacer: media is flowing since `at` (kept from the first call).
    pub fn media_started(&self, at: Instant) {
        let mut state = lock(&self.state);
        if state.media_started.is_none() {
            state.media_started = Some(at);
        }
    }

    /// Estimator: when media started, if it has.
    pub fn media_started_at(&self) -> Option<Instant> {
        lock(&self.state).media_started
    }

    /// Estimator: queues clusters for the pacer. When full the oldest waiting cluster is dropped
    /// (it reflects an older estimate).
    pub fn post_clusters(&self, mut next: impl FnMut() -> Option<ProbeCluster>) {
        let mut state = lock(&self.state);
        let mut posted = false;
        while let Some(cluster) = next() {
            if state.cluster_len == CLUSTER_SLOTS {
                state.cluster_head = (state.cluster_head + 1) % CLUSTER_SLOTS;
                state.cluster_len -= 1;
                state.clusters_dropped += 1;
            }
            let at = (state.cluster_head + state.cluster_len) % CLUSTER_SLOTS;
            state.clusters[at] = Some(cluster);
            state.cluster_len += 1;
            posted = true;
        }
        if posted {
            self.news.store(true, Ordering::Release);
        }
    }

    /// Pacer: whether a cluster may be waiting, without locking.
    pub fn has_news(&self) -> bool {
        self.news.load(Ordering::Acquire)
    }

    /// Pacer: the oldest waiting cluster.
    pub fn take_cluster(&self) -> Option<ProbeCluster> {
        let mut state = lock(&self.state);
        if state.cluster_len == 0 {
            self.news.store(false, Ordering::Release);
            return None;
        }
        let head = state.cluster_head;
        let cluster = state.clusters[head].take();
        state.cluster_head = (head + 1) % CLUSTER_SLOTS;
        state.cluster_len -= 1;
        if state.cluster_len == 0 {
            self.news.store(false, Ordering::Release);
        }
        cluster
    }

    /// Clusters dropped because the pacer did not collect them in time.
    pub fn clusters_dropped(&self) -> u64 {
        lock(&self.state).clusters_dropped
    }

    /// Pacer: the packet `(ssrc, sequence)` released at `departure` belongs to `probe`'s cluster.
    pub fn record(&self, ssrc: u32, sequence: u16, departure: Instant, probe: ProbeInfo) {
        let mut state = lock(&self.state);
        let lane = lane_of(&state, ssrc).unwrap_or_else(|| {
            // A new SSRC: a free lane, else the one that recorded least recently.
            (0..Self::TABLE_LANES)
                .min_by_key(|&l| state.lanes[l].map(|(_, last)| last))
                .unwrap_or(0)
        });
        state.lanes[lane] = Some((ssrc, departure));
        let at = slot(lane, sequence);
        state.table[at] = Some(Entry {
            ssrc,
            sequence,
            departure,
            probe,
        });
    }

    /// Estimator: runs `f` with a lookup from `(ssrc, wire sequence, release instant)` to the
    /// packet's cluster, holding the lock once for the whole batch.
    pub fn with_lookup<R>(
        &self,
        f: impl FnOnce(&dyn Fn(u32, u16, Instant) -> Option<ProbeInfo>) -> R,
    ) -> R {
        let state = lock(&self.state);
        let lookup = |ssrc: u32, sequence: u16, departure: Instant| {
            let lane = lane_of(&state, ssrc)?;
            state.table[slot(lane, sequence)]
                .filter(|e| e.ssrc == ssrc && e.sequence == sequence && e.departure == departure)
                .map(|e| e.probe)
        };
        f(&lookup)
    }

    /// [`with_lookup`](Self::with_lookup) for one packet.
    pub fn probe_of(&self, ssrc: u32, sequence: u16, departure: Instant) -> Option<ProbeInfo> {
        self.with_lookup(|lookup| lookup(ssrc, sequence, departure))
    }
}

impl ProbeMailbox {
    /// Pacer: `bytes` left at `at` (call once per batch of releases).
    pub fn released(&self, at: Instant, bytes: usize) {
        if bytes > 0 {
            lock(&self.state).flight.push(at, bytes as u64);
        }
    }

    /// Estimator: a feedback batch reported packets released up to `through` (the newest
    /// departure it names), and the round-trip time is now `rtt`.
    pub fn feedback(&self, through: Option<Instant>, rtt: Option<Duration>) {
        let mut state = lock(&self.state);
        if let Some(through) = through {
            state.flight.resolve_through(through);
        }
        if rtt.is_some() {
            state.flight.rtt = rtt;
        }
        self.feedback_news.store(true, Ordering::Release);
    }

    /// Pacer: the encoder target is pushed back to `target` (`None`: not pushed back).
    pub fn set_pushback(&self, target: Option<Bitrate>) {
        lock(&self.state).pushback = target;
    }

    /// Estimator: the pushed-back encoder target the pacer last reported.
    pub fn pushback(&self) -> Option<Bitrate> {
        lock(&self.state).pushback
    }

    /// Pacer: whether feedback arrived since the last [`in_flight`](Self::in_flight), without
    /// locking.
    pub fn has_feedback_news(&self) -> bool {
        self.feedback_news.load(Ordering::Acquire)
    }

    /// Pacer: bytes released and not yet resolved by feedback, and the round-trip time the
    /// estimator last reported.
    pub fn in_flight(&self) -> (u64, Option<Duration>) {
        let state = lock(&self.state);
        self.feedback_news.store(false, Ordering::Release);
        (state.flight.bytes, state.flight.rtt)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use bwe_core::{Bitrate, DataSize, TimeDelta, Timestamp};
    use std::time::Duration;

    fn cluster(id: u32) -> ProbeCluster {
        ProbeCluster {
            id,
            target: Bitrate::from_kbps(900),
            min_probes: 5,
            min_bytes: DataSize::from_bytes(1_687),
            duration: TimeDelta::from_millis(15),
            created_at: Timestamp::ZERO,
        }
    }

    fn info(id: u32) -> ProbeInfo {
        ProbeInfo {
            cluster_id: id,
            min_probes: 5,
            min_bytes: DataSize::from_bytes(1_687),
        }
    }

    /// Clusters reach the pacer in order, and a pacer that never collects cannot grow the queue.
    #[test]
    fn clusters_arrive_in_order_and_the_queue_is_bounded() {
        let mailbox = ProbeMailbox::new();
        assert!(!mailbox.has_news());
        let mut ids = 1..=20;
        mailbox.post_clusters(|| ids.next().map(cluster));
        assert!(mailbox.has_news());
        let got: Vec<u32> = std::iter::from_fn(|| mailbox.take_cluster())
            .map(|c| c.id)
            .collect();
        assert_eq!(got, (13..=20).collect::<Vec<_>>());
        assert_eq!(mailbox.clusters_dropped(), 12);
        assert!(!mailbox.has_news());
    }

    /// Only the exact packet (SSRC, sequence and release instant) is attributed to a cluster.
    #[test]
    fn attribution_needs_ssrc_sequence_and_departure() {
        let mailbox = ProbeMailbox::new();
        let t = Instant::now();
        mailbox.record(7, 100, t, info(1));
        assert_eq!(mailbox.probe_of(7, 100, t), Some(info(1)));
        assert_eq!(mailbox.probe_of(8, 100, t), None);
        assert_eq!(mailbox.probe_of(7, 101, t), None);
        assert_eq!(
            mailbox.probe_of(7, 100, t + Duration::from_millis(1)),
            None,
            "a later packet that wrapped onto the same number is not the probe"
        );
    }

    /// Two streams keep their attributions apart whatever their sequence numbers, so what a probe
    /// measures does not depend on where their random sequence numbers started.
    #[test]
    fn packets_of_two_streams_with_one_sequence_number_both_stay_attributed() {
        let mailbox = ProbeMailbox::new();
        let t = Instant::now();
        mailbox.record(7, 100, t, info(1));
        mailbox.record(9, 100, t, info(2));
        assert_eq!(mailbox.probe_of(7, 100, t), Some(info(1)));
        assert_eq!(mailbox.probe_of(9, 100, t), Some(info(2)));
        // One stream's numbers collide only a table apart.
        mailbox.record(7, 100 + ProbeMailbox::TABLE_SLOTS as u16, t, info(3));
        assert_eq!(mailbox.probe_of(7, 100, t), None);
        assert_eq!(mailbox.probe_of(9, 100, t), Some(info(2)));
    }

    /// More SSRCs than lanes: the one that recorded least recently gives its lane up.
    #[test]
    fn a_new_ssrc_takes_the_least_recent_lane_when_all_are_taken() {
        let mailbox = ProbeMailbox::new();
        let t = Instant::now();
        let ms = Duration::from_millis;
        for (i, ssrc) in (1..=ProbeMailbox::TABLE_LANES as u32).enumerate() {
            mailbox.record(ssrc, 5, t + ms(i as u64), info(ssrc));
        }
        mailbox.record(1, 6, t + ms(10), info(1));
        mailbox.record(50, 5, t + ms(11), info(50));
        assert_eq!(mailbox.probe_of(50, 5, t + ms(11)), Some(info(50)));
        assert_eq!(
            mailbox.probe_of(2, 5, t + ms(1)),
            None,
            "stream 2's lane was handed over"
        );
        assert_eq!(mailbox.probe_of(1, 5, t), Some(info(1)));
        assert_eq!(mailbox.probe_of(3, 5, t + ms(2)), Some(info(3)));
    }

    /// Feedback resolves everything released up to the newest departure it reports; the rest
    /// stays in flight.
    #[test]
    fn feedback_resolves_releases_up_to_its_newest_departure() {
        let mailbox = ProbeMailbox::new();
        let t = Instant::now();
        assert_eq!(mailbox.in_flight(), (0, None));
        for i in 0..10u64 {
            mailbox.released(t + Duration::from_millis(10 * i), 1_000);
        }
        assert_eq!(mailbox.in_flight().0, 10_000);
        mailbox.feedback(
            Some(t + Duration::from_millis(40)),
            Some(Duration::from_millis(60)),
        );
        assert!(mailbox.has_feedback_news());
        assert_eq!(
            mailbox.in_flight(),
            (5_000, Some(Duration::from_millis(60)))
        );
        assert!(!mailbox.has_feedback_news());
        // Releases within a millisecond share a batch, resolved by a report of its newest.
        let u = t + Duration::from_millis(200);
        mailbox.released(u, 500);
        mailbox.released(u + Duration::from_micros(300), 500);
        mailbox.feedback(Some(u), None);
        assert_eq!(mailbox.in_flight().0, 1_000);
        mailbox.feedback(Some(u + Duration::from_micros(300)), None);
        assert_eq!(
            mailbox.in_flight(),
            (0, Some(Duration::from_millis(60))),
            "the RTT is kept"
        );
    }

    /// A record that overflows forgets its oldest batches instead of growing.
    #[test]
    fn the_in_flight_record_is_bounded() {
        let mailbox = ProbeMailbox::new();
        let t = Instant::now();
        let n = ProbeMailbox::FLIGHT_SLOTS as u64 + 10;
        for i in 0..n {
            mailbox.released(t + Duration::from_millis(2 * i), 100);
        }
        assert_eq!(
            mailbox.in_flight().0,
            ProbeMailbox::FLIGHT_SLOTS as u64 * 100
        );
    }

    /// Media start is remembered from the first report.
    #[test]
    fn media_start_is_the_first_instant_reported() {
        let mailbox = ProbeMailbox::new();
        let t = Instant::now();
        mailbox.media_started(t);
        mailbox.media_started(t + Duration::from_secs(1));
        assert_eq!(mailbox.media_started_at(), Some(t));
    }
}
