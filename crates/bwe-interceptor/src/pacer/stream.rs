//! One local stream as the pacer sees it: its renumbering, what a padding packet on it looks
//! like, and the translations renumbering calls for (NACKs in, RTX original sequence numbers
//! out).
//!
//! # Padding packets
//!
//! RFC 3550 padding-only packets on the media SSRC: the P bit set, no payload, the stream's
//! payload type and the timestamp of its newest media packet (as libwebrtc does), and the next
//! wire sequence number ([`SequenceMap`]), brought to size with a filler header extension (see
//! [`bwe_core::pacer::filler`]: rtc-rtp 0.21 derives the padding length from the payload
//! length and offers no way to ask for more). A receiver parses the packet as padding-only
//! (empty payload after the 4 padding bytes are stripped); the TWCC sender stamps it like any
//! other packet.
//!
//! The largest padding packet is about 1 050 bytes, not libwebrtc's 224-byte padding-only
//! packet (`kMaxPaddingLength`): libwebrtc fills probes with RTX copies of recent media, full
//! size, which rtc 0.21 cannot number for TWCC. Size matters because the estimator counts RTP
//! bytes while the bottleneck also carries each packet's UDP/IP headers and SRTP tag (38
//! bytes): with 250-byte packets a probe's measured rate came out about 15 % under the link's
//! (2.0 Mbit/s results on a 2.5 Mbit/s link), with 1 000-byte packets as with media, 4 %.

use bytes::Bytes;
use rtc::interceptor::StreamInfo;
use rtc::rtcp::transport_feedbacks::transport_layer_nack::{
    TransportLayerNack, nack_pairs_from_sequence_numbers,
};
use rtc::rtp;
use rtc::shared::marshal::MarshalSize;

use bwe_core::pacer::SequenceMap;

use bwe_core::pacer::filler::{
    FILLER, FILLER_ELEMENTS, TWO_BYTE_PROFILE, filler_elements, filler_ids,
};

/// A bound local stream.
#[derive(Debug)]
pub struct PacedStream {
    pub ssrc: u32,
    pub rtx_ssrc: Option<u32>,
    pub map: SequenceMap,
    payload_type: u8,
    /// The newest media packet's timestamp, once one was sent.
    last_timestamp: Option<u32>,
    /// Extension ids the stream did not negotiate, for the filler.
    filler_ids: [u8; FILLER_ELEMENTS],
}

impl PacedStream {
    pub fn new(info: &StreamInfo) -> Self {
        let filler_ids = filler_ids(|id| {
            info.rtp_header_extensions
                .iter()
                .any(|e| e.id == u16::from(id))
        });
        Self {
            ssrc: info.ssrc,
            rtx_ssrc: info.ssrc_rtx,
            map: SequenceMap::new(),
            payload_type: info.payload_type,
            last_timestamp: None,
            filler_ids,
        }
    }

    /// Renumbers a media packet (first transmission or retransmission) on this stream.
    pub fn on_media(&mut self, packet: &mut rtp::Packet) {
        let seq = packet.header.sequence_number;
        let newest = self.map.is_newest(seq);
        packet.header.sequence_number = self.map.on_media(seq);
        if newest {
            self.last_timestamp = Some(packet.header.timestamp);
        }
    }

    /// Rewrites the original sequence number an RTX packet carries to the one the media packet
    /// left with. Allocates a new payload, but only on retransmissions after padding was sent.
    pub fn on_rtx(&self, packet: &mut rtp::Packet) {
        if !self.map.is_renumbered() || packet.payload.len() < 2 {
            return;
        }
        let osn = u16::from_be_bytes([packet.payload[0], packet.payload[1]]);
        let wire = self.map.to_wire(osn);
        if wire == osn {
            return;
        }
        let mut payload = packet.payload.to_vec();
        payload[..2].copy_from_slice(&wire.to_be_bytes());
        packet.payload = payload.into();
    }

    /// A padding-only packet of about `size` bytes (before the TWCC extension is added), or
    /// `None` before this stream has sent media.
    pub fn padding(&mut self, size: usize) -> Option<rtp::Packet> {
        let timestamp = self.last_timestamp?;
        let sequence_number = self.map.take_padding()?;
        let mut header = rtp::header::Header {
            version: 2,
            padding: true,
            payload_type: self.payload_type,
            sequence_number,
            timestamp,
            ssrc: self.ssrc,
            ..Default::default()
        };
        header.extension = true;
        header.extension_profile = TWO_BYTE_PROFILE;
        for (id, element) in filler_elements(&self.filler_ids, size) {
            // Cannot fail: the profile is two-byte, the id non-zero and the element ≤ 255
            // bytes.
            let _ = header.set_extension(id, Bytes::from_static(&FILLER[..element]));
        }
        Some(rtp::Packet {
            header,
            payload: Bytes::new(),
        })
    }

    /// A NACK naming wire numbers, rewritten to the application numbers the NACK responder
    /// keeps; padding packets are left out (never retransmitted). `None` when nothing changes.
    pub fn translate_nack(&self, nack: &TransportLayerNack) -> Option<TransportLayerNack> {
        if !self.map.is_renumbered() {
            return None;
        }
        let mut sequences = Vec::new();
        for pair in &nack.nacks {
            sequences.extend(pair.into_iter().filter_map(|s| self.map.app_seq_of(s)));
        }
        Some(TransportLayerNack {
            sender_ssrc: nack.sender_ssrc,
            media_ssrc: nack.media_ssrc,
            nacks: nack_pairs_from_sequence_numbers(&sequences),
        })
    }
}

