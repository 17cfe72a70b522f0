//! Turning rtc's `PacketReport`s into bwe-core's `PacketResult`s.
//!
//! rtc's send history has already joined feedback with departures, in send order, each with a
//! monotonic `id`: exactly the sequence bwe-core wants, so `id` becomes the sequence number and
//! nothing is re-joined here. What is left is units (instants to timestamps, bytes to
//! `DataSize`), one upstream defect to undo, and the round-trip time the batch implies.
//!
//! # rtc-interceptor 0.21.1: RFC 8888 arrival times are reversed offsets
//!
//! `rtc_interceptor::convert_ccfb` puts each metric block's *arrival time offset* — the time
//! from the packet's arrival **back** to the report timestamp — into `Acknowledgement::arrival`
//! as if it were an arrival time (it never subtracts it from the report timestamp, which it does
//! not pass on). So within a report a later packet gets a *smaller* "arrival", and successive
//! reports restart near zero. A delay filter fed these values sees time running backwards.
//!
//! The report timestamp is lost by then, but within one report all offsets share it, and the
//! report arrived here at `now`. So an RFC 8888 arrival is rebuilt as `now − offset` on the
//! local clock: exact differences within one report, and across reports off only by the change
//! in return-path delay, which is what the feedback path adds anyway. The test
//! `upstream_ccfb_arrival_is_still_the_offset_back_from_the_report` fails when upstream fixes
//! the conversion; drop the workaround then.
//!
//! # Reports without an arrival time
//!
//! TWCC "received without delta" and RFC 8888's "arrived after the report was stamped" say a
//! packet arrived but not when. Reporting it received would need an invented time; reporting it
//! lost would be false. Such packets are left out of the results (and counted): the packet still
//! counts as sent, it simply does not take part in delay or loss accounting.

use std::time::{Duration, Instant};

use bwe_core::{
    DataSize, FeedbackCoverage, PacketResult, ProbeInfo, SentPacket, SequenceSpace, TimeDelta,
    Timestamp,
};
use rtc::interceptor::PacketReport;

use crate::epoch::Epoch;

/// How many results one call to the estimator takes. Larger batches (a feedback message covering
/// more than this many packets) are fed in chunks, so the buffer never grows after construction.
pub const SCRATCH_CAPACITY: usize = 512;

/// What one batch of reports said, besides the results themselves.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BatchSummary {
    /// Reports that said "arrived" without a usable time.
    pub without_arrival_time: u64,
    /// Reports from RFC 8888 feedback (rebuilt arrival times).
    pub rfc8888: u64,
    /// The smallest `now − departure` over packets reported arrived: the round-trip time plus
    /// however long the remote held the newest packet before reporting it.
    pub rtt: Option<TimeDelta>,
}

/// Owns the scratch buffer and the epoch shared by all conversions.
#[derive(Debug)]
pub struct ReportMapper {
    scratch: Vec<PacketResult>,
}

impl Default for ReportMapper {
    fn default() -> Self {
        Self::new()
    }
}

impl ReportMapper {
    /// A mapper with its scratch buffer allocated once.
    pub fn new() -> Self {
        Self {
            scratch: Vec::with_capacity(SCRATCH_CAPACITY),
        }
    }

    /// Scans the batch for the summary figures (round-trip time first, so the estimator knows it
    /// before the results are applied).
    pub fn summarize(now: Instant, reports: &[PacketReport]) -> BatchSummary {
        let mut summary = BatchSummary::default();
        let mut rtt: Option<Duration> = None;
        for report in reports {
            if !report.is_twcc {
                summary.rfc8888 += 1;
            }
            if report.arrived {
                if report.arrival.is_none() {
                    summary.without_arrival_time += 1;
                }
                let sample = now.saturating_duration_since(report.departure);
                rtt = Some(rtt.map_or(sample, |r| r.min(sample)));
            }
        }
        summary.rtt = rtt.and_then(|r| TimeDelta::try_from(r).ok());
        summary
    }

