//! [`TcpSender`]: one flow's sending side, sans-I/O.
//!
//! The loop is the link's: ACKs go in with [`TcpSender::handle_ack`], segments come out of
//! [`TcpSender::poll_transmit`] (call until `None` after every input), the retransmission timer
//! is [`TcpSender::poll_timeout`] / [`TcpSender::handle_timeout`], and what happened comes out
//! of [`TcpSender::poll_event`]. The sender never reads a clock.
//!
//! # Loss detection and recovery (shared by every algorithm)
//!
//! - **Sending** is window-limited: a segment of up to one MSS goes out while
//!   `SND.NXT − SND.UNA + len ≤ cwnd`, with no pacing (ACK clocking, as Linux sends CUBIC and
//!   Reno without the `fq` qdisc) and no receive window (the receiver's buffer is unlimited).
//! - **Slow start** (RFC 5681 §3.1): while `cwnd < ssthresh`, `cwnd += min(N, MSS)` per ACK of
//!   `N` new bytes. The initial `ssthresh` is unlimited; the initial window is RFC 6928's. The
//!   first slow start runs HyStart++ (RFC 9406) unless configured off
//!   ([`crate::tcp::slow_start`]).
//! - **Congestion avoidance** is the algorithm's ([`crate::tcp::TcpAlgorithm`]).
//! - **Limited transmit** (RFC 3042): one new segment on each of the first two duplicate ACKs;
//!   those segments are left out of the FlightSize that sets `ssthresh` (RFC 5681 §3.2 step 2).
//! - **Fast retransmit** on the third duplicate ACK (RFC 5681 §3.2), if the ACK covers more
//!   than `recover` (RFC 6582 §3.2 step 2, which keeps a window's worth of losses, or the
//!   duplicates go-back-N provokes after a timeout, from halving twice): `ssthresh` from the
//!   algorithm, `recover = SND.MAX`, retransmit `SND.UNA`, `cwnd = ssthresh + 3·MSS`
//!   ([`crate::tcp::recovery`] keeps the counters).
//! - **Fast recovery** (RFC 6582 §3.2): `cwnd += MSS` per further duplicate ACK; a partial ACK
//!   retransmits the next unacknowledged segment and deflates `cwnd` by the bytes acknowledged
//!   (adding one MSS back if they were at least one MSS); a full ACK ends recovery with
//!   `cwnd = min(ssthresh, max(FlightSize, MSS) + MSS)` (option 1 of step 3, which avoids a
//!   burst). Whether a partial ACK restarts the timer is [`crate::tcp::RecoveryTimer`]: on
//!   every one by default, on the first only as RFC 6582 §3.2 step 5 specifies.
//! - **Retransmission timeout** (RFC 6298 §5): the timer runs while data is outstanding and
//!   restarts on each ACK of new data. On expiry, `ssthresh` from the algorithm, `cwnd = 1·MSS`
//!   (the loss window), `recover = SND.MAX`, the RTO doubles, and sending starts again from
//!   `SND.UNA`. `ssthresh` is held on a second expiry for the same data (RFC 5681 §3.1) and on
//!   an expiry during fast recovery: that is the congestion event the fast retransmit already
//!   answered, and the FlightSize it would halve is inflated by recovery's new data (Linux's
//!   `tcp_enter_loss` keeps it too; RFC 5681 would recompute). Sending resumes by go-back-N,
//!   resending everything after the hole too. Without SACK (RFC 2018, not modelled) the sender
//!   cannot know what arrived; the receiver keeps out-of-order data, so its cumulative ACKs jump
//!   over what it has and `SND.NXT` jumps with them, and only what was really lost, plus the
//!   segments sent again before those ACKs return, crosses the link twice.
//! - **RTT samples** come from the echoed timestamp of each ACK that advances `SND.UNA` (RFC
//!   7323 §4.2; see [`crate::tcp::rto`] for Karn's algorithm).
//!
//! Not modelled: SACK and RACK-TLP (Linux recovers with both), F-RTO and the Eifel response to
//! spurious timeouts, PRR (Linux's rate of sending during recovery), window validation after
//! idle (RFC 7661), the RFC 6582 §4.2 heuristics that allow fast retransmit after a timeout,
//! delayed ACKs (see [`crate::tcp::TcpReceiver`]), and connection set-up and tear-down.