/// The application sequence number a retransmission repeats: an RTX packet's original
/// sequence number (RFC 4588), a media-SSRC retransmission's own number.
pub fn retransmitted_seq(packet: &rtp::Packet, rtx: bool) -> Option<u16> {
    if !rtx {
        return Some(packet.header.sequence_number);
    }
    (packet.payload.len() >= 2).then(|| u16::from_be_bytes([packet.payload[0], packet.payload[1]]))
}

/// Bytes a packet takes on the wire before SRTP.
pub fn wire_size(packet: &rtp::Packet) -> usize {
    packet.marshal_size()
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc::rtcp::transport_feedbacks::transport_layer_nack::NackPair;
    use rtc::shared::marshal::{Marshal, Unmarshal};

    fn info() -> StreamInfo {
        StreamInfo {
            ssrc: 9,
            payload_type: 96,
            ssrc_rtx: Some(10),
            ..StreamInfo::default()
        }
    }

    fn media(seq: u16) -> rtp::Packet {
        rtp::Packet {
            header: rtp::header::Header {
                version: 2,
                payload_type: 96,
                sequence_number: seq,
                timestamp: 3_000 * u32::from(seq),
                ssrc: 9,
                ..Default::default()
            },
            payload: vec![1u8; 100].into(),
        }
    }

    /// What a receiver parses must be a padding-only packet of the size asked for, in sequence.
    #[test]
    fn padding_parses_as_padding_only_with_the_next_sequence_number() {
        let mut stream = PacedStream::new(&info());
        assert!(stream.padding(200).is_none(), "no media sent yet");
        let mut m = media(41);
        stream.on_media(&mut m);
        let pad = stream.padding(200).expect("after media");
        let bytes = pad.marshal().expect("marshals");
        assert!((196..=204).contains(&bytes.len()), "{}", bytes.len());
        let parsed = rtp::Packet::unmarshal(&mut &bytes[..]).expect("parses");
        assert!(parsed.header.padding);
        assert!(parsed.payload.is_empty(), "padding only");
        assert_eq!(parsed.header.sequence_number, 42);
        assert_eq!(parsed.header.timestamp, 3_000 * 41);
        let mut next = media(42);
        stream.on_media(&mut next);
        assert_eq!(next.header.sequence_number, 43);
        for asked in [300, 700, 1_000] {
            let pad = stream.padding(asked).expect("after media");
            let bytes = pad.marshal().expect("marshals");
            assert!(
                bytes.len().abs_diff(asked) <= 8,
                "asked {asked}, got {}",
                bytes.len()
            );
            let parsed = rtp::Packet::unmarshal(&mut &bytes[..]).expect("parses");
            assert!(parsed.payload.is_empty(), "padding only at {asked}");
        }
        let big = stream.padding(5_000).expect("after media");
        assert!(
            (1_000..=1_060).contains(&wire_size(&big)),
            "{}",
            wire_size(&big)
        );
    }

    /// Whatever size the pacer asks for, a padding packet is built, never larger than the
    /// filler allows, and parses back as padding-only.
    #[test]
    fn any_padding_size_builds_a_padding_only_packet() {
        let mut stream = PacedStream::new(&info());
        stream.on_media(&mut media(1));
        for asked in 0..=1_200 {
            let pad = stream.padding(asked).expect("after media");
            let bytes = pad.marshal().expect("marshals");
            assert!(bytes.len() <= 1_060, "asked {asked}: {}", bytes.len());
            let parsed = rtp::Packet::unmarshal(&mut &bytes[..]).expect("parses");
            assert!(parsed.payload.is_empty(), "asked {asked}");
        }
    }

    /// After padding, NACKs and RTX original sequence numbers are translated both ways.
    #[test]
    fn nacks_and_rtx_follow_the_renumbering() {
        let mut stream = PacedStream::new(&info());
        stream.on_media(&mut media(1));
        let nack = TransportLayerNack {
            sender_ssrc: 1,
            media_ssrc: 9,
            nacks: vec![NackPair::new(2)],
        };
        assert!(stream.translate_nack(&nack).is_none(), "nothing renumbered");
        stream.padding(100).expect("after media");
        stream.on_media(&mut media(2));
        let nack = TransportLayerNack {
            nacks: nack_pairs_from_sequence_numbers(&[1, 2, 3]),
            ..nack
        };
        let out = stream.translate_nack(&nack).expect("renumbered");
        let seqs: Vec<u16> = out.nacks.iter().flat_map(|p| p.packet_list()).collect();
        assert_eq!(seqs, vec![1, 2], "wire 2 is padding, wire 3 is media 2");
        let mut rtx = rtp::Packet {
            header: rtp::header::Header {
                ssrc: 10,
                ..Default::default()
            },
            payload: vec![0, 2, 0xAA].into(),
        };
        stream.on_rtx(&mut rtx);
        assert_eq!(&rtx.payload[..], &[0, 3, 0xAA]);
    }
}
