//! Stamping abs-send-time on outgoing RTP, so a remote REMB estimator has something to read.
//!
//! rtc and webrtc 0.21 never write the abs-send-time extension, even when it is negotiated, so a
//! webrtc-rs sender cannot be estimated by any REMB receiver — ours or a browser's. This
//! interceptor writes it on every packet of a local stream that negotiated it, with the instant
//! the packet leaves: it sits wire-ward of the pacer ([`ABS_SEND_TIME_SLOT`], 2 200), so
//! `packet.now` is the release instant, not the moment the encoder produced the packet. Stamping
//! at enqueue would show the receiver the pacer's own queueing as network delay.
//!
//! The value is the chain's instant as 6.18 fixed-point seconds (24 bits, wrapping every 64 s);
//! its epoch does not matter, since receivers only difference send times.

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use bwe_core::rtp_ext::AbsSendTime;
use rtc::interceptor::{Interceptor, Packet, Slot, StreamInfo, TaggedPacket};
use rtc::sansio::Protocol;
use rtc::shared::error::Error;

use crate::epoch::Epoch;
use crate::remb::extension_id::{ABS_SEND_TIME_URI, negotiated_id};

/// Where [`AbsSendTimeInterceptor`] goes: between the TWCC sender (2 000) and the pacer (3 000),
/// wire-ward of the pacer so it stamps the release instant.
pub const ABS_SEND_TIME_SLOT: Slot = Slot::Custom(2_200);

/// Writes abs-send-time on outgoing RTP of streams that negotiated it. See the module docs.
#[derive(Default)]
pub struct AbsSendTimeInterceptor {
    epoch: Epoch,
    /// Local streams and the id each negotiated the extension under.
    streams: HashMap<u32, u8>,
    /// Packets the extension could not be written to (an id the header form cannot carry).
    failed: u64,
    read_queue: VecDeque<TaggedPacket>,
    write_queue: VecDeque<TaggedPacket>,
}

impl AbsSendTimeInterceptor {
    /// A stamper with no streams bound yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Packets that could not be stamped.
    pub fn failed(&self) -> u64 {
        self.failed
    }

    fn stamp(&mut self, now: Instant, rtp: &mut rtc::rtp::Packet) {
        let Some(&id) = self.streams.get(&rtp.header.ssrc) else {
            return;
        };
        let value = AbsSendTime::from_timestamp(self.epoch.timestamp(now)).to_bytes();
        let header = &mut rtp.header;
        if !header.extension && id > 14 {
            // The one-byte form rtc would pick cannot carry ids above 14.
            header.extension = true;
            header.extension_profile = 0x1000;
        }
        if header.set_extension(id, value.to_vec().into()).is_err() {
            self.failed += 1;
        }
    }
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for AbsSendTimeInterceptor {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = Error;
    type Time = Instant;

    fn handle_read(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        self.read_queue.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<Self::Rout> {
        self.read_queue.pop_front()
    }

    fn handle_write(&mut self, mut msg: TaggedPacket) -> Result<(), Self::Error> {
        let now = msg.now;
        if let Packet::Rtp(rtp) = &mut msg.message.packet {
            self.stamp(now, rtp);
        }
        self.write_queue.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<Self::Wout> {
        self.write_queue.pop_front()
    }
}

impl Interceptor for AbsSendTimeInterceptor {
    fn bind_local_stream(&mut self, info: &StreamInfo) {
        if let Some(id) = negotiated_id(info, ABS_SEND_TIME_URI) {
            self.streams.insert(info.ssrc, id);
            // Retransmissions load the link like media, and the receiver measures them too.
            if let Some(rtx) = info.ssrc_rtx {
                self.streams.insert(rtx, id);
            }
        }
    }

    fn unbind_local_stream(&mut self, info: &StreamInfo) {
        self.streams.remove(&info.ssrc);
        if let Some(rtx) = info.ssrc_rtx {
            self.streams.remove(&rtx);
        }
    }

    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}

    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc::interceptor::{AttributedPacket, RTPHeaderExtension};
    use rtc::shared::TransportContext;
    use rtc::shared::marshal::{Marshal, Unmarshal};
    use std::time::Duration;

    fn stream(ssrc: u32, id: u16) -> StreamInfo {
        StreamInfo {
            ssrc,
            rtp_header_extensions: vec![RTPHeaderExtension {
                uri: ABS_SEND_TIME_URI.to_owned(),
                id,
            }],
            ..StreamInfo::default()
        }
    }

    fn outbound(now: Instant, ssrc: u32) -> TaggedPacket {
        TaggedPacket {
            now,
            transport: TransportContext::default(),
            message: AttributedPacket::new(Packet::Rtp(rtc::rtp::Packet {
                header: rtc::rtp::header::Header {
                    version: 2,
                    ssrc,
                    ..Default::default()
                },
                payload: vec![1u8; 100].into(),
            })),
        }
    }

    fn stamped(
        stamper: &mut AbsSendTimeInterceptor,
        now: Instant,
        ssrc: u32,
        id: u8,
    ) -> Option<u32> {
        stamper.handle_write(outbound(now, ssrc)).expect("write");
        let out = stamper.poll_write().expect("passed on");
        let Packet::Rtp(rtp) = out.message.packet else {
            return None;
        };
        // Through the wire and back, as a receiver would see it.
        let bytes = rtp.marshal().expect("marshal");
        let parsed = rtc::rtp::Packet::unmarshal(&mut &bytes[..]).expect("parses");
        let ext = parsed.header.get_extension(id)?;
        AbsSendTime::parse(&ext).ok().map(AbsSendTime::raw)
    }

    /// Send times must advance with the release instants, 2^18 units per second.
    #[test]
    fn release_instants_become_abs_send_times() {
        let mut stamper = AbsSendTimeInterceptor::new();
        stamper.bind_local_stream(&stream(7, 3));
        let base = Instant::now();
        let a = stamped(&mut stamper, base, 7, 3).expect("stamped");
        let b = stamped(&mut stamper, base + Duration::from_millis(250), 7, 3).expect("stamped");
        assert_eq!(
            b.wrapping_sub(a) & 0xFF_FFFF,
            1 << 16,
            "250 ms = 2^16 units"
        );
    }

    /// Streams that did not negotiate the extension are left as they were.
    #[test]
    fn streams_without_the_extension_are_untouched() {
        let mut stamper = AbsSendTimeInterceptor::new();
        stamper.bind_local_stream(&stream(7, 3));
        assert_eq!(stamped(&mut stamper, Instant::now(), 8, 3), None);
    }

    /// An id above 14 needs the two-byte header form; it must still reach the wire intact.
    #[test]
    fn ids_above_fourteen_use_the_two_byte_form() {
        let mut stamper = AbsSendTimeInterceptor::new();
        stamper.bind_local_stream(&stream(7, 20));
        assert!(stamped(&mut stamper, Instant::now(), 7, 20).is_some());
        assert_eq!(stamper.failed(), 0);
    }
}