use std::collections::VecDeque;

use crate::tcp::config::{TcpConfig, TcpConfigError};
use crate::tcp::congestion::Controller;
use crate::tcp::error::TcpError;
use crate::tcp::event::{MessageId, TcpEvent};
use crate::tcp::recovery::{DUPACK_THRESHOLD, LossRecovery, OnDuplicate, OnNewAck};
use crate::tcp::rto::RttEstimator;
use crate::tcp::segment::{DataSegment, Segment};
use crate::tcp::slow_start::SlowStart;
use crate::tcp::source::Source;
use crate::tcp::stats::TcpSenderStats;
use crate::time::{SimDuration, SimTime};

/// One flow's sender.
#[derive(Clone, Debug)]
pub struct TcpSender {
    flow: u32,
    mss: u64,
    recovery: LossRecovery,
    slow_start: SlowStart,
    controller: Controller,
    rtt: RttEstimator,
    source: Source,
    /// Oldest unacknowledged byte.
    snd_una: u64,
    /// Next byte to send (moves back to `snd_una` on a timeout).
    snd_nxt: u64,
    /// One past the highest byte ever sent.
    snd_max: u64,
    cwnd: u64,
    /// `u64::MAX` until the first loss.
    ssthresh: u64,
    /// The segment at `snd_una` is to be retransmitted next.
    retransmit: bool,
    timer: Option<SimTime>,
    now: SimTime,
    events: VecDeque<TcpEvent>,
    /// Totals (the state fields are filled in by `stats`).
    totals: TcpSenderStats,
}

impl TcpSender {
    /// A sender for `flow`, with nothing to send until [`start_bulk`](Self::start_bulk) or
    /// [`write`](Self::write).
    pub fn new(flow: u32, config: &TcpConfig) -> Result<Self, TcpConfigError> {
        config.validate()?;
        let mss = u64::from(config.mss);
        Ok(Self {
            flow,
            mss,
            recovery: LossRecovery::new(config.limited_transmit, config.recovery_timer),
            slow_start: SlowStart::new(config.hystart),
            controller: Controller::new(config.algorithm, mss),
            rtt: RttEstimator::new(config.rto),
            source: Source::default(),
            snd_una: 0,
            snd_nxt: 0,
            snd_max: 0,
            cwnd: config.initial_window(),
            ssthresh: u64::MAX,
            retransmit: false,
            timer: None,
            now: SimTime::ZERO,
            events: VecDeque::new(),
            totals: TcpSenderStats::default(),
        })
    }

    /// The flow this sender sends for.
    pub fn flow(&self) -> u32 {
        self.flow
    }

    /// An endless backlog from `start` (after any messages already written).
    pub fn start_bulk(&mut self, start: SimTime) -> Result<(), TcpError> {
        self.source.start_bulk(start)
    }

    /// Appends a message of `bytes` at `now`; a [`TcpEvent::MessageDone`] reports its
    /// completion.
    pub fn write(&mut self, now: SimTime, bytes: u64) -> Result<MessageId, TcpError> {
        let now = self.clock(now);
        self.source.write(now, bytes)
    }

    /// The application closes at `now`: nothing new is sent after what a bulk transfer has sent
    /// or the messages written; what is outstanding is still delivered.
    pub fn stop(&mut self, now: SimTime) {
        let now = self.clock(now);
        self.source.stop(now, self.snd_max);
    }

