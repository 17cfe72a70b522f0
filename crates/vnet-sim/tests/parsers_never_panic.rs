//! The trace parser and the pcap reader, fed any input: a value or an error, never a panic; a
//! trace keeps its meaning in canonical form, and pcap records read back through the writer
//! unchanged. The contracts are in `contracts/`, shared with the fuzz targets in `fuzz/`.
//!
//! Random bytes alone rarely get past a pcap's magic or a trace's first line, so each parser is
//! also fed valid input with a few bytes changed, which reaches the checks further in.

#[path = "contracts/pcap.rs"]
mod pcap_contract;
#[path = "contracts/trace.rs"]
mod trace_contract;

use std::net::{Ipv4Addr, SocketAddrV4};

use proptest::prelude::*;
use vnet_sim::PcapWriter;
use vnet_sim::time::SimTime;

/// A line of a trace: mostly timestamps, sometimes blanks, signs, huge numbers or other text.
fn trace_line() -> impl Strategy<Value = String> {
    prop_oneof![
        8 => (0u64..2_000).prop_map(|ms| ms.to_string()),
        1 => "[ \t]{0,2}[0-9]{1,25}[ \t\r]{0,2}",
        1 => "[-+0-9a-z. \t\r\u{a0}\u{660}]{0,6}",
    ]
}

/// Bytes of a capture: one written by the writer, then cut and with some bytes replaced.
fn mutated_capture() -> impl Strategy<Value = Vec<u8>> {
    let record = (
        any::<u32>(),
        any::<[u8; 4]>(),
        any::<u16>(),
        prop::collection::vec(any::<u8>(), 0..64),
        0usize..100,
    );
    (
        prop::collection::vec(record, 0..4),
        prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        any::<prop::sample::Index>(),
        any::<bool>(),
    )
        .prop_map(|(records, edits, cut, do_cut)| {
            let mut writer = PcapWriter::new(Vec::new()).expect("a Vec accepts writes");
            for (micros, ip, port, payload, extra) in records {
                let addr = SocketAddrV4::new(Ipv4Addr::from(ip), port);
                writer
                    .write_udp_truncated(
                        SimTime::from_micros(u64::from(micros)),
                        addr,
                        addr,
                        &payload,
                        payload.len() + extra,
                    )
                    .expect("small records fit");
            }
            let mut bytes = writer.into_inner();
            for (at, value) in edits {
                let i = at.index(bytes.len());
                bytes[i] = value;
            }
            if do_cut {
                bytes.truncate(cut.index(bytes.len() + 1));
            }
            bytes
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 1_000, ..ProptestConfig::default() })]

    /// Arbitrary text is a trace or a located error.
    #[test]
    fn any_text_is_a_trace_or_a_located_error(
        text in "(?s).{0,80}",
        from in any::<u64>(),
        to in any::<u64>(),
    ) {
        trace_contract::mahimahi_trace(&text, from, to);
    }

    /// Trace-like text, with the mistakes people make in trace files, is a trace or a located
    /// error; line endings and blanks do not change a trace.
    #[test]
    fn trace_like_text_is_a_trace_or_a_located_error(
        lines in prop::collection::vec(trace_line(), 0..30),
        crlf in any::<bool>(),
        from in 0u64..10_000_000_000,
        to in 0u64..10_000_000_000,
    ) {
        let text = lines.join(if crlf { "\r\n" } else { "\n" });
        trace_contract::mahimahi_trace(&text, from, to);
    }

    /// Arbitrary bytes are a capture or an error.
    #[test]
    fn any_bytes_are_a_capture_or_an_error(bytes in prop::collection::vec(any::<u8>(), 0..200)) {
        pcap_contract::pcap_read(&bytes);
    }

    /// A damaged capture is read up to an error, and what it reads writes back unchanged; with
    /// the header checksums made valid again, the damage reaches the length checks.
    #[test]
    fn damaged_captures_read_back_through_the_writer(mut bytes in mutated_capture()) {
        pcap_contract::pcap_read(&bytes);
        pcap_contract::fix_checksums(&mut bytes);
        pcap_contract::pcap_read(&bytes);
    }
}
