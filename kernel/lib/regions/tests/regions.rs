//! Region bookkeeping as `mmap`, `munmap`, `mprotect` and `mremap` use it.

use berth_regions::{Region, RegionMap};

/// A region with a label and an offset that moves with splits (as a file mapping's
/// does).
#[derive(Debug, Clone, PartialEq, Eq)]
struct R {
    start: u64,
    end: u64,
    label: char,
    offset: u64,
}

impl Region for R {
    fn start(&self) -> u64 {
        self.start
    }
    fn end(&self) -> u64 {
        self.end
    }
    fn split_at(&mut self, at: u64) -> R {
        let upper = R { start: at, end: self.end, label: self.label, offset: self.offset + (at - self.start) };
        self.end = at;
        upper
    }
}

fn r(start: u64, end: u64, label: char) -> R {
    R { start, end, label, offset: 0 }
}

fn bounds(map: &RegionMap<R>) -> Vec<(u64, u64, char)> {
    map.iter().map(|r| (r.start, r.end, r.label)).collect()
}

#[test]
fn removing_the_middle_of_a_region_leaves_both_ends() {
    let mut map = RegionMap::new();
    map.insert(r(0x1000, 0x9000, 'a'));
    let removed = map.remove(0x3000, 0x5000);
    assert_eq!(removed, [R { start: 0x3000, end: 0x5000, label: 'a', offset: 0x2000 }]);
    assert_eq!(bounds(&map), [(0x1000, 0x3000, 'a'), (0x5000, 0x9000, 'a')]);
    assert_eq!(map.iter().nth(1).unwrap().offset, 0x4000, "the upper part keeps its offset");
    assert!(map.at(0x3000).is_none() && map.at(0x4fff).is_none());
    assert_eq!(map.at(0x5000).unwrap().start, 0x5000);
    assert!(!map.covers(0x1000, 0x9000) && map.covers(0x5000, 0x9000));
}

#[test]
fn a_change_over_several_regions_touches_only_its_range() {
    let mut map = RegionMap::new();
    map.insert(r(0x1000, 0x4000, 'a'));
    map.insert(r(0x4000, 0x8000, 'b'));
    for region in map.split_range_mut(0x2000, 0x6000) {
        region.label = region.label.to_ascii_uppercase();
    }
    assert_eq!(
        bounds(&map),
        [(0x1000, 0x2000, 'a'), (0x2000, 0x4000, 'A'), (0x4000, 0x6000, 'B'), (0x6000, 0x8000, 'b')]
    );
    assert!(map.covers(0x1000, 0x8000));
    assert!(map.overlaps(0x7fff, 0x9000) && !map.overlaps(0x8000, 0x9000) && !map.overlaps(0, 0x1000));
    // Splitting at a boundary or outside any region changes nothing.
    map.split(0x4000);
    map.split(0x20000);
    assert_eq!(map.len(), 4);
}

#[test]
fn free_space_is_found_from_the_top_down() {
    let mut map = RegionMap::new();
    assert_eq!(map.find_free(0x2000, 0x1000, 0x10000), Some(0xe000));
    map.insert(r(0xe000, 0x10000, 'a'));
    map.insert(r(0x9000, 0xc000, 'b'));
    // The gap between them (0xc000..0xe000) fits 0x2000 but not 0x3000.
    assert_eq!(map.find_free(0x2000, 0x1000, 0x10000), Some(0xc000));
    assert_eq!(map.find_free(0x3000, 0x1000, 0x10000), Some(0x6000));
    assert_eq!(map.find_free(0x9000, 0x1000, 0x10000), None, "not below the low bound");
    // Regions above the limit are not in the way.
    assert_eq!(map.find_free(0x1000, 0x1000, 0x9000), Some(0x8000));
    assert_eq!(map.find_free(u64::MAX, 0, 0x10000), None);
}
