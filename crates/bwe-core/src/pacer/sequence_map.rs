//! Room in a stream's RTP sequence space for padding packets.
//!
//! webrtc-rs (rtc 0.21 and webrtc 0.17 alike) numbers media in the packetizer, above the
//! interceptor chain, so a pacer in the chain cannot reserve a sequence number for a padding
//! packet: whatever it took, the application's next packet would carry too, and the receiver's
//! SRTP replay check would drop the second. So the pacer renumbers the stream on its way out:
//! every media packet leaves with `application sequence + offset`, and each padding packet
//! inserted adds one to the offset. The wire sequence stays gap-free and unique.
//!
//! What refers to sequence numbers across the pacer must be translated both ways:
//!
//! - inbound NACKs name wire numbers; the NACK responder (application-ward) keeps application
//!   numbers, so [`SequenceMap::app_seq_of`] maps them back (padding is never retransmitted);
//! - retransmissions come back down with application numbers (on the media SSRC, or as an RTX
//!   packet's original sequence number), so [`SequenceMap::to_wire`] maps an *old* number with
//!   the offset that applied when it first left, not the current one.
//!
//! Each insertion point is kept as a breakpoint in a fixed ring of [`SequenceMap::BREAKPOINTS`];
//! a lookup scans newest to oldest and stops at the first breakpoint at or before the number,
//! which for new media is the newest one: O(1) on the hot path. Numbers older than the oldest
//! breakpoint kept use that breakpoint's offset (a NACK for a packet that old is long useless).
//!
//! The alternative rejected: padding on the RTX SSRC, which needs no renumbering of media. rtc
//! 0.21 binds only the primary SSRC to the interceptors, so its TWCC sender never numbers RTX
//! packets and the send history never records them: RTX padding would be invisible to feedback.
//! It is kept here, in bwe-core, because both webrtc-rs lines' pacers use it.

/// One place where padding was inserted: application numbers from `in_start` on leave with
/// `offset`; the wire numbers `in_start + prev_offset .. in_start + offset` are padding.
#[derive(Debug, Clone, Copy, Default)]
struct Breakpoint {
    in_start: u16,
    prev_offset: u16,
    offset: u16,
}

/// `a` is at or after `b` in a wrapping 16-bit sequence space.
fn at_or_after(a: u16, b: u16) -> bool {
    (a.wrapping_sub(b) as i16) >= 0
}

/// Per-stream renumbering; see the module docs.
#[derive(Debug, Clone)]
pub struct SequenceMap {
    ring: [Breakpoint; Self::BREAKPOINTS],
    head: usize,
    len: usize,
    /// The offset for numbers older than every breakpoint kept.
    base_offset: u16,
    /// The highest application number forwarded so far.
    last_in: Option<u16>,
}

impl Default for SequenceMap {
    fn default() -> Self {
        Self::new()
    }
}

impl SequenceMap {
    /// How many insertion points are remembered.
    pub const BREAKPOINTS: usize = 64;

    /// A map that renumbers nothing yet.
    pub fn new() -> Self {
        Self {
            ring: [Breakpoint::default(); Self::BREAKPOINTS],
            head: 0,
            len: 0,
            base_offset: 0,
            last_in: None,
        }
    }

    fn newest_first(&self) -> impl Iterator<Item = &Breakpoint> {
        (0..self.len)
            .rev()
            .map(move |i| &self.ring[(self.head + i) % Self::BREAKPOINTS])
    }

    /// Whether any padding was inserted (so translation is needed at all).
    pub fn is_renumbered(&self) -> bool {
        self.len > 0 || self.base_offset != 0
    }

    /// The offset currently applied to new media.
    fn current_offset(&self) -> u16 {
        self.newest_first()
            .next()
            .map_or(self.base_offset, |b| b.offset)
    }

    /// Whether `seq` is at or after every application number forwarded so far.
    pub fn is_newest(&self, seq: u16) -> bool {
        self.last_in.is_none_or(|last| at_or_after(seq, last))
    }

    /// The wire number for application number `seq`, remembering it as sent.
    pub fn on_media(&mut self, seq: u16) -> u16 {
        if self.is_newest(seq) {
            self.last_in = Some(seq);
        }
        self.to_wire(seq)
    }

    /// The wire number application number `seq` left (or will leave) with.
    pub fn to_wire(&self, seq: u16) -> u16 {
        let offset = self
            .newest_first()
            .find(|b| at_or_after(seq, b.in_start))
            .map_or(self.base_offset, |b| b.offset);
        seq.wrapping_add(offset)
    }

