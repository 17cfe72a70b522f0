//! Mahimahi packet-delivery traces: parsing and the parsed form.
//!
//! A mahimahi trace is a text file with one line per delivery opportunity: a timestamp in whole
//! milliseconds from the start of the trace, at which one 1500-byte packet may leave the
//! bottleneck. Several opportunities in one millisecond repeat the timestamp. The trace repeats
//! with a period equal to its last timestamp. This is the format of the traces shipped with
//! mahimahi (github.com/ravinet/mahimahi, `traces/`) and used by Pantheon and many papers.
//!
//! The parser accepts exactly what mahimahi's `LinkQueue` accepts (non-decreasing non-negative
//! integers, a non-zero last timestamp, no empty lines) with two courtesies: Windows line endings
//! and blanks around a number. Bad input gives a [`TraceParseError`] with the line and column
//! and what is wrong; nothing panics.
//!
//! How the capacity stage spends opportunities is described in [`crate::server`].

use std::fs;
use std::path::{Path, PathBuf};

use thiserror::Error;

use crate::rate::Rate;
use crate::time::SimDuration;

/// Bytes one delivery opportunity carries (mahimahi's `PACKET_SIZE`).
pub const OPPORTUNITY_BYTES: u32 = 1500;

const NANOS_PER_MILLI: u64 = 1_000_000;

/// A parsed mahimahi trace: delivery opportunities within one period.
#[derive(Clone, PartialEq, Eq)]
pub struct MahimahiTrace {
    /// Opportunity offsets from the start of a period, nanoseconds, non-decreasing.
    offsets_ns: Vec<u64>,
    /// The period, nanoseconds: the last offset. Never zero.
    period_ns: u64,
    /// The rate a queue limit in time is converted at (see [`MahimahiTrace::nominal_rate`]);
    /// `None`: the mean over the whole period.
    nominal: Option<Rate>,
}

impl std::fmt::Debug for MahimahiTrace {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // The full list is tens of thousands of numbers; a summary is what a reader wants.
        f.debug_struct("MahimahiTrace")
            .field("opportunities", &self.offsets_ns.len())
            .field("period", &self.period())
            .field("mean_rate", &self.mean_rate())
            .finish()
    }
}

/// Where a trace is malformed and how.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[error("{line}:{col}: {kind}")]
pub struct TraceParseError {
    /// 1-based line.
    pub line: usize,
    /// 1-based column, in characters.
    pub col: usize,
    /// What is wrong.
    pub kind: TraceErrorKind,
}

/// What is wrong with a trace.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum TraceErrorKind {
    /// A character that is not a decimal digit.
    #[error("expected a timestamp in milliseconds (digits only), found {found:?}")]
    NotADigit {
        /// The offending character.
        found: char,
    },
    /// An empty line in the middle of the trace (mahimahi rejects these too).
    #[error("empty line; every line must hold one timestamp")]
    EmptyLine,
    /// A timestamp too large to represent in nanoseconds.
    #[error("timestamp {digits} ms is too large (over 584 years)")]
    TooLarge {
        /// The digits as written.
        digits: String,
    },
    /// A timestamp earlier than the one before it.
    #[error("timestamp {value} ms is earlier than the previous one, {previous} ms")]
    Decreasing {
        /// This line's timestamp.
        value: u64,
        /// The previous line's timestamp.
        previous: u64,
    },
    /// No timestamps at all.
    #[error("the trace holds no timestamps")]
    Empty,
    /// The last timestamp is zero, so the trace has no length to repeat over.
    #[error("the last timestamp is 0 ms; a trace must last a non-zero time")]
    ZeroPeriod,
}

/// A trace file that could not be read or parsed.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum TraceFileError {
    /// The file could not be read.
    #[error("{}: {source}", .path.display())]
    Io {
        /// The file.
        path: PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The file's contents are malformed.
    #[error("{}:{source}", .path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// Where and what.
        source: TraceParseError,
    },
}

