//! The REMB generator: receive-side estimation for peers and SFUs that only speak REMB.
//!
//! Every inbound RTP packet of a stream that negotiated abs-send-time feeds one
//! `bwe_core::ReceiveSideEstimator` (one estimator per chain: abs-send-time is stamped from the
//! remote sender's single clock, so all its streams share one delay signal). A REMB listing every
//! live SSRC goes out once the estimate rests on a measurement (the first over-use, or the
//! incoming rate adopted after 5 s — before that it is only the start rate, and libwebrtc sends
//! nothing either), then every [`RembConfig::interval`], and at once when the estimate falls by
//! [`RembConfig::drop_threshold`] or more below the last value sent — the two rules libwebrtc's
//! REMB throttling applies. Streams silent for the estimator's `stream_timeout` (2 s) leave the
//! list; when the last one goes the estimate starts afresh.
//!
//! # Where it sits
//!
//! It reads arrival instants, so it must be wire-ward of the jitter buffer (< 13 000), and it
//! generates RTCP, so it must be application-ward of the pacer (> 3 000); [`REMB_SLOT`] sits
//! between the receiver-report and sender-report generators. Packets rebuilt by FEC
//! (`Attribute::RecoveredByFec`) never arrived at the instant they carry and are not fed.
//!
//! # What it never does
//!
//! It never copies or changes media: packets are looked at in place and passed on unchanged, in
//! order. It never panics on what the network sends: malformed headers and extensions are counted
//! in [`RembReceiverStats`] and skipped. It never reads a clock: instants come with packets and
//! timeouts. Its per-packet path allocates nothing once its queues have grown to their working
//! size (proven by `tests/remb_allocations.rs`); only an outgoing REMB allocates.

use std::collections::{HashMap, VecDeque};
use std::time::{Duration, Instant};

use bwe_core::receive_side::{PacketArrival, ReceiveSideConfig, ReceiveSideEstimator};
use bwe_core::rtp_ext::AbsSendTime;
use bwe_core::{Bitrate, DataSize};
use rtc::interceptor::{
    Attribute, AttributedPacket, Interceptor, Packet, Slot, StreamInfo, TaggedPacket,
};
use rtc::sansio::Protocol;
use rtc::shared::TransportContext;
use rtc::shared::error::Error;
use rtc::shared::marshal::MarshalSize;

use crate::epoch::Epoch;
use crate::error::ConfigError;
use crate::events;
use crate::handle::BweHandle;
use crate::remb::extension_id::{ABS_SEND_TIME_URI, negotiated_id};
use crate::remb::packet;
use crate::remb::receiver_stats::RembReceiverStats;

/// Where [`RembInterceptor`] goes in a `Registry`: after the receiver-report generator (10 000),
/// before the sender-report generator (11 000).
pub const REMB_SLOT: Slot = Slot::Custom(10_500);

/// Settings for [`RembInterceptor`].
#[derive(Debug, Clone)]
pub struct RembConfig {
    /// The receive-side estimator (its `stream_timeout`, 2 s by default, drops silent streams).
    pub estimator: ReceiveSideConfig,
    /// A REMB is sent at least this often while there is an estimate (default 1 s, libwebrtc's
    /// `kRembSendInterval` for the periodic send).
    pub interval: Duration,
    /// A REMB is sent at once when the estimate falls by at least this fraction of the last value
    /// sent (default 0.03, libwebrtc's `kSendThresholdPercent` = 97).
    pub drop_threshold: f64,
    /// The SSRC REMBs are sent from; `None` uses the first bound local stream, or 0.
    pub sender_ssrc: Option<u32>,
}

impl Default for RembConfig {
    fn default() -> Self {
        Self {
            estimator: ReceiveSideConfig::default(),
            interval: Duration::from_secs(1),
            drop_threshold: 0.03,
            sender_ssrc: None,
        }
    }
}

