//! A container's own copy of a file's bytes, kept in fixed-size blocks allocated as
//! they are written.
//!
//! Blocks rather than one growing buffer, because a buffer that doubles needs one
//! allocation twice the file's size (which a nearly full kernel heap cannot give, and
//! which would go uncharged); with blocks, every allocation is small, fallible and
//! charged, and holes in sparse files cost nothing, as in Linux's tmpfs.

use crate::{FsError, Result};
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;

/// Bytes per block.
pub(crate) const BLOCK: usize = 4096;
/// What a block costs its owner: the block and its share of the map that finds it.
pub(crate) const BLOCK_COST: u64 = BLOCK as u64 + 64;

/// A file's bytes: `len` of them, in blocks by index; a missing block reads as zeros.
/// The map holds only the blocks written, so a sparse file's size costs nothing.
#[derive(Default)]
pub(crate) struct FileData {
    len: usize,
    blocks: BTreeMap<usize, Box<[u8]>>,
}

/// A zeroed block, or `None` if the heap has no room.
fn new_block() -> Option<Box<[u8]>> {
    let mut v = Vec::new();
    v.try_reserve_exact(BLOCK).ok()?;
    v.resize(BLOCK, 0);
    Some(v.into_boxed_slice())
}

/// A zeroed buffer of `size` bytes, made in place (no copy, so an image file needs its
/// size in memory once, not twice); `None` if the heap has no room for it.
pub(crate) fn zeroed_shared(size: u64) -> Option<Arc<[u8]>> {
    let size = usize::try_from(size).ok()?;
    // `Arc<[u8]>` has no fallible constructor: first see that the heap can give this
    // much (a freed block of the size is then there for the real allocation).
    let mut probe: Vec<u8> = Vec::new();
    probe.try_reserve_exact(size).ok()?;
    drop(probe);
    Some(core::iter::repeat_n(0u8, size).collect())
}

impl FileData {
    /// The file's length.
    pub fn len(&self) -> usize {
        self.len
    }

    /// What the blocks cost (what the container is charged).
    pub fn allocated(&self) -> u64 {
        self.blocks.len() as u64 * BLOCK_COST
    }

    /// Appends the whole file to `out` (zeros for holes); `out` should have room.
    pub fn append_to(&self, out: &mut Vec<u8>) {
        let mut at = 0;
        while at < self.len {
            let take = BLOCK.min(self.len - at);
            match self.blocks.get(&(at / BLOCK)) {
                Some(block) => out.extend_from_slice(&block[..take]),
                None => out.resize(out.len() + take, 0),
            }
            at += take;
        }
    }

    /// Reads from `offset` into `buf`; returns the bytes read (0 at or past the end).
    pub fn read_at(&self, offset: usize, buf: &mut [u8]) -> usize {
        let n = buf.len().min(self.len.saturating_sub(offset));
        let mut done = 0;
        while done < n {
            let at = offset + done;
            let (index, within) = (at / BLOCK, at % BLOCK);
            let take = (BLOCK - within).min(n - done);
            let out = &mut buf[done..done + take];
            match self.blocks.get(&index) {
                Some(block) => out.copy_from_slice(&block[within..within + take]),
                None => out.fill(0),
            }
            done += take;
        }
        n
    }

    /// Writes `data` at `offset`, extending the file as needed. New blocks are paid for
    /// through `charge` (bytes); if it refuses, or the heap has no room, nothing changes
    /// and the error is `NoSpace`.
    pub fn write_at(&mut self, offset: usize, data: &[u8], charge: impl FnOnce(u64) -> bool) -> Result<()> {
        if data.is_empty() {
            return Ok(());
        }
        let end = offset.checked_add(data.len()).ok_or(FsError::NoSpace)?;
        let (first, last) = (offset / BLOCK, (end - 1) / BLOCK);
        let missing: Vec<usize> = (first..=last).filter(|i| !self.blocks.contains_key(i)).collect();
        if !missing.is_empty() {
            // Everything that can fail happens before anything changes: the blocks,
            // then the charge.
            let mut fresh = Vec::new();
            fresh.try_reserve_exact(missing.len()).map_err(|_| FsError::NoSpace)?;
            for _ in 0..missing.len() {
                fresh.push(new_block().ok_or(FsError::NoSpace)?);
            }
            if !charge(missing.len() as u64 * BLOCK_COST) {
                return Err(FsError::NoSpace);
            }
            for (index, block) in missing.into_iter().zip(fresh) {
                self.blocks.insert(index, block);
            }
        }
        let mut done = 0;
        while done < data.len() {
            let at = offset + done;
            let (index, within) = (at / BLOCK, at % BLOCK);
            let take = (BLOCK - within).min(data.len() - done);
            let block = self.blocks.get_mut(&index).expect("every block written was made above");
            block[within..within + take].copy_from_slice(&data[done..done + take]);
            done += take;
        }
        self.len = self.len.max(end);
        Ok(())
    }

