//! What webrtc-rs 0.17 crates do that this crate works around; each test fails when upstream
//! changes, so the workaround can be revisited.

use interceptor::twcc::Recorder;
use webrtc::rtcp::transport_feedbacks::transport_layer_cc::TransportLayerCc;

/// interceptor 0.17.2's TWCC receiver starts each feedback message at the first packet it
/// received since the previous one, so a packet lost right before that is reported by no
/// message (libwebrtc's receiver starts right after the last number reported, and reports it
/// lost). `bwe_webrtc017::send_side` counts such a gap lost when the two messages are
/// consecutive (`SendSideStats017::inferred_lost`).
#[test]
fn interceptor_0_17_twcc_recorder_leaves_a_boundary_loss_unreported() {
    let mut recorder = Recorder::new(1);
    for seq in 0..10u16 {
        recorder.record(5, seq, 1_000 * i64::from(seq));
    }
    let first = recorder.build_feedback_packet();
    // Number 10 is lost; 11.. arrive.
    for seq in 11..20u16 {
        recorder.record(5, seq, 1_000 * i64::from(seq));
    }
    let second = recorder.build_feedback_packet();
    let read = |packets: &[Box<dyn webrtc::rtcp::packet::Packet + Send + Sync>]| {
        let cc = packets[0]
            .as_any()
            .downcast_ref::<TransportLayerCc>()
            .expect("TWCC")
            .clone();
        (
            cc.base_sequence_number,
            cc.packet_status_count,
            cc.fb_pkt_count,
        )
    };
    assert_eq!(read(&first), (0, 10, 0));
    assert_eq!(
        read(&second),
        (11, 9, 1),
        "the second message now covers number 10: the boundary-loss inference can go"
    );
}
