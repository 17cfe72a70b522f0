//! Comparisons of `f64`s on the per-group paths, in one instruction each.
//!
//! `f64::max` and `f64::min` return the other operand when one is NaN. On x86-64 that costs a
//! compare and a blend after the `maxsd`/`minsd`, and where the value is carried from one group to
//! the next (the adaptive threshold, the Kalman filter's noise variance) those extra instructions
//! lengthen the chain every group waits on. The functions here keep `f64::max`'s result whenever
//! the *bound* (the second operand) is not NaN, which holds for every call site: bounds are
//! configuration constants or state that is itself checked to be finite.

/// `value.max(bound)` for a `bound` that is not NaN; a NaN `value` yields `bound`, as
/// `f64::max` does.
#[inline(always)]
pub(crate) fn at_least(value: f64, bound: f64) -> f64 {
    if value > bound { value } else { bound }
}

/// `value.min(bound)` for a `bound` that is not NaN; a NaN `value` yields `bound`, as
/// `f64::min` does.
#[inline(always)]
pub(crate) fn at_most(value: f64, bound: f64) -> f64 {
    if value < bound { value } else { bound }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounds_agree_with_std_for_every_non_nan_bound() {
        let values = [
            f64::NEG_INFINITY,
            -1.5,
            -0.0,
            0.0,
            2.0,
            600.0,
            f64::INFINITY,
            f64::NAN,
        ];
        for &v in &values {
            for &b in values.iter().filter(|b| !b.is_nan()) {
                let (max, min) = (at_least(v, b), at_most(v, b));
                // Signed zeros compare equal; std leaves their order unspecified too.
                assert!(max == v.max(b) || (max == 0.0 && v == 0.0), "{v} max {b}");
                assert!(min == v.min(b) || (min == 0.0 && v == 0.0), "{v} min {b}");
            }
        }
    }
}
