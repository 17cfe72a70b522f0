//! Loss per interval from RTCP reception reports, as the loss-based controller wants it.
//!
//! A report block carries cumulative figures: the extended highest sequence number received
//! and the cumulative number lost (24 bits). The controller wants "lost of total" since the last
//! report, so this keeps the previous block per SSRC and returns the differences — what
//! libwebrtc's `TransportLossReport` does — rather than using the 8-bit `fraction_lost`, which
//! is quantised and says nothing about how many packets it covers. The first block of an SSRC
//! only sets the baseline.
//!
//! The table is fixed (a sender has a handful of streams), so no report allocates.

use rtc::rtcp::reception_report::ReceptionReport;

/// How many SSRCs are tracked; a report about one more replaces the stalest entry.
const CAPACITY: usize = 16;

/// A jump in the extended sequence number larger than this is a restart, not an interval.
const MAX_INTERVAL_PACKETS: u32 = 1 << 15;

#[derive(Debug, Clone, Copy)]
struct Baseline {
    ssrc: u32,
    highest: u32,
    lost: u32,
    /// Report count when last touched, for replacing the stalest entry.
    touched: u64,
}

/// Turns cumulative reception reports into per-interval `(lost, total)`.
#[derive(Debug, Clone, Default)]
pub struct ReportLoss {
    table: [Option<Baseline>; CAPACITY],
    reports: u64,
}

impl ReportLoss {
    /// An empty table.
    pub fn new() -> Self {
        Self::default()
    }

    /// The packets lost and expected since the previous block about the same SSRC; `None` for
    /// the first block, a stale or repeated one, or a restart.
    pub fn on_block(&mut self, block: &ReceptionReport) -> Option<(u32, u32)> {
        self.reports += 1;
        let now = self.reports;
        let slot = match self
            .table
            .iter()
            .position(|b| b.is_some_and(|b| b.ssrc == block.ssrc))
        {
            Some(i) => i,
            None => {
                let i = self
                    .table
                    .iter()
                    .position(Option::is_none)
                    .or_else(|| {
                        self.table
                            .iter()
                            .enumerate()
                            .min_by_key(|(_, b)| b.map(|b| b.touched))
                            .map(|(i, _)| i)
                    })
                    .unwrap_or(0);
                self.table[i] = Some(Baseline {
                    ssrc: block.ssrc,
                    highest: block.last_sequence_number,
                    lost: block.total_lost,
                    touched: now,
                });
                return None;
            }
        };
        let previous = self.table[slot]?;
        let total = block.last_sequence_number.wrapping_sub(previous.highest);
        if total == 0 || total >= 1 << 31 {
            // Nothing new, or an older report overtaken by a newer one.
            return None;
        }
        self.table[slot] = Some(Baseline {
            ssrc: block.ssrc,
            highest: block.last_sequence_number,
            lost: block.total_lost,
            touched: now,
        });
        if total > MAX_INTERVAL_PACKETS {
            return None;
        }
        // 24-bit signed difference; duplicates can make it negative, which counts as none lost.
        let lost = block.total_lost.wrapping_sub(previous.lost) & 0x00FF_FFFF;
        let lost = if lost >= 0x0080_0000 {
            0
        } else {
            lost.min(total)
        };
        Some((lost, total))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn block(ssrc: u32, highest: u32, lost: u32) -> ReceptionReport {
        ReceptionReport {
            ssrc,
            last_sequence_number: highest,
            total_lost: lost,
            ..ReceptionReport::default()
        }
    }

    /// The controller needs counts per interval, not cumulative totals.
    #[test]
    fn differences_between_reports_give_the_interval_loss() {
        let mut loss = ReportLoss::new();
        assert_eq!(loss.on_block(&block(1, 1_000, 10)), None, "baseline");
        assert_eq!(loss.on_block(&block(1, 1_100, 30)), Some((20, 100)));
        assert_eq!(loss.on_block(&block(1, 1_100, 30)), None, "repeated report");
        assert_eq!(loss.on_block(&block(1, 1_050, 30)), None, "stale report");
    }

    /// Streams are accounted separately.
    #[test]
    fn each_ssrc_has_its_own_baseline() {
        let mut loss = ReportLoss::new();
        loss.on_block(&block(1, 100, 0));
        loss.on_block(&block(2, 5_000, 7));
        assert_eq!(loss.on_block(&block(2, 5_050, 7)), Some((0, 50)));
        assert_eq!(loss.on_block(&block(1, 110, 1)), Some((1, 10)));
    }

    /// Network input never yields a loss above the total or a wrapped-around negative count.
    #[test]
    fn odd_counters_stay_within_bounds() {
        let mut loss = ReportLoss::new();
        loss.on_block(&block(1, 100, 50));
        assert_eq!(
            loss.on_block(&block(1, 110, 40)),
            Some((0, 10)),
            "duplicates"
        );
        loss.on_block(&block(1, 120, 0x00FF_FFF0));
        assert_eq!(
            loss.on_block(&block(1, 130, 5)),
            Some((10, 10)),
            "the 24-bit counter wrapped; 21 lost is capped at the 10 expected"
        );
        assert_eq!(
            loss.on_block(&block(1, 130 + (1 << 20), 0)),
            None,
            "restart"
        );
        assert_eq!(loss.on_block(&block(1, 140 + (1 << 20), 0)), Some((0, 10)));
    }

    /// A fixed table: a seventeenth SSRC evicts the stalest, never allocates.
    #[test]
    fn table_is_bounded() {
        let mut loss = ReportLoss::new();
        for ssrc in 0..(CAPACITY as u32 + 1) {
            loss.on_block(&block(ssrc, 10, 0));
        }
        assert_eq!(
            loss.on_block(&block(0, 20, 0)),
            None,
            "evicted, baseline again"
        );
        assert_eq!(loss.on_block(&block(CAPACITY as u32, 20, 0)), Some((0, 10)));
    }
}
