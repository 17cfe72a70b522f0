//! The pacer's rules, sans-I/O: a payload is just a number, time is plain `Timestamp`s, and
//! "feedback" is a call saying what it resolved.

use super::*;
use crate::probe::ProbeCluster;
use crate::units::{Bitrate, DataSize, TimeDelta, Timestamp};

const SSRC: u32 = 9;
const PACKET: DataSize = DataSize::from_bytes(1_212);

fn ms(v: i64) -> Timestamp {
    Timestamp::from_millis(v)
}

fn pacer(start_kbps: u64, config: PacerConfig) -> Pacer<u32> {
    let mut p = Pacer::new(PacerConfig {
        start: Bitrate::from_kbps(start_kbps),
        ..config
    });
    p.add_stream(SSRC);
    p
}

/// The window's own rules, without the queue time limit dropping the backlog they act on.
fn unlimited() -> PacerConfig {
    PacerConfig {
        queue_time_limit: None,
        ..PacerConfig::default()
    }
}

fn fill(p: &mut Pacer<u32>, now: Timestamp, n: u16) {
    for seq in 0..n {
        p.enqueue(
            now,
            u32::from(seq),
            PACKET,
            PacketKind::Media { ssrc: SSRC, seq },
        )
        .expect("queued");
    }
}

/// Drives the pacer every millisecond over `[from, from + ms)`; returns (instant, payload) of
/// every release.
fn run(p: &mut Pacer<u32>, from: Timestamp, span_ms: i64) -> Vec<(Timestamp, u32)> {
    let mut out = Vec::new();
    for i in 0..span_ms {
        let now = from + TimeDelta::from_millis(i);
        p.handle_timeout(now);
        while let Some(r) = p.poll_release(now, |size| Some((u32::MAX, size))) {
            out.push((now, r.payload));
        }
    }
    out
}

fn cluster(id: u32, kbps: u64, bytes: u64, probes: u32) -> ProbeCluster {
    ProbeCluster {
        id,
        target: Bitrate::from_kbps(kbps),
        min_probes: probes,
        min_bytes: DataSize::from_bytes(bytes),
        duration: TimeDelta::from_millis(15),
        created_at: Timestamp::ZERO,
    }
}

/// The congestion window, (RTT + 350 ms) × target: media stops once that much is in flight,
/// and feedback resolving what left lets it resume at once.
#[test]
fn the_window_holds_media_until_feedback_resolves_it() {
    let mut p = pacer(300, unlimited());
    p.on_feedback(ms(0), None, Some(TimeDelta::from_millis(100)));
    fill(&mut p, ms(0), 100);
    let first = run(&mut p, ms(0), 1_000);
    let stats = p.stats(ms(1_000));
    // 0.45 s × 300 kbit/s.
    assert_eq!(stats.congestion_window, Some(DataSize::from_bytes(16_875)));
    let keepalives = stats.keepalive_packets as usize;
    assert!((1..=2).contains(&keepalives), "{keepalives} keep-alives");
    // Up to the window and one packet over it, plus the keep-alives.
    let windowed = (first.len() - keepalives) as u64 * PACKET.bytes();
    assert!(
        (16_875..16_875 + PACKET.bytes()).contains(&windowed),
        "{windowed} bytes before the window held"
    );
    assert_eq!(
        stats.in_flight,
        DataSize::from_bytes(first.len() as u64 * PACKET.bytes())
    );
    assert_eq!(stats.congestion_window_full_count, 1);
    // Full from when the window filled (14 packets, 13 ms apart, under 200 ms in) to now.
    let full = stats.congestion_window_full_time;
    assert!(
        (TimeDelta::from_millis(800)..=TimeDelta::from_millis(1_000)).contains(&full),
        "full for {full:?}"
    );
    assert_eq!(stats.queued_packets as usize, 100 - first.len());

    let last = first.last().expect("sent").0;
    p.on_feedback(ms(1_000), Some(last), Some(TimeDelta::from_millis(100)));
    let second = run(&mut p, ms(1_000), 100);
    assert_eq!(
        second.first().map(|r| r.0),
        Some(ms(1_000)),
        "resumes at once"
    );
    // Paced at 750 kbit/s: a 1 212-byte packet every 13 ms, after the 5 ms allowance.
    assert!((8..=10).contains(&second.len()), "{}", second.len());
}

