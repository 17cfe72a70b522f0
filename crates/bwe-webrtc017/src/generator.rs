//! The REMB generator's state machine, without I/O: packets and instants in, REMBs out.
//!
//! Every inbound RTP packet of a stream that negotiated abs-send-time feeds one
//! `bwe_core::receive_side::ReceiveSideEstimator` (one per PeerConnection: abs-send-time is
//! stamped from the remote sender's single clock, so all its streams share one delay signal). A
//! REMB listing every live SSRC is queued once the estimate rests on a measurement (the first
//! over-use, or the incoming rate adopted after 5 s; libwebrtc sends nothing before either), then
//! every [`RembConfig::interval`], at once when the estimate falls by
//! [`RembConfig::drop_threshold`] or more below the last value sent, and at once when a probe
//! cluster set the estimate. Streams silent for the estimator's `stream_timeout` (2 s) leave the
//! list; when the last one goes the estimate starts afresh.
//!
//! The async interceptor ([`crate::RembInterceptor`]) owns one of these behind a lock, feeds it
//! from its RTP reader and drains [`RembGenerator::poll_remb`] from a task that sleeps until
//! [`RembGenerator::poll_timeout`]. Keeping the logic here, free of tokio, is what lets the unit
//! tests drive intervals, drops and timeouts with instants they choose.
//!
//! It never panics on what the network sends: malformed headers and extensions are counted in
//! [`RembStats`] and skipped. The per-packet path allocates nothing once its tables are built;
//! only a REMB allocates (its SSRC list).

use std::collections::{HashMap, VecDeque};
use std::time::Instant;

use bwe_core::receive_side::{PacketArrival, ReceiveSideEstimator};
use bwe_core::rtp_ext::AbsSendTime;
use bwe_core::{Bitrate, DataSize};
use interceptor::stream_info::StreamInfo;
use webrtc::rtcp::payload_feedbacks::receiver_estimated_maximum_bitrate::ReceiverEstimatedMaximumBitrate;
use webrtc::rtp::packet::Packet as RtpPacket;
use webrtc_util::MarshalSize;

use crate::config::{ConfigError, RembConfig};
use crate::epoch::Epoch;
use crate::extension_id::{ABS_SEND_TIME_URI, negotiated_id};
use crate::stats::RembStats;

/// Receive-side estimation and the REMB schedule. See the module docs.
#[derive(Debug)]
pub struct RembGenerator {
    config: RembConfig,
    estimator: ReceiveSideEstimator,
    epoch: Epoch,
    /// Bound remote streams and the abs-send-time id each negotiated.
    streams: HashMap<u32, Option<u8>>,
    /// Auxiliary SSRC (RTX) → the media SSRC it repairs (the media stream's id applies).
    associated: HashMap<u32, u32>,
    local_ssrc: Option<u32>,
    last_remb: Option<Bitrate>,
    next_remb_at: Option<Instant>,
    warned_not_negotiated: bool,
    stats: RembStats,
    queue: VecDeque<ReceiverEstimatedMaximumBitrate>,
}

impl RembGenerator {
    /// A generator with `config`.
    pub fn new(config: RembConfig) -> Result<Self, ConfigError> {
        config.validate()?;
        Ok(Self {
            estimator: ReceiveSideEstimator::new(config.estimator.clone()),
            config,
            epoch: Epoch::new(),
            streams: HashMap::new(),
            associated: HashMap::new(),
            local_ssrc: None,
            last_remb: None,
            next_remb_at: None,
            warned_not_negotiated: false,
            stats: RembStats::default(),
            queue: VecDeque::new(),
        })
    }

    /// The current figures.
    pub fn stats(&self) -> RembStats {
        RembStats {
            core: self.estimator.stats(),
            estimate_valid: self.estimator.valid_estimate(),
            ..self.stats
        }
    }

    /// The estimate, once it rests on a measurement. Before that the estimator holds its start
    /// rate, and a REMB of it would cap the sender at a number nobody measured.
    pub fn valid_estimate(&self) -> Option<Bitrate> {
        self.estimator
            .estimate()
            .filter(|_| self.estimator.valid_estimate())
    }