/// Receive-side estimation and REMB generation. See the module docs.
pub struct RembInterceptor {
    config: RembConfig,
    estimator: ReceiveSideEstimator,
    epoch: Epoch,
    /// Bound remote streams and the abs-send-time id each negotiated.
    streams: HashMap<u32, Option<u8>>,
    /// RTX SSRC → the media SSRC it repairs (the media stream's extension id applies).
    rtx_streams: HashMap<u32, u32>,
    local_ssrc: Option<u32>,
    last_remb: Option<Bitrate>,
    next_remb_at: Option<Instant>,
    warned_not_negotiated: bool,
    stats: RembReceiverStats,
    handle: BweHandle,
    read_queue: VecDeque<TaggedPacket>,
    write_queue: VecDeque<TaggedPacket>,
}

impl RembInterceptor {
    /// A generator with `config`, publishing to a fresh [`BweHandle`].
    pub fn new(config: RembConfig) -> Result<Self, ConfigError> {
        if config.interval.is_zero() {
            return Err(ConfigError::ZeroRembInterval(config.interval));
        }
        if !(0.0..1.0).contains(&config.drop_threshold) {
            return Err(ConfigError::DropThreshold(config.drop_threshold));
        }
        Ok(Self {
            estimator: ReceiveSideEstimator::new(config.estimator.clone()),
            config,
            epoch: Epoch::new(),
            streams: HashMap::new(),
            rtx_streams: HashMap::new(),
            local_ssrc: None,
            last_remb: None,
            next_remb_at: None,
            warned_not_negotiated: false,
            stats: RembReceiverStats::default(),
            handle: BweHandle::new(),
            read_queue: VecDeque::new(),
            write_queue: VecDeque::new(),
        })
    }

    /// Publishes to `handle` instead (to share one handle across a chain).
    pub fn with_handle(mut self, handle: BweHandle) -> Self {
        self.handle = handle;
        self
    }

    /// A clone of the handle this generator publishes to.
    pub fn handle(&self) -> BweHandle {
        self.handle.clone()
    }

    /// The current figures.
    pub fn stats(&self) -> RembReceiverStats {
        RembReceiverStats {
            core: self.estimator.stats(),
            estimate_valid: self.estimator.valid_estimate(),
            ..self.stats
        }
    }

    fn publish(&self) {
        let stats = self.stats();
        self.handle.update(|s| s.remb_receiver = Some(stats));
    }

    /// Looks at one inbound RTP packet in place and feeds the estimator if it can.
    fn on_rtp(&mut self, now: Instant, message: &AttributedPacket) {
        let Packet::Rtp(rtp) = &message.packet else {
            return;
        };
        self.stats.rtp_packets += 1;
        let header = &rtp.header;
        if header.version != 2 {
            self.stats.malformed_rtp += 1;
            self.publish();
            return;
        }
        // Retransmissions on an RTX stream load the link like media: they are measured too,
        // under the media stream's SSRC (libwebrtc's estimator sees every stamped packet).
        let (ssrc, negotiated) = match self.streams.get(&header.ssrc) {
            Some(&negotiated) => (header.ssrc, negotiated),
            None => match self
                .rtx_streams
                .get(&header.ssrc)
                .and_then(|media| Some((*media, *self.streams.get(media)?)))
            {
                Some(found) => found,
                None => {
                    self.stats.unbound += 1;
                    return;
                }
            },
        };
        let Some(id) = negotiated else {
            self.stats.not_negotiated += 1;
            return;
        };
        if message.has(&Attribute::RecoveredByFec) {
            self.stats.recovered_by_fec += 1;
            return;
        }
        let extension = header
            .extension
            .then(|| header.extensions.iter().find(|e| e.id == id))
            .flatten();
        let Some(extension) = extension else {
            self.stats.missing_extension += 1;
            return;
        };
        let send_time = match AbsSendTime::parse(&extension.payload) {
            Ok(t) => t,
            Err(err) => {
                self.stats.malformed_extension += 1;
                tracing::trace!(target: "bwe::remb", ssrc = header.ssrc, %err, "skipped packet");
                self.publish();
                return;
            }
        };

        let now_ts = self.epoch.timestamp(now);
        let arrival = PacketArrival {
            send_time,
            size: DataSize::from_bytes(rtp.marshal_size() as u64),
            ssrc,
        };
        let before = tracing::enabled!(target: "bwe::detector", tracing::Level::DEBUG)
            .then(|| self.estimator.stats());
        let probes_before = self.estimator.probe_results();
        self.estimator.on_packet(now_ts, arrival);
        // A probe that raised the estimate is news the sender is waiting for: it follows a
        // REMB within a round trip, not at the next interval.
        let probed = self.estimator.probe_results() != probes_before;
        self.stats.fed += 1;
        if let Some(before) = before {
            events::receive_side_changes(now_ts, &before, &self.estimator.stats());
        }

        if probed || self.remb_due(now) {
            self.send_remb(now);
        }
    }

