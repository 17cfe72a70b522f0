//! Whole chains fed RTCP: the send-side preset (`BweSendSide` behind rtc's congestion
//! controller, TWCC or RFC 8888, with the REMB reader capping it) and the REMB-only preset (the
//! REMB reader driving the controller from REMB and receiver reports). Inputs are arbitrary
//! bytes as rtc parses them, or valid feedback about the packets the chain sent (any arrival
//! times and losses, a REMB, a receiver report) with a few bytes changed.

use std::time::{Duration, Instant};

use bwe_interceptor::{BweHandle, configure_remb_bwe, configure_send_side_bwe};
use rtc::interceptor::{
    AttributedPacket, Interceptor, Packet, RTCPFeedback, RTPHeaderExtension, Registry, StreamInfo,
    TaggedPacket,
};
use rtc::peer_connection::configuration::interceptor_registry::CongestionFeedback;
use rtc::peer_connection::configuration::media_engine::MediaEngine;
use rtc::rtcp::packet::Packet as RtcpPacket;
use rtc::rtcp::payload_feedbacks::receiver_estimated_maximum_bitrate::ReceiverEstimatedMaximumBitrate;
use rtc::rtcp::receiver_report::ReceiverReport;
use rtc::rtcp::reception_report::ReceptionReport;
use rtc::rtcp::transport_feedbacks::cc_feedback_report::{
    CcFeedbackMetricBlock, CcFeedbackReport, CcFeedbackReportBlock, Ecn,
};
use rtc::rtcp::transport_feedbacks::transport_layer_cc::{
    PacketStatusChunk, RecvDelta, RunLengthChunk, StatusChunkTypeTcc, SymbolTypeTcc,
    TransportLayerCc,
};
use rtc::rtp;
use rtc::sansio::Protocol;
use rtc::shared::TransportContext;

use super::input::Input;

/// The SSRC the chain sends media on.
pub const SSRC: u32 = 0xBEEF;
/// The transport-wide sequence number extension id.
pub const TWCC_ID: u8 = 5;
const TWCC_URI: &str = "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

/// Which chain is fed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Preset {
    /// `configure_send_side_bwe` with TWCC.
    SendSideTwcc,
    /// `configure_send_side_bwe` with RFC 8888.
    SendSideRfc8888,
    /// `configure_remb_bwe`.
    Remb,
}

/// One packet the chain sent: its RTP sequence number and transport-wide sequence number.
#[derive(Debug, Clone, Copy)]
struct Sent {
    seq: u16,
    transport: Option<u16>,
}

fn stream() -> StreamInfo {
    StreamInfo {
        ssrc: SSRC,
        clock_rate: 90_000,
        mime_type: "video/VP8".to_owned(),
        payload_type: 96,
        rtp_header_extensions: vec![RTPHeaderExtension {
            uri: TWCC_URI.to_owned(),
            id: u16::from(TWCC_ID),
        }],
        rtcp_feedback: vec![
            RTCPFeedback {
                typ: "transport-cc".to_owned(),
                parameter: String::new(),
            },
            RTCPFeedback {
                typ: "ack".to_owned(),
                parameter: "ccfb".to_owned(),
            },
        ],
        ..StreamInfo::default()
    }
}

fn media(now: Instant, seq: u16) -> TaggedPacket {
    TaggedPacket {
        now,
        transport: TransportContext::default(),
        message: AttributedPacket::new(Packet::Rtp(rtp::Packet {
            header: rtp::header::Header {
                version: 2,
                payload_type: 96,
                sequence_number: seq,
                timestamp: u32::from(seq).wrapping_mul(3_000),
                ssrc: SSRC,
                ..Default::default()
            },
            payload: vec![0x5A; 1_000].into(),
        })),
    }
}

/// Runs the chain's timers up to `now` and collects the media it sends.
fn drive(chain: &mut impl Interceptor, now: Instant, sent: &mut Vec<Sent>) {
    for _ in 0..32 {
        match chain.poll_timeout() {
            Some(deadline) if deadline <= now => {
                chain.handle_timeout(now).expect("timeouts never fail");
            }
            _ => break,
        }
        drain(chain, sent);
    }
    drain(chain, sent);
}

