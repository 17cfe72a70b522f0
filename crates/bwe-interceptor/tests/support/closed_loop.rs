//! A closed loop of two real rtc chains joined by a bottleneck link carrying marshalled bytes:
//! the sender's "encoder" writes RTP at whatever target the sender's chain last announced
//! (`Attribute::TargetBitrateChanged` on its read output), and time advances in 1 ms steps from
//! one base instant.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bwe_core::Bitrate;
use rtc::interceptor::{Attribute, AttributedPacket, Interceptor, Packet, TaggedPacket};
use rtc::rtp;
use rtc::shared::TransportContext;

use super::*;

const SSRC: u32 = 0x5EED;
const PAYLOAD: usize = 1200;
const ONE_WAY: Duration = Duration::from_millis(20);

/// A drop-tail bottleneck: serialises at `capacity`, then `ONE_WAY` of propagation.
pub struct Link {
    busy_until: Option<Instant>,
    in_flight: VecDeque<(Instant, Vec<u8>, bool)>,
    max_queue: Duration,
    dropped: u64,
}

impl Link {
    fn new(max_queue: Duration) -> Self {
        Self {
            busy_until: None,
            in_flight: VecDeque::new(),
            max_queue,
            dropped: 0,
        }
    }

    fn send(&mut self, now: Instant, bytes: Vec<u8>, is_rtcp: bool, capacity: Option<Bitrate>) {
        let start = self.busy_until.map_or(now, |b| b.max(now));
        if start - now > self.max_queue {
            self.dropped += 1;
            return;
        }
        let done = match capacity {
            Some(c) => start + Duration::from_micros(bytes.len() as u64 * 8 * 1_000_000 / c.bps()),
            None => start,
        };
        self.busy_until = Some(done);
        self.in_flight.push_back((done + ONE_WAY, bytes, is_rtcp));
    }

    fn deliver(&mut self, now: Instant) -> Vec<(Vec<u8>, bool)> {
        let mut out = Vec::new();
        while self.in_flight.front().is_some_and(|(at, _, _)| *at <= now) {
            if let Some((_, bytes, rtcp)) = self.in_flight.pop_front() {
                out.push((bytes, rtcp));
            }
        }
        out
    }

    fn queue_delay(&self, now: Instant) -> Duration {
        self.busy_until
            .map_or(Duration::ZERO, |b| b.saturating_duration_since(now))
    }
}

fn inbound(now: Instant, bytes: &[u8], is_rtcp: bool) -> TaggedPacket {
    if is_rtcp {
        inbound_rtcp(now, bytes)
    } else {
        inbound_rtp(now, bytes)
    }
}

/// One sample per second: (second, target kbit/s, queue delay ms, packets dropped so far).
pub type Trace = Vec<(u64, f64, u128, u64)>;

/// Runs the loop for `seconds` with capacity `capacity(second)` and a drop-tail queue of
/// `max_queue`; the encoder starts at `start`. The stream negotiates abs-send-time under id 3 and
/// TWCC under id 5.
pub fn run(
    sender: impl Interceptor,
    receiver: impl Interceptor,
    start: Bitrate,
    seconds: u64,
    capacity: impl Fn(u64) -> Bitrate,
    max_queue: Duration,
) -> Trace {
    run_observed(
        sender,
        receiver,
        start,
        seconds,
        capacity,
        max_queue,
        |_, _, _| {},
    )
}

/// [`run`], calling `observe(ms, target kbit/s, bottleneck queue delay)` after every 1 ms step.
pub fn run_observed(
    mut sender: impl Interceptor,
    mut receiver: impl Interceptor,
    start: Bitrate,
    seconds: u64,
    capacity: impl Fn(u64) -> Bitrate,
    max_queue: Duration,
    mut observe: impl FnMut(u64, f64, Duration),
) -> Trace {
    let base = Instant::now();
    let stream = video_stream(SSRC, Some(3), Some(5));
    sender.bind_local_stream(&stream);
    receiver.bind_remote_stream(&stream);
    let mut forward = Link::new(max_queue);
    let mut backward = Link::new(Duration::from_secs(2));
    let mut target_bps = start.as_bps_f64();
    let mut budget_bits = 0.0;
    let mut seq = 0u16;
    let mut trace = Trace::new();

    for ms in 0..seconds * 1_000 {
        let now = base + Duration::from_millis(ms);
        let cap = capacity(ms / 1_000);

        // The encoder: writes packets at the announced target.
        budget_bits += target_bps / 1_000.0;
        while budget_bits >= ((PAYLOAD + 12) * 8) as f64 {
            budget_bits -= ((PAYLOAD + 12) * 8) as f64;
            let packet = rtp::Packet {
                header: rtp::header::Header {
                    version: 2,
                    payload_type: 96,
                    sequence_number: seq,
                    timestamp: u32::from(seq) * 3_000,
                    ssrc: SSRC,
                    ..Default::default()
                },
                payload: vec![0x5A; PAYLOAD].into(),
            };
            seq = seq.wrapping_add(1);
            sender
                .handle_write(TaggedPacket {
                    now,
                    transport: TransportContext::default(),
                    message: AttributedPacket::new(Packet::Rtp(packet)),
                })
                .expect("write");
        }

        drive(&mut sender, now);
        for (at, bytes, rtcp) in drain_wire(&mut sender) {
            forward.send(at.max(now), bytes, rtcp, Some(cap));
        }
        for (bytes, rtcp) in forward.deliver(now) {
            receiver
                .handle_read(inbound(now, &bytes, rtcp))
                .expect("read");
            while receiver.poll_read().is_some() {}
        }
        drive(&mut receiver, now);
        for (at, bytes, rtcp) in drain_wire(&mut receiver) {
            backward.send(at.max(now), bytes, rtcp, None);
        }
        for (bytes, rtcp) in backward.deliver(now) {
            sender
                .handle_read(inbound(now, &bytes, rtcp))
                .expect("read");
            while let Some(out) = sender.poll_read() {
                if let Some(Attribute::TargetBitrateChanged { bits_per_second }) =
                    out.message.get(&Attribute::TargetBitrateChanged {
                        bits_per_second: 0.0,
                    })
                {
                    target_bps = *bits_per_second;
                }
            }
        }
        observe(ms, target_bps / 1_000.0, forward.queue_delay(now));
        if ms % 1_000 == 999 {
            trace.push((
                ms / 1_000 + 1,
                target_bps / 1_000.0,
                forward.queue_delay(now).as_millis(),
                forward.dropped,
            ));
        }
    }
    trace
}

/// One line per run: `second:target/queue` samples.
pub fn render(name: &str, trace: &Trace) {
    let line: Vec<String> = trace
        .iter()
        .map(|(s, kbps, q, lost)| format!("{s}s:{kbps:.0}k/{q}ms/{lost}"))
        .collect();
    println!("{name}: {}", line.join(" "));
}
