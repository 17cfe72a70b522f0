//! One local stream as the send side sees it: the transport-wide extension id it negotiated,
//! its renumbering ([`SequenceMap`]) so that probe padding has room in its sequence space, the
//! padding packets themselves, and NACKs translated back to the numbers the application's NACK
//! responder keeps.
//!
//! # Padding packets
//!
//! RFC 3550 padding-only packets on the media SSRC: the P bit set, no payload, the stream's
//! payload type and the timestamp of its newest media packet (as libwebrtc does), and the next
//! wire sequence number. rtp 0.17 derives the padding length from the payload length (1–4
//! bytes; 4 for an empty payload) with no way to ask for more, so the packet is brought to size
//! with a *filler header extension*: up to [`FILLER_ELEMENTS`] RFC 8285 two-byte elements of
//! zeros under ids the stream did not negotiate, which receivers ignore. A receiver parses the
//! packet as padding-only; the send side stamps it with a transport-wide number like media, so
//! feedback measures it. libwebrtc fills probes with RTX copies of recent media instead; webrtc
//! 0.17 negotiates no RTX and its NACK responder resends on the media SSRC, so there is no RTX
//! stream to put them on.

use bwe_core::pacer::SequenceMap;
use bytes::Bytes;
use interceptor::stream_info::StreamInfo;
use webrtc::rtcp::transport_feedbacks::transport_layer_nack::{
    TransportLayerNack, nack_pairs_from_sequence_numbers,
};
use webrtc::rtp::header::Header;
use webrtc::rtp::packet::Packet as RtpPacket;
use webrtc_util::marshal::MarshalSize;

use crate::extension_id::negotiated_id;

/// The transport-wide sequence number extension's URI.
pub const TRANSPORT_CC_URI: &str =
    "http://www.ietf.org/id/draft-holmer-rmcat-transport-wide-cc-extensions-01";

use bwe_core::pacer::filler::{FILLER, TWO_BYTE_PROFILE, filler_elements, filler_ids};
pub use bwe_core::pacer::filler::{FILLER_ELEMENTS, MAX_FILLER};

/// A local stream; see the module docs.
#[derive(Debug)]
pub struct PacedStream {
    /// Its SSRC.
    pub ssrc: u32,
    /// The transport-wide sequence number extension's id, if negotiated.
    pub twcc_id: Option<u8>,
    /// Application numbers to wire numbers.
    pub map: SequenceMap,
    payload_type: u8,
    last_timestamp: Option<u32>,
    filler_ids: [u8; FILLER_ELEMENTS],
}

impl PacedStream {
    /// The stream `info` describes.
    pub fn new(info: &StreamInfo) -> Self {
        let filler_ids = filler_ids(|id| {
            info.rtp_header_extensions
                .iter()
                .any(|e| e.id == isize::from(id))
        });
        Self {
            ssrc: info.ssrc,
            twcc_id: negotiated_id(info, TRANSPORT_CC_URI),
            map: SequenceMap::new(),
            payload_type: info.payload_type,
            last_timestamp: None,
            filler_ids,
        }
    }

    /// Gives a media packet (first transmission or resend) its wire number.
    pub fn on_media(&mut self, packet: &mut RtpPacket) {
        let seq = packet.header.sequence_number;
        let newest = self.map.is_newest(seq);
        packet.header.sequence_number = self.map.on_media(seq);
        if newest {
            self.last_timestamp = Some(packet.header.timestamp);
        }
    }

    /// A padding-only packet of about `size` bytes with the next wire number; `None` before
    /// the stream sent media (there is no timestamp to give it).
    pub fn padding(&mut self, size: usize) -> Option<RtpPacket> {
        let timestamp = self.last_timestamp?;
        let sequence_number = self.map.take_padding()?;
        let mut header = Header {
            version: 2,
            padding: true,
            payload_type: self.payload_type,
            sequence_number,
            timestamp,
            ssrc: self.ssrc,
            extension: true,
            extension_profile: TWO_BYTE_PROFILE,
            ..Header::default()
        };
        for (id, element) in filler_elements(&self.filler_ids, size) {
            // Cannot fail: the profile is two-byte, the id non-zero, the element ≤ 255 bytes.
            let _ = header.set_extension(id, Bytes::from_static(&FILLER[..element]));
        }
        Some(RtpPacket {
            header,
            payload: Bytes::new(),
        })
    }