fn drain(chain: &mut impl Interceptor, sent: &mut Vec<Sent>) {
    while let Some(out) = chain.poll_write() {
        match &out.message.packet {
            Packet::Rtp(p) => sent.push(Sent {
                seq: p.header.sequence_number,
                transport: p
                    .header
                    .get_extension(TWCC_ID)
                    .filter(|e| e.len() == 2)
                    .map(|e| u16::from_be_bytes([e[0], e[1]])),
            }),
            Packet::Rtcp(rtcp) => {
                rtc::rtcp::packet::marshal(rtcp).expect("RTCP the chain sends marshals");
            }
            _ => {}
        }
    }
}

/// A TWCC report on `sent`: per packet, 0 from the input is "lost", else an arrival delta.
fn twcc(input: &mut Input<'_>, sent: &[Sent]) -> Option<Box<dyn RtcpPacket>> {
    let first = sent.first()?.transport?;
    let count = u16::try_from(sent.len()).ok()?;
    let mut chunks = Vec::new();
    let mut deltas = Vec::new();
    for _ in sent {
        let b = input.u8();
        let symbol = match b {
            0 => SymbolTypeTcc::PacketNotReceived,
            1..=0xBF => {
                deltas.push(RecvDelta {
                    type_tcc_packet: SymbolTypeTcc::PacketReceivedSmallDelta,
                    delta: i64::from(b) * 250,
                });
                SymbolTypeTcc::PacketReceivedSmallDelta
            }
            _ => {
                deltas.push(RecvDelta {
                    type_tcc_packet: SymbolTypeTcc::PacketReceivedLargeDelta,
                    delta: i64::from(input.u16() as i16) * 250,
                });
                SymbolTypeTcc::PacketReceivedLargeDelta
            }
        };
        chunks.push(PacketStatusChunk::RunLengthChunk(RunLengthChunk {
            type_tcc: StatusChunkTypeTcc::RunLengthChunk,
            packet_status_symbol: symbol,
            run_length: 1,
        }));
    }
    Some(Box::new(TransportLayerCc {
        sender_ssrc: 1,
        media_ssrc: SSRC,
        base_sequence_number: first,
        packet_status_count: count,
        reference_time: u32::from(input.u16()),
        fb_pkt_count: input.u8(),
        packet_chunks: chunks,
        recv_deltas: deltas,
    }))
}

/// An RFC 8888 report on `sent`: per packet, 0 from the input is "lost", else an offset.
fn ccfb(input: &mut Input<'_>, sent: &[Sent]) -> Option<Box<dyn RtcpPacket>> {
    let first = sent.first()?.seq;
    let metric_blocks = sent
        .iter()
        .map(|_| {
            let offset = input.u16();
            CcFeedbackMetricBlock {
                received: offset != 0,
                ecn: Ecn::NotEct,
                arrival_time_offset: offset & 0x1FFF,
            }
        })
        .collect();
    Some(Box::new(CcFeedbackReport {
        sender_ssrc: 1,
        report_blocks: vec![CcFeedbackReportBlock {
            media_ssrc: SSRC,
            begin_sequence: first,
            metric_blocks,
        }],
        report_timestamp: input.u32(),
    }))
}

/// Valid RTCP about what was sent, chosen by `kind`: transport feedback, a REMB (any bit
/// pattern as its rate), a receiver report; then a few bytes changed.
fn mutated_valid(
    input: &mut Input<'_>,
    kind: u8,
    preset: Preset,
    sent: &[Sent],
) -> Option<Vec<u8>> {
    let mut packets: Vec<Box<dyn RtcpPacket>> = Vec::new();
    if kind & 0x04 != 0 {
        let rr = ReceptionReport {
            ssrc: SSRC,
            fraction_lost: input.u8(),
            total_lost: input.u32() & 0x00FF_FFFF,
            last_sequence_number: input.u32(),
            jitter: input.u32(),
            last_sender_report: input.u32(),
            delay: input.u32(),
        };
        packets.push(Box::new(ReceiverReport {
            ssrc: 1,
            reports: vec![rr],
            ..Default::default()
        }));
    }
    if kind & 0x08 != 0 {
        packets.push(Box::new(ReceiverEstimatedMaximumBitrate {
            sender_ssrc: 1,
            bitrate: f32::from_bits(input.u32()),
            ssrcs: vec![SSRC],
        }));
    }
    if kind & 0x10 != 0 {
        let feedback = match preset {
            Preset::SendSideTwcc => twcc(input, sent),
            Preset::SendSideRfc8888 => ccfb(input, sent),
            Preset::Remb => None,
        };
        packets.extend(feedback);
    }
    let mut bytes = rtc::rtcp::packet::marshal(&packets).ok()?.to_vec();
    for _ in 0..input.u8() % 4 {
        let at = usize::from(input.u16());
        let xor = input.u8();
        let len = bytes.len().max(1);
        if let Some(b) = bytes.get_mut(at % len) {
            *b ^= xor;
        }
    }
    Some(bytes)
}

