//! What the pcap reader promises for any bytes, as a function that panics when a promise is
//! broken. Shared by `tests/parsers_never_panic.rs` (proptest) and the fuzz target `pcap_read`
//! in `fuzz/`, which includes this file by path.

#![allow(dead_code)] // each driver uses its own subset

use vnet_sim::pcap::{GLOBAL_HEADER_LEN, MAX_UDP_PAYLOAD, RECORD_HEADER_LEN, internet_checksum};
use vnet_sim::{PcapWriter, read_udp};

/// Bytes read as records or refused with an error; every record read is one the writer can
/// write (its kept bytes no more than its length, which fits a datagram), the records written
/// read back the same, and writing them again gives the same bytes.
pub fn pcap_read(bytes: &[u8]) {
    let Ok(records) = read_udp(bytes) else {
        return;
    };
    let mut writer = PcapWriter::new(Vec::new()).expect("a Vec accepts writes");
    for (i, r) in records.iter().enumerate() {
        assert!(
            r.payload.len() <= r.payload_len && r.payload_len <= MAX_UDP_PAYLOAD,
            "record {i} keeps {} of {} bytes",
            r.payload.len(),
            r.payload_len
        );
        writer
            .write_udp_truncated(r.time, r.src, r.dst, &r.payload, r.payload_len)
            .unwrap_or_else(|e| panic!("record {i} read but cannot be written: {e}"));
    }
    let written = writer.into_inner();
    let again = read_udp(&written).expect("what the writer wrote reads back");
    assert_eq!(again, records, "records changed through the writer");
    let mut rewriter = PcapWriter::new(Vec::new()).expect("a Vec accepts writes");
    for r in &again {
        rewriter
            .write_udp_truncated(r.time, r.src, r.dst, &r.payload, r.payload_len)
            .expect("written once, so writable");
    }
    assert_eq!(
        rewriter.into_inner(),
        written,
        "a second round changed the bytes"
    );
}

/// Rewrites the IPv4 header checksum of every record the bytes frame, so that a fuzzer's changes
/// to a header reach the checks behind the checksum (no mutation finds a valid one by chance).
pub fn fix_checksums(bytes: &mut [u8]) {
    let mut at = GLOBAL_HEADER_LEN;
    while let Some(header) = bytes.get(at..at + RECORD_HEADER_LEN) {
        let included = u32::from_le_bytes([header[8], header[9], header[10], header[11]]);
        let start = at + RECORD_HEADER_LEN;
        if let Some(ip) = bytes.get_mut(start..start + 20) {
            ip[10..12].fill(0);
            let checksum = internet_checksum(ip);
            ip[10..12].copy_from_slice(&checksum.to_be_bytes());
        }
        at = start + included as usize;
    }
}
