//! User address spaces: regions (VMAs), demand paging and copy-on-write.
//!
//! Nothing is mapped until touched. A page fault finds the region, checks the access
//! against its protection and fills the page: zeros for anonymous memory, bytes of
//! the file (zero past the file part) for file regions. `fork` shares every private
//! page read-only between parent and child; the first write to a shared page copies
//! it, unless the writer holds the only reference.

use super::{MemoryCounter, UserPage};
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use berth_hal::layout::{PAGE_SIZE, USER_END};
use berth_hal::user_pt::{UserFlags, UserPageTable};
use berth_regions::RegionMap;

/// Lowest address user mappings may use (Linux's default `mmap_min_addr`).
pub const USER_START: u64 = 0x1_0000;
/// Where `mmap` starts looking for room, downwards (below the stack).
pub const MMAP_TOP: u64 = 0x7f00_0000_0000;

/// Access rights of a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Prot {
    /// Readable.
    pub read: bool,
    /// Writable.
    pub write: bool,
    /// Executable.
    pub exec: bool,
}

/// What an access that faulted was trying to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// A load.
    Read,
    /// A store.
    Write,
    /// An instruction fetch.
    Execute,
}

/// Why a fault could not be resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Nothing is mapped there (SIGSEGV, SEGV_MAPERR).
    Unmapped,
    /// The region forbids the access (SIGSEGV, SEGV_ACCERR).
    Protection,
    /// No memory for the page: the container's limit or the machine's (the process
    /// is killed).
    OutOfMemory,
}

/// Why a mapping request failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapError {
    /// No room in the address space, or over the memory limit (ENOMEM).
    NoMemory,
    /// A bad address, length or combination (EINVAL).
    Invalid,
    /// The fixed range is in use (EEXIST, for MAP_FIXED_NOREPLACE).
    Exists,
}

/// The pages of a shared mapping (`MAP_SHARED`), by page index: one memory for every
/// process that maps it, each page created as first touched (zeros, or the file's
/// bytes for a file) and alive while any of them maps it.
#[derive(Default)]
pub struct SharedPages {
    pages: spin::Mutex<BTreeMap<u64, Arc<UserPage>>>,
    /// The file bytes its pages start as (page `i` from byte `i * PAGE_SIZE`; zeros past
    /// them); none for anonymous memory.
    source: Option<Arc<[u8]>>,
    /// What a copy of a file the container wrote is charged, while mapped.
    _charge: Option<Arc<super::Charge>>,
}

impl core::fmt::Debug for SharedPages {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "SharedPages({} made)", self.pages.lock().len())
    }
}

impl SharedPages {
    /// The pages of a file's shared mappings, starting as `file`'s bytes.
    pub fn of_file(file: super::FileBytes) -> SharedPages {
        SharedPages { pages: spin::Mutex::new(BTreeMap::new()), source: Some(file.data), _charge: file.charge }
    }

    /// Page `index`, made (charged to `counter`) if nobody touched it yet; `None` when
    /// it cannot be paid for.
    fn page(&self, index: u64, counter: &Arc<MemoryCounter>) -> Option<Arc<UserPage>> {
        let mut pages = self.pages.lock();
        if let Some(page) = pages.get(&index) {
            return Some(page.clone());
        }
        let mut page = UserPage::zeroed(counter)?;
        let from = index.saturating_mul(PAGE_SIZE);
        if let Some(bytes) = self.source.as_ref().and_then(|s| s.get(from as usize..))
            && !bytes.is_empty()
        {
            UserPage::fill(&mut page, 0, &bytes[..bytes.len().min(PAGE_SIZE as usize)]);
        }
        pages.insert(index, page.clone());
        Some(page)
    }
}

/// Where a region's bytes come from.
#[derive(Debug, Clone)]
pub enum VmaKind {
    /// Zero-filled memory.
    Anon,
    /// Memory shared by every process that maps it (`MAP_SHARED` of anonymous memory or
    /// of a file): the page at `vma.start` is page `first` of `pages`.
    Shared {
        /// The pages.
        pages: Arc<SharedPages>,
        /// Index of the region's first page.
        first: u64,
    },
    /// A private (`MAP_PRIVATE`) copy of file bytes: the page at `vma.start` holds `data[offset..]`,
    /// for `file_len` bytes; beyond them the region reads as zeros.
    File {
        /// The file's contents.
        data: Arc<[u8]>,
        /// File offset of `vma.start` (a multiple of the page size).
        offset: u64,
        /// Bytes from `vma.start` that come from the file.
        file_len: u64,
        /// The bytes are an image's: pages read before they are written come from
        /// the shared page cache.
        cached: bool,
        /// What a copy of a file the container wrote is charged, while mapped.
        _charge: Option<Arc<super::Charge>>,
    },
}

