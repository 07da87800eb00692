//! Memory accounting: every page a container's programs use, and every byte its file
//! system writes, is charged to the container's counter, which enforces its limit.
//!
//! A counter that pays for paged trees (a stored container's files, a volume's) drops
//! their clean data from memory when full, before refusing: the data is on the disk
//! and comes back when read, as Linux reclaims a cgroup's page cache before it calls
//! the OOM killer. When the machine-wide limit is what refuses, every paged tree's
//! clean data may go.

use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use berth_hal::mm::Frame;
use berth_hal::user_pt::AsFrame;
use berth_vfs::Filesystem;
use core::sync::atomic::{AtomicU64, Ordering};

/// Bytes in use against a limit. Container counters also charge the machine-wide
/// counter of memory for containers, which keeps a reserve for the kernel itself.
#[derive(Debug)]
pub struct MemoryCounter {
    used: AtomicU64,
    peak: AtomicU64,
    limit: u64,
    parent: Option<&'static MemoryCounter>,
    /// The paged trees it pays for.
    trees: Trees,
}

/// Paged trees whose clean data may leave memory to make room.
#[derive(Default)]
struct Trees(spin::Mutex<Vec<Weak<Filesystem>>>);

impl core::fmt::Debug for Trees {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "{} paged tree(s)", self.0.lock().len())
    }
}

impl Trees {
    /// Adds `tree`, forgetting those gone.
    fn add(&self, tree: &Arc<Filesystem>) {
        let mut trees = self.0.lock();
        trees.retain(|t| t.strong_count() > 0);
        trees.push(Arc::downgrade(tree));
    }

    /// Drops clean data of its trees until `want` bytes are freed; the bytes freed.
    fn reclaim(&self, want: u64) -> u64 {
        // Out of the lock first: the last reference to a tree may go in the loop.
        let trees: Vec<Arc<Filesystem>> = self.0.lock().iter().filter_map(Weak::upgrade).collect();
        let mut freed = 0;
        for tree in trees {
            if freed >= want {
                break;
            }
            freed += tree.evict_clean(want - freed);
        }
        freed
    }
}

/// Every paged tree (for when the machine-wide limit refuses).
static ALL_TREES: Trees = Trees(spin::Mutex::new(Vec::new()));

/// Memory all containers together may use: set at boot to RAM minus a reserve for
/// the kernel, so no container can starve the kernel's own allocations.
static ALL_CONTAINERS: spin::Once<MemoryCounter> = spin::Once::new();

/// Sets the machine-wide limit for container memory.
pub fn init_container_memory(limit: u64) {
    ALL_CONTAINERS.call_once(|| MemoryCounter::new(limit));
}

/// Memory used by all containers together, and the limit.
pub fn container_memory() -> (u64, u64) {
    ALL_CONTAINERS.get().map_or((0, 0), |c| (c.used(), c.limit()))
}

impl MemoryCounter {
    /// A counter with a limit in bytes (`u64::MAX` for none).
    pub fn new(limit: u64) -> MemoryCounter {
        MemoryCounter { used: AtomicU64::new(0), peak: AtomicU64::new(0), limit, parent: None, trees: Trees::default() }
    }

    /// A container's counter, which also charges the machine-wide one.
    pub fn for_container(limit: u64) -> MemoryCounter {
        MemoryCounter { parent: ALL_CONTAINERS.get(), ..MemoryCounter::new(limit) }
    }

    /// Notes that it pays for the paged tree `tree`, whose clean data may leave memory
    /// when the counter is full.
    pub fn pays_for(&self, tree: &Arc<Filesystem>) {
        self.trees.add(tree);
        ALL_TREES.add(tree);
    }

    /// Takes `bytes` if that stays within the limit (and the machine-wide one), first
    /// dropping clean paged data if it does not.
    pub fn try_charge(&self, bytes: u64) -> bool {
        if self.charge_once(bytes) {
            return true;
        }
        // Its own trees' clean data first; then, if the machine is what is full, any's.
        let mut freed = self.trees.reclaim(bytes);
        if freed < bytes && self.parent.is_some_and(|p| p.available() < bytes) {
            freed += ALL_TREES.reclaim(bytes - freed);
        }
        freed > 0 && self.charge_once(bytes)
    }

    fn charge_once(&self, bytes: u64) -> bool {
        if let Some(parent) = self.parent
            && !parent.try_charge(bytes)
        {
            return false;
        }
        if !self.charge_self(bytes) {
            if let Some(parent) = self.parent {
                parent.uncharge(bytes);
            }
            return false;
        }
        true
    }

    fn charge_self(&self, bytes: u64) -> bool {
        let mut used = self.used.load(Ordering::Relaxed);
        loop {
            let new = used.saturating_add(bytes);
            if new > self.limit {
                return false;
            }
            match self.used.compare_exchange_weak(used, new, Ordering::Relaxed, Ordering::Relaxed) {
                Ok(_) => {
                    self.peak.fetch_max(new, Ordering::Relaxed);
                    return true;
                }
                Err(now) => used = now,
            }
        }
    }

