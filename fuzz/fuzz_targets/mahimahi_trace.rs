//! The mahimahi trace parser: any text is a trace or a located error. The first 16 bytes are
//! the span a rate is asked for, the rest the text (invalid UTF-8 replaced, as a file read
//! lossily would be; `from_file` refuses it outright).
#![no_main]

#[path = "../../crates/vnet-sim/tests/contracts/trace.rs"]
mod contracts;

/// The little-endian number in the 8 bytes at `at` (zeros past the end).
fn number(data: &[u8], at: usize) -> u64 {
    let mut word = [0u8; 8];
    for (w, b) in word.iter_mut().zip(data.iter().skip(at).take(8)) {
        *w = *b;
    }
    u64::from_le_bytes(word)
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let (from, to) = (number(data, 0), number(data, 8));
    let text = String::from_utf8_lossy(data.get(16..).unwrap_or_default());
    contracts::mahimahi_trace(&text, from, to);
});
