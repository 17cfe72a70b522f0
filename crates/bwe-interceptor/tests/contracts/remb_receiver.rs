//! The REMB generator (`RembInterceptor`) fed RTP: whatever rtc parses reaches the application
//! unchanged, and every packet is either fed to the estimator or counted under the reason it was
//! skipped.

use std::time::{Duration, Instant};

use bwe_interceptor::ABS_SEND_TIME_URI;
use bwe_interceptor::remb::receiver::{RembConfig, RembInterceptor};
use rtc::interceptor::{
    Attribute, AttributedPacket, Interceptor, Packet, RTPHeaderExtension, StreamInfo, TaggedPacket,
};
use rtc::rtp;
use rtc::sansio::Protocol;
use rtc::shared::TransportContext;
use rtc::shared::marshal::{Marshal, Unmarshal};

use super::input::Input;

/// A stream with abs-send-time negotiated under [`EXTENSION_ID`], repaired by [`RTX`].
pub const MEDIA: u32 = 0x1111;
/// A stream bound without abs-send-time.
pub const PLAIN: u32 = 0x2222;
/// The RTX stream of [`MEDIA`].
pub const RTX: u32 = 0x3333;
/// A stream never bound.
pub const UNBOUND: u32 = 0x4444;
/// The abs-send-time id [`MEDIA`] negotiated.
pub const EXTENSION_ID: u8 = 3;

fn stream(ssrc: u32, abs_send_time: bool, rtx: Option<u32>) -> StreamInfo {
    StreamInfo {
        ssrc,
        ssrc_rtx: rtx,
        clock_rate: 90_000,
        mime_type: "video/VP8".to_owned(),
        payload_type: 96,
        rtp_header_extensions: abs_send_time
            .then(|| RTPHeaderExtension {
                uri: ABS_SEND_TIME_URI.to_owned(),
                id: u16::from(EXTENSION_ID),
            })
            .into_iter()
            .collect(),
        ..StreamInfo::default()
    }
}

/// An RTP packet built from the input: one of the four kinds of stream (or any SSRC), up to two
/// header extensions with any id and payload in either form, marshalled and parsed back by rtc.
fn structured(input: &mut Input<'_>, kind: u8) -> Option<rtp::Packet> {
    let ssrc = match (kind >> 2) % 5 {
        0 => MEDIA,
        1 => PLAIN,
        2 => RTX,
        3 => UNBOUND,
        _ => input.u32(),
    };
    let two_byte = kind & 0x20 != 0;
    let mut header = rtp::header::Header {
        version: 2,
        payload_type: 96,
        sequence_number: input.u16(),
        timestamp: input.u32(),
        ssrc,
        ..Default::default()
    };
    let extensions = input.u8() % 3;
    if extensions > 0 {
        header.extension = true;
        header.extension_profile = if two_byte { 0x1000 } else { 0xBEDE };
    }
    for _ in 0..extensions {
        // Mostly the negotiated id, so that the payload is what gets parsed.
        let id = match input.u8() {
            b if b < 192 => EXTENSION_ID,
            b => b & 0x0F,
        };
        // The one-byte form cannot carry an empty payload (and rtc-rtp 0.21.1 panics writing
        // one that `set_extension` accepted).
        let len = if two_byte {
            usize::from(input.u8() % 32)
        } else {
            1 + usize::from(input.u8() % 16)
        };
        let mut payload = input.take(len).to_vec();
        payload.resize(len, 0);
        // rtc refuses ids and lengths its form cannot carry; such a packet is never sent.
        header.set_extension(id, payload.into()).ok()?;
    }
    let payload_len = usize::from(input.u8()) * 4;
    let packet = rtp::Packet {
        header,
        payload: vec![0x5A; payload_len].into(),
    };
    let bytes = packet.marshal().ok()?;
    rtp::Packet::unmarshal(&mut &bytes[..]).ok()
}

/// Feeds the generator the packets and timer expiries the input describes; checks that each
/// packet comes out of the read side unchanged, that every REMB it writes marshals, that it
/// never asks to be woken in the past, and that its counters account for every packet.
pub fn remb_receiver(data: &[u8]) {
    let mut remb = RembInterceptor::new(RembConfig::default()).expect("the default config");
    remb.bind_remote_stream(&stream(MEDIA, true, Some(RTX)));
    remb.bind_remote_stream(&stream(PLAIN, false, None));
    let mut input = Input::new(data);
    let mut now = Instant::now();
    let mut packets = 0u64;
    while !input.is_empty() {
        let kind = input.u8();
        now += Duration::from_micros(u64::from(input.u16()) * 8);
        let mut body = input.frame();
        let packet = match kind & 3 {
            // Any bytes, as far as rtc parses them.
            0 => rtp::Packet::unmarshal(&mut body.rest()).ok(),
            1 | 2 => structured(&mut body, kind),
            _ => {
                remb.handle_timeout(now).expect("timeouts never fail");
                None
            }
        };
        if let Some(mut packet) = packet {
            if kind & 0x40 != 0 {
                // A header only a broken stack would hand on; rtc's parser does not check it.
                packet.header.version = kind >> 6;
            }
            let mut message = AttributedPacket::new(Packet::Rtp(packet.clone()));
            if kind & 0x80 != 0 {
                message.add(Attribute::RecoveredByFec);
            }
            remb.handle_read(TaggedPacket {
                now,
                transport: TransportContext::default(),
                message,
            })
            .expect("reads never fail");
            packets += 1;
            let out = remb.poll_read().expect("every packet is passed on");
            assert!(
                matches!(&out.message.packet, Packet::Rtp(p) if *p == packet),
                "the packet was changed"
            );
            assert!(remb.poll_read().is_none(), "one packet in, one out");
        }
        while let Some(out) = remb.poll_write() {
            let Packet::Rtcp(rtcp) = &out.message.packet else {
                panic!("the generator wrote media");
            };
            rtc::rtcp::packet::marshal(rtcp).expect("a REMB we send marshals");
        }
        if kind & 3 == 3 {
            let deadline = remb.poll_timeout();
            assert!(
                deadline.is_none_or(|d| d > now),
                "asks to be woken at {deadline:?} after a timeout at {now:?}"
            );
        }
    }
    let s = remb.stats();
    assert_eq!(s.rtp_packets, packets);
    let accounted = s.fed
        + s.malformed_rtp
        + s.malformed_extension
        + s.missing_extension
        + s.not_negotiated
        + s.unbound
        + s.recovered_by_fec;
    assert_eq!(
        accounted, packets,
        "packets neither fed nor counted skipped: {s:?}"
    );
}
