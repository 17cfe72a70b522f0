//! A sender that sends at the latest REMB value through a [`Bottleneck`], and a receiver that runs
//! the receive-side estimator and returns REMB every second (and at once on a drop of 3 % or more)
//! over an uncongested return path.

use std::collections::VecDeque;

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
    next_send: Timestamp,
    arriving: VecDeque<(Timestamp, AbsSendTime)>,
    last_remb: Option<(Timestamp, Bitrate)>,
    returning: VecDeque<(Timestamp, Bitrate)>,
}

impl ReceiveLoop {
    pub fn new(config: ReceiveSideConfig, link: Bottleneck, start: Bitrate) -> Self {
        Self {
            estimator: ReceiveSideEstimator::new(config),
            link,
            now: Timestamp::ZERO,
            samples: Vec::new(),
            send_rate: start,
            next_send: Timestamp::ZERO,
            arriving: VecDeque::new(),
            last_remb: None,
            returning: VecDeque::new(),
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
            if let Fate::Delivered { at: arrival, .. } = self.link.send(at, PACKET) {
                self.arriving
                    .push_back((arrival, AbsSendTime::from_timestamp(at)));
            }
            self.next_send = at + interval(self.send_rate);
        }
        while self.arriving.front().is_some_and(|(at, _)| *at <= now) {
            let Some((at, send_time)) = self.arriving.pop_front() else {
                break;
            };
            self.estimator.on_packet(
                at,
                PacketArrival {
                    send_time,
                    size: PACKET,
                    ssrc: 0x1234,
                },
            );
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
                self.send_rate = remb;
            }
        }
        self.samples.push(Sample {
            at: now,
            estimate: self.estimator.estimate(),
            send_rate: self.send_rate,
            capacity: self.link.schedule.at(now),
            queue_delay: self.link.queue_delay(now),
        });
    }
}
