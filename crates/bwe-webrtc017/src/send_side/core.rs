//! The send side without tokio: what the interceptor's writer, RTCP reader and task call, each
//! with the instant it happened. Unit tests drive it with instants they choose.
//!
//! ```text
//!  writer ──enqueue──▶ controller (pacer queue) ──process──▶ renumber, stamp, record ──▶ sink
//!                           ▲                                                │
//!  RTCP reader ──TWCC──▶ feedback ◀── history (number → send time, size, probe) ◀┘
//!              ──REMB──▶ cap
//!              ──NACK──▶ translated to application numbers, for 0.17's NACK responder
//! ```
//!
//! `W` is where a released packet goes (the interceptor uses the next writer of the packet's
//! stream); the core only hands it back.

use std::time::Instant;

use bwe_core::controller::{ControllerConfig, ControllerOutput, SendSideController};
use bwe_core::pacer::{PacerStats, PacketKind, Refusal};
use bwe_core::send_side::SendSideStats;
use bwe_core::{Bitrate, DataSize, PacketResult, TimeDelta};
use bytes::Bytes;
use interceptor::Attributes;
use interceptor::stream_info::StreamInfo;
use webrtc::rtcp::packet::Packet as RtcpPacket;
use webrtc::rtcp::payload_feedbacks::receiver_estimated_maximum_bitrate::ReceiverEstimatedMaximumBitrate;
use webrtc::rtcp::transport_feedbacks::transport_layer_cc::TransportLayerCc;
use webrtc::rtcp::transport_feedbacks::transport_layer_nack::TransportLayerNack;
use webrtc::rtp::packet::Packet as RtpPacket;

use super::history::SendHistory;
use super::stream::{PacedStream, wire_size};
use super::twcc::{Status, for_each_status};
use crate::epoch::Epoch;

/// Results handed to the estimator per call: a TWCC message from 0.17's receiver covers at most
/// a few hundred packets, and the buffer is reused, so this bounds memory, not behaviour.
const RESULTS_CAPACITY: usize = 1_024;

/// A packet in the pacer's queue, with where it goes.
#[derive(Debug)]
pub struct Pending<W> {
    /// The packet (application numbering until released).
    pub packet: RtpPacket,
    /// Its attributes, passed on.
    pub attributes: Attributes,
    /// Where it goes.
    pub sink: W,
}

/// The send side's figures: the controller's and what this adapter counted.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
#[non_exhaustive]
pub struct SendSideStats017 {
    /// The estimator's and the pacer's decision: the encoder target (after the congestion
    /// window's pushback), the target and the pacing rate. `None` before the first packet.
    pub output: Option<ControllerOutput>,
    /// bwe-core's estimator figures.
    pub estimator: SendSideStats,
    /// bwe-core's pacer figures.
    pub pacer: PacerStats,
    /// Transport-wide feedback messages read.
    pub feedback_messages: u64,
    /// Feedback messages cut short (more received statuses than arrival deltas).
    pub malformed_feedback: u64,
    /// Packets feedback reported received.
    pub reported_received: u64,
    /// Packets feedback reported lost.
    pub reported_lost: u64,
    /// Packets counted lost because they fell between two consecutive feedback messages
    /// (see the workaround in `on_feedback`).
    pub inferred_lost: u64,
    /// Statuses naming a number this side never sent, or one too old to remember.
    pub unmatched_statuses: u64,
    /// "Received" statuses without an arrival time, left out.
    pub received_without_time: u64,
    /// Packets sent that no feedback message ever reported on (feedback lost): neither
    /// received nor lost.
    pub unreported: u64,
    /// Packets stamped with a transport-wide number.
    pub stamped: u64,
    /// Packets of streams that did not negotiate the extension: paced, not measured.
    pub unstamped: u64,
    /// Packets the pacer refused (queue full, or a resend its rules refuse).
    pub refused: u64,
    /// NACKs rewritten to application numbers after renumbering.
    pub nacks_translated: u64,
    /// REMBs read (a cap on the target).
    pub rembs: u64,
}

/// The tokio-free send side; see the module docs.
#[derive(Debug)]
pub struct SendSideCore<W> {
    controller: SendSideController<Pending<W>>,
    epoch: Epoch,
    streams: Vec<(PacedStream, W)>,
    /// The stream padding goes on: the one that last sent media.
    pad_on: Option<usize>,
    history: SendHistory,
    /// The newest number feedback reported on (unwrapped).
    reported_through: Option<u64>,
    /// The feedback packet count of the last message read.
    last_feedback_count: Option<u8>,
    results: Vec<PacketResult>,
    stats: SendSideStats017,
    started: bool,
}

