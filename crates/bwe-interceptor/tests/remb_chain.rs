//! The REMB generator inside a real rtc chain (the `configure_remb_bwe` preset), fed real RTP
//! bytes and read back from the RTCP bytes it sends. Time is a base instant plus offsets.

mod support;

use std::time::{Duration, Instant};

use bwe_interceptor::{BweHandle, configure_remb_bwe};
use rtc::interceptor::{Interceptor, Registry};
use rtc::peer_connection::configuration::media_engine::MediaEngine;
use rtc::sansio::Protocol;

use support::*;

fn remb_chain() -> (impl Interceptor, BweHandle) {
    let mut engine = MediaEngine::default();
    engine.register_default_codecs().expect("codecs");
    let (registry, handle) = configure_remb_bwe(Registry::new(), &mut engine).expect("chain");
    (registry.build(), handle)
}

/// Feeds every `(ssrc, id)` in turn, one 1000-byte packet each per 10 ms of send time, arriving
/// 30 ms later; returns what the chain sent.
fn feed_streams(
    chain: &mut impl Interceptor,
    base: Instant,
    streams: &[(u32, u8)],
    (from_ms, to_ms): (u64, u64),
) -> Vec<(Instant, Vec<u8>, bool)> {
    let mut out = Vec::new();
    for t in (from_ms..to_ms).step_by(10) {
        let (ssrc, id) = streams[(t / 10) as usize % streams.len()];
        let now = base + Duration::from_millis(t + 30);
        drive(chain, now);
        let ast = abs_send_time(t);
        let bytes = rtp_bytes(ssrc, (t / 10) as u16, &[(id, &ast)], 1000, false);
        chain.handle_read(inbound_rtp(now, &bytes)).expect("read");
        while chain.poll_read().is_some() {}
        out.extend(drain_wire(chain));
    }
    out
}

/// The REMB must name the stream it is about and carry a rate near what is arriving.
#[test]
fn remb_carries_the_stream_ssrc_and_a_plausible_bitrate() {
    let (mut chain, handle) = remb_chain();
    chain.bind_remote_stream(&video_stream(0x1111, Some(3), None));
    let base = Instant::now();
    // 1000 B payload + 20 B of headers every 10 ms: 816 kbit/s for 10 s. The estimate becomes
    // valid (and REMB starts) once the incoming rate has been adopted, ~6 s in.
    let sent = feed_stream(&mut chain, base, 0x1111, 3, (0, 10_000), 10);
    let rembs = rembs_in(&sent);
    assert!(
        (4..=6).contains(&rembs.len()),
        "{} REMBs in the 4 s after the estimate became valid",
        rembs.len()
    );
    let (_, last) = rembs.last().expect("a REMB");
    assert_eq!(last.ssrcs, vec![0x1111]);
    let kbps = f64::from(last.bitrate) / 1000.0;
    println!("last REMB {kbps:.0} kbit/s after 10 s of 816 kbit/s");
    assert!(
        (700.0..=1_300.0).contains(&kbps),
        "{kbps:.0} kbit/s for 816 kbit/s arriving"
    );
    flush(&mut chain, base + Duration::from_millis(10_030));
    let stats = handle.snapshot().remb_receiver.expect("published");
    assert_eq!(stats.rembs_sent, rembs.len() as u64);
    assert_eq!(stats.fed, 1_000);
}

/// One estimator per sender: two streams share one REMB that lists both.
#[test]
fn two_streams_give_one_remb_with_both_ssrcs() {
    let (mut chain, _) = remb_chain();
    chain.bind_remote_stream(&video_stream(0x2222, Some(3), None));
    chain.bind_remote_stream(&video_stream(0x1111, Some(3), None));
    let base = Instant::now();
    let sent = feed_streams(&mut chain, base, &[(0x1111, 3), (0x2222, 3)], (0, 8_000));
    let rembs = rembs_in(&sent);
    let (_, last) = rembs.last().expect("a REMB");
    assert_eq!(last.ssrcs, vec![0x1111, 0x2222]);
    assert!(
        rembs.iter().all(|(_, r)| r.ssrcs.len() <= 2),
        "never more SSRCs than streams"
    );
}

