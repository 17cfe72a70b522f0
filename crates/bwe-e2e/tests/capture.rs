//! Capture, end to end: short calls in REMB mode and with send-side TWCC, captured; their pcaps
//! decoded by tshark (when installed: `scripts/install-test-tools.sh`) and compared with what
//! the chains saw, read independently: the taps' records parsed with rtc's own RTP and RTCP
//! code, the chains' handles, the links' statistics, the abs-send-time the stamper must have
//! written for each packet's virtual send time. Without tshark the test says so and still reads
//! every pcap back and checks it against the same sources.
//!
//! One test, its calls in a fixed order: a call's timing can depend on what ran before it in
//! the process (see `docs/simulator.md`), so the determinism check runs one spec twice in a
//! row, as `tests/determinism.rs` does, with nothing running beside it.

use std::collections::BTreeMap;
use std::net::SocketAddrV4;
use std::path::{Path, PathBuf};
use std::process::Command;

use bwe_core::Timestamp;
use bwe_core::rtp_ext::AbsSendTime;
use bwe_e2e::capture::{TAP_LOCAL, TAP_REMOTE, TAP_RTCP_PORT, TAP_RTP_PORT};
use bwe_e2e::{CallCapture, CallResult, CallSpec, Estimator, PeerCapture, flow_ssrcs, run_call};
use bwe_interceptor::{TapDirection, TapKind};
use rtc::rtcp::payload_feedbacks::receiver_estimated_maximum_bitrate::ReceiverEstimatedMaximumBitrate;
use rtc::rtcp::transport_feedbacks::transport_layer_cc::TransportLayerCc;
use rtc::rtp::header::Header;
use rtc::shared::marshal::Unmarshal;
use vnet_sim::{Rate, SimDuration, SimTime, UdpRecord, read_udp};

/// The id the one extension each mode negotiates gets: abs-send-time in REMB mode,
/// transport-cc with send-side TWCC. (The pacer's padding packets add extensions of their own
/// at ids 253-255 to reach their size.)
const EXTENSION_ID: u8 = 1;

/// A 3 s call with capture on over 1 Mbit/s, 20 ms one way, a 100 ms queue.
fn call(estimator: Estimator) -> CallResult {
    let link = CallSpec::bottleneck(
        Rate::from_kbps(1_000),
        SimDuration::from_millis(20),
        SimDuration::from_millis(100),
    );
    let mut spec = CallSpec::new(1, estimator, link);
    spec.duration = SimDuration::from_secs(3);
    spec.capture = true;
    run_call(&spec).expect("the call runs")
}

/// tshark, if installed, with the decode rule the tap pcaps are documented with.
struct Tshark;

impl Tshark {
    fn find() -> Option<Self> {
        let out = Command::new("tshark").arg("--version").output().ok()?;
        out.status.success().then_some(Self)
    }

    /// One row per frame matching `filter`, one column per field; a field that occurs several
    /// times in a frame is its values joined by `,`.
    fn fields(&self, file: &Path, filter: &str, fields: &[&str]) -> Vec<Vec<String>> {
        let mut cmd = Command::new("tshark");
        cmd.arg("-r").arg(file);
        cmd.args(["-o", "ip.check_checksum:TRUE"]);
        cmd.args(["-d", &format!("udp.port=={TAP_RTP_PORT},rtp")]);
        cmd.args(["-d", &format!("udp.port=={TAP_RTCP_PORT},rtcp")]);
        cmd.args([
            "-Y",
            filter,
            "-T",
            "fields",
            "-E",
            "occurrence=a",
            "-E",
            "aggregator=,",
        ]);
        for f in fields {
            cmd.args(["-e", f]);
        }
        let out = cmd.output().expect("tshark runs");
        assert!(
            out.status.success(),
            "tshark {cmd:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout)
            .expect("tshark prints UTF-8")
            .lines()
            .map(|l| l.split('\t').map(str::to_owned).collect())
            .collect()
    }
}

/// `frame.time_epoch` ("12.000000123") as virtual time.
fn epoch(text: &str) -> SimTime {
    let (secs, nanos) = text.split_once('.').expect("seconds.nanoseconds");
    let nanos = format!("{nanos:0<9}");
    SimTime::from_nanos(
        secs.parse::<u64>().expect("seconds") * 1_000_000_000
            + nanos[..9].parse::<u64>().expect("nanoseconds"),
    )
}

fn number(text: &str) -> u64 {
    match text.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16).expect("hex"),
        None => text.parse().expect("a number"),
    }
}