    /// A local (sending) stream was bound: its SSRC can sign REMBs.
    pub fn bind_local_stream(&mut self, info: &StreamInfo) {
        self.local_ssrc.get_or_insert(info.ssrc);
    }

    /// A local stream went away.
    pub fn unbind_local_stream(&mut self, info: &StreamInfo) {
        if self.local_ssrc == Some(info.ssrc) {
            self.local_ssrc = None;
        }
    }

    /// A remote stream was bound: remember which abs-send-time id it negotiated.
    pub fn bind_remote_stream(&mut self, info: &StreamInfo) {
        if let Some(media) = &info.associated_stream {
            self.associated.insert(info.ssrc, media.ssrc);
            return;
        }
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
    }

    /// A remote stream went away.
    pub fn unbind_remote_stream(&mut self, info: &StreamInfo) {
        self.streams.remove(&info.ssrc);
        self.associated.remove(&info.ssrc);
    }

    /// A read below the generator failed; the error goes on to the application.
    pub fn on_read_error(&mut self) {
        self.stats.read_errors += 1;
    }

    /// The RTCP writer refused a REMB.
    pub fn on_write_error(&mut self) {
        self.stats.remb_write_errors += 1;
    }

    /// Looks at one inbound RTP packet that arrived at `now` and feeds the estimator if it can.
    pub fn on_rtp(&mut self, now: Instant, rtp: &RtpPacket) {
        self.stats.rtp_packets += 1;
        let header = &rtp.header;
        if header.version != 2 {
            self.stats.malformed_rtp += 1;
            return;
        }
        // Retransmissions on an RTX stream load the link like media: they are measured too,
        // under the media stream's SSRC (libwebrtc's estimator sees every stamped packet).
        let media_ssrc = self
            .associated
            .get(&header.ssrc)
            .copied()
            .unwrap_or(header.ssrc);
        let Some(&negotiated) = self.streams.get(&media_ssrc) else {
            self.stats.unbound += 1;
            return;
        };
        let Some(id) = negotiated else {
            self.stats.not_negotiated += 1;
            return;
        };
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
                return;
            }
        };

        let now_ts = self.epoch.timestamp(now);
        let arrival = PacketArrival {
            send_time,
            size: DataSize::from_bytes(rtp.marshal_size() as u64),
            ssrc: media_ssrc,
        };
        let probes_before = self.estimator.probe_results();
        self.estimator.on_packet(now_ts, arrival);
        // A probe that raised the estimate is news the sender is waiting for: it follows a REMB
        // within a round trip, not at the next interval.
        let probed = self.estimator.probe_results() != probes_before;
        self.stats.fed += 1;
        if probed || self.remb_due(now) {
            self.queue_remb(now);
        }
    }

    /// Expires silent streams and sends the periodic REMB when `now` has reached their times.
    /// Harmless to call early.
    pub fn handle_timeout(&mut self, now: Instant) {
        let now_ts = self.epoch.timestamp(now);
        self.estimator.handle_timeout(now_ts);
        if self.next_remb_at.is_some_and(|at| now >= at) {
            self.queue_remb(now);
        }
    }

    /// When [`Self::handle_timeout`] next has work: the periodic REMB or a stream's expiry.
    pub fn poll_timeout(&self) -> Option<Instant> {
        let expiry = self
            .estimator
            .poll_timeout()
            .and_then(|t| self.epoch.instant(t));
        match (self.next_remb_at, expiry) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        }
    }

    /// Whether a REMB waits in [`Self::poll_remb`].
    pub fn has_queued_remb(&self) -> bool {
        !self.queue.is_empty()
    }

    /// The next REMB to send, oldest first.
    pub fn poll_remb(&mut self) -> Option<ReceiverEstimatedMaximumBitrate> {
        self.queue.pop_front()
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

    /// Queues a REMB for every live SSRC; with no valid estimate or no live stream, nothing is
    /// queued and the periodic timer stops until there is something to say.
    fn queue_remb(&mut self, now: Instant) {
        let (Some(estimate), true) = (
            self.valid_estimate(),
            self.estimator.ssrcs().next().is_some(),
        ) else {
            self.next_remb_at = None;
            return;
        };
        let mut ssrcs: Vec<u32> = self.estimator.ssrcs().collect();
        ssrcs.sort_unstable();
        tracing::debug!(
            target: "bwe::remb",
            bitrate = %estimate,
            previous = ?self.last_remb,
            ssrcs = ?ssrcs,
            "REMB queued"
        );
        self.stats.rembs_sent += 1;
        self.stats.last_remb = Some(estimate);
        self.stats.last_remb_ssrcs = ssrcs.len();
        self.queue.push_back(ReceiverEstimatedMaximumBitrate {
            sender_ssrc: self.config.sender_ssrc.or(self.local_ssrc).unwrap_or(0),
            // f32 carries 24 significant bits; REMB itself carries 18, so nothing is lost here.
            bitrate: estimate.as_bps_f64() as f32,
            ssrcs,
        });
        self.last_remb = Some(estimate);
        // An interval too long to add means "never again" rather than a panic.
        self.next_remb_at = now.checked_add(self.config.interval);
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use interceptor::stream_info::{AssociatedStreamInfo, RTPHeaderExtension};
    use webrtc::rtp::header::Header;
    use webrtc_util::{Marshal, Unmarshal};

    use super::*;

    fn stream(ssrc: u32, abs_send_time_id: Option<isize>) -> StreamInfo {
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
    fn wire_rtp(ssrc: u32, seq: u16, ext: Option<(u8, &[u8])>) -> RtpPacket {
        let mut header = Header {
            version: 2,
            payload_type: 96,
            sequence_number: seq,
            ssrc,
            ..Header::default()
        };
        if let Some((id, payload)) = ext {
            header.extension = true;
            header.extension_profile = 0xBEDE;
            header
                .set_extension(id, bytes::Bytes::copy_from_slice(payload))
                .expect("valid extension");
        }
        let packet = RtpPacket {
            header,
            payload: vec![0u8; 1000].into(),
        };
        let bytes = packet.marshal().expect("marshal");
        RtpPacket::unmarshal(&mut &bytes[..]).expect("parse")
    }

    fn drain(remb: &mut RembGenerator) -> Vec<ReceiverEstimatedMaximumBitrate> {
        std::iter::from_fn(|| remb.poll_remb()).collect()
    }

    /// Feeds 1000-byte packets every 10 ms on `ssrc` for `[from_ms, to_ms)`, arriving
    /// `delay_ms(t)` after they were sent, running timeouts as a task would; returns the REMBs
    /// with their instants.
    fn feed_with(
        remb: &mut RembGenerator,
        base: Instant,
        ssrc: u32,
        (from_ms, to_ms): (u64, u64),
        delay_ms: impl Fn(u64) -> u64,
    ) -> Vec<(Instant, ReceiverEstimatedMaximumBitrate)> {
        let mut out = Vec::new();
        for (i, t) in (from_ms..to_ms).step_by(10).enumerate() {
            let send = bwe_core::Timestamp::from_millis(t as i64);
            let ast = AbsSendTime::from_timestamp(send).to_bytes();
            let now = base + Duration::from_millis(t + delay_ms(t));
            if remb.poll_timeout().is_some_and(|at| at <= now) {
                remb.handle_timeout(now);
            }
            remb.on_rtp(now, &wire_rtp(ssrc, i as u16, Some((3, &ast))));
            out.extend(drain(remb).into_iter().map(|r| (now, r)));
        }
        out
    }

    fn generator() -> RembGenerator {
        let mut remb = RembGenerator::new(RembConfig::default()).expect("valid");
        remb.bind_remote_stream(&stream(9, Some(3)));
        remb
    }

    /// The start rate is nobody's measurement: no REMB until the estimate rests on one (here
    /// the incoming rate, adopted 5 s after it was first measured), then one per interval.
    #[test]
    fn no_remb_until_the_estimate_is_measured_then_one_per_interval() {
        let mut remb = generator();
        let base = Instant::now();
        let sent = feed_with(&mut remb, base, 9, (0, 9_000), |_| 30);
        let (first_at, first) = sent.first().cloned().expect("a REMB once valid");
        let first_at = first_at - base;
        assert!(
            (Duration::from_secs(5)..=Duration::from_secs(7)).contains(&first_at),
            "first REMB at {first_at:?}"
        );
        let kbps = f64::from(first.bitrate) / 1000.0;
        assert!(
            (700.0..=900.0).contains(&kbps),
            "{kbps} kbit/s for ~830 arriving"
        );
        assert!((3..=5).contains(&sent.len()), "{} REMBs", sent.len());
        for pair in sent.windows(2) {
            let gap = pair[1].0 - pair[0].0;
            assert!(
                (Duration::from_millis(990)..=Duration::from_millis(1_030)).contains(&gap),
                "periodic REMBs {gap:?} apart"
            );
        }
        assert!(sent.iter().all(|(_, r)| r.ssrcs == vec![9]));
        let deadline = remb.poll_timeout().expect("periodic REMB pending");
        assert!(deadline > base + Duration::from_millis(9_020));
        assert!(deadline <= base + Duration::from_millis(10_030));
    }

    /// The periodic REMB comes from the timer alone when no packet arrives to carry it.
    #[test]
    fn the_interval_is_kept_by_the_timer_between_packets() {
        let config = RembConfig {
            interval: Duration::from_millis(250),
            ..RembConfig::default()
        };
        let mut remb = RembGenerator::new(config).expect("valid");
        remb.bind_remote_stream(&stream(9, Some(3)));
        let base = Instant::now();
        let sent = feed_with(&mut remb, base, 9, (0, 6_000), |_| 30);
        let last = sent.last().expect("valid by 6 s").0;
        let due = remb.poll_timeout().expect("a periodic REMB pending");
        assert_eq!(due, last + Duration::from_millis(250));
        remb.handle_timeout(due);
        let rembs = drain(&mut remb);
        assert_eq!(rembs.len(), 1, "one REMB at the deadline, no packet needed");
        assert_eq!(rembs[0].ssrcs, vec![9]);
    }

    /// A sharp drop must not wait for the periodic REMB: the sender is overshooting now.
    #[test]
    fn a_drop_of_three_percent_is_sent_at_once() {
        let mut remb = generator();
        let base = Instant::now();
        let mut sent = feed_with(&mut remb, base, 9, (0, 6_000), |_| 30);
        // Then a queue builds: each packet waits 5 ms longer than the one before.
        sent.extend(feed_with(&mut remb, base, 9, (6_000, 6_600), |t| {
            30 + (t - 6_000) / 2
        }));
        let (prev, drop) = sent
            .windows(2)
            .map(|w| (w[0].clone(), w[1].clone()))
            .find(|(a, b)| b.1.bitrate < a.1.bitrate)
            .expect("the queue brings the estimate down");
        let gap = drop.0 - prev.0;
        let ratio = f64::from(drop.1.bitrate) / f64::from(prev.1.bitrate);
        assert!(
            gap < Duration::from_millis(500),
            "{gap:?} after the previous REMB"
        );
        assert!((0.5..=0.97).contains(&ratio), "dropped to {ratio:.2}");
    }

    /// A stream silent for 2 s leaves the SSRC list; the others stay.
    #[test]
    fn silent_streams_leave_the_remb_after_two_seconds() {
        let mut remb = generator();
        remb.bind_remote_stream(&stream(10, Some(3)));
        let base = Instant::now();
        // Both streams until 6 s (interleaved by 5 ms), then only stream 9.
        for (i, t) in (0..6_000u64).step_by(10).enumerate() {
            for (ssrc, offset) in [(9, 0), (10, 5)] {
                let send = bwe_core::Timestamp::from_millis((t + offset) as i64);
                let ast = AbsSendTime::from_timestamp(send).to_bytes();
                let now = base + Duration::from_millis(t + offset + 30);
                remb.on_rtp(now, &wire_rtp(ssrc, i as u16, Some((3, &ast))));
            }
        }
        let both = drain(&mut remb);
        assert_eq!(both.last().expect("valid by 6 s").ssrcs, vec![9, 10]);
        let sent = feed_with(&mut remb, base, 9, (6_000, 9_000), |_| 30);
        let last = sent.last().expect("periodic REMBs continue");
        assert_eq!(last.1.ssrcs, vec![9], "stream 10 expired");
        assert!(
            last.0 >= base + Duration::from_secs(8),
            "{:?}",
            last.0 - base
        );
        assert_eq!(remb.stats().core.live_streams, 1);
        // When the last stream falls silent too, the REMBs stop and nothing is left to wake for.
        let expiry = remb.poll_timeout().expect("expiry pending");
        remb.handle_timeout(expiry + Duration::from_secs(3));
        assert!(drain(&mut remb).is_empty());
        assert_eq!(remb.stats().core.live_streams, 0);
        assert_eq!(remb.poll_timeout(), None, "nothing to wake for");
    }

    /// Retransmissions on an RTX stream are measured under the media stream's SSRC.
    #[test]
    fn rtx_packets_count_under_the_media_ssrc() {
        let mut remb = generator();
        let rtx = StreamInfo {
            associated_stream: Some(AssociatedStreamInfo {
                ssrc: 9,
                payload_type: 96,
            }),
            ..stream(77, None)
        };
        remb.bind_remote_stream(&rtx);
        let ast = AbsSendTime::from_raw(5).to_bytes();
        remb.on_rtp(Instant::now(), &wire_rtp(77, 1, Some((3, &ast))));
        assert_eq!(remb.stats().fed, 1);
        assert_eq!(remb.estimator.ssrcs().collect::<Vec<_>>(), vec![9]);
    }

    /// A stream without the extension negotiated is passed on and never estimated.
    #[test]
    fn stream_without_abs_send_time_is_not_estimated() {
        let mut remb = RembGenerator::new(RembConfig::default()).expect("valid");
        remb.bind_remote_stream(&stream(9, None));
        let base = Instant::now();
        let ast = AbsSendTime::from_raw(1).to_bytes();
        for i in 0..100u16 {
            let now = base + Duration::from_millis(u64::from(i) * 10);
            remb.on_rtp(now, &wire_rtp(9, i, Some((3, &ast))));
        }
        assert!(drain(&mut remb).is_empty());
        assert_eq!(remb.stats().not_negotiated, 100);
        assert_eq!(remb.stats().core.estimate, None);
        assert_eq!(remb.poll_timeout(), None, "nothing to wake for");
    }

    /// Malformed headers and extensions are counted and skipped, never a panic.
    #[test]
    fn malformed_packets_are_counted_and_skipped() {
        let mut remb = generator();
        let now = Instant::now();
        for (seq, payload) in [(1u16, &[1u8, 2][..]), (2, &[1, 2, 3, 4])] {
            remb.on_rtp(now, &wire_rtp(9, seq, Some((3, payload))));
        }
        remb.on_rtp(now, &wire_rtp(9, 3, None));
        let mut bad_version = wire_rtp(9, 4, None);
        bad_version.header.version = 1;
        remb.on_rtp(now, &bad_version);
        remb.on_rtp(now, &wire_rtp(10, 5, None));
        remb.on_read_error();
        let stats = remb.stats();
        assert_eq!(stats.rtp_packets, 5);
        assert_eq!(stats.malformed_extension, 2);
        assert_eq!(stats.malformed_rtp, 1);
        assert_eq!(stats.missing_extension, 1);
        assert_eq!(stats.unbound, 1);
        assert_eq!(stats.read_errors, 1);
        assert_eq!(stats.fed, 0);
    }
}