impl MahimahiTrace {
    /// Parses a trace from its text.
    pub fn parse(text: &str) -> Result<Self, TraceParseError> {
        let mut offsets_ns = Vec::new();
        let mut previous: Option<u64> = None;
        let mut last_line = 1;
        for (index, line) in text.lines().enumerate() {
            let line_no = index + 1;
            last_line = line_no;
            let err = |col, kind| TraceParseError {
                line: line_no,
                col,
                kind,
            };
            let leading = line.chars().take_while(|c| c.is_whitespace()).count();
            let body = line.trim();
            if body.is_empty() {
                return Err(err(1, TraceErrorKind::EmptyLine));
            }
            let mut ms: u64 = 0;
            let mut overflow = false;
            for (i, c) in body.chars().enumerate() {
                let Some(digit) = c.to_digit(10) else {
                    return Err(err(leading + i + 1, TraceErrorKind::NotADigit { found: c }));
                };
                match ms
                    .checked_mul(10)
                    .and_then(|v| v.checked_add(u64::from(digit)))
                {
                    Some(v) => ms = v,
                    None => overflow = true,
                }
            }
            let ns = if overflow {
                None
            } else {
                ms.checked_mul(NANOS_PER_MILLI)
            };
            let Some(ns) = ns else {
                return Err(err(
                    leading + 1,
                    TraceErrorKind::TooLarge {
                        digits: body.to_owned(),
                    },
                ));
            };
            if let Some(previous) = previous.filter(|&p| ms < p) {
                return Err(err(
                    leading + 1,
                    TraceErrorKind::Decreasing {
                        value: ms,
                        previous,
                    },
                ));
            }
            previous = Some(ms);
            offsets_ns.push(ns);
        }
        match offsets_ns.last() {
            None => Err(TraceParseError {
                line: 1,
                col: 1,
                kind: TraceErrorKind::Empty,
            }),
            Some(0) => Err(TraceParseError {
                line: last_line,
                col: 1,
                kind: TraceErrorKind::ZeroPeriod,
            }),
            Some(&period_ns) => Ok(Self {
                offsets_ns,
                period_ns,
                nominal: None,
            }),
        }
    }

    /// Reads and parses a trace file.
    pub fn from_file(path: impl AsRef<Path>) -> Result<Self, TraceFileError> {
        let path = path.as_ref();
        let text = fs::read_to_string(path).map_err(|source| TraceFileError::Io {
            path: path.to_owned(),
            source,
        })?;
        Self::parse(&text).map_err(|source| TraceFileError::Parse {
            path: path.to_owned(),
            source,
        })
    }

    /// Delivery opportunities per period.
    pub fn opportunities(&self) -> usize {
        self.offsets_ns.len()
    }

    /// The period: the last timestamp.
    pub fn period(&self) -> SimDuration {
        SimDuration::from_nanos(self.period_ns)
    }

    /// The mean capacity: opportunities × 1500 bytes × 8 / period, rounded down.
    pub fn mean_rate(&self) -> Rate {
        self.rate_between(SimDuration::ZERO, self.period())
    }

    /// Opportunities before `t` from the trace's start (the trace repeats every period).
    fn opportunities_before(&self, t: SimDuration) -> u128 {
        let ns = t.as_nanos();
        let cycles = u128::from(ns / self.period_ns);
        let within = ns % self.period_ns;
        let partial = self.offsets_ns.partition_point(|&o| o < within);
        cycles * self.offsets_ns.len() as u128 + partial as u128
    }

    /// The capacity over `[from, to)` from the trace's start: the opportunities in it × 1500
    /// bytes × 8 ÷ its length, rounded down; zero for an empty span.
    ///
    /// This, not [`mean_rate`](Self::mean_rate), is the capacity a run of part of a trace had:
    /// a UMTS uplink averaging 943 kbit/s over its 931 s carries 631 over its first 120 s.
    pub fn rate_between(&self, from: SimDuration, to: SimDuration) -> Rate {
        if to <= from {
            return Rate::ZERO;
        }
        let count = self.opportunities_before(to) - self.opportunities_before(from);
        let bits = count * u128::from(OPPORTUNITY_BYTES) * 8;
        let bps = bits * 1_000_000_000 / u128::from((to - from).as_nanos());
        Rate::from_bps(u64::try_from(bps).unwrap_or(u64::MAX))
    }