impl VmaKind {
    /// A fresh shared anonymous region's backing.
    pub fn shared_anon() -> VmaKind {
        VmaKind::Shared { pages: Arc::new(SharedPages::default()), first: 0 }
    }

    /// The same bytes seen from `delta` bytes (a multiple of the page size) further on.
    fn advance(&mut self, delta: u64) {
        match self {
            VmaKind::Anon => {}
            VmaKind::Shared { first, .. } => *first += delta / PAGE_SIZE,
            VmaKind::File { offset, file_len, .. } => {
                *offset += delta;
                *file_len = file_len.saturating_sub(delta);
            }
        }
    }
}

/// A region of an address space.
#[derive(Debug, Clone)]
pub struct Vma {
    /// First address (page-aligned).
    pub start: u64,
    /// One past the last address (page-aligned).
    pub end: u64,
    /// Access rights.
    pub prot: Prot,
    /// Where its bytes come from.
    pub kind: VmaKind,
    /// Shared with `fork` children rather than copied on write (MAP_SHARED).
    pub shared: bool,
    /// A label for `/proc/self/maps` (`[heap]`, `[stack]`, a path).
    pub name: String,
}

impl berth_regions::Region for Vma {
    fn start(&self) -> u64 {
        self.start
    }

    fn end(&self) -> u64 {
        self.end
    }

    fn split_at(&mut self, at: u64) -> Vma {
        let mut upper = self.clone();
        let delta = at - self.start;
        upper.start = at;
        upper.kind.advance(delta);
        if let VmaKind::File { file_len, .. } = &mut self.kind {
            *file_len = (*file_len).min(delta);
        }
        self.end = at;
        upper
    }
}

/// A mapping to create.
#[derive(Debug, Clone)]
pub struct MapRequest {
    /// Requested address (a hint unless `fixed`).
    pub addr: u64,
    /// Length in bytes (rounded up to pages).
    pub len: u64,
    /// Access rights.
    pub prot: Prot,
    /// Where the bytes come from.
    pub kind: VmaKind,
    /// MAP_SHARED.
    pub shared: bool,
    /// Place exactly at `addr`, replacing what is there (MAP_FIXED).
    pub fixed: bool,
    /// Place exactly at `addr`, failing if anything is there (MAP_FIXED_NOREPLACE).
    pub no_replace: bool,
    /// Label for `/proc/self/maps`.
    pub name: String,
}

pub use crate::param::MAX_REGIONS;

/// A process's user address space.
pub struct AddressSpace {
    pt: UserPageTable<UserPage>,
    vmas: RegionMap<Vma>,
    /// Regions paid for ([`crate::param::REGION_COST`] each): at least as many as there are.
    regions_charged: usize,
    counter: Arc<MemoryCounter>,
    /// Start of the heap (`brk` cannot go below it).
    pub brk_start: u64,
    /// Current program break.
    pub brk: u64,
}

fn page_up(x: u64) -> Option<u64> {
    x.checked_add(PAGE_SIZE - 1).map(|v| v & !(PAGE_SIZE - 1))
}

fn page_down(x: u64) -> u64 {
    x & !(PAGE_SIZE - 1)
}

impl AddressSpace {
    /// An empty address space charging its pages to `counter`.
    pub fn new(counter: Arc<MemoryCounter>) -> Option<AddressSpace> {
        let pt = UserPageTable::new(counter.clone()).ok()?;
        Some(AddressSpace { pt, vmas: RegionMap::new(), regions_charged: 0, counter, brk_start: 0, brk: 0 })
    }

