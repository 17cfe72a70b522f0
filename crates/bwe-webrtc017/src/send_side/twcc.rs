//! Reading a transport-wide feedback message (draft-holmer-rmcat-transport-wide-cc-extensions-01
//! §3.1) as rtcp 0.17 parsed it: one status per sequence number from the base on, and an
//! arrival time for each packet received with a delta.
//!
//! rtcp 0.17 keeps the chunks and the deltas as it read them; this walks them together. Arrival
//! times are on the remote's clock: the reference time (24 bits of 64 ms) plus the running sum
//! of the deltas (in microseconds, as rtcp 0.17 stores them, 250 µs resolution on the wire).
//! Only differences between them mean anything to the estimator.
//!
//! A message whose chunks claim more received packets than it carries deltas is cut where the
//! deltas run out, and counted malformed by the caller; statuses past `packet_status_count`
//! (a status vector's unused tail) are ignored.

use webrtc::rtcp::transport_feedbacks::transport_layer_cc::{
    PacketStatusChunk, SymbolTypeTcc, TransportLayerCc,
};

/// One sequence number's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Reported not received.
    Lost,
    /// Received at this many microseconds on the remote's clock.
    Received(i64),
    /// Received, with no arrival time (the "received without delta" symbol).
    ReceivedWithoutTime,
}

/// Calls `each(wire_sequence, status)` for every status in `feedback`, in sequence order.
/// Returns `false` if the message ended early for lack of deltas (malformed).
pub fn for_each_status(feedback: &TransportLayerCc, mut each: impl FnMut(u16, Status)) -> bool {
    let count = usize::from(feedback.packet_status_count);
    let mut arrival = i64::from(feedback.reference_time & 0x00FF_FFFF) * 64_000;
    let mut deltas = feedback.recv_deltas.iter();
    let mut index = 0usize;
    let mut visit = |symbol: SymbolTypeTcc| -> Option<()> {
        if index >= count {
            return Some(());
        }
        let sequence = feedback.base_sequence_number.wrapping_add(index as u16);
        index += 1;
        let status = match symbol {
            SymbolTypeTcc::PacketNotReceived => Status::Lost,
            SymbolTypeTcc::PacketReceivedWithoutDelta => Status::ReceivedWithoutTime,
            SymbolTypeTcc::PacketReceivedSmallDelta | SymbolTypeTcc::PacketReceivedLargeDelta => {
                arrival = arrival.saturating_add(deltas.next()?.delta);
                Status::Received(arrival)
            }
        };
        each(sequence, status);
        Some(())
    };
    for chunk in &feedback.packet_chunks {
        let complete = match chunk {
            PacketStatusChunk::RunLengthChunk(run) => (0..run.run_length)
                .take(count)
                .try_for_each(|_| visit(run.packet_status_symbol)),
            PacketStatusChunk::StatusVectorChunk(vector) => vector
                .symbol_list
                .iter()
                .try_for_each(|symbol| visit(*symbol)),
        };
        if complete.is_none() {
            return false;
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use interceptor::twcc::Recorder;
    use webrtc::rtcp::transport_feedbacks::transport_layer_cc::{RecvDelta, RunLengthChunk};
    use webrtc_util::marshal::Unmarshal;

    fn walk(feedback: &TransportLayerCc) -> (Vec<(u16, Status)>, bool) {
        let mut out = Vec::new();
        let complete = for_each_status(feedback, |s, st| out.push((s, st)));
        (out, complete)
    }

    /// What 0.17's own TWCC receiver writes reads back as the arrivals it recorded: losses in
    /// the gaps, times to its 250 µs resolution, across the 16-bit wrap.
    #[test]
    fn a_recorded_message_reads_back_as_recorded() {
        let mut recorder = Recorder::new(1);
        let arrivals: Vec<(u16, i64)> = (0..40u16)
            .filter(|i| i % 7 != 3)
            .map(|i| (65_520u16.wrapping_add(i), 1_000_000 + i64::from(i) * 1_250))
            .collect();
        for (seq, at) in &arrivals {
            recorder.record(5, *seq, *at);
        }
        let packets = recorder.build_feedback_packet();
        let mut seen = Vec::new();
        for packet in &packets {
            let bytes = packet.marshal().expect("marshals");
            let parsed = TransportLayerCc::unmarshal(&mut &bytes[..]).expect("parses");
            let (statuses, complete) = walk(&parsed);
            assert!(complete);
            seen.extend(statuses);
        }
        let received: Vec<(u16, i64)> = seen
            .iter()
            .filter_map(|(s, st)| match st {
                Status::Received(t) => Some((*s, *t)),
                _ => None,
            })
            .collect();
        assert_eq!(received.len(), arrivals.len());
        let origin = received[0].1 - arrivals[0].1;
        for ((s, t), (es, et)) in received.iter().zip(&arrivals) {
            assert_eq!(s, es);
            assert!((t - origin - et).abs() < 250, "{s}: {t} vs {et}");
        }
        let lost = seen.iter().filter(|(_, st)| *st == Status::Lost).count();
        assert_eq!(lost, 40 - arrivals.len(), "the gaps are reported lost");
    }

    #[test]
    fn a_message_short_of_deltas_stops_where_they_run_out() {
        let feedback = TransportLayerCc {
            base_sequence_number: 10,
            packet_status_count: 3,
            reference_time: 1,
            packet_chunks: vec![PacketStatusChunk::RunLengthChunk(RunLengthChunk {
                packet_status_symbol: SymbolTypeTcc::PacketReceivedSmallDelta,
                run_length: 3,
                ..RunLengthChunk::default()
            })],
            recv_deltas: vec![RecvDelta {
                type_tcc_packet: SymbolTypeTcc::PacketReceivedSmallDelta,
                delta: 500,
            }],
            ..TransportLayerCc::default()
        };
        let (statuses, complete) = walk(&feedback);
        assert!(!complete);
        assert_eq!(statuses, vec![(10, Status::Received(64_500))]);
    }

    #[test]
    fn statuses_past_the_count_are_ignored() {
        let feedback = TransportLayerCc {
            base_sequence_number: 65_535,
            packet_status_count: 2,
            packet_chunks: vec![PacketStatusChunk::RunLengthChunk(RunLengthChunk {
                packet_status_symbol: SymbolTypeTcc::PacketNotReceived,
                run_length: 1_000,
                ..RunLengthChunk::default()
            })],
            ..TransportLayerCc::default()
        };
        let (statuses, complete) = walk(&feedback);
        assert!(complete);
        assert_eq!(statuses, vec![(65_535, Status::Lost), (0, Status::Lost)]);
    }
}