    /// Sets the length: shrinking frees the blocks past the end and zeroes the rest of
    /// the last one; growing adds a hole. Returns the bytes of blocks freed.
    pub fn truncate(&mut self, len: usize) -> u64 {
        let before = self.allocated();
        let keep = len.div_ceil(BLOCK);
        drop(self.blocks.split_off(&keep));
        if !len.is_multiple_of(BLOCK)
            && let Some(block) = self.blocks.get_mut(&(len / BLOCK))
        {
            block[len % BLOCK..].fill(0);
        }
        self.len = len;
        before - self.allocated()
    }

    /// A copy of `bytes` in blocks (the copy-up of an image file), charged through
    /// `charge` first; `NoSpace` if refused or the heap is full.
    pub fn copy_of(bytes: &[u8], charge: impl FnOnce(u64) -> bool) -> Result<FileData> {
        let mut data = FileData::default();
        data.write_at(0, bytes, charge)?;
        Ok(data)
    }

    /// All the bytes in one buffer (for `execve` of a file the container wrote);
    /// `NoSpace` if the heap has no room for it.
    pub fn to_shared(&self) -> Result<Arc<[u8]>> {
        let mut all = zeroed_shared(self.len as u64).ok_or(FsError::NoSpace)?;
        self.read_at(0, Arc::get_mut(&mut all).expect("just made"));
        Ok(all)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    fn all(d: &FileData) -> Vec<u8> {
        d.to_shared().unwrap().to_vec()
    }

    #[test]
    fn writes_across_blocks_read_back() {
        let mut d = FileData::default();
        let bytes: Vec<u8> = (0..3 * BLOCK + 100).map(|i| (i % 251) as u8).collect();
        d.write_at(0, &bytes, |_| true).unwrap();
        assert_eq!(all(&d), bytes);
        let mut buf = vec![0u8; 10];
        assert_eq!(d.read_at(BLOCK - 5, &mut buf), 10);
        assert_eq!(buf, bytes[BLOCK - 5..BLOCK + 5]);
        assert_eq!(d.read_at(bytes.len() - 3, &mut buf), 3);
        assert_eq!(d.read_at(bytes.len() + 7, &mut buf), 0);
    }

    #[test]
    fn holes_read_as_zeros_and_cost_nothing() {
        let mut d = FileData::default();
        let mut charged = 0;
        d.write_at(10 * BLOCK + 1, b"x", |n| {
            charged += n;
            true
        })
        .unwrap();
        assert_eq!(charged, BLOCK_COST, "only the block written is paid for");
        assert_eq!(d.len(), 10 * BLOCK + 2);
        assert_eq!(d.allocated(), BLOCK_COST);
        let v = all(&d);
        assert!(v[..10 * BLOCK + 1].iter().all(|&b| b == 0));
        assert_eq!(v[10 * BLOCK + 1], b'x');
    }

    #[test]
    fn a_refused_charge_changes_nothing() {
        let mut d = FileData::default();
        d.write_at(0, &[1; 100], |_| true).unwrap();
        assert_eq!(d.write_at(50, &[2; 2 * BLOCK], |_| false), Err(FsError::NoSpace));
        assert_eq!(d.len(), 100);
        assert_eq!(all(&d), vec![1; 100]);
        assert_eq!(d.allocated(), BLOCK_COST);
        // Rewriting inside allocated blocks needs no charge.
        d.write_at(10, &[3; 10], |_| false).unwrap();
    }

    #[test]
    fn a_block_far_out_costs_one_block() {
        let mut d = FileData::default();
        let mut charged = 0;
        d.write_at(1 << 40, b"far", |n| {
            charged += n;
            true
        })
        .unwrap();
        assert_eq!((charged, d.allocated(), d.len()), (BLOCK_COST, BLOCK_COST, (1 << 40) + 3));
        let mut buf = [1u8; 8];
        assert_eq!(d.read_at((1 << 40) - 5, &mut buf), 8);
        assert_eq!(&buf, b"\0\0\0\0\0far");
        assert_eq!(d.truncate(1 << 39), BLOCK_COST);
        assert_eq!(d.allocated(), 0);
    }

    #[test]
    fn truncate_frees_blocks_and_zeroes_the_tail() {
        let mut d = FileData::default();
        d.write_at(0, &[9; 3 * BLOCK], |_| true).unwrap();
        assert_eq!(d.truncate(BLOCK + 10), BLOCK_COST);
        assert_eq!(d.len(), BLOCK + 10);
        d.truncate(2 * BLOCK);
        let v = all(&d);
        assert!(v[..BLOCK + 10].iter().all(|&b| b == 9));
        assert!(v[BLOCK + 10..].iter().all(|&b| b == 0), "bytes cut off come back as zeros");
        assert_eq!(d.truncate(0), 2 * BLOCK_COST);
        assert_eq!(d.allocated(), 0);
    }

    #[test]
    fn copy_of_charges_whole_blocks() {
        let mut charged = 0;
        let d = FileData::copy_of(&[5; BLOCK + 1], |n| {
            charged += n;
            true
        })
        .unwrap();
        assert_eq!(charged, 2 * BLOCK_COST);
        assert_eq!(all(&d), vec![5; BLOCK + 1]);
        assert_eq!(FileData::copy_of(&[], |_| false).unwrap().len(), 0);
    }
}
