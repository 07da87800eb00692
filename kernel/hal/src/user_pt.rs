//! User address spaces' page tables.
//!
//! A [`UserPageTable`] maps pages of user space to frames it holds references to, so a
//! mapped frame can never be freed while user code can reach it. The kernel half of
//! every user page table is the kernel's own (its PML4 entries 256..512 are copied at
//! creation; the PDPTs behind them are shared and created at boot).

use crate::layout::{PAGE_SIZE, USER_END};
use crate::mm::{Frame, MapError, kernel_pml4, phys_offset};
use alloc::collections::BTreeMap;
use alloc::sync::Arc;
use alloc::vec::Vec;
use x86_64::registers::control::Cr3;
use x86_64::structures::paging::mapper::MapToError;
use x86_64::structures::paging::{
    FrameAllocator, Mapper, OffsetPageTable, Page, PageTable, PageTableFlags as Flags, PhysFrame, Size4KiB,
};
use x86_64::{PhysAddr, VirtAddr};

/// Something that owns a frame and can be mapped into user space (a plain [`Frame`],
/// or the kernel's frame with its memory charge).
pub trait AsFrame: Send + Sync + 'static {
    /// The frame.
    fn frame(&self) -> &Frame;
}

impl AsFrame for Frame {
    fn frame(&self) -> &Frame {
        self
    }
}

/// Access rights of a user page. x86 cannot make a present page writable or
/// executable but unreadable, so `read` only matters when the other two are off: such
/// a page keeps its contents but user code cannot touch it (PROT_NONE).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserFlags {
    /// Readable.
    pub read: bool,
    /// Writable.
    pub write: bool,
    /// Executable.
    pub exec: bool,
}

impl UserFlags {
    fn to_flags(self) -> Flags {
        let mut f = Flags::PRESENT;
        if self.read || self.write || self.exec {
            f |= Flags::USER_ACCESSIBLE;
        }
        if self.write {
            f |= Flags::WRITABLE;
        }
        if !self.exec {
            f |= Flags::NO_EXECUTE;
        }
        f
    }
}

/// What a user page table's own memory is charged to (the container whose address
/// space it is): its table frames, and each mapped page's entry in the lookup map.
pub trait TableBudget: Send + Sync {
    /// Takes `bytes`; false if that is refused.
    fn charge(&self, bytes: u64) -> bool;
    /// Gives `bytes` back.
    fn uncharge(&self, bytes: u64);
}

/// What each mapped page costs the table besides its frame: its node in the lookup
/// map (a shared page costs every table that maps it this much).
pub const ENTRY_COST: u64 = 64;

/// A user address space's page table. Beside the hardware tables it keeps each mapped
/// page's frame and rights in a map, which is what lookups read. Its own memory (table
/// frames, map entries) is charged to its budget before it is taken.
pub struct UserPageTable<F: AsFrame> {
    pml4: Frame,
    pages: BTreeMap<u64, (Arc<F>, UserFlags)>,
    /// Other CPUs may still translate through entries taken away since the last
    /// [`UserPageTable::flush_remote`]; the frames those entries pointed to are kept
    /// here until then, so nothing can reach a frame after it is freed.
    remote_stale: bool,
    kept: Vec<Arc<F>>,
    budget: Arc<dyn TableBudget>,
    /// Bytes charged to `budget`, given back when the table is dropped.
    charged: u64,
}

/// Table frames for one mapping, each charged to the table's budget first.
struct TableFrames<'a> {
    budget: &'a dyn TableBudget,
    charged: &'a mut u64,
}

// SAFETY: frames come from the pool, zeroed, each handed out once; page-table frames
// are owned by the table and freed in `Drop`.
unsafe impl FrameAllocator<Size4KiB> for TableFrames<'_> {
    fn allocate_frame(&mut self) -> Option<PhysFrame<Size4KiB>> {
        if !self.budget.charge(PAGE_SIZE) {
            return None;
        }
        let Some(frame) = Frame::alloc() else {
            self.budget.uncharge(PAGE_SIZE);
            return None;
        };
        *self.charged += PAGE_SIZE;
        let phys = frame.phys();
        core::mem::forget(frame); // owned by the page table from here on
        Some(PhysFrame::containing_address(PhysAddr::new(phys)))
    }
}

