//! Spaces: what allocates a tree's inode numbers, pays for what the tree holds, and
//! counts its changes; for a paged tree, also where its files' data goes when memory
//! is short.
//!
//! A container's file system is one space. A volume, mounted into several containers,
//! is another: what any container writes into it belongs to the volume (charged to the
//! volume's budget, numbered by the volume), and stays when the container goes.

use crate::inode::{Budget, Inode};
use crate::{FsError, Result};
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use core::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use spin::Mutex;

/// Where a paged tree's file data is kept while not in memory: what its last
/// write-out left there, extent by extent (see [`Filesystem::write_out`]).
///
/// [`Filesystem::write_out`]: crate::Filesystem::write_out
pub trait Pager: Send + Sync {
    /// The bytes of extent `extent` of file `file` as last written out, or `None` if
    /// none were (a hole). It may wait for a disk: it is called with no lock held.
    fn read(&self, file: u64, extent: u64) -> Result<Option<Vec<u8>>>;
}

/// How a tree is paged.
pub struct Paging {
    /// Where its data goes.
    pub pager: Arc<dyn Pager>,
    /// The next file id to give (past every id the pager holds).
    pub next_file: u64,
    /// Dirty extents past which the tree asks to be written out
    /// ([`crate::Inode::wants_write_out`]).
    pub dirty_limit: u64,
    /// The most bytes its files may hold in all (their lengths), if limited.
    pub quota: Option<u64>,
}

/// The inode numbers, budget and change count of one tree.
pub(crate) struct Space {
    next_ino: AtomicU64,
    budget: Option<Arc<dyn Budget>>,
    /// Bumped by every change to a file's data, a directory's entries or metadata.
    changes: AtomicU64,
    /// Set for a paged tree.
    paged: Option<Paged>,
}

/// The paging state of a space.
pub(crate) struct Paged {
    pub pager: Arc<dyn Pager>,
    next_file: AtomicU64,
    dirty_limit: u64,
    quota: Option<u64>,
    /// Its live regular files by inode number: those a write-out covers and eviction
    /// may take from.
    files: Mutex<BTreeMap<u64, Weak<Inode>>>,
    /// Files brought back from the pager, by file id: a second name of one finds the
    /// first's inode.
    restored: Mutex<BTreeMap<u64, Weak<Inode>>>,
    /// Dirty extents in all its files.
    dirty: AtomicI64,
    /// Bytes its files hold (their lengths).
    bytes: AtomicU64,
    /// Where the next eviction starts looking (by file id), so that it goes round.
    hand: AtomicU64,
}

impl Space {
    /// A space whose next inode number is `first_ino`.
    pub fn new(first_ino: u64, budget: Option<Arc<dyn Budget>>, paging: Option<Paging>) -> Space {
        let paged = paging.map(|p| Paged {
            pager: p.pager,
            next_file: AtomicU64::new(p.next_file),
            dirty_limit: p.dirty_limit,
            quota: p.quota,
            files: Mutex::new(BTreeMap::new()),
            restored: Mutex::new(BTreeMap::new()),
            dirty: AtomicI64::new(0),
            bytes: AtomicU64::new(0),
            hand: AtomicU64::new(0),
        });
        Space { next_ino: AtomicU64::new(first_ino), budget, changes: AtomicU64::new(0), paged }
    }

    /// A fresh inode number.
    pub fn next_ino(&self) -> u64 {
        self.next_ino.fetch_add(1, Ordering::Relaxed)
    }

    /// Takes `bytes` from the budget; false if it has not that much left.
    pub fn charge(&self, bytes: u64) -> bool {
        self.budget.as_ref().is_none_or(|b| b.charge(bytes))
    }

    /// Gives `bytes` back to the budget.
    pub fn uncharge(&self, bytes: u64) {
        if let Some(b) = &self.budget {
            b.uncharge(bytes);
        }
    }

    /// Bytes to free to be comfortably within the budget.
    pub fn shortfall(&self) -> u64 {
        self.budget.as_ref().map_or(0, |b| b.shortfall())
    }

    /// Notes a change.
    pub fn changed(&self) {
        self.changes.fetch_add(1, Ordering::Relaxed);
    }

