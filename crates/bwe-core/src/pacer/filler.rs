//! The shape of a probe padding packet brought to size with a *filler header extension*.
//!
//! webrtc-rs's RTP crates (rtc-rtp 0.21 and rtp 0.17 alike) derive an RTP packet's padding
//! length from its payload length (1–4 bytes; 4 for an empty payload) and offer no way to ask
//! for more. A padding-only probe packet of the size the pacer asks for therefore carries up to
//! [`FILLER_ELEMENTS`] RFC 8285 two-byte header-extension elements of zero bytes, under ids the
//! stream did not negotiate, which receivers must ignore: [`MAX_FILLER`] bytes in all. Each
//! webrtc-rs line builds the packet with its own RTP types from [`filler_ids`] and
//! [`filler_elements`].

/// Filler extension elements per padding packet at most.
pub const FILLER_ELEMENTS: usize = 4;

/// Largest filler element, in bytes (a two-byte-header element holds at most 255).
pub const MAX_FILLER_ELEMENT: usize = 250;

/// Largest filler in all, in bytes.
pub const MAX_FILLER: usize = FILLER_ELEMENTS * MAX_FILLER_ELEMENT;

/// The two-byte header-extension profile (RFC 8285 §4.3).
pub const TWO_BYTE_PROFILE: u16 = 0x1000;

/// Zero bytes to slice filler elements from.
pub static FILLER: [u8; MAX_FILLER_ELEMENT] = [0; MAX_FILLER_ELEMENT];

/// The ids filler goes under: the highest ids (of 15–255, which only the two-byte form can
/// carry) for which `negotiated` is false.
pub fn filler_ids(negotiated: impl Fn(u8) -> bool) -> [u8; FILLER_ELEMENTS] {
    let mut ids = [15u8; FILLER_ELEMENTS];
    for (slot, id) in ids
        .iter_mut()
        .zip((15..=255u8).rev().filter(|id| !negotiated(*id)))
    {
        *slot = id;
    }
    ids
}

/// The `(id, length)` of each filler element for a padding packet of about `size` bytes on
/// the wire: 12 bytes of RTP header, 4 of extension header, 4 of padding, and 2 per element
/// header besides the elements themselves. At least one element of one byte.
pub fn filler_elements(
    ids: &[u8; FILLER_ELEMENTS],
    size: usize,
) -> impl Iterator<Item = (u8, usize)> + '_ {
    let mut filler = size.saturating_sub(20).clamp(1, MAX_FILLER);
    ids.iter().map_while(move |&id| {
        if filler == 0 {
            return None;
        }
        let element = filler.saturating_sub(2).clamp(1, MAX_FILLER_ELEMENT);
        filler = filler.saturating_sub(element + 2);
        Some((id, element))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_avoid_the_negotiated_ones() {
        assert_eq!(filler_ids(|_| false), [255, 254, 253, 252]);
        assert_eq!(
            filler_ids(|id| id == 255 || id == 253),
            [254, 252, 251, 250]
        );
    }

    #[test]
    fn elements_add_up_to_the_size_asked_within_the_bounds() {
        let ids = filler_ids(|_| false);
        for size in 0..=2_000 {
            let elements: Vec<(u8, usize)> = filler_elements(&ids, size).collect();
            assert!(!elements.is_empty() && elements.len() <= FILLER_ELEMENTS);
            let wire = 20 + elements.iter().map(|(_, len)| len + 2).sum::<usize>();
            if (300..=1_000).contains(&size) {
                assert!(wire.abs_diff(size) <= 8, "{size}: {wire}");
            }
            assert!(
                wire <= 20 + MAX_FILLER + 2 * FILLER_ELEMENTS,
                "{size}: {wire}"
            );
        }
    }
}