    /// Converts one chunk (at most [`SCRATCH_CAPACITY`] reports) and returns the results, each
    /// tagged with the probe cluster `probe_of` says it belonged to.
    ///
    /// With `coverage` (a [`FeedbackTap`](crate::FeedbackTap) recorded the feedback ranges), a
    /// "not arrived" report is a loss only if a range covers it; otherwise it is unknown, left
    /// out and counted in `unknown`. Without it every "not arrived" report is a loss.
    pub fn map_chunk(
        &mut self,
        epoch: &mut Epoch,
        now: Timestamp,
        chunk: &[PacketReport],
        coverage: Option<&FeedbackCoverage>,
        unknown: &mut u64,
        probe_of: &dyn Fn(&PacketReport) -> Option<ProbeInfo>,
    ) -> &[PacketResult] {
        self.scratch.clear();
        for report in chunk.iter().take(SCRATCH_CAPACITY) {
            let mut sent = sent_packet(epoch, report);
            sent.probe = probe_of(report);
            let receive_time = match (report.arrived, report.arrival) {
                (false, _) if coverage.is_some_and(|c| !reported_on(c, report, sent.send_time)) => {
                    *unknown += 1;
                    continue;
                }
                (false, _) => None,
                (true, Some(arrival)) => Some(arrival_time(now, report.is_twcc, arrival)),
                (true, None) => continue,
            };
            self.scratch.push(PacketResult { sent, receive_time });
        }
        &self.scratch
    }
}

/// Whether a feedback message received after the packet left reported on it.
fn reported_on(coverage: &FeedbackCoverage, report: &PacketReport, sent: Timestamp) -> bool {
    if report.is_twcc {
        coverage.covers(SequenceSpace::Transport, report.twcc_sequence_number, sent)
    } else {
        coverage.covers(
            SequenceSpace::Stream(report.ssrc),
            report.rtp_sequence_number,
            sent,
        )
    }
}

/// The departure record of one report.
pub fn sent_packet(epoch: &mut Epoch, report: &PacketReport) -> SentPacket {
    SentPacket {
        sequence: report.id,
        send_time: epoch.timestamp(report.departure),
        size: DataSize::from_bytes(report.size as u64),
        probe: None,
    }
}

