//! [`Capture`]: a stage that writes every packet reaching it to a pcap file, then passes it on.
//!
//! Capture is a wrapper like every impairment (smoltcp's `PcapWriter` device wraps the next
//! device the same way): it composes in any position, and where it sits says what it sees. In
//! front of a link's first stage it sees every packet **as it enters the link** — what tcpdump
//! on the sending interface would show — including the ones the link then queues, drops or
//! duplicates (a copy made inside the link is not captured; it never crossed the entrance).
//! That is where the simulation runtime puts it ([`crate::SimBuilder::capture`]): one file per
//! link holds every datagram offered to it exactly once, stamped with the instant it was
//! offered, so its record count is the link's [`crate::LinkStats::sent`] and a drop is visible
//! as a datagram the next hop's capture lacks. Wrapping [`crate::Exit`] instead would capture
//! deliveries; the link's own log ([`crate::LinkConfig::record_log`]) already records both ends
//! of every packet's way, so the runtime does not do both.
//!
//! The stage never reads a clock: a record's timestamp is the `now` the packet reached the
//! stage with, virtual time since the simulation's start ([`crate::pcap`] for the format).
//! Records go to a `Vec<u8>` in memory, not a file, so a simulation does no I/O while it runs;
//! whoever built the link takes the bytes with [`Capture::take_pcap`].
//!
//! Payloads are opaque to a link, so the stage asks them, through [`UdpFrame`], for the
//! addresses and bytes of the datagram they stand for. A payload that is not an IPv4 UDP
//! datagram is counted in [`Capture::skipped`] and passed on uncaptured.

use std::net::SocketAddrV4;

use crate::packet::InFlight;
use crate::pcap::PcapWriter;
use crate::stage::{Control, Sink, Stage};
use crate::time::SimTime;

/// A payload that stands for a UDP datagram over IPv4, so a [`Capture`] can write it.
pub trait UdpFrame {
    /// Source, destination and payload bytes; `None` if it is not an IPv4 UDP datagram.
    fn udp(&self) -> Option<(SocketAddrV4, SocketAddrV4, &[u8])>;
}

/// Writes each packet handed to it to a pcap file in memory, then hands it to `next`
/// unchanged. See the module docs.
#[derive(Debug)]
pub struct Capture<S> {
    /// `None` when capture is off: the stage is then a pass-through.
    writer: Option<PcapWriter<Vec<u8>>>,
    skipped: u64,
    next: S,
}

impl<S> Capture<S> {
    /// A stage in front of `next` that captures when `on`, and otherwise only passes packets on.
    pub fn new(on: bool, next: S) -> Self {
        Self {
            writer: on.then(new_writer),
            skipped: 0,
            next,
        }
    }

    /// Whether this stage captures.
    pub fn is_on(&self) -> bool {
        self.writer.is_some()
    }

    /// Records captured since the stage was built or last taken from.
    pub fn records(&self) -> u64 {
        self.writer.as_ref().map_or(0, PcapWriter::records)
    }

    /// Packets passed on without a record: payloads that are not IPv4 UDP datagrams (or too
    /// large for one), and times past 2^32 s.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// The pcap file of everything captured so far, leaving the stage capturing into a new,
    /// empty file (so every file taken is complete on its own). `None` when capture is off.
    pub fn take_pcap(&mut self) -> Option<Vec<u8>> {
        let writer = self.writer.as_mut()?;
        Some(std::mem::replace(writer, new_writer()).into_inner())
    }

    /// The stage this one wraps.
    pub fn next(&self) -> &S {
        &self.next
    }
}

fn new_writer() -> PcapWriter<Vec<u8>> {
    PcapWriter::new(Vec::new()).expect("writing to a Vec cannot fail")
}