/// A stream that stopped for 2 s is no longer capped by the REMB; the other still is.
#[test]
fn stream_silent_for_two_seconds_leaves_the_remb() {
    let (mut chain, _) = remb_chain();
    chain.bind_remote_stream(&video_stream(0x1111, Some(3), None));
    chain.bind_remote_stream(&video_stream(0x2222, Some(3), None));
    let base = Instant::now();
    feed_streams(&mut chain, base, &[(0x1111, 3), (0x2222, 3)], (0, 8_000));
    // 0x2222 falls silent at ~7.99 s; 0x1111 carries on.
    let sent = feed_streams(&mut chain, base, &[(0x1111, 3)], (8_000, 12_000));
    let rembs = rembs_in(&sent);
    let silent_for = |at: Instant| at - (base + Duration::from_millis(8_020));
    let listed_late = rembs
        .iter()
        .filter(|(at, r)| {
            silent_for(*at) > Duration::from_millis(2_100) && r.ssrcs.contains(&0x2222)
        })
        .count();
    assert_eq!(listed_late, 0, "0x2222 listed after 2 s of silence");
    let listed_early = rembs
        .iter()
        .filter(|(at, r)| {
            silent_for(*at) < Duration::from_millis(1_500) && r.ssrcs.contains(&0x2222)
        })
        .count();
    assert!(listed_early >= 1, "still listed while only briefly silent");
    let (_, last) = rembs.last().expect("REMBs continue");
    assert_eq!(last.ssrcs, vec![0x1111]);
}

/// The id comes from the negotiated StreamInfo: 5 on one stream, 7 on the other, with TWCC on
/// the other id of each, and both streams are estimated.
#[test]
fn extension_ids_five_and_seven_are_taken_from_stream_info() {
    let (mut chain, handle) = remb_chain();
    chain.bind_remote_stream(&video_stream(0x5555, Some(5), Some(7)));
    chain.bind_remote_stream(&video_stream(0x7777, Some(7), Some(5)));
    let base = Instant::now();
    let mut out = Vec::new();
    for t in (0..8_000u64).step_by(10) {
        let now = base + Duration::from_millis(t + 30);
        drive(&mut chain, now);
        let ast = abs_send_time(t);
        let twcc = ((t / 10) as u16).to_be_bytes();
        let (ssrc, exts): (u32, [(u8, &[u8]); 2]) = if t % 20 == 0 {
            (0x5555, [(5, &ast), (7, &twcc)])
        } else {
            (0x7777, [(5, &twcc), (7, &ast)])
        };
        let bytes = rtp_bytes(ssrc, (t / 10) as u16, &exts, 1000, false);
        chain.handle_read(inbound_rtp(now, &bytes)).expect("read");
        while chain.poll_read().is_some() {}
        out.extend(drain_wire(&mut chain));
    }
    flush(&mut chain, base + Duration::from_millis(8_030));
    let stats = handle.snapshot().remb_receiver.expect("published");
    assert_eq!(stats.fed, 800, "every packet of both streams fed");
    assert_eq!(
        stats.malformed_extension, 0,
        "TWCC's 2 bytes never read as abs-send-time"
    );
    let (_, last) = rembs_in(&out).last().cloned().expect("a REMB");
    assert_eq!(last.ssrcs, vec![0x5555, 0x7777]);
}