/// REMB messages in what rtc parsed, in compounds too.
fn rembs(packets: &[Box<dyn RtcpPacket>]) -> u64 {
    packets
        .iter()
        .map(|p| {
            let any = p.as_any();
            if any.is::<ReceiverEstimatedMaximumBitrate>() {
                1
            } else if let Some(c) = any.downcast_ref::<rtc::rtcp::compound_packet::CompoundPacket>()
            {
                rembs(&c.0)
            } else {
                0
            }
        })
        .sum()
}

fn build(preset: Preset) -> (impl Interceptor, BweHandle) {
    let mut engine = MediaEngine::default();
    engine
        .register_default_codecs()
        .expect("the default codecs register");
    let (registry, handle) = match preset {
        Preset::SendSideTwcc => {
            configure_send_side_bwe(Registry::new(), &mut engine, CongestionFeedback::Twcc)
        }
        Preset::SendSideRfc8888 => {
            configure_send_side_bwe(Registry::new(), &mut engine, CongestionFeedback::Rfc8888)
        }
        Preset::Remb => configure_remb_bwe(Registry::new(), &mut engine),
    }
    .expect("the preset configures");
    (registry.build(), handle)
}

/// Sends media through the `preset` chain and feeds it the RTCP datagrams the input describes.
/// Checks that no datagram is duplicated on its way in, that every REMB is counted as
/// valid or invalid, that the target never exceeds the last valid REMB, and that the send-side
/// counters add up.
pub fn chain_fed_rtcp(preset: Preset, data: &[u8]) {
    let (mut chain, handle) = build(preset);
    chain.bind_local_stream(&stream());
    let mut input = Input::new(data);
    let start = Instant::now();
    let mut now = start;
    let mut sent = Vec::new();
    let mut next_seq = 0u16;
    let mut delivered_rembs = 0u64;
    while !input.is_empty() {
        let kind = input.u8();
        // Media: up to three packets, then time passes and the pacer sends.
        for _ in 0..kind & 3 {
            chain
                .handle_write(media(now, next_seq))
                .expect("writes never fail");
            next_seq = next_seq.wrapping_add(1);
        }
        now += Duration::from_micros(u64::from(input.u16()) * 16);
        let mut body = input.frame();
        drive(&mut chain, now, &mut sent);
        let bytes = if kind & 0x80 == 0 {
            body.rest().to_vec()
        } else {
            // At most one feedback message's worth of the latest packets.
            let recent = &sent[sent.len().saturating_sub(64)..];
            match mutated_valid(&mut body, kind, preset, recent) {
                Some(bytes) => bytes,
                None => continue,
            }
        };
        let Ok(packets) = rtc::rtcp::packet::unmarshal(&mut &bytes[..]) else {
            continue;
        };
        delivered_rembs += rembs(&packets);
        chain
            .handle_read(TaggedPacket {
                now,
                transport: TransportContext::default(),
                message: AttributedPacket::new(Packet::Rtcp(packets)),
            })
            .expect("reads never fail");
        // rtc's registry ends the inbound RTCP path at its terminus: nothing, or the datagram
        // once, comes out.
        let mut out = 0;
        while let Some(p) = chain.poll_read() {
            assert!(
                matches!(p.message.packet, Packet::Rtcp(_)),
                "RTCP in, RTCP out"
            );
            out += 1;
        }
        assert!(out <= 1, "the datagram came out {out} times");
        drain(&mut chain, &mut sent);

        let snapshot = handle.snapshot();
        let reader = snapshot.remb_sender.expect("the REMB reader publishes");
        assert_eq!(
            reader.rembs_received + reader.invalid_rembs,
            delivered_rembs,
            "REMBs neither used nor counted invalid"
        );
        if let (Some(target), Some(cap)) = (snapshot.target, reader.remb_cap) {
            assert!(target <= cap, "target {target} above the REMB cap {cap}");
        }
        if let Some(s) = snapshot.send_side {
            assert!(
                s.reports_without_arrival_time + s.reports_unknown <= s.reports,
                "more reports left out than received: {s:?}"
            );
            assert!(s.rfc8888_reports <= s.reports);
        }
    }
}
