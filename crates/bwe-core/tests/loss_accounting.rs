//! Loss accounting on the send side: whatever order, duplication or absence of feedback, the
//! loss figures stay ratios, and a packet no feedback reported missing never counts as lost.
//!
//! Fates: received, reported lost, or unknown (the feedback covering it was lost: the caller
//! gives the estimator no result for it, as `FeedbackTap` arranges in bwe-interceptor).
//! Feedback messages may be duplicated or swapped with their neighbour.

use bwe_core::send_side::{SendSideConfig, SendSideEstimator};
use bwe_core::{DataSize, PacketResult, SentPacket, TimeDelta, Timestamp};
use proptest::prelude::*;

#[derive(Debug, Clone, Copy)]
enum Fate {
    Received,
    Lost,
    Unknown,
}

fn fate() -> impl Strategy<Value = Fate> {
    prop_oneof![
        6 => Just(Fate::Received),
        1 => Just(Fate::Lost),
        2 => Just(Fate::Unknown),
    ]
}

/// Packets every 5 ms; a feedback message every 20 packets, carrying the results of its
/// packets that have one.
fn messages(fates: &[Fate]) -> Vec<Vec<PacketResult>> {
    fates
        .chunks(20)
        .enumerate()
        .map(|(m, chunk)| {
            chunk
                .iter()
                .enumerate()
                .filter_map(|(k, f)| {
                    let seq = (m * 20 + k) as u64;
                    let send = Timestamp::from_millis(seq as i64 * 5);
                    let sent = SentPacket {
                        sequence: seq,
                        send_time: send,
                        size: DataSize::from_bytes(1_000),
                        probe: None,
                    };
                    match f {
                        Fate::Received => Some(PacketResult {
                            sent,
                            receive_time: Some(send + TimeDelta::from_millis(40)),
                        }),
                        Fate::Lost => Some(PacketResult {
                            sent,
                            receive_time: None,
                        }),
                        Fate::Unknown => None,
                    }
                })
                .collect()
        })
        .collect()
}

fn check(fates: &[Fate], order: &[(usize, bool)], model: bool) -> Result<(), TestCaseError> {
    let config = SendSideConfig {
        loss_model: model.then(Default::default),
        ..SendSideConfig::default()
    };
    let mut est = SendSideEstimator::new(config);
    let msgs = messages(fates);
    let mut sequence: Vec<usize> = (0..msgs.len()).collect();
    // Swaps and duplicates, as the strategy says.
    for &(i, duplicate) in order {
        if msgs.is_empty() {
            break;
        }
        let i = i % msgs.len();
        if duplicate {
            sequence.insert(i, i);
        } else if i + 1 < sequence.len() {
            sequence.swap(i, i + 1);
        }
    }
    for (n, &m) in sequence.iter().enumerate() {
        let now = Timestamp::from_millis(100 + n as i64 * 100);
        est.on_feedback(now, &msgs[m]);
        let stats = est.stats();
        for figure in [stats.loss_fraction, stats.average_loss]
            .into_iter()
            .flatten()
        {
            prop_assert!((0.0..=1.0).contains(&figure), "{figure}");
        }
    }
    let stats = est.stats();
    if !fates.iter().any(|f| matches!(f, Fate::Lost)) {
        prop_assert!(stats.loss_fraction.is_none_or(|f| f == 0.0), "{stats:?}");
        prop_assert!(stats.average_loss.is_none_or(|f| f == 0.0), "{stats:?}");
    }
    Ok(())
}

proptest! {
    #[test]
    fn loss_figures_are_ratios_and_unknown_is_never_lost(
        fates in proptest::collection::vec(fate(), 1..600),
        order in proptest::collection::vec((0usize..64, any::<bool>()), 0..20),
        model in any::<bool>(),
    ) {
        check(&fates, &order, model)?;
    }
}

/// The same without any packet reported lost, many times over: feedback lost for a third of
/// the packets never shows as loss.
#[test]
fn a_third_of_feedback_lost_is_no_loss() {
    let fates: Vec<Fate> = (0..3_000)
        .map(|i| {
            if (i / 20) % 3 == 0 {
                Fate::Unknown
            } else {
                Fate::Received
            }
        })
        .collect();
    check(&fates, &[], true).expect("no loss");
    check(&fates, &[], false).expect("no loss");
}
