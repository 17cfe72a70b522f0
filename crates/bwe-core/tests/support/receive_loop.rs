//! A REMB sender through a [`Bottleneck`]: the receiver runs the receive-side estimator and returns
//! REMB every second (and at once on a drop of 3 % or more) plus a receiver report with the loss
//! fraction every second, over an uncongested return path. As in libwebrtc, the sender's rate is
//! its loss-based controller fed by the receiver reports, capped by the latest REMB: the delay
//! signal cannot see a drop-tail queue that is already full, loss can.

use std::collections::VecDeque;

use bwe_core::loss::{LossBasedController, LossControllerConfig};
use bwe_core::receive_side::{PacketArrival, ReceiveSideConfig, ReceiveSideEstimator};
use bwe_core::rtp_ext::AbsSendTime;
use bwe_core::{Bitrate, DataSize, TimeDelta, Timestamp};

use super::bottleneck::{Bottleneck, Fate};
use super::send_loop::interval;

const PACKET: DataSize = DataSize::from_bytes(1200);
const TICK: TimeDelta = TimeDelta::from_millis(1);
const REMB_INTERVAL: TimeDelta = TimeDelta::from_secs(1);

#[derive(Debug, Clone, Copy)]
pub struct Sample {
    pub at: Timestamp,
    pub estimate: Option<Bitrate>,
    pub remb: Option<Bitrate>,
    pub send_rate: Bitrate,
    pub capacity: Bitrate,
    pub queue_delay: TimeDelta,
}

pub struct ReceiveLoop {
    pub estimator: ReceiveSideEstimator,
    pub link: Bottleneck,
    pub now: Timestamp,
    pub samples: Vec<Sample>,
    send_rate: Bitrate,
    remb: Option<Bitrate>,
    loss: LossBasedController,
    next_send: Timestamp,
    /// Packets on their way to the receiver: (arrival or would-be arrival, send time, delivered).
    arriving: VecDeque<(Timestamp, AbsSendTime, bool)>,
    last_remb: Option<(Timestamp, Bitrate)>,
    returning: VecDeque<(Timestamp, Bitrate)>,
    next_report: Timestamp,
    interval_lost: u32,
    interval_total: u32,
    reports: VecDeque<(Timestamp, u32, u32)>,
}

impl ReceiveLoop {
    pub fn new(config: ReceiveSideConfig, link: Bottleneck, start: Bitrate) -> Self {
        Self {
            estimator: ReceiveSideEstimator::new(config),
            link,
            now: Timestamp::ZERO,
            samples: Vec::new(),
            send_rate: start,
            remb: None,
            loss: LossBasedController::new(LossControllerConfig {
                start,
                ..LossControllerConfig::default()
            }),
            next_send: Timestamp::ZERO,
            arriving: VecDeque::new(),
            last_remb: None,
            returning: VecDeque::new(),
            next_report: Timestamp::ZERO + REMB_INTERVAL,
            interval_lost: 0,
            interval_total: 0,
            reports: VecDeque::new(),
        }
    }

    pub fn run_until(&mut self, until: Timestamp) {
        while self.now < until {
            self.now += TICK;
            self.step();
        }
    }

    fn step(&mut self) {
        let now = self.now;
        while self.next_send <= now {
            let at = self.next_send;
            let send_time = AbsSendTime::from_timestamp(at);
            match self.link.send(at, PACKET) {
                Fate::Delivered { at: arrival, .. } => {
                    self.arriving.push_back((arrival, send_time, true))
                }
                _ => self
                    .arriving
                    .push_back((at + self.link.one_way_delay, send_time, false)),
            }
            self.next_send = at + interval(self.send_rate);
        }
        while self.arriving.front().is_some_and(|(at, _, _)| *at <= now) {
            let Some((at, send_time, delivered)) = self.arriving.pop_front() else {
                break;
            };
            self.interval_total += 1;
            if !delivered {
                self.interval_lost += 1;
                continue;
            }
            self.estimator.on_packet(
                at,
                PacketArrival {
                    send_time,
                    size: PACKET,
                    ssrc: 0x1234,
                },
            );
        }
        if now >= self.next_report {
            self.next_report = now + REMB_INTERVAL;
            self.reports.push_back((
                now + self.link.one_way_delay,
                self.interval_lost,
                self.interval_total,
            ));
            self.interval_lost = 0;
            self.interval_total = 0;
        }
        while self.reports.front().is_some_and(|(at, _, _)| *at <= now) {
            if let Some((_, lost, total)) = self.reports.pop_front() {
                self.loss.on_packet_results(now, lost, total);
            }
        }
        if let Some(estimate) = self.estimator.estimate() {
            let due = match self.last_remb {
                None => true,
                Some((at, value)) => {
                    now - at >= REMB_INTERVAL || estimate.as_bps_f64() <= 0.97 * value.as_bps_f64()
                }
            };
            if due {
                self.last_remb = Some((now, estimate));
                self.returning
                    .push_back((now + self.link.one_way_delay, estimate));
            }
        }
        while self.returning.front().is_some_and(|(at, _)| *at <= now) {
            if let Some((_, remb)) = self.returning.pop_front() {
                self.remb = Some(remb);
            }
        }
        if let Some(remb) = self.remb {
            self.loss.set_delay_based_limit(remb);
            self.send_rate = self.loss.update(now).min(remb);
        }
        self.samples.push(Sample {
            at: now,
            estimate: self.estimator.estimate(),
            remb: self.remb,
            send_rate: self.send_rate,
            capacity: self.link.schedule.at(now),
            queue_delay: self.link.queue_delay(now),
        });
    }
}
