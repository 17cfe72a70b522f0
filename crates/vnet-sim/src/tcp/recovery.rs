//! `LossRecovery`: the duplicate-ACK counter, limited transmit, `recover` and the fast
//! recovery phase of RFC 5681 §3.2, RFC 3042 and RFC 6582 §3.2.
//!
//! This is the bookkeeping that decides *what* happens on an ACK; the sender applies the
//! window changes (and the algorithm chooses `ssthresh`). Keeping the two apart keeps each
//! readable against its RFC, and lets the rules here be tested without a window.
//!
//! `recover` is kept as one past the highest byte sent when it was set (`SND.MAX`), so RFC
//! 6582's "the ACK covers more than recover" is `ack > recover` and "acknowledges all of the
//! data up to and including recover" is `ack >= recover`.

use crate::tcp::config::RecoveryTimer;

/// RFC 5681 §3.2: the duplicate ACK that triggers fast retransmit.
pub(crate) const DUPACK_THRESHOLD: u32 = 3;
/// RFC 3042: limited transmit covers the first two duplicate ACKs.
const LIMITED_TRANSMIT_DUPACKS: u32 = 2;

/// What a duplicate ACK calls for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OnDuplicate {
    /// Nothing beyond counting it (and perhaps limited transmit).
    Count,
    /// In fast recovery: inflate `cwnd` by one MSS (RFC 5681 §3.2 step 4).
    Inflate,
    /// The third one: fast retransmit, with the FlightSize `ssthresh` is to follow (limited
    /// transmit's segments left out, RFC 5681 §3.2 step 2).
    FastRetransmit {
        /// FlightSize for the `ssthresh` equation.
        flight: u64,
    },
}

/// What an ACK of new data calls for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum OnNewAck {
    /// Not in recovery: grow the window.
    Grow,
    /// A partial ACK (RFC 6582 §3.2 step 5): retransmit the next hole, deflate.
    Partial {
        /// Whether the retransmission timer restarts (see [`RecoveryTimer`]).
        restart_timer: bool,
    },
    /// A full ACK: recovery is over (RFC 6582 §3.2 step 3).
    Full,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct Phase {
    /// `recover` when recovery began.
    point: u64,
    /// A partial ACK has been seen.
    partial_seen: bool,
}

/// A sender's loss-recovery state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct LossRecovery {
    limited_transmit: bool,
    timer: RecoveryTimer,
    dupacks: u32,
    /// Bytes sent by limited transmit since the last new ACK.
    limited_sent: u64,
    phase: Option<Phase>,
    /// RFC 6582's `recover`; `None` before the first loss.
    recover: Option<u64>,
}

impl LossRecovery {
    pub(crate) fn new(limited_transmit: bool, timer: RecoveryTimer) -> Self {
        Self {
            limited_transmit,
            timer,
            dupacks: 0,
            limited_sent: 0,
            phase: None,
            recover: None,
        }
    }

    /// Whether fast recovery is in progress.
    pub(crate) fn in_recovery(&self) -> bool {
        self.phase.is_some()
    }

    /// Room beyond `cwnd` that limited transmit allows now: one segment per duplicate ACK, for
    /// the first two (RFC 3042).
    pub(crate) fn allowance(&self, mss: u64) -> u64 {
        if self.limited_transmit && self.phase.is_none() && self.dupacks < DUPACK_THRESHOLD {
            u64::from(self.dupacks.min(LIMITED_TRANSMIT_DUPACKS)) * mss
        } else {
            0
        }
    }

    /// `len` new bytes went out beyond `cwnd`, by limited transmit.
    pub(crate) fn on_limited_sent(&mut self, len: u64) {
        self.limited_sent += len;
    }

    /// A duplicate ACK of `una`, with `flight` outstanding and `snd_max` sent.
    pub(crate) fn on_duplicate(&mut self, una: u64, flight: u64, snd_max: u64) -> OnDuplicate {
        self.dupacks = self.dupacks.saturating_add(1);
        if self.phase.is_some() {
            return OnDuplicate::Inflate;
        }
        // RFC 6582 §3.2 step 2: only if the ACK covers more than `recover`.
        if self.dupacks != DUPACK_THRESHOLD || self.recover.is_some_and(|r| una <= r) {
            return OnDuplicate::Count;
        }
        self.recover = Some(snd_max);
        self.phase = Some(Phase {
            point: snd_max,
            partial_seen: false,
        });
        OnDuplicate::FastRetransmit {
            flight: flight.saturating_sub(self.limited_sent),
        }
    }