    /// The first valid estimate, a drop of at least the threshold, or the interval elapsed.
    fn remb_due(&self, now: Instant) -> bool {
        let Some(estimate) = self.valid_estimate() else {
            return false;
        };
        match self.last_remb {
            None => true,
            Some(last) => {
                self.next_remb_at.is_none_or(|at| now >= at)
                    || estimate.as_bps_f64()
                        <= last.as_bps_f64() * (1.0 - self.config.drop_threshold)
            }
        }
    }

    /// The estimate, once it rests on a measurement. Before that the estimator holds its start
    /// rate, and a REMB of it would cap the sender at a number nobody measured — libwebrtc sends
    /// none either.
    fn valid_estimate(&self) -> Option<Bitrate> {
        self.estimator
            .estimate()
            .filter(|_| self.estimator.valid_estimate())
    }

    /// Queues a REMB for every live SSRC; with no valid estimate or no live stream, nothing is
    /// sent and the periodic timer stops until there is something to say.
    fn send_remb(&mut self, now: Instant) {
        let (Some(estimate), true) = (
            self.valid_estimate(),
            self.estimator.ssrcs().next().is_some(),
        ) else {
            self.next_remb_at = None;
            return;
        };
        let mut ssrcs: Vec<u32> = self.estimator.ssrcs().collect();
        ssrcs.sort_unstable();
        let sender_ssrc = self.config.sender_ssrc.or(self.local_ssrc).unwrap_or(0);
        tracing::debug!(
            target: "bwe::remb",
            bitrate = %estimate,
            previous = ?self.last_remb,
            ssrcs = ?ssrcs,
            "REMB sent"
        );
        self.stats.rembs_sent += 1;
        self.stats.last_remb = Some(estimate);
        self.stats.last_remb_ssrcs = ssrcs.len();
        let remb = packet::build(sender_ssrc, estimate, ssrcs);
        self.write_queue.push_back(TaggedPacket {
            now,
            transport: TransportContext::default(),
            message: AttributedPacket::new(Packet::Rtcp(vec![Box::new(remb)])),
        });
        self.last_remb = Some(estimate);
        // An interval too long to add means "never again" rather than a panic.
        self.next_remb_at = now.checked_add(self.config.interval);
        self.publish();
    }
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for RembInterceptor {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = Error;
    type Time = Instant;

    fn handle_read(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        self.on_rtp(msg.now, &msg.message);
        self.read_queue.push_back(msg);
        Ok(())
    }

    fn poll_read(&mut self) -> Option<Self::Rout> {
        self.read_queue.pop_front()
    }

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        self.write_queue.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<Self::Wout> {
        self.write_queue.pop_front()
    }

    fn handle_timeout(&mut self, now: Instant) -> Result<(), Self::Error> {
        let now_ts = self.epoch.timestamp(now);
        let before = self.estimator.stats();
        self.estimator.handle_timeout(now_ts);
        events::receive_side_changes(now_ts, &before, &self.estimator.stats());
        if self.next_remb_at.is_some_and(|at| now >= at) {
            self.send_remb(now);
        } else {
            self.publish();
        }
        Ok(())
    }

    fn poll_timeout(&mut self) -> Option<Self::Time> {
        let expiry = self
            .estimator
            .poll_timeout()
            .and_then(|t| self.epoch.instant(t));
        match (self.next_remb_at, expiry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }
}

impl Interceptor for RembInterceptor {
    fn bind_local_stream(&mut self, info: &StreamInfo) {
        self.local_ssrc.get_or_insert(info.ssrc);
    }

    fn unbind_local_stream(&mut self, info: &StreamInfo) {
        if self.local_ssrc == Some(info.ssrc) {
            self.local_ssrc = None;
        }
    }

    fn bind_remote_stream(&mut self, info: &StreamInfo) {
        let id = negotiated_id(info, ABS_SEND_TIME_URI);
        if id.is_none() && !self.warned_not_negotiated {
            self.warned_not_negotiated = true;
            tracing::warn!(
                target: "bwe::remb",
                ssrc = info.ssrc,
                "abs-send-time was not negotiated for this stream: no receive-side estimate or \
                 REMB for it (register the extension on the MediaEngine); media passes untouched"
            );
        }
        self.streams.insert(info.ssrc, id);
        if let Some(rtx) = info.ssrc_rtx {
            self.rtx_streams.insert(rtx, info.ssrc);
        }
    }

    fn unbind_remote_stream(&mut self, info: &StreamInfo) {
        self.streams.remove(&info.ssrc);
        if let Some(rtx) = info.ssrc_rtx {
            self.rtx_streams.remove(&rtx);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc::interceptor::RTPHeaderExtension;
    use rtc::rtcp::payload_feedbacks::receiver_estimated_maximum_bitrate::ReceiverEstimatedMaximumBitrate;
    use rtc::rtp;
    use rtc::shared::marshal::{Marshal, Unmarshal};

    fn stream(ssrc: u32, abs_send_time_id: Option<u16>) -> StreamInfo {
        StreamInfo {
            ssrc,
            clock_rate: 90_000,
            mime_type: "video/VP8".to_owned(),
            payload_type: 96,
            rtp_header_extensions: abs_send_time_id
                .map(|id| RTPHeaderExtension {
                    uri: ABS_SEND_TIME_URI.to_owned(),
                    id,
                })
                .into_iter()
                .collect(),
            ..StreamInfo::default()
        }
    }

    /// An RTP packet as it comes off the wire: built, marshalled and parsed back.
    fn wire_rtp(ssrc: u32, seq: u16, ext: Option<(u8, &[u8])>) -> rtp::Packet {
        let mut header = rtp::header::Header {
            version: 2,
            payload_type: 96,
            sequence_number: seq,
            ssrc,
            ..Default::default()
        };
        if let Some((id, payload)) = ext {
            header.extension = true;
            header.extension_profile = 0xBEDE;
            header
                .set_extension(id, payload.to_vec().into())
                .expect("valid extension");
        }
        let packet = rtp::Packet {
            header,
            payload: vec![0u8; 1000].into(),
        };
        let bytes = packet.marshal().expect("marshal");
        rtp::Packet::unmarshal(&mut &bytes[..]).expect("parse")
    }

    fn tagged(now: Instant, packet: rtp::Packet) -> TaggedPacket {
        TaggedPacket {
            now,
            transport: TransportContext::default(),
            message: AttributedPacket::new(Packet::Rtp(packet)),
        }
    }

    fn rembs(remb: &mut RembInterceptor) -> Vec<ReceiverEstimatedMaximumBitrate> {
        let mut out = Vec::new();
        while let Some(p) = remb.poll_write() {
            if let Packet::Rtcp(pkts) = &p.message.packet {
                for pkt in pkts {
                    if let Some(r) = pkt
                        .as_any()
                        .downcast_ref::<ReceiverEstimatedMaximumBitrate>()
                    {
                        out.push(r.clone());
                    }
                }
            }
        }
        out
    }

    /// Feeds 1000-byte packets every 10 ms on `ssrc` for `[from_ms, to_ms)`, arriving
    /// `delay_ms(t)` after they were sent; returns the REMBs emitted with their instants.
    fn feed_with(
        remb: &mut RembInterceptor,
        base: Instant,
        ssrc: u32,
        id: u8,
        (from_ms, to_ms): (u64, u64),
        delay_ms: impl Fn(u64) -> u64,
    ) -> Vec<(Instant, ReceiverEstimatedMaximumBitrate)> {
        let mut out = Vec::new();
        for (i, t) in (from_ms..to_ms).step_by(10).enumerate() {
            let send = bwe_core::Timestamp::from_millis(t as i64);
            let ast = AbsSendTime::from_timestamp(send).to_bytes();
            let packet = wire_rtp(ssrc, i as u16, Some((id, &ast)));
            let now = base + Duration::from_millis(t + delay_ms(t));
            remb.handle_read(tagged(now, packet)).expect("read");
            while remb.poll_read().is_some() {}
            out.extend(rembs(remb).into_iter().map(|r| (now, r)));
        }
        out
    }

    /// Bad settings are refused when built, not discovered in the media path.
    #[test]
    fn invalid_config_is_an_error_value() {
        let zero = RembConfig {
            interval: Duration::ZERO,
            ..RembConfig::default()
        };
        assert_eq!(
            RembInterceptor::new(zero).err(),
            Some(ConfigError::ZeroRembInterval(Duration::ZERO))
        );
        let bad = RembConfig {
            drop_threshold: 1.5,
            ..RembConfig::default()
        };
        assert_eq!(
            RembInterceptor::new(bad).err(),
            Some(ConfigError::DropThreshold(1.5))
        );
    }

    /// Media must reach the application unchanged and in order, whatever the estimator does.
    #[test]
    fn media_passes_through_unchanged() {
        let mut remb = RembInterceptor::new(RembConfig::default()).expect("valid");
        remb.bind_remote_stream(&stream(9, Some(3)));
        let base = Instant::now();
        let ast = AbsSendTime::from_raw(0x12_3456).to_bytes();
        let packet = wire_rtp(9, 77, Some((3, &ast)));
        remb.handle_read(tagged(base, packet.clone()))
            .expect("read");
        let out = remb.poll_read().expect("passed on");
        assert!(matches!(&out.message.packet, Packet::Rtp(p) if *p == packet));
        assert_eq!(remb.stats().fed, 1);
    }

    /// The start rate is nobody's measurement: no REMB until the estimate rests on one (here
    /// the incoming rate, adopted 5 s after it was first measured), then one per interval.
    #[test]
    fn no_remb_until_the_estimate_is_measured_then_one_per_interval() {
        let mut remb = RembInterceptor::new(RembConfig::default()).expect("valid");
        remb.bind_remote_stream(&stream(9, Some(3)));
        let base = Instant::now();
        let sent = feed_with(&mut remb, base, 9, 3, (0, 9_000), |_| 30);
        let (first_at, first) = sent.first().cloned().expect("a REMB once valid");
        let first_at = first_at - base;
        assert!(
            first_at >= Duration::from_secs(5) && first_at <= Duration::from_secs(7),
            "first REMB at {first_at:?}"
        );
        let kbps = f64::from(first.bitrate) / 1000.0;
        assert!(
            (700.0..=900.0).contains(&kbps),
            "{kbps} kbit/s for ~830 arriving"
        );
        // Steady growth never drops 3 %: the rest are periodic, one per second until 9 s.
        assert!((3..=5).contains(&sent.len()), "{} REMBs", sent.len());
        assert!(sent.iter().all(|(_, r)| r.ssrcs == vec![9]));
        let deadline = remb.poll_timeout().expect("periodic REMB pending");
        assert!(deadline > base + Duration::from_millis(9_020));
        assert!(deadline <= base + Duration::from_millis(10_030));
    }

    /// A stream without the extension negotiated is passed on and never estimated.
    #[test]
    fn stream_without_abs_send_time_is_not_estimated() {
        let mut remb = RembInterceptor::new(RembConfig::default()).expect("valid");
        remb.bind_remote_stream(&stream(9, None));
        let base = Instant::now();
        let ast = AbsSendTime::from_raw(1).to_bytes();
        for i in 0..100u16 {
            let now = base + Duration::from_millis(u64::from(i) * 10);
            remb.handle_read(tagged(now, wire_rtp(9, i, Some((3, &ast)))))
                .expect("read");
            assert!(remb.poll_read().is_some());
        }
        assert!(rembs(&mut remb).is_empty());
        assert_eq!(remb.stats().not_negotiated, 100);
        assert_eq!(remb.stats().core.estimate, None);
        assert_eq!(remb.poll_timeout(), None, "nothing to wake for");
    }

    /// A sharp drop must not wait for the periodic REMB: the sender is overshooting now.
    #[test]
    fn a_drop_of_three_percent_is_sent_at_once() {
        let mut remb = RembInterceptor::new(RembConfig::default()).expect("valid");
        remb.bind_remote_stream(&stream(9, Some(3)));
        let base = Instant::now();
        // Past the 5 s in which the receive side adopts the incoming rate as its estimate.
        let mut sent = feed_with(&mut remb, base, 9, 3, (0, 6_000), |_| 30);
        // Then a queue builds: each packet waits 5 ms longer than the one before.
        sent.extend(feed_with(&mut remb, base, 9, 3, (6_000, 6_600), |t| {
            30 + (t - 6_000) / 2
        }));
        let (prev, drop) = sent
            .windows(2)
            .map(|w| (w[0].clone(), w[1].clone()))
            .find(|(a, b)| f64::from(b.1.bitrate) < f64::from(a.1.bitrate))
            .expect("the queue brings the estimate down");
        let (gap, ratio) = (
            drop.0 - prev.0,
            f64::from(drop.1.bitrate) / f64::from(prev.1.bitrate),
        );
        assert!(
            gap < Duration::from_millis(500),
            "sent {gap:?} after the previous REMB: the drop did not wait for the interval"
        );
        assert!(
            (0.5..=0.97).contains(&ratio),
            "dropped to {ratio:.2} of the last value"
        );
    }

    /// Extension payloads of the wrong length are counted and skipped, never a panic.
    #[test]
    fn malformed_extension_is_counted_and_skipped() {
        let mut remb = RembInterceptor::new(RembConfig::default()).expect("valid");
        let handle = remb.handle();
        remb.bind_remote_stream(&stream(9, Some(3)));
        let now = Instant::now();
        for (seq, payload) in [(1u16, &[1u8, 2][..]), (2, &[1, 2, 3, 4])] {
            remb.handle_read(tagged(now, wire_rtp(9, seq, Some((3, payload)))))
                .expect("read");
            assert!(remb.poll_read().is_some(), "media still passes");
        }
        remb.handle_read(tagged(now, wire_rtp(9, 3, None)))
            .expect("read");
        let mut bad_version = wire_rtp(9, 4, None);
        bad_version.header.version = 1;
        remb.handle_read(tagged(now, bad_version)).expect("read");
        remb.handle_read(tagged(now, wire_rtp(10, 5, None)))
            .expect("read");
        let stats = handle.snapshot().remb_receiver.expect("published");
        assert_eq!(stats.malformed_extension, 2);
        assert_eq!(stats.malformed_rtp, 1);
        assert_eq!(remb.stats().missing_extension, 1);
        assert_eq!(remb.stats().unbound, 1);
        assert_eq!(remb.stats().fed, 0);
    }

    /// A packet FEC rebuilt never arrived at the instant it carries: it must not look like one
    /// that did.
    #[test]
    fn fec_recovered_packets_are_not_fed() {
        let mut remb = RembInterceptor::new(RembConfig::default()).expect("valid");
        remb.bind_remote_stream(&stream(9, Some(3)));
        let ast = AbsSendTime::from_raw(5).to_bytes();
        let mut msg = tagged(Instant::now(), wire_rtp(9, 1, Some((3, &ast))));
        msg.message.add(Attribute::RecoveredByFec);
        remb.handle_read(msg).expect("read");
        assert!(remb.poll_read().is_some());
        assert_eq!(remb.stats().fed, 0);
        assert_eq!(remb.stats().recovered_by_fec, 1, "skipped, but counted");
    }
}
