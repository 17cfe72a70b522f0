//! Send-side estimation in a closed loop of two real rtc chains: the sender's chain
//! (`configure_bwe` send-side preset, or rtc's own `Gcc` for comparison) and a receiver's,
//! joined by a bottleneck link carrying marshalled bytes. The sender's "encoder" follows the
//! target the chain announces; time advances in 1 ms steps from one base instant.

mod support;

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bwe_core::Bitrate;
use bwe_core::send_side::SendSideConfig;
use bwe_interceptor::{BweChainConfig, SendSideChain, configure_bwe};
use rtc::interceptor::{
    Attribute, AttributedPacket, Gcc, Interceptor, Packet, Registry, TaggedPacket,
};
use rtc::peer_connection::configuration::interceptor_registry::{
    CongestionFeedback, configure_congestion_control,
};
use rtc::peer_connection::configuration::media_engine::MediaEngine;
use rtc::rtp;
use rtc::shared::TransportContext;

use support::*;

const SSRC: u32 = 0x5EED;
const PAYLOAD: usize = 1200;
const ONE_WAY: Duration = Duration::from_millis(20);

/// A drop-tail bottleneck: serialises at `capacity`, then `ONE_WAY` of propagation.
struct Link {
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

/// One sample per second: (second, target kbit/s, queue delay ms).
type Trace = Vec<(u64, f64, u128)>;

/// Runs the loop for `seconds` with capacity `capacity(second)`; the encoder starts at `start`.
fn run(
    mut sender: impl Interceptor,
    mut receiver: impl Interceptor,
    start: Bitrate,
    seconds: u64,
    capacity: impl Fn(u64) -> Bitrate,
) -> Trace {
    let base = Instant::now();
    let stream = video_stream(SSRC, None, Some(5));
    sender.bind_local_stream(&stream);
    receiver.bind_remote_stream(&stream);
    let mut forward = Link::new(Duration::from_secs(2));
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
        if ms % 1_000 == 999 {
            trace.push((
                ms / 1_000 + 1,
                target_bps / 1_000.0,
                forward.queue_delay(now).as_millis(),
            ));
        }
    }
    trace
}

fn engine() -> MediaEngine {
    let mut engine = MediaEngine::default();
    engine.register_default_codecs().expect("codecs");
    engine
}

fn ours(feedback: CongestionFeedback, start: Bitrate) -> impl Interceptor {
    let mut config = BweChainConfig::send_side(feedback);
    config.send_side = Some(SendSideChain {
        feedback,
        estimator: SendSideConfig {
            start,
            ..SendSideConfig::default()
        },
    });
    let (registry, _) = configure_bwe(Registry::new(), &mut engine(), config).expect("chain");
    registry.build()
}

fn rtc_gcc(feedback: CongestionFeedback, start: Bitrate) -> impl Interceptor {
    let gcc = Gcc::new(start.as_bps_f64(), 100_000.0, 100_000_000.0);
    configure_congestion_control(Registry::new(), gcc, feedback, &mut engine())
        .expect("chain")
        .build()
}

fn receiver(feedback: CongestionFeedback) -> impl Interceptor {
    ours(feedback, Bitrate::from_kbps(300))
}

/// 2 Mbit/s for 5 s, then 500 kbit/s.
fn step_down(second: u64) -> Bitrate {
    if second < 5 {
        Bitrate::from_kbps(2_000)
    } else {
        Bitrate::from_kbps(500)
    }
}

fn render(name: &str, trace: &Trace) {
    let line: Vec<String> = trace
        .iter()
        .map(|(s, kbps, q)| format!("{s}s:{kbps:.0}k/{q}ms"))
        .collect();
    println!("{name}: {}", line.join(" "));
}

/// After the capacity halves twice over, the target must come down to the new capacity and
/// the queue must drain: `(target at 15 s, queue at 15 s)` within two-sided bounds.
fn assert_follows_the_drop(name: &str, trace: &Trace) {
    let (_, before, _) = trace[4];
    let (_, after, queue) = *trace.last().expect("samples");
    assert!(
        (800.0..=2_200.0).contains(&before),
        "{name}: {before:.0} kbit/s at 5 s on a 2 Mbit/s path"
    );
    assert!(
        (250.0..=600.0).contains(&after),
        "{name}: {after:.0} kbit/s at the end on a 500 kbit/s path"
    );
    assert!(queue <= 200, "{name}: {queue} ms of queue left");
}

/// Ours over TWCC: a drop-in for Gcc that follows a capacity drop and drains the queue.
#[test]
fn twcc_loop_follows_a_capacity_drop() {
    let start = Bitrate::from_kbps(1_000);
    let trace = run(
        ours(CongestionFeedback::Twcc, start),
        receiver(CongestionFeedback::Twcc),
        start,
        15,
        step_down,
    );
    render("ours/twcc", &trace);
    let gcc = run(
        rtc_gcc(CongestionFeedback::Twcc, start),
        receiver(CongestionFeedback::Twcc),
        start,
        15,
        step_down,
    );
    render("rtc-gcc/twcc", &gcc);
    assert_follows_the_drop("ours/twcc", &trace);
}

/// Ours over RFC 8888: the same, which also proves the arrival-time workaround (without it the
/// delay signal runs backwards).
#[test]
fn rfc8888_loop_follows_a_capacity_drop() {
    let start = Bitrate::from_kbps(1_000);
    let trace = run(
        ours(CongestionFeedback::Rfc8888, start),
        receiver(CongestionFeedback::Rfc8888),
        start,
        15,
        step_down,
    );
    render("ours/rfc8888", &trace);
    let gcc = run(
        rtc_gcc(CongestionFeedback::Rfc8888, start),
        receiver(CongestionFeedback::Rfc8888),
        start,
        15,
        step_down,
    );
    render("rtc-gcc/rfc8888", &gcc);
    assert_follows_the_drop("ours/rfc8888", &trace);
}
