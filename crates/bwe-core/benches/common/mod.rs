//! The traffic the `estimators` bench and the `hotpath_ir` example both run, in one place so
//! the two cannot drift: a 2 Mbit/s stream of 1200-byte packets whose path alternates every 5 s
//! between free and congested, one packet in 50 lost, as our receive side, our send side and
//! `rtc::interceptor::Gcc` each take it.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use bwe_core::rtp_ext::AbsSendTime;
use bwe_core::{DataSize, PacketResult, SentPacket, TimeDelta, Timestamp};
use rtc::interceptor::PacketReport;
use rtc::rtcp::transport_feedbacks::cc_feedback_report::Ecn;

pub const PACKETS: usize = 20_000;
pub const BATCH: usize = 50;

#[derive(Clone, Copy)]
pub struct Packet {
    pub send: Timestamp,
    pub abs_send_time: AbsSendTime,
    pub arrival: Option<Timestamp>,
}

pub fn traffic() -> Vec<Packet> {
    let mut arrival = Timestamp::from_micros(30_000);
    (0..PACKETS as i64)
        .map(|i| {
            let send = Timestamp::from_micros(i * 4_800);
            // Arrival gaps accumulate: each congested gap is 10 % longer than its send gap, so the
            // queue grows throughout a congested phase and a free phase keeps the delay it
            // inherited. (Taking `i × spacing` instead would jump the arrival clock at every
            // phase switch, which reads as a clock fault or as reordering, not as congestion.)
            if i > 0 {
                let congested = (i / 1_000) % 2 == 1;
                arrival += TimeDelta::from_micros(if congested { 5_280 } else { 4_800 });
            }
            Packet {
                send,
                abs_send_time: AbsSendTime::from_timestamp(send),
                arrival: (i % 50 != 7).then_some(arrival),
            }
        })
        .collect()
}

pub fn reports(packets: &[Packet], epoch: Instant) -> Vec<PacketReport> {
    packets
        .iter()
        .enumerate()
        .map(|(i, p)| PacketReport {
            ssrc: 7,
            id: i as u64,
            rtp_sequence_number: i as u16,
            is_twcc: true,
            twcc_sequence_number: i as u16,
            size: 1200,
            arrived: p.arrival.is_some(),
            departure: epoch + Duration::from_micros(p.send.as_micros() as u64),
            arrival: p
                .arrival
                .map(|a| Duration::from_micros(a.as_micros() as u64)),
            ecn: Ecn::default(),
        })
        .collect()
}

pub fn results(packets: &[Packet]) -> Vec<PacketResult> {
    packets
        .iter()
        .enumerate()
        .map(|(i, p)| PacketResult {
            sent: SentPacket {
                sequence: i as u64,
                send_time: p.send,
                size: DataSize::from_bytes(1200),
                probe: None,
            },
            receive_time: p.arrival,
        })
        .collect()
}

pub fn feedback_time(batch: &[PacketResult]) -> Timestamp {
    batch.last().map_or(Timestamp::ZERO, |r| r.sent.send_time) + TimeDelta::from_millis(60)
}
