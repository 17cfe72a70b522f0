//! [`PcapWriter`]: classic libpcap files of UDP datagrams over IPv4, stamped with virtual time;
//! [`read_udp`] reads them back.
//!
//! A capture is only as useful as the tools that open it, so the format is the one every tool
//! reads: the classic libpcap file (not pcapng), with the **nanosecond** magic `0xa1b23c4d`
//! because the simulator's clock is integer nanoseconds and a microsecond file would round every
//! timestamp; link type `LINKTYPE_RAW` (101): each record is an IPv4 packet with no link-layer
//! header, since the simulator has none to show. Every record is a real 20-byte IPv4 header
//! (header checksum computed, don't-fragment set, TTL 64, identification counting up per file)
//! and an 8-byte UDP header with checksum 0, which IPv4 allows and which means "not computed"
//! (RFC 768), so no tool flags it.
//!
//! Timestamps are virtual time since the start of the simulation: the file's epoch is virtual
//! time zero, so Wireshark shows the first second of a run as 1970-01-01 00:00:00 UTC. A wall
//! clock would make two runs of one seed differ in every record, and would say nothing about
//! when a packet was sent in the simulation.
//!
//! A record may hold only the start of a datagram ([`PcapWriter::write_udp_truncated`]): its
//! captured length is then shorter than its original length, as with `tcpdump -s`, and the IP
//! and UDP length fields still give the whole datagram.
//!
//! The writer is sans-clock and sans-file: it writes to any [`Write`] (a `Vec<u8>` in the
//! simulator, a file in a harness) and takes every timestamp as an argument.

use std::io::{self, Write};
use std::net::{Ipv4Addr, SocketAddrV4};

use thiserror::Error;

use crate::time::{SimDuration, SimTime};

/// The magic of a little-endian-written pcap file with nanosecond timestamps.
pub const PCAP_MAGIC_NANOS: u32 = 0xa1b2_3c4d;
/// `LINKTYPE_RAW`: records start with the IP header.
pub const LINKTYPE_RAW: u32 = 101;
/// Bytes of a record the files say were kept at most: every UDP datagram over IPv4 fits.
pub const SNAPLEN: u32 = 65_535;
/// The largest UDP payload one IPv4 datagram carries: 65 535 − 20 (IP) − 8 (UDP).
pub const MAX_UDP_PAYLOAD: usize = 65_507;
/// Bytes of the global header at the start of every file.
pub const GLOBAL_HEADER_LEN: usize = 24;
/// Bytes of the header in front of every record.
pub const RECORD_HEADER_LEN: usize = 16;

const IPV4_HEADER_LEN: usize = 20;
const UDP_HEADER_LEN: usize = 8;
const HEADERS_LEN: usize = IPV4_HEADER_LEN + UDP_HEADER_LEN;
const NANOS_PER_SEC: u64 = 1_000_000_000;
const PROTOCOL_UDP: u8 = 17;
const TTL: u8 = 64;
const DONT_FRAGMENT: u16 = 0x4000;

