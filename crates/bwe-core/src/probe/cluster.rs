//! A probe cluster request, and the fixed-size queue that holds clusters until the pacer
//! collects them.
//!
//! The queue is a ring of [`ClusterQueue::CAPACITY`] slots so that scheduling probes never
//! allocates. Each trigger asks for at most two clusters, so eight slots only fill when the caller
//! stops polling; then the oldest cluster is dropped, because a cluster nobody collected is stale
//! and the newest reflects the latest estimate.

use crate::units::{Bitrate, DataSize, TimeDelta, Timestamp};

/// A request to the pacer: send a burst at `target` of at least `min_probes` packets and
/// `min_bytes` bytes, tagging each packet with `id` (see [`crate::feedback::ProbeInfo`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProbeCluster {
    /// Identifies the cluster in [`crate::feedback::ProbeInfo`]; strictly increasing.
    pub id: u32,
    /// The rate to pace the burst at.
    pub target: Bitrate,
    /// Minimum number of packets in the burst.
    pub min_probes: u32,
    /// Minimum number of bytes in the burst (`target × duration`).
    pub min_bytes: DataSize,
    /// How long the burst should last.
    pub duration: TimeDelta,
    /// When the controller decided to probe.
    pub created_at: Timestamp,
}

/// First-in, first-out queue of clusters with a fixed capacity.
#[derive(Debug, Clone)]
pub(crate) struct ClusterQueue {
    slots: [Option<ProbeCluster>; Self::CAPACITY],
    head: usize,
    len: usize,
}

impl ClusterQueue {
    /// How many clusters may wait.
    pub(crate) const CAPACITY: usize = 8;

    pub(crate) fn new() -> Self {
        Self {
            slots: [None; Self::CAPACITY],
            head: 0,
            len: 0,
        }
    }

    /// Appends `cluster`, dropping the oldest one when full.
    pub(crate) fn push(&mut self, cluster: ProbeCluster) {
        if self.len == Self::CAPACITY {
            let _ = self.pop();
        }
        let slot = (self.head + self.len) % Self::CAPACITY;
        self.slots[slot] = Some(cluster);
        self.len += 1;
    }

    /// Whether no cluster waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Removes and returns the oldest cluster.
    pub(crate) fn pop(&mut self) -> Option<ProbeCluster> {
        if self.len == 0 {
            return None;
        }
        let cluster = self.slots[self.head].take();
        self.head = (self.head + 1) % Self::CAPACITY;
        self.len -= 1;
        cluster
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cluster(id: u32) -> ProbeCluster {
        ProbeCluster {
            id,
            target: Bitrate::from_kbps(100),
            min_probes: 5,
            min_bytes: DataSize::from_bytes(187),
            duration: TimeDelta::from_millis(15),
            created_at: Timestamp::ZERO,
        }
    }

    /// The pacer must send clusters in the order they were decided.
    #[test]
    fn clusters_come_out_in_order() {
        let mut q = ClusterQueue::new();
        for id in 1..=3 {
            q.push(cluster(id));
        }
        let ids: Vec<u32> = std::iter::from_fn(|| q.pop()).map(|c| c.id).collect();
        assert_eq!(ids, vec![1, 2, 3]);
        assert_eq!(q.pop(), None);
    }

    /// A caller that never polls must not make the queue grow; the stale clusters go first.
    #[test]
    fn full_queue_drops_the_oldest_cluster() {
        let mut q = ClusterQueue::new();
        for id in 1..=20 {
            q.push(cluster(id));
        }
        let ids: Vec<u32> = std::iter::from_fn(|| q.pop()).map(|c| c.id).collect();
        assert_eq!(ids, (13..=20).collect::<Vec<_>>());
    }
}
