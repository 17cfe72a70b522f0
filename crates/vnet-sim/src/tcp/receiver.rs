//! [`TcpReceiver`]: one flow's receiving side, sans-I/O.
//!
//! Data segments go in with [`TcpReceiver::handle_data`], ACKs come out of
//! [`TcpReceiver::poll_transmit`]. The receiver keeps `RCV.NXT`, the bytes beyond holes
//! ([`crate::tcp::reassembly`]), and `TS.Recent`.
//!
//! # ACK policy
//!
//! Every data segment is acknowledged at once with a cumulative ACK: in order, out of order
//! (the immediate duplicate ACK RFC 5681 §4.2 requires, which drives fast retransmit), filling a
//! hole (RFC 5681 §4.2 again: "immediately"), or a duplicate. There is no delayed ACK. Linux
//! delays ACKs (up to 40 ms, or every second full segment) except in its quick-ACK mode at the
//! start of a connection and after loss; delaying halves the ACK rate, which byte-counting
//! senders barely notice, but it couples the sender's behaviour to a timer whose Linux heuristics
//! are not standardised. Immediate ACKs keep the ACK clock the textbook one, and cost 52 bytes
//! per data segment on the reverse path.
//!
//! The receive window is unlimited and not advertised: the model studies congestion control,
//! not flow control.
//!
//! # Timestamps
//!
//! Each ACK echoes `TS.Recent` (RFC 7323 §4.3): the timestamp of the latest segment that
//! arrived at or before the in-order point. An out-of-order segment does not update it, so the
//! duplicate ACKs it provokes echo the segment before the hole, and the ACK that finally covers
//! a hole echoes the retransmission that filled it: every sample the sender takes measures a
//! real round trip.

use std::collections::VecDeque;

use crate::tcp::error::TcpError;
use crate::tcp::reassembly::Reassembly;
use crate::tcp::segment::{AckSegment, Segment};
use crate::tcp::stats::TcpReceiverStats;
use crate::time::SimTime;

/// One flow's receiver.
#[derive(Clone, Debug, Default)]
pub struct TcpReceiver {
    flow: u32,
    /// Next byte expected in order.
    rcv_nxt: u64,
    out_of_order: Reassembly,
    ts_recent: Option<SimTime>,
    acks: VecDeque<AckSegment>,
    stats: TcpReceiverStats,
}

impl TcpReceiver {
    /// A receiver for `flow`, expecting byte 0 first.
    pub fn new(flow: u32) -> Self {
        Self {
            flow,
            ..Self::default()
        }
    }

    /// The flow this receiver acknowledges.
    pub fn flow(&self) -> u32 {
        self.flow
    }

    /// A data segment arrived. It is acknowledged at once (see the module docs), so the time is
    /// not needed; it is an argument for the loop's shape. A segment that is not data of this
    /// flow is refused and changes nothing.
    pub fn handle_data(&mut self, _now: SimTime, segment: &Segment) -> Result<(), TcpError> {
        let Segment::Data(data) = segment else {
            return Err(TcpError::WrongKind { expected: "a data" });
        };
        if data.flow != self.flow {
            return Err(TcpError::WrongFlow {
                expected: self.flow,
                got: data.flow,
            });
        }
        self.stats.segments_received += 1;
        let (start, end) = (data.seq, data.end());
        if start <= self.rcv_nxt {
            // RFC 7323 §4.3: SEG.SEQ ≤ Last.ACK.sent (this receiver ACKs every segment, so
            // that is RCV.NXT) and the timestamp is not older.
            if self.ts_recent.is_none_or(|t| data.ts_val >= t) {
                self.ts_recent = Some(data.ts_val);
            }
            if end <= self.rcv_nxt {
                self.stats.duplicate_segments += 1;
            } else {
                self.rcv_nxt = self.out_of_order.advance(end);
            }
        } else {
            self.stats.out_of_order_segments += 1;
            if !self.out_of_order.insert(start, end) {
                self.stats.dropped_segments += 1;
            }
        }
        self.stats.bytes_delivered = self.rcv_nxt;
        self.acks.push_back(AckSegment {
            flow: self.flow,
            ack: self.rcv_nxt,
            ts_ecr: self.ts_recent.unwrap_or(data.ts_val),
        });
        Ok(())
    }

    /// The next ACK to send. Call until `None`.
    pub fn poll_transmit(&mut self) -> Option<Segment> {
        let ack = self.acks.pop_front()?;
        self.stats.acks_sent += 1;
        Some(Segment::Ack(ack))
    }

    /// Bytes delivered in order so far (`RCV.NXT`): goodput at the receiver.
    pub fn bytes_delivered(&self) -> u64 {
        self.rcv_nxt
    }

    /// The totals so far.
    pub fn stats(&self) -> TcpReceiverStats {
        self.stats
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tcp::segment::DataSegment;

    fn data(seq: u64, len: u32, ts_ms: u64) -> Segment {
        Segment::Data(DataSegment {
            flow: 3,
            seq,
            len,
            ts_val: SimTime::from_millis(ts_ms),
        })
    }

    fn acks(r: &mut TcpReceiver) -> Vec<(u64, u64)> {
        std::iter::from_fn(|| r.poll_transmit())
            .map(|s| match s {
                Segment::Ack(a) => (a.ack, a.ts_ecr.as_millis()),
                Segment::Data(_) => panic!("a receiver sends only ACKs"),
            })
            .collect()
    }

    /// Fast retransmit depends on one immediate duplicate ACK per segment beyond a hole, and
    /// RTT samples on echoing the segment before the hole, then the one that filled it.
    #[test]
    fn a_hole_gives_duplicate_acks_then_one_cumulative_ack_when_filled() {
        let mut r = TcpReceiver::new(3);
        for (seq, ts) in [(0, 1), (200, 3), (300, 4), (400, 5)] {
            r.handle_data(SimTime::ZERO, &data(seq, 100, ts))
                .expect("data");
        }
        assert_eq!(acks(&mut r), vec![(100, 1), (100, 1), (100, 1), (100, 1)]);
        r.handle_data(SimTime::ZERO, &data(100, 100, 9))
            .expect("data");
        assert_eq!(acks(&mut r), vec![(500, 9)]);
        let s = r.stats();
        assert_eq!((s.bytes_delivered, s.out_of_order_segments), (500, 3));
        r.handle_data(SimTime::ZERO, &data(0, 100, 10))
            .expect("data");
        assert_eq!(acks(&mut r), vec![(500, 10)]);
        assert_eq!(r.stats().duplicate_segments, 1);
    }

    /// Network input must never panic a receiver or be taken for another flow's.
    #[test]
    fn foreign_segments_and_extreme_offsets_are_handled() {
        let mut r = TcpReceiver::new(3);
        let other = Segment::Data(DataSegment {
            flow: 4,
            seq: 0,
            len: 10,
            ts_val: SimTime::ZERO,
        });
        assert_eq!(
            r.handle_data(SimTime::ZERO, &other),
            Err(TcpError::WrongFlow {
                expected: 3,
                got: 4
            })
        );
        r.handle_data(SimTime::ZERO, &data(u64::MAX - 5, u32::MAX, 1))
            .expect("data");
        r.handle_data(SimTime::ZERO, &data(0, 0, 1)).expect("data");
        assert_eq!(r.bytes_delivered(), 0);
        assert_eq!(acks(&mut r).len(), 2);
    }
}