/// What leaves the chain is a well-formed REMB: PSFB (206), FMT 15, "REMB", and it parses back
/// to the same message.
#[test]
fn remb_serialises_and_parses_back() {
    let (mut chain, _) = remb_chain();
    chain.bind_remote_stream(&video_stream(0xCAFE, Some(3), None));
    let sent = feed_stream(&mut chain, Instant::now(), 0xCAFE, 3, (0, 8_000), 10);
    let (_, bytes, _) = sent
        .iter()
        .find(|(_, b, rtcp)| *rtcp && b.len() >= 24 && &b[12..16] == b"REMB")
        .expect("a REMB datagram");
    assert_eq!(bytes[0] & 0x1F, 15, "FMT");
    assert_eq!(bytes[1], 206, "payload-specific feedback");
    assert_eq!(bytes[16], 1, "one SSRC");
    assert_eq!(&bytes[20..24], &0xCAFEu32.to_be_bytes());
    let remb = rtc::rtcp::packet::unmarshal(&mut &bytes[..]).expect("parses");
    let again = rtc::rtcp::packet::marshal(&remb).expect("marshal");
    assert_eq!(&again[..], &bytes[..], "byte-identical after a round trip");
}

/// Malformed input is counted and skipped; the chain keeps passing media and sending REMB.
#[test]
fn malformed_inputs_leave_the_chain_working_and_show_in_stats() {
    let (mut chain, handle) = remb_chain();
    chain.bind_remote_stream(&video_stream(0x1111, Some(3), None));
    let base = Instant::now();
    let mut media_out = 0usize;
    let mut wire = Vec::new();
    for t in (0..10_000u64).step_by(10) {
        let now = base + Duration::from_millis(t + 30);
        drive(&mut chain, now);
        let ast = abs_send_time(t);
        let seq = (t / 10) as u16;
        let bytes = match (t / 10) % 10 {
            // abs-send-time cut to 2 bytes, or padded to 4
            1 => rtp_bytes(0x1111, seq, &[(3, &ast[..2])], 1000, false),
            2 => rtp_bytes(
                0x1111,
                seq,
                &[(3, &[ast[0], ast[1], ast[2], 0])],
                1000,
                false,
            ),
            // RTP version 1 parses but is not RTP we know
            3 => {
                let mut b = rtp_bytes(0x1111, seq, &[(3, &ast)], 1000, false);
                b[0] = (b[0] & 0x3F) | 0x40;
                b
            }
            // the extension missing altogether
            4 => rtp_bytes(0x1111, seq, &[], 1000, false),
            // an SSRC nobody bound
            5 => rtp_bytes(0x9999, seq, &[(3, &ast)], 1000, false),
            // valid, in the two-byte header form
            6 => rtp_bytes(0x1111, seq, &[(3, &ast)], 1000, true),
            _ => rtp_bytes(0x1111, seq, &[(3, &ast)], 1000, false),
        };
        chain
            .handle_read(inbound_rtp(now, &bytes))
            .expect("read never fails");
        while let Some(p) = chain.poll_read() {
            if matches!(p.message.packet, rtc::interceptor::Packet::Rtp(_)) {
                media_out += 1;
            }
        }
        wire.extend(drain_wire(&mut chain));
    }
    assert_eq!(media_out, 1_000, "every packet reached the application");
    flush(&mut chain, base + Duration::from_millis(10_030));
    let stats = handle.snapshot().remb_receiver.expect("published");
    assert_eq!(stats.malformed_extension, 200);
    assert_eq!(stats.malformed_rtp, 100);
    assert_eq!(stats.missing_extension, 100);
    assert_eq!(stats.unbound, 100);
    assert_eq!(
        stats.fed, 500,
        "five packets in ten, the two-byte form included"
    );
    assert!(!rembs_in(&wire).is_empty(), "REMB still sent");
}

/// Without abs-send-time negotiated there is no estimate and no REMB; media is untouched.
#[test]
fn without_abs_send_time_media_passes_and_no_remb_is_sent() {
    let (mut chain, handle) = remb_chain();
    chain.bind_remote_stream(&video_stream(0x1111, None, Some(5)));
    let base = Instant::now();
    let sent = feed_stream(&mut chain, base, 0x1111, 3, (0, 3_000), 10);
    assert!(rembs_in(&sent).is_empty());
    flush(&mut chain, base + Duration::from_millis(3_030));
    let stats = handle.snapshot().remb_receiver.expect("published");
    assert_eq!(stats.not_negotiated, 300);
    assert_eq!(stats.core.estimate, None);
}
