//! REMB at the sender, in a real chain: the cap read from REMB bytes reaches the application
//! through the handle and the pacer — rtc's own through the attribute, ours through the shared
//! controller — and the pacer's release spacing changes accordingly.

mod support;

use std::time::{Duration, Instant};

use bwe_core::Bitrate;
use bwe_interceptor::{BweChainConfig, configure_bwe, configure_remb_bwe};
use rtc::interceptor::{Interceptor, Packet, Registry, TaggedPacket};
use rtc::peer_connection::configuration::media_engine::MediaEngine;
use rtc::rtcp::payload_feedbacks::receiver_estimated_maximum_bitrate::ReceiverEstimatedMaximumBitrate;
use rtc::sansio::Protocol;
use rtc::shared::marshal::Marshal;

use support::{inbound_rtcp, video_stream};

const SSRC: u32 = 0xBEEF;

fn media(now: Instant, seq: u16) -> TaggedPacket {
    support::media_packet(now, SSRC, seq, 1188)
}

/// Releases of media packets between `from` and `to`, stepping 1 ms.
fn releases(chain: &mut impl Interceptor, from: Instant, to: Instant) -> Vec<Instant> {
    let mut out = Vec::new();
    let mut now = from;
    while now < to {
        chain.handle_timeout(now).expect("timeout");
        while let Some(p) = chain.poll_write() {
            if matches!(p.message.packet, Packet::Rtp(_)) {
                out.push(p.now);
            }
        }
        now += Duration::from_millis(1);
    }
    out
}

fn mean_gap_ms(instants: &[Instant]) -> f64 {
    let span = *instants.last().expect("some") - instants[0];
    span.as_secs_f64() * 1000.0 / (instants.len() - 1) as f64
}

/// rtc's pacer (the REMB preset without ours) runs at the loss-based start rate, then at the
/// REMB cap once one arrives.
#[test]
fn rtc_pacer_follows_the_remb_cap() {
    let mut engine = MediaEngine::default();
    engine.register_default_codecs().expect("codecs");
    let mut config = BweChainConfig::remb();
    if let Some(sender) = &mut config.remb_sender {
        sender.pacer = None;
    }
    let (registry, handle) = configure_bwe(Registry::new(), &mut engine, config).expect("chain");
    let mut chain = registry.build();
    chain.bind_local_stream(&video_stream(SSRC, Some(3), None));
    let base = Instant::now();
    for seq in 0..200 {
        chain.handle_write(media(base, seq)).expect("write");
    }

    // 300 kbit/s (the loss-based start): ~1.2 kB every 32 ms.
    let before = releases(&mut chain, base, base + Duration::from_secs(2));
    let remb = ReceiverEstimatedMaximumBitrate {
        sender_ssrc: 1,
        bitrate: 120_000.0,
        ssrcs: vec![SSRC],
    };
    let bytes = remb.marshal().expect("marshal");
    let at = base + Duration::from_secs(2);
    chain.handle_read(inbound_rtcp(at, &bytes)).expect("read");
    while chain.poll_read().is_some() {}
    // 120 kbit/s: one every ~80 ms.
    let after = releases(&mut chain, at, at + Duration::from_secs(4));

    let (gap_before, gap_after) = (mean_gap_ms(&before), mean_gap_ms(&after[1..]));
    println!("pacer gap {gap_before:.1} ms before, {gap_after:.1} ms after a 120 kbit/s REMB");
    assert!((28.0..=36.0).contains(&gap_before), "{gap_before:.1} ms");
    assert!((72.0..=90.0).contains(&gap_after), "{gap_after:.1} ms");
    assert_eq!(handle.target(), Some(Bitrate::from_kbps(120)));
}

