//! Physical frame bookkeeping: a bitmap allocator over the boot memory map.
//!
//! One bit per 4 KiB frame between the lowest and highest usable address; a set bit
//! means free. Single frames come from a rotating search hint; contiguous runs (for
//! DMA rings) from a first-fit scan. Freeing a frame that is not allocated is reported,
//! not ignored, because it means a bookkeeping bug elsewhere.

#![no_std]

use core::fmt;

/// Size of a physical frame.
pub const FRAME_SIZE: u64 = 4096;

/// Errors from [`FrameBitmap::free`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// The address is not frame-aligned or outside the managed range.
    OutOfRange(u64),
    /// The frame is already free.
    DoubleFree(u64),
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::OutOfRange(a) => write!(f, "frame {a:#x} is not a managed frame"),
            FrameError::DoubleFree(a) => write!(f, "frame {a:#x} freed twice"),
        }
    }
}

/// A bitmap of free physical frames in `[base, base + frames * 4096)`.
pub struct FrameBitmap<'a> {
    words: &'a mut [u64],
    base: u64,
    frames: usize,
    free: usize,
    hint: usize,
}

impl<'a> FrameBitmap<'a> {
    /// How many `u64` words of storage a bitmap for `[start, end)` needs.
    pub fn words_needed(start: u64, end: u64) -> usize {
        let frames = (end.saturating_sub(start) / FRAME_SIZE) as usize;
        frames.div_ceil(64)
    }

    /// A bitmap for `[start, end)` (frame-aligned inward) with every frame marked in
    /// use. `storage` must hold at least [`Self::words_needed`] words.
    pub fn new(storage: &'a mut [u64], start: u64, end: u64) -> FrameBitmap<'a> {
        let base = start.next_multiple_of(FRAME_SIZE);
        let frames = (end.saturating_sub(base) / FRAME_SIZE) as usize;
        let frames = frames.min(storage.len() * 64);
        let words = &mut storage[..frames.div_ceil(64)];
        words.fill(0);
        FrameBitmap { words, base, frames, free: 0, hint: 0 }
    }

    /// Marks the whole frames inside `[start, end)` free.
    pub fn add_free(&mut self, start: u64, end: u64) {
        for i in self.frame_range(start.next_multiple_of(FRAME_SIZE), end / FRAME_SIZE * FRAME_SIZE) {
            if !self.is_free(i) {
                self.set(i, true);
            }
        }
    }

    /// Marks every frame touching `[start, end)` in use.
    pub fn reserve(&mut self, start: u64, end: u64) {
        for i in self.frame_range(start / FRAME_SIZE * FRAME_SIZE, end.next_multiple_of(FRAME_SIZE)) {
            if self.is_free(i) {
                self.set(i, false);
            }
        }
    }

    /// Allocates one frame; returns its physical address.
    pub fn alloc(&mut self) -> Option<u64> {
        if self.free == 0 {
            return None;
        }
        let words = self.words.len();
        for step in 0..words {
            let w = (self.hint + step) % words;
            if self.words[w] != 0 {
                let i = w * 64 + self.words[w].trailing_zeros() as usize;
                self.set(i, false);
                self.hint = w;
                return Some(self.addr(i));
            }
        }
        None
    }

    /// Allocates `count` physically contiguous frames whose first frame's address is a
    /// multiple of `align` bytes (a power of two); returns the first address.
    pub fn alloc_contiguous(&mut self, count: usize, align: u64) -> Option<u64> {
        if count == 0 || count > self.free {
            return None;
        }
        let align = align.max(FRAME_SIZE);
        let mut i = 0;
        while i + count <= self.frames {
            let addr = self.addr(i);
            if !addr.is_multiple_of(align) {
                i = ((addr.next_multiple_of(align) - self.base) / FRAME_SIZE) as usize;
                continue;
            }
            match (i..i + count).find(|&j| !self.is_free(j)) {
                Some(used) => i = used + 1,
                None => {
                    (i..i + count).for_each(|j| self.set(j, false));
                    return Some(addr);
                }
            }
        }
        None
    }

    /// Returns the frame at `addr` to the free pool.
    pub fn free(&mut self, addr: u64) -> Result<(), FrameError> {
        let i = self.index(addr).ok_or(FrameError::OutOfRange(addr))?;
        if self.is_free(i) {
            return Err(FrameError::DoubleFree(addr));
        }
        self.set(i, true);
        Ok(())
    }

    /// Number of free frames.
    pub fn free_frames(&self) -> usize {
        self.free
    }

    /// Whether the frame at `addr` is free.
    pub fn is_free_addr(&self, addr: u64) -> bool {
        self.index(addr).is_some_and(|i| self.is_free(i))
    }

    fn index(&self, addr: u64) -> Option<usize> {
        let off = addr.checked_sub(self.base)?;
        let i = (off / FRAME_SIZE) as usize;
        (off % FRAME_SIZE == 0 && i < self.frames).then_some(i)
    }

    fn frame_range(&self, start: u64, end: u64) -> core::ops::Range<usize> {
        let clamp = |a: u64| (a.saturating_sub(self.base) / FRAME_SIZE).min(self.frames as u64) as usize;
        clamp(start)..clamp(end.max(start))
    }

    fn addr(&self, i: usize) -> u64 {
        self.base + i as u64 * FRAME_SIZE
    }

    fn is_free(&self, i: usize) -> bool {
        self.words[i / 64] & (1 << (i % 64)) != 0
    }

    fn set(&mut self, i: usize, free: bool) {
        if free {
            self.words[i / 64] |= 1 << (i % 64);
            self.free += 1;
        } else {
            self.words[i / 64] &= !(1 << (i % 64));
            self.free -= 1;
        }
    }
}

#[cfg(test)]
mod tests {
    extern crate std;
    use super::*;
    use std::collections::HashSet;
    use std::vec;
    use std::vec::Vec;