/// The arrival on a clock the estimator can difference: the remote clock for TWCC, the local
/// clock rebuilt from the offset for RFC 8888 (see the module docs).
fn arrival_time(now: Timestamp, is_twcc: bool, arrival: Duration) -> Timestamp {
    let us = i64::try_from(arrival.as_micros()).unwrap_or(i64::MAX);
    if is_twcc {
        Timestamp::from_micros(us)
    } else {
        now - TimeDelta::from_micros(us)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc::rtcp::transport_feedbacks::cc_feedback_report::{
        CcFeedbackMetricBlock, CcFeedbackReport, CcFeedbackReportBlock, Ecn,
    };

    fn report(
        id: u64,
        departure: Instant,
        arrival: Option<Duration>,
        is_twcc: bool,
    ) -> PacketReport {
        PacketReport {
            ssrc: 1,
            id,
            rtp_sequence_number: id as u16,
            is_twcc,
            twcc_sequence_number: id as u16,
            size: 1200,
            arrived: arrival.is_some(),
            departure,
            arrival,
            ecn: Ecn::NotEct,
        }
    }

    /// When this starts failing, rtc has fixed `convert_ccfb` and the RFC 8888 branch of
    /// `arrival_time` must go (it would then reverse correct arrivals).
    #[test]
    fn upstream_ccfb_arrival_is_still_the_offset_back_from_the_report() {
        let metric = |offset: u16| CcFeedbackMetricBlock {
            received: true,
            ecn: Ecn::NotEct,
            arrival_time_offset: offset,
        };
        let feedback = CcFeedbackReport {
            sender_ssrc: 1,
            report_blocks: vec![CcFeedbackReportBlock {
                media_ssrc: 7,
                begin_sequence: 100,
                // Sequence 100 arrived 200 ms before the report, 101 arrived 100 ms before it.
                metric_blocks: vec![metric(205), metric(102)],
            }],
            report_timestamp: 1 << 20,
        };
        let (_, per_stream) = rtc::interceptor::convert_ccfb(&feedback);
        let acks = &per_stream[&7];
        let first = acks[0].arrival.expect("received with a time");
        let second = acks[1].arrival.expect("received with a time");
        assert!(
            second < first,
            "the later packet has the smaller arrival: still the reversed offset ({first:?}, {second:?})"
        );
        assert!(first >= Duration::from_millis(199) && first <= Duration::from_millis(201));
    }

    /// Rebuilt RFC 8888 arrivals run forwards, spaced as the offsets say.
    #[test]
    fn rfc8888_arrivals_are_rebuilt_forwards_from_now() {
        let base = Instant::now();
        let mut epoch = Epoch::at(base);
        let now = epoch.timestamp(base + Duration::from_millis(500));
        let reports = [
            report(0, base, Some(Duration::from_millis(200)), false),
            report(
                1,
                base + Duration::from_millis(10),
                Some(Duration::from_millis(100)),
                false,
            ),
        ];
        let mut mapper = ReportMapper::new();
        let results = mapper.map_chunk(&mut epoch, now, &reports, None, &mut 0, &|_| None);
        let a = results[0].receive_time.expect("arrived");
        let b = results[1].receive_time.expect("arrived");
        assert_eq!(b - a, TimeDelta::from_millis(100));
        assert_eq!(a, Timestamp::from_millis(300));
    }

    /// TWCC arrivals pass through on the remote clock; ids become sequence numbers.
    #[test]
    fn twcc_reports_keep_remote_arrivals_and_ids() {
        let base = Instant::now();
        let mut epoch = Epoch::at(base);
        let reports = [
            report(41, base, Some(Duration::from_millis(64)), true),
            report(42, base, None, true),
        ];
        let mut mapper = ReportMapper::new();
        let results = mapper.map_chunk(
            &mut epoch,
            Timestamp::from_millis(90),
            &reports,
            None,
            &mut 0,
            &|_| None,
        );
        assert_eq!(results.len(), 2);
        assert_eq!(results[0].sent.sequence, 41);
        assert_eq!(results[0].receive_time, Some(Timestamp::from_millis(64)));
        assert_eq!(results[1].receive_time, None, "not arrived means lost");
        assert_eq!(results[1].sent.size, DataSize::from_bytes(1200));
    }

    /// "Arrived, time unknown" is neither received nor lost: left out, and counted.
    #[test]
    fn arrivals_without_time_are_left_out_and_counted() {
        let base = Instant::now();
        let mut epoch = Epoch::at(base);
        let mut r = report(1, base, None, true);
        r.arrived = true;
        let reports = [r];
        let summary = ReportMapper::summarize(base + Duration::from_millis(80), &reports);
        assert_eq!(summary.without_arrival_time, 1);
        let mut mapper = ReportMapper::new();
        assert!(
            mapper
                .map_chunk(&mut epoch, Timestamp::ZERO, &reports, None, &mut 0, &|_| {
                    None
                })
                .is_empty()
        );
    }

    /// The round-trip sample is the freshest packet's, not the oldest's.
    #[test]
    fn rtt_is_the_smallest_age_of_an_arrived_packet() {
        let base = Instant::now();
        let reports = [
            report(0, base, Some(Duration::ZERO), true),
            report(
                1,
                base + Duration::from_millis(40),
                Some(Duration::ZERO),
                true,
            ),
            report(2, base + Duration::from_millis(60), None, true),
        ];
        let summary = ReportMapper::summarize(base + Duration::from_millis(100), &reports);
        assert_eq!(summary.rtt, Some(TimeDelta::from_millis(60)));
    }
}