/// A capture that cannot be written or read.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum PcapError {
    /// The writer's sink failed.
    #[error("writing the capture failed: {0}")]
    Io(#[from] io::Error),
    /// The payload does not fit in one IPv4 datagram.
    #[error("a UDP payload of {len} bytes does not fit in one IPv4 datagram (at most 65507)")]
    TooLarge {
        /// The payload length given.
        len: usize,
    },
    /// More bytes were given as captured than the datagram has.
    #[error("{captured} bytes captured of a {len}-byte UDP payload")]
    CapturedTooMuch {
        /// Bytes given.
        captured: usize,
        /// The payload's length.
        len: usize,
    },
    /// The time does not fit in a pcap timestamp (32-bit seconds).
    #[error("virtual time {time} is past what a pcap timestamp holds (2^32 s)")]
    TimeOutOfRange {
        /// The time given.
        time: SimTime,
    },
    /// The bytes are not a file this module writes.
    #[error("not a nanosecond raw-IP pcap file: {what} is {found:#x}, expected {expected:#x}")]
    Format {
        /// The global-header field that differs.
        what: &'static str,
        /// Its value.
        found: u32,
        /// The value this module writes.
        expected: u32,
    },
    /// The file ends inside a header or a record.
    #[error("the capture ends inside record {index} (byte {offset})")]
    Truncated {
        /// The record (0 = first), or the number of records before the global header's end.
        index: usize,
        /// Where the missing bytes should start.
        offset: usize,
    },
    /// A record that is not an IPv4 UDP datagram this module would have written.
    #[error("record {index} is not an IPv4 UDP datagram: {reason}")]
    Record {
        /// The record (0 = first).
        index: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
}

/// Writes a classic pcap file of UDP datagrams over IPv4 to `W`; see the module docs.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    /// The IPv4 identification of the next record.
    next_id: u16,
    records: u64,
    /// A scratch buffer for one record, kept to avoid an allocation per record.
    buf: Vec<u8>,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the global header to `out` and returns the writer.
    pub fn new(mut out: W) -> Result<Self, PcapError> {
        out.write_all(&global_header())?;
        Ok(Self {
            out,
            next_id: 0,
            records: 0,
            buf: Vec::new(),
        })
    }

    /// Writes one datagram from `src` to `dst` carrying `payload`, sent at `time`.
    pub fn write_udp(
        &mut self,
        time: SimTime,
        src: SocketAddrV4,
        dst: SocketAddrV4,
        payload: &[u8],
    ) -> Result<(), PcapError> {
        self.write_udp_truncated(time, src, dst, payload, payload.len())
    }

    /// Writes a datagram whose payload is `payload_len` bytes long, of which only the first
    /// ones, `captured`, are kept: the record's captured length is the headers plus `captured`,
    /// its original length (and the IP and UDP length fields) the headers plus `payload_len`.
    pub fn write_udp_truncated(
        &mut self,
        time: SimTime,
        src: SocketAddrV4,
        dst: SocketAddrV4,
        captured: &[u8],
        payload_len: usize,
    ) -> Result<(), PcapError> {
        if payload_len > MAX_UDP_PAYLOAD {
            return Err(PcapError::TooLarge { len: payload_len });
        }
        if captured.len() > payload_len {
            return Err(PcapError::CapturedTooMuch {
                captured: captured.len(),
                len: payload_len,
            });
        }
        let nanos = time.as_nanos();
        let secs =
            u32::try_from(nanos / NANOS_PER_SEC).map_err(|_| PcapError::TimeOutOfRange { time })?;
        // Below 10^9, so it fits.
        let subsec = (nanos % NANOS_PER_SEC) as u32;
        // Both at most 65 535, checked above.
        let original = (HEADERS_LEN + payload_len) as u32;
        let included = (HEADERS_LEN + captured.len()) as u32;

        self.buf.clear();
        self.buf.extend_from_slice(&secs.to_le_bytes());
        self.buf.extend_from_slice(&subsec.to_le_bytes());
        self.buf.extend_from_slice(&included.to_le_bytes());
        self.buf.extend_from_slice(&original.to_le_bytes());
        self.buf.extend_from_slice(&ipv4_header(
            *src.ip(),
            *dst.ip(),
            original as u16,
            self.next_id,
        ));
        self.buf.extend_from_slice(&src.port().to_be_bytes());
        self.buf.extend_from_slice(&dst.port().to_be_bytes());
        self.buf
            .extend_from_slice(&((UDP_HEADER_LEN + payload_len) as u16).to_be_bytes());
        self.buf.extend_from_slice(&0u16.to_be_bytes());
        self.buf.extend_from_slice(captured);
        self.out.write_all(&self.buf)?;
        self.next_id = self.next_id.wrapping_add(1);
        self.records += 1;
        Ok(())
    }

    /// Records written so far.
    pub fn records(&self) -> u64 {
        self.records
    }

    /// Flushes the sink.
    pub fn flush(&mut self) -> Result<(), PcapError> {
        self.out.flush()?;
        Ok(())
    }

    /// The sink.
    pub fn get_ref(&self) -> &W {
        &self.out
    }

    /// The sink, giving up the writer.
    pub fn into_inner(self) -> W {
        self.out
    }
}

/// The 24-byte global header every file starts with.
pub fn global_header() -> [u8; GLOBAL_HEADER_LEN] {
    let mut h = [0u8; GLOBAL_HEADER_LEN];
    h[0..4].copy_from_slice(&PCAP_MAGIC_NANOS.to_le_bytes());
    h[4..6].copy_from_slice(&2u16.to_le_bytes()); // version 2.4
    h[6..8].copy_from_slice(&4u16.to_le_bytes());
    // thiszone and sigfigs: 0.
    h[16..20].copy_from_slice(&SNAPLEN.to_le_bytes());
    h[20..24].copy_from_slice(&LINKTYPE_RAW.to_le_bytes());
    h
}

