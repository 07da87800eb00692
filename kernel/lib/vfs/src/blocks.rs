//! A container's own copy of a file's bytes, kept in fixed-size blocks allocated as
//! they are written, and, in a tree with a pager (a volume on a machine with a disk),
//! paged: whole extents of blocks leave memory once written out and come back when
//! read.
//!
//! Blocks rather than one growing buffer, because a buffer that doubles needs one
//! allocation twice the file's size (which a nearly full kernel heap cannot give, and
//! which would go uncharged); with blocks, every allocation is small, fallible and
//! charged, and holes in sparse files cost nothing, as in Linux's tmpfs.
//!
//! # Paging
//!
//! A paged file is written out an extent ([`EXTENT`] bytes, [`EXTENT_BLOCKS`] blocks)
//! at a time under its id (see [`crate::Pager`]). Each extent is, at any time:
//! - *resident and dirty*: in memory, changed since last written (never dropped);
//! - *resident and clean*: in memory and the same as what was last written (may be
//!   dropped: [`FileData::evict_clean`]);
//! - *stored*: not in memory, below `Paging::stored` (the extents the pager holds for
//!   the file): a read first brings it back ([`FileData::missing`], [`FileData::install`]);
//! - *a hole*: not in memory and not stored: zeros.
//!
//! Nothing here waits for a disk: the caller (the inode) asks what is missing, reads
//! it from the pager with no lock held, and installs it, checking that the file was
//! not cut short meanwhile (`generation`).

use crate::{FsError, Result};
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use core::ops::Range;

/// Bytes per block.
pub(crate) const BLOCK: usize = 4096;
/// What a block costs its owner: the block and its share of the map that finds it.
pub(crate) const BLOCK_COST: u64 = BLOCK as u64 + 64;
/// Blocks per extent, the unit a paged file is written out and read back in.
pub const EXTENT_BLOCKS: usize = 16;
/// Bytes per extent.
pub const EXTENT: usize = BLOCK * EXTENT_BLOCKS;

/// Where a file's blocks are paid for. `charge` may make room first (by dropping
/// other files' clean extents); a refusal fails the operation with `NoSpace`.
pub(crate) trait Account {
    /// Takes `bytes`, or returns false.
    fn charge(&self, bytes: u64) -> bool;
    /// Gives `bytes` back.
    fn uncharge(&self, bytes: u64);
}

/// An extent a paged file must have in memory before the operation can go on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PageIn {
    /// The file's id in its pager.
    pub file: u64,
    /// The extent.
    pub extent: u64,
    /// The file's generation when it was found missing.
    generation: u64,
}

/// An extent changed since last written, as a write-out copies it
/// ([`crate::Filesystem::write_out`]).
pub struct DirtyExtent {
    /// Its index.
    pub extent: u64,
    /// Its bytes (up to the file's end), or `None` if it is all hole.
    pub bytes: Option<Vec<u8>>,
    version: u64,
}

/// What a write-out took of one file: handed back to [`crate::Filesystem::written`] once the
/// pager holds it.
pub struct FileSnapshot {
    /// The file's id.
    pub file: u64,
    /// Extents the pager should hold for the file after this write-out; those at or
    /// past it are no longer the file's.
    pub extents: u64,
    /// The extents to write.
    pub dirty: Vec<DirtyExtent>,
    len: u64,
    generation: u64,
}

