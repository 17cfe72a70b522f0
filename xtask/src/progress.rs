//! A progress bar over scenarios for `scenario all` and a `run` of several: position out of
//! total, the scenario running now, and the wall time so far.
//!
//! The bar draws only when stderr is a terminal (`indicatif`'s `ProgressDrawTarget::stderr`
//! hides itself otherwise), so redirected and captured output stays exactly what it was: the
//! `running …` lines on stderr and the reports on stdout. While the bar is visible, lines go
//! above it (`println`) and stdout is written with the bar suspended, so the two do not
//! interleave on the terminal.
//!
//! There is no bar inside a run, over its virtual time: that would need a hook in the call
//! runner that this crate does not have.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::output;
use bwe_e2e::scenario::Scenario;

/// The bar, or a hidden one that only forwards notes to stderr.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// A bar over `scenarios`, shown only if `show` and stderr is a terminal.
    pub fn over(scenarios: &[Scenario], show: bool) -> Self {
        let bar = if show {
            ProgressBar::with_draw_target(
                Some(scenarios.len() as u64),
                ProgressDrawTarget::stderr(),
            )
        } else {
            ProgressBar::hidden()
        };
        let style = ProgressStyle::with_template(
            "[{elapsed_precise}] {bar:30.cyan/blue} {pos}/{len} scenarios  {msg}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar());
        bar.set_style(style.progress_chars("=> "));
        if !bar.is_hidden() {
            // Redraw while a long call runs, so the elapsed time moves.
            bar.enable_steady_tick(Duration::from_millis(250));
        }
        Self { bar }
    }

    /// Announces `scenario` (above the bar, or on stderr) and names it on the bar.
    pub fn start(&self, scenario: &Scenario) {
        self.note(&output::describe(scenario));
        self.bar.set_message(scenario.name.clone());
    }

    /// One more scenario done.
    pub fn finish_one(&self) {
        self.bar.inc(1);
    }

    /// A line for stderr that does not tear the bar.
    pub fn note(&self, line: &str) {
        if self.bar.is_hidden() {
            eprintln!("{line}");
        } else {
            self.bar.println(line);
        }
    }

    /// Runs `f` (which writes to stdout) with the bar off the screen.
    pub fn suspend<R>(&self, f: impl FnOnce() -> R) -> R {
        self.bar.suspend(f)
    }

    /// Removes the bar before the final report.
    pub fn clear(&self) {
        self.bar.finish_and_clear();
    }
}
