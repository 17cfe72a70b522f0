//! The pcap reader: any bytes are records or an error, and records read write back unchanged.
//! With the first byte odd, every record's IPv4 header checksum is made valid before reading,
//! so that changes to the headers reach the checks behind it.
#![no_main]

#[path = "../../crates/vnet-sim/tests/contracts/pcap.rs"]
mod contracts;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&mode, rest)) = data.split_first() else {
        return;
    };
    let mut bytes = rest.to_vec();
    if mode & 1 == 1 {
        contracts::fix_checksums(&mut bytes);
    }
    contracts::pcap_read(&bytes);
});