    /// Gives `bytes` back.
    pub fn uncharge(&self, bytes: u64) {
        self.used.fetch_sub(bytes, Ordering::Relaxed);
        if let Some(parent) = self.parent {
            parent.uncharge(bytes);
        }
    }

    /// Bytes in use.
    pub fn used(&self) -> u64 {
        self.used.load(Ordering::Relaxed)
    }

    /// The most ever in use.
    pub fn peak(&self) -> u64 {
        self.peak.load(Ordering::Relaxed)
    }

    /// The limit (`u64::MAX` if none).
    pub fn limit(&self) -> u64 {
        self.limit
    }

    /// Bytes that could still be charged: what is left under this limit and under the
    /// machine-wide one it is part of.
    pub fn available(&self) -> u64 {
        let own = self.limit.saturating_sub(self.used());
        self.parent.map_or(own, |p| own.min(p.available()))
    }
}

impl berth_vfs::Budget for MemoryCounter {
    fn charge(&self, bytes: u64) -> bool {
        self.try_charge(bytes)
    }

    /// Below an eighth of the limit left (of the machine's, if less; at most 32 MiB):
    /// enough to get twice that back.
    fn shortfall(&self) -> u64 {
        let limit = self.parent.map_or(self.limit, |p| p.limit.min(self.limit));
        let low = (limit / 8).min(32 << 20);
        let room = self.available();
        if room < low { 2 * low - room } else { 0 }
    }

    fn uncharge(&self, bytes: u64) {
        MemoryCounter::uncharge(self, bytes);
    }
}

impl berth_hal::user_pt::TableBudget for MemoryCounter {
    fn charge(&self, bytes: u64) -> bool {
        self.try_charge(bytes)
    }

    fn uncharge(&self, bytes: u64) {
        MemoryCounter::uncharge(self, bytes);
    }
}

/// Bytes charged to a memory counter, given back when dropped: what an object the
/// kernel keeps for a container (a thread, a buffer, a mapping's copy) holds to pay
/// for itself.
#[derive(Debug)]
pub struct Charge {
    counter: Arc<MemoryCounter>,
    bytes: u64,
}

impl Charge {
    /// Charges `bytes` to `counter`; `None` if that is over its limit.
    pub fn new(counter: &Arc<MemoryCounter>, bytes: u64) -> Option<Charge> {
        counter.try_charge(bytes).then(|| Charge { counter: counter.clone(), bytes })
    }

    /// Charges `bytes` to `counter` if there is one (the kernel's own objects have
    /// none and use its reserve); `None` if refused.
    pub fn maybe(counter: Option<&Arc<MemoryCounter>>, bytes: u64) -> Option<Option<Charge>> {
        match counter {
            Some(c) => Charge::new(c, bytes).map(Some),
            None => Some(None),
        }
    }
}

impl Drop for Charge {
    fn drop(&mut self) {
        self.counter.uncharge(self.bytes);
    }
}

/// A page of user memory: a frame charged to a container.
#[derive(Debug)]
pub struct UserPage {
    frame: Frame,
    counter: Arc<MemoryCounter>,
}

impl UserPage {
    /// A zeroed page charged to `counter`; `None` over the limit or out of memory.
    pub fn zeroed(counter: &Arc<MemoryCounter>) -> Option<Arc<UserPage>> {
        if !counter.try_charge(4096) {
            return None;
        }
        match Frame::alloc() {
            Some(frame) => Some(Arc::new(UserPage { frame, counter: counter.clone() })),
            None => {
                counter.uncharge(4096);
                None
            }
        }
    }

    /// A copy of `other`, charged to `counter`.
    pub fn copy_of(other: &UserPage, counter: &Arc<MemoryCounter>) -> Option<Arc<UserPage>> {
        let mut page = UserPage::zeroed(counter)?;
        Arc::get_mut(&mut page).expect("fresh page").frame.copy_from(&other.frame);
        Some(page)
    }

    /// Writes into a page nobody else holds yet.
    pub fn fill(page: &mut Arc<UserPage>, offset: usize, bytes: &[u8]) {
        if let Some(p) = Arc::get_mut(page) {
            p.frame.write(offset, bytes);
        }
    }

    /// Writes into a mapped page (after a write fault made it private to one address
    /// space).
    pub fn write(&self, offset: usize, bytes: &[u8]) {
        self.frame.write_mapped(offset, bytes);
    }
}

impl AsFrame for UserPage {
    fn frame(&self) -> &Frame {
        &self.frame
    }
}

impl Drop for UserPage {
    fn drop(&mut self) {
        self.counter.uncharge(4096);
    }
}