/// Feedback that never comes cannot stall the pacer: with the window full, one queued packet
/// leaves every 500 ms (libwebrtc's keep-alive).
#[test]
fn a_full_window_without_feedback_lets_a_packet_through_every_half_second() {
    let mut p = pacer(50, unlimited());
    p.on_feedback(ms(0), None, Some(TimeDelta::from_millis(50)));
    fill(&mut p, ms(0), 40);
    let out = run(&mut p, ms(0), 3_000);
    // 0.4 s × 50 kbit/s is below the 3 000-byte floor: three packets fill it.
    assert_eq!(p.congestion_window(), Some(DataSize::from_bytes(3_000)));
    let gaps: Vec<TimeDelta> = out.windows(2).map(|w| w[1].0 - w[0].0).collect();
    assert_eq!(out.len(), 3 + 5, "{gaps:?}");
    assert_eq!(p.stats(ms(3_000)).keepalive_packets, 5);
    assert!(
        gaps[2..].iter().all(|g| *g == TimeDelta::from_millis(500)),
        "{gaps:?}"
    );
    assert!(
        p.poll_timeout().is_some(),
        "a queue behind a full window keeps a timer"
    );
}

/// Media leaves at 2.5 × the target: fast enough to drain an encoder burst, slow enough to be
/// paced; and a new target sets the pace of what is released after it.
#[test]
fn media_is_paced_at_two_and_a_half_times_the_target_and_follows_a_new_one() {
    let mut p = pacer(300, PacerConfig::default());
    for (t0, kbps, lo, hi) in [(0, 300, 735.0, 765.0), (3_000, 1_000, 2_450.0, 2_550.0)] {
        p.set_target(Bitrate::from_kbps(kbps));
        fill(&mut p, ms(t0), 50);
        let out = run(&mut p, ms(t0), 2_000);
        assert_eq!(out.len(), 50);
        // From the fourth packet on: the first ones go at once on the 5 ms burst allowance.
        let paced = &out[3..];
        let span = paced[paced.len() - 1].0 - paced[0].0;
        let bits = (paced.len() - 1) as f64 * PACKET.as_bits_f64();
        let rate = bits / span.as_secs_f64() / 1_000.0;
        assert!((lo..=hi).contains(&rate), "{rate:.0} kbit/s at {kbps}");
    }
}

/// No cluster starts while the window is full; it waits and goes once feedback reopens it.
#[test]
fn a_full_window_holds_probes_until_it_reopens() {
    let mut p = pacer(300, unlimited());
    p.on_feedback(ms(0), None, Some(TimeDelta::from_millis(100)));
    fill(&mut p, ms(0), 30);
    let first = run(&mut p, ms(0), 300);
    p.push_cluster(cluster(1, 900, 1_687, 5));
    let held = run(&mut p, ms(300), 100);
    assert!(held.is_empty(), "{} packets left a full window", held.len());
    assert_eq!(p.stats(ms(400)).clusters_sent, 0);
    let last = first.last().expect("sent").0;
    p.on_feedback(ms(400), Some(last), Some(TimeDelta::from_millis(100)));
    run(&mut p, ms(400), 200);
    assert_eq!(p.stats(ms(600)).clusters_sent, 1);
}

/// Encoder pushback: each feedback that finds the window (with the backlog) over 1.5× full
/// scales the encoder target by 0.9; once it finds everything resolved and drained, it is off.
#[test]
fn a_full_window_pushes_the_encoder_target_back_and_lets_go_when_drained() {
    let mut p = pacer(300, unlimited());
    fill(&mut p, ms(0), 100);
    p.on_feedback(ms(0), None, Some(TimeDelta::from_millis(100)));
    let first = run(&mut p, ms(0), 400);
    for i in 0..5 {
        p.on_feedback(ms(400 + 20 * i), None, Some(TimeDelta::from_millis(100)));
        run(&mut p, ms(400 + 20 * i), 20);
    }
    // 300 kbit/s × 0.9⁶ (the first feedback, before any release, found the backlog).
    assert_eq!(
        p.pushback_target(),
        Some(Bitrate::from_kbps(300).mul_f64(0.9f64.powi(6)))
    );
    let mut last = first.last().expect("sent").0;
    let mut at = ms(500);
    while p.stats(at).queued_packets > 0 {
        p.on_feedback(at, Some(last), Some(TimeDelta::from_millis(100)));
        if let Some(r) = run(&mut p, at, 100).last() {
            last = r.0;
        }
        at += TimeDelta::from_millis(100);
        assert!(at < ms(10_000), "the backlog drains");
    }
    p.on_feedback(at, Some(last), Some(TimeDelta::from_millis(100)));
    assert_eq!(p.pushback_target(), None);
}

