//! The regions of an address space, as plain logic tested on the host: a map of
//! non-overlapping ranges by start address, each split where an operation's range
//! begins or ends (so `munmap` and `mprotect` of part of a region change only that
//! part), with the searches `mmap` needs (what is at an address, whether a range is
//! free or wholly mapped, the highest free range below a limit).
//!
//! What a region holds is the kernel's ([`Region`]): the map only needs its bounds and
//! how to cut it in two.

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::collections::BTreeMap;
use alloc::vec::Vec;

/// A range `[start, end)` that can be cut in two.
pub trait Region: Clone {
    /// First address.
    fn start(&self) -> u64;
    /// One past the last address.
    fn end(&self) -> u64;
    /// Moves the end of `self` down to `at` (strictly inside it) and returns the part
    /// from `at` on.
    fn split_at(&mut self, at: u64) -> Self;
}

/// Non-overlapping regions by start address.
#[derive(Debug, Clone)]
pub struct RegionMap<R> {
    map: BTreeMap<u64, R>,
}

impl<R> Default for RegionMap<R> {
    fn default() -> Self {
        RegionMap { map: BTreeMap::new() }
    }
}

impl<R: Region> RegionMap<R> {
    /// No regions.
    pub fn new() -> Self {
        RegionMap { map: BTreeMap::new() }
    }

    /// How many regions there are.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// The regions, lowest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &R> {
        self.map.values()
    }

    /// The region containing `addr`.
    pub fn at(&self, addr: u64) -> Option<&R> {
        self.map.range(..=addr).next_back().map(|(_, r)| r).filter(|r| addr < r.end())
    }

    /// The region starting exactly at `start`, to change in place (its bounds must
    /// stay clear of its neighbours).
    pub fn starting_at_mut(&mut self, start: u64) -> Option<&mut R> {
        self.map.get_mut(&start)
    }

    /// Whether any region overlaps `[start, end)`.
    pub fn overlaps(&self, start: u64, end: u64) -> bool {
        self.map.range(..end).next_back().is_some_and(|(_, r)| r.end() > start)
    }

    /// Whether every address of `[start, end)` is in some region.
    pub fn covers(&self, start: u64, end: u64) -> bool {
        let mut at = start;
        while at < end {
            match self.at(at) {
                Some(r) => at = r.end(),
                None => return false,
            }
        }
        true
    }

    /// The highest free range of `len` bytes within `[low, high)`.
    pub fn find_free(&self, len: u64, low: u64, high: u64) -> Option<u64> {
        let mut top = high;
        for r in self.map.values().rev() {
            if r.start() >= top {
                continue;
            }
            if r.end() <= top.checked_sub(len)? {
                return Some(top - len);
            }
            top = r.start();
        }
        let start = top.checked_sub(len)?;
        (start >= low).then_some(start)
    }

    /// Adds `region`, which must overlap none.
    pub fn insert(&mut self, region: R) {
        debug_assert!(!self.overlaps(region.start(), region.end()), "regions overlap");
        self.map.insert(region.start(), region);
    }

    /// Splits the region containing `at` (if `at` is inside one) so that `at` is a
    /// boundary.
    pub fn split(&mut self, at: u64) {
        let key = self.map.range(..at).next_back().filter(|(_, r)| r.end() > at).map(|(&k, _)| k);
        if let Some(region) = key.and_then(|k| self.map.get_mut(&k)) {
            let upper = region.split_at(at);
            self.map.insert(at, upper);
        }
    }

    /// Removes every part of a region in `[start, end)`, splitting those that reach
    /// outside it; returns the parts removed.
    pub fn remove(&mut self, start: u64, end: u64) -> Vec<R> {
        self.split(start);
        self.split(end);
        let keys: Vec<u64> = self.map.range(start..end).map(|(&k, _)| k).collect();
        keys.into_iter().filter_map(|k| self.map.remove(&k)).collect()
    }

    /// The regions within `[start, end)` after splitting those that reach outside it,
    /// to change (their bounds must stay as they are).
    pub fn split_range_mut(&mut self, start: u64, end: u64) -> impl Iterator<Item = &mut R> {
        self.split(start);
        self.split(end);
        self.map.range_mut(start..end).map(|(_, r)| r)
    }
}