fn ipv4_header(src: Ipv4Addr, dst: Ipv4Addr, total_len: u16, id: u16) -> [u8; IPV4_HEADER_LEN] {
    let mut h = [0u8; IPV4_HEADER_LEN];
    h[0] = 0x45; // version 4, 5 words
    h[2..4].copy_from_slice(&total_len.to_be_bytes());
    h[4..6].copy_from_slice(&id.to_be_bytes());
    h[6..8].copy_from_slice(&DONT_FRAGMENT.to_be_bytes());
    h[8] = TTL;
    h[9] = PROTOCOL_UDP;
    h[12..16].copy_from_slice(&src.octets());
    h[16..20].copy_from_slice(&dst.octets());
    let checksum = internet_checksum(&h);
    h[10..12].copy_from_slice(&checksum.to_be_bytes());
    h
}

/// The RFC 1071 checksum of `bytes` (an even number of them): the one's complement of the
/// one's-complement sum of its 16-bit words. Over a header that holds its own checksum, it is 0.
pub fn internet_checksum(bytes: &[u8]) -> u16 {
    let mut sum: u32 = bytes
        .chunks(2)
        .map(|w| u32::from(u16::from_be_bytes([w[0], w.get(1).copied().unwrap_or(0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    // The loop leaves at most 16 bits.
    !(sum as u16)
}

/// One record of a file, as [`read_udp`] finds it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct UdpRecord {
    /// Its timestamp.
    pub time: SimTime,
    /// Sender.
    pub src: SocketAddrV4,
    /// Addressee.
    pub dst: SocketAddrV4,
    /// The payload bytes kept (all of them unless the record was truncated).
    pub payload: Vec<u8>,
    /// The payload's whole length.
    pub payload_len: usize,
}

/// Reads a file written by [`PcapWriter`] back: every record, checking the global header, the
/// IPv4 header checksum and the length fields. For tests and tools that check a capture without
/// Wireshark.
pub fn read_udp(bytes: &[u8]) -> Result<Vec<UdpRecord>, PcapError> {
    let header = bytes.get(..GLOBAL_HEADER_LEN).ok_or(PcapError::Truncated {
        index: 0,
        offset: bytes.len(),
    })?;
    let field = |at: usize| {
        u32::from_le_bytes([header[at], header[at + 1], header[at + 2], header[at + 3]])
    };
    for (what, at, expected) in [
        ("magic", 0, PCAP_MAGIC_NANOS),
        ("link type", 20, LINKTYPE_RAW),
    ] {
        let found = field(at);
        if found != expected {
            return Err(PcapError::Format {
                what,
                found,
                expected,
            });
        }
    }
    let mut records = Vec::new();
    let mut at = GLOBAL_HEADER_LEN;
    while at < bytes.len() {
        let index = records.len();
        let truncated = |offset| PcapError::Truncated { index, offset };
        let rh = bytes
            .get(at..at + RECORD_HEADER_LEN)
            .ok_or(truncated(bytes.len()))?;
        let word = |i: usize| u32::from_le_bytes([rh[i], rh[i + 1], rh[i + 2], rh[i + 3]]);
        let (secs, nanos, included, original) = (word(0), word(4), word(8), word(12));
        let start = at + RECORD_HEADER_LEN;
        let end = start + included as usize;
        let data = bytes.get(start..end).ok_or(truncated(bytes.len()))?;
        records.push(parse_record(index, secs, nanos, data, original as usize)?);
        at = end;
    }
    Ok(records)
}

fn parse_record(
    index: usize,
    secs: u32,
    nanos: u32,
    data: &[u8],
    original: usize,
) -> Result<UdpRecord, PcapError> {
    let bad = |reason| PcapError::Record { index, reason };
    if nanos >= 1_000_000_000 {
        return Err(bad("nanoseconds of the timestamp past one second"));
    }
    if data.len() < HEADERS_LEN {
        return Err(bad("shorter than an IPv4 and a UDP header"));
    }
    // Also keeps the length arithmetic below from going negative.
    if original < data.len() {
        return Err(bad(
            "more bytes captured than the datagram's original length",
        ));
    }
    let (ip, rest) = data.split_at(IPV4_HEADER_LEN);
    if ip[0] != 0x45 || ip[9] != PROTOCOL_UDP {
        return Err(bad("not IPv4 without options carrying UDP"));
    }
    if internet_checksum(ip) != 0 {
        return Err(bad("IPv4 header checksum does not verify"));
    }
    let be16 = |b: &[u8], i: usize| u16::from_be_bytes([b[i], b[i + 1]]);
    if usize::from(be16(ip, 2)) != original
        || usize::from(be16(rest, 4)) != original - IPV4_HEADER_LEN
    {
        return Err(bad(
            "length fields disagree with the record's original length",
        ));
    }
    let octets = |i: usize| Ipv4Addr::new(ip[i], ip[i + 1], ip[i + 2], ip[i + 3]);
    Ok(UdpRecord {
        time: SimTime::ZERO
            + SimDuration::from_secs(u64::from(secs))
            + SimDuration::from_nanos(u64::from(nanos)),
        src: SocketAddrV4::new(octets(12), be16(rest, 0)),
        dst: SocketAddrV4::new(octets(16), be16(rest, 2)),
        payload: rest[UDP_HEADER_LEN..].to_vec(),
        payload_len: original - HEADERS_LEN,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(a: u8, port: u16) -> SocketAddrV4 {
        SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, a), port)
    }

    /// Tools recognise a file by its first 24 bytes; these are the nanosecond magic, version
    /// 2.4, zone and accuracy 0, snap length 65 535 and raw IP, little-endian.
    #[test]
    fn the_global_header_is_nanosecond_pcap_of_raw_ip() {
        let writer = PcapWriter::new(Vec::new()).expect("a Vec accepts writes");
        assert_eq!(
            writer.get_ref().as_slice(),
            [
                0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 101,
                0, 0, 0
            ]
        );
    }

    /// One record, byte for byte: the timestamp split into seconds and nanoseconds, lengths
    /// that count both headers, and an IPv4 header whose checksum a receiver would accept
    /// (worked by hand: its words sum to 0xd933, whose complement is 0x26cc).
    #[test]
    fn a_record_is_a_timestamped_ipv4_udp_datagram_with_a_valid_header_checksum() {
        let mut writer = PcapWriter::new(Vec::new()).expect("a Vec accepts writes");
        let time = SimTime::from_nanos(3_000_000_123);
        writer
            .write_udp(time, addr(1, 5004), addr(2, 5006), b"hi!")
            .expect("fits");
        let bytes = writer.into_inner();
        let record = &bytes[GLOBAL_HEADER_LEN..];
        #[rustfmt::skip]
        let expected: [u8; 47] = [
            3, 0, 0, 0, 123, 0, 0, 0, 31, 0, 0, 0, 31, 0, 0, 0, // 3 s + 123 ns, 31 of 31 bytes
            0x45, 0, 0, 31, 0, 0, 0x40, 0, 64, 17, 0x26, 0xcc, // IPv4, length 31, DF, TTL 64, UDP
            10, 0, 0, 1, 10, 0, 0, 2,
            0x13, 0x8c, 0x13, 0x8e, 0, 11, 0, 0, // ports 5004 → 5006, length 11, no checksum
            b'h', b'i', b'!',
        ];
        assert_eq!(record, expected);
        assert_eq!(internet_checksum(&record[16..36]), 0);
    }

    /// A truncated record keeps the datagram's real length in its headers, so tools report it
    /// as cut by the capture rather than as a short datagram.
    #[test]
    fn a_truncated_record_keeps_the_whole_length_in_its_headers() {
        let mut writer = PcapWriter::new(Vec::new()).expect("a Vec accepts writes");
        writer
            .write_udp_truncated(SimTime::ZERO, addr(1, 1), addr(2, 2), b"abcd", 1_000)
            .expect("fits");
        let records = read_udp(writer.get_ref()).expect("reads back");
        assert_eq!(records.len(), 1);
        assert_eq!(records[0].payload, b"abcd");
        assert_eq!(records[0].payload_len, 1_000);
        assert!(matches!(
            writer.write_udp_truncated(SimTime::ZERO, addr(1, 1), addr(2, 2), b"abcd", 3),
            Err(PcapError::CapturedTooMuch {
                captured: 4,
                len: 3
            })
        ));
    }

    /// What is written reads back the same, identification numbers counting up.
    #[test]
    fn records_read_back_as_written() {
        let mut writer = PcapWriter::new(Vec::new()).expect("a Vec accepts writes");
        let sent: Vec<(SimTime, Vec<u8>)> = (0..5u64)
            .map(|i| {
                (
                    SimTime::from_micros(i * 1_234_567),
                    vec![i as u8; i as usize * 300],
                )
            })
            .collect();
        for (t, p) in &sent {
            writer
                .write_udp(*t, addr(7, 40_000), addr(9, 3_478), p)
                .expect("fits");
        }
        assert_eq!(writer.records(), 5);
        let bytes = writer.into_inner();
        let got = read_udp(&bytes).expect("reads back");
        let back: Vec<(SimTime, Vec<u8>)> =
            got.iter().map(|r| (r.time, r.payload.clone())).collect();
        assert_eq!(back, sent);
        assert!(
            got.iter()
                .all(|r| r.src == addr(7, 40_000) && r.dst == addr(9, 3_478))
        );
        let second_id = GLOBAL_HEADER_LEN + RECORD_HEADER_LEN + HEADERS_LEN + RECORD_HEADER_LEN + 4;
        assert_eq!(bytes[second_id..second_id + 2], [0, 1]);
    }

    /// Inputs no datagram can have are errors, not panics or wrapped fields.
    #[test]
    fn impossible_datagrams_and_times_are_refused() {
        let mut writer = PcapWriter::new(Vec::new()).expect("a Vec accepts writes");
        let big = vec![0u8; MAX_UDP_PAYLOAD + 1];
        assert!(matches!(
            writer.write_udp(SimTime::ZERO, addr(1, 1), addr(2, 2), &big),
            Err(PcapError::TooLarge { len }) if len == MAX_UDP_PAYLOAD + 1
        ));
        assert!(matches!(
            writer.write_udp(SimTime::MAX, addr(1, 1), addr(2, 2), b""),
            Err(PcapError::TimeOutOfRange { .. })
        ));
        assert_eq!(writer.records(), 0);
        assert_eq!(writer.get_ref().len(), GLOBAL_HEADER_LEN);
    }

    /// A record claiming fewer original bytes than it holds (here none at all, with IP and UDP
    /// length fields to match) is refused, not read into a negative length (found by the
    /// `pcap_read` fuzz target: it panicked on an overflowing subtraction).
    #[test]
    fn a_record_shorter_than_what_it_captured_is_refused() {
        let mut writer = PcapWriter::new(Vec::new()).expect("a Vec accepts writes");
        writer
            .write_udp(SimTime::ZERO, addr(1, 1), addr(2, 2), b"xyz")
            .expect("fits");
        let good = writer.into_inner();
        for original in [0u16, 19, 27, 30] {
            let mut bytes = good.clone();
            let record = GLOBAL_HEADER_LEN;
            bytes[record + 12..record + 16].copy_from_slice(&u32::from(original).to_le_bytes());
            let ip = record + RECORD_HEADER_LEN;
            bytes[ip + 2..ip + 4].copy_from_slice(&original.to_be_bytes());
            bytes[ip + 10..ip + 12].fill(0);
            let checksum = internet_checksum(&bytes[ip..ip + IPV4_HEADER_LEN]);
            bytes[ip + 10..ip + 12].copy_from_slice(&checksum.to_be_bytes());
            let udp_len = original.saturating_sub(IPV4_HEADER_LEN as u16);
            bytes[ip + 24..ip + 26].copy_from_slice(&udp_len.to_be_bytes());
            assert!(
                matches!(read_udp(&bytes), Err(PcapError::Record { index: 0, .. })),
                "original length {original}"
            );
        }
    }

    /// A corrupted file is reported with where it went wrong.
    #[test]
    fn the_reader_refuses_what_it_did_not_write() {
        let mut writer = PcapWriter::new(Vec::new()).expect("a Vec accepts writes");
        writer
            .write_udp(SimTime::ZERO, addr(1, 1), addr(2, 2), b"xyz")
            .expect("fits");
        let good = writer.into_inner();
        let mut bad_checksum = good.clone();
        bad_checksum[GLOBAL_HEADER_LEN + RECORD_HEADER_LEN + 10] ^= 1;
        assert!(matches!(
            read_udp(&bad_checksum),
            Err(PcapError::Record { index: 0, .. })
        ));
        assert!(matches!(
            read_udp(&good[..good.len() - 1]),
            Err(PcapError::Truncated { index: 0, .. })
        ));
        let mut micro = good.clone();
        micro[0] = 0xd4;
        assert!(matches!(
            read_udp(&micro),
            Err(PcapError::Format { what: "magic", .. })
        ));
    }
}
