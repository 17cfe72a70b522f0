//! [`TcpConfig`]: the typed description a [`crate::tcp::TcpSender`] is built from.
//!
//! Every default is the RFC's, cited beside it; where Linux differs the field says how, so that
//! a scenario can ask for either.

use thiserror::Error;

use crate::tcp::segment::{DEFAULT_MSS, HEADER_BYTES};
use crate::time::SimDuration;

/// How a sender grows and shrinks its window. Loss detection, recovery and the retransmission
/// timer are the same for every choice; only the window policy differs.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub enum TcpAlgorithm {
    /// NewReno: RFC 5681 slow start and congestion avoidance, RFC 6582 fast recovery, halving
    /// on loss. The default: it is the IETF's baseline, the one every other is compared with.
    #[default]
    NewReno,
    /// CUBIC (RFC 9438), Linux's default since 2.6.19.
    Cubic(CubicConfig),
}

/// CUBIC's constants (RFC 9438 §4.1, §4.6, §4.7). The defaults are the RFC's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct CubicConfig {
    /// `C`, the cubic's scaling constant, in segments per second³. Default 0.4 (RFC 9438 §5).
    pub c: f64,
    /// `β_cubic`, the multiplicative decrease factor. Default 0.7 (RFC 9438 §4.6).
    pub beta: f64,
    /// Fast convergence (RFC 9438 §4.7): release bandwidth faster when `W_max` keeps falling.
    /// Default on.
    pub fast_convergence: bool,
    /// The Reno-friendly region (RFC 9438 §4.3): never grow slower than Reno would. Default on.
    pub reno_friendly: bool,
}

impl Default for CubicConfig {
    fn default() -> Self {
        Self {
            c: 0.4,
            beta: 0.7,
            fast_convergence: true,
            reno_friendly: true,
        }
    }
}

/// The retransmission timer's bounds (RFC 6298 §2).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RtoConfig {
    /// The RTO before any RTT sample. Default 1 s (RFC 6298 §2.1).
    pub initial: SimDuration,
    /// The least RTO computed from samples. Default 1 s (RFC 6298 §2.4); Linux uses 200 ms
    /// (`TCP_RTO_MIN`), see [`RtoConfig::LINUX`].
    pub min: SimDuration,
    /// The most the RTO may back off to. Default 60 s, the least RFC 6298 §2.5 allows; Linux
    /// uses 120 s (`TCP_RTO_MAX`).
    pub max: SimDuration,
}

impl RtoConfig {
    /// RFC 6298's values: 1 s initial and minimum, 60 s maximum.
    pub const RFC6298: Self = Self {
        initial: SimDuration::from_secs(1),
        min: SimDuration::from_secs(1),
        max: SimDuration::from_secs(60),
    };

    /// Linux's values: 1 s initial (`TCP_TIMEOUT_INIT`), 200 ms minimum, 120 s maximum.
    pub const LINUX: Self = Self {
        initial: SimDuration::from_secs(1),
        min: SimDuration::from_millis(200),
        max: SimDuration::from_secs(120),
    };
}

impl Default for RtoConfig {
    fn default() -> Self {
        Self::RFC6298
    }
}

/// When fast recovery restarts the retransmission timer on a partial ACK (RFC 6582 §3.2 step 5
/// and §6).
///
/// NewReno repairs one hole per round trip, so a window with `n` losses needs `n` round trips
/// of recovery. Restarting the timer on the first partial ACK only ("Impatient", what RFC 6582
/// §3.2 specifies) bounds that by one RTO, after which the sender times out, falls to one
/// segment and goes back N; restarting it on every partial ACK ("Slow-but-Steady", RFC 6298
/// §5.3 applied as written) stays in recovery, with the ACK clock running, until every hole is
/// repaired. RFC 6582 §6 names the trade: Impatient times out "even in a scenario with a small
/// number of packet drops" when the RTO is not much larger than the RTT, Slow-but-Steady can
/// stay in recovery a long time after many drops.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum RecoveryTimer {
    /// Restart on every partial ACK. The default: behind a bloated buffer the RTT is a large
    /// fraction of the 1 s minimum RTO (400 ms behind a 300 ms queue), and CUBIC's convex
    /// growth past a plateau lowered by fast convergence loses 3–5 segments in a window;
    /// Impatient turns each such event into a timeout and a restart from one segment, which a
    /// deployed (SACK) sender does not suffer, while Slow-but-Steady ends recovery at the
    /// window a SACK sender would reach, only later. The case Slow-but-Steady handles badly, half a
    /// window lost at the end of the first slow start, is what HyStart++ prevents
    /// ([`TcpConfig::hystart`]).
    #[default]
    SlowButSteady,
    /// Restart on the first partial ACK only, as RFC 6582 §3.2 step 5 specifies.
    Impatient,
}