impl<F: AsFrame> UserPageTable<F> {
    /// An empty user space sharing the kernel half, its memory charged to `budget`.
    pub fn new(budget: Arc<dyn TableBudget>) -> Result<UserPageTable<F>, MapError> {
        if !budget.charge(PAGE_SIZE) {
            return Err(MapError::OutOfMemory);
        }
        let Some(mut pml4) = Frame::alloc() else {
            budget.uncharge(PAGE_SIZE);
            return Err(MapError::OutOfMemory);
        };
        let mut kernel_half = [0u8; 2048];
        kernel_pml4().read(2048, &mut kernel_half);
        pml4.write(2048, &kernel_half);
        Ok(UserPageTable {
            pml4,
            pages: BTreeMap::new(),
            remote_stale: false,
            kept: Vec::new(),
            budget,
            charged: PAGE_SIZE,
        })
    }

    fn mapper(&mut self) -> OffsetPageTable<'_> {
        let offset = phys_offset();
        // SAFETY: the PML4 frame is owned by `self` (borrowed mutably for the mapper's
        // lifetime) and lies in the direct map like every page-table frame.
        unsafe { OffsetPageTable::new(&mut *((offset + self.pml4.phys()) as *mut PageTable), VirtAddr::new(offset)) }
    }

    fn check(virt: u64) -> Result<Page<Size4KiB>, MapError> {
        if !virt.is_multiple_of(PAGE_SIZE) || virt >= USER_END {
            return Err(MapError::AlreadyMapped(virt));
        }
        Ok(Page::containing_address(VirtAddr::new(virt)))
    }

    /// Maps the page at `virt` to `page`'s frame; returns the frame it replaces.
    pub fn map(&mut self, virt: u64, page: Arc<F>, flags: UserFlags) -> Result<Option<Arc<F>>, MapError> {
        let p = Self::check(virt)?;
        // Replacing a mapping (copy-on-write) must flush the old translation; a new
        // one needs no flush, since x86 never caches not-present entries.
        let old = if self.pages.contains_key(&virt) { self.unmap(virt) } else { None };
        if !self.budget.charge(ENTRY_COST) {
            return Err(MapError::OutOfMemory);
        }
        let frame = PhysFrame::containing_address(PhysAddr::new(page.frame().phys()));
        // Intermediate tables grant everything; a page's own entry sets its rights, so
        // a page mapped read-only (copy-on-write) can later be made writable.
        let tables = Flags::PRESENT | Flags::WRITABLE | Flags::USER_ACCESSIBLE;
        // SAFETY: `page` owns the frame and is kept in `pages` for as long as the
        // mapping exists; `virt` is a user address, so no kernel mapping changes.
        let result = {
            let offset = phys_offset();
            // SAFETY: as in `mapper` (the table's frames are borrowed through `self`
            // alone for this call).
            let mut mapper = unsafe {
                OffsetPageTable::new(&mut *((offset + self.pml4.phys()) as *mut PageTable), VirtAddr::new(offset))
            };
            let mut frames = TableFrames { budget: &*self.budget, charged: &mut self.charged };
            // SAFETY: (of the mapping) see above.
            unsafe { mapper.map_to_with_table_flags(p, frame, flags.to_flags(), tables, &mut frames) }
        };
        let error = match result {
            Ok(flush) => {
                flush.ignore();
                None
            }
            Err(MapToError::FrameAllocationFailed) => Some(MapError::OutOfMemory),
            Err(_) => Some(MapError::AlreadyMapped(virt)),
        };
        if let Some(e) = error {
            self.budget.uncharge(ENTRY_COST);
            return Err(e);
        }
        self.charged += ENTRY_COST;
        self.pages.insert(virt, (page, flags));
        Ok(old)
    }

    /// Unmaps the page at `virt`; returns its frame.
    pub fn unmap(&mut self, virt: u64) -> Option<Arc<F>> {
        let p = Self::check(virt).ok()?;
        let (page, _) = self.pages.remove(&virt)?;
        if let Ok((_, flush)) = self.mapper().unmap(p) {
            flush.flush();
        }
        if self.note_taken_away() {
            self.kept.push(page.clone());
        }
        self.charged -= ENTRY_COST;
        self.budget.uncharge(ENTRY_COST);
        Some(page)
    }

    /// After a translation was taken away (and flushed here): notes whether another
    /// CPU has the table loaded, and so may still use it; true if so.
    fn note_taken_away(&mut self) -> bool {
        if crate::tlb::others_using(self.pml4.phys()) != 0 {
            self.remote_stale = true;
        }
        self.remote_stale
    }

    /// Makes the other CPUs that have this table loaded drop translations taken away
    /// since the last call, then lets go of the frames those pointed to. Call after
    /// each change of the address space (one shootdown for many pages); nothing is
    /// sent when no other CPU has the table loaded.
    pub fn flush_remote(&mut self) {
        if self.remote_stale {
            crate::tlb::shootdown_cpus(crate::tlb::others_using(self.pml4.phys()));
            self.remote_stale = false;
        }
        self.kept.clear();
    }

    /// Changes the access rights of a mapped page; false if it is not mapped.
    pub fn set_flags(&mut self, virt: u64, flags: UserFlags) -> bool {
        let Ok(p) = Self::check(virt) else { return false };
        let reduced = match self.pages.get_mut(&virt) {
            Some((_, current)) if *current == flags => return true,
            Some((_, current)) => {
                let readable = |f: UserFlags| f.read || f.write || f.exec;
                let reduced = (current.write && !flags.write)
                    || (current.exec && !flags.exec)
                    || (readable(*current) && !readable(flags));
                *current = flags;
                reduced
            }
            None => return false,
        };
        // SAFETY: only the rights of a user page this table owns change.
        match unsafe { self.mapper().update_flags(p, flags.to_flags()) } {
            Ok(flush) => {
                flush.flush();
                // A CPU holding the old, wider rights must lose them; one holding
                // narrower rights faults and finds the new ones.
                if reduced {
                    self.note_taken_away();
                }
                true
            }
            Err(_) => false,
        }
    }

    /// The frame mapped at `virt` and its rights.
    pub fn get(&self, virt: u64) -> Option<(Arc<F>, UserFlags)> {
        self.pages.get(&virt).map(|(page, flags)| (page.clone(), *flags))
    }

    /// The mapped pages in `[start, end)`, in address order.
    pub fn pages_in(&self, start: u64, end: u64) -> impl Iterator<Item = (u64, &Arc<F>)> {
        self.pages.range(start..end).map(|(&v, (p, _))| (v, p))
    }

    /// Number of mapped pages.
    pub fn mapped_pages(&self) -> usize {
        self.pages.len()
    }

    /// Makes this the address space the CPU translates through.
    pub fn activate(&self) {
        if !self.is_active() {
            // SAFETY: the table maps the kernel half exactly as every other table does,
            // so the running kernel code, stack and data stay mapped.
            unsafe { crate::tlb::load_table(self.pml4.phys(), true) };
        }
    }

    /// Whether the CPU translates through this table now.
    pub fn is_active(&self) -> bool {
        Cr3::read().0.start_address().as_u64() == self.pml4.phys()
    }
}