impl<W: Clone> SendSideCore<W> {
    /// A send side with `config`; instants count from `origin`.
    pub fn new(config: ControllerConfig, origin: Instant) -> Self {
        Self {
            controller: SendSideController::new(config),
            epoch: Epoch::at(origin),
            streams: Vec::new(),
            pad_on: None,
            history: SendHistory::new(),
            reported_through: None,
            last_feedback_count: None,
            results: Vec::with_capacity(RESULTS_CAPACITY),
            stats: SendSideStats017::default(),
            started: false,
        }
    }

    /// A local stream starts; its packets go to `sink`.
    pub fn bind_stream(&mut self, info: &StreamInfo, sink: W) {
        self.unbind_stream(info.ssrc);
        self.streams.push((PacedStream::new(info), sink));
        self.controller.add_stream(info.ssrc);
    }

    /// A local stream ends (packets of it still queued are still sent).
    pub fn unbind_stream(&mut self, ssrc: u32) {
        if let Some(i) = self.streams.iter().position(|(s, _)| s.ssrc == ssrc) {
            self.streams.remove(i);
            self.pad_on = None;
            self.controller.remove_stream(ssrc);
        }
    }

    /// Offers a packet of a bound stream to the pacer; returns `false` if it was refused (and
    /// dropped) or its stream is not bound.
    pub fn enqueue(&mut self, now: Instant, packet: RtpPacket, attributes: Attributes) -> bool {
        let ssrc = packet.header.ssrc;
        let Some((stream, sink)) = self.streams.iter().find(|(s, _)| s.ssrc == ssrc) else {
            self.stats.refused += 1;
            return false;
        };
        let seq = packet.header.sequence_number;
        // 0.17's NACK responder resends on the media SSRC with the number the packet first had:
        // anything not newer than the newest sent is a resend.
        let kind = if stream.map.is_newest(seq) {
            PacketKind::Media { ssrc, seq }
        } else {
            PacketKind::Retransmission { ssrc, seq }
        };
        let size = DataSize::from_bytes(wire_size(&packet) as u64);
        let pending = Pending {
            packet,
            attributes,
            sink: sink.clone(),
        };
        self.started = true;
        let now = self.epoch.timestamp(now);
        match self.controller.enqueue(now, pending, size, kind) {
            Ok(()) => true,
            Err(Refusal::QueueFull | Refusal::Retransmission) => {
                self.stats.refused += 1;
                false
            }
        }
    }

    /// Runs the timers due at `now` and moves every packet due into `out`, renumbered and
    /// stamped, in the order to write them.
    pub fn process(&mut self, now: Instant, out: &mut Vec<Pending<W>>) {
        let now_ts = self.epoch.timestamp(now);
        self.controller.handle_timeout(now_ts);
        loop {
            let streams = &mut self.streams;
            let pad_on = self.pad_on;
            let pad = |size: DataSize| {
                let (stream, sink) = streams.get_mut(pad_on?)?;
                let packet = stream.padding(size.bytes() as usize)?;
                let bytes = wire_size(&packet) as u64;
                Some((
                    Pending {
                        packet,
                        attributes: Attributes::new(),
                        sink: sink.clone(),
                    },
                    DataSize::from_bytes(bytes),
                ))
            };
            let Some(release) = self.controller.poll_release(now_ts, pad) else {
                break;
            };
            let mut pending = release.payload;
            let ssrc = pending.packet.header.ssrc;
            let index = self.streams.iter().position(|(s, _)| s.ssrc == ssrc);
            if !release.padding
                && let Some(i) = index
            {
                self.streams[i].0.on_media(&mut pending.packet);
                self.pad_on = Some(i);
            }
            let twcc_id = index.and_then(|i| self.streams[i].0.twcc_id);
            match twcc_id {
                Some(id) => {
                    // The number is written before the size is taken: the extension is on the
                    // wire too.
                    let wire = self.history.next_wire();
                    let _ = pending
                        .packet
                        .header
                        .set_extension(id, Bytes::copy_from_slice(&wire.to_be_bytes()));
                    let size = DataSize::from_bytes(wire_size(&pending.packet) as u64);
                    let sent = self.history.record(now_ts, size, release.probe);
                    self.controller.on_sent(now_ts, &sent);
                    self.stats.stamped += 1;
                }
                None => self.stats.unstamped += 1,
            }
            out.push(pending);
        }
    }

