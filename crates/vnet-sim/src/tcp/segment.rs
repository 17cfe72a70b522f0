//! [`Segment`]: what a TCP-model sender and receiver put on the wire, as bytes.
//!
//! The links carry `Vec<u8>` datagrams, so a segment is encoded to a small fixed binary header
//! and decoded back at the far end. Only the header is encoded: the payload is notional (a
//! length), because no test needs the bytes and allocating a kilobyte per segment would only
//! slow simulations down. The link is charged the size the real segment would have on the wire,
//! [`Segment::wire_size`], through [`crate::Packet::size`].
//!
//! # Layout
//!
//! Big-endian, like every network header:
//!
//! ```text
//! data: magic(1) kind=1(1) flow(4) seq(8) len(4) ts_val(8)   = 26 bytes
//! ack:  magic(1) kind=2(1) flow(4) ack(8) ts_ecr(8)          = 22 bytes
//! ```
//!
//! The magic byte, [`MAGIC`] = `0xC7`, lies outside every range RFC 7983 §7 assigns for
//! demultiplexing on a shared socket (STUN 0–3, ZRTP 16–19, DTLS 20–63, TURN channels 64–79,
//! RTP/RTCP 128–191), so a model datagram is never taken for WebRTC traffic or the reverse.
//! Sequence numbers are 64-bit byte offsets from the start of the flow, with no wrap-around and
//! no SYN: the model starts established (RFC 9293 sequence arithmetic modulo 2³² only matters to
//! a real stack).
//!
//! # Sizes on the wire
//!
//! Every segment carries the timestamps option (RFC 7323 §3), as Linux sends by default, so the
//! header is [`HEADER_BYTES`] = 20 (IPv4, RFC 791) + 20 (TCP, RFC 9293 §3.1) + 12 (timestamps:
//! 10 bytes of option padded to 12 with two NOPs, RFC 7323 Appendix A). The default MSS,
//! [`DEFAULT_MSS`] = 1448, is then the payload that fills a 1500-byte Ethernet MTU: 1500 − 40
//! − 12, the MSS a Linux sender with timestamps uses on Ethernet. A full data segment is 1500
//! bytes on the wire and a pure ACK 52.
//!
//! Timestamps are nanoseconds of virtual time ([`SimTime`]) in 64 bits, not RFC 7323's 32-bit
//! ticks: the model has no clock granularity to imitate and no wrap-around to handle.

use thiserror::Error;

use crate::time::SimTime;

/// The first byte of every encoded segment (see the module docs for the choice).
pub const MAGIC: u8 = 0xC7;

/// IPv4 (20) + TCP (20) + timestamps option (12) bytes: what every segment costs on the wire
/// beyond its payload (RFC 791, RFC 9293 §3.1, RFC 7323 Appendix A).
pub const HEADER_BYTES: u32 = 52;

/// The default maximum segment size: a 1500-byte MTU less [`HEADER_BYTES`].
pub const DEFAULT_MSS: u32 = 1448;

const KIND_DATA: u8 = 1;
const KIND_ACK: u8 = 2;
/// Encoded length of a data segment.
pub const DATA_ENCODED_LEN: usize = 26;
/// Encoded length of an ACK segment.
pub const ACK_ENCODED_LEN: usize = 22;

/// A data segment: `len` bytes of the flow's stream from byte offset `seq`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct DataSegment {
    /// The flow this segment belongs to.
    pub flow: u32,
    /// Byte offset of the first payload byte in the flow's stream.
    pub seq: u64,
    /// Payload bytes.
    pub len: u32,
    /// When the sender sent it (RFC 7323 TSval), echoed back in the ACK it triggers.
    pub ts_val: SimTime,
}

/// A cumulative acknowledgement: every byte before `ack` has arrived.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct AckSegment {
    /// The flow this segment belongs to.
    pub flow: u32,
    /// The next byte the receiver expects (RCV.NXT).
    pub ack: u64,
    /// The echoed timestamp (RFC 7323 TSecr; see [`crate::tcp::TcpReceiver`] for which one).
    pub ts_ecr: SimTime,
}

