//! The scenario-file parser: any text is a scenario within its bounds or a located error.
//! Trace paths resolve in a scratch directory holding a few small traces.
#![no_main]

use std::path::PathBuf;
use std::sync::OnceLock;

#[path = "../../crates/bwe-e2e/tests/contracts/scenario.rs"]
mod contracts;

fn root() -> &'static PathBuf {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| contracts::trace_root(&std::env::temp_dir().join("bwe-fuzz-scenario")))
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    if let Ok(text) = std::str::from_utf8(data) {
        contracts::scenario(text, root());
    }
});
