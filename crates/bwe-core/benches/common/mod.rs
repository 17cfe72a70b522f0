//! The traffic the `estimators` bench and the `hotpath_ir` example both run, in one place so
//! the two cannot drift: a 2 Mbit/s stream of 1200-byte packets whose path alternates every 5 s
//! between free and congested, one packet in 50 lost, as our receive side, our send side and
//! `rtc::interceptor::Gcc` each take it, and the four runs that are timed: each estimator over
//! the whole stream.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use std::hint::black_box;

use bwe_core::receive_side::{PacketArrival, ReceiveSideConfig, ReceiveSideEstimator};
use bwe_core::rtp_ext::AbsSendTime;
use bwe_core::send_side::{SendSideConfig, SendSideEstimator};
use bwe_core::{Bitrate, DataSize, PacketResult, SentPacket, TimeDelta, Timestamp};
use rtc::interceptor::{BandwidthEstimator, Gcc, PacketReport};
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

/// Our receive side over every packet that arrived; returns its estimate.
pub fn ours_receive(packets: &[Packet]) -> Option<Bitrate> {
    let mut est = ReceiveSideEstimator::new(ReceiveSideConfig::default());
    for p in packets {
        if let Some(arrival) = p.arrival {
            est.on_packet(
                arrival,
                PacketArrival {
                    send_time: p.abs_send_time,
                    size: DataSize::from_bytes(1200),
                    ssrc: 7,
                },
            );
        }
    }
    est.estimate()
}

/// `rtc::Gcc` over the same packets, one report per call (its only per-packet entry point).
pub fn gcc_receive(reps: &[PacketReport], epoch: Instant) -> f64 {
    let mut gcc = Gcc::default();
    for r in reps.iter().filter(|r| r.arrived) {
        let now = epoch + r.arrival.unwrap_or_default();
        gcc.on_reports(now, std::slice::from_ref(r));
    }
    gcc.target_bitrate()
}

/// Our send side over the stream's feedback, [`BATCH`] entries at a time.
pub fn ours_send(ours: &[PacketResult]) -> Bitrate {
    let mut est = SendSideEstimator::new(SendSideConfig::default());
    est.on_network_available(Timestamp::ZERO);
    for batch in ours.chunks(BATCH) {
        est.on_feedback(feedback_time(batch), black_box(batch));
    }
    est.target()
}

/// `rtc::Gcc` over the same feedback batches.
pub fn gcc_send(reps: &[PacketReport], ours: &[PacketResult], epoch: Instant) -> f64 {
    let mut gcc = Gcc::default();
    for (batch, mine) in reps.chunks(BATCH).zip(ours.chunks(BATCH)) {
        let now = epoch + Duration::from_micros(feedback_time(mine).as_micros() as u64);
        gcc.on_reports(now, black_box(batch));
    }
    gcc.target_bitrate()
}