    /// An ACK of new data up to `ack`.
    pub(crate) fn on_new_ack(&mut self, ack: u64) -> OnNewAck {
        match self.phase {
            Some(phase) if ack >= phase.point => {
                self.phase = None;
                self.dupacks = 0;
                self.limited_sent = 0;
                OnNewAck::Full
            }
            Some(phase) => {
                // Duplicates after a partial ACK still inflate (RFC 6582 §3.2 step 5).
                self.phase = Some(Phase {
                    partial_seen: true,
                    ..phase
                });
                OnNewAck::Partial {
                    restart_timer: self.timer == RecoveryTimer::SlowButSteady
                        || !phase.partial_seen,
                }
            }
            None => {
                self.dupacks = 0;
                self.limited_sent = 0;
                OnNewAck::Grow
            }
        }
    }

    /// The retransmission timer expired with `snd_max` sent: recovery ends and `recover`
    /// moves up (RFC 6582 §3.2 step 1 and §4).
    pub(crate) fn on_timeout(&mut self, snd_max: u64) {
        self.recover = Some(snd_max);
        self.phase = None;
        self.dupacks = 0;
        self.limited_sent = 0;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: u64 = 1_000;

    fn recovery() -> LossRecovery {
        LossRecovery::new(true, RecoveryTimer::Impatient)
    }

    /// RFC 3042: two duplicates open room for one segment each, and those segments stay out of
    /// the FlightSize that sets ssthresh.
    #[test]
    fn limited_transmit_opens_one_segment_per_duplicate_and_is_left_out_of_flight() {
        let mut r = recovery();
        assert_eq!(r.allowance(MSS), 0);
        assert_eq!(r.on_duplicate(0, 10 * MSS, 10 * MSS), OnDuplicate::Count);
        assert_eq!(r.allowance(MSS), MSS);
        r.on_limited_sent(MSS);
        assert_eq!(r.on_duplicate(0, 11 * MSS, 11 * MSS), OnDuplicate::Count);
        assert_eq!(r.allowance(MSS), 2 * MSS);
        r.on_limited_sent(MSS);
        assert_eq!(
            r.on_duplicate(0, 12 * MSS, 12 * MSS),
            OnDuplicate::FastRetransmit { flight: 10 * MSS }
        );
        assert_eq!(r.allowance(MSS), 0);
        assert_eq!(r.on_duplicate(0, 12 * MSS, 12 * MSS), OnDuplicate::Inflate);
    }

    /// RFC 6582 §3.2: ACKs below the recovery point are partial, the one reaching it is full,
    /// and a later loss needs an ACK beyond it.
    #[test]
    fn partial_acks_stay_in_recovery_until_the_recovery_point() {
        let mut r = recovery();
        for _ in 0..3 {
            r.on_duplicate(0, 10 * MSS, 10 * MSS);
        }
        assert_eq!(
            r.on_new_ack(2 * MSS),
            OnNewAck::Partial {
                restart_timer: true
            }
        );
        assert_eq!(
            r.on_new_ack(4 * MSS),
            OnNewAck::Partial {
                restart_timer: false
            }
        );
        assert_eq!(r.on_new_ack(10 * MSS), OnNewAck::Full);
        assert!(!r.in_recovery());
        // Three duplicates of exactly `recover` do not cover more than it.
        for _ in 0..3 {
            assert_eq!(
                r.on_duplicate(10 * MSS, 5 * MSS, 15 * MSS),
                OnDuplicate::Count
            );
        }
    }

    /// RFC 6582 §4: after a timeout, go-back-N provokes duplicates; they must not halve again.
    #[test]
    fn after_a_timeout_duplicates_below_recover_do_not_fast_retransmit() {
        let mut r = recovery();
        r.on_timeout(20 * MSS);
        for _ in 0..5 {
            assert_eq!(r.on_duplicate(5 * MSS, MSS, 20 * MSS), OnDuplicate::Count);
        }
        r.on_new_ack(21 * MSS);
        for _ in 0..2 {
            r.on_duplicate(21 * MSS, 3 * MSS, 24 * MSS);
        }
        assert!(matches!(
            r.on_duplicate(21 * MSS, 3 * MSS, 24 * MSS),
            OnDuplicate::FastRetransmit { .. }
        ));
    }
}