    /// Runs a change of the regions that adds at most three (a new one and two
    /// splits), paying for them first: ENOMEM past [`crate::param::MAX_REGIONS`] or the memory limit.
    /// What was paid for regions that do not exist afterwards is given back.
    fn changing_regions<R>(&mut self, change: impl FnOnce(&mut Self) -> Result<R, MapError>) -> Result<R, MapError> {
        let want = self.vmas.len() + 3;
        if want > crate::param::MAX_REGIONS {
            return Err(MapError::NoMemory);
        }
        if want > self.regions_charged {
            if !self.counter.try_charge((want - self.regions_charged) as u64 * crate::param::REGION_COST) {
                return Err(MapError::NoMemory);
            }
            self.regions_charged = want;
        }
        let result = change(self);
        let have = self.vmas.len();
        if have < self.regions_charged {
            self.counter.uncharge((self.regions_charged - have) as u64 * crate::param::REGION_COST);
            self.regions_charged = have;
        }
        result
    }
    /// Makes the CPU use this address space.
    pub fn activate(&self) {
        self.pt.activate();
    }

    /// The regions, in address order.
    pub fn vmas(&self) -> impl Iterator<Item = &Vma> {
        self.vmas.iter()
    }

    /// Number of pages present.
    pub fn resident_pages(&self) -> usize {
        self.pt.mapped_pages()
    }

    /// The region containing `addr`.
    pub fn vma_at(&self, addr: u64) -> Option<&Vma> {
        self.vmas.at(addr)
    }

    fn overlaps(&self, start: u64, end: u64) -> bool {
        self.vmas.overlaps(start, end)
    }

    /// A free range of `len` bytes, as high as possible below `MMAP_TOP`.
    fn find_free(&self, len: u64) -> Option<u64> {
        self.vmas.find_free(len, USER_START, MMAP_TOP)
    }

    /// Creates a region; returns its address.
    pub fn map(&mut self, req: MapRequest) -> Result<u64, MapError> {
        self.changing_regions(|s| s.map_region(req))
    }

    fn map_region(&mut self, req: MapRequest) -> Result<u64, MapError> {
        let len = page_up(req.len).filter(|&l| l > 0).ok_or(MapError::Invalid)?;
        let fixed = req.fixed || req.no_replace;
        if fixed && !req.addr.is_multiple_of(PAGE_SIZE) {
            return Err(MapError::Invalid);
        }
        let hint_ok = |a: u64| a >= USER_START && a.checked_add(len).is_some_and(|e| e <= USER_END);
        let start = if fixed {
            if !hint_ok(req.addr) {
                return Err(if req.addr.checked_add(len).is_none_or(|e| e > USER_END) {
                    MapError::NoMemory
                } else {
                    MapError::Invalid
                });
            }
            if self.overlaps(req.addr, req.addr + len) {
                if req.no_replace {
                    return Err(MapError::Exists);
                }
                self.unmap_range(req.addr, len)?;
            }
            req.addr
        } else {
            let hint = page_down(req.addr);
            if hint != 0 && hint_ok(hint) && !self.overlaps(hint, hint + len) {
                hint
            } else {
                self.find_free(len).ok_or(MapError::NoMemory)?
            }
        };
        let vma = Vma { start, end: start + len, prot: req.prot, kind: req.kind, shared: req.shared, name: req.name };
        self.vmas.insert(vma);
        Ok(start)
    }

    /// Removes the regions (and pages) in `[addr, addr + len)`.
    pub fn unmap(&mut self, addr: u64, len: u64) -> Result<(), MapError> {
        self.changing_regions(|s| s.unmap_range(addr, len))
    }

    fn unmap_range(&mut self, addr: u64, len: u64) -> Result<(), MapError> {
        let len = page_up(len).filter(|&l| l > 0).ok_or(MapError::Invalid)?;
        if !addr.is_multiple_of(PAGE_SIZE) || addr.checked_add(len).is_none_or(|e| e > USER_END) {
            return Err(MapError::Invalid);
        }
        let end = addr + len;
        self.vmas.remove(addr, end);
        let pages: alloc::vec::Vec<u64> = self.pt.pages_in(addr, end).map(|(v, _)| v).collect();
        for v in pages {
            self.pt.unmap(v);
        }
        Ok(())
    }

    /// Changes the rights of `[addr, addr + len)`, which must be fully mapped.
    pub fn protect(&mut self, addr: u64, len: u64, prot: Prot) -> Result<(), MapError> {
        self.changing_regions(|s| s.protect_range(addr, len, prot))
    }

