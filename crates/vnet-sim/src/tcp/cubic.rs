//! CUBIC's window policy (RFC 9438).
//!
//! Windows are in segments (real numbers) inside this file, as in the RFC, and in bytes at its
//! edge. With `t` the time since the current congestion-avoidance epoch began:
//!
//! ```text
//! W_cubic(t) = C·(t − K)³ + W_max                         (§4.2, eq. 1)
//! K          = ∛((W_max − cwnd_epoch) / C)                (§4.2, eq. 2)
//! target     = W_cubic(t + SRTT), clamped to [cwnd, 1.5·cwnd]
//! per ACK:     cwnd += (target − cwnd) / cwnd · segments_acked
//! W_est     += α_cubic · segments_acked / cwnd,  α_cubic = 3(1 − β)/(1 + β),
//!              1 once W_est ≥ cwnd_prior                  (§4.3)
//! if W_cubic(t) < W_est: cwnd = W_est                     (Reno-friendly region)
//! on loss:     W_max = cwnd, or cwnd·(1 + β)/2 if cwnd < W_max (fast convergence, §4.7)
//!              ssthresh = max(FlightSize·β, 2·MSS), cwnd_prior = cwnd   (§4.6)
//! on timeout:  ssthresh as on loss; the next epoch has K = 0 and W_max = cwnd_epoch (§4.8)
//! ```
//!
//! A timeout during fast recovery is the congestion event the fast retransmit already
//! answered (see [`crate::tcp::sender`]): it reaches neither `ssthresh` nor this file, so
//! `W_max` and `K` stay the fast retransmit's rather than §4.8's.
//!
//! The epoch starts at the first ACK in congestion avoidance after a reduction (after fast
//! recovery, or when slow start after a timeout reaches `ssthresh`), as in Linux's
//! `bictcp_update`. `ssthresh` follows the flight, not `cwnd`, as §4.6 writes it; Linux uses
//! `cwnd`, which differs only when the sender is not window-limited.
//!
//! Slow start is shared with NewReno ([`crate::tcp::slow_start`]: RFC 5681's, with HyStart++
//! the first time), as RFC 9438 §4.10 allows; Linux's CUBIC uses the original HyStart.
//!
//! The cube root is Newton's method in plain `f64` arithmetic, not `f64::cbrt`: basic IEEE
//! operations round identically everywhere while a platform's `libm` need not, and a simulation
//! must give the same run on every machine.

use crate::tcp::config::CubicConfig;
use crate::time::{SimDuration, SimTime};

/// One congestion-avoidance epoch.
#[derive(Clone, Copy, Debug, PartialEq)]
struct Epoch {
    start: SimTime,
    /// Seconds from the start to the plateau at `w_max`.
    k: f64,
    /// The plateau this epoch's cubic aims at, segments.
    w_max: f64,
    /// Reno's window estimate, segments.
    w_est: f64,
}

/// CUBIC's state.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Cubic {
    config: CubicConfig,
    mss: f64,
    /// `W_max`: the window before the last reduction, segments (after fast convergence).
    w_max: f64,
    /// `cwnd_prior`: the window before the last reduction, segments.
    cwnd_prior: f64,
    epoch: Option<Epoch>,
    /// The next epoch follows a timeout (RFC 9438 §4.8).
    after_timeout: bool,
    /// Growth below one byte, carried to the next ACK.
    carry: f64,
}

impl Cubic {
    pub(crate) fn new(config: CubicConfig, mss: u64) -> Self {
        Self {
            config,
            mss: mss as f64,
            w_max: 0.0,
            cwnd_prior: 0.0,
            epoch: None,
            after_timeout: false,
            carry: 0.0,
        }
    }

    /// `α_cubic`: the Reno-friendly additive increase for β (RFC 9438 §4.3).
    fn alpha(&self) -> f64 {
        3.0 * (1.0 - self.config.beta) / (1.0 + self.config.beta)
    }

    /// `W_cubic(t)`, segments.
    fn w_cubic(&self, epoch: &Epoch, t: f64) -> f64 {
        let d = t - epoch.k;
        self.config.c * d * d * d + epoch.w_max
    }

    /// Congestion-avoidance growth for one ACK of `acked` bytes.
    pub(crate) fn on_ack(
        &mut self,
        now: SimTime,
        acked: u64,
        cwnd: u64,
        srtt: Option<SimDuration>,
    ) -> u64 {
        let w = cwnd as f64 / self.mss;
        let epoch = match self.epoch {
            Some(epoch) => epoch,
            None => {
                let (w_max, k) = if self.after_timeout || self.w_max <= w {
                    (w, 0.0)
                } else {
                    (self.w_max, cube_root((self.w_max - w) / self.config.c))
                };
                self.after_timeout = false;
                self.carry = 0.0;
                Epoch {
                    start: now,
                    k,
                    w_max,
                    w_est: w,
                }
            }
        };
        let mut epoch = epoch;
        let t = (now - epoch.start).as_secs_f64();
        let rtt = srtt.unwrap_or(SimDuration::ZERO).as_secs_f64();
        let segments = acked as f64 / self.mss;

        let alpha = if epoch.w_est >= self.cwnd_prior {
            1.0
        } else {
            self.alpha()
        };
        epoch.w_est += alpha * segments / w;
        self.epoch = Some(epoch);

        let next = if self.config.reno_friendly && self.w_cubic(&epoch, t) < epoch.w_est {
            epoch.w_est
        } else {
            let target = self.w_cubic(&epoch, t + rtt).clamp(w, 1.5 * w);
            w + (target - w) / w * segments
        };
        let grown = (next - w).max(0.0) * self.mss + self.carry;
        let whole = grown.floor();
        self.carry = grown - whole;
        cwnd.saturating_add(whole as u64)
    }