    /// The application number behind wire number `wire`; `None` for a padding packet's.
    pub fn app_seq_of(&self, wire: u16) -> Option<u16> {
        for b in self.newest_first() {
            if at_or_after(wire, b.in_start.wrapping_add(b.offset)) {
                return Some(wire.wrapping_sub(b.offset));
            }
            if at_or_after(wire, b.in_start.wrapping_add(b.prev_offset)) {
                return None;
            }
        }
        Some(wire.wrapping_sub(self.base_offset))
    }

    /// Takes the next wire number for a padding packet, right after the newest media packet;
    /// `None` before any media was sent (there is nothing to follow).
    pub fn take_padding(&mut self) -> Option<u16> {
        let last = self.last_in?;
        let in_start = last.wrapping_add(1);
        let offset = self.current_offset();
        let wire = in_start.wrapping_add(offset);
        let newest = (self.head + self.len + Self::BREAKPOINTS - 1) % Self::BREAKPOINTS;
        if self.len > 0 && self.ring[newest].in_start == in_start {
            self.ring[newest].offset = offset.wrapping_add(1);
            return Some(wire);
        }
        if self.len == Self::BREAKPOINTS {
            self.base_offset = self.ring[self.head].offset;
            self.head = (self.head + 1) % Self::BREAKPOINTS;
            self.len -= 1;
        }
        let slot = (self.head + self.len) % Self::BREAKPOINTS;
        self.ring[slot] = Breakpoint {
            in_start,
            prev_offset: offset,
            offset: offset.wrapping_add(1),
        };
        self.len += 1;
        Some(wire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Without padding the pacer must be invisible to sequence numbers.
    #[test]
    fn media_keeps_its_numbers_until_padding_is_inserted() {
        let mut map = SequenceMap::new();
        assert_eq!(map.take_padding(), None, "nothing to follow yet");
        for seq in 100..110 {
            assert_eq!(map.on_media(seq), seq);
            assert_eq!(map.app_seq_of(seq), Some(seq));
        }
        assert!(!map.is_renumbered());
    }

    /// The wire sequence stays gap-free and unique across padding, and NACKs map back.
    #[test]
    fn padding_takes_the_next_numbers_and_shifts_later_media() {
        let mut map = SequenceMap::new();
        assert_eq!(map.on_media(65_534), 65_534);
        assert_eq!(map.take_padding(), Some(65_535));
        assert_eq!(map.take_padding(), Some(0));
        assert_eq!(map.on_media(65_535), 1);
        assert_eq!(map.take_padding(), Some(2));
        assert_eq!(map.on_media(0), 3);
        assert_eq!(map.app_seq_of(65_534), Some(65_534));
        assert_eq!(map.app_seq_of(65_535), None, "padding");
        assert_eq!(map.app_seq_of(0), None, "padding");
        assert_eq!(map.app_seq_of(1), Some(65_535));
        assert_eq!(map.app_seq_of(2), None, "padding");
        assert_eq!(map.app_seq_of(3), Some(0));
    }

    /// A retransmission of an old packet must leave with the number it first had.
    #[test]
    fn old_numbers_keep_the_offset_they_left_with() {
        let mut map = SequenceMap::new();
        map.on_media(10);
        map.take_padding();
        map.on_media(11);
        map.take_padding();
        map.take_padding();
        map.on_media(12);
        assert_eq!(map.to_wire(10), 10);
        assert_eq!(map.to_wire(11), 12);
        assert_eq!(map.to_wire(12), 15);
        assert_eq!(map.on_media(11), 12, "a late packet does not move the head");
        assert_eq!(map.take_padding(), Some(16));
    }

    /// The ring never grows; beyond it old numbers use the oldest offset kept.
    #[test]
    fn breakpoints_are_bounded_and_new_media_stays_consistent() {
        let mut map = SequenceMap::new();
        let mut wire_seen = Vec::new();
        for seq in 0..1_000u16 {
            wire_seen.push(map.on_media(seq));
            if seq % 3 == 0 {
                wire_seen.push(map.take_padding().expect("after media"));
            }
        }
        let mut sorted = wire_seen.clone();
        sorted.dedup();
        assert_eq!(sorted.len(), wire_seen.len(), "all wire numbers unique");
        assert!(wire_seen.windows(2).all(|w| w[1] == w[0].wrapping_add(1)));
        assert_eq!(map.app_seq_of(map.to_wire(999)), Some(999));
        assert_eq!(map.len, SequenceMap::BREAKPOINTS);
    }
}