    fn bitmap(storage: &mut Vec<u64>, start: u64, end: u64) -> FrameBitmap<'_> {
        storage.resize(FrameBitmap::words_needed(start, end), 0);
        FrameBitmap::new(storage, start, end)
    }

    #[test]
    fn allocates_every_free_frame_exactly_once() {
        let mut s = vec![];
        let mut b = bitmap(&mut s, 0x10_0000, 0x20_0000);
        b.add_free(0x10_0000, 0x20_0000);
        b.reserve(0x15_0800, 0x15_1000); // one partially touched frame
        assert_eq!(b.free_frames(), 255);
        let mut seen = HashSet::new();
        while let Some(f) = b.alloc() {
            assert_eq!(f % FRAME_SIZE, 0);
            assert!((0x10_0000..0x20_0000).contains(&f));
            assert_ne!(f, 0x15_0000);
            assert!(seen.insert(f), "{f:#x} handed out twice");
        }
        assert_eq!(seen.len(), 255);
        for f in &seen {
            b.free(*f).unwrap();
        }
        assert_eq!(b.free_frames(), 255);
    }

    #[test]
    fn double_free_and_foreign_frames_are_reported() {
        let mut s = vec![];
        let mut b = bitmap(&mut s, 0, 0x10_0000);
        b.add_free(0, 0x10_0000);
        let f = b.alloc().unwrap();
        b.free(f).unwrap();
        assert_eq!(b.free(f), Err(FrameError::DoubleFree(f)));
        assert_eq!(b.free(0x20_0000), Err(FrameError::OutOfRange(0x20_0000)));
        assert_eq!(b.free(0x1001), Err(FrameError::OutOfRange(0x1001)));
    }

    #[test]
    fn contiguous_runs_respect_alignment_and_holes() {
        let mut s = vec![];
        let mut b = bitmap(&mut s, 0, 0x40_0000);
        b.add_free(0, 0x40_0000);
        b.reserve(0x1_0000, 0x1_1000);
        let run = b.alloc_contiguous(16, 0x1_0000).unwrap();
        assert_eq!(run, 0);
        let run2 = b.alloc_contiguous(16, 0x1_0000).unwrap();
        assert_eq!(run2, 0x2_0000, "the reserved frame at 0x10000 breaks the second 64K block");
        for j in 0..16 {
            assert!(!b.is_free_addr(run2 + j * FRAME_SIZE));
        }
        assert_eq!(b.alloc_contiguous(2000, 0), None);
    }

    #[test]
    fn exhaustion_then_recovery() {
        let mut s = vec![];
        let mut b = bitmap(&mut s, 0, 64 * FRAME_SIZE * 3 + FRAME_SIZE * 5);
        b.add_free(0, u64::MAX);
        let total = b.free_frames();
        let all: Vec<u64> = core::iter::from_fn(|| b.alloc()).collect();
        assert_eq!(all.len(), total);
        assert_eq!(b.alloc(), None);
        assert_eq!(b.alloc_contiguous(1, 0), None);
        all.iter().for_each(|&f| b.free(f).unwrap());
        assert_eq!(b.free_frames(), total);
    }
}