    /// The trace with its nominal rate (what a queue limit in time is converted at) taken over
    /// `[0, span)` — the part a run of `span` uses — instead of the whole period.
    pub fn with_nominal_span(mut self, span: SimDuration) -> Self {
        let rate = self.rate_between(SimDuration::ZERO, span);
        self.nominal = (rate != Rate::ZERO).then_some(rate);
        self
    }

    /// The rate a queue limit in time is converted at: the mean over the span given to
    /// [`with_nominal_span`](Self::with_nominal_span), else over the whole period.
    pub fn nominal_rate(&self) -> Rate {
        self.nominal.unwrap_or_else(|| self.mean_rate())
    }

    /// Opportunity offsets within a period, nanoseconds, non-decreasing; never empty.
    pub(crate) fn offsets_ns(&self) -> &[u64] {
        &self.offsets_ns
    }

    /// The period in nanoseconds; never zero.
    pub(crate) fn period_ns(&self) -> u64 {
        self.period_ns
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub(crate) fn data_path(name: &str) -> PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data")
            .join(name)
    }

    fn parse_err(text: &str) -> TraceParseError {
        match MahimahiTrace::parse(text) {
            Ok(t) => panic!("{text:?} parsed as {t:?}"),
            Err(e) => e,
        }
    }

    /// The shipped traces must parse to the figures their README documents.
    #[test]
    fn shipped_traces_parse_to_their_documented_size_and_mean() {
        for (name, opportunities, period_ms, mean_mbps) in [
            ("Verizon-EVDO-driving.up", 74_768, 1_064_718, 0.84),
            ("TMobile-UMTS-driving.down", 156_262, 928_424, 2.02),
            ("TMobile-LTE-short.up", 155_381, 140_000, 13.32),
            ("ATT-LTE-driving.up", 70_336, 1_012_472, 0.83),
            ("Verizon-EVDO-driving.down", 46_065, 1_062_016, 0.52),
            ("ATT-LTE-driving-2016.down", 45_604, 120_002, 4.56),
            ("Verizon-LTE-short.up", 69_367, 140_000, 5.95),
        ] {
            let trace = MahimahiTrace::from_file(data_path(name)).expect("shipped trace parses");
            assert_eq!(trace.opportunities(), opportunities, "{name}");
            assert_eq!(
                trace.period(),
                SimDuration::from_millis(period_ms),
                "{name}"
            );
            let mbps = trace.mean_rate().as_mbps_f64();
            assert!((mbps - mean_mbps).abs() < 0.005, "{name}: {mbps}");
        }
    }

    /// "A file holding just 1" is mahimahi's documented 12 Mbit/s constant link.
    #[test]
    fn a_single_opportunity_per_ms_is_12_mbps() {
        let trace = MahimahiTrace::parse("1\n").expect("valid");
        assert_eq!(trace.mean_rate(), Rate::from_mbps(12));
        assert_eq!(trace.period(), SimDuration::from_millis(1));
    }

    /// Tolerated variations of the format must not be rejected.
    #[test]
    fn crlf_endings_and_surrounding_blanks_are_accepted() {
        let trace = MahimahiTrace::parse("0\r\n 3 \r\n3\t\n10").expect("valid");
        assert_eq!(trace.opportunities(), 4);
        assert_eq!(trace.period(), SimDuration::from_millis(10));
    }

    /// A typo in a trace file must point at the character, not just fail.
    #[test]
    fn a_bad_character_is_reported_at_its_line_and_column() {
        let e = parse_err("1\n2\n  3x4\n");
        assert_eq!((e.line, e.col), (3, 4));
        assert_eq!(e.kind, TraceErrorKind::NotADigit { found: 'x' });
        assert_eq!(
            e.to_string(),
            "3:4: expected a timestamp in milliseconds (digits only), found 'x'"
        );
        assert_eq!(
            parse_err("-5").kind,
            TraceErrorKind::NotADigit { found: '-' }
        );
        assert_eq!(parse_err("1.5").col, 2);
    }

