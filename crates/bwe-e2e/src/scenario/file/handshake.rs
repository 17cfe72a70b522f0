//! How long a scenario's flows may take to connect (ICE, then DTLS), and the paths on which
//! they never could.
//!
//! Measured with the harness (one flow, seed 1, symmetric links, unlimited queue), the
//! handshake ends at about `0.4 s + 4.1 × round trip` on an unlimited link (0.65 s at 100 ms,
//! 8.4 s at 2 s, 15.5 s at 3.8 s) and takes longer below ~50 kbit/s, where its ~6 kB of
//! flights serialise slowly (0.83 s at 50 kbit/s, 2.7 s at 10, 8.6 s at 5; at 3 kbit/s and
//! below it never completes). The default timeout is the fixed 10 s the harness always had,
//! raised on slow or long paths to twice [`handshake_estimate`], which covers every measured
//! point by a factor of two; a file can set its own (`connect_timeout_s`). A path whose doubled
//! estimate fits in 10 s keeps exactly 10 s, the timeout every shipped scenario was measured
//! with (the timeout arms timers, so its value is part of a run's schedule).
//!
//! One limit does not move with any timeout: webrtc-rs 0.21's ICE agent (rtc-ice's
//! `MAX_BINDING_REQUEST_TIMEOUT`) forgets a connectivity check after 4 s, so an answer that
//! takes longer is never matched and ICE fails. A round trip of 4 s or more at the start of the
//! call (2 000 ms each way connects in none of seeds 1–4; 1 900 ms connects in 15.5 s in each)
//! is refused when the file is read.

use vnet_sim::{LinkConfig, Rate, SimDuration};

use super::impairments::jitter_bound;

/// The timeout a call has when nothing asks for more: the harness's historical default.
pub const BASE_CONNECT_TIMEOUT: SimDuration = SimDuration::from_secs(10);

/// The round trip at or beyond which ICE can never connect (rtc-ice forgets a check after 4 s).
pub const ICE_ROUND_TRIP_LIMIT: SimDuration = SimDuration::from_secs(4);

/// Bytes of the handshake's flights one way (ICE checks, DTLS with a P-256 certificate), the
/// upper end of what the harness measures, for the serialisation time on a slow link.
const HANDSHAKE_BYTES: u64 = 6_000;

/// The round-trip propagation delay a flow with `access` one-way access delay sees at the start
/// of the call: its two access links twice each and both bottlenecks.
pub fn round_trip(forward: &LinkConfig, backward: &LinkConfig, access: SimDuration) -> SimDuration {
    access.saturating_mul(4) + forward.delay + backward.delay
}

/// An upper estimate of how long the handshake takes: `0.5 s + 4.5 × round trip` (with the
/// links' largest jitter) plus the flights' serialisation at the slowest capacity at the start.
pub fn handshake_estimate(
    forward: &LinkConfig,
    backward: &LinkConfig,
    access: SimDuration,
) -> SimDuration {
    let rtt = round_trip(forward, backward, access)
        + jitter_bound(forward.jitter.distribution)
        + jitter_bound(backward.jitter.distribution);
    let slowest = [forward, backward]
        .iter()
        .filter_map(|l| l.capacity.nominal_rate_at(SimDuration::ZERO))
        .filter(|r| r.bps() > 0)
        .min();
    let serialise = slowest.map_or(SimDuration::ZERO, |rate: Rate| {
        SimDuration::from_nanos((HANDSHAKE_BYTES * 8).saturating_mul(1_000_000_000) / rate.bps())
    });
    // Saturating: a file may give a jitter of centuries.
    SimDuration::from_millis(500)
        + SimDuration::from_nanos((rtt.as_nanos() / 2).saturating_mul(9))
        + serialise
}

/// The default connect timeout: [`BASE_CONNECT_TIMEOUT`], or twice the estimate when that is
/// longer.
pub fn default_connect_timeout(
    forward: &LinkConfig,
    backward: &LinkConfig,
    access: SimDuration,
) -> SimDuration {
    BASE_CONNECT_TIMEOUT.max(handshake_estimate(forward, backward, access).saturating_mul(2))
}

