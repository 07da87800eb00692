//! A container's pid namespace.

use crate::proc::Process;
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;

pub use crate::param::PID_MAX;

/// Pids (and thread ids) in use in one container.
pub struct PidNamespace {
    /// Every id in use, with its process if it names one.
    used: BTreeMap<u32, Weak<Process>>,
    next: u32,
    limit: u32,
}

impl PidNamespace {
    /// An empty namespace allowing `limit` ids at once.
    pub fn new(limit: u32) -> PidNamespace {
        PidNamespace { used: BTreeMap::new(), next: 1, limit: limit.clamp(1, crate::param::PID_MAX - 1) }
    }

    /// A free id, or `None` at the limit.
    pub fn alloc(&mut self) -> Option<u32> {
        if self.used.len() >= self.limit as usize {
            return None;
        }
        loop {
            let id = self.next;
            self.next = if self.next >= crate::param::PID_MAX { 2 } else { self.next + 1 };
            if let alloc::collections::btree_map::Entry::Vacant(slot) = self.used.entry(id) {
                slot.insert(Weak::new());
                return Some(id);
            }
        }
    }

    /// Frees an id; returns its process if it still exists.
    pub fn release(&mut self, id: u32) -> Option<Arc<Process>> {
        self.used.remove(&id).and_then(|w| w.upgrade())
    }

    /// Records the process named by `id`.
    pub fn register(&mut self, id: u32, process: &Arc<Process>) {
        self.used.insert(id, Arc::downgrade(process));
    }

    /// The process named `id`.
    pub fn get(&self, id: u32) -> Option<Arc<Process>> {
        self.used.get(&id).and_then(Weak::upgrade).filter(|p| p.pid == id)
    }

    /// Every live process.
    pub fn all(&self) -> Vec<Arc<Process>> {
        self.used.iter().filter_map(|(&id, w)| w.upgrade().filter(|p| p.pid == id)).collect()
    }

    /// Ids in use.
    pub fn in_use(&self) -> usize {
        self.used.len()
    }
}
