//! [`CallCapture`]: what a call with `capture` on recorded — a pcap of every simulated link, and
//! the plaintext RTP and RTCP of every PeerConnection — and [`CallCapture::write_pcaps`].
//!
//! Two captures because the wire hides what matters: the links carry SRTP, whose sizes and
//! times are exact but whose headers, extensions and feedback are encrypted. Each
//! PeerConnection's chain therefore has a [`PacketTap`](bwe_interceptor::PacketTap) at its wire
//! end, and its records are written as a pcap of their own with made-up IPv4/UDP headers, so
//! Wireshark decodes REMB, TWCC and abs-send-time in them. Both use the same clock: a link
//! pcap's timestamps are virtual time since the simulation's start, and the tap's instants are
//! mapped onto it with [`vnet_sim::SimRuntime::time_of`], so a packet leaving a sender's chain
//! and entering its first link carry the same timestamp.
//!
//! The made-up headers of a tap pcap are fixed, so one decode rule fits every file: the
//! PeerConnection is [`TAP_LOCAL`], its remote [`TAP_REMOTE`]; RTP travels between ports
//! [`TAP_RTP_PORT`] at both ends and RTCP between ports [`TAP_RTCP_PORT`], in the direction it
//! went (outbound from local to remote, inbound the other way). RTP records hold the header and
//! its extensions only; their lengths say how long the packet was (see
//! [`bwe_interceptor::tap`]).
//!
//! ```text
//! tshark -r flow1-sender.tap.pcap -d udp.port==5004,rtp -d udp.port==5005,rtcp
//! ```

use std::fs;
use std::io;
use std::net::{Ipv4Addr, SocketAddrV4};
use std::path::{Path, PathBuf};

use bwe_interceptor::{BweHandle, BweSnapshot, TapDirection, TapHandle, TapKind, TapRecord};
use thiserror::Error;
use vnet_sim::{HostId, LinkCapture, PcapError, PcapWriter, Sim, SimTime};

/// The address a tap pcap gives the PeerConnection itself.
pub const TAP_LOCAL: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
/// The address a tap pcap gives the remote PeerConnection.
pub const TAP_REMOTE: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
/// The UDP port of RTP at both ends in a tap pcap (decode as `rtp`).
pub const TAP_RTP_PORT: u16 = 5004;
/// The UDP port of RTCP at both ends in a tap pcap (decode as `rtcp`).
pub const TAP_RTCP_PORT: u16 = 5005;

/// One packet a PeerConnection's tap recorded, on the simulation's clock.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TappedPacket {
    /// When the chain saw it: virtual time since the simulation's start.
    pub at: SimTime,
    /// What the tap recorded.
    pub record: TapRecord,
}

/// Everything one PeerConnection's chain sent and received, in plaintext.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct PeerCapture {
    /// The peer's host name (`flow1-sender`, `flow1-receiver`, …).
    pub name: String,
    /// In the order the chain saw them.
    pub packets: Vec<TappedPacket>,
    /// What our chain last published, read when the call ended; `None` for rtc's `Gcc`.
    pub bwe: Option<BweSnapshot>,
}

impl PeerCapture {
    /// `"<host>.tap.pcap"`.
    pub fn file_name(&self) -> String {
        format!("{}.tap.pcap", self.name)
    }

    /// The tap as a pcap file (see the module docs for its addresses and ports).
    pub fn pcap(&self) -> Result<Vec<u8>, PcapError> {
        let mut writer = PcapWriter::new(Vec::new())?;
        for p in &self.packets {
            let port = match p.record.kind {
                TapKind::Rtp => TAP_RTP_PORT,
                TapKind::Rtcp => TAP_RTCP_PORT,
            };
            let (local, remote) = (
                SocketAddrV4::new(TAP_LOCAL, port),
                SocketAddrV4::new(TAP_REMOTE, port),
            );
            let (src, dst) = match p.record.direction {
                TapDirection::Outbound => (local, remote),
                TapDirection::Inbound => (remote, local),
            };
            writer.write_udp_truncated(p.at, src, dst, &p.record.bytes, p.record.len)?;
        }
        Ok(writer.into_inner())
    }
}

/// What a call with `capture` on recorded.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct CallCapture {
    /// One pcap per link (access links and both bottlenecks), every datagram that entered it.
    pub links: Vec<LinkCapture>,
    /// One per PeerConnection: each flow's sender, then its receiver, flow by flow.
    pub peers: Vec<PeerCapture>,
}

