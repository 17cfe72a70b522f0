//! What the network sends, however malformed, never panics an interceptor: media passes through
//! unchanged, every RTP packet is fed or counted under the reason it was skipped, every REMB is
//! used or counted invalid, and feedback of any content keeps the send side's counters
//! consistent and its target under the REMB cap. The contracts are in `contracts/`, shared with
//! the fuzz targets in `fuzz/`.
//!
//! Each contract decodes an unstructured input into operations (see `contracts/input.rs`), so
//! random bytes already describe packet sequences; the strategies below also build the
//! operations one by one, weighted towards the structured paths (packets with arbitrary header
//! extensions, valid feedback with a few bytes changed), which random bytes rarely reach.

mod contracts;

use contracts::rtcp_feedback::Preset;
use proptest::prelude::*;

/// Operations as the contracts decode them (`[kind, step, length, body]`, see
/// `contracts/input.rs`), each kind drawn from `kinds`.
fn operations(kinds: impl Strategy<Value = u8>) -> impl Strategy<Value = Vec<u8>> {
    let operation = (
        kinds,
        prop_oneof![4 => 0u16..2_000, 1 => any::<u16>()],
        prop::collection::vec(any::<u8>(), 0..=255),
    );
    prop::collection::vec(operation, 0..40).prop_map(|ops| {
        let mut bytes = Vec::new();
        for (kind, step, body) in ops {
            bytes.push(kind);
            bytes.extend_from_slice(&step.to_be_bytes());
            bytes.push(body.len() as u8);
            bytes.extend_from_slice(&body);
        }
        bytes
    })
}

/// A chain operation: media and then either raw RTCP bytes or valid RTCP with a few bytes
/// changed (`valid` is the kind bits that pick its parts).
fn chain_kind(valid: u8) -> impl Strategy<Value = u8> {
    prop_oneof![
        1 => any::<u8>().prop_map(|k| k & 0x7F),
        3 => any::<u8>().prop_map(move |k| 0x80 | (k & (0x03 | valid))),
    ]
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    /// Any bytes rtc reads as a REMB give a cap exactly when they carry a rate.
    #[test]
    fn any_remb_bytes_give_a_cap_only_for_a_rate(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
        contracts::remb_packet::received(&bytes);
    }

    /// A REMB header with any mantissa, exponent and SSRC list (the part random bytes miss).
    #[test]
    fn remb_rates_of_any_exponent_give_a_cap_only_for_a_rate(
        ssrcs in 0u8..8,
        rate in any::<u32>(),
        tail in prop::collection::vec(any::<u8>(), 0..40),
    ) {
        let mut bytes = vec![0x8F, 206, 0, 4 + ssrcs, 0, 0, 0, 1, 0, 0, 0, 0];
        bytes.extend_from_slice(b"REMB");
        bytes.push(ssrcs);
        bytes.extend_from_slice(&rate.to_be_bytes()[1..]);
        bytes.extend(tail.iter().take(usize::from(ssrcs) * 4));
        bytes.resize(20 + usize::from(ssrcs) * 4, 0);
        contracts::remb_packet::received(&bytes);
    }

    /// Any estimate we send reads back as itself, to REMB's precision.
    #[test]
    fn remb_we_build_reads_back_as_sent(
        sender in any::<u32>(),
        bps in prop_oneof![any::<u64>(), 0u64..100_000_000],
        ssrcs in prop_oneof![4 => prop::collection::vec(any::<u32>(), 0..8), 1 => prop::collection::vec(any::<u32>(), 250..300)],
    ) {
        contracts::remb_packet::built(sender, bps, ssrcs);
    }

    /// The REMB generator fed any RTP and any timer sequence.
    #[test]
    fn remb_generator_counts_every_packet(bytes in prop::collection::vec(any::<u8>(), 0..600)) {
        contracts::remb_receiver::remb_receiver(&bytes);
    }

    /// The REMB generator fed RTP built with arbitrary header extensions.
    #[test]
    fn remb_generator_counts_every_packet_with_any_extension(bytes in operations(any::<u8>())) {
        contracts::remb_receiver::remb_receiver(&bytes);
    }
}

proptest! {
    // A chain is built for each case: fewer cases, to keep the file well under two seconds.
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// The send-side chain (TWCC) fed any RTCP bytes, and valid feedback with bytes changed.
    #[test]
    fn send_side_twcc_chain_survives_any_rtcp(bytes in operations(chain_kind(0x1C))) {
        contracts::rtcp_feedback::chain_fed_rtcp(Preset::SendSideTwcc, &bytes);
    }

    /// The send-side chain (RFC 8888) likewise.
    #[test]
    fn send_side_rfc8888_chain_survives_any_rtcp(bytes in operations(chain_kind(0x1C))) {
        contracts::rtcp_feedback::chain_fed_rtcp(Preset::SendSideRfc8888, &bytes);
    }

    /// The REMB-only chain fed any RTCP, and valid REMBs and receiver reports with bytes
    /// changed.
    #[test]
    fn remb_chain_survives_any_rtcp(bytes in operations(chain_kind(0x0C))) {
        contracts::rtcp_feedback::chain_fed_rtcp(Preset::Remb, &bytes);
    }
}