    /// Reads inbound RTCP: transport-wide feedback and REMB go to the estimator; NACKs are
    /// rewritten in place to application numbers for the NACK responder further up.
    pub fn on_rtcp(&mut self, now: Instant, packets: &mut [Box<dyn RtcpPacket + Send + Sync>]) {
        let now_ts = self.epoch.timestamp(now);
        for packet in packets.iter_mut() {
            let any = packet.as_any();
            if let Some(feedback) = any.downcast_ref::<TransportLayerCc>() {
                self.on_feedback(now, feedback);
            } else if let Some(remb) = any.downcast_ref::<ReceiverEstimatedMaximumBitrate>() {
                self.stats.rembs += 1;
                if remb.bitrate.is_finite() && remb.bitrate >= 0.0 {
                    let cap = Bitrate::from_bps(remb.bitrate.min(u64::MAX as f32) as u64);
                    self.controller.on_receiver_estimate(now_ts, cap);
                }
            } else if let Some(nack) = any.downcast_ref::<TransportLayerNack>()
                && let Some((stream, _)) =
                    self.streams.iter().find(|(s, _)| s.ssrc == nack.media_ssrc)
                && let Some(translated) = stream.translate_nack(nack)
            {
                *packet = Box::new(translated);
                self.stats.nacks_translated += 1;
                self.controller.count_nack_translated();
            }
        }
    }

    fn on_feedback(&mut self, now: Instant, feedback: &TransportLayerCc) {
        let now_ts = self.epoch.timestamp(now);
        self.stats.feedback_messages += 1;
        self.results.clear();
        // Workaround for interceptor 0.17.2's TWCC receiver (`twcc::Recorder`): each message
        // starts at the first packet *received* since the last one, so a packet lost just
        // before a message's base is reported by no message (libwebrtc's receiver starts each
        // message right after the last one reported). When this message directly follows the
        // last one read (feedback packet counts consecutive: no message lost in between), the
        // receiver had already missed the packets in the gap, so they are lost; otherwise a
        // message may have been lost with their statuses, and they are unreported.
        // `tests/upstream_behaviour.rs` tells when the receiver changes.
        let consecutive = self
            .last_feedback_count
            .is_some_and(|last| feedback.fb_pkt_count == last.wrapping_add(1));
        self.last_feedback_count = Some(feedback.fb_pkt_count);
        let base = self
            .history
            .unwrap(feedback.base_sequence_number)
            .filter(|b| self.history.get(*b).is_some());
        let mut gap = 0;
        if let (Some(base), Some(through)) = (base, self.reported_through)
            && base > through + 1
        {
            gap = base - through - 1;
            if consecutive {
                for sequence in (through + 1..base).take(RESULTS_CAPACITY / 2) {
                    if let Some(sent) = self.history.get(sequence) {
                        self.results.push(PacketResult {
                            sent: *sent,
                            receive_time: None,
                        });
                        self.stats.inferred_lost += 1;
                    }
                }
                gap = 0;
            }
        }
        let history = &self.history;
        let results = &mut self.results;
        let stats = &mut self.stats;
        let mut last: Option<u64> = None;
        let mut newest_received = None;
        let complete = for_each_status(feedback, |wire, status| {
            let Some(sent) = history.unwrap(wire).and_then(|s| history.get(s)) else {
                stats.unmatched_statuses += 1;
                return;
            };
            last = Some(last.map_or(sent.sequence, |l: u64| l.max(sent.sequence)));
            let receive_time = match status {
                Status::Lost => {
                    stats.reported_lost += 1;
                    None
                }
                Status::ReceivedWithoutTime => {
                    stats.received_without_time += 1;
                    return;
                }
                Status::Received(us) => {
                    stats.reported_received += 1;
                    newest_received = Some(*sent);
                    Some(bwe_core::Timestamp::from_micros(us))
                }
            };
            if results.len() < RESULTS_CAPACITY {
                results.push(PacketResult {
                    sent: *sent,
                    receive_time,
                });
            }
        });
        if !complete {
            self.stats.malformed_feedback += 1;
        }
        if let Some(last) = last
            && self.reported_through.is_none_or(|t| last > t)
        {
            self.reported_through = Some(last);
        }
        self.stats.unreported += gap;
        if let Some(sent) = newest_received {
            let rtt = now_ts.since(sent.send_time);
            if rtt > TimeDelta::ZERO {
                self.controller.on_rtt(now_ts, rtt);
            }
        }
        if !self.results.is_empty() {
            self.controller.on_feedback(now_ts, &self.results);
        }
        self.controller.on_unreported(now_ts, gap);
        let through = self.results.iter().map(|r| r.sent.send_time).max();
        self.controller.feedback_done(now_ts, through);
    }

