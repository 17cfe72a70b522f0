//! Seed derivation: one random stream per stage, named, independent of every other stage.
//!
//! A simulation has one seed. Every stage that draws random numbers (loss, jitter, duplication)
//! gets its own `ChaCha8Rng`, seeded from `(seed, label)` where the label names the stage. So
//! adding a jitter stage, or drawing one more number in the loss stage, leaves every other stage's
//! numbers exactly as they were. A single shared RNG would couple them: one extra draw anywhere
//! would shift every later decision everywhere, and a regression test would fail for reasons
//! unrelated to what it tests.
//!
//! The derivation hash is written out here (FNV-1a over the seed and label, finished and expanded
//! with SplitMix64) rather than taken from `std::hash::DefaultHasher`, whose output may change
//! between Rust releases; seeds derived today must give the same streams in every later build.
//! Neither function is cryptographic, and does not need to be: they only have to spread distinct
//! labels over distinct ChaCha keys. Sampling (uniform reals and integers, probabilities) is done
//! here too, not with `rand`'s distributions, for the same reason: their algorithms are free to
//! change between `rand` versions and would silently shift every simulation.

use rand_chacha::ChaCha8Rng;
use rand_chacha::rand_core::{RngCore, SeedableRng};

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

/// SplitMix64's output function: a bijective 64-bit mixer with full avalanche.
fn mix64(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// SplitMix64's state increment (the golden ratio).
const GOLDEN: u64 = 0x9e37_79b9_7f4a_7c15;

/// A child seed for `label` under `seed`: stable across builds and platforms.
///
/// Use it to give each part of a larger simulation its own seed, e.g. one per link from the
/// simulation seed and the link's name, then one stream per stage from the link seed.
pub fn derive_seed(seed: u64, label: &str) -> u64 {
    let mut h = FNV_OFFSET;
    for b in seed.to_le_bytes().into_iter().chain(label.bytes()) {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    mix64(h)
}

/// The random stream for the stage named `label` under `seed`.
pub fn stream(seed: u64, label: &str) -> ChaCha8Rng {
    let mut state = derive_seed(seed, label);
    let mut key = [0u8; 32];
    for chunk in key.chunks_exact_mut(8) {
        state = state.wrapping_add(GOLDEN);
        chunk.copy_from_slice(&mix64(state).to_le_bytes());
    }
    ChaCha8Rng::from_seed(key)
}

/// A uniform real in `[0, 1)` from the top 53 bits of one draw.
pub(crate) fn unit_f64(rng: &mut ChaCha8Rng) -> f64 {
    (rng.next_u64() >> 11) as f64 * (1.0 / (1u64 << 53) as f64)
}

/// A uniform integer in `[0, n)` by multiply-shift (Lemire, without the rejection step): one
/// draw, no division, bias below `n / 2^64`, which no simulation can observe.
pub(crate) fn below(rng: &mut ChaCha8Rng, n: u64) -> u64 {
    ((u128::from(rng.next_u64()) * u128::from(n)) >> 64) as u64
}

/// An event with a fixed probability, precomputed as a threshold on one 64-bit draw.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Chance {
    /// Never happens, and draws nothing.
    Never,
    /// Happens when a draw falls below the threshold: probability `threshold / 2^64`.
    Below(u64),
    /// Always happens, and draws nothing.
    Always,
}

impl Chance {
    /// The event with probability `p`; the caller has checked `p` is in `[0, 1]`.
    pub(crate) fn new(p: f64) -> Self {
        if p.is_nan() || p <= 0.0 {
            Chance::Never
        } else if p >= 1.0 {
            Chance::Always
        } else {
            // `as` saturates; p < 1 keeps the product below 2^64.
            Chance::Below((p * 18_446_744_073_709_551_616.0) as u64)
        }
    }

    /// Draws once (unless the outcome is certain) and says whether the event happened.
    #[inline]
    pub(crate) fn happens(self, rng: &mut ChaCha8Rng) -> bool {
        match self {
            Chance::Never => false,
            Chance::Always => true,
            Chance::Below(t) => rng.next_u64() < t,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every stored seed and regression log depends on these numbers never changing.
    #[test]
    fn derived_seeds_and_streams_are_pinned() {
        assert_eq!(derive_seed(0, ""), 0x813f_0174_a236_7c13);
        assert_eq!(derive_seed(42, "loss"), 0xcc7b_487c_54f1_7016);
        assert_eq!(stream(42, "loss").next_u64(), 0x57b7_fff5_1309_fd24);
    }

    /// Independence of stages needs distinct labels (and seeds) to give distinct streams.
    #[test]
    fn different_labels_and_seeds_give_different_streams() {
        let a = stream(1, "loss").next_u64();
        let b = stream(1, "jitter").next_u64();
        let c = stream(2, "loss").next_u64();
        assert_ne!(a, b);
        assert_ne!(a, c);
        assert_ne!(b, c);
        assert_eq!(a, stream(1, "loss").next_u64());
    }

    /// A probability must map onto a threshold without panicking at the edges.
    #[test]
    fn chance_is_certain_at_the_edges_and_proportional_between() {
        let mut rng = stream(7, "chance");
        assert!(!Chance::new(0.0).happens(&mut rng));
        assert!(!Chance::new(f64::NAN).happens(&mut rng));
        assert!(Chance::new(1.0).happens(&mut rng));
        let hits = (0..100_000)
            .filter(|_| Chance::new(0.25).happens(&mut rng))
            .count();
        assert!((24_500..=25_500).contains(&hits), "{hits}");
    }
}