/// A TCP-model sender's configuration.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct TcpConfig {
    /// Window growth and decrease. Default: [`TcpAlgorithm::NewReno`].
    pub algorithm: TcpAlgorithm,
    /// Maximum segment size: payload bytes per segment. Default [`DEFAULT_MSS`] (1448, a
    /// 1500-byte MTU with timestamps).
    pub mss: u32,
    /// Initial window in bytes; `None` for RFC 6928's `min(10·MSS, max(2·MSS, 14600))`, which
    /// is 10 segments at the default MSS. Default `None`.
    pub initial_window: Option<u64>,
    /// The retransmission timer. Default [`RtoConfig::RFC6298`].
    pub rto: RtoConfig,
    /// Limited transmit (RFC 3042): a new segment on each of the first two duplicate ACKs, so
    /// that a small window still gets its three. Default on, as RFC 5681 §3.2 recommends and
    /// Linux does.
    pub limited_transmit: bool,
    /// HyStart++ (RFC 9406) in the first slow start, which leaves it on rising delay instead
    /// of by losing half a window (see [`crate::tcp::slow_start`]). Default on.
    pub hystart: bool,
    /// When fast recovery restarts the retransmission timer. Default
    /// [`RecoveryTimer::SlowButSteady`].
    pub recovery_timer: RecoveryTimer,
}

impl Default for TcpConfig {
    fn default() -> Self {
        Self {
            algorithm: TcpAlgorithm::NewReno,
            mss: DEFAULT_MSS,
            initial_window: None,
            rto: RtoConfig::RFC6298,
            limited_transmit: true,
            hystart: true,
            recovery_timer: RecoveryTimer::SlowButSteady,
        }
    }
}

/// The largest MSS: an IPv4 packet of 65535 bytes less [`HEADER_BYTES`].
pub const MAX_MSS: u32 = 65_535 - HEADER_BYTES;

impl TcpConfig {
    /// The initial window in bytes: the configured one, or RFC 6928 §2's
    /// `min(10·MSS, max(2·MSS, 14600))`.
    pub fn initial_window(&self) -> u64 {
        let mss = u64::from(self.mss);
        self.initial_window
            .unwrap_or_else(|| (10 * mss).min((2 * mss).max(14_600)))
    }

    /// Checks every parameter; [`crate::tcp::TcpSender::new`] does this too.
    pub fn validate(&self) -> Result<(), TcpConfigError> {
        if self.mss == 0 || self.mss > MAX_MSS {
            return Err(TcpConfigError::Mss { mss: self.mss });
        }
        if self.initial_window == Some(0) {
            return Err(TcpConfigError::InitialWindow);
        }
        let rto = self.rto;
        if rto.min == SimDuration::ZERO || rto.initial == SimDuration::ZERO || rto.min > rto.max {
            return Err(TcpConfigError::Rto { rto });
        }
        if let TcpAlgorithm::Cubic(cubic) = self.algorithm {
            if !(cubic.c.is_finite() && cubic.c > 0.0) {
                return Err(TcpConfigError::Cubic {
                    what: "C",
                    value: cubic.c,
                });
            }
            if !(cubic.beta > 0.0 && cubic.beta < 1.0) {
                return Err(TcpConfigError::Cubic {
                    what: "beta",
                    value: cubic.beta,
                });
            }
        }
        Ok(())
    }
}

/// A TCP configuration that cannot be built.
#[derive(Clone, Copy, Debug, PartialEq, Error)]
#[non_exhaustive]
pub enum TcpConfigError {
    /// An MSS of zero or beyond an IPv4 packet.
    #[error("MSS must be in 1..={MAX_MSS} bytes, got {mss}")]
    Mss {
        /// The MSS given.
        mss: u32,
    },
    /// An initial window of zero bytes: nothing would ever be sent.
    #[error("the initial window must be at least one byte")]
    InitialWindow,
    /// Timer bounds that are zero or inverted.
    #[error("RTO bounds must be non-zero with min <= max, got {rto:?}")]
    Rto {
        /// The bounds given.
        rto: RtoConfig,
    },
    /// A CUBIC constant out of range (`C > 0`, `0 < beta < 1`).
    #[error("CUBIC {what} out of range: {value}")]
    Cubic {
        /// Which constant.
        what: &'static str,
        /// The value given.
        value: f64,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6928's formula must give 10 segments at the usual MSS and fall back for large ones.
    #[test]
    fn the_initial_window_is_iw10_at_the_default_mss() {
        let config = TcpConfig::default();
        assert_eq!(config.initial_window(), 14_480);
        let jumbo = TcpConfig {
            mss: 8_948,
            ..TcpConfig::default()
        };
        assert_eq!(jumbo.initial_window(), 2 * 8_948);
        let small = TcpConfig {
            mss: 536,
            ..TcpConfig::default()
        };
        assert_eq!(small.initial_window(), 5_360);
    }

    /// A typo in a scenario must be refused at build time with the offending value.
    #[test]
    fn invalid_parameters_are_refused_with_the_value() {
        let zero_mss = TcpConfig {
            mss: 0,
            ..TcpConfig::default()
        };
        assert_eq!(
            zero_mss.validate().map_err(|e| e.to_string()),
            Err("MSS must be in 1..=65483 bytes, got 0".to_owned())
        );
        let inverted = TcpConfig {
            rto: RtoConfig {
                max: SimDuration::from_millis(500),
                ..RtoConfig::RFC6298
            },
            ..TcpConfig::default()
        };
        assert!(matches!(
            inverted.validate(),
            Err(TcpConfigError::Rto { .. })
        ));
        let bad_beta = TcpConfig {
            algorithm: TcpAlgorithm::Cubic(CubicConfig {
                beta: 1.0,
                ..CubicConfig::default()
            }),
            ..TcpConfig::default()
        };
        assert_eq!(
            bad_beta.validate(),
            Err(TcpConfigError::Cubic {
                what: "beta",
                value: 1.0
            })
        );
        assert_eq!(TcpConfig::default().validate(), Ok(()));
    }
}