    /// Time running backwards in a trace is a corrupt file, as in mahimahi.
    #[test]
    fn decreasing_timestamps_are_rejected() {
        let e = parse_err("5\n7\n6\n");
        assert_eq!((e.line, e.col), (3, 1));
        assert_eq!(
            e.kind,
            TraceErrorKind::Decreasing {
                value: 6,
                previous: 7
            }
        );
    }

    /// Degenerate traces have no capacity to offer and must be refused, not looped forever.
    #[test]
    fn empty_traces_blank_lines_and_zero_periods_are_rejected() {
        assert_eq!(parse_err("").kind, TraceErrorKind::Empty);
        assert_eq!(parse_err("1\n\n2\n").kind, TraceErrorKind::EmptyLine);
        assert_eq!(parse_err("1\n\n2\n").line, 2);
        let e = parse_err("0\n0\n");
        assert_eq!((e.line, e.kind), (2, TraceErrorKind::ZeroPeriod));
    }

    /// Huge numbers must give an error, never an overflow panic.
    #[test]
    fn an_overlong_timestamp_is_an_error_not_a_panic() {
        let e = parse_err("1\n99999999999999999999999\n");
        assert_eq!(e.line, 2);
        assert!(matches!(e.kind, TraceErrorKind::TooLarge { .. }));
        // Fits in u64 milliseconds but not in u64 nanoseconds.
        assert!(matches!(
            parse_err("18446744073709551").kind,
            TraceErrorKind::TooLarge { .. }
        ));
    }

    /// A missing file names the path so the user knows which one.
    #[test]
    fn a_missing_file_is_an_io_error_naming_the_path() {
        let e = MahimahiTrace::from_file(data_path("no-such.trace")).expect_err("missing");
        assert!(matches!(e, TraceFileError::Io { .. }));
        assert!(e.to_string().contains("no-such.trace"), "{e}");
    }

    /// The capacity of a span counts the opportunities inside it, across periods.
    #[test]
    fn rate_between_counts_the_opportunities_of_the_span() {
        let t = MahimahiTrace::parse("1\n2\n2\n3\n5\n6\n6\n8\n").expect("valid");
        let ms = SimDuration::from_millis;
        assert_eq!(t.rate_between(ms(0), ms(8)), t.mean_rate());
        assert_eq!(t.rate_between(ms(8), ms(16)), t.mean_rate());
        // One opportunity (at 1 ms) in [1, 2) ms: 1 500 bytes per ms.
        assert_eq!(t.rate_between(ms(1), ms(2)), Rate::from_mbps(12));
        // Two at 2 ms.
        assert_eq!(t.rate_between(ms(2), ms(3)), Rate::from_mbps(24));
        assert_eq!(t.rate_between(ms(3), ms(3)), Rate::ZERO);
        assert_eq!(t.rate_between(ms(4), ms(3)), Rate::ZERO);
    }

    /// A run of a trace's first minute has that minute's capacity, not the file's: the UMTS
    /// downlink averages 2.02 Mbit/s over its 928 s and 1.07 over its first 60 s (counted with
    /// a script from the file), and its queue is sized by the latter.
    #[test]
    fn the_first_minute_of_a_trace_is_not_its_mean() {
        let t = MahimahiTrace::from_file(data_path("TMobile-UMTS-driving.down")).expect("parses");
        assert_eq!(t.mean_rate(), Rate::from_bps(2_019_706));
        let minute = SimDuration::from_secs(60);
        assert_eq!(
            t.rate_between(SimDuration::ZERO, minute),
            Rate::from_bps(1_065_200)
        );
        assert_eq!(t.nominal_rate(), t.mean_rate());
        let run = t.with_nominal_span(minute);
        assert_eq!(run.nominal_rate(), Rate::from_bps(1_065_200));
    }
}