/// Our pacer (the REMB preset's default) paces at 2.5 × the target: the start rate, then the
/// REMB's.
#[test]
fn our_pacer_follows_the_remb() {
    let mut engine = MediaEngine::default();
    engine.register_default_codecs().expect("codecs");
    let (registry, handle) = configure_remb_bwe(Registry::new(), &mut engine).expect("chain");
    let mut chain = registry.build();
    chain.bind_local_stream(&video_stream(SSRC, Some(3), None));
    let base = Instant::now();
    let at = base + Duration::from_secs(3);
    let remb = ReceiverEstimatedMaximumBitrate {
        sender_ssrc: 1,
        bitrate: 120_000.0,
        ssrcs: vec![SSRC],
    };
    let bytes = remb.marshal().expect("marshal");
    // An encoder offering 1.2 kB every 40 ms (240 kbit/s): no backlog to speed the pacer up.
    let (mut now, mut seq, mut released) = (base, 0u16, 0usize);
    let (mut before, mut remb_sent) = (None, false);
    while now < base + Duration::from_secs(5) {
        if (now - base).as_millis() % 40 == 0 {
            chain.handle_write(media(now, seq)).expect("write");
            seq = seq.wrapping_add(1);
        }
        if !remb_sent && now >= at {
            before = handle.snapshot().pacer.and_then(|p| p.pacing_rate);
            chain.handle_read(inbound_rtcp(now, &bytes)).expect("read");
            while chain.poll_read().is_some() {}
            remb_sent = true;
        }
        chain.handle_timeout(now).expect("timeout");
        while let Some(p) = chain.poll_write() {
            released += usize::from(matches!(p.message.packet, Packet::Rtp(_)));
        }
        now += Duration::from_millis(1);
    }
    let after = handle.snapshot().pacer.and_then(|p| p.pacing_rate);
    println!("our pacer: {before:?} before, {after:?} after a 120 kbit/s REMB");
    assert_eq!(
        before,
        Some(Bitrate::from_kbps(750)),
        "2.5 × the 300 kbit/s start"
    );
    assert_eq!(after, Some(Bitrate::from_kbps(300)), "2.5 × the REMB");
    assert_eq!(handle.target(), Some(Bitrate::from_kbps(120)));
    // Every packet written left (plus the start-up probes' padding), none was held back.
    assert!(
        (125..=140).contains(&released),
        "{released} released of 125 written"
    );
}

/// A send-side sender (TWCC, our pacer) that also receives REMB: the REMB caps the shared
/// controller, so the pacer paces under it, not only the encoder target.
#[test]
fn a_remb_caps_the_send_side_pacer() {
    let mut engine = MediaEngine::default();
    engine.register_default_codecs().expect("codecs");
    let (registry, handle) = bwe_interceptor::configure_send_side_bwe(
        Registry::new(),
        &mut engine,
        rtc::peer_connection::configuration::interceptor_registry::CongestionFeedback::Twcc,
    )
    .expect("chain");
    let mut chain = registry.build();
    chain.bind_local_stream(&video_stream(SSRC, Some(3), None));
    let base = Instant::now();
    let remb = ReceiverEstimatedMaximumBitrate {
        sender_ssrc: 1,
        bitrate: 120_000.0,
        ssrcs: vec![SSRC],
    };
    let bytes = remb.marshal().expect("marshal");
    let mut now = base;
    let mut seq = 0u16;
    while now < base + Duration::from_secs(2) {
        if (now - base).as_millis() % 40 == 0 {
            chain.handle_write(media(now, seq)).expect("write");
            seq = seq.wrapping_add(1);
        }
        if now == base + Duration::from_secs(1) {
            chain.handle_read(inbound_rtcp(now, &bytes)).expect("read");
            while chain.poll_read().is_some() {}
        }
        chain.handle_timeout(now).expect("timeout");
        while chain.poll_write().is_some() {}
        now += Duration::from_millis(1);
    }
    let snapshot = handle.snapshot();
    assert_eq!(snapshot.target, Some(Bitrate::from_kbps(120)));
    let pacing = snapshot.pacer.and_then(|p| p.pacing_rate);
    assert_eq!(pacing, Some(Bitrate::from_kbps(300)), "2.5 × the REMB");
    let core = snapshot.send_side.expect("published").core;
    assert_eq!(core.receiver_estimate, Some(Bitrate::from_kbps(120)));
}
