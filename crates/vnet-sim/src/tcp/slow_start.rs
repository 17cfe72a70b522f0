//! Slow start: RFC 5681's, or HyStart++ (RFC 9406) for the first one.
//!
//! Standard slow start grows `cwnd` by `min(N, MSS)` per ACK of `N` new bytes (RFC 5681 §3.1)
//! until a loss or `ssthresh`, which starts unlimited. Behind a deep drop-tail buffer that means
//! the first loss is detected a round trip after the buffer overflowed, when the window is twice
//! what the path holds: half a window lost at once. NewReno recovery repairs one hole per round
//! trip, so that one overshoot costs tens of round trips of recovery or a timeout, and a
//! threshold set from the overshot window (CUBIC keeps 70 % of it) overshoots again.
//!
//! HyStart++ (RFC 9406 §4.2) ends slow start on rising delay instead: once a round's minimum
//! RTT exceeds the previous round's by `clamp(minRTT/8, 4 ms, 16 ms)` (after at least 8
//! samples), growth drops to a quarter (Conservative Slow Start, CSS) for up to 5 rounds, then
//! congestion avoidance begins with `ssthresh = cwnd`; if the RTT falls back below the level
//! that started CSS, slow start resumes. A loss ends it like any slow start. Per RFC 9406 §4.2
//! it runs only in the first slow start (`ssthresh` still unlimited); later ones have a
//! threshold from a loss and use standard slow start. Linux's CUBIC ships the original
//! HyStart, which ends slow start on the same signal; RFC 9438 §4.10 allows either.
//!
//! The sender is not paced, so the per-ACK limit `L` is 8 MSS (RFC 9406 §4.2); with an ACK per
//! segment it never binds.

use crate::time::SimDuration;

/// RFC 9406 §4.3 constants.
const MIN_RTT_THRESH: SimDuration = SimDuration::from_millis(4);
const MAX_RTT_THRESH: SimDuration = SimDuration::from_millis(16);
const MIN_RTT_DIVISOR: u64 = 8;
const N_RTT_SAMPLE: u32 = 8;
const CSS_GROWTH_DIVISOR: u64 = 4;
const CSS_ROUNDS: u32 = 5;
/// The per-ACK growth limit for an unpaced sender, in MSS.
const L: u64 = 8;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Phase {
    /// HyStart++'s slow start.
    SlowStart,
    /// Conservative slow start since the RTT rose to `baseline`, `rounds` rounds ago.
    Css { baseline: SimDuration, rounds: u32 },
    /// Standard slow start (HyStart++ off, or over).
    Standard,
}

/// What one ACK in slow start does to the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Growth {
    /// Bytes to add to `cwnd`.
    pub(crate) increase: u64,
    /// HyStart++ finished: set `ssthresh = cwnd` and go on in congestion avoidance.
    pub(crate) exit: bool,
}

/// A sender's slow-start state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct SlowStart {
    phase: Phase,
    /// The end of the current round: it ends when this byte is acknowledged.
    window_end: Option<u64>,
    last_round_min: Option<SimDuration>,
    current_round_min: Option<SimDuration>,
    samples: u32,
}

impl SlowStart {
    /// HyStart++ when `hystart`, else standard slow start throughout.
    pub(crate) fn new(hystart: bool) -> Self {
        Self {
            phase: if hystart {
                Phase::SlowStart
            } else {
                Phase::Standard
            },
            window_end: None,
            last_round_min: None,
            current_round_min: None,
            samples: 0,
        }
    }