fn list(text: &str) -> Vec<u64> {
    text.split(',')
        .filter(|s| !s.is_empty())
        .map(number)
        .collect()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn peer<'a>(capture: &'a CallCapture, name: &str) -> &'a PeerCapture {
    capture
        .peers
        .iter()
        .find(|p| p.name == name)
        .unwrap_or_else(|| panic!("no capture of {name}"))
}

/// A REMB as both decoders see it: when, how much, for which streams.
#[derive(Debug, PartialEq, Eq)]
struct Remb {
    at: SimTime,
    bps: u64,
    ssrcs: Vec<u32>,
}

/// A TWCC message: when, the first sequence number it reports, how many, its count.
#[derive(Debug, PartialEq, Eq)]
struct Twcc {
    at: SimTime,
    base: u16,
    count: u16,
    fb_count: u8,
}

/// Every REMB and TWCC in `peer`'s RTCP going `direction`, parsed with rtc.
fn feedback(peer: &PeerCapture, direction: TapDirection) -> (Vec<Remb>, Vec<Twcc>) {
    let (mut rembs, mut twccs) = (Vec::new(), Vec::new());
    for p in &peer.packets {
        if p.record.kind != TapKind::Rtcp || p.record.direction != direction {
            continue;
        }
        let packets = rtc::rtcp::packet::unmarshal(&mut p.record.bytes.as_slice())
            .expect("the tap's RTCP parses");
        for packet in packets {
            let any = packet.as_any();
            if let Some(r) = any.downcast_ref::<ReceiverEstimatedMaximumBitrate>() {
                rembs.push(Remb {
                    at: p.at,
                    bps: r.bitrate as u64,
                    ssrcs: r.ssrcs.clone(),
                });
            } else if let Some(t) = any.downcast_ref::<TransportLayerCc>() {
                twccs.push(Twcc {
                    at: p.at,
                    base: t.base_sequence_number,
                    count: t.packet_status_count,
                    fb_count: t.fb_pkt_count,
                });
            }
        }
    }
    (rembs, twccs)
}

/// Every RTP header `peer` sent, parsed with rtc: when, its sequence number and its
/// one-byte extensions as (id, hex).
fn sent_rtp(peer: &PeerCapture) -> RtpHeaders {
    peer.packets
        .iter()
        .filter(|p| p.record.kind == TapKind::Rtp && p.record.direction == TapDirection::Outbound)
        .map(|p| {
            let h = Header::unmarshal(&mut p.record.bytes.as_slice()).expect("an RTP header");
            let ext = h
                .extensions
                .iter()
                .map(|e| (e.id, hex(&e.payload)))
                .collect();
            (p.at, h.sequence_number, ext)
        })
        .collect()
}

/// RTP headers as (when, sequence number, extensions as (id, hex)).
type RtpHeaders = Vec<(SimTime, u16, Vec<(u8, String)>)>;

/// Every RTP header in a tap pcap as tshark decodes it, and each one's SSRC.
fn tshark_rtp(tshark: &Tshark, path: &Path) -> (RtpHeaders, Vec<u32>) {
    let fields = [
        "frame.time_epoch",
        "rtp.seq",
        "rtp.ssrc",
        "rtp.ext.rfc5285.id",
        "rtp.ext.rfc5285.data",
    ];
    let rows = tshark.fields(path, "rtp", &fields);
    let headers = rows
        .iter()
        .map(|row| {
            let ids = list(&row[3]).into_iter().map(|i| i as u8);
            let ext = ids.zip(row[4].split(',').map(str::to_owned)).collect();
            (epoch(&row[0]), number(&row[1]) as u16, ext)
        })
        .collect();
    let ssrcs = rows.iter().map(|r| number(&r[2]) as u32).collect();
    (headers, ssrcs)
}

/// The file of `name` written into `dir`.
fn file(paths: &[PathBuf], name: &str) -> PathBuf {
    paths
        .iter()
        .find(|p| p.file_name().is_some_and(|f| f == name))
        .unwrap_or_else(|| panic!("{name} not written: {paths:?}"))
        .clone()
}