impl DataSegment {
    /// The offset just past the last payload byte, saturating.
    pub fn end(&self) -> u64 {
        self.seq.saturating_add(u64::from(self.len))
    }
}

/// One TCP-model segment: data (sender to receiver) or an ACK (receiver to sender).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Segment {
    /// Payload from the sender.
    Data(DataSegment),
    /// A cumulative acknowledgement from the receiver.
    Ack(AckSegment),
}

/// Why bytes are not a TCP-model segment.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum SegmentError {
    /// Nothing to decode.
    #[error("empty datagram")]
    Empty,
    /// The magic byte and nothing after it: no kind.
    #[error("TCP-model segment cut after the magic byte")]
    Truncated,
    /// The first byte is not [`MAGIC`]: some other protocol's datagram.
    #[error("not a TCP-model segment: first byte {found:#04x}, expected {MAGIC:#04x}")]
    NotTcp {
        /// The first byte found.
        found: u8,
    },
    /// A kind byte that is neither data (1) nor ACK (2).
    #[error("unknown segment kind {kind}")]
    UnknownKind {
        /// The kind byte found.
        kind: u8,
    },
    /// The datagram is not the fixed length of its kind.
    #[error("{kind} segment of {len} bytes, expected {expected}")]
    Length {
        /// `"data"` or `"ack"`.
        kind: &'static str,
        /// The length found.
        len: usize,
        /// The length of that kind.
        expected: usize,
    },
}

impl Segment {
    /// The flow the segment belongs to.
    pub fn flow(&self) -> u32 {
        match self {
            Segment::Data(d) => d.flow,
            Segment::Ack(a) => a.flow,
        }
    }

    /// Bytes the real segment would occupy on the wire (IP packet size): payload plus
    /// [`HEADER_BYTES`]; what a link should be charged for it.
    pub fn wire_size(&self) -> u32 {
        match self {
            Segment::Data(d) => d.len.saturating_add(HEADER_BYTES),
            Segment::Ack(_) => HEADER_BYTES,
        }
    }

    /// Appends the encoded header to `buf` (see the module docs for the layout).
    pub fn encode(&self, buf: &mut Vec<u8>) {
        match self {
            Segment::Data(d) => {
                buf.reserve(DATA_ENCODED_LEN);
                buf.extend_from_slice(&[MAGIC, KIND_DATA]);
                buf.extend_from_slice(&d.flow.to_be_bytes());
                buf.extend_from_slice(&d.seq.to_be_bytes());
                buf.extend_from_slice(&d.len.to_be_bytes());
                buf.extend_from_slice(&d.ts_val.as_nanos().to_be_bytes());
            }
            Segment::Ack(a) => {
                buf.reserve(ACK_ENCODED_LEN);
                buf.extend_from_slice(&[MAGIC, KIND_ACK]);
                buf.extend_from_slice(&a.flow.to_be_bytes());
                buf.extend_from_slice(&a.ack.to_be_bytes());
                buf.extend_from_slice(&a.ts_ecr.as_nanos().to_be_bytes());
            }
        }
    }

    /// The segment encoded in `bytes`; an error, never a panic, for anything else.
    pub fn decode(bytes: &[u8]) -> Result<Segment, SegmentError> {
        let (&magic, rest) = bytes.split_first().ok_or(SegmentError::Empty)?;
        if magic != MAGIC {
            return Err(SegmentError::NotTcp { found: magic });
        }
        let (&kind, _) = rest.split_first().ok_or(SegmentError::Truncated)?;
        let (name, expected) = match kind {
            KIND_DATA => ("data", DATA_ENCODED_LEN),
            KIND_ACK => ("ack", ACK_ENCODED_LEN),
            _ => return Err(SegmentError::UnknownKind { kind }),
        };
        if bytes.len() != expected {
            return Err(SegmentError::Length {
                kind: name,
                len: bytes.len(),
                expected,
            });
        }
        let mut r = Reader(&bytes[2..]);
        let flow = r.u32();
        Ok(if kind == KIND_DATA {
            Segment::Data(DataSegment {
                flow,
                seq: r.u64(),
                len: r.u32(),
                ts_val: SimTime::from_nanos(r.u64()),
            })
        } else {
            Segment::Ack(AckSegment {
                flow,
                ack: r.u64(),
                ts_ecr: SimTime::from_nanos(r.u64()),
            })
        })
    }
}