    fn protect_range(&mut self, addr: u64, len: u64, prot: Prot) -> Result<(), MapError> {
        let len = page_up(len).ok_or(MapError::NoMemory)?;
        if !addr.is_multiple_of(PAGE_SIZE) {
            return Err(MapError::Invalid);
        }
        let end = addr.checked_add(len).ok_or(MapError::NoMemory)?;
        // Every page must be mapped (Linux answers ENOMEM otherwise).
        if !self.vmas.covers(addr, end) {
            return Err(MapError::NoMemory);
        }
        for vma in self.vmas.split_range_mut(addr, end) {
            vma.prot = prot;
        }
        // Present pages lose rights at once; write access is granted lazily by the
        // fault handler, which knows whether the page is shared.
        let pages: alloc::vec::Vec<(u64, bool)> =
            self.pt.pages_in(addr, end).map(|(v, p)| (v, Arc::strong_count(p) == 1)).collect();
        for (v, alone) in pages {
            let shared = self.vma_at(v).is_some_and(|m| m.shared);
            let write = prot.write && (alone || shared);
            self.pt.set_flags(v, UserFlags { read: prot.read, write, exec: prot.exec });
        }
        Ok(())
    }

    /// Ends a change: makes other CPUs that run this address space's threads drop the
    /// translations it took away (one shootdown for the whole change), and frees the
    /// pages only then. Every change is followed by this (`Process::with_vm` does it).
    pub fn finish_changes(&mut self) {
        self.pt.flush_remote();
    }

    /// Resolves a fault at `addr`: maps the page, or copies a shared one on write.
    pub fn handle_fault(&mut self, addr: u64, access: Access) -> Result<(), Fault> {
        let vma = self.vma_at(addr).ok_or(Fault::Unmapped)?.clone();
        // On x86 anything writable or executable is readable too.
        let allowed = match access {
            Access::Read => vma.prot.read || vma.prot.write || vma.prot.exec,
            Access::Write => vma.prot.write,
            Access::Execute => vma.prot.exec,
        };
        if !allowed {
            return Err(Fault::Protection);
        }
        let page = page_down(addr);
        let flags = UserFlags { read: vma.prot.read, write: vma.prot.write, exec: vma.prot.exec };
        match self.pt.get(page) {
            None => match self.cached_page(&vma, page, access) {
                // Shared with other mappers: read-only until a write copies it.
                Some(shared) => {
                    let shared = shared.ok_or(Fault::OutOfMemory)?;
                    let read_only = UserFlags { write: false, ..flags };
                    self.pt.map(page, shared, read_only).map_err(|_| Fault::OutOfMemory)?;
                }
                None => {
                    let new = self.fill_page(&vma, page)?;
                    self.pt.map(page, new, flags).map_err(|_| Fault::OutOfMemory)?;
                }
            },
            Some((existing, current)) => {
                if access == Access::Write && !current.write {
                    // Two references: the table's and ours. Then nobody else has it.
                    if vma.shared || Arc::strong_count(&existing) == 2 {
                        drop(existing);
                        self.pt.set_flags(page, flags);
                    } else {
                        let copy = UserPage::copy_of(&existing, &self.counter).ok_or(Fault::OutOfMemory)?;
                        drop(existing);
                        self.pt.map(page, copy, flags).map_err(|_| Fault::OutOfMemory)?;
                    }
                }
                // Otherwise the fault was on a stale TLB entry; the access can retry.
            }
        }
        Ok(())
    }

    /// The page-cache page for `page` of `vma` (None inside: out of memory), if the
    /// page can be one: an image file's page, read before being written, wholly file
    /// bytes (or the file's end), in a private mapping.
    fn cached_page(&self, vma: &Vma, page: u64, access: Access) -> Option<Option<Arc<UserPage>>> {
        let VmaKind::File { data, offset, file_len, cached: true, .. } = &vma.kind else { return None };
        if access == Access::Write || vma.shared {
            return None;
        }
        let from = offset + (page - vma.start);
        let file_end = vma.start.saturating_add(*file_len);
        // Past the file bytes (bss) is private zeros; a page the mapping cuts short of
        // the file's end holds bytes of its own.
        let whole = page < file_end && (page + PAGE_SIZE <= file_end || offset + file_len >= data.len() as u64);
        (whole && from.is_multiple_of(PAGE_SIZE)).then(|| super::page_cache::page(data, from / PAGE_SIZE))
    }