impl FileSnapshot {
    /// The file's length when the snapshot was taken.
    pub fn file_len(&self) -> u64 {
        self.len
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum State {
    Clean,
    /// Changed; the number is the write that last changed it.
    Dirty(u64),
}

/// The paging state of a paged file.
struct Paging {
    /// Its id in the pager.
    id: u64,
    /// Extents below this that are not resident are in the pager (or holes).
    stored: u64,
    /// The resident extents.
    resident: BTreeMap<u64, State>,
    /// Bumped by every cut: a page-in found missing before one is not installed.
    generation: u64,
    /// Counts writes, to tell whether an extent changed while it was written out.
    version: u64,
    /// The fewest extents a cut left the file since it was last written out: the
    /// pager's extents from there on are no longer the file's.
    cut_to: Option<u64>,
}

/// A file's bytes: `len` of them, in blocks by index; a missing block reads as zeros
/// (or, in a paged file, may be in the pager: see the module comment).
#[derive(Default)]
pub(crate) struct FileData {
    len: usize,
    blocks: BTreeMap<usize, Box<[u8]>>,
    paging: Option<Paging>,
}

/// What a change did to the count of dirty extents.
pub(crate) type DirtyDelta = i64;

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

/// Extents a file of `len` bytes spans.
fn extents_of(len: usize) -> u64 {
    len.div_ceil(EXTENT) as u64
}

/// The extents bytes `offset..end` touch (`end > offset`).
fn extents_touched(offset: usize, end: usize) -> Range<u64> {
    (offset / EXTENT) as u64..((end - 1) / EXTENT) as u64 + 1
}

/// The blocks of extent `e`.
fn blocks_of(e: u64) -> Range<usize> {
    let first = e as usize * EXTENT_BLOCKS;
    first..first + EXTENT_BLOCKS
}

impl FileData {
    /// An empty file, paged under `id`.
    pub fn paged(id: u64) -> FileData {
        let paging = Paging { id, stored: 0, resident: BTreeMap::new(), generation: 0, version: 0, cut_to: None };
        FileData { paging: Some(paging), ..FileData::default() }
    }

    /// A file of `len` bytes that its pager holds under `id` (none of it in memory).
    pub fn stored(id: u64, len: u64) -> Result<FileData> {
        let len = usize::try_from(len).map_err(|_| FsError::NoSpace)?;
        let mut data = FileData::paged(id);
        data.len = len;
        data.paging.as_mut().expect("just made paged").stored = extents_of(len);
        Ok(data)
    }

    /// The id it is paged under, if paged.
    pub fn paged_id(&self) -> Option<u64> {
        self.paging.as_ref().map(|p| p.id)
    }

    /// The file's length.
    pub fn len(&self) -> usize {
        self.len
    }

    /// What the blocks in memory cost (what the container is charged).
    pub fn allocated(&self) -> u64 {
        self.blocks.len() as u64 * BLOCK_COST
    }

    /// Extents changed since last written.
    pub fn dirty_count(&self) -> u64 {
        self.paging.as_ref().map_or(0, |p| p.resident.values().filter(|s| matches!(s, State::Dirty(_))).count() as u64)
    }

    /// The first extent of bytes `offset..offset + len` that is in the pager and not
    /// in memory: what must be installed before reading or changing those bytes (a
    /// write at the end of the file changes the extent the end is in).
    pub fn missing(&self, offset: usize, len: usize) -> Option<PageIn> {
        let p = self.paging.as_ref()?;
        let end = offset.saturating_add(len);
        if len == 0 {
            return None;
        }
        let touched = extents_touched(offset, end);
        let extent = (touched.start..touched.end.min(p.stored)).find(|e| !p.resident.contains_key(e))?;
        Some(PageIn { file: p.id, extent, generation: p.generation })
    }

    /// What must be installed before cutting the file to `len`: the extent the new
    /// end falls in, whose tail is zeroed.
    pub fn missing_for_cut(&self, len: usize) -> Option<PageIn> {
        if len >= self.len || len.is_multiple_of(EXTENT) { None } else { self.missing(len, 1) }
    }

    /// Reads from `offset` into `buf`; returns the bytes read (0 at or past the end).
    /// Extents [`Self::missing`] names read as zeros: install them first.
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

    /// Writes `data` at `offset`, extending the file as needed; nothing in the range
    /// may be missing. New blocks are paid for through `account` (a paged file first
    /// drops its own clean extents if refused); if it still refuses, or the heap has
    /// no room, nothing changes and the error is `NoSpace`. Returns the change in
    /// dirty extents.
    pub fn write_at(&mut self, offset: usize, data: &[u8], account: &dyn Account) -> Result<DirtyDelta> {
        if data.is_empty() {
            return Ok(0);
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
            self.pay(missing.len() as u64 * BLOCK_COST, extents_touched(offset, end), account)?;
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
        Ok(self.mark_dirty(extents_touched(offset, end)))
    }

    /// Charges `cost`; if refused, a paged file drops its clean extents outside `keep`
    /// and tries once more.
    fn pay(&mut self, cost: u64, keep: Range<u64>, account: &dyn Account) -> Result<()> {
        if account.charge(cost) {
            return Ok(());
        }
        let freed = self.evict_clean(keep);
        account.uncharge(freed);
        if freed > 0 && account.charge(cost) { Ok(()) } else { Err(FsError::NoSpace) }
    }

    /// Marks `extents` changed; returns how many were not already.
    fn mark_dirty(&mut self, extents: Range<u64>) -> DirtyDelta {
        let Some(p) = self.paging.as_mut() else { return 0 };
        p.version += 1;
        let mut fresh = 0;
        for e in extents {
            if !matches!(p.resident.insert(e, State::Dirty(p.version)), Some(State::Dirty(_))) {
                fresh += 1;
            }
        }
        fresh
    }

    /// Sets the length: shrinking frees the blocks past the end and zeroes the rest of
    /// the last one (which must not be missing); growing adds a hole. Returns the
    /// bytes of blocks freed and the change in dirty extents.
    pub fn truncate(&mut self, len: usize) -> (u64, DirtyDelta) {
        let before = self.allocated();
        let keep = len.div_ceil(BLOCK);
        drop(self.blocks.split_off(&keep));
        if !len.is_multiple_of(BLOCK)
            && let Some(block) = self.blocks.get_mut(&(len / BLOCK))
        {
            block[len % BLOCK..].fill(0);
        }
        let shrunk = len < self.len;
        self.len = len;
        let mut delta = 0;
        if let Some(p) = self.paging.as_mut()
            && shrunk
        {
            let kept = extents_of(len);
            let dropped = p.resident.split_off(&kept);
            delta -= dropped.values().filter(|s| matches!(s, State::Dirty(_))).count() as i64;
            p.stored = p.stored.min(kept);
            p.cut_to = Some(p.cut_to.map_or(kept, |c| c.min(kept)));
            p.generation += 1;
            if !len.is_multiple_of(EXTENT) && p.resident.contains_key(&(kept - 1)) {
                delta += self.mark_dirty(kept - 1..kept);
            }
        }
        (before - self.allocated(), delta)
    }

    /// Puts back extent `page.extent` as read from the pager (`None`: a hole), unless
    /// it is no longer missing (installed meanwhile, or the file was cut). Its blocks
    /// are paid for through `account`; all-zero blocks stay holes.
    pub fn install(&mut self, page: PageIn, bytes: Option<&[u8]>, account: &dyn Account) -> Result<()> {
        let Some(p) = self.paging.as_ref() else { return Ok(()) };
        if p.generation != page.generation || page.extent >= p.stored || p.resident.contains_key(&page.extent) {
            return Ok(());
        }
        let base = page.extent as usize * EXTENT;
        let bytes = bytes.unwrap_or(&[]);
        let bytes = &bytes[..bytes.len().min(EXTENT).min(self.len.saturating_sub(base))];
        let mut fresh = Vec::new();
        for (i, chunk) in bytes.chunks(BLOCK).enumerate() {
            if chunk.iter().any(|&b| b != 0) {
                let mut block = new_block().ok_or(FsError::NoSpace)?;
                block[..chunk.len()].copy_from_slice(chunk);
                fresh.try_reserve(1).map_err(|_| FsError::NoSpace)?;
                fresh.push((base / BLOCK + i, block));
            }
        }
        self.pay(fresh.len() as u64 * BLOCK_COST, page.extent..page.extent + 1, account)?;
        self.blocks.extend(fresh);
        self.paging.as_mut().expect("paged").resident.insert(page.extent, State::Clean);
        Ok(())
    }

    /// Drops from memory the clean extents the pager holds, except those in `keep`;
    /// returns the bytes freed.
    pub fn evict_clean(&mut self, keep: Range<u64>) -> u64 {
        let Some(p) = self.paging.as_mut() else { return 0 };
        let stored = p.stored;
        let clean: Vec<u64> = p
            .resident
            .iter()
            .filter(|&(e, s)| *s == State::Clean && *e < stored && !keep.contains(e))
            .map(|(e, _)| *e)
            .collect();
        let mut freed = 0;
        for e in clean {
            p.resident.remove(&e);
            for i in blocks_of(e) {
                if self.blocks.remove(&i).is_some() {
                    freed += BLOCK_COST;
                }
            }
        }
        freed
    }

    /// What a write-out of this file takes: copies of its dirty extents, and the
    /// extents it keeps (`None` for a file that is not paged); `NoSpace` on a heap too
    /// full for the copies.
    pub fn snapshot(&self) -> Result<Option<FileSnapshot>> {
        let Some(p) = self.paging.as_ref() else { return Ok(None) };
        let mut dirty = Vec::new();
        for (&extent, state) in &p.resident {
            let State::Dirty(version) = *state else { continue };
            let blocks = blocks_of(extent);
            let bytes = if self.blocks.range(blocks).next().is_none() {
                None
            } else {
                let base = extent as usize * EXTENT;
                let mut buf = Vec::new();
                buf.try_reserve_exact(EXTENT.min(self.len - base)).map_err(|_| FsError::NoSpace)?;
                buf.resize(EXTENT.min(self.len - base), 0);
                self.read_at(base, &mut buf);
                Some(buf)
            };
            dirty.try_reserve(1).map_err(|_| FsError::NoSpace)?;
            dirty.push(DirtyExtent { extent, bytes, version });
        }
        let extents = p.cut_to.unwrap_or(u64::MAX).min(extents_of(self.len));
        Ok(Some(FileSnapshot { file: p.id, extents, dirty, len: self.len as u64, generation: p.generation }))
    }

    /// Notes that the pager now holds `snapshot`: extents unchanged since are clean.
    /// Returns the change in dirty extents.
    pub fn written(&mut self, snapshot: &FileSnapshot) -> DirtyDelta {
        let Some(p) = self.paging.as_mut() else { return 0 };
        let mut delta = 0;
        for d in &snapshot.dirty {
            if p.resident.get(&d.extent) == Some(&State::Dirty(d.version)) {
                p.resident.insert(d.extent, State::Clean);
                delta -= 1;
            }
        }
        if p.generation == snapshot.generation {
            // No cut since the snapshot: every extent it spanned is now in the pager
            // or a hole there.
            p.stored = p.stored.max(extents_of(snapshot.len as usize));
            p.cut_to = None;
        }
        delta
    }

    /// A copy of `bytes` in blocks (the copy-up of an image file), charged through
    /// `account` first; `NoSpace` if refused or the heap is full. Paged under `id` if
    /// given.
    pub fn copy_of(bytes: &[u8], id: Option<u64>, account: &dyn Account) -> Result<FileData> {
        let mut data = id.map_or_else(FileData::default, FileData::paged);
        data.write_at(0, bytes, account)?;
        Ok(data)
    }

    /// All the bytes in one buffer (for `execve` of a file the container wrote);
    /// `NoSpace` if the heap has no room for it. Nothing may be missing.
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
    use core::cell::Cell;

    /// An account with a limit, counting what it holds.
    struct Limit {
        held: Cell<u64>,
        max: u64,
    }

    impl Limit {
        fn new(max: u64) -> Limit {
            Limit { held: Cell::new(0), max }
        }
    }

    impl Account for Limit {
        fn charge(&self, bytes: u64) -> bool {
            let ok = self.held.get() + bytes <= self.max;
            if ok {
                self.held.set(self.held.get() + bytes);
            }
            ok
        }
        fn uncharge(&self, bytes: u64) {
            self.held.set(self.held.get() - bytes);
        }
    }

    fn free() -> Limit {
        Limit::new(u64::MAX)
    }

    fn all(d: &FileData) -> Vec<u8> {
        d.to_shared().unwrap().to_vec()
    }

    #[test]
    fn writes_across_blocks_read_back() {
        let mut d = FileData::default();
        let bytes: Vec<u8> = (0..3 * BLOCK + 100).map(|i| (i % 251) as u8).collect();
        d.write_at(0, &bytes, &free()).unwrap();
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
        let account = free();
        d.write_at(10 * BLOCK + 1, b"x", &account).unwrap();
        assert_eq!(account.held.get(), BLOCK_COST, "only the block written is paid for");
        assert_eq!(d.len(), 10 * BLOCK + 2);
        assert_eq!(d.allocated(), BLOCK_COST);
        let v = all(&d);
        assert!(v[..10 * BLOCK + 1].iter().all(|&b| b == 0));
        assert_eq!(v[10 * BLOCK + 1], b'x');
    }

    #[test]
    fn a_refused_charge_changes_nothing() {
        let mut d = FileData::default();
        d.write_at(0, &[1; 100], &free()).unwrap();
        let none = Limit::new(0);
        assert_eq!(d.write_at(50, &[2; 2 * BLOCK], &none), Err(FsError::NoSpace));
        assert_eq!(d.len(), 100);
        assert_eq!(all(&d), vec![1; 100]);
        assert_eq!(d.allocated(), BLOCK_COST);
        // Rewriting inside allocated blocks needs no charge.
        d.write_at(10, &[3; 10], &none).unwrap();
    }

    #[test]
    fn a_block_far_out_costs_one_block() {
        let mut d = FileData::default();
        let account = free();
        d.write_at(1 << 40, b"far", &account).unwrap();
        assert_eq!((account.held.get(), d.allocated(), d.len()), (BLOCK_COST, BLOCK_COST, (1 << 40) + 3));
        let mut buf = [1u8; 8];
        assert_eq!(d.read_at((1 << 40) - 5, &mut buf), 8);
        assert_eq!(&buf, b"\0\0\0\0\0far");
        assert_eq!(d.truncate(1 << 39).0, BLOCK_COST);
        assert_eq!(d.allocated(), 0);
    }

    #[test]
    fn truncate_frees_blocks_and_zeroes_the_tail() {
        let mut d = FileData::default();
        d.write_at(0, &[9; 3 * BLOCK], &free()).unwrap();
        assert_eq!(d.truncate(BLOCK + 10).0, BLOCK_COST);
        assert_eq!(d.len(), BLOCK + 10);
        d.truncate(2 * BLOCK);
        let v = all(&d);
        assert!(v[..BLOCK + 10].iter().all(|&b| b == 9));
        assert!(v[BLOCK + 10..].iter().all(|&b| b == 0), "bytes cut off come back as zeros");
        assert_eq!(d.truncate(0).0, 2 * BLOCK_COST);
        assert_eq!(d.allocated(), 0);
    }

    #[test]
    fn copy_of_charges_whole_blocks() {
        let account = free();
        let d = FileData::copy_of(&[5; BLOCK + 1], None, &account).unwrap();
        assert_eq!(account.held.get(), 2 * BLOCK_COST);
        assert_eq!(all(&d), vec![5; BLOCK + 1]);
        assert_eq!(FileData::copy_of(&[], None, &Limit::new(0)).unwrap().len(), 0);
    }

    /// A pager in a map: what a write-out commits, as the kernel's store would hold it.
    #[derive(Default)]
    struct Disk {
        extents: BTreeMap<u64, Vec<u8>>,
    }

    impl Disk {
        fn write_out(&mut self, d: &mut FileData) -> DirtyDelta {
            let s = d.snapshot().unwrap().unwrap();
            self.extents.retain(|&e, _| e < s.extents);
            for x in &s.dirty {
                match &x.bytes {
                    Some(b) => drop(self.extents.insert(x.extent, b.clone())),
                    None => drop(self.extents.remove(&x.extent)),
                }
            }
            d.written(&s)
        }

        /// Reads `len` bytes at `offset`, paging in as the inode does.
        fn read(&self, d: &mut FileData, offset: usize, len: usize, account: &dyn Account) -> Vec<u8> {
            while let Some(page) = d.missing(offset, len) {
                d.install(page, self.extents.get(&page.extent).map(|v| &v[..]), account).unwrap();
            }
            let mut buf = vec![0u8; len];
            let n = d.read_at(offset, &mut buf);
            buf.truncate(n);
            buf
        }
    }

    fn pattern(len: usize, seed: u8) -> Vec<u8> {
        (0..len).map(|i| (i % 253) as u8 ^ seed).collect()
    }

    #[test]
    fn clean_extents_leave_memory_and_come_back() {
        let mut disk = Disk::default();
        let account = free();
        let mut d = FileData::paged(7);
        let bytes = pattern(3 * EXTENT + 5, 1);
        assert_eq!(d.write_at(0, &bytes, &account).unwrap(), 4, "four extents dirty");
        assert_eq!(d.evict_clean(0..0), 0, "dirty extents stay");
        assert_eq!(disk.write_out(&mut d), -4);
        assert_eq!(disk.extents.len(), 4);
        let freed = d.evict_clean(0..0);
        assert_eq!((freed, d.allocated()), (49 * BLOCK_COST, 0), "all 49 blocks left memory");
        account.uncharge(freed);
        assert_eq!(account.held.get(), 0);
        assert_eq!(d.missing(EXTENT + 3, 10).map(|p| p.extent), Some(1));
        assert_eq!(disk.read(&mut d, EXTENT - 2, 4, &account), bytes[EXTENT - 2..EXTENT + 2]);
        assert_eq!(d.allocated(), 2 * EXTENT_BLOCKS as u64 * BLOCK_COST, "only the two extents read came back");
        assert_eq!(disk.read(&mut d, 0, bytes.len(), &account), bytes);
    }

    #[test]
    fn a_file_larger_than_its_account_is_written_through_clean_extents() {
        // Room for two extents; the file is ten.
        let account = Limit::new(2 * EXTENT as u64 * BLOCK_COST / BLOCK as u64);
        let mut disk = Disk::default();
        let mut d = FileData::paged(1);
        for e in 0..10 {
            d.write_at(e * EXTENT, &pattern(EXTENT, e as u8), &account).unwrap();
            disk.write_out(&mut d);
        }
        assert!(d.allocated() <= 2 * EXTENT as u64 * BLOCK_COST / BLOCK as u64);
        for e in (0..10).rev() {
            assert_eq!(disk.read(&mut d, e * EXTENT, EXTENT, &account), pattern(EXTENT, e as u8), "extent {e}");
        }
        // With nothing clean to drop, a write that needs room fails and changes nothing.
        let mut full = FileData::paged(2);
        full.write_at(0, &pattern(2 * EXTENT, 3), &Limit::new(0)).unwrap_err();
        assert_eq!(full.len(), 0);
    }

    #[test]
    fn a_cut_forgets_stored_extents_even_when_the_file_grows_again() {
        let mut disk = Disk::default();
        let account = free();
        let mut d = FileData::paged(3);
        d.write_at(0, &pattern(4 * EXTENT, 9), &account).unwrap();
        disk.write_out(&mut d);
        d.evict_clean(0..0);
        // The cut lands inside extent 1, which must be in memory to zero its tail.
        let cut = EXTENT + 100;
        let page = d.missing_for_cut(cut).expect("extent 1 is stored");
        assert_eq!(page.extent, 1);
        d.install(page, disk.extents.get(&1).map(|v| &v[..]), &account).unwrap();
        assert_eq!(d.truncate(cut).1, 1, "the cut extent is dirty");
        d.truncate(4 * EXTENT);
        assert_eq!(d.missing(2 * EXTENT, EXTENT), None, "past the cut is a hole, not the old bytes");
        disk.write_out(&mut d);
        assert_eq!(disk.extents.keys().copied().collect::<Vec<_>>(), [0, 1], "the old extents 2 and 3 are gone");
        d.evict_clean(0..0);
        let read = disk.read(&mut d, 0, 4 * EXTENT, &account);
        assert_eq!(read[..cut], pattern(4 * EXTENT, 9)[..cut]);
        assert!(read[cut..].iter().all(|&b| b == 0));
    }

    #[test]
    fn a_page_in_begun_before_a_cut_is_not_installed() {
        let mut disk = Disk::default();
        let account = free();
        let mut d = FileData::paged(4);
        d.write_at(0, &pattern(2 * EXTENT, 5), &account).unwrap();
        disk.write_out(&mut d);
        d.evict_clean(0..0);
        let stale = d.missing(EXTENT, 1).unwrap();
        d.truncate(0);
        d.truncate(2 * EXTENT);
        d.install(stale, disk.extents.get(&1).map(|v| &v[..]), &account).unwrap();
        assert!(disk.read(&mut d, 0, 2 * EXTENT, &account).iter().all(|&b| b == 0));
    }

    #[test]
    fn an_append_to_a_stored_extent_brings_it_back_first() {
        let mut disk = Disk::default();
        let account = free();
        let mut d = FileData::paged(6);
        d.write_at(0, b"x\n", &account).unwrap();
        disk.write_out(&mut d);
        d.evict_clean(0..0);
        let page = d.missing(2, 2).expect("the extent the end is in must come back");
        d.install(page, disk.extents.get(&0).map(|v| &v[..]), &account).unwrap();
        d.write_at(2, b"y\n", &account).unwrap();
        assert_eq!(disk.read(&mut d, 0, 4, &account), b"x\ny\n");
        assert_eq!(d.missing(100, 10), None, "past the stored extents nothing is missing");
    }

    #[test]
    fn a_write_during_a_write_out_stays_dirty() {
        let mut disk = Disk::default();
        let account = free();
        let mut d = FileData::paged(5);
        d.write_at(0, b"first", &account).unwrap();
        let s = d.snapshot().unwrap().unwrap();
        d.write_at(0, b"again", &account).unwrap();
        assert_eq!(d.written(&s), 0, "changed since the snapshot: still dirty");
        assert_eq!(d.evict_clean(0..0), 0);
        assert_eq!(disk.write_out(&mut d), -1);
        d.evict_clean(0..0);
        assert_eq!(disk.read(&mut d, 0, 5, &account), b"again");
    }
}