    /// An ACK arrived at `now`. A segment that is not an ACK of this flow, or acknowledges
    /// bytes never sent, is refused and changes nothing.
    pub fn handle_ack(&mut self, now: SimTime, segment: &Segment) -> Result<(), TcpError> {
        let Segment::Ack(ack) = segment else {
            return Err(TcpError::WrongKind { expected: "an ack" });
        };
        if ack.flow != self.flow {
            return Err(TcpError::WrongFlow {
                expected: self.flow,
                got: ack.flow,
            });
        }
        if ack.ack > self.snd_max {
            return Err(TcpError::AckBeyondSent {
                ack: ack.ack,
                sent: self.snd_max,
            });
        }
        let now = self.clock(now);
        if ack.ack < self.snd_una {
            // An old ACK, overtaken by a later one: nothing in it is news.
        } else if ack.ack == self.snd_una {
            if self.snd_max > self.snd_una {
                self.on_duplicate_ack(now);
            }
        } else {
            let sample = (ack.ts_ecr <= now).then(|| now - ack.ts_ecr);
            if let Some(rtt) = sample {
                self.rtt.on_sample(rtt);
            }
            self.on_new_ack(now, ack.ack, sample);
        }
        Ok(())
    }

    /// The next segment to send at `now`, if the window and the application allow one. Call
    /// until `None`.
    pub fn poll_transmit(&mut self, now: SimTime) -> Option<Segment> {
        let now = self.clock(now);
        if self.retransmit {
            self.retransmit = false;
            let len = self.mss.min(self.snd_max - self.snd_una);
            if len > 0 {
                return Some(self.emit(now, self.snd_una, len));
            }
        }
        let available = self.source.available(now);
        if self.snd_nxt >= available {
            return None;
        }
        let len = self.mss.min(available - self.snd_nxt);
        let flight = self.snd_nxt - self.snd_una;
        let window = self.cwnd.saturating_add(self.recovery.allowance(self.mss));
        if flight.saturating_add(len) > window {
            return None;
        }
        if flight + len > self.cwnd && self.snd_nxt >= self.snd_max {
            self.recovery.on_limited_sent(len);
        }
        let segment = self.emit(now, self.snd_nxt, len);
        self.snd_nxt += len;
        self.snd_max = self.snd_max.max(self.snd_nxt);
        Some(segment)
    }

    /// When to call [`handle_timeout`](Self::handle_timeout): the retransmission timer, or the
    /// start of a bulk transfer still to come. `None` when idle.
    pub fn poll_timeout(&self) -> Option<SimTime> {
        let start = self.source.starts_after(self.now);
        match (self.timer, start) {
            (Some(t), Some(s)) => Some(t.min(s)),
            (t, s) => t.or(s),
        }
    }

    /// Time has reached `now`: fires the retransmission timer if it is due (a bulk start needs
    /// nothing here; [`poll_transmit`](Self::poll_transmit) sends once it has come).
    pub fn handle_timeout(&mut self, now: SimTime) {
        let now = self.clock(now);
        if self.timer.is_none_or(|t| t > now) {
            return;
        }
        let flight = self.snd_nxt - self.snd_una;
        let expired = self.rtt.rto();
        // Held on a repeated expiry (RFC 5681 §3.1) and during fast recovery (module docs).
        if self.rtt.backoffs() == 0 && !self.recovery.in_recovery() {
            self.ssthresh = self.controller.on_timeout(self.cwnd, flight);
        }
        self.slow_start.on_loss();
        let cwnd_before = self.cwnd;
        self.cwnd = self.mss;
        self.recovery.on_timeout(self.snd_max);
        self.retransmit = false;
        self.snd_nxt = self.snd_una;
        self.rtt.on_timeout();
        self.timer = Some(now + self.rtt.rto());
        self.totals.timeouts += 1;
        self.events.push_back(TcpEvent::Timeout {
            at: now,
            seq: self.snd_una,
            cwnd_before,
            ssthresh: self.ssthresh,
            rto: expired,
            next_rto: self.rtt.rto(),
        });
    }

    /// The next event, oldest first. Call until `None`.
    pub fn poll_event(&mut self) -> Option<TcpEvent> {
        self.events.pop_front()
    }

    /// The state now and the totals so far.
    pub fn stats(&self) -> TcpSenderStats {
        TcpSenderStats {
            cwnd: self.cwnd,
            ssthresh: (self.ssthresh != u64::MAX).then_some(self.ssthresh),
            flight: self.snd_nxt - self.snd_una,
            srtt: self.rtt.srtt(),
            rttvar: self.rtt.rttvar(),
            rto: self.rtt.rto(),
            in_recovery: self.recovery.in_recovery(),
            ..self.totals
        }
    }

