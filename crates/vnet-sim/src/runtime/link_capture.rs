//! [`LinkCapture`] and [`SimRuntime::take_link_captures`]: the pcap files of a simulation built
//! with [`crate::SimBuilder::capture`], one per link.
//!
//! The files stay in memory while the simulation runs (no I/O inside a run, whose clock is
//! virtual) and are taken out as bytes; writing them is the caller's, under the suggested
//! [`LinkCapture::file_name`].

use crate::runtime::network::HostId;
use crate::runtime::sim_runtime::SimRuntime;

/// The capture of one link: every datagram that entered `from → to`, as a pcap file
/// ([`crate::pcap`]: nanosecond timestamps of virtual time since the simulation's start, raw
/// IPv4, the simulated sockets' addresses and ports).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct LinkCapture {
    /// The sending host.
    pub from: HostId,
    /// The receiving host.
    pub to: HostId,
    /// `"<from>-<to>"`, from the hosts' names.
    pub name: String,
    /// The whole file: global header, then one record per datagram in the order they entered.
    pub pcap: Vec<u8>,
}

impl LinkCapture {
    /// `"<from>-<to>.pcap"`.
    pub fn file_name(&self) -> String {
        format!("{}.pcap", self.name)
    }
}

impl SimRuntime {
    /// Takes the pcap file of every link, in the order the links were configured, each holding
    /// what entered the link since the start or the last take (the links go on capturing into
    /// new files). Empty unless the simulation was built with [`crate::SimBuilder::capture`].
    pub fn take_link_captures(&self) -> Vec<LinkCapture> {
        let mut state = self.inner.lock();
        let taken = state.network.take_captures();
        taken
            .into_iter()
            .map(|(from, to, pcap)| {
                let name = |h| state.network.name(h).unwrap_or_default().to_owned();
                LinkCapture {
                    from,
                    to,
                    name: format!("{}-{}", name(from), name(to)),
                    pcap,
                }
            })
            .collect()
    }
}