impl<F: AsFrame> Drop for UserPageTable<F> {
    fn drop(&mut self) {
        if self.is_active() {
            // SAFETY: the kernel's own table maps everything the kernel uses.
            unsafe { crate::tlb::load_table(kernel_pml4().phys(), false) };
        }
        // Another CPU may still be switching away from it (a thread of this process
        // that exited there a moment ago): its tables stay until it is done.
        while crate::tlb::others_using(self.pml4.phys()) != 0 {
            core::hint::spin_loop();
        }
        // Free the user half's page-table frames (levels 3, 2 and 1); the leaf frames
        // are released with `pages`.
        let offset = phys_offset();
        let table = |phys: u64| {
            // SAFETY: page-table frames of this table, reached through the direct map;
            // no mapper is alive.
            unsafe { &*((offset + phys) as *const PageTable) }
        };
        let l4 = table(self.pml4.phys());
        for e4 in l4.iter().take(256).filter(|e| !e.is_unused()) {
            let l3 = table(e4.addr().as_u64());
            for e3 in l3.iter().filter(|e| !e.is_unused()) {
                let l2 = table(e3.addr().as_u64());
                for e2 in l2.iter().filter(|e| !e.is_unused()) {
                    crate::mm::release_table_frame(e2.addr().as_u64());
                }
                crate::mm::release_table_frame(e3.addr().as_u64());
            }
            crate::mm::release_table_frame(e4.addr().as_u64());
        }
        self.budget.uncharge(self.charged);
    }
}
