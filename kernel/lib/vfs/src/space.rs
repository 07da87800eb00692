//! Spaces: what allocates a tree's inode numbers, pays for what the tree holds, and
//! counts its changes.
//!
//! A container's file system is one space. A volume, mounted into several containers,
//! is another: what any container writes into it belongs to the volume (charged to the
//! volume's budget, numbered by the volume), and stays when the container goes.

use crate::inode::Budget;
use alloc::sync::Arc;
use core::sync::atomic::{AtomicU64, Ordering};

/// The inode numbers, budget and change count of one tree.
pub(crate) struct Space {
    next_ino: AtomicU64,
    budget: Option<Arc<dyn Budget>>,
    /// Bumped by every change to a file's data, a directory's entries or metadata.
    changes: AtomicU64,
}

impl Space {
    /// A space whose next inode number is `first_ino`.
    pub fn new(first_ino: u64, budget: Option<Arc<dyn Budget>>) -> Space {
        Space { next_ino: AtomicU64::new(first_ino), budget, changes: AtomicU64::new(0) }
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

    /// Notes a change.
    pub fn changed(&self) {
        self.changes.fetch_add(1, Ordering::Relaxed);
    }

    /// Changes so far.
    pub fn changes(&self) -> u64 {
        self.changes.load(Ordering::Relaxed)
    }
}
