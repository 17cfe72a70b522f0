//! The scenario-file parser, fed any text: a scenario within every bound the parser promises, or
//! an error located inside the text, never a panic. The contract is in `contracts/scenario.rs`,
//! shared with the fuzz target `scenario_file` in `fuzz/`.
//!
//! Three kinds of input: random text (mostly stops at TOML syntax), the shipped scenarios with a
//! few characters replaced (stops at a key, a type or a check), and scenarios generated from
//! random values, extremes included (reaches every range check and the link construction).

#[path = "contracts/scenario.rs"]
mod contracts;

use std::path::{Path, PathBuf};
use std::sync::OnceLock;

use proptest::prelude::*;

fn root() -> &'static Path {
    static ROOT: OnceLock<PathBuf> = OnceLock::new();
    ROOT.get_or_init(|| {
        contracts::trace_root(&Path::new(env!("CARGO_TARGET_TMPDIR")).join("scenario-traces"))
    })
}

fn shipped() -> &'static [String] {
    static FILES: OnceLock<Vec<String>> = OnceLock::new();
    FILES.get_or_init(|| {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../scenarios");
        let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
            .expect("the scenarios directory")
            .map(|e| e.expect("a directory entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "toml"))
            .collect();
        paths.sort();
        paths
            .iter()
            .map(|p| std::fs::read_to_string(p).expect("a scenario file"))
            .collect()
    })
}

/// A number as a scenario might give it: mostly in `range`, sometimes zero, huge, negative,
/// fractional or not a number at all (each rare, so that most scenarios get past the types).
fn number_in(range: std::ops::Range<u64>) -> BoxedStrategy<String> {
    prop_oneof![
        40 => range.prop_map(|n| n.to_string()),
        2 => Just("0".to_owned()),
        1 => (0..i64::MAX).prop_map(|n| n.to_string()),
        1 => prop::sample::select(vec!["-1", "1.5", "-0.0", "nan", "inf", "1e400", "\"7\"", "18446744073709551616"]).prop_map(str::to_owned),
    ]
    .boxed()
}

fn number() -> BoxedStrategy<String> {
    number_in(0..5_000)
}

/// `(from, to)` in seconds, mostly ordered and inside the first minute.
fn window() -> impl Strategy<Value = (String, String)> {
    prop_oneof![
        8 => (0u64..40, 1u64..20).prop_map(|(a, gap)| (a.to_string(), (a + gap).to_string())),
        1 => (number(), number()),
    ]
}

/// A probability-like value.
fn fraction() -> impl Strategy<Value = String> {
    prop_oneof![
        20 => (0.0f64..0.5).prop_map(|p| format!("{p:?}")),
        1 => prop::sample::select(vec!["0.0", "1.0", "1", "-0.1", "2.0", "nan", "inf"]).prop_map(str::to_owned),
        1 => number(),
    ]
}

/// Mostly one of `valid`, sometimes one of `invalid`.
fn word(valid: &[&'static str], invalid: &[&'static str]) -> BoxedStrategy<String> {
    prop_oneof![
        10 => prop::sample::select(valid.to_vec()),
        1 => prop::sample::select(invalid.to_vec()),
    ]
    .prop_map(str::to_owned)
    .boxed()
}

/// Capacity steps: mostly well ordered from 0, sometimes anything.
fn capacity() -> impl Strategy<Value = Vec<(String, String)>> {
    prop_oneof![
        6 => (number_in(100..5_000), prop::collection::vec((1u64..20, number_in(0..5_000)), 0..3)).prop_map(|(first, rest)| {
            let mut at = 0;
            let mut steps = vec![("0".to_owned(), first)];
            for (gap, kbps) in rest {
                at += gap;
                steps.push((at.to_string(), kbps));
            }
            steps
        }),
        1 => prop::collection::vec((number(), number()), 0..4),
    ]
}

/// How a link's capacity is given.
#[derive(Debug, Clone)]
enum Capacity {
    Unlimited,
    Steps(Vec<(String, String)>),
    Trace(String),
    Both(Vec<(String, String)>, String),
}

fn capacity_spec() -> impl Strategy<Value = Capacity> {
    let trace = word(
        &["short.trace"],
        &["bad.trace", "zero.trace", "missing.trace", "", "."],
    );
    prop_oneof![
        2 => Just(Capacity::Unlimited),
        6 => capacity().prop_map(Capacity::Steps),
        2 => trace.clone().prop_map(Capacity::Trace),
        1 => (capacity(), trace).prop_map(|(c, t)| Capacity::Both(c, t)),
    ]
}

/// A `[forward]` or `[backward]` table with a random subset of its keys.
fn link() -> impl Strategy<Value = String> {
    let loss = prop_oneof![
        fraction(),
        (fraction(), number())
            .prop_map(|(l, b)| format!("{{ mean_loss = {l}, mean_burst = {b} }}")),
    ];
    let jitter = prop_oneof![
        5 => number_in(0..20).prop_map(|m| format!("{{ max_ms = {m} }}")),
        5 => (number_in(0..20), number_in(0..20)).prop_map(|(m, s)| format!("{{ mean_ms = {m}, std_dev_ms = {s} }}")),
        1 => number().prop_map(|m| format!("{{ max_ms = {m}, mean_ms = {m} }}")),
    ];
    let delay_steps = prop_oneof![
        4 => (window(), number_in(0..300), number_in(0..300))
            .prop_map(|((a1, a2), d1, d2)| (a1, d1, a2, d2)),
        1 => (number(), number(), number(), number()),
    ];
    (
        number_in(0..300),
        prop::option::of(delay_steps),
        prop::option::of(number_in(50..1_000)),
        prop::option::of(loss),
        prop::option::of(fraction()),
        prop::option::of(jitter),
        capacity_spec(),
        prop::option::of(window()),
        any::<bool>(),
    )
        .prop_map(
            |(delay, delay_steps, queue, loss, duplicate, jitter, capacity, blackout, reorder)| {
                let mut t = format!("delay_ms = {delay}\nreorder = {reorder}\n");
                if let Some((a1, d1, a2, d2)) = delay_steps {
                    t += &format!(
                        "delay_steps = [ {{ at_s = {a1}, delay_ms = {d1} }}, \
                         {{ at_s = {a2}, delay_ms = {d2} }} ]\n"
                    );
                }
                for (key, value) in [
                    ("queue_ms", queue),
                    ("loss", loss),
                    ("duplicate", duplicate),
                    ("jitter", jitter),
                ] {
                    if let Some(v) = value {
                        t += &format!("{key} = {v}\n");
                    }
                }
                let steps = |steps: &[(String, String)]| {
                    let steps: Vec<String> = steps
                        .iter()
                        .map(|(a, k)| format!("{{ at_s = {a}, kbps = {k} }}"))
                        .collect();
                    format!("capacity = [ {} ]\n", steps.join(", "))
                };
                match capacity {
                    Capacity::Unlimited => {}
                    Capacity::Steps(s) => t += &steps(&s),
                    Capacity::Trace(name) => t += &format!("trace = \"{name}\"\n"),
                    Capacity::Both(s, name) => {
                        t += &steps(&s);
                        t += &format!("trace = \"{name}\"\n");
                    }
                }
                if let Some((from, to)) = blackout {
                    t += &format!("blackouts = [ {{ from_s = {from}, to_s = {to} }} ]\n");
                }
                t
            },
        )
}

/// A `[[flow]]` table.
fn flow() -> impl Strategy<Value = String> {
    (
        word(
            &[
                "ours-send-side",
                "ours-remb",
                "rtc-gcc",
                "ours-send-side-no-probing",
            ],
            &["other"],
        ),
        word(&["forward", "backward"], &["sideways"]),
        word(&["video", "audio", "audio+video"], &["text"]),
        number_in(0..10),
        prop::option::of(number_in(10..60)),
        prop::collection::vec(window(), 0..3),
        number_in(0..100),
    )
        .prop_map(
            |(estimator, direction, media, start, stop, pauses, access)| {
                let pauses: Vec<String> =
                    pauses.iter().map(|(a, b)| format!("[{a}, {b}]")).collect();
                let mut t = format!(
                    "[[flow]]\nestimator = \"{estimator}\"\ndirection = \"{direction}\"\n\
                 media = \"{media}\"\nstart_s = {start}\npauses = [{}]\n\
                 access_delay_ms = {access}\n",
                    pauses.join(", ")
                );
                if let Some(stop) = stop {
                    t += &format!("stop_s = {stop}\n");
                }
                t
            },
        )
}

/// A `[[check]]` table.
fn check() -> impl Strategy<Value = String> {
    (
        word(
            &[
                "utilisation",
                "queue_p95_ms",
                "loss",
                "fairness_5s",
                "startup_s",
            ],
            &["nonsense"],
        ),
        number_in(0..10),
        number_in(10..5_000),
        prop::option::of(window()),
        prop::option::of(number_in(1..3)),
    )
        .prop_map(|(metric, min, max, window, flow)| {
            let mut t = format!("[[check]]\nmetric = \"{metric}\"\nmin = {min}\nmax = {max}\n");
            let (from, to) = window.unzip();
            for (key, value) in [("from_s", from), ("to_s", to), ("flow", flow)] {
                if let Some(v) = value {
                    t += &format!("{key} = {v}\n");
                }
            }
            t
        })
}

/// A whole scenario from random values.
fn generated() -> impl Strategy<Value = String> {
    (
        number_in(60..600),
        prop::option::of(number_in(1..60)),
        link(),
        prop::option::of(link()),
        prop::collection::vec(flow(), 0..3),
        prop::collection::vec(check(), 0..3),
        prop::option::of((number_in(1..10), prop::option::of(number_in(1..20)))),
    )
        .prop_map(
            |(duration, connect, forward, backward, flows, checks, encoder)| {
                let mut t = format!("name = \"generated\"\nseed = 1\nduration_s = {duration}\n");
                if let Some(c) = connect {
                    t += &format!("connect_timeout_s = {c}\n");
                }
                t += &format!("[forward]\n{forward}");
                if let Some(b) = backward {
                    t += &format!("[backward]\n{b}");
                }
                if let Some((interval, factor)) = encoder {
                    t += &format!("[encoder]\nkey_frame_interval_s = {interval}\n");
                    if let Some(f) = factor {
                        t += &format!("key_frame_factor = {f}\n");
                    }
                }
                for f in flows {
                    t += &f;
                }
                for c in checks {
                    t += &c;
                }
                t
            },
        )
}

/// A shipped scenario with a few characters replaced.
fn mutated_shipped() -> impl Strategy<Value = String> {
    (
        any::<prop::sample::Index>(),
        prop::collection::vec(
            (
                any::<prop::sample::Index>(),
                0usize..4,
                "[\\x00-\\x7f\u{e9}\u{2028}]{0,3}",
            ),
            1..4,
        ),
    )
        .prop_map(|(file, edits)| {
            let files = shipped();
            let mut chars: Vec<char> = files[file.index(files.len())].chars().collect();
            for (at, remove, insert) in edits {
                let start = at.index(chars.len() + 1);
                let end = (start + remove).min(chars.len());
                chars.splice(start..end, insert.chars());
            }
            chars.into_iter().collect()
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    /// Arbitrary text is a scenario or a located error.
    #[test]
    fn any_text_is_a_scenario_or_a_located_error(text in "(?s).{0,200}") {
        contracts::scenario(&text, root());
    }

    /// A shipped scenario with a typo is refused at a located place or still valid.
    #[test]
    fn damaged_shipped_scenarios_are_refused_where_they_are_wrong(text in mutated_shipped()) {
        contracts::scenario(&text, root());
    }

    /// Scenarios with any values, extremes included, keep every bound or are refused.
    #[test]
    fn generated_scenarios_keep_their_bounds_or_are_refused(text in generated()) {
        contracts::scenario(&text, root());
    }
}
