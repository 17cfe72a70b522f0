//! The pacer adapter for `Slot::Pacer`: puts on the wire what the send-side controller releases.
//!
//! Every decision — when a packet leaves, which probe clusters go, the congestion window and
//! its pushback, which retransmissions are taken, what is dropped as stale — is the
//! controller's (`bwe_core::pacer`, owned by [`bwe_core::controller::SendSideController`] and
//! shared with [`BweSendSide`](crate::BweSendSide); see [`crate::controller`]). This adapter
//! does what needs RTP:
//!
//! - tells the controller what each written packet is: a first transmission of a bound stream,
//!   a retransmission (RTX of a bound stream, or `Attribute::Retransmission` on the media SSRC,
//!   by the sequence number it repeats), or anything else; RTCP is never queued;
//! - drives the controller's timers and writes out what it releases, renumbered so that
//!   padding has room in the sequence space (see `bwe_core::pacer::SequenceMap`);
//! - builds padding packets of the size a probe cluster asks for (see `stream`) on the stream
//!   that sent media last;
//! - records each probe packet's wire identity (SSRC, wire sequence number, release instant)
//!   with the controller, which is how feedback is attributed to clusters;
//! - rewrites inbound NACKs from wire to application sequence numbers for the NACK responder;
//! - publishes the figures to the [`BweHandle`](crate::BweHandle).

use std::collections::VecDeque;
use std::time::Instant;

use bwe_core::pacer::{PacketKind, Refusal};
use bwe_core::{DataSize, SentPacket};
use rtc::interceptor::{
    Attribute, AttributedPacket, Interceptor, Packet, Slot, StreamInfo, TaggedPacket,
};
use rtc::rtcp::transport_feedbacks::transport_layer_nack::TransportLayerNack;
use rtc::sansio::Protocol;
use rtc::shared::error::Error;

use super::stream::{PacedStream, retransmitted_seq, wire_size};
use crate::controller::{SendSideView, SharedController};

/// Where the probing pacer sits: rtc's pacer position, between the NACK responder and the
/// TWCC sender.
pub const PACER_SLOT: Slot = Slot::Pacer;

/// The pacer adapter; see the module docs. Made by
/// [`BweSendSide::with_pacer`](crate::BweSendSide::with_pacer).
pub struct ProbingPacer {
    shared: SharedController,
    streams: Vec<PacedStream>,
    /// The stream padding goes on: the one that sent media last.
    pad_on: Option<usize>,
    read_queue: VecDeque<TaggedPacket>,
    write_queue: VecDeque<TaggedPacket>,
    last_now: Option<Instant>,
    /// Tell the controller of each release (`on_sent`): set when no congestion controller
    /// interceptor does it from its send history (a REMB-only sender).
    report_sent: bool,
    /// Numbers the releases reported.
    sent: u64,
}

impl std::fmt::Debug for ProbingPacer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProbingPacer")
            .field("streams", &self.streams.len())
            .finish_non_exhaustive()
    }
}

impl ProbingPacer {
    pub(crate) fn new(shared: SharedController) -> Self {
        let queue_limit = shared.lock().controller.pacer_config().queue_limit;
        Self {
            shared,
            streams: Vec::new(),
            pad_on: None,
            read_queue: VecDeque::with_capacity(64),
            write_queue: VecDeque::with_capacity(queue_limit),
            last_now: None,
            report_sent: false,
            sent: 0,
        }
    }

    /// A pacer that also reports each release to the controller, for a chain with no
    /// congestion controller interceptor (REMB only).
    pub(crate) fn reporting_sent(shared: SharedController) -> Self {
        Self {
            report_sent: true,
            ..Self::new(shared)
        }
    }

    /// A read-only view of the controller this pacer shares (keep it before moving the pacer
    /// into a chain).
    pub fn view(&self) -> SendSideView {
        SendSideView::new(self.shared.clone())
    }

    /// The pacer's figures as last published.
    pub fn stats(&self) -> bwe_core::pacer::PacerStats {
        self.shared.lock().pacer_stats
    }

    fn observe(&mut self, now: Instant) {
        if self.last_now.is_none_or(|last| now > last) {
            self.last_now = Some(now);
        }
    }

    fn stream_index(&self, ssrc: u32) -> Option<usize> {
        self.streams.iter().position(|s| s.ssrc == ssrc)
    }

    /// What `msg` is to the controller.
    fn kind_of(&self, msg: &TaggedPacket) -> PacketKind {
        let Packet::Rtp(rtp) = &msg.message.packet else {
            return PacketKind::Other;
        };
        let ssrc = rtp.header.ssrc;
        if let Some(i) = self.stream_index(ssrc) {
            let ssrc = self.streams[i].ssrc;
            let seq = rtp.header.sequence_number;
            return if msg.message.has(&Attribute::Retransmission) {
                PacketKind::Retransmission { ssrc, seq }
            } else {
                PacketKind::Media { ssrc, seq }
            };
        }
        let Some(stream) = self.streams.iter().find(|s| s.rtx_ssrc == Some(ssrc)) else {
            return PacketKind::Other;
        };
        match retransmitted_seq(rtp, true) {
            Some(seq) => PacketKind::Retransmission {
                ssrc: stream.ssrc,
                seq,
            },
            None => PacketKind::Other,
        }
    }

