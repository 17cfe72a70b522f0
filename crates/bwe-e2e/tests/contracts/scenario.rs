//! What the scenario-file parser promises for any text, as a function that panics when a promise
//! is broken. Shared by `tests/scenario_parser_never_panics.rs` (proptest) and the fuzz target
//! `scenario_file` in `fuzz/`, which includes this file by path.

#![allow(dead_code)] // each driver uses its own subset

use std::path::{Component, Path, PathBuf};

use bwe_e2e::scenario::file::MAX_DURATION_S;
use bwe_e2e::scenario::parse;
use vnet_sim::SimDuration;

/// The name errors are located in.
pub const ORIGIN: &str = "input.toml";

/// Trace files a generated scenario can name: a valid one, a malformed one, one with no length.
pub const TRACES: [(&str, &str); 3] = [
    ("short.trace", "1\n2\n2\n5\n8\n"),
    ("bad.trace", "1\n2x\n"),
    ("zero.trace", "0\n"),
];

/// Writes [`TRACES`] into `dir` (created if missing) and returns it, the root to parse with.
pub fn trace_root(dir: &Path) -> PathBuf {
    std::fs::create_dir_all(dir).expect("a scratch directory");
    for (name, text) in TRACES {
        std::fs::write(dir.join(name), text).expect("a scratch trace");
    }
    dir.to_owned()
}

/// Whether every `trace` key the text gives is a path inside the root (relative, no `..`): the
/// parser reads whatever file a scenario names, which is its author's choice, but random input
/// must not reach `/dev/zero`.
fn traces_stay_in_root(text: &str) -> bool {
    let Ok(table) = toml::from_str::<toml::Table>(text) else {
        // The parser fails on the same TOML before it reads any file.
        return true;
    };
    ["forward", "backward"].iter().all(|side| {
        match table.get(*side).and_then(|link| link.get("trace")) {
            Some(toml::Value::String(name)) => Path::new(name)
                .components()
                .all(|c| matches!(c, Component::Normal(_) | Component::CurDir)),
            _ => true,
        }
    })
}

/// Text parses to a scenario that keeps every bound the parser promises, or fails with an
/// error located at a line and column inside the text.
pub fn scenario(text: &str, root: &Path) {
    if !traces_stay_in_root(text) {
        return;
    }
    match parse(ORIGIN, text, root) {
        Ok(s) => {
            let duration = s.call.duration;
            assert!(
                duration >= SimDuration::from_secs(1)
                    && duration <= SimDuration::from_secs(MAX_DURATION_S),
                "duration {duration:?}"
            );
            assert!(s.call.connect_timeout >= SimDuration::from_secs(1));
            for f in s.flows.iter().flatten() {
                let stop = f.stop.unwrap_or(duration);
                assert!(f.start < stop && stop <= duration, "flow {f:?}");
                for &(a, b) in &f.pauses {
                    assert!(f.start <= a && a < b && b <= stop, "pause {a:?}..{b:?}");
                }
            }
            for c in &s.checks {
                assert!(c.min.is_finite() && c.max.is_finite() && c.min <= c.max);
                let to = c.to_s.map_or(duration, SimDuration::from_secs);
                assert!(to <= duration, "check window past the end: {c:?}");
                assert!(
                    c.from_s
                        .is_none_or(|from| SimDuration::from_secs(from) < to)
                );
            }
        }
        Err(e) => {
            let rest = e
                .strip_prefix(ORIGIN)
                .and_then(|r| r.strip_prefix(':'))
                .unwrap_or_else(|| panic!("error not located in {ORIGIN}: {e}"));
            let mut parts = rest.splitn(3, ':');
            let mut number = || -> usize {
                parts
                    .next()
                    .and_then(|n| n.parse().ok())
                    .unwrap_or_else(|| panic!("no line and column: {e}"))
            };
            let (line, col) = (number(), number());
            let lines = text.split('\n').count();
            assert!(line >= 1 && line <= lines, "line {line} of {lines}: {e}");
            let width = text
                .split('\n')
                .nth(line - 1)
                .map_or(0, |l| l.chars().count());
            assert!(col >= 1 && col <= width + 1, "column {col} of {width}: {e}");
        }
    }
}