    /// When [`process`](Self::process) next has work; `None` while nothing is pending.
    pub fn poll_timeout(&self) -> Option<Instant> {
        self.controller
            .poll_timeout()
            .and_then(|at| self.epoch.instant(at))
    }

    /// The figures as of `now`.
    pub fn stats(&mut self, now: Instant) -> SendSideStats017 {
        let now = self.epoch.timestamp(now);
        SendSideStats017 {
            output: self.started.then(|| self.controller.output()),
            estimator: self.controller.estimator_stats(),
            pacer: self.controller.pacer_stats(now),
            ..self.stats
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use interceptor::stream_info::RTPHeaderExtension;
    use interceptor::twcc::Recorder;
    use webrtc::rtcp::transport_feedbacks::transport_layer_nack::nack_pairs_from_sequence_numbers;
    use webrtc_util::marshal::Unmarshal;

    use super::*;
    use crate::send_side::stream::TRANSPORT_CC_URI;

    const SSRC: u32 = 9;
    const TWCC_ID: u8 = 3;

    fn info(twcc: bool) -> StreamInfo {
        StreamInfo {
            ssrc: SSRC,
            payload_type: 96,
            rtp_header_extensions: if twcc {
                vec![RTPHeaderExtension {
                    uri: TRANSPORT_CC_URI.to_owned(),
                    id: isize::from(TWCC_ID),
                }]
            } else {
                Vec::new()
            },
            ..StreamInfo::default()
        }
    }

    fn media(seq: u16) -> RtpPacket {
        crate::send_side::stream::test_media(SSRC, seq, 1_000)
    }

    fn twcc_of(packet: &RtpPacket) -> Option<u16> {
        let bytes = packet.header.get_extension(TWCC_ID)?;
        Some(u16::from_be_bytes([bytes[0], bytes[1]]))
    }

    struct Rig {
        core: SendSideCore<u8>,
        origin: Instant,
        out: Vec<Pending<u8>>,
    }

    impl Rig {
        fn new(twcc: bool) -> Self {
            let origin = Instant::now();
            let mut core = SendSideCore::new(ControllerConfig::default(), origin);
            core.bind_stream(&info(twcc), 7);
            Self {
                core,
                origin,
                out: Vec::new(),
            }
        }

        fn at(&self, ms: u64) -> Instant {
            self.origin + Duration::from_millis(ms)
        }

        /// Runs the core every millisecond up to `ms`, sending one media packet every
        /// `every_ms` from `first_seq`; returns the packets released.
        fn send(
            &mut self,
            from_ms: u64,
            to_ms: u64,
            every_ms: u64,
            first_seq: u16,
        ) -> Vec<RtpPacket> {
            let mut seq = first_seq;
            let mut released = Vec::new();
            for ms in from_ms..to_ms {
                let now = self.at(ms);
                if (ms - from_ms) % every_ms == 0 {
                    assert!(self.core.enqueue(now, media(seq), Attributes::new()));
                    seq = seq.wrapping_add(1);
                }
                self.core.process(now, &mut self.out);
                released.extend(self.out.drain(..).map(|p| {
                    assert_eq!(p.sink, 7, "released to its stream's sink");
                    p.packet
                }));
            }
            released
        }
    }

    /// Every released packet carries the next transport-wide number, padding included, and
    /// media keeps a gap-free wire sequence around the padding inserted.
    #[test]
    fn released_packets_are_numbered_in_send_order_and_padding_fits_between_media() {
        let mut rig = Rig::new(true);
        let released = rig.send(0, 2_000, 20, 100);
        let numbers: Vec<u16> = released
            .iter()
            .map(|p| twcc_of(p).expect("stamped"))
            .collect();
        assert_eq!(numbers, (0..released.len() as u16).collect::<Vec<_>>());
        let padding = released.iter().filter(|p| p.payload.is_empty()).count();
        assert!(padding > 0, "the start-up probes sent padding");
        let seqs: Vec<u16> = released.iter().map(|p| p.header.sequence_number).collect();
        assert!(
            seqs.windows(2).all(|w| w[1] == w[0].wrapping_add(1)),
            "wire sequence gap-free: {seqs:?}"
        );
        let stats = rig.core.stats(rig.at(2_000));
        assert_eq!(stats.stamped, released.len() as u64);
        assert_eq!(stats.pacer.padding_packets, padding as u64);
    }

    /// Feedback built by 0.17's own TWCC recorder is read back: received and lost counted,
    /// the target moves off its start, RTT measured.
    #[test]
    fn feedback_from_the_recorder_is_read_and_losses_counted() {
        let mut rig = Rig::new(true);
        let mut recorder = Recorder::new(1);
        let mut seq = 0u16;
        let mut expected_lost = 0;
        for round in 0..50u64 {
            let from = round * 100;
            let released = rig.send(from, from + 100, 10, seq);
            seq = seq.wrapping_add(10);
            for (i, p) in released.iter().enumerate() {
                let n = twcc_of(p).expect("stamped");
                if n % 50 == 17 {
                    expected_lost += 1;
                    continue;
                }
                // 20 ms one way, 1 ms apart at the receiver.
                let arrival = (from + 20 + i as u64) as i64 * 1_000;
                recorder.record(SSRC, n, arrival);
            }
            let mut packets = recorder.build_feedback_packet();
            // Through the wire format, as the reader would see it.
            for packet in packets.iter_mut() {
                let bytes = packet.marshal().expect("marshals");
                *packet = Box::new(TransportLayerCc::unmarshal(&mut &bytes[..]).expect("parses"));
            }
            rig.core.on_rtcp(rig.at(from + 100), &mut packets);
        }
        let stats = rig.core.stats(rig.at(5_000));
        assert!(stats.feedback_messages >= 50);
        assert_eq!(stats.malformed_feedback, 0);
        assert_eq!(stats.unmatched_statuses, 0);
        assert_eq!(stats.unreported, 0, "every message arrived");
        assert_eq!(
            stats.reported_lost + stats.inferred_lost,
            expected_lost,
            "{} reported lost, {} inferred, {expected_lost} dropped",
            stats.reported_lost,
            stats.inferred_lost
        );
        assert!(stats.reported_received + stats.reported_lost >= stats.stamped - 20);
        // The round trip is taken as now − the departure of the newest packet received: here
        // feedback is read 10 ms after the newest packet of each round left.
        let rtt = stats.estimator.rtt.expect("measured").as_micros();
        assert!((9_000..=30_000).contains(&rtt), "rtt {rtt} µs");
        assert!(stats.estimator.acked_bitrate.is_some());
    }

    /// A feedback message that never arrived leaves its packets unreported, not lost.
    #[test]
    fn packets_of_a_lost_feedback_message_are_unreported_not_lost() {
        let mut rig = Rig::new(true);
        let mut recorder = Recorder::new(1);
        let mut seq = 0u16;
        for round in 0..10u64 {
            let from = round * 100;
            let released = rig.send(from, from + 100, 10, seq);
            seq = seq.wrapping_add(10);
            for (i, p) in released.iter().enumerate() {
                recorder.record(
                    SSRC,
                    twcc_of(p).unwrap(),
                    (from + 20 + i as u64) as i64 * 1_000,
                );
            }
            let mut packets = recorder.build_feedback_packet();
            if round == 4 {
                continue; // this message is lost on the way
            }
            rig.core.on_rtcp(rig.at(from + 100), &mut packets);
        }
        let stats = rig.core.stats(rig.at(1_000));
        assert_eq!(stats.reported_lost, 0);
        assert!(
            (5..=30).contains(&stats.unreported),
            "{} unreported",
            stats.unreported
        );
    }

    /// A REMB caps the target; a NACK after padding names application numbers again.
    #[test]
    fn remb_caps_the_target_and_nacks_are_translated() {
        let mut rig = Rig::new(true);
        let released = rig.send(0, 2_000, 20, 100);
        let padding_wire = released
            .iter()
            .find(|p| p.payload.is_empty())
            .expect("padding sent")
            .header
            .sequence_number;
        let after = released
            .iter()
            .map(|p| (p.header.sequence_number, p.payload.is_empty()))
            .skip_while(|(s, _)| *s != padding_wire)
            .find(|(_, padding)| !padding)
            .expect("media after the padding")
            .0;
        let remb = ReceiverEstimatedMaximumBitrate {
            sender_ssrc: 1,
            bitrate: 150_000.0,
            ssrcs: vec![SSRC],
        };
        let nack = TransportLayerNack {
            sender_ssrc: 1,
            media_ssrc: SSRC,
            nacks: nack_pairs_from_sequence_numbers(&[padding_wire, after]),
        };
        let mut packets: Vec<Box<dyn RtcpPacket + Send + Sync>> =
            vec![Box::new(remb), Box::new(nack)];
        rig.core.on_rtcp(rig.at(2_000), &mut packets);
        let stats = rig.core.stats(rig.at(2_000));
        assert_eq!(stats.rembs, 1);
        let target = stats.output.expect("started").target.bps();
        assert!(target <= 150_000, "target {target} over the REMB");
        assert_eq!(stats.nacks_translated, 1);
        let nack = packets[1]
            .as_any()
            .downcast_ref::<TransportLayerNack>()
            .expect("still a NACK");
        let asked: Vec<u16> = nack.nacks.iter().flat_map(|p| p.packet_list()).collect();
        let app = released
            .iter()
            .position(|p| p.header.sequence_number == after)
            .map(|i| i as u16);
        assert_eq!(asked.len(), 1, "padding is never asked for: {asked:?}");
        assert!(app.is_some());
    }

    /// A stream that did not negotiate the extension is paced but not measured; a packet of
    /// a stream never bound is refused.
    #[test]
    fn unnegotiated_streams_pass_unstamped_and_unknown_streams_are_refused() {
        let mut rig = Rig::new(false);
        let released = rig.send(0, 500, 20, 1);
        assert!(!released.is_empty());
        assert!(released.iter().all(|p| twcc_of(p).is_none()));
        let mut stranger = media(1);
        stranger.header.ssrc = 77;
        assert!(!rig.core.enqueue(rig.at(500), stranger, Attributes::new()));
        let stats = rig.core.stats(rig.at(500));
        assert_eq!(stats.stamped, 0);
        assert_eq!(stats.unstamped, released.len() as u64);
        assert_eq!(stats.refused, 1);
    }

    /// RTCP bytes the remote made up — TWCC with any statuses, counts and deltas, REMBs with
    /// any rate and SSRC list, NACKs naming any numbers, in compounds — are read and counted,
    /// never a panic, and never move the target out of its bounds.
    #[test]
    fn made_up_rtcp_is_counted_never_fatal() {
        let mut rig = Rig::new(true);
        rig.send(0, 1_000, 10, 0);
        let mut state = 0x2545_F491_4F6C_DD1Du64;
        let mut next = || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let (mut parsed, mut twcc, mut rembs) = (0u64, 0u64, 0u64);
        for i in 0..20_000u64 {
            let mut compound = Vec::new();
            for _ in 0..1 + next() % 3 {
                // A valid RTCP header: TWCC (205/15), NACK (205/1) or REMB (206/15).
                let (fmt, pt) = [(15, 205), (1, 205), (15, 206)][(next() % 3) as usize];
                let ssrcs = (next() % 4) as usize;
                let len = if pt == 206 {
                    20 + 4 * ssrcs
                } else {
                    20 + (next() % 60) as usize / 4 * 4
                };
                let mut bytes: Vec<u8> = (0..len).map(|_| next() as u8).collect();
                bytes[0] = 0x80 | fmt;
                bytes[1] = pt;
                bytes[2..4].copy_from_slice(&((len / 4 - 1) as u16).to_be_bytes());
                if pt == 206 {
                    bytes[8..12].fill(0);
                    bytes[12..16].copy_from_slice(b"REMB");
                    bytes[16] = ssrcs as u8;
                }
                compound.extend(bytes);
            }
            let Ok(mut packets) = webrtc::rtcp::packet::unmarshal(&mut &compound[..]) else {
                continue;
            };
            parsed += 1;
            for p in &packets {
                twcc += u64::from(p.as_any().is::<TransportLayerCc>());
                rembs += u64::from(p.as_any().is::<ReceiverEstimatedMaximumBitrate>());
            }
            rig.core.on_rtcp(rig.at(1_000 + i), &mut packets);
        }
        assert!(
            parsed > 1_000 && twcc > 100 && rembs > 100,
            "{parsed} {twcc} {rembs}"
        );
        let stats = rig.core.stats(rig.at(30_000));
        assert_eq!(stats.feedback_messages, twcc);
        assert_eq!(stats.rembs, rembs);
        let target = stats.output.expect("started").target;
        assert!(target >= Bitrate::from_kbps(30) && target <= Bitrate::from_kbps(2_500_000));
    }
}