    /// Drives the controller's timers at `now` and writes out everything it releases.
    fn process(&mut self, now: Instant) {
        let mut core = self.shared.lock();
        let core = &mut *core;
        let now_ts = core.epoch.timestamp(now);
        core.controller.handle_timeout(now_ts);
        let streams = &mut self.streams;
        let pad_on = &mut self.pad_on;
        loop {
            let pad = |size: DataSize| {
                let rtp = streams[(*pad_on)?].padding(size.bytes() as usize)?;
                let bytes = wire_size(&rtp) as u64;
                Some((
                    TaggedPacket {
                        now,
                        transport: Default::default(),
                        message: AttributedPacket::new(Packet::Rtp(rtp)),
                    },
                    DataSize::from_bytes(bytes),
                ))
            };
            let Some(release) = core.controller.poll_release(now_ts, pad) else {
                break;
            };
            let mut packet = release.payload;
            packet.now = now;
            if let Packet::Rtp(rtp) = &mut packet.message.packet {
                let ssrc = rtp.header.ssrc;
                if !release.padding {
                    if let Some(i) = streams.iter().position(|s| s.ssrc == ssrc) {
                        streams[i].on_media(rtp);
                        *pad_on = Some(i);
                    } else if let Some(s) = streams.iter().find(|s| s.rtx_ssrc == Some(ssrc)) {
                        s.on_rtx(rtp);
                    }
                }
                if let Some(probe) = release.probe {
                    core.controller
                        .record_probe(ssrc, rtp.header.sequence_number, now_ts, probe);
                }
            }
            if self.report_sent {
                core.controller.on_sent(
                    now_ts,
                    &SentPacket {
                        sequence: self.sent,
                        send_time: now_ts,
                        size: release.size,
                        probe: release.probe,
                    },
                );
                self.sent += 1;
            }
            self.write_queue.push_back(packet);
        }
        core.publish_changes(now, false);
    }

    fn translate_nacks(&mut self, packets: &mut [Box<dyn rtc::rtcp::Packet>]) {
        let mut translated = 0;
        for packet in packets.iter_mut() {
            let Some(nack) = packet.as_any().downcast_ref::<TransportLayerNack>() else {
                continue;
            };
            let Some(stream) = self.streams.iter().find(|s| s.ssrc == nack.media_ssrc) else {
                continue;
            };
            if let Some(rewritten) = stream.translate_nack(nack) {
                *packet = Box::new(rewritten);
                translated += 1;
            }
        }
        if translated > 0 {
            let mut core = self.shared.lock();
            for _ in 0..translated {
                core.controller.count_nack_translated();
            }
        }
    }
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for ProbingPacer {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = Error;
    type Time = Instant;

    fn handle_read(&mut self, mut msg: TaggedPacket) -> Result<(), Self::Error> {
        self.observe(msg.now);
        if let Packet::Rtcp(packets) = &mut msg.message.packet {
            self.translate_nacks(packets);
        }
        self.read_queue.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<Self::Rout> {
        self.read_queue.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        self.observe(msg.now);
        let Packet::Rtp(rtp) = &msg.message.packet else {
            self.write_queue.push_back(msg);
            return Ok(());
        };
        let size = DataSize::from_bytes(wire_size(rtp) as u64);
        let kind = self.kind_of(&msg);
        let now = msg.now;
        let mut core = self.shared.lock();
        let now_ts = core.epoch.timestamp(now);
        if let Err(Refusal::QueueFull) = core.controller.enqueue(now_ts, msg, size, kind) {
            core.publish_pacer(now, true);
        }
        Ok(())
    }

    fn poll_write(&mut self) -> Option<TaggedPacket> {
        self.write_queue.pop_front()
    }

    fn handle_timeout(&mut self, now: Instant) -> Result<(), Error> {
        self.observe(now);
        self.process(now);
        Ok(())
    }

    fn poll_timeout(&mut self) -> Option<Instant> {
        let last = self.last_now?;
        let core = self.shared.lock();
        let due = core.controller.poll_timeout()?;
        core.epoch.instant(due).map(|t| t.max(last))
    }
}

impl Interceptor for ProbingPacer {
    fn bind_local_stream(&mut self, info: &StreamInfo) {
        if self.stream_index(info.ssrc).is_none() {
            self.streams.push(PacedStream::new(info));
            self.shared.lock().controller.add_stream(info.ssrc);
        }
    }

    fn unbind_local_stream(&mut self, info: &StreamInfo) {
        if let Some(i) = self.stream_index(info.ssrc) {
            self.streams.remove(i);
            self.pad_on = None;
            self.shared.lock().controller.remove_stream(info.ssrc);
        }
    }

    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}

    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}