/// Every link pcap reads back as IPv4/UDP (ours and tshark's reading agree, frame for frame,
/// header checksums good), the bottleneck's holds as many datagrams as the link says it was
/// offered, and the sender's first link saw a datagram at every instant its chain sent a
/// packet: the two captures share one clock.
fn check_links(result: &CallResult, paths: &[PathBuf], tshark: Option<&Tshark>) {
    let capture = result.capture.as_ref().expect("captured");
    assert_eq!(
        capture.links.len(),
        6,
        "two access links each way, two bottlenecks"
    );
    let mut records: BTreeMap<&str, Vec<UdpRecord>> = BTreeMap::new();
    for link in &capture.links {
        let got = read_udp(&link.pcap).expect("our pcap reads back");
        assert!(!got.is_empty(), "{}", link.name);
        records.insert(&link.name, got);
    }
    let bottleneck = &records["r1-r2"];
    assert_eq!(bottleneck.len() as u64, result.forward_stats.sent.packets);
    let bytes: u64 = bottleneck.iter().map(|r| r.payload_len as u64 + 28).sum();
    assert_eq!(bytes, result.forward_stats.sent.bytes);
    // Routed on unchanged: what the sender's access link carried is what the bottleneck was
    // offered (nothing is lost on an access link).
    let first = &records["flow1-sender-r1"];
    let sizes = |r: &[UdpRecord]| {
        r.iter()
            .map(|r| (r.src, r.dst, r.payload_len))
            .collect::<Vec<_>>()
    };
    assert_eq!(sizes(first), sizes(bottleneck));
    let sent_at: std::collections::BTreeSet<SimTime> = first.iter().map(|r| r.time).collect();
    let sender = peer(capture, "flow1-sender");
    let outbound = sender
        .packets
        .iter()
        .filter(|p| p.record.direction == TapDirection::Outbound);
    let mut n = 0;
    for p in outbound {
        assert!(
            sent_at.contains(&p.at),
            "{:?} at {} has no datagram",
            p.record.kind,
            p.at
        );
        n += 1;
    }
    assert!(n > 100, "{n} packets sent");

    let Some(tshark) = tshark else { return };
    for link in &capture.links {
        let path = file(paths, &link.file_name());
        let rows = tshark.fields(
            &path,
            "ip && udp",
            &[
                "frame.time_epoch",
                "ip.src",
                "udp.srcport",
                "ip.dst",
                "udp.dstport",
                "udp.length",
                "ip.checksum.status",
            ],
        );
        let ours = &records[link.name.as_str()];
        assert_eq!(rows.len(), ours.len(), "{}: frames", link.name);
        for (row, r) in rows.iter().zip(ours) {
            let addr = |ip: &str, port: &str| {
                SocketAddrV4::new(ip.parse().expect("an IPv4 address"), number(port) as u16)
            };
            assert_eq!(epoch(&row[0]), r.time, "{}", link.name);
            assert_eq!(addr(&row[1], &row[2]), r.src, "{}", link.name);
            assert_eq!(addr(&row[3], &row[4]), r.dst, "{}", link.name);
            assert_eq!(number(&row[5]), r.payload_len as u64 + 8, "{}", link.name);
            assert_eq!(row[6], "1", "{}: IPv4 header checksum good", link.name);
        }
    }
}

