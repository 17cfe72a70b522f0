//! Real bytes in and out of rtc chains, with instants built from one base plus offsets.
//!
//! Every packet a test feeds is marshalled to bytes and parsed back by rtc's own parsers, and
//! every packet a chain emits is marshalled, so what is asserted is what would be on the wire.

#![allow(dead_code)] // each test binary uses its own subset

pub mod closed_loop;

use std::time::{Duration, Instant};

use bwe_core::Timestamp;
use bwe_core::rtp_ext::AbsSendTime;
use bwe_interceptor::ABS_SEND_TIME_URI;
use rtc::interceptor::{
    AttributedPacket, Interceptor, Packet, RTPHeaderExtension, StreamInfo, TaggedPacket,
};
use rtc::rtcp::payload_feedbacks::receiver_estimated_maximum_bitrate::ReceiverEstimatedMaximumBitrate;
use rtc::rtp;
use rtc::shared::TransportContext;
use rtc::shared::marshal::{Marshal, Unmarshal};

pub const TWCC_URI: &str =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

/// A video stream with abs-send-time under `abs_send_time_id` (if any) and TWCC under `twcc_id`.
pub fn video_stream(ssrc: u32, abs_send_time_id: Option<u16>, twcc_id: Option<u16>) -> StreamInfo {
    let mut exts = Vec::new();
    if let Some(id) = abs_send_time_id {
        exts.push(RTPHeaderExtension {
            uri: ABS_SEND_TIME_URI.to_owned(),
            id,
        });
    }
    if let Some(id) = twcc_id {
        exts.push(RTPHeaderExtension {
            uri: TWCC_URI.to_owned(),
            id,
        });
    }
    StreamInfo {
        ssrc,
        clock_rate: 90_000,
        mime_type: "video/VP8".to_owned(),
        payload_type: 96,
        rtp_header_extensions: exts,
        rtcp_feedback: vec![rtc::interceptor::RTCPFeedback {
            typ: "transport-cc".to_owned(),
            parameter: String::new(),
        }],
        ..StreamInfo::default()
    }
}

/// A VP8 RTP header (payload type 96) with a 90 kHz timestamp of 3 000 ticks per sequence
/// number.
pub fn video_header(ssrc: u32, seq: u16) -> rtp::header::Header {
    rtp::header::Header {
        version: 2,
        payload_type: 96,
        sequence_number: seq,
        timestamp: u32::from(seq).wrapping_mul(3_000),
        ssrc,
        ..Default::default()
    }
}

/// An outgoing RTP packet as an application writes it into a chain: VP8's payload type 96, a
/// 90 kHz timestamp of 3 000 ticks per sequence number, `payload_len` bytes of payload.
pub fn media_packet(now: Instant, ssrc: u32, seq: u16, payload_len: usize) -> TaggedPacket {
    TaggedPacket {
        now,
        transport: TransportContext::default(),
        message: AttributedPacket::new(Packet::Rtp(rtp::Packet {
            header: video_header(ssrc, seq),
            payload: vec![0x5A; payload_len].into(),
        })),
    }
}

/// RTP bytes: one-byte-header extensions `(id, payload)` (two-byte form when `two_byte`).
pub fn rtp_bytes(
    ssrc: u32,
    seq: u16,
    extensions: &[(u8, &[u8])],
    payload_len: usize,
    two_byte: bool,
) -> Vec<u8> {
    let mut header = video_header(ssrc, seq);
    if !extensions.is_empty() {
        header.extension = true;
        header.extension_profile = if two_byte { 0x1000 } else { 0xBEDE };
        for (id, payload) in extensions {
            header
                .set_extension(*id, payload.to_vec().into())
                .expect("valid extension");
        }
    }
    let packet = rtp::Packet {
        header,
        payload: vec![0xAB; payload_len].into(),
    };
    packet.marshal().expect("marshal").to_vec()
}