impl<T: UdpFrame, S: Stage<T>> Stage<T> for Capture<S> {
    #[inline]
    fn handle(&mut self, now: SimTime, packet: InFlight<T>, sink: &mut Sink<T>) {
        if let Some(writer) = &mut self.writer {
            let written = packet
                .packet()
                .payload
                .udp()
                .map(|(src, dst, bytes)| writer.write_udp(now, src, dst, bytes));
            if !matches!(written, Some(Ok(()))) {
                self.skipped += 1;
            }
        }
        self.next.handle(now, packet, sink);
    }

    #[inline]
    fn advance(&mut self, now: SimTime, sink: &mut Sink<T>) {
        self.next.advance(now, sink);
    }

    #[inline]
    fn next_event(&self) -> Option<SimTime> {
        self.next.next_event()
    }

    fn control(&mut self, now: SimTime, command: &Control<'_>, sink: &mut Sink<T>) -> bool {
        self.next.control(now, command, sink)
    }
}

#[cfg(test)]
mod tests {
    use std::net::Ipv4Addr;

    use super::*;
    use crate::config::LinkConfig;
    use crate::link::{Link, pipeline};
    use crate::loss::LossModel;
    use crate::packet::Packet;
    use crate::pcap::read_udp;
    use crate::time::SimDuration;

    #[derive(Clone, Debug)]
    struct Frame(Vec<u8>);

    impl UdpFrame for Frame {
        fn udp(&self) -> Option<(SocketAddrV4, SocketAddrV4, &[u8])> {
            let a = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 1), 1000);
            let b = SocketAddrV4::new(Ipv4Addr::new(10, 0, 0, 2), 2000);
            Some((a, b, &self.0))
        }
    }

    /// At the entrance the capture sees every packet offered, dropped ones too, at the instant
    /// it was offered: one record per `sent`, and the same bytes the link counts.
    #[test]
    fn a_capture_at_the_entrance_records_every_packet_offered_at_its_send_time() {
        let config = LinkConfig {
            delay: SimDuration::from_millis(10),
            loss: LossModel::Bernoulli { probability: 0.3 },
            ..LinkConfig::default()
        };
        let stages = Capture::new(true, pipeline(&config, 7).expect("valid config"));
        let mut link = Link::from_stages(stages, false);
        for i in 0..100u64 {
            let payload = Frame(vec![i as u8; 100]);
            link.handle_packet(SimTime::from_millis(i), Packet::new(payload, 128));
        }
        while link.poll_delivery(SimTime::from_secs(1)).is_some() {}
        let stats = *link.stats();
        assert!(stats.dropped_loss.packets > 0);
        let pcap = link.stages_mut().take_pcap().expect("capture is on");
        let records = read_udp(&pcap).expect("reads back");
        assert_eq!(records.len() as u64, stats.sent.packets);
        let bytes: u64 = records.iter().map(|r| r.payload_len as u64 + 28).sum();
        assert_eq!(bytes, stats.sent.bytes);
        let times: Vec<u64> = records.iter().map(|r| r.time.as_millis()).collect();
        assert_eq!(times, (0..100).collect::<Vec<_>>());
        // Taking leaves a fresh, complete file.
        assert_eq!(link.stages().records(), 0);
        assert_eq!(
            read_udp(&link.stages_mut().take_pcap().expect("on"))
                .map(|r| r.len())
                .ok(),
            Some(0)
        );
    }

    /// Off, the stage is a pass-through that keeps nothing.
    #[test]
    fn a_capture_that_is_off_keeps_nothing() {
        let stages = Capture::new(false, pipeline(&LinkConfig::default(), 7).expect("valid"));
        let mut link = Link::from_stages(stages, false);
        link.handle_packet(SimTime::ZERO, Packet::new(Frame(vec![1]), 29));
        assert_eq!(
            link.poll_delivery(SimTime::ZERO)
                .map(|d| d.packet.payload.0),
            Some(vec![1])
        );
        assert!(!link.stages().is_on());
        assert_eq!(link.stages_mut().take_pcap(), None);
    }
}