/// REMB mode: the receiver's REMBs as tshark decodes them from its tap pcap are the ones rtc
/// parses from its records, the ones its generator counted and last sent, and the ones the
/// sender counted and capped at; the video SSRC is the one the call fixed. Every packet the
/// sender sent carries the abs-send-time of the virtual instant its tap recorded.
fn check_remb(result: &CallResult, paths: &[PathBuf], tshark: Option<&Tshark>) {
    let capture = result.capture.as_ref().expect("captured");
    let (sender, receiver) = (
        peer(capture, "flow1-sender"),
        peer(capture, "flow1-receiver"),
    );
    let (sent, _) = feedback(receiver, TapDirection::Outbound);
    let (received, _) = feedback(sender, TapDirection::Inbound);
    assert!((3..=30).contains(&sent.len()), "{} REMBs", sent.len());
    let video = flow_ssrcs(0).0;
    assert!(sent.iter().all(|r| r.ssrcs == [video]), "{sent:?}");
    // The same messages, 20 ms later, in the same order.
    let later: Vec<_> = sent
        .iter()
        .map(|r| (r.at + SimDuration::from_millis(20), r.bps))
        .collect();
    let arrived: Vec<_> = received.iter().map(|r| (r.at, r.bps)).collect();
    assert_eq!(arrived, later);

    let generator = receiver
        .bwe
        .and_then(|s| s.remb_receiver)
        .expect("the receiver's REMB generator publishes");
    assert_eq!(generator.rembs_sent, sent.len() as u64);
    assert_eq!(generator.last_remb_ssrcs, 1);
    let last = sent.last().expect("some").bps as f64;
    let published = generator.last_remb.expect("sent one").bps() as f64;
    // The wire carries an 18-bit mantissa: the published value rounded to it.
    assert!(
        (published - last).abs() <= published / f64::from(1 << 17),
        "{published} vs {last}"
    );
    let reader = sender
        .bwe
        .and_then(|s| s.remb_sender)
        .expect("the REMB reader publishes");
    assert_eq!(reader.rembs_received, received.len() as u64);
    assert_eq!(
        reader.remb_cap.map(|b| b.bps()),
        received.last().map(|r| r.bps)
    );

    let rtp = sent_rtp(sender);
    let origin = rtp.first().expect("media was sent").0;
    for (at, seq, ext) in &rtp {
        let since = at.saturating_duration_since(origin).as_micros() as i64;
        let want = AbsSendTime::from_timestamp(Timestamp::from_micros(since));
        let abs = ext.iter().find(|(id, _)| *id == EXTENSION_ID);
        let abs = abs.map(|(_, data)| data.as_str());
        assert_eq!(
            abs,
            Some(hex(&want.to_bytes()).as_str()),
            "packet {seq} at {at}"
        );
    }

    let Some(tshark) = tshark else { return };
    let rows = tshark.fields(
        &file(paths, "flow1-receiver.tap.pcap"),
        "rtcp.psfb.remb.identifier",
        &[
            "frame.time_epoch",
            "ip.src",
            "rtcp.psfb.remb.fci.br_exp",
            "rtcp.psfb.remb.fci.br_mantissa",
            "rtcp.psfb.remb.fci.number_ssrcs",
            "rtcp.psfb.remb.fci.ssrc",
        ],
    );
    let mut decoded = Vec::new();
    for row in &rows {
        assert_eq!(row[1], TAP_LOCAL.to_string(), "sent by the receiver");
        let (exps, mantissas, counts) = (list(&row[2]), list(&row[3]), list(&row[4]));
        let mut ssrcs = list(&row[5]).into_iter();
        for ((exp, mantissa), count) in exps.iter().zip(&mantissas).zip(&counts) {
            decoded.push(Remb {
                at: epoch(&row[0]),
                bps: mantissa << exp,
                ssrcs: ssrcs
                    .by_ref()
                    .take(*count as usize)
                    .map(|s| s as u32)
                    .collect(),
            });
        }
    }
    assert_eq!(decoded, sent);

    let (decoded, ssrcs) = tshark_rtp(tshark, &file(paths, "flow1-sender.tap.pcap"));
    assert_eq!(decoded, rtp, "abs-send-time as tshark reads it");
    assert!(ssrcs.iter().all(|&s| s == video), "{ssrcs:?}");
}