    fn fill_page(&self, vma: &Vma, page: u64) -> Result<Arc<UserPage>, Fault> {
        if let VmaKind::Shared { pages, first } = &vma.kind {
            let index = first + (page - vma.start) / PAGE_SIZE;
            return pages.page(index, &self.counter).ok_or(Fault::OutOfMemory);
        }
        let mut new = UserPage::zeroed(&self.counter).ok_or(Fault::OutOfMemory)?;
        if let VmaKind::File { data, offset, file_len, .. } = &vma.kind {
            let end = (page + PAGE_SIZE).min(vma.start.saturating_add(*file_len));
            if page < end {
                let from = (offset + (page - vma.start)) as usize;
                let len = (end - page) as usize;
                if let Some(bytes) = data.get(from..from.saturating_add(len).min(data.len())) {
                    UserPage::fill(&mut new, 0, bytes);
                }
            }
        }
        Ok(new)
    }

    /// Maps every page of `[addr, addr + len)` now (for MAP_POPULATE and the
    /// initial stack).
    pub fn populate(&mut self, addr: u64, len: u64, access: Access) -> Result<(), Fault> {
        let mut page = page_down(addr);
        let end = addr.saturating_add(len);
        while page < end {
            self.handle_fault(page, access)?;
            page += PAGE_SIZE;
        }
        Ok(())
    }

    /// Drops the pages of `[addr, addr + len)` (they read as new on the next touch:
    /// zeros, or the file's bytes): MADV_DONTNEED.
    pub fn discard(&mut self, addr: u64, len: u64) {
        let end = addr.saturating_add(len);
        let pages: alloc::vec::Vec<u64> = self.pt.pages_in(page_down(addr), end).map(|(v, _)| v).collect();
        for v in pages {
            self.pt.unmap(v);
        }
    }

    /// Where the byte at `addr` lives if it is in shared memory: the identity of the
    /// shared pages and its offset in them, the same in every process that maps them
    /// (for futexes); `None` in private memory.
    pub fn shared_location(&self, addr: u64) -> Option<(usize, u64)> {
        let vma = self.vma_at(addr)?;
        let VmaKind::Shared { pages, first } = &vma.kind else { return None };
        Some((Arc::as_ptr(pages) as usize, first * PAGE_SIZE + (addr - vma.start)))
    }

    /// Whether every page of `[addr, addr + len)` is mapped.
    pub fn is_mapped(&self, addr: u64, len: u64) -> bool {
        addr.checked_add(len).and_then(page_up).is_some_and(|end| self.vmas.covers(addr, end))
    }

    /// Sets `pages[i]` to 1 where page `i` from `addr` (page-aligned) is in memory, 0
    /// where not (mincore).
    pub fn residency(&self, addr: u64, pages: &mut [u8]) {
        pages.fill(0);
        let end = addr.saturating_add(pages.len() as u64 * 4096);
        for (v, _) in self.pt.pages_in(addr, end) {
            pages[((v - addr) / 4096) as usize] = 1;
        }
    }

    /// Grows, shrinks or moves a region (mremap); returns its new address.
    pub fn remap(&mut self, old: u64, old_len: u64, new_len: u64, may_move: bool) -> Result<u64, MapError> {
        self.changing_regions(|s| s.remap_region(old, old_len, new_len, may_move))
    }