    /// Changes so far.
    pub fn changes(&self) -> u64 {
        self.changes.load(Ordering::Relaxed)
    }

    /// The paging state, for a paged tree.
    pub fn paged(&self) -> Option<&Paged> {
        self.paged.as_ref()
    }
}

impl Paged {
    /// A fresh file id.
    pub fn next_file(&self) -> u64 {
        self.next_file.fetch_add(1, Ordering::Relaxed)
    }

    /// The next id that would be given.
    pub fn peek_next_file(&self) -> u64 {
        self.next_file.load(Ordering::Relaxed)
    }

    /// Notes a live regular file; `restored`: its id, if brought back from the pager.
    pub fn register(&self, inode: &Arc<Inode>, restored: Option<u64>) {
        self.files.lock().insert(inode.ino(), Arc::downgrade(inode));
        if let Some(id) = restored {
            self.restored.lock().insert(id, Arc::downgrade(inode));
        }
    }

    /// Forgets a file that is gone.
    pub fn unregister(&self, ino: u64, restored: Option<u64>) {
        self.files.lock().remove(&ino);
        if let Some(id) = restored {
            self.restored.lock().remove(&id);
        }
    }

    /// The live file brought back from the pager under `id`.
    pub fn restored(&self, id: u64) -> Option<Arc<Inode>> {
        self.restored.lock().get(&id).and_then(Weak::upgrade)
    }

    /// Every live file.
    pub fn live_files(&self) -> Vec<Arc<Inode>> {
        self.files.lock().values().filter_map(Weak::upgrade).collect()
    }

    /// Adds `delta` to the count of dirty extents.
    pub fn add_dirty(&self, delta: i64) {
        if delta != 0 {
            self.dirty.fetch_add(delta, Ordering::Relaxed);
        }
    }

    /// Whether the dirty extents are past the limit.
    pub fn over_dirty_limit(&self) -> bool {
        self.dirty.load(Ordering::Relaxed) > self.dirty_limit as i64
    }

    /// Dirty extents.
    pub fn dirty(&self) -> u64 {
        self.dirty.load(Ordering::Relaxed).max(0) as u64
    }

    /// Makes room for `grow` more bytes of file length; `NoSpace` past the quota.
    pub fn grow(&self, grow: u64) -> Result<()> {
        let Some(quota) = self.quota else {
            self.bytes.fetch_add(grow, Ordering::Relaxed);
            return Ok(());
        };
        self.bytes
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| b.checked_add(grow).filter(|&n| n <= quota))
            .map(|_| ())
            .map_err(|_| FsError::NoSpace)
    }

    /// Counts `grow` more bytes of file length, quota or not (a restored file's).
    pub fn grow_unchecked(&self, grow: u64) {
        self.bytes.fetch_add(grow, Ordering::Relaxed);
    }

    /// Gives back `shrink` bytes of file length.
    pub fn shrink(&self, shrink: u64) {
        let _ = self.bytes.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |b| Some(b.saturating_sub(shrink)));
    }

    /// Drops clean extents of files other than `except` (those whose data another
    /// thread holds are passed over) until `want` bytes are freed or none are left;
    /// returns the bytes freed, already given back to the space's budget.
    pub fn evict(&self, space: &Space, want: u64, except: Option<&Inode>) -> u64 {
        // Take the files out of the map first: the last reference to one may go in
        // this loop, and its drop takes the map's lock.
        let start = self.hand.load(Ordering::Relaxed);
        let files: Vec<(u64, Arc<Inode>)> = {
            let map = self.files.lock();
            let after = map.range(start..).chain(map.range(..start));
            after.filter_map(|(&id, w)| w.upgrade().map(|i| (id, i))).collect()
        };
        let mut freed = 0;
        for (id, inode) in files {
            if freed >= want {
                self.hand.store(id, Ordering::Relaxed);
                break;
            }
            if except.is_some_and(|e| core::ptr::eq(&*inode, e)) {
                continue;
            }
            freed += inode.evict_clean();
        }
        space.uncharge(freed);
        freed
    }
}
