//! [`PacketTap`]: records every RTP and RTCP packet crossing the chain's wire end, in plaintext,
//! for the application to take from a [`TapHandle`] (and write as a pcap, say).
//!
//! On the wire SRTP and SRTCP hide everything a congestion controller is judged by: header
//! extensions (abs-send-time, the transport-wide sequence number), REMB and TWCC feedback. A
//! capture of the UDP datagrams shows sizes and times, not meaning. The chain is where the
//! packets are plaintext, so this interceptor sits **wire-most** ([`TAP_SLOT`]): on the write
//! walk it is the last to see a packet, after the pacer released it and every header extension
//! was stamped; on the read walk the first, before anything acted on it. What it records is what
//! SRTP is handed to encrypt and what SRTP decrypted, each with the `now` it carried.
//!
//! - **RTP**: the marshalled header with its extensions; **the payload is omitted**. A record
//!   keeps the packet's whole marshalled length ([`TapRecord::len`]: header, payload, padding)
//!   so a pcap written from it shows the packet as cut by the capture (`tcpdump -s`), not as a
//!   short packet. Media bytes say nothing about bandwidth estimation and would make the tap as
//!   large as the call.
//! - **RTCP**: the whole compound packet, marshalled. An empty compound is rtc's attribute
//!   carrier, which never reaches the wire, and is not recorded.
//!
//! The tap is off by default: it is in a chain only when one is built with it
//! ([`crate::BweChainConfig::tap`], or added by hand at [`TAP_SLOT`]), and then costs one
//! allocation and one uncontended lock per packet. It does no I/O and reads no clock; records
//! accumulate in memory until [`TapHandle::take`].

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Instant;

use rtc::interceptor::{Interceptor, Packet, Slot, StreamInfo, TaggedPacket};
use rtc::sansio::Protocol;
use rtc::shared::error::Error;
use rtc::shared::marshal::{Marshal, MarshalSize};

/// Below every other slot ([`crate::RTCP_ORDER_SLOT`] is 100), so the tap sees each outgoing
/// packet last and each incoming one first.
pub const TAP_SLOT: Slot = Slot::Custom(50);

/// Which walk a packet was on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TapDirection {
    /// Arriving from the remote (the read walk).
    Inbound,
    /// Leaving for the remote (the write walk).
    Outbound,
}

/// What a record holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TapKind {
    /// An RTP packet: its header with extensions, no payload.
    Rtp,
    /// An RTCP compound packet, whole.
    Rtcp,
}

/// One packet the tap saw.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TapRecord {
    /// The instant the chain was handed the packet with.
    pub now: Instant,
    /// Inbound or outbound.
    pub direction: TapDirection,
    /// RTP or RTCP.
    pub kind: TapKind,
    /// RTP: the marshalled header, extensions included. RTCP: the marshalled compound packet.
    pub bytes: Vec<u8>,
    /// The whole packet's marshalled length: for RTCP `bytes.len()`; for RTP the header, the
    /// payload and its padding.
    pub len: usize,
}

/// The application's side of a [`PacketTap`]: cloneable, shared with the interceptor.
#[derive(Clone, Debug, Default)]
pub struct TapHandle {
    records: Arc<Mutex<Vec<TapRecord>>>,
}

impl TapHandle {
    /// A handle with no records, to build a [`PacketTap`] with.
    pub fn new() -> Self {
        Self::default()
    }

    /// Takes every record so far, in the order the tap saw them, leaving none.
    pub fn take(&self) -> Vec<TapRecord> {
        std::mem::take(&mut *self.lock())
    }

    /// Records held.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    /// Whether no record is held.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn push(&self, record: TapRecord) {
        self.lock().push(record);
    }

    /// A poisoned lock means a panic while pushing or taking a `Vec`, which leaves it whole.
    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<TapRecord>> {
        self.records.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// See the module docs. Passes every packet on unchanged.
pub struct PacketTap {
    handle: TapHandle,
    read_queue: VecDeque<TaggedPacket>,
    write_queue: VecDeque<TaggedPacket>,
}

impl std::fmt::Debug for PacketTap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PacketTap").finish_non_exhaustive()
    }
}

impl PacketTap {
    /// A tap recording into `handle`.
    pub fn new(handle: TapHandle) -> Self {
        Self {
            handle,
            read_queue: VecDeque::new(),
            write_queue: VecDeque::new(),
        }
    }