    /// A loss detected by duplicate ACKs (RFC 9438 §4.6, §4.7).
    pub(crate) fn on_congestion(&mut self, cwnd: u64, flight: u64) -> u64 {
        let w = cwnd as f64 / self.mss;
        self.w_max = if self.config.fast_convergence && w < self.w_max {
            w * (1.0 + self.config.beta) / 2.0
        } else {
            w
        };
        self.after_timeout = false;
        self.reduce(w, flight)
    }

    /// The first expiry of the retransmission timer (RFC 9438 §4.8).
    pub(crate) fn on_timeout(&mut self, cwnd: u64, flight: u64) -> u64 {
        self.after_timeout = true;
        self.reduce(cwnd as f64 / self.mss, flight)
    }

    fn reduce(&mut self, w: f64, flight: u64) -> u64 {
        self.cwnd_prior = w;
        self.epoch = None;
        let ssthresh = (flight as f64 * self.config.beta).floor() as u64;
        ssthresh.max(2 * self.mss as u64)
    }
}

/// `∛x` for `x ≥ 0` (0 for anything else), by Newton's method from above in basic `f64`
/// operations, which round the same on every platform (see the module docs).
fn cube_root(x: f64) -> f64 {
    if x.is_nan() || x <= 0.0 {
        return 0.0;
    }
    if x.is_infinite() {
        return x;
    }
    // From above the iteration falls monotonically to the root; stop when it no longer falls.
    let mut y = x.max(1.0);
    for _ in 0..2_000 {
        let next = (2.0 * y + x / (y * y)) / 3.0;
        if next >= y {
            break;
        }
        y = next;
    }
    y
}

#[cfg(test)]
mod tests {
    use super::*;

    const MSS: u64 = 1_000;

    fn cubic() -> Cubic {
        Cubic::new(CubicConfig::default(), MSS)
    }

    /// K and the plateau rest on the cube root; it must be exact to rounding.
    #[test]
    fn the_cube_root_is_exact_to_rounding() {
        for x in [1e-9, 0.001, 0.5, 1.0, 8.0, 27.0, 1e6, 1e15] {
            let y = cube_root(x);
            assert!((y * y * y - x).abs() <= x * 1e-14, "∛{x} = {y}");
        }
        assert_eq!(cube_root(-8.0), 0.0);
        assert_eq!(cube_root(f64::NAN), 0.0);
    }

    /// β = 0.7 (RFC 9438 §4.6): CUBIC gives up 30 % of its flight on a loss, not half.
    #[test]
    fn a_loss_keeps_seven_tenths_of_the_flight() {
        let mut c = cubic();
        assert_eq!(c.on_congestion(100_000, 100_000), 70_000);
        assert_eq!(c.w_max, 100.0);
        assert_eq!(c.on_congestion(10_000, 2_000), 2 * MSS);
    }

    /// Fast convergence (RFC 9438 §4.7): a flow whose plateau keeps falling must release more.
    #[test]
    fn a_falling_plateau_is_lowered_further_by_fast_convergence() {
        let mut c = cubic();
        c.on_congestion(100_000, 100_000);
        c.on_congestion(80_000, 80_000);
        assert!((c.w_max - 80.0 * 1.7 / 2.0).abs() < 1e-9, "{}", c.w_max);
    }

    /// The cubic's shape: concave up to W_max at t = K, where growth nearly stops, then convex.
    #[test]
    fn the_window_plateaus_at_w_max_after_k_seconds() {
        let mut c = Cubic::new(
            CubicConfig {
                reno_friendly: false,
                ..CubicConfig::default()
            },
            MSS,
        );
        let ssthresh = c.on_congestion(100_000, 100_000);
        let mut cwnd = ssthresh;
        // K = ∛(30 / 0.4) ≈ 4.217 s. One ACK per 1 ms of virtual time, tiny RTT.
        let rtt = Some(SimDuration::from_millis(1));
        let mut at_k = 0;
        for ms in 0..8_000u64 {
            cwnd = c.on_ack(SimTime::from_millis(ms), MSS, cwnd, rtt);
            if ms == 4_217 {
                at_k = cwnd;
            }
        }
        assert!((99_000..=100_500).contains(&at_k), "cwnd at K: {at_k}");
        assert!(cwnd > 110_000, "convex growth after K: {cwnd}");
    }

    /// The Reno-friendly region (RFC 9438 §4.3): at a short RTT CUBIC must not be slower than
    /// Reno, which grows about α_cubic segments per RTT after the loss.
    #[test]
    fn at_a_short_rtt_growth_is_at_least_renos() {
        let mut c = cubic();
        let ssthresh = c.on_congestion(20_000, 20_000);
        let mut cwnd = ssthresh;
        // 100 RTTs of 10 ms with one ACK per segment of the window.
        let mut now = SimTime::ZERO;
        for _ in 0..100 {
            let acks = cwnd / MSS;
            for _ in 0..acks {
                cwnd = c.on_ack(now, MSS, cwnd, Some(SimDuration::from_millis(10)));
            }
            now += SimDuration::from_millis(10);
        }
        // Reno-friendly: W_est ≈ 14 + 0.53·(segments to reach 20) + 1·rest ≈ 14 + 100·(≥0.53).
        assert!(cwnd >= 14_000 + 60 * MSS, "cwnd {cwnd}");
        assert!(cwnd <= 14_000 + 110 * MSS, "cwnd {cwnd}");
    }
}
