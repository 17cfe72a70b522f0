//! The `tracing` events the components promise, seen by a subscriber: one warning when a stream
//! has no abs-send-time, and an event for every target change.

mod support;

use std::sync::Arc;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use bwe_interceptor::{BweSendSide, RembConfig, RembInterceptor};
use rtc::interceptor::{BandwidthEstimator, Interceptor, PacketReport};
use rtc::rtcp::transport_feedbacks::cc_feedback_report::Ecn;
use rtc::sansio::Protocol;
use tracing::span::{Attributes, Id, Record};
use tracing::{Event, Level, Metadata, Subscriber};

use support::{inbound_rtp, rtp_bytes, video_stream};

/// Records `(level, target)` of every event.
#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<(Level, String)>>>);

impl Recorder {
    fn count(&self, level: Level, target: &str) -> usize {
        let events = self.0.lock().unwrap_or_else(|e| e.into_inner());
        events
            .iter()
            .filter(|(l, t)| *l == level && t == target)
            .count()
    }
}

impl Subscriber for Recorder {
    fn enabled(&self, _: &Metadata<'_>) -> bool {
        true
    }
    fn new_span(&self, _: &Attributes<'_>) -> Id {
        Id::from_u64(1)
    }
    fn record(&self, _: &Id, _: &Record<'_>) {}
    fn record_follows_from(&self, _: &Id, _: &Id) {}
    fn event(&self, event: &Event<'_>) {
        let meta = event.metadata();
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push((*meta.level(), meta.target().to_owned()));
    }
    fn enter(&self, _: &Id) {}
    fn exit(&self, _: &Id) {}
}

/// A misconfigured SDP is worth one warning, not one per stream or per packet.
#[test]
fn missing_abs_send_time_warns_once() {
    let recorder = Recorder::default();
    tracing::subscriber::with_default(recorder.clone(), || {
        let mut remb = RembInterceptor::new(RembConfig::default()).expect("valid");
        for ssrc in [1, 2, 3] {
            remb.bind_remote_stream(&video_stream(ssrc, None, Some(5)));
        }
        let base = Instant::now();
        for i in 0..50u16 {
            let bytes = rtp_bytes(1 + u32::from(i % 3), i, &[], 500, false);
            let now = base + Duration::from_millis(u64::from(i) * 10);
            remb.handle_read(inbound_rtp(now, &bytes)).expect("read");
            assert!(remb.poll_read().is_some(), "media untouched");
        }
    });
    assert_eq!(recorder.count(Level::WARN, "bwe::remb"), 1);
}

/// Every change of the send-side target is an event, and so are the detector's and AIMD's.
#[test]
fn send_side_decisions_are_traced() {
    let recorder = Recorder::default();
    let changes = tracing::subscriber::with_default(recorder.clone(), || {
        let mut ours = BweSendSide::default();
        let base = Instant::now();
        let mut changes = 0;
        let mut last = ours.target_bitrate();
        // 1200 B every 10 ms; from 2 s on each arrives 4 ms later than the one before.
        for batch in 0..40u64 {
            let reports: Vec<PacketReport> = (0..10u64)
                .map(|i| {
                    let id = batch * 10 + i;
                    let send_ms = id * 10;
                    let queue_ms = id.saturating_sub(200) * 4;
                    PacketReport {
                        ssrc: 1,
                        id,
                        rtp_sequence_number: id as u16,
                        is_twcc: true,
                        twcc_sequence_number: id as u16,
                        size: 1200,
                        arrived: true,
                        departure: base + Duration::from_millis(send_ms),
                        arrival: Some(Duration::from_millis(send_ms + 20 + queue_ms)),
                        ecn: Ecn::NotEct,
                    }
                })
                .collect();
            ours.on_reports(base + Duration::from_millis(batch * 100 + 150), &reports);
            if ours.target_bitrate() != last {
                changes += 1;
                last = ours.target_bitrate();
            }
        }
        changes
    });
    assert!(
        changes >= 2,
        "the scenario moves the target ({changes} changes)"
    );
    assert_eq!(recorder.count(Level::DEBUG, "bwe::target"), changes);
    assert!(
        recorder.count(Level::DEBUG, "bwe::detector") >= 1,
        "over-use seen"
    );
    assert!(recorder.count(Level::DEBUG, "bwe::aimd") >= 1);
}
