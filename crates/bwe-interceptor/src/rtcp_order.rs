//! Puts the RTCP messages an endpoint generates at one instant on the wire in a fixed order.
//!
//! rtc-interceptor 0.21.1's NACK generator and report interceptors keep their per-SSRC state in
//! `std::collections::HashMap`s and emit one message per SSRC by iterating them. `HashMap`
//! iteration order depends on per-process random keys, so a receiver of a video stream and its
//! RTX stream sends "NACK for video, NACK for RTX" in one process and the reverse in another.
//! Both arrive at the sender at the same instant and are handled in arrival order; with our pacer
//! the order decides which retransmissions leave first, and a seeded simulation of REMB mode
//! diverged between processes from that alone (RFC 8867 §5.1: the same seed gave one of two
//! traces, 12 693 or 12 696 packets, at random).
//!
//! [`RtcpOrder`] sits wire-most in the write walk ([`RTCP_ORDER_SLOT`]). rtc's chain hands each
//! interceptor every message of a walk before it polls it, so when the walk polls this one it
//! holds the whole batch; it then sorts each run of consecutive RTCP messages that carry the
//! same instant by their packet types and media SSRCs (a stable sort, so messages that compare
//! equal keep their order, and RTP never moves). The order is then a function of what was
//! generated, not of the process. Nothing on the read path changes.
//!
//! The upstream-behaviour test `upstream_nack_generator_orders_ssrcs_by_hash` in
//! `tests/rtcp_order.rs` fails once rtc emits them in a fixed order itself.

use std::collections::VecDeque;
use std::time::Instant;

use rtc::interceptor::{Interceptor, Packet, Slot, StreamInfo, TaggedPacket};
use rtc::sansio::Protocol;
use rtc::shared::error::Error;

/// Below every slot rtc and this crate use, so every generated RTCP message passes it last.
pub const RTCP_ORDER_SLOT: Slot = Slot::Custom(100);

/// See the module docs.
#[derive(Default)]
pub struct RtcpOrder {
    read_queue: VecDeque<TaggedPacket>,
    /// Messages of the current write walk, not yet ordered.
    pending: VecDeque<TaggedPacket>,
    write_queue: VecDeque<TaggedPacket>,
}

impl std::fmt::Debug for RtcpOrder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RtcpOrder").finish_non_exhaustive()
    }
}

fn is_rtcp(msg: &TaggedPacket) -> bool {
    matches!(msg.message.packet, Packet::Rtcp(_))
}

/// What orders two RTCP messages of one instant: per packet of the compound, its type, its
/// count or format field, and the SSRCs it is about.
fn key(msg: &TaggedPacket) -> Vec<(u8, u8, Vec<u32>)> {
    let Packet::Rtcp(packets) = &msg.message.packet else {
        return Vec::new();
    };
    packets
        .iter()
        .map(|p| {
            let header = p.header();
            (header.packet_type as u8, header.count, p.destination_ssrc())
        })
        .collect()
}

impl RtcpOrder {
    /// A pass-through until a walk hands it more than one RTCP message of one instant.
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the pending batch to the write queue, each same-instant RTCP run sorted. A message
    /// with no RTCP neighbour of its instant moves as it is, without computing a key, so RTP
    /// costs no allocation here.
    fn release(&mut self) {
        while let Some(first) = self.pending.pop_front() {
            let at = first.now;
            let same_run = |m: &TaggedPacket| m.now == at && is_rtcp(m);
            if !is_rtcp(&first) || !self.pending.front().is_some_and(same_run) {
                self.write_queue.push_back(first);
                continue;
            }
            let mut run = vec![first];
            while let Some(next) = self.pending.pop_front() {
                if same_run(&next) {
                    run.push(next);
                } else {
                    self.pending.push_front(next);
                    break;
                }
            }
            // Stable: messages with equal keys keep the order they were generated in.
            run.sort_by_cached_key(key);
            self.write_queue.extend(run);
        }
    }
}

impl Protocol<TaggedPacket, TaggedPacket, ()> for RtcpOrder {
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

    fn handle_write(&mut self, msg: TaggedPacket) -> Result<(), Self::Error> {
        self.pending.push_back(msg);
        Ok(())
    }

    fn poll_write(&mut self) -> Option<Self::Wout> {
        if !self.pending.is_empty() {
            self.release();
        }
        self.write_queue.pop_front()
    }
}

impl Interceptor for RtcpOrder {
    fn bind_local_stream(&mut self, _info: &StreamInfo) {}

    fn unbind_local_stream(&mut self, _info: &StreamInfo) {}

    fn bind_remote_stream(&mut self, _info: &StreamInfo) {}

    fn unbind_remote_stream(&mut self, _info: &StreamInfo) {}
}
