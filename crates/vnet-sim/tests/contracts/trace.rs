//! What the mahimahi trace parser promises for any text, as a function that panics when a
//! promise is broken. Shared by `tests/parsers_never_panic.rs` (proptest) and the fuzz target
//! `mahimahi_trace` in `fuzz/`, which includes this file by path.

#![allow(dead_code)] // each driver uses its own subset

use vnet_sim::SimDuration;
use vnet_sim::trace::MahimahiTrace;

/// A trace parses to one opportunity per line with the last timestamp as its period, and its
/// canonical form (each line trimmed, `\n` endings) parses to the same trace; or the error
/// points inside the text. Rate queries over `[from_ns, to_ns)` never panic, and the mean is the
/// rate over one period.
pub fn mahimahi_trace(text: &str, from_ns: u64, to_ns: u64) {
    let lines: Vec<&str> = text.lines().collect();
    match MahimahiTrace::parse(text) {
        Ok(trace) => {
            assert_eq!(trace.opportunities(), lines.len());
            let last = lines.last().expect("a trace has a line").trim();
            let last_ms: u64 = last.parse().expect("an accepted line is a number");
            assert_eq!(trace.period(), SimDuration::from_millis(last_ms));
            assert!(trace.period() > SimDuration::ZERO, "a trace must last");
            let canonical = lines
                .iter()
                .map(|l| l.trim())
                .collect::<Vec<_>>()
                .join("\n");
            assert_eq!(
                MahimahiTrace::parse(&canonical).as_ref(),
                Ok(&trace),
                "blanks and line endings changed the trace"
            );
            assert_eq!(
                trace.mean_rate(),
                trace.rate_between(SimDuration::ZERO, trace.period())
            );
            let (from, to) = (
                SimDuration::from_nanos(from_ns),
                SimDuration::from_nanos(to_ns),
            );
            let _ = trace.rate_between(from, to);
            let _ = trace.clone().with_nominal_span(to).nominal_rate();
        }
        Err(e) => {
            assert!(e.line >= 1 && e.col >= 1, "{e}");
            assert!(e.line <= lines.len().max(1), "{e} past the last line");
            let chars = lines.get(e.line - 1).map_or(0, |l| l.chars().count());
            assert!(e.col <= chars + 1, "{e} past the end of its line");
            assert!(
                e.to_string()
                    .starts_with(&format!("{}:{}: ", e.line, e.col))
            );
        }
    }
}
