//! `Reassembly`: the byte ranges a receiver holds beyond a hole, as disjoint ranges.
//!
//! Ranges, not segments: retransmissions after a timeout need not repeat the original segment
//! boundaries, and overlapping or adjacent pieces merge into one entry. The number of entries is
//! capped, so a stream of scattered segments from the network cannot grow memory without bound;
//! a real sender's holes are few, far below the cap.

use std::collections::BTreeMap;

/// Most disjoint ranges held.
pub const MAX_RANGES: usize = 4_096;

/// Out-of-order data: disjoint, non-adjacent `[start, end)` ranges.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Reassembly {
    ranges: BTreeMap<u64, u64>,
}

impl Reassembly {
    /// Adds `[start, end)`, merging with what it touches. `false` (and nothing added) when it
    /// would need a new entry beyond [`MAX_RANGES`].
    pub(crate) fn insert(&mut self, start: u64, end: u64) -> bool {
        if start >= end {
            return true;
        }
        let before = self
            .ranges
            .range(..=start)
            .next_back()
            .filter(|(_, e)| **e >= start)
            .map(|(&s, &e)| (s, e));
        let touches_after = self
            .ranges
            .range(start..)
            .next()
            .is_some_and(|(&s, _)| s <= end);
        if before.is_none() && !touches_after && self.ranges.len() >= MAX_RANGES {
            return false;
        }
        let (mut start, mut end) = (start, end);
        if let Some((s, e)) = before {
            self.ranges.remove(&s);
            start = s;
            end = end.max(e);
        }
        while let Some((s, e)) = self
            .ranges
            .range(start..)
            .next()
            .filter(|(s, _)| **s <= end)
            .map(|(&s, &e)| (s, e))
        {
            self.ranges.remove(&s);
            end = end.max(e);
        }
        self.ranges.insert(start, end);
        true
    }

    /// The in-order point `next` moved past every range that now joins it.
    pub(crate) fn advance(&mut self, mut next: u64) -> u64 {
        while let Some(entry) = self.ranges.first_entry() {
            if *entry.key() > next {
                break;
            }
            next = next.max(entry.remove());
        }
        next
    }

    /// Entries held.
    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.ranges.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Retransmissions after a timeout cut the stream differently; overlaps must merge.
    #[test]
    fn overlapping_and_adjacent_ranges_merge() {
        let mut r = Reassembly::default();
        assert!(r.insert(10, 20));
        assert!(r.insert(30, 40));
        assert!(r.insert(20, 25));
        assert!(r.insert(24, 31));
        assert_eq!(r.len(), 1);
        assert!(r.insert(50, 60));
        assert_eq!(r.advance(5), 5);
        assert_eq!(r.advance(10), 40);
        assert_eq!(r.advance(55), 60);
        assert_eq!(r.len(), 0);
    }

    /// Memory must stay bounded whatever arrives from the network.
    #[test]
    fn a_new_range_beyond_the_cap_is_refused_but_merges_still_happen() {
        let mut r = Reassembly::default();
        for i in 0..MAX_RANGES as u64 {
            assert!(r.insert(10 * i + 100, 10 * i + 105));
        }
        assert!(!r.insert(1_000_000, 1_000_001));
        assert!(r.insert(105, 110), "touching an entry is a merge");
        assert_eq!(r.len(), MAX_RANGES - 1);
    }
}