/// Once feedback has been missing for a second with the window full, the pushback runs on a
/// 25 ms timer: the encoder reaches its 30 kbit/s floor about a second later, not never.
#[test]
fn overdue_feedback_keeps_pushing_the_encoder_back_on_a_timer() {
    let mut p = pacer(2_000, PacerConfig::default());
    p.on_feedback(ms(0), None, Some(TimeDelta::from_millis(50)));
    let mut floor_at = None;
    for i in 0..3_000 {
        let now = ms(i);
        if i % 5 == 0 {
            // The encoder goes on at 2 Mbit/s; the queue time limit trims what waits.
            let seq = (i / 5) as u16;
            let kind = PacketKind::Media { ssrc: SSRC, seq };
            let _ = p.enqueue(now, u32::from(seq), PACKET, kind);
        }
        p.handle_timeout(now);
        while p.poll_release(now, |_| None).is_some() {}
        if floor_at.is_none() && p.pushback_target() == Some(Bitrate::from_kbps(30)) {
            floor_at = Some(now);
        }
    }
    let floor_at = floor_at.expect("pushed to the floor without feedback");
    // One second before feedback counts as overdue, then 0.9 per 25 ms from a full window.
    assert!(
        (ms(1_500)..=ms(2_500)).contains(&floor_at),
        "floor at {floor_at:?}"
    );
    assert!(
        p.stats(ms(3_000))
            .queue_delay
            .is_some_and(|d| d <= TimeDelta::from_secs(1)),
        "the limit trims the queue"
    );
}

/// The queue time limit: media that has waited longer than 1 s is dropped when it reaches the
/// head, counted, and a later retransmission of it is refused; fresher media still leaves.
#[test]
fn media_older_than_the_limit_is_dropped_and_never_repaired() {
    let mut p = pacer(300, PacerConfig::default());
    fill(&mut p, ms(0), 100);
    p.enqueue(
        ms(1_500),
        500,
        PACKET,
        PacketKind::Media {
            ssrc: SSRC,
            seq: 500,
        },
    )
    .expect("queued");
    let out = run(&mut p, ms(1_500), 500);
    assert_eq!(
        out.first().map(|r| r.1),
        Some(500),
        "the fresh packet goes first"
    );
    let stats = p.stats(ms(2_000));
    assert_eq!(stats.stale_packets, 100);
    assert_eq!(
        stats.stale_bytes,
        DataSize::from_bytes(100 * PACKET.bytes())
    );
    let resend = p.enqueue(
        ms(2_000),
        7,
        PACKET,
        PacketKind::Retransmission { ssrc: SSRC, seq: 7 },
    );
    assert_eq!(resend, Err(Refusal::Retransmission));
}

/// Without a queue time limit the drain rule empties an oversized queue within 2 s instead.
#[test]
fn without_a_limit_the_drain_rule_empties_the_queue_in_two_seconds() {
    let mut p = pacer(
        300,
        PacerConfig {
            queue_time_limit: None,
            ..PacerConfig::default()
        },
    );
    fill(&mut p, ms(0), 1_000);
    let out = run(&mut p, ms(0), 3_000);
    assert_eq!(out.len(), 1_000);
    let drained = out.last().expect("sent").0;
    assert!((ms(1_900)..=ms(2_100)).contains(&drained), "{drained:?}");
}

/// Odd clusters (zero rate, huge sizes, a thousand packets), odd targets (zero, the largest
/// rate, what a NaN becomes) and time running backwards never panic the pacer, and its timer
/// is never in the past of what it was told.
#[test]
fn odd_clusters_targets_and_backward_time_never_panic() {
    let mut p = pacer(300, PacerConfig::default());
    for c in [
        cluster(1, 0, 0, 0),
        cluster(2, 1, 100_000, 1_000),
        cluster(3, 100_000_000, 10, 1),
    ] {
        p.push_cluster(c);
    }
    fill(&mut p, ms(10_000), 10);
    let targets = [
        Bitrate::ZERO,
        Bitrate::MAX,
        Bitrate::saturating_from_bps_f64(f64::NAN),
        Bitrate::saturating_from_bps_f64(f64::INFINITY),
        Bitrate::from_bps(1),
    ];
    for (i, t) in [10_000, 10_005, 7_000, 10_007, 10_007, 11_000, 9_999, 10_050]
        .into_iter()
        .enumerate()
    {
        let now = ms(t);
        p.set_target(targets[i % targets.len()]);
        p.on_feedback(
            now,
            Some(ms(t - 100)),
            Some(TimeDelta::from_millis(t % 300)),
        );
        p.update_pushback(now);
        let _ = p.pacing_rate(now);
        let _ = p.congestion_window();
        p.handle_timeout(now);
        let mut n = 0;
        while p.poll_release(now, |size| Some((0, size))).is_some() && n < 10_000 {
            n += 1;
        }
        if let Some(due) = p.poll_timeout() {
            assert!(due >= ms(10_000), "{due:?}");
        }
    }
}