    /// `nack` with wire numbers turned back into application numbers (padding dropped);
    /// `None` while nothing was renumbered.
    pub fn translate_nack(&self, nack: &TransportLayerNack) -> Option<TransportLayerNack> {
        if !self.map.is_renumbered() {
            return None;
        }
        let mut sequences = Vec::new();
        for pair in &nack.nacks {
            sequences.extend(
                pair.packet_list()
                    .into_iter()
                    .filter_map(|s| self.map.app_seq_of(s)),
            );
        }
        Some(TransportLayerNack {
            sender_ssrc: nack.sender_ssrc,
            media_ssrc: nack.media_ssrc,
            nacks: nack_pairs_from_sequence_numbers(&sequences),
        })
    }
}

/// A media packet of stream `ssrc` (payload type 96, 90 kHz at 30 frames a second) with
/// `payload` bytes, for tests.
#[cfg(test)]
pub(crate) fn test_media(ssrc: u32, seq: u16, payload: usize) -> RtpPacket {
    RtpPacket {
        header: Header {
            version: 2,
            payload_type: 96,
            sequence_number: seq,
            timestamp: 3_000 * u32::from(seq),
            ssrc,
            ..Header::default()
        },
        payload: vec![1u8; payload].into(),
    }
}

/// A packet's size as marshalled (header, extensions, payload, padding).
pub fn wire_size(packet: &RtpPacket) -> usize {
    packet.marshal_size()
}

#[cfg(test)]
mod tests {
    use super::*;
    use interceptor::stream_info::RTPHeaderExtension;
    use webrtc::rtcp::transport_feedbacks::transport_layer_nack::NackPair;
    use webrtc_util::marshal::{Marshal, Unmarshal};

    fn info() -> StreamInfo {
        StreamInfo {
            ssrc: 9,
            payload_type: 96,
            rtp_header_extensions: vec![RTPHeaderExtension {
                uri: TRANSPORT_CC_URI.to_owned(),
                id: 255,
            }],
            ..StreamInfo::default()
        }
    }

    fn media(seq: u16) -> RtpPacket {
        test_media(9, seq, 100)
    }

    /// A receiver parses padding as padding-only, of the size asked, in sequence, with no
    /// filler under a negotiated id.
    #[test]
    fn padding_parses_as_padding_only_with_the_next_sequence_number() {
        let mut stream = PacedStream::new(&info());
        assert_eq!(stream.twcc_id, Some(255));
        assert!(stream.padding(200).is_none(), "no media sent yet");
        let mut m = media(41);
        stream.on_media(&mut m);
        let pad = stream.padding(200).expect("after media");
        assert!(!pad.header.get_extension_ids().contains(&255));
        let bytes = pad.marshal().expect("marshals");
        assert!((196..=204).contains(&bytes.len()), "{}", bytes.len());
        let parsed = RtpPacket::unmarshal(&mut &bytes[..]).expect("parses");
        assert!(parsed.header.padding);
        assert!(parsed.payload.is_empty(), "padding only");
        assert_eq!(parsed.header.sequence_number, 42);
        assert_eq!(parsed.header.timestamp, 3_000 * 41);
        let mut next = media(42);
        stream.on_media(&mut next);
        assert_eq!(next.header.sequence_number, 43);
        for asked in 0..=1_200 {
            let pad = stream.padding(asked).expect("after media");
            let bytes = pad.marshal().expect("marshals");
            assert!(bytes.len() <= 1_060, "asked {asked}: {}", bytes.len());
            if (300..=1_000).contains(&asked) {
                assert!(
                    bytes.len().abs_diff(asked) <= 8,
                    "asked {asked}: {}",
                    bytes.len()
                );
            }
            let parsed = RtpPacket::unmarshal(&mut &bytes[..]).expect("parses");
            assert!(parsed.payload.is_empty(), "asked {asked}");
        }
    }

    /// After padding, NACKs name application numbers again; padding is never asked for.
    #[test]
    fn nacks_follow_the_renumbering() {
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
        // A resend of application number 2 leaves with the wire number it first had.
        let mut resend = media(2);
        stream.on_media(&mut resend);
        assert_eq!(resend.header.sequence_number, 3);
    }
}
