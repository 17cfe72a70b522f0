//! Loopback addresses for simulated hosts.
//!
//! webrtc binds a real socket for every address before wrapping it (see
//! [`crate::runtime::socket`]), so each host needs an address the OS will bind. Linux routes all
//! of `127.0.0.0/8` to the loopback interface, so `127.a.b.c` binds without configuration, and
//! there are 16 million of them. Hosts draw from one process-wide counter, so simulations running
//! in parallel threads of one test binary never share an address. Ports are left to the OS
//! (port 0), so separate processes (doc-tests, parallel test runners) that happen to draw the same
//! address still get different sockets.
//!
//! `127.0.x.x` is skipped (`127.0.0.1` is the machine's own loopback and may be in use), as are
//! `.0` and `.255` in the last octet.

use std::net::Ipv4Addr;
use std::sync::atomic::{AtomicU32, Ordering};

use crate::runtime::error::SimError;

/// Usable last octets per `127.a.b.0/24`: 1 to 254.
const PER_24: u32 = 254;
/// Addresses available: `a` in 1..=254, `b` in 0..=255, `c` in 1..=254.
const CAPACITY: u32 = 254 * 256 * PER_24;

static NEXT: AtomicU32 = AtomicU32::new(0);

/// The `n`th address of the sequence, if there is one.
fn nth(n: u32) -> Option<Ipv4Addr> {
    if n >= CAPACITY {
        return None;
    }
    let c = (n % PER_24) + 1;
    let b = (n / PER_24) % 256;
    let a = n / (PER_24 * 256) + 1;
    Some(Ipv4Addr::new(127, a as u8, b as u8, c as u8))
}

/// A loopback address no other host of this process has.
pub(crate) fn allocate() -> Result<Ipv4Addr, SimError> {
    let n = NEXT.fetch_add(1, Ordering::Relaxed);
    nth(n).ok_or(SimError::AddressesExhausted)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Addresses must stay inside 127/8, skip 127.0.x.x and the .0/.255 octets, and run out
    /// with an error rather than wrapping onto addresses in use.
    #[test]
    fn the_sequence_stays_in_loopback_and_ends_cleanly() {
        assert_eq!(nth(0), Some(Ipv4Addr::new(127, 1, 0, 1)));
        assert_eq!(nth(253), Some(Ipv4Addr::new(127, 1, 0, 254)));
        assert_eq!(nth(254), Some(Ipv4Addr::new(127, 1, 1, 1)));
        assert_eq!(nth(CAPACITY - 1), Some(Ipv4Addr::new(127, 254, 255, 254)));
        assert_eq!(nth(CAPACITY), None);
    }

    /// Parallel simulations in one process must never be handed the same address.
    #[test]
    fn allocations_from_many_threads_are_distinct() {
        let handles: Vec<_> = (0..4)
            .map(|_| std::thread::spawn(|| (0..500).map(|_| allocate()).collect::<Vec<_>>()))
            .collect();
        let mut all: Vec<Ipv4Addr> = handles
            .into_iter()
            .flat_map(|h| h.join().expect("no panic"))
            .map(|a| a.expect("far from exhausted"))
            .collect();
        let n = all.len();
        all.sort();
        all.dedup();
        assert_eq!(all.len(), n);
    }
}