    /// Builds the segment `[seq, seq + len)` and accounts for it.
    fn emit(&mut self, now: SimTime, seq: u64, len: u64) -> Segment {
        let len = u32::try_from(len).expect("len <= MSS, which is a u32");
        self.totals.segments_sent += 1;
        self.totals.bytes_sent += u64::from(len);
        if seq < self.snd_max {
            self.totals.retransmissions += 1;
        }
        // RFC 6298 §5.1: start the timer if it is not running.
        if self.timer.is_none() {
            self.timer = Some(now + self.rtt.rto());
        }
        Segment::Data(DataSegment {
            flow: self.flow,
            seq,
            len,
            ts_val: now,
        })
    }

    fn on_duplicate_ack(&mut self, now: SimTime) {
        let flight = self.snd_nxt - self.snd_una;
        match self
            .recovery
            .on_duplicate(self.snd_una, flight, self.snd_max)
        {
            OnDuplicate::Count => {}
            // RFC 5681 §3.2 step 4: each duplicate means a segment has left the network.
            OnDuplicate::Inflate => self.cwnd = self.cwnd.saturating_add(self.mss),
            OnDuplicate::FastRetransmit { flight } => {
                let cwnd_before = self.cwnd;
                self.ssthresh = self.controller.on_congestion(self.cwnd, flight);
                self.slow_start.on_loss();
                self.retransmit = true;
                self.cwnd = self.ssthresh + u64::from(DUPACK_THRESHOLD) * self.mss;
                self.totals.fast_retransmits += 1;
                self.events.push_back(TcpEvent::FastRetransmit {
                    at: now,
                    seq: self.snd_una,
                    cwnd_before,
                    ssthresh: self.ssthresh,
                });
            }
        }
    }

    fn on_new_ack(&mut self, now: SimTime, ack: u64, rtt: Option<SimDuration>) {
        let acked = ack - self.snd_una;
        self.snd_una = ack;
        // After go-back-N the receiver may acknowledge past what has been sent again.
        self.snd_nxt = self.snd_nxt.max(ack);
        self.totals.bytes_acked += acked;
        self.source.on_acked(ack, now, &mut self.events);
        let mut restart_timer = true;
        match self.recovery.on_new_ack(ack) {
            OnNewAck::Full => {
                // RFC 6582 §3.2 step 3, option 1: no burst out of recovery.
                let flight = self.snd_nxt - self.snd_una;
                self.cwnd = self.ssthresh.min(flight.max(self.mss) + self.mss);
                self.events.push_back(TcpEvent::RecoveryDone {
                    at: now,
                    cwnd: self.cwnd,
                });
            }
            OnNewAck::Partial { restart_timer: r } => {
                // RFC 6582 §3.2 step 5: retransmit the next hole, deflate by what was
                // acknowledged, and add back one MSS if that was at least one.
                self.retransmit = true;
                self.cwnd = self.cwnd.saturating_sub(acked);
                if acked >= self.mss {
                    self.cwnd += self.mss;
                }
                self.cwnd = self.cwnd.max(self.mss);
                restart_timer = r;
            }
            OnNewAck::Grow if self.cwnd < self.ssthresh => {
                let growth =
                    self.slow_start
                        .on_ack(acked, self.mss, rtt, self.snd_una, self.snd_nxt);
                self.cwnd = self.cwnd.saturating_add(growth.increase);
                if growth.exit {
                    self.ssthresh = self.cwnd;
                }
            }
            OnNewAck::Grow => {
                self.cwnd = self
                    .controller
                    .on_ack(now, acked, self.cwnd, self.rtt.srtt());
            }
        }
        // RFC 6298 §5.2–§5.3.
        if self.snd_una == self.snd_max {
            self.timer = None;
        } else if restart_timer {
            self.timer = Some(now + self.rtt.rto());
        }
    }

