//! Every link key of a scenario file: what it builds, and where a wrong value is reported.

use std::path::Path;

use vnet_sim::{JitterDistribution, LossModel, QueueLimit, SimDuration};

use crate::scenario::file::parse;

/// A 30 s file whose forward link uses every key; `{extra}` goes into `[forward]`.
fn file(forward: &str) -> String {
    format!(
        r#"name = "t"
seed = 1
duration_s = 30

[forward]
delay_ms = 40
queue_ms = 300
capacity = [ {{ at_s = 0, kbps = 1500 }} ]
{forward}

[[check]]
metric = "loss"
min = 0
max = 1
"#
    )
}

/// `line:col` (1-based, in characters) of the first `needle` in `text` after `after`.
fn pos(text: &str, after: &str, needle: &str) -> String {
    let start = text
        .find(after)
        .unwrap_or_else(|| panic!("{after:?} in {text}"));
    let at = start
        + text[start..]
            .find(needle)
            .unwrap_or_else(|| panic!("{needle:?} in {text}"));
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let col = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    format!("{line}:{col}")
}

/// Parses `forward`'s keys and expects an error at `needle` starting with `message`.
fn refused(forward: &str, needle: &str, message: &str) -> String {
    let text = file(forward);
    let err = parse("bad.toml", &text, Path::new(".")).expect_err(forward);
    let want = format!("bad.toml:{}: {message}", pos(&text, forward, needle));
    assert!(err.starts_with(&want), "{forward}\nwant {want}\ngot  {err}");
    err
}

fn forward(keys: &str) -> vnet_sim::LinkConfig {
    parse("good.toml", &file(keys), Path::new("."))
        .unwrap_or_else(|e| panic!("{keys}: {e}"))
        .call
        .forward
}

const MS: fn(u64) -> SimDuration = SimDuration::from_millis;

/// Every impairment stage vnet-sim has must be reachable from a file, with the values given.
#[test]
fn every_link_stage_is_built_from_its_keys() {
    let link = forward(
        "delay_steps = [ { at_s = 10, delay_ms = 120 }, { at_s = 20, delay_ms = 10 } ]\n\
         jitter = { max_ms = 7.5 }\nreorder = true\n\
         loss = { mean_loss = 0.02, mean_burst = 3 }\nduplicate = 0.01",
    );
    assert_eq!(link.delay, MS(40));
    assert_eq!(
        link.delay_steps,
        [
            (SimDuration::from_secs(10), MS(120)),
            (SimDuration::from_secs(20), MS(10))
        ]
    );
    assert_eq!(
        link.jitter.distribution,
        JitterDistribution::Uniform {
            max: SimDuration::from_micros(7_500)
        }
    );
    assert!(link.jitter.reorder);
    assert_eq!(
        link.loss,
        LossModel::GilbertElliott {
            mean_loss: 0.02,
            mean_burst: 3.0
        }
    );
    assert_eq!(link.duplicate, 0.01);
    assert_eq!(link.queue, QueueLimit::Time(MS(300)));
    let normal = forward("jitter = { mean_ms = 5, std_dev_ms = 1.5 }");
    assert_eq!(
        normal.jitter.distribution,
        JitterDistribution::Normal {
            mean: MS(5),
            std_dev: SimDuration::from_micros(1_500)
        }
    );
    assert!(!normal.jitter.reorder, "no reordering unless asked for");
    assert_eq!(normal.delay_steps, []);
}

/// The short spelling every shipped file uses must keep meaning Bernoulli loss, and the table
/// without a burst length is the same model.
#[test]
fn loss_keeps_its_probability_shorthand_and_takes_a_table() {
    let bernoulli = LossModel::Bernoulli { probability: 0.01 };
    assert_eq!(forward("loss = 0.01").loss, bernoulli);
    assert_eq!(forward("loss = { mean_loss = 0.01 }").loss, bernoulli);
    assert_eq!(forward("loss = 0").loss, LossModel::None);
    assert_eq!(forward("").loss, LossModel::None);
}

/// A total loss is not runnable (the handshake crosses the link too); the error must say why
/// and point at blackouts, which are a loss of 1 for a window.
#[test]
fn a_loss_of_one_is_refused_with_the_reason_and_the_alternative() {
    for spelling in [
        "loss = 1.0",
        "loss = 1",
        "loss = { mean_loss = 1.0, mean_burst = 4 }",
    ] {
        let value = spelling.trim_start_matches("loss = ");
        let err = refused(spelling, value, "a loss of 1 would lose every packet");
        assert!(
            err.contains("never connect") && err.contains("blackouts"),
            "{err}"
        );
    }
}

/// Each wrong loss is reported at its value (or, inside the table, at the bad key) with what
/// is wrong.
#[test]
fn wrong_losses_are_located() {
    refused("loss = 1.5", "1.5", "loss must be in [0, 1), got 1.5");
    refused("loss = -0.1", "-0.1", "loss must be in [0, 1)");
    refused(
        "loss = { mean_loss = 0.1, mean_burst = 0.5 }",
        "{ mean_loss",
        "loss: Gilbert–Elliott loss 0.1 with mean burst 0.5: the mean burst length",
    );
    refused(
        "loss = { mean_loss = 0.6, mean_burst = 1 }",
        "{ mean_loss",
        "loss: Gilbert–Elliott loss 0.6 with mean burst 1: the mean loss exceeds L/(1+L)",
    );
    refused(
        "loss = { mean = 0.1 }",
        "mean = 0.1",
        "unknown field `mean`, expected `mean_loss` or `mean_burst`",
    );
    refused(
        "loss = { mean_burst = 2 }",
        "{ mean_burst",
        "missing field `mean_loss`",
    );
    refused(
        "loss = \"high\"",
        "\"high\"",
        "invalid type: string \"high\", expected a loss",
    );
}