    fn record(&self, msg: &TaggedPacket, direction: TapDirection) {
        let (kind, bytes, len) = match &msg.message.packet {
            Packet::Rtp(p) => match p.header.marshal() {
                Ok(header) => (TapKind::Rtp, header.to_vec(), p.marshal_size()),
                Err(e) => return tracing::debug!("tap: RTP header does not marshal: {e}"),
            },
            Packet::Rtcp(packets) if packets.is_empty() => return,
            Packet::Rtcp(packets) => match rtc::rtcp::packet::marshal(packets) {
                Ok(bytes) => (TapKind::Rtcp, bytes.to_vec(), bytes.len()),
                Err(e) => return tracing::debug!("tap: RTCP does not marshal: {e}"),
            },
            // `Packet` is non-exhaustive: a kind added upstream later is not recorded.
            _ => return,
        };
        self.handle.push(TapRecord {
            now: msg.now,
            direction,
            kind,
            bytes,
            len,
        });
    }
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for PacketTap {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = Error;
    type Time = Instant;

    fn handle_read(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        self.record(&msg, TapDirection::Inbound);
        self.read_queue.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<Self::Rout> {
        self.read_queue.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        self.record(&msg, TapDirection::Outbound);
        self.write_queue.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<Self::Wout> {
        self.write_queue.pop_front()
    }
}

impl Interceptor for PacketTap {
    fn bind_local_stream(&mut self, _info: &StreamInfo) {}

    fn unbind_local_stream(&mut self, _info: &StreamInfo) {}

    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}

    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc::interceptor::{AttributedPacket, Registry};
    use rtc::rtcp::payload_feedbacks::receiver_estimated_maximum_bitrate::ReceiverEstimatedMaximumBitrate;
    use rtc::rtp::header::{Extension, Header};
    use rtc::shared::marshal::Unmarshal;
    use rtc::shared::{TransportContext, TransportMessage};

    fn tagged(now: Instant, packet: Packet) -> TaggedPacket {
        TransportMessage {
            now,
            transport: TransportContext::default(),
            message: AttributedPacket::new(packet),
        }
    }

    fn rtp() -> rtc::rtp::Packet {
        rtc::rtp::Packet {
            header: Header {
                version: 2,
                extension: true,
                extension_profile: 0xBEDE,
                extensions: vec![Extension {
                    id: 3,
                    payload: bytes::Bytes::from_static(&[0x12, 0x34, 0x56]),
                }],
                payload_type: 96,
                sequence_number: 7,
                ssrc: 0x1234,
                ..Header::default()
            },
            payload: bytes::Bytes::from(vec![0xAA; 1000]),
        }
    }

    /// A record must hold exactly what a decoder needs: the header with its extension bytes
    /// (so abs-send-time reads back), the packet's full length, and the instant and walk.
    #[test]
    fn rtp_is_recorded_as_its_header_with_the_whole_length() {
        let handle = TapHandle::new();
        let mut chain = Registry::new()
            .with(TAP_SLOT, PacketTap::new(handle.clone()))
            .build();
        let now = Instant::now();
        let packet = rtp();
        chain
            .handle_write(tagged(now, Packet::Rtp(packet.clone())))
            .expect("passes");
        let out = chain.poll_write().expect("passed on unchanged");
        assert_eq!(out.message.packet, Packet::Rtp(packet.clone()));
        let records = handle.take();
        assert_eq!(records.len(), 1);
        let r = &records[0];
        assert_eq!(
            (r.now, r.direction, r.kind),
            (now, TapDirection::Outbound, TapKind::Rtp)
        );
        assert_eq!(r.len, packet.marshal_size());
        let header = Header::unmarshal(&mut r.bytes.as_slice()).expect("a header");
        assert_eq!(
            header.get_extension(3).as_deref(),
            Some(&[0x12, 0x34, 0x56][..])
        );
        assert_eq!(r.bytes.len(), 12 + 8);
        assert!(handle.is_empty(), "take leaves none");
    }

    /// The tap is there only when asked for, and then wire-most, below every other slot.
    #[test]
    fn a_chain_has_a_tap_only_when_built_with_one() {
        use rtc::peer_connection::configuration::interceptor_registry::CongestionFeedback;
        use rtc::peer_connection::configuration::media_engine::MediaEngine;
        let slots = |tap: Option<TapHandle>| {
            let mut engine = MediaEngine::default();
            engine.register_default_codecs().expect("default codecs");
            let mut config = crate::BweChainConfig::send_side(CongestionFeedback::Twcc);
            config.tap = tap;
            let (registry, _) =
                crate::configure_bwe(Registry::new(), &mut engine, config).expect("configures");
            registry.slots()
        };
        assert!(!slots(None).iter().any(|(_, name)| name == "PacketTap"));
        let with = slots(Some(TapHandle::new()));
        assert_eq!(with.first(), Some(&(TAP_SLOT, "PacketTap".to_owned())));
    }

    /// RTCP read from the wire is recorded whole, and rtc's empty attribute carrier, which
    /// never reaches the wire, is not.
    #[test]
    fn rtcp_is_recorded_whole_and_the_attribute_carrier_is_not() {
        let handle = TapHandle::new();
        let mut tap = PacketTap::new(handle.clone());
        let remb = ReceiverEstimatedMaximumBitrate {
            sender_ssrc: 1,
            bitrate: 1_000_000.0,
            ssrcs: vec![0x1234],
        };
        let compound: Vec<Box<dyn rtc::rtcp::Packet>> = vec![Box::new(remb)];
        let wire = rtc::rtcp::packet::marshal(&compound).expect("marshals");
        let now = Instant::now();
        tap.handle_read(tagged(now, Packet::Rtcp(compound)))
            .expect("passes");
        tap.handle_write(tagged(now, Packet::Rtcp(Vec::new())))
            .expect("passes");
        assert!(tap.poll_read().is_some() && tap.poll_write().is_some());
        let records = handle.take();
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].direction, TapDirection::Inbound);
        assert_eq!(records[0].kind, TapKind::Rtcp);
        assert_eq!(records[0].bytes, wire.to_vec());
        assert_eq!(records[0].len, wire.len());
    }
}