    fn remap_region(&mut self, old: u64, old_len: u64, new_len: u64, may_move: bool) -> Result<u64, MapError> {
        let old_len = page_up(old_len).ok_or(MapError::Invalid)?;
        let new_len = page_up(new_len).filter(|&l| l > 0).ok_or(MapError::Invalid)?;
        if !old.is_multiple_of(PAGE_SIZE) {
            return Err(MapError::Invalid);
        }
        let vma = self.vma_at(old).ok_or(MapError::Invalid)?.clone();
        if old + old_len > vma.end {
            return Err(MapError::Invalid);
        }
        if new_len <= old_len {
            if new_len < old_len {
                self.unmap_range(old + new_len, old_len - new_len)?;
            }
            return Ok(old);
        }
        // Grow in place when the region ends here and the space after it is free.
        let grow_end = old.checked_add(new_len).ok_or(MapError::NoMemory)?;
        if vma.end == old + old_len && grow_end <= USER_END && !self.overlaps(old + old_len, grow_end) {
            if let Some(v) = self.vmas.starting_at_mut(vma.start) {
                v.end = grow_end;
            }
            return Ok(old);
        }
        if !may_move {
            return Err(MapError::NoMemory);
        }
        let mut req_kind = vma.kind.clone();
        req_kind.advance(old - vma.start);
        let new = self.map_region(MapRequest {
            addr: 0,
            len: new_len,
            prot: vma.prot,
            kind: req_kind,
            shared: vma.shared,
            fixed: false,
            no_replace: false,
            name: vma.name.clone(),
        })?;
        let moved: alloc::vec::Vec<(u64, Arc<UserPage>)> =
            self.pt.pages_in(old, old + old_len).map(|(v, p)| (v, p.clone())).collect();
        for (v, page) in moved {
            if let Some((_, flags)) = self.pt.get(v) {
                self.pt.unmap(v);
                self.pt.map(new + (v - old), page, flags).map_err(|_| MapError::NoMemory)?;
            }
        }
        self.unmap_range(old, old_len)?;
        Ok(new)
    }

    /// Writes `data` at `addr` through the kernel (as a write access would), for
    /// address spaces that are not active: the initial stack, CLONE_CHILD_SETTID.
    pub fn poke(&mut self, addr: u64, data: &[u8]) -> Result<(), Fault> {
        let mut done = 0;
        while done < data.len() {
            let at = addr + done as u64;
            self.handle_fault(at, Access::Write)?;
            let page = page_down(at);
            let offset = (at - page) as usize;
            let n = (PAGE_SIZE as usize - offset).min(data.len() - done);
            let (frame, _) = self.pt.get(page).ok_or(Fault::Unmapped)?;
            frame.write(offset, &data[done..done + n]);
            done += n;
        }
        Ok(())
    }

    /// Moves the program break; returns the new break (the old one if refused).
    pub fn set_brk(&mut self, new: u64) -> u64 {
        if new < self.brk_start || new > USER_END {
            return self.brk;
        }
        let (old_end, new_end) = (page_up(self.brk).unwrap_or(self.brk), page_up(new).unwrap_or(new));
        if new_end > old_end {
            if self.overlaps(old_end, new_end) {
                return self.brk;
            }
            let grow = new_end - old_end;
            if grow > self.counter.available() {
                return self.brk; // over the limit: brk fails, malloc sees ENOMEM
            }
            let prot = Prot { read: true, write: true, exec: false };
            let req = MapRequest {
                addr: old_end,
                len: grow,
                prot,
                kind: VmaKind::Anon,
                shared: false,
                fixed: true,
                no_replace: true,
                name: String::from("[heap]"),
            };
            if self.map(req).is_err() {
                return self.brk;
            }
        } else if new_end < old_end && self.unmap(new_end, old_end - new_end).is_err() {
            return self.brk;
        }
        self.brk = new;
        new
    }

    /// A copy for a `fork` child: private pages become shared copy-on-write.
    pub fn fork(&mut self) -> Option<AddressSpace> {
        let mut child = AddressSpace::new(self.counter.clone())?;
        if !self.counter.try_charge(self.vmas.len() as u64 * crate::param::REGION_COST) {
            return None;
        }
        child.regions_charged = self.vmas.len();
        child.vmas = self.vmas.clone();
        child.brk_start = self.brk_start;
        child.brk = self.brk;
        let pages: alloc::vec::Vec<(u64, Arc<UserPage>)> =
            self.pt.pages_in(0, USER_END).map(|(v, p)| (v, p.clone())).collect();
        for (v, page) in pages {
            let Some(vma) = self.vma_at(v) else { continue };
            let (shared, prot) = (vma.shared, vma.prot);
            let flags = UserFlags { read: prot.read, write: prot.write && shared, exec: prot.exec };
            if !shared && prot.write {
                self.pt.set_flags(v, flags);
            }
            child.pt.map(v, page, flags).ok()?;
        }
        Some(child)
    }
}

impl Drop for AddressSpace {
    fn drop(&mut self) {
        self.counter.uncharge(self.regions_charged as u64 * crate::param::REGION_COST);
    }
}
