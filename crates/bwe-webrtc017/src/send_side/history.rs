//! What left, by transport-wide sequence number, until feedback names it.
//!
//! The send side numbers every packet it releases itself (one counter for the whole
//! PeerConnection, as the transport-wide congestion control draft requires), so the history is
//! indexed by the number it gave: a fixed ring of [`HISTORY_LEN`] slots, each holding the
//! packet whose unwrapped number maps to it. Feedback names 16-bit numbers; they are unwrapped
//! against the newest number given, and a slot answers only for the exact number it holds, so a
//! number the remote made up, or one older than the ring, finds nothing.

use bwe_core::{DataSize, ProbeInfo, SentPacket, Timestamp};

/// Slots in the ring: at 1 000 packets per second (about 10 Mbit/s of full-size media) 8 s of
/// sending, far longer than a packet waits for its report (0.17's TWCC receiver reports every
/// 100 ms).
pub const HISTORY_LEN: usize = 8_192;

/// The send history; see the module docs.
#[derive(Debug, Clone)]
pub struct SendHistory {
    slots: Box<[Option<SentPacket>]>,
    /// The number the next packet gets (unwrapped).
    next: u64,
}

impl Default for SendHistory {
    fn default() -> Self {
        Self::new()
    }
}

impl SendHistory {
    /// An empty history; the first packet gets number 0.
    pub fn new() -> Self {
        Self {
            slots: vec![None; HISTORY_LEN].into_boxed_slice(),
            next: 0,
        }
    }

    /// The 16-bit transport-wide number the next packet recorded gets (stamp it before taking
    /// the packet's size: the extension is on the wire too).
    pub fn next_wire(&self) -> u16 {
        self.next as u16
    }

    /// Records a packet leaving at `send_time` with `size` on the wire, under the number
    /// [`next_wire`](Self::next_wire) gave; returns the record.
    pub fn record(
        &mut self,
        send_time: Timestamp,
        size: DataSize,
        probe: Option<ProbeInfo>,
    ) -> SentPacket {
        let sent = SentPacket {
            sequence: self.next,
            send_time,
            size,
            probe,
        };
        self.slots[Self::slot(self.next)] = Some(sent);
        self.next += 1;
        sent
    }

    /// The number `wire` stands for: the newest number given that ends in those 16 bits.
    pub fn unwrap(&self, wire: u16) -> Option<u64> {
        let newest = self.next.checked_sub(1)?;
        let back = (newest as u16).wrapping_sub(wire);
        newest.checked_sub(u64::from(back))
    }

    /// The packet sent under unwrapped number `sequence`, if the ring still holds it.
    pub fn get(&self, sequence: u64) -> Option<&SentPacket> {
        self.slots[Self::slot(sequence)]
            .as_ref()
            .filter(|p| p.sequence == sequence)
    }

    /// How many numbers were given.
    pub fn recorded(&self) -> u64 {
        self.next
    }

    fn slot(sequence: u64) -> usize {
        (sequence % HISTORY_LEN as u64) as usize
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sent(h: &mut SendHistory, n: usize) {
        for i in 0..n {
            h.record(
                Timestamp::from_millis(i as i64),
                DataSize::from_bytes(1_000),
                None,
            );
        }
    }

    #[test]
    fn numbers_wrap_on_the_wire_and_unwrap_to_the_newest_match() {
        let mut h = SendHistory::new();
        assert_eq!(h.unwrap(0), None, "nothing sent");
        sent(&mut h, 70_000);
        let newest = 69_999u64;
        assert_eq!(h.unwrap(newest as u16), Some(newest));
        assert_eq!(h.unwrap((newest - 5) as u16), Some(newest - 5));
        // A number ahead of the newest is read as one 64 Ki back: far older than the ring.
        let ahead = (newest + 3) as u16;
        let unwrapped = h.unwrap(ahead).expect("far back");
        assert!(h.get(unwrapped).is_none(), "not in the ring");
    }

    #[test]
    fn the_ring_answers_only_for_what_it_still_holds() {
        let mut h = SendHistory::new();
        sent(&mut h, HISTORY_LEN + 10);
        let newest = (HISTORY_LEN + 9) as u64;
        let p = h.get(newest).expect("newest kept");
        assert_eq!(p.sequence, newest);
        assert_eq!(p.send_time, Timestamp::from_millis(newest as i64));
        assert!(h.get(5).is_none(), "overwritten by a newer packet");
        assert!(h.get(10).is_some(), "oldest still held");
        assert!(h.get(newest + 1).is_none(), "never sent");
    }
}