/// Why a flow with `access` delay could never connect over these links, if it could not.
pub fn unreachable(
    forward: &LinkConfig,
    backward: &LinkConfig,
    access: SimDuration,
) -> Option<String> {
    let rtt = round_trip(forward, backward, access);
    (rtt >= ICE_ROUND_TRIP_LIMIT).then(|| {
        let access = if access == SimDuration::ZERO {
            String::new()
        } else {
            format!(" + 4 × access_delay_ms {}", access.as_millis())
        };
        format!(
            "the round trip at the start of the call is {:.3} s (forward delay_ms {} + \
             backward delay_ms {}{access}); webrtc-rs 0.21's ICE agent forgets a connectivity \
             check after 4 s, so no answer could ever be matched and the call could never \
             connect: keep the round trip below 4 s",
            rtt.as_secs_f64(),
            forward.delay.as_millis(),
            backward.delay.as_millis(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use vnet_sim::RateSchedule;

    fn link(delay_ms: u64, kbps: Option<u64>) -> LinkConfig {
        LinkConfig {
            delay: SimDuration::from_millis(delay_ms),
            capacity: kbps.map_or(RateSchedule::Unlimited, |k| Rate::from_kbps(k).into()),
            ..LinkConfig::default()
        }
    }

    /// Every shipped scenario's path connects well within 10 s; their runs must not change,
    /// so the default stays exactly 10 s there.
    #[test]
    fn ordinary_paths_keep_the_ten_second_default() {
        let (f, b) = (link(50, Some(1_000)), link(50, None));
        assert_eq!(
            default_connect_timeout(&f, &b, SimDuration::ZERO),
            BASE_CONNECT_TIMEOUT
        );
        let access = SimDuration::from_millis(75);
        assert_eq!(
            default_connect_timeout(&link(0, Some(4_000)), &link(0, None), access),
            BASE_CONNECT_TIMEOUT
        );
    }

    /// The measured handshakes (8.4 s at 1 000 ms each way, 15.5 s at 1 900 ms, 8.6 s at
    /// 5 kbit/s) must fit in the default with room to spare.
    #[test]
    fn long_and_slow_paths_get_at_least_twice_the_measured_handshake() {
        let secs = |f: &LinkConfig, b: &LinkConfig| {
            default_connect_timeout(f, b, SimDuration::ZERO).as_secs_f64()
        };
        assert!(secs(&link(1_000, None), &link(1_000, None)) >= 2.0 * 8.4);
        assert!(secs(&link(1_900, None), &link(1_900, None)) >= 2.0 * 15.5);
        assert!(secs(&link(25, Some(5)), &link(25, Some(5))) >= 2.0 * 8.6);
        let jittery = LinkConfig {
            jitter: vnet_sim::JitterConfig {
                distribution: vnet_sim::JitterDistribution::Uniform {
                    max: SimDuration::from_millis(1_000),
                },
                reorder: false,
            },
            ..link(1_000, None)
        };
        assert!(secs(&jittery, &link(1_000, None)) > secs(&link(1_000, None), &link(1_000, None)));
    }

    /// A jitter bound of centuries (a file's `max_ms` beyond any run) saturates the estimate
    /// rather than overflowing it (found by the scenario parser's property test).
    #[test]
    fn a_huge_jitter_saturates_the_estimate() {
        let jittery = LinkConfig {
            jitter: vnet_sim::JitterConfig {
                distribution: vnet_sim::JitterDistribution::Uniform {
                    max: SimDuration::from_millis(4_099_276_460_661),
                },
                reorder: false,
            },
            ..link(0, None)
        };
        assert_eq!(
            default_connect_timeout(&jittery, &link(0, None), SimDuration::ZERO),
            SimDuration::MAX
        );
    }

    /// A round trip of 4 s can never connect, whatever the timeout; the reason must name the
    /// limit and the delays that add up to it.
    #[test]
    fn a_round_trip_of_four_seconds_is_unreachable() {
        assert_eq!(
            unreachable(&link(1_999, None), &link(2_000, None), SimDuration::ZERO),
            None
        );
        let why =
            unreachable(&link(2_000, None), &link(2_000, None), SimDuration::ZERO).expect("4 s");
        assert!(
            why.contains("4.000 s") && why.contains("forgets a connectivity check"),
            "{why}"
        );
        let why = unreachable(&link(0, None), &link(0, None), SimDuration::from_secs(1))
            .expect("access links alone");
        assert!(why.contains("4 × access_delay_ms 1000"), "{why}");
    }
}