/// The abs-send-time payload for a packet sent `send_ms` after the sender's epoch.
pub fn abs_send_time(send_ms: u64) -> [u8; 3] {
    AbsSendTime::from_timestamp(Timestamp::from_millis(send_ms as i64)).to_bytes()
}

/// An inbound packet parsed from `bytes`, as rtc hands it to the chain.
pub fn inbound_rtp(now: Instant, bytes: &[u8]) -> TaggedPacket {
    let packet = rtp::Packet::unmarshal(&mut &bytes[..]).expect("parses");
    TaggedPacket {
        now,
        transport: TransportContext::default(),
        message: AttributedPacket::new(Packet::Rtp(packet)),
    }
}

/// An inbound RTCP datagram parsed from `bytes`.
pub fn inbound_rtcp(now: Instant, bytes: &[u8]) -> TaggedPacket {
    let packets = rtc::rtcp::packet::unmarshal(&mut &bytes[..]).expect("parses");
    TaggedPacket {
        now,
        transport: TransportContext::default(),
        message: AttributedPacket::new(Packet::Rtcp(packets)),
    }
}

/// Runs the chain's timers up to `now`.
pub fn drive(chain: &mut impl Interceptor, now: Instant) {
    for _ in 0..16 {
        match chain.poll_timeout() {
            Some(deadline) if deadline <= now => chain.handle_timeout(now).expect("timeout"),
            _ => break,
        }
    }
}

/// Everything the chain has to send, as `(instant, bytes, is_rtcp)`.
pub fn drain_wire(chain: &mut impl Interceptor) -> Vec<(Instant, Vec<u8>, bool)> {
    let mut out = Vec::new();
    while let Some(pkt) = chain.poll_write() {
        match &pkt.message.packet {
            Packet::Rtp(p) => out.push((pkt.now, p.marshal().expect("marshal").to_vec(), false)),
            Packet::Rtcp(ps) if !ps.is_empty() => out.push((
                pkt.now,
                rtc::rtcp::packet::marshal(ps).expect("marshal").to_vec(),
                true,
            )),
            _ => {}
        }
    }
    out
}

/// The REMBs in RTCP datagrams, parsed back from their bytes.
pub fn rembs_in(
    datagrams: &[(Instant, Vec<u8>, bool)],
) -> Vec<(Instant, ReceiverEstimatedMaximumBitrate)> {
    let mut out = Vec::new();
    for (at, bytes, is_rtcp) in datagrams {
        if !is_rtcp {
            continue;
        }
        for p in rtc::rtcp::packet::unmarshal(&mut &bytes[..]).expect("our RTCP parses") {
            if let Some(remb) = p.as_any().downcast_ref::<ReceiverEstimatedMaximumBitrate>() {
                out.push((*at, remb.clone()));
            }
        }
    }
    out
}

/// Feeds `ssrc` 1000-byte packets every `spacing_ms` over `[from_ms, to_ms)` of send time, each
/// arriving 30 ms later, abs-send-time under `id`; runs timers as time passes and returns what
/// the chain sent.
pub fn feed_stream(
    chain: &mut impl Interceptor,
    base: Instant,
    ssrc: u32,
    id: u8,
    (from_ms, to_ms): (u64, u64),
    spacing_ms: u64,
) -> Vec<(Instant, Vec<u8>, bool)> {
    let mut out = Vec::new();
    for t in (from_ms..to_ms).step_by(spacing_ms as usize) {
        let now = base + Duration::from_millis(t + 30);
        drive(chain, now);
        let ast = abs_send_time(t);
        let bytes = rtp_bytes(ssrc, (t / spacing_ms) as u16, &[(id, &ast)], 1000, false);
        chain.handle_read(inbound_rtp(now, &bytes)).expect("read");
        while chain.poll_read().is_some() {}
        out.extend(drain_wire(chain));
    }
    out
}

/// Runs the chain's timers once at `now`, which also refreshes every component's published
/// counters (they are published on timeouts, REMBs and malformed input, not per packet).
pub fn flush(chain: &mut impl Interceptor, now: Instant) {
    chain.handle_timeout(now).expect("timeout");
}