/// Send side with TWCC: the receiver's transport-cc feedback as tshark decodes it is what rtc
/// parses from its tap, reports every transport-wide sequence number the sender stamped, in
/// order, once, and reached the sender's estimator as that many feedback batches.
fn check_twcc(result: &CallResult, paths: &[PathBuf], tshark: Option<&Tshark>) {
    let capture = result.capture.as_ref().expect("captured");
    let (sender, receiver) = (
        peer(capture, "flow1-sender"),
        peer(capture, "flow1-receiver"),
    );
    let (_, sent) = feedback(receiver, TapDirection::Outbound);
    let (_, received) = feedback(sender, TapDirection::Inbound);
    assert!(
        (10..=60).contains(&sent.len()),
        "{} TWCC messages",
        sent.len()
    );
    let mut next = 0u16;
    for (i, t) in sent.iter().enumerate() {
        assert_eq!((t.base, t.fb_count), (next, i as u8), "message {i}: {t:?}");
        next = t.base.wrapping_add(t.count);
    }
    let rtp = sent_rtp(sender);
    let stamped: Vec<u16> = rtp
        .iter()
        .map(|(_, seq, ext)| {
            let twcc = ext.iter().find(|(id, _)| *id == EXTENSION_ID);
            let (_, data) = twcc.unwrap_or_else(|| panic!("packet {seq} has no transport-cc"));
            number(&format!("0x{data}")) as u16
        })
        .collect();
    assert_eq!(stamped, (0..rtp.len() as u16).collect::<Vec<_>>());
    // Feedback covers all but the packets of the last 100 ms or so.
    let covered = usize::from(next);
    assert!(
        covered <= rtp.len() && covered + 40 >= rtp.len(),
        "{covered} of {}",
        rtp.len()
    );
    let later: Vec<_> = sent
        .iter()
        .map(|t| (t.at + SimDuration::from_millis(20), t.base))
        .collect();
    assert_eq!(
        received.iter().map(|t| (t.at, t.base)).collect::<Vec<_>>(),
        later
    );
    let estimator = sender
        .bwe
        .and_then(|s| s.send_side)
        .expect("the send side publishes");
    assert_eq!(estimator.feedback_batches, received.len() as u64);

    let Some(tshark) = tshark else { return };
    let rows = tshark.fields(
        &file(paths, "flow1-receiver.tap.pcap"),
        "rtcp.rtpfb.transportcc.baseseq",
        &[
            "frame.time_epoch",
            "ip.dst",
            "rtcp.rtpfb.transportcc.baseseq",
            "rtcp.rtpfb.transportcc.statuscount",
            "rtcp.rtpfb.transportcc.pktcount",
        ],
    );
    let mut decoded = Vec::new();
    for row in &rows {
        assert_eq!(row[1], TAP_REMOTE.to_string(), "sent to the sender");
        let (bases, counts, fbs) = (list(&row[2]), list(&row[3]), list(&row[4]));
        for ((base, count), fb) in bases.iter().zip(&counts).zip(&fbs) {
            decoded.push(Twcc {
                at: epoch(&row[0]),
                base: *base as u16,
                count: *count as u16,
                fb_count: *fb as u8,
            });
        }
    }
    assert_eq!(decoded, sent);
    let (decoded, ssrcs) = tshark_rtp(tshark, &file(paths, "flow1-sender.tap.pcap"));
    assert!(ssrcs.iter().all(|&s| s == flow_ssrcs(0).0), "{ssrcs:?}");
    assert_eq!(
        decoded, rtp,
        "transport-wide sequence numbers as tshark reads them"
    );
}

/// What must repeat for a seed: every record's count, size and timestamp, on every link and
/// every tap (payload bytes differ: webrtc draws OS randomness for keys and SSRC-independent
/// fields, see `docs/simulator.md`).
fn shape(capture: &CallCapture) -> Vec<(String, Vec<(SimTime, usize)>)> {
    let links = capture.links.iter().map(|l| {
        let records = read_udp(&l.pcap).expect("reads back");
        (
            l.name.clone(),
            records.iter().map(|r| (r.time, r.payload_len)).collect(),
        )
    });
    let taps = capture.peers.iter().map(|p| {
        let records = p.packets.iter().map(|p| (p.at, p.record.len)).collect();
        (p.name.clone(), records)
    });
    links.chain(taps).collect()
}

/// A folder of this process's own, removed when the test ends, passed or not.
struct TempDir(PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("bwe-e2e-capture-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        Self(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

#[test]
fn captured_pcaps_decode_to_what_the_chains_saw_and_repeat_for_a_seed() {
    let wall = std::time::Instant::now();
    let tshark = Tshark::find();
    if tshark.is_none() {
        eprintln!(
            "tshark is not installed: skipped decoding the pcaps with it \
             (scripts/install-test-tools.sh installs it); checking them by reading them back"
        );
    }
    let temp = TempDir::new();
    let dir = temp.0.as_path();

    let remb = call(Estimator::OursRemb);
    let again = call(Estimator::OursRemb);
    let twcc = call(Estimator::OursSendSide);
    let shapes = |r: &CallResult| shape(r.capture.as_ref().expect("captured"));
    assert_eq!(shapes(&remb), shapes(&again), "same seed, same records");

    for (name, result, check) in [
        (
            "remb",
            &remb,
            check_remb as fn(&CallResult, &[PathBuf], Option<&Tshark>),
        ),
        ("twcc", &twcc, check_twcc),
    ] {
        let capture = result.capture.as_ref().expect("captured");
        let paths = capture.write_pcaps(&dir.join(name)).expect("writes");
        assert_eq!(paths.len(), 8, "{paths:?}");
        check_links(result, &paths, tshark.as_ref());
        check(result, &paths, tshark.as_ref());
    }
    eprintln!("capture test: {:?} of wall time", wall.elapsed());
}
