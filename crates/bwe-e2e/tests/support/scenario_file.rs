//! Shipped scenario files, loaded and checked exactly as `cargo xtask scenario run` does.

use std::path::{Path, PathBuf};

use bwe_e2e::scenario::{self, CheckResult, Scenario};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// `scenarios/<name>.toml`, parsed.
pub fn load(name: &str) -> Scenario {
    let root = root();
    scenario::load(&root.join("scenarios").join(format!("{name}.toml")), &root)
        .expect("the shipped file parses")
}

/// Runs `s` and evaluates its checks.
pub fn checks(s: &Scenario) -> Vec<CheckResult> {
    scenario::run(s).expect("the call runs").checks(s)
}

/// One line per check, as the runner prints them.
pub fn show(label: &str, results: &[CheckResult]) {
    for c in results {
        println!(
            "{label}: {:?} [{}, {}) = {:?} in [{}, {}]: {}",
            c.spec.metric,
            c.from.as_secs_f64(),
            c.to.as_secs_f64(),
            c.value,
            c.spec.min,
            c.spec.max,
            if c.passed { "ok" } else { "FAILED" }
        );
    }
}

/// Runs the shipped file `name` with its own estimator, prints its checks under `label`, and
/// asserts it has `count` of them and passes them all.
pub fn all_checks_pass(name: &str, label: &str, count: usize) {
    let s = load(name);
    assert_eq!(s.checks.len(), count, "the file's checks");
    let results = checks(&s);
    show(label, &results);
    assert!(results.iter().all(|c| c.passed), "{results:#?}");
}