    /// An ACK of `acked` new bytes while `cwnd < ssthresh`, with its RTT sample; `una` and
    /// `nxt` after the ACK.
    pub(crate) fn on_ack(
        &mut self,
        acked: u64,
        mss: u64,
        rtt: Option<SimDuration>,
        una: u64,
        nxt: u64,
    ) -> Growth {
        let standard = Growth {
            increase: acked.min(mss),
            exit: false,
        };
        if self.phase == Phase::Standard {
            return standard;
        }
        let window_end = *self.window_end.get_or_insert(nxt);
        let base = acked.min(L * mss);
        let increase = match self.phase {
            Phase::Css { .. } => base / CSS_GROWTH_DIVISOR,
            _ => base,
        };
        if let Some(rtt) = rtt {
            self.current_round_min = Some(self.current_round_min.map_or(rtt, |m| m.min(rtt)));
            self.samples += 1;
        }
        if let (Some(current), Some(last)) = (self.current_round_min, self.last_round_min)
            && self.samples >= N_RTT_SAMPLE
        {
            match self.phase {
                Phase::SlowStart => {
                    let thresh = SimDuration::from_nanos(last.as_nanos() / MIN_RTT_DIVISOR)
                        .clamp(MIN_RTT_THRESH, MAX_RTT_THRESH);
                    if current >= last + thresh {
                        self.phase = Phase::Css {
                            baseline: current,
                            rounds: 0,
                        };
                    }
                }
                Phase::Css { baseline, .. } if current < baseline => {
                    self.phase = Phase::SlowStart;
                }
                _ => {}
            }
        }
        let mut exit = false;
        if una >= window_end {
            if let Phase::Css { rounds, .. } = &mut self.phase {
                *rounds += 1;
                if *rounds >= CSS_ROUNDS {
                    self.phase = Phase::Standard;
                    exit = true;
                }
            }
            self.last_round_min = self.current_round_min.take();
            self.samples = 0;
            self.window_end = Some(nxt);
        }
        Growth { increase, exit }
    }

    /// A loss (or timeout) ends HyStart++ for good (RFC 9406 §4.2: later slow starts have a
    /// threshold).
    pub(crate) fn on_loss(&mut self) {
        self.phase = Phase::Standard;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: u64 = 1_000;

    fn ms(n: u64) -> SimDuration {
        SimDuration::from_millis(n)
    }

    /// Runs rounds of `acks` ACKs each with the given minimum RTT; returns the total growth and
    /// whether HyStart++ exited.
    fn rounds(s: &mut SlowStart, rtts: &[u64], acks: u64, start: &mut u64) -> (u64, bool) {
        let (mut grown, mut exit) = (0, false);
        for &rtt in rtts {
            let end = *start + acks * MSS;
            for i in 1..=acks {
                // The round's data is sent; its last ACK releases the next round's.
                let nxt = if i == acks { end + acks * MSS } else { end };
                let g = s.on_ack(MSS, MSS, Some(ms(rtt + i % 3)), *start + i * MSS, nxt);
                grown += g.increase;
                exit |= g.exit;
            }
            *start = end;
        }
        (grown, exit)
    }

    /// Without the option the slow start is RFC 5681's, one MSS per ACK, with no exit.
    #[test]
    fn standard_slow_start_grows_one_mss_per_ack_whatever_the_rtt() {
        let mut s = SlowStart::new(false);
        let mut start = 0;
        assert_eq!(
            rounds(&mut s, &[100, 200, 300], 10, &mut start),
            (30 * MSS, false)
        );
    }

    /// RFC 9406: a steady RTT keeps full slow start; a rise of more than minRTT/8 switches to a
    /// quarter of the growth, and five such rounds end slow start.
    #[test]
    fn a_rising_rtt_slows_growth_to_a_quarter_and_ends_after_five_rounds() {
        let mut s = SlowStart::new(true);
        let mut start = 0;
        assert_eq!(
            rounds(&mut s, &[100, 104, 100], 10, &mut start),
            (30 * MSS, false)
        );
        // 100 → 113 ms: more than 100/8 = 12.5 ms; CSS from the eighth sample of the round.
        let (grown, exit) = rounds(&mut s, &[113], 10, &mut start);
        assert_eq!((grown, exit), (8 * MSS + 2 * MSS / 4, false));
        let (grown, exit) = rounds(&mut s, &[113, 114, 115, 116], 10, &mut start);
        assert_eq!((grown, exit), (40 * MSS / 4, true));
        assert_eq!(s.phase, Phase::Standard);
    }

    /// A transient rise must not end slow start: an RTT back below the CSS baseline resumes it.
    #[test]
    fn an_rtt_falling_back_during_css_resumes_slow_start() {
        let mut s = SlowStart::new(true);
        let mut start = 0;
        rounds(&mut s, &[100, 120], 10, &mut start);
        assert!(matches!(s.phase, Phase::Css { .. }));
        rounds(&mut s, &[100], 10, &mut start);
        assert_eq!(s.phase, Phase::SlowStart);
    }
}
