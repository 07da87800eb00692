//! Port numbers in use, and ephemeral ports handed out from a range.

use alloc::collections::BTreeSet;
use core::ops::RangeInclusive;

/// Linux's default ephemeral range (`ip_local_port_range`).
pub const EPHEMERAL: RangeInclusive<u16> = 32768..=60999;

/// A set of ports in use, with a cursor for handing out ephemeral ones in turn (so a
/// port just released is not reused at once).
#[derive(Debug, Clone)]
pub struct PortSet {
    used: BTreeSet<u16>,
    range: RangeInclusive<u16>,
    next: u16,
}

impl Default for PortSet {
    fn default() -> Self {
        PortSet::new(EPHEMERAL)
    }
}

impl PortSet {
    /// An empty set that hands out ephemeral ports from `range`.
    pub fn new(range: RangeInclusive<u16>) -> PortSet {
        let next = *range.start();
        PortSet { used: BTreeSet::new(), range, next }
    }

    /// Takes `port`; false if it is taken.
    pub fn take(&mut self, port: u16) -> bool {
        port != 0 && self.used.insert(port)
    }

    /// Whether `port` is taken.
    pub fn is_taken(&self, port: u16) -> bool {
        self.used.contains(&port)
    }

    /// Gives `port` back.
    pub fn release(&mut self, port: u16) {
        self.used.remove(&port);
    }

    /// Takes the next free ephemeral port, or None when the range is exhausted.
    pub fn take_ephemeral(&mut self) -> Option<u16> {
        let (start, end) = (*self.range.start(), *self.range.end());
        let span = u32::from(end - start) + 1;
        for _ in 0..span {
            let port = self.next;
            self.next = if port >= end { start } else { port + 1 };
            if self.used.insert(port) {
                return Some(port);
            }
        }
        None
    }

    /// How many ports are taken.
    pub fn len(&self) -> usize {
        self.used.len()
    }

    /// Whether no port is taken.
    pub fn is_empty(&self) -> bool {
        self.used.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixed_ports() {
        let mut s = PortSet::default();
        assert!(s.take(80));
        assert!(!s.take(80));
        assert!(!s.take(0));
        assert!(s.is_taken(80));
        s.release(80);
        assert!(s.take(80));
    }

    #[test]
    fn ephemeral_ports_rotate_and_run_out() {
        let mut s = PortSet::new(100..=102);
        assert!(s.take(101));
        assert_eq!(s.take_ephemeral(), Some(100));
        assert_eq!(s.take_ephemeral(), Some(102));
        assert_eq!(s.take_ephemeral(), None);
        s.release(100);
        assert_eq!(s.take_ephemeral(), Some(100));
        s.release(102);
        s.release(101);
        // The cursor moves on instead of reusing the port released first.
        assert_eq!(s.take_ephemeral(), Some(101));
        assert_eq!(s.len(), 2);
    }

    #[test]
    fn whole_range() {
        let mut s = PortSet::new(65535..=65535);
        assert_eq!(s.take_ephemeral(), Some(65535));
        assert_eq!(s.take_ephemeral(), None);
    }
}