/// Duplication is a probability; a value outside [0, 1] is located.
#[test]
fn a_wrong_duplication_is_located() {
    assert_eq!(forward("duplicate = 1").duplicate, 1.0);
    refused(
        "duplicate = 1.5",
        "1.5",
        "duplicate is a probability in [0, 1], got 1.5",
    );
    refused("duplicate = -0.01", "-0.01", "duplicate is a probability");
}

/// Jitter has two shapes; a mix of them, half of one, a negative value or an unknown key is
/// located.
#[test]
fn wrong_jitters_are_located() {
    let either = "jitter takes either max_ms (uniform on [0, max_ms]) or mean_ms and std_dev_ms";
    refused("jitter = { max_ms = 5, mean_ms = 2 }", "{ max_ms", either);
    refused("jitter = { mean_ms = 2 }", "{ mean_ms", either);
    refused("jitter = {}", "{}", either);
    refused(
        "jitter = { max_ms = -1 }",
        "-1",
        "jitter values are ms, finite and >= 0, got -1",
    );
    refused(
        "jitter = { mean_ms = 5, std_dev_ms = -2 }",
        "-2",
        "jitter values are ms",
    );
    refused("jitter = { max = 5 }", "max = 5", "unknown field `max`");
    refused(
        "reorder = \"yes\"",
        "\"yes\"",
        "invalid type: string \"yes\", expected a boolean",
    );
}

/// Delay steps count from the start of media and must each take effect inside the call.
#[test]
fn wrong_delay_steps_are_located() {
    let rule = "delay steps need at_s strictly increasing, after 0";
    refused(
        "delay_steps = [ { at_s = 0, delay_ms = 80 } ]",
        "{ at_s = 0",
        rule,
    );
    refused(
        "delay_steps = [ { at_s = 10, delay_ms = 80 }, { at_s = 10, delay_ms = 20 } ]",
        "{ at_s = 10, delay_ms = 20",
        rule,
    );
    refused(
        "delay_steps = [ { at_s = 30, delay_ms = 80 } ]",
        "{ at_s = 30",
        rule,
    );
    refused("delay_steps = []", "[]", "delay_steps is empty");
    refused(
        "delay_steps = [ { at_s = 5, ms = 80 } ]",
        "ms = 80",
        "unknown field `ms`, expected `at_s` or `delay_ms`",
    );
}

/// A queue of 0 ms holds nothing, and one smaller than a full-size packet at some step's
/// capacity drops packets on an idle link: refused, with the smallest queue that works.
#[test]
fn a_queue_that_holds_no_full_size_packet_is_refused() {
    let text = file("").replace("queue_ms = 300", "queue_ms = 0");
    let err = parse("bad.toml", &text, Path::new(".")).expect_err("zero queue");
    assert!(
        err.starts_with(&format!(
            "bad.toml:{}: queue_ms = 0 holds no packet",
            pos(&text, "queue_ms = ", "0")
        )),
        "{err}"
    );
    let small = file("").replace(
        "capacity = [ { at_s = 0, kbps = 1500 } ]",
        "capacity = [ { at_s = 0, kbps = 1500 }, { at_s = 10, kbps = 30 }, { at_s = 20, kbps = 0 } ]",
    );
    let err = parse("bad.toml", &small, Path::new(".")).expect_err("small queue");
    assert!(
        err.starts_with(&format!(
            "bad.toml:{}: queue_ms = 300 holds 1125 bytes at 30 kbit/s, less than one full-size",
            pos(&small, "queue_ms = ", "300")
        )) && err.ends_with("give queue_ms >= 400"),
        "{err}"
    );
    let enough = small.replace("queue_ms = 300", "queue_ms = 400");
    assert!(parse("good.toml", &enough, Path::new(".")).is_ok());
    let unlimited = file("").replace("capacity = [ { at_s = 0, kbps = 1500 } ]", "");
    let err = parse("bad.toml", &unlimited, Path::new(".")).expect_err("nothing to queue for");
    assert!(err.contains("queue_ms needs a capacity"), "{err}");
}

/// A capacity step at or after the end of the call would never take effect.
#[test]
fn a_capacity_step_after_the_call_is_located() {
    let text = file("").replace(
        "kbps = 1500 } ]",
        "kbps = 1500 }, { at_s = 30, kbps = 500 } ]",
    );
    let err = parse("bad.toml", &text, Path::new(".")).expect_err("late step");
    assert!(
        err.starts_with(&format!(
            "bad.toml:{}: a capacity step at 30 s is at or after the end of the call",
            pos(&text, "capacity", "{ at_s = 30")
        )),
        "{err}"
    );
}

/// A blackout is a loss of 1 for a window; one outside the call is refused with the rule.
#[test]
fn a_blackout_outside_the_call_is_located() {
    refused(
        "blackouts = [ { from_s = 29, to_s = 31 } ]",
        "{ from_s",
        "a blackout needs 0 <= from_s < to_s <= duration_s",
    );
    refused(
        "blackouts = [ { from_s = -1, to_s = 2 } ]",
        "{ from_s",
        "a blackout needs",
    );
}
