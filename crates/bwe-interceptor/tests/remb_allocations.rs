//! The REMB generator's per-packet RTP path allocates nothing once warmed up.
//!
//! A counting global allocator (per thread, so the harness's other threads do not interfere)
//! wraps the system allocator. Packets are built from real bytes before counting starts; then
//! each one is handed to the interceptor and taken back out while counting. Only a packet that
//! made the interceptor emit a REMB may allocate (the REMB itself is a new RTCP message).

mod support;

use alloc_counter::{CountingAllocator, allocations};
use std::time::{Duration, Instant};

use bwe_core::Bitrate;
use bwe_core::receive_side::ReceiveSideConfig;
use bwe_interceptor::{RembConfig, RembInterceptor};
use rtc::interceptor::{Interceptor, TaggedPacket};
use rtc::sansio::Protocol;

use support::{abs_send_time, inbound_rtp, rtp_bytes, video_stream};

#[global_allocator]
static GLOBAL: CountingAllocator = CountingAllocator;

/// Two streams at 100 packets/s each, alternating 2 s on a free path and 2 s on one whose queue
/// grows, so grouping, the filter, the detector, AIMD, the stream table and REMB drops all run.
fn packets(base: Instant, from_ms: u64, to_ms: u64) -> Vec<TaggedPacket> {
    let mut extra_ms: u64 = 0;
    (from_ms..to_ms)
        .step_by(5)
        .map(|t| {
            let congested = (t / 2_000) % 2 == 1;
            if congested {
                extra_ms += 1;
            } else {
                extra_ms = extra_ms.saturating_sub(2);
            }
            let ssrc = if (t / 5) % 2 == 0 { 0x1111 } else { 0x2222 };
            let ast = abs_send_time(t);
            let bytes = rtp_bytes(ssrc, (t / 10) as u16, &[(3, &ast)], 1000, false);
            inbound_rtp(base + Duration::from_millis(t + 30 + extra_ms / 2), &bytes)
        })
        .collect()
}

/// Hands every packet in and out; returns (packets that emitted nothing, allocations they made,
/// packets that emitted a REMB).
fn run(remb: &mut RembInterceptor, batch: Vec<TaggedPacket>) -> (u64, u64, u64) {
    let (mut quiet, mut quiet_allocations, mut emitting) = (0, 0, 0);
    for packet in batch {
        let before = allocations();
        remb.handle_read(packet).expect("read");
        let out = remb.poll_read();
        let after = allocations();
        drop(out);
        if remb.poll_write().is_some() {
            emitting += 1;
        } else {
            quiet += 1;
            quiet_allocations += after - before;
        }
    }
    (quiet, quiet_allocations, emitting)
}

/// The property: steady-state RTP costs no heap allocation, whatever the estimator decides.
#[test]
fn per_packet_rtp_path_allocates_nothing_after_warm_up() {
    // Starting above the incoming rate, so every over-use cuts the estimate and sends a REMB.
    let config = RembConfig {
        estimator: ReceiveSideConfig {
            start: Bitrate::from_mbps(3),
            ..ReceiveSideConfig::default()
        },
        ..RembConfig::default()
    };
    let mut remb = RembInterceptor::new(config).expect("valid");
    remb.bind_remote_stream(&video_stream(0x1111, Some(3), None));
    remb.bind_remote_stream(&video_stream(0x2222, Some(3), None));
    let base = Instant::now();

    let warm_up = packets(base, 0, 8_000);
    run(&mut remb, warm_up);

    let measured = packets(base, 8_000, 20_000);
    let (quiet, allocated, emitting) = run(&mut remb, measured);
    println!("{quiet} packets, {allocated} allocations; {emitting} packets emitted a REMB");
    assert_eq!(allocated, 0, "allocations over {quiet} packets");
    assert!(quiet >= 2_300, "{quiet} packets measured");
    assert!(
        (10..=60).contains(&emitting),
        "{emitting} REMBs in 12 s: periodic ones plus drops"
    );
}
