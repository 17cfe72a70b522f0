//! The random stages of a link in a scenario file: `loss`, `duplicate` and `jitter`.
//!
//! `loss` keeps its short spelling, a probability (`loss = 0.01`: Bernoulli), and takes a table
//! for bursts (`loss = { mean_loss = 0.02, mean_burst = 3 }`: Gilbert–Elliott by mean loss and
//! mean burst length, as vnet-sim's `LossModel::GilbertElliott` defines them). One key with two
//! shapes, rather than a second key beside it, because both say "the share of packets lost" and
//! a file could otherwise give two models at once. The shape is read with a hand-written
//! visitor, not serde's untagged enums, so that a misspelt key inside the table is reported at
//! that key like every other unknown field.

use std::fmt;
use std::ops::Range;

use serde::de::{MapAccess, Visitor, value::MapAccessDeserializer};
use serde::{Deserialize, Deserializer};
use toml::Spanned;
use vnet_sim::{JitterDistribution, LossModel, SimDuration};

/// `loss = …`: a probability or a Gilbert–Elliott table.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LossSpec {
    /// `loss = 0.01`: every packet is lost independently with this probability.
    Probability(f64),
    /// `loss = { mean_loss = …, mean_burst = … }`.
    Table(LossTable),
}

/// The table form of `loss`.
#[derive(Debug, Clone, Copy, PartialEq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct LossTable {
    /// The long-run share of packets lost, in `[0, 1)`.
    pub mean_loss: f64,
    /// The mean number of packets in a loss burst (at least 1); none means independent losses
    /// (Bernoulli).
    #[serde(default)]
    pub mean_burst: Option<f64>,
}

impl<'de> Deserialize<'de> for LossSpec {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Shape;

        impl<'de> Visitor<'de> for Shape {
            type Value = LossSpec;

            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(
                    "a loss probability (loss = 0.01) or a table (loss = { mean_loss = 0.02, \
                     mean_burst = 3 })",
                )
            }

            fn visit_f64<E>(self, v: f64) -> Result<LossSpec, E> {
                Ok(LossSpec::Probability(v))
            }

            fn visit_i64<E>(self, v: i64) -> Result<LossSpec, E> {
                Ok(LossSpec::Probability(v as f64))
            }

            fn visit_u64<E>(self, v: u64) -> Result<LossSpec, E> {
                Ok(LossSpec::Probability(v as f64))
            }

            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<LossSpec, A::Error> {
                LossTable::deserialize(MapAccessDeserializer::new(map)).map(LossSpec::Table)
            }
        }

        deserializer.deserialize_any(Shape)
    }
}

/// `jitter = { max_ms = … }` (uniform) or `jitter = { mean_ms = …, std_dev_ms = … }` (normal).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct JitterSpec {
    /// The largest extra delay of a uniform jitter, ms (fractions allowed).
    #[serde(default)]
    pub max_ms: Option<Spanned<f64>>,
    /// The mean extra delay of a normal jitter, ms.
    #[serde(default)]
    pub mean_ms: Option<Spanned<f64>>,
    /// The standard deviation of a normal jitter, ms.
    #[serde(default)]
    pub std_dev_ms: Option<Spanned<f64>>,
}

/// Why `loss = 1` is refused: it is not an outage of a window, it is a call that cannot start.
const TOTAL_LOSS: &str = "a loss of 1 would lose every packet for the whole call, the ICE and \
     DTLS handshake included, so the call could never connect; a total outage for a window is a \
     blackout (blackouts = [{ from_s = …, to_s = … }]: every packet leaving the queue in the \
     window is lost, where the loss stage drops)";

/// The loss model `spec` describes.
pub(super) fn loss(
    spec: &Spanned<LossSpec>,
    at: &impl Fn(Option<Range<usize>>, &str) -> String,
) -> Result<LossModel, String> {
    let here = |message: &str| at(Some(spec.span()), message);
    let (mean, burst) = match *spec.get_ref() {
        LossSpec::Probability(p) => (p, None),
        LossSpec::Table(t) => (t.mean_loss, t.mean_burst),
    };
    if mean == 1.0 {
        return Err(here(TOTAL_LOSS));
    }
    if !(0.0..1.0).contains(&mean) {
        return Err(here(&format!("loss must be in [0, 1), got {mean}")));
    }
    let model = match burst {
        _ if mean == 0.0 => LossModel::None,
        None => LossModel::Bernoulli { probability: mean },
        Some(mean_burst) => LossModel::GilbertElliott {
            mean_loss: mean,
            mean_burst,
        },
    };
    model.validate().map_err(|e| here(&format!("loss: {e}")))?;
    Ok(model)
}

/// The duplication probability `spec` gives.
pub(super) fn duplicate(
    spec: &Spanned<f64>,
    at: &impl Fn(Option<Range<usize>>, &str) -> String,
) -> Result<f64, String> {
    let p = *spec.get_ref();
    if (0.0..=1.0).contains(&p) {
        Ok(p)
    } else {
        Err(at(
            Some(spec.span()),
            &format!("duplicate is a probability in [0, 1], got {p}"),
        ))
    }
}

/// The jitter distribution `spec` describes.
pub(super) fn jitter(
    spec: &Spanned<JitterSpec>,
    at: &impl Fn(Option<Range<usize>>, &str) -> String,
) -> Result<JitterDistribution, String> {
    let ms = |value: &Spanned<f64>| {
        let v = *value.get_ref();
        if v.is_finite() && v >= 0.0 {
            // Finite and non-negative; `as` saturates a value beyond u64 nanoseconds.
            Ok(SimDuration::from_nanos((v * 1e6).round() as u64))
        } else {
            Err(at(
                Some(value.span()),
                &format!("jitter values are ms, finite and >= 0, got {v}"),
            ))
        }
    };
    let j = spec.get_ref();
    match (&j.max_ms, &j.mean_ms, &j.std_dev_ms) {
        (Some(max), None, None) => Ok(JitterDistribution::Uniform { max: ms(max)? }),
        (None, Some(mean), Some(sd)) => Ok(JitterDistribution::Normal {
            mean: ms(mean)?,
            std_dev: ms(sd)?,
        }),
        _ => Err(at(
            Some(spec.span()),
            "jitter takes either max_ms (uniform on [0, max_ms]) or mean_ms and std_dev_ms \
             (normal, negative draws clamped to 0)",
        )),
    }
}

/// The largest extra delay `distribution` can add: its maximum for a uniform, mean + 6σ for
/// the normal (vnet-sim draws it as an Irwin–Hall sum of twelve uniforms, bounded there).
pub(super) fn jitter_bound(distribution: JitterDistribution) -> SimDuration {
    match distribution {
        JitterDistribution::None => SimDuration::ZERO,
        JitterDistribution::Uniform { max } => max,
        JitterDistribution::Normal { mean, std_dev } => mean + std_dev.saturating_mul(6),
    }
}