/// Reads big-endian integers from a slice whose length the caller has checked.
struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> [u8; N] {
        let (head, tail) = self.0.split_at(N);
        self.0 = tail;
        head.try_into()
            .expect("split_at(N) gives exactly N bytes; decode checked the length")
    }

    fn u32(&mut self) -> u32 {
        u32::from_be_bytes(self.take())
    }

    fn u64(&mut self) -> u64 {
        u64::from_be_bytes(self.take())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn data() -> Segment {
        Segment::Data(DataSegment {
            flow: 7,
            seq: 1 << 40,
            len: 1448,
            ts_val: SimTime::from_millis(1234),
        })
    }

    /// Both ends of a simulation rely on decode undoing encode exactly.
    #[test]
    fn a_segment_decodes_to_itself() {
        let ack = Segment::Ack(AckSegment {
            flow: u32::MAX,
            ack: 99,
            ts_ecr: SimTime::MAX,
        });
        for s in [data(), ack] {
            let mut buf = Vec::new();
            s.encode(&mut buf);
            assert_eq!(Segment::decode(&buf), Ok(s));
        }
    }

    /// The link must be charged what a real 1500-byte-MTU TCP segment costs.
    #[test]
    fn a_full_segment_is_one_mtu_and_an_ack_is_52_bytes() {
        assert_eq!(data().wire_size(), 1500);
        let ack = Segment::Ack(AckSegment {
            flow: 0,
            ack: 0,
            ts_ecr: SimTime::ZERO,
        });
        assert_eq!(ack.wire_size(), 52);
    }

    /// Another protocol's datagram must be recognised as such, with the offending byte.
    #[test]
    fn foreign_and_truncated_datagrams_are_refused_with_the_reason() {
        assert_eq!(Segment::decode(&[]), Err(SegmentError::Empty));
        assert_eq!(
            Segment::decode(&[0x80, 0x60]).map_err(|e| e.to_string()),
            Err("not a TCP-model segment: first byte 0x80, expected 0xc7".to_owned())
        );
        assert_eq!(
            Segment::decode(&[MAGIC, 9]),
            Err(SegmentError::UnknownKind { kind: 9 })
        );
        let mut buf = Vec::new();
        data().encode(&mut buf);
        buf.push(0);
        assert_eq!(
            Segment::decode(&buf),
            Err(SegmentError::Length {
                kind: "data",
                len: 27,
                expected: 26
            })
        );
        assert_eq!(Segment::decode(&[MAGIC]), Err(SegmentError::Truncated));
    }

    proptest! {
        /// Decoding reads bytes from the network: any input gives a value or an error.
        #[test]
        fn decoding_random_bytes_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..64)) {
            let _ = Segment::decode(&bytes);
        }

        /// Random bytes behind a valid magic and kind reach the field parsing too.
        #[test]
        fn decoding_random_fields_never_panics_and_round_trips(
            kind in 0u8..4,
            body in prop::collection::vec(any::<u8>(), 0..30),
        ) {
            let mut bytes = vec![MAGIC, kind];
            bytes.extend_from_slice(&body);
            if let Ok(segment) = Segment::decode(&bytes) {
                let mut again = Vec::new();
                segment.encode(&mut again);
                prop_assert_eq!(again, bytes);
            }
        }
    }
}