/// A capture that could not be written.
#[derive(Debug, Error)]
#[non_exhaustive]
pub enum CaptureError {
    /// A file or the directory could not be written.
    #[error("writing {path}: {source}")]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A tap's records do not make a pcap (a packet too large for one datagram).
    #[error("the tap of {peer}: {source}")]
    Pcap {
        /// The peer's name.
        peer: String,
        /// Why.
        source: PcapError,
    },
}

impl CallCapture {
    /// Writes every link's pcap as `<from>-<to>.pcap` and every tap's as `<host>.tap.pcap` into
    /// `dir` (created if missing), returning the paths in that order.
    pub fn write_pcaps(&self, dir: &Path) -> Result<Vec<PathBuf>, CaptureError> {
        let io_error = |path: &Path| {
            let path = path.to_path_buf();
            move |source| CaptureError::Io { path, source }
        };
        fs::create_dir_all(dir).map_err(io_error(dir))?;
        let mut written = Vec::with_capacity(self.links.len() + self.peers.len());
        let mut write = |name: String, bytes: &[u8]| {
            let path = dir.join(name);
            fs::write(&path, bytes).map_err(io_error(&path))?;
            written.push(path);
            Ok::<_, CaptureError>(())
        };
        for link in &self.links {
            write(link.file_name(), &link.pcap)?;
        }
        for peer in &self.peers {
            let pcap = peer.pcap().map_err(|source| CaptureError::Pcap {
                peer: peer.name.clone(),
                source,
            })?;
            write(peer.file_name(), &pcap)?;
        }
        Ok(written)
    }
}

/// One PeerConnection whose chain has a tap.
pub(crate) struct TappedPeer {
    pub host: HostId,
    pub tap: TapHandle,
    pub bwe: Option<BweHandle>,
}

/// Takes the links' files and the taps' records from `sim`, after its run.
pub(crate) fn collect(sim: &Sim, peers: &[TappedPeer]) -> CallCapture {
    let peers = peers
        .iter()
        .map(|p| PeerCapture {
            name: sim.host_name(p.host).unwrap_or_default(),
            packets: p
                .tap
                .take()
                .into_iter()
                .map(|record| TappedPacket {
                    at: sim.time_of(record.now),
                    record,
                })
                .collect(),
            bwe: p.bwe.as_ref().map(BweHandle::snapshot),
        })
        .collect();
    CallCapture {
        links: sim.take_link_captures(),
        peers,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use rtc::interceptor::{AttributedPacket, Packet};
    use rtc::sansio::Protocol;
    use rtc::shared::{TransportContext, TransportMessage};
    use vnet_sim::read_udp;

    /// The decode rule in the docs depends on these addresses: RTP and RTCP on their own
    /// ports, the direction in the addresses, the virtual time as the timestamp and the RTP
    /// packet's whole length in the headers.
    #[test]
    fn a_tap_pcap_puts_rtp_and_rtcp_on_their_ports_in_their_direction() {
        let handle = TapHandle::new();
        let mut tap = bwe_interceptor::PacketTap::new(handle.clone());
        let msg = |packet| TransportMessage {
            now: std::time::Instant::now(),
            transport: TransportContext::default(),
            message: AttributedPacket::new(packet),
        };
        let report = rtc::rtcp::receiver_report::ReceiverReport::default();
        let rtcp: Vec<Box<dyn rtc::rtcp::Packet>> = vec![Box::new(report)];
        let rtp = rtc::rtp::Packet {
            header: rtc::rtp::header::Header {
                version: 2,
                ..Default::default()
            },
            payload: vec![0; 100].into(),
        };
        tap.handle_write(msg(Packet::Rtcp(rtcp))).expect("passes");
        tap.handle_read(msg(Packet::Rtp(rtp))).expect("passes");
        let packets = handle.take().into_iter().enumerate();
        let peer = PeerCapture {
            name: "p".to_owned(),
            packets: packets
                .map(|(i, record)| TappedPacket {
                    at: SimTime::from_millis(i as u64),
                    record,
                })
                .collect(),
            bwe: None,
        };
        let records = read_udp(&peer.pcap().expect("writes")).expect("reads back");
        let at = |ip, port| SocketAddrV4::new(ip, port);
        let ends: Vec<_> = records.iter().map(|r| (r.src, r.dst)).collect();
        assert_eq!(
            ends,
            [
                (at(TAP_LOCAL, TAP_RTCP_PORT), at(TAP_REMOTE, TAP_RTCP_PORT)),
                (at(TAP_REMOTE, TAP_RTP_PORT), at(TAP_LOCAL, TAP_RTP_PORT)),
            ]
        );
        assert_eq!(records[1].time, SimTime::from_millis(1));
        assert_eq!(
            (records[1].payload.len(), records[1].payload_len),
            (12, 112)
        );
        assert_eq!(peer.file_name(), "p.tap.pcap");
    }
}
