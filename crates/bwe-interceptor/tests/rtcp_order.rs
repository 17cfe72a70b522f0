//! The RTCP an endpoint generates at one instant leaves in an order that depends only on what
//! was generated: rtc's NACK generator alone emits its per-SSRC messages in hash order, which
//! changes from one generator (and one process) to the next.

mod support;

use std::time::{Duration, Instant};

use bwe_interceptor::{RTCP_ORDER_SLOT, RtcpOrder};
use rtc::interceptor::{
    AttributedPacket, Interceptor, NackGeneratorBuilder, Packet, RTCPFeedback, Registry, Slot,
    StreamInfo, TaggedPacket,
};
use rtc::rtcp::transport_feedbacks::transport_layer_nack::TransportLayerNack;
use rtc::sansio::Protocol;
use rtc::shared::TransportContext;

use support::{media_packet, video_stream};

const SSRCS: [u32; 8] = [11, 22, 33, 44, 55, 66, 77, 88];

fn nack_stream(ssrc: u32) -> StreamInfo {
    let mut info = video_stream(ssrc, None, None);
    info.rtcp_feedback = vec![RTCPFeedback {
        typ: "nack".to_owned(),
        parameter: String::new(),
    }];
    info
}

/// Every SSRC loses sequence number 1; the order in which the chain's NACKs name the SSRCs.
fn nack_order(ordered: bool) -> Vec<u32> {
    let mut registry = Registry::new().with(
        Slot::NackGenerator,
        NackGeneratorBuilder::new()
            .with_interval(Duration::from_millis(100))
            .build(),
    );
    if ordered {
        registry = registry.with(RTCP_ORDER_SLOT, RtcpOrder::new());
    }
    let mut chain = registry.build();
    let base = Instant::now();
    for ssrc in SSRCS {
        chain.bind_remote_stream(&nack_stream(ssrc));
        for seq in [0u16, 2, 3] {
            chain
                .handle_read(media_packet(base, ssrc, seq, 100))
                .expect("read");
        }
    }
    while chain.poll_read().is_some() {}
    let mut order = Vec::new();
    for step in 1..=3 {
        let now = base + Duration::from_millis(100 * step);
        chain.handle_timeout(now).expect("timeout");
        while let Some(msg) = chain.poll_write() {
            let Packet::Rtcp(packets) = &msg.message.packet else {
                continue;
            };
            for p in packets {
                if let Some(nack) = p.as_any().downcast_ref::<TransportLayerNack>() {
                    order.push(nack.media_ssrc);
                }
            }
        }
        if !order.is_empty() {
            break;
        }
    }
    order
}

/// Upstream behaviour this crate works around (rtc-interceptor 0.21.1): the NACK generator
/// iterates a `HashMap` of receive logs, so two generators fed the same packets name the SSRCs
/// in different orders. When this fails, upstream emits a fixed order and `RtcpOrder` is no
/// longer needed for the NACK generator.
#[test]
fn upstream_nack_generator_orders_ssrcs_by_hash() {
    let orders: Vec<Vec<u32>> = (0..6).map(|_| nack_order(false)).collect();
    for order in &orders {
        let mut sorted = order.clone();
        sorted.sort_unstable();
        assert_eq!(sorted, SSRCS, "one NACK per SSRC: {order:?}");
    }
    assert!(
        orders.iter().any(|o| o != &orders[0]),
        "six generators named the SSRCs in the same order: {orders:?}"
    );
}

/// With `RtcpOrder` wire-most, every generator's NACKs leave in SSRC order.
#[test]
fn ordered_chains_send_the_same_nacks_in_the_same_order() {
    for _ in 0..6 {
        assert_eq!(nack_order(true), SSRCS);
    }
}

fn rtcp_nack(now: Instant, media_ssrc: u32) -> TaggedPacket {
    TaggedPacket {
        now,
        transport: TransportContext::default(),
        message: AttributedPacket::new(Packet::Rtcp(vec![Box::new(TransportLayerNack {
            sender_ssrc: 1,
            media_ssrc,
            nacks: Vec::new(),
        })])),
    }
}

fn describe(msg: &TaggedPacket) -> String {
    match &msg.message.packet {
        Packet::Rtp(p) => format!("rtp {}", p.header.sequence_number),
        Packet::Rtcp(ps) => {
            let nack = ps[0]
                .as_any()
                .downcast_ref::<TransportLayerNack>()
                .expect("a NACK");
            format!("nack {}", nack.media_ssrc)
        }
        _ => "other".to_owned(),
    }
}

/// Only runs of RTCP of one instant are sorted: RTP keeps its place, and RTCP of another
/// instant is not pulled across it.
#[test]
fn rtp_and_rtcp_of_other_instants_keep_their_place() {
    let t0 = Instant::now();
    let t1 = t0 + Duration::from_millis(5);
    let mut order = RtcpOrder::new();
    let batch = [
        media_packet(t0, 9, 1, 100),
        rtcp_nack(t0, 50),
        rtcp_nack(t0, 30),
        rtcp_nack(t0, 40),
        media_packet(t0, 9, 2, 100),
        rtcp_nack(t0, 20),
        rtcp_nack(t1, 10),
    ];
    for msg in batch {
        order.handle_write(msg).expect("write");
    }
    let mut out = Vec::new();
    while let Some(msg) = order.poll_write() {
        out.push(describe(&msg));
    }
    assert_eq!(
        out,
        [
            "rtp 1", "nack 30", "nack 40", "nack 50", "rtp 2", "nack 20", "nack 10"
        ]
    );
}
