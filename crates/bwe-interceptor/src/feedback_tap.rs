//! Records which sequence numbers each incoming feedback message reported on, so that a packet
//! whose feedback was lost is not taken for a lost packet.
//!
//! rtc-interceptor 0.21.1's send history (`rtpfb::History::take_reports`) reports every packet
//! older than the newest acknowledged one that no feedback marked as arrived with
//! `arrived: false` — whether a TWCC message said "not received" or no message ever mentioned
//! it because the message covering it was lost on the way back. A loss controller fed both as
//! losses reads 10 % feedback loss as 10 % media loss. [`FeedbackTap`] sits wire-ward of rtc's
//! `CongestionControlInterceptor` ([`FEEDBACK_TAP_SLOT`]), so it sees each TWCC and RFC 8888
//! message first and records its range in the shared controller's
//! [`FeedbackCoverage`](bwe_core::FeedbackCoverage); [`BweSendSide`](crate::BweSendSide) then
//! leaves out, as unknown, every "not arrived" report no range covers. The test
//! `upstream_history_reports_unacknowledged_packets_as_not_arrived` in `tests/feedback_coverage.rs` fails if
//! upstream starts telling the two apart itself.

use std::collections::VecDeque;
use std::time::Instant;

use bwe_core::SequenceSpace;
use rtc::interceptor::{Interceptor, Packet, Slot, StreamInfo, TaggedPacket};
use rtc::rtcp::transport_feedbacks::cc_feedback_report::CcFeedbackReport;
use rtc::rtcp::transport_feedbacks::transport_layer_cc::TransportLayerCc;
use rtc::sansio::Protocol;
use rtc::shared::error::Error;

use crate::controller::SharedController;

/// Wire-ward of rtc's `CongestionControlInterceptor` (1 000): inbound packets meet the lowest
/// slot first, so the range is recorded before the history joins the message.
pub const FEEDBACK_TAP_SLOT: Slot = Slot::Custom(900);

/// See the module docs. Passes every packet on unchanged.
pub struct FeedbackTap {
    shared: SharedController,
    read_queue: VecDeque<TaggedPacket>,
    write_queue: VecDeque<TaggedPacket>,
}

impl std::fmt::Debug for FeedbackTap {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedbackTap").finish_non_exhaustive()
    }
}

impl FeedbackTap {
    pub(crate) fn new(shared: SharedController) -> Self {
        Self {
            shared,
            read_queue: VecDeque::new(),
            write_queue: VecDeque::new(),
        }
    }

    fn record(&self, now: Instant, packets: &[Box<dyn rtc::rtcp::Packet>]) {
        let mut core = None;
        for packet in packets {
            let any = packet.as_any();
            if let Some(twcc) = any.downcast_ref::<TransportLayerCc>() {
                let core = core.get_or_insert_with(|| self.shared.lock());
                let at = core.epoch.timestamp(now);
                core.coverage.record(
                    SequenceSpace::Transport,
                    twcc.base_sequence_number,
                    twcc.packet_status_count,
                    at,
                );
            } else if let Some(ccfb) = any.downcast_ref::<CcFeedbackReport>() {
                let core = core.get_or_insert_with(|| self.shared.lock());
                let at = core.epoch.timestamp(now);
                for block in &ccfb.report_blocks {
                    let count = u16::try_from(block.metric_blocks.len()).unwrap_or(u16::MAX);
                    core.coverage.record(
                        SequenceSpace::Stream(block.media_ssrc),
                        block.begin_sequence,
                        count,
                        at,
                    );
                }
            }
        }
    }
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for FeedbackTap {
    type Rout = TaggedPacket;
    type Wout = TaggedPacket;
    type Eout = ();
    type Error = Error;
    type Time = Instant;

    fn handle_read(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        if let Packet::Rtcp(packets) = &msg.message.packet {
            self.record(msg.now, packets);
        }
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
}

impl Interceptor for FeedbackTap {
    fn bind_local_stream(&mut self, _info: &StreamInfo) {}

    fn unbind_local_stream(&mut self, _info: &StreamInfo) {}

    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}

    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}