    /// Time only moves forward: an earlier `now` is taken as the latest one seen.
    fn clock(&mut self, now: SimTime) -> SimTime {
        self.now = self.now.max(now);
        self.now
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcp::config::RecoveryTimer;
    use crate::tcp::segment::AckSegment;
    use crate::time::SimDuration;

    const MSS: u64 = 1_448;

    fn bulk() -> TcpSender {
        let mut s = TcpSender::new(1, &TcpConfig::default()).expect("valid config");
        s.start_bulk(SimTime::ZERO).expect("not stopped");
        s
    }

    fn ack(n: u64, ts_ecr: SimTime) -> Segment {
        Segment::Ack(AckSegment {
            flow: 1,
            ack: n,
            ts_ecr,
        })
    }

    /// `(seq, len)` of every segment the sender will send at `now`.
    fn sent(s: &mut TcpSender, now: SimTime) -> Vec<(u64, u32)> {
        std::iter::from_fn(|| s.poll_transmit(now))
            .map(|seg| match seg {
                Segment::Data(d) => (d.seq, d.len),
                Segment::Ack(_) => panic!("a sender sends only data"),
            })
            .collect()
    }

    fn events(s: &mut TcpSender) -> Vec<TcpEvent> {
        std::iter::from_fn(|| s.poll_event()).collect()
    }

    /// RFC 6928: a new flow may send ten full segments before its first ACK, and must arm
    /// the RFC 6298 timer with the initial 1 s.
    #[test]
    fn a_bulk_flow_opens_with_ten_full_segments_and_a_one_second_timer() {
        let mut s = bulk();
        let first = sent(&mut s, SimTime::ZERO);
        assert_eq!(first.len(), 10);
        assert!(first.iter().all(|&(_, len)| u64::from(len) == MSS));
        assert_eq!(first[9].0, 9 * MSS);
        assert_eq!(s.poll_timeout(), Some(SimTime::from_secs(1)));
    }

    /// Slow start doubles the window per RTT: each ACK of one segment releases two.
    #[test]
    fn each_ack_in_slow_start_releases_two_segments_and_samples_the_rtt() {
        let mut s = bulk();
        sent(&mut s, SimTime::ZERO);
        let now = SimTime::from_millis(100);
        s.handle_ack(now, &ack(MSS, SimTime::ZERO))
            .expect("valid ack");
        assert_eq!(sent(&mut s, now), vec![(10 * MSS, 1448), (11 * MSS, 1448)]);
        let stats = s.stats();
        assert_eq!(stats.cwnd, 11 * MSS);
        assert_eq!(stats.srtt, Some(SimDuration::from_millis(100)));
        assert_eq!(stats.ssthresh, None);
    }

    /// The whole fast-recovery sequence of RFC 5681 §3.2 with RFC 3042 and RFC 6582, by hand:
    /// limited transmit, fast retransmit with FlightSize/2, a partial ACK, a full ACK.
    #[test]
    fn three_duplicate_acks_retransmit_and_recovery_ends_on_the_full_ack() {
        let mut s = bulk();
        let t = SimTime::from_millis(100);
        sent(&mut s, SimTime::ZERO);
        s.handle_ack(t, &ack(MSS, SimTime::ZERO))
            .expect("valid ack");
        assert_eq!(sent(&mut s, t).len(), 2); // flight 11 segments, cwnd 11
        for expected in [vec![(12 * MSS, 1448)], vec![(13 * MSS, 1448)]] {
            s.handle_ack(t, &ack(MSS, SimTime::ZERO))
                .expect("valid ack");
            assert_eq!(sent(&mut s, t), expected, "limited transmit");
        }
        s.handle_ack(t, &ack(MSS, SimTime::ZERO))
            .expect("valid ack");
        // FlightSize without the two limited-transmit segments: 11 segments.
        let ssthresh = 11 * MSS / 2;
        assert_eq!(
            events(&mut s),
            vec![TcpEvent::FastRetransmit {
                at: t,
                seq: MSS,
                cwnd_before: 11 * MSS,
                ssthresh,
            }]
        );
        assert_eq!(sent(&mut s, t), vec![(MSS, 1448)]);
        assert_eq!(s.stats().cwnd, ssthresh + 3 * MSS);
        // Each further duplicate inflates by one MSS: once cwnd passes the flight of 13
        // segments (after six more), one new segment goes out.
        for _ in 0..5 {
            s.handle_ack(t, &ack(MSS, SimTime::ZERO))
                .expect("valid ack");
        }
        assert!(sent(&mut s, t).is_empty());
        for _ in 0..1 {
            s.handle_ack(t, &ack(MSS, SimTime::ZERO))
                .expect("valid ack");
        }
        assert_eq!(sent(&mut s, t), vec![(14 * MSS, 1448)]);
        // A partial ACK of two segments: the next hole goes out, cwnd deflates by 2 − 1 MSS,
        // which still leaves room for one new segment (flight 12 of 13.5).
        let cwnd = s.stats().cwnd;
        s.handle_ack(t, &ack(3 * MSS, t)).expect("valid ack");
        assert_eq!(sent(&mut s, t), vec![(3 * MSS, 1448), (15 * MSS, 1448)]);
        assert_eq!(s.stats().cwnd, cwnd - MSS);
        assert!(s.stats().in_recovery);
        // The full ACK (everything up to `recover`, 14 segments) ends recovery, option 1:
        // two segments are still in flight, so cwnd = min(ssthresh, 2 + 1 MSS).
        s.handle_ack(t, &ack(14 * MSS, t)).expect("valid ack");
        assert_eq!(
            events(&mut s),
            vec![TcpEvent::RecoveryDone {
                at: t,
                cwnd: 3 * MSS
            }]
        );
        let stats = s.stats();
        assert_eq!((stats.fast_retransmits, stats.retransmissions), (1, 2));
        assert!(!stats.in_recovery);
    }

    /// RFC 6582 §3.2 step 5 and §6: the Impatient timer restarts on the first partial ACK only,
    /// Slow-but-Steady on each (see [`RecoveryTimer`]).
    #[test]
    fn the_recovery_timer_restarts_on_the_first_or_on_every_partial_ack() {
        for (variant, expected) in [
            (RecoveryTimer::Impatient, 1_200),
            (RecoveryTimer::SlowButSteady, 1_300),
        ] {
            let config = TcpConfig {
                recovery_timer: variant,
                limited_transmit: false,
                ..TcpConfig::default()
            };
            let mut s = TcpSender::new(1, &config).expect("valid config");
            s.start_bulk(SimTime::ZERO).expect("not stopped");
            sent(&mut s, SimTime::ZERO);
            let t = SimTime::from_millis(100);
            for _ in 0..4 {
                s.handle_ack(t, &ack(MSS, SimTime::ZERO))
                    .expect("valid ack");
            }
            assert_eq!(s.stats().fast_retransmits, 1);
            for (ms, acked) in [(200, 2), (300, 3)] {
                let now = SimTime::from_millis(ms);
                s.handle_ack(now, &ack(acked * MSS, now))
                    .expect("valid ack");
            }
            assert!(s.stats().in_recovery);
            assert_eq!(s.poll_timeout(), Some(SimTime::from_millis(expected)));
        }
    }

    /// RFC 6298 §5 and RFC 5681 §3.1: a timeout restarts from the first unacknowledged byte
    /// with one segment, doubles the RTO, and keeps ssthresh on a repeated expiry.
    #[test]
    fn the_timer_goes_back_to_the_first_unacknowledged_byte_and_backs_off() {
        let mut s = bulk();
        sent(&mut s, SimTime::ZERO);
        let t1 = SimTime::from_secs(1);
        s.handle_timeout(t1 - SimDuration::from_nanos(1));
        assert!(events(&mut s).is_empty(), "not due yet");
        s.handle_timeout(t1);
        assert_eq!(
            events(&mut s),
            vec![TcpEvent::Timeout {
                at: t1,
                seq: 0,
                cwnd_before: 10 * MSS,
                ssthresh: 5 * MSS,
                rto: SimDuration::from_secs(1),
                next_rto: SimDuration::from_secs(2),
            }]
        );
        assert_eq!(sent(&mut s, t1), vec![(0, 1448)]);
        assert_eq!(s.poll_timeout(), Some(SimTime::from_secs(3)));
        s.handle_timeout(SimTime::from_secs(3));
        let stats = s.stats();
        assert_eq!(stats.ssthresh, Some(5 * MSS), "held on a repeated expiry");
        assert_eq!(stats.rto, SimDuration::from_secs(4));
        assert_eq!((stats.timeouts, stats.retransmissions), (2, 1));
        assert_eq!(s.poll_timeout(), Some(SimTime::from_secs(7)));
    }

    /// RFC 6582 §3.2 step 2: duplicates of data sent before a timeout must not halve again.
    #[test]
    fn duplicate_acks_below_the_recovery_point_do_not_fast_retransmit() {
        let mut s = bulk();
        sent(&mut s, SimTime::ZERO);
        s.handle_timeout(SimTime::from_secs(1));
        sent(&mut s, SimTime::from_secs(1));
        for _ in 0..5 {
            s.handle_ack(SimTime::from_secs(2), &ack(0, SimTime::ZERO))
                .expect("valid ack");
        }
        assert_eq!(s.stats().fast_retransmits, 0);
        // The cumulative ACK jumps over what the receiver held: SND.NXT jumps with it.
        let t = SimTime::from_millis(1_100);
        s.handle_ack(t, &ack(10 * MSS, SimTime::from_secs(1)))
            .expect("valid ack");
        assert_eq!(sent(&mut s, t), vec![(10 * MSS, 1448), (11 * MSS, 1448)]);
    }

    /// Segments are network input: a wrong one is refused and changes nothing.
    #[test]
    fn segments_not_for_this_sender_are_refused_without_effect() {
        let mut s = bulk();
        sent(&mut s, SimTime::ZERO);
        let before = s.stats();
        assert_eq!(
            s.handle_ack(SimTime::ZERO, &ack(20 * MSS, SimTime::ZERO)),
            Err(TcpError::AckBeyondSent {
                ack: 20 * MSS,
                sent: 10 * MSS
            })
        );
        let other = Segment::Ack(AckSegment {
            flow: 2,
            ack: MSS,
            ts_ecr: SimTime::ZERO,
        });
        assert!(matches!(
            s.handle_ack(SimTime::ZERO, &other),
            Err(TcpError::WrongFlow { .. })
        ));
        let data = Segment::Data(DataSegment {
            flow: 1,
            seq: 0,
            len: 1,
            ts_val: SimTime::ZERO,
        });
        assert!(matches!(
            s.handle_ack(SimTime::ZERO, &data),
            Err(TcpError::WrongKind { .. })
        ));
        assert_eq!(s.stats(), before);
    }

    /// A message's completion time is what a messages workload measures.
    #[test]
    fn a_message_is_sent_at_once_and_completes_on_its_last_ack() {
        let mut s = TcpSender::new(1, &TcpConfig::default()).expect("valid config");
        let t0 = SimTime::from_millis(10);
        assert_eq!(s.write(t0, 3_000), Ok(MessageId(0)));
        assert_eq!(
            sent(&mut s, t0),
            vec![(0, 1448), (MSS, 1448), (2 * MSS, 104)]
        );
        assert_eq!(s.poll_timeout(), Some(t0 + SimDuration::from_secs(1)));
        let t1 = SimTime::from_millis(130);
        s.handle_ack(t1, &ack(3_000, t0)).expect("valid ack");
        match events(&mut s).as_slice() {
            [TcpEvent::MessageDone(done)] => {
                assert_eq!(done.duration(), SimDuration::from_millis(120));
                assert_eq!(done.bytes, 3_000);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(s.poll_timeout(), None, "nothing outstanding: no timer");
    }

    /// A bulk flow that starts later must wake its driver at the start.
    #[test]
    fn a_later_bulk_start_is_a_timeout() {
        let mut s = TcpSender::new(1, &TcpConfig::default()).expect("valid config");
        s.start_bulk(SimTime::from_secs(5)).expect("not stopped");
        assert_eq!(s.poll_timeout(), Some(SimTime::from_secs(5)));
        assert!(sent(&mut s, SimTime::from_secs(4)).is_empty());
        assert_eq!(sent(&mut s, SimTime::from_secs(5)).len(), 10);
    }
}
