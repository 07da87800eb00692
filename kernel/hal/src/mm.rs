//! Physical frames and the kernel's page tables.
//!
//! [`init`] takes the boot memory map, builds the frame pool, and replaces the boot
//! loader's page tables with the kernel's own: a direct map of RAM at the loader's
//! offset, the kernel image mapped section by section (text read-execute, rodata
//! read-only, data and bss read-write, never writable and executable at once), and one
//! unmapped guard page under the boot stack. Every kernel-half PML4 slot gets its
//! PDPT up front, so user address spaces can share the kernel half by copying those
//! 256 entries once.

use crate::boot::{kernel_virt_to_phys, symbol_addr};
use crate::bootinfo::{BootInfo, MemoryKind, PhysRange};
use crate::layout::{HEAP_START, LOW_MEMORY_END, PAGE_SIZE, STACKS_MAX, STACKS_START};
use crate::sync::IrqLock;
use alloc::vec::Vec;
use berth_frames::FrameBitmap;
use core::fmt;
use core::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use x86_64::registers::control::{Cr0, Cr0Flags, Cr3, Cr4, Cr4Flags};
use x86_64::registers::model_specific::{Efer, EferFlags};
use x86_64::structures::paging::mapper::{MapToError, Translate, TranslateResult};
use x86_64::structures::paging::{
    FrameAllocator, Mapper, OffsetPageTable, Page, PageTable, PageTableFlags as Flags, PhysFrame, Size2MiB, Size4KiB,
};
use x86_64::{PhysAddr, VirtAddr};

const HUGE: u64 = 2 << 20;

static FRAMES: IrqLock<Option<FrameBitmap<'static>>> = IrqLock::new(None);
static TOTAL_FRAMES: AtomicUsize = AtomicUsize::new(0);
static PHYS_OFFSET: AtomicU64 = AtomicU64::new(0);
/// Physical address of the kernel's PML4 (0 until `init` switches to it).
static KERNEL_PML4: AtomicU64 = AtomicU64::new(0);
/// Serializes changes to the kernel half of the page tables.
static KERNEL_TABLES: IrqLock<()> = IrqLock::new(());
/// Physical ranges that are RAM, which MMIO mappings must never cover.
static RAM: IrqLock<Vec<PhysRange>> = IrqLock::new(Vec::new());
/// Boot module ranges, readable through [`module_bytes`].
static MODULES: IrqLock<Vec<PhysRange>> = IrqLock::new(Vec::new());

/// Why a mapping could not be made.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MapError {
    /// No free frames are left.
    OutOfMemory,
    /// The range is already mapped differently (or lies inside a huge page).
    AlreadyMapped(u64),
    /// The physical range is RAM; device mappings may not alias it.
    OverlapsRam(u64),
}

impl fmt::Display for MapError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            MapError::OutOfMemory => f.write_str("out of physical memory"),
            MapError::AlreadyMapped(a) => write!(f, "{a:#x} is already mapped"),
            MapError::OverlapsRam(a) => write!(f, "physical {a:#x} is RAM, not a device"),
        }
    }
}

/// What [`init`] set up, for the boot banner.
#[derive(Debug, Clone, Copy)]
pub struct MemoryReport {
    /// Frames in the pool.
    pub total_frames: usize,
    /// Frames free after the kernel took its page tables.
    pub free_frames: usize,
}

/// The direct-map offset: physical address `p` is at virtual `p + phys_offset()`.
pub fn phys_offset() -> u64 {
    PHYS_OFFSET.load(Ordering::Relaxed)
}

/// Builds the frame pool and switches to the kernel's own page tables.
pub fn init(boot: &BootInfo) -> Result<MemoryReport, &'static str> {
    PHYS_OFFSET.store(boot.phys_offset, Ordering::Relaxed);
    init_frames(boot)?;
    *RAM.lock() =
        boot.memory_map.iter().filter(|r| is_ram(r.kind)).map(|r| PhysRange { start: r.start, end: r.end }).collect();
    *MODULES.lock() = boot.modules.iter().map(|m| m.phys).collect();

    // Enable no-execute, global pages and supervisor write protection before any
    // mapping uses them.
    // SAFETY: NXE and PGE only add meaning to page-table bits; WP makes the kernel
    // honour read-only mappings, which it relies on.
    unsafe {
        Efer::update(|f| f.insert(EferFlags::NO_EXECUTE_ENABLE));
        Cr4::update(|f| f.insert(Cr4Flags::PAGE_GLOBAL));
        Cr0::update(|f| f.insert(Cr0Flags::WRITE_PROTECT));
    }

    let pml4 = alloc_zeroed_frame().ok_or("no memory for the kernel page tables")?;
    {
        // SAFETY: `pml4` is a fresh zeroed frame, reachable through the loader's direct
        // map (which covers the frames the pool hands out this early) and referenced
        // nowhere else while this borrow lives.
        let l4 = unsafe { &mut *((boot.phys_offset + pml4) as *mut PageTable) };
        for entry in l4.iter_mut().skip(256) {
            let pdpt = Pool.allocate_frame().ok_or("no memory for the kernel page tables")?;
            entry.set_frame(pdpt, Flags::PRESENT | Flags::WRITABLE);
        }
    }
    let mut table = table_at(pml4);
    for r in boot.memory_map.iter().filter(|r| is_ram(r.kind)) {
        map_direct(&mut table, r.start, r.end)?;
    }
    map_kernel_image(&mut table)?;
    KERNEL_PML4.store(pml4, Ordering::Relaxed);
    // SAFETY: the new tables map the kernel image at its link address, the running
    // stack (the boot stack in .bss) and all RAM at the same direct-map offset, so
    // every address in use stays valid across the switch.
    unsafe {
        Cr3::write(PhysFrame::containing_address(PhysAddr::new(pml4)), Cr3::read().1);
    }
    Ok(MemoryReport { total_frames: TOTAL_FRAMES.load(Ordering::Relaxed), free_frames: free_frames() })
}

fn is_ram(kind: MemoryKind) -> bool {
    !matches!(kind, MemoryKind::Reserved | MemoryKind::Bad)
}

/// Builds the frame bitmap from the usable regions above low memory, storing it in
/// the first usable region large enough.
fn init_frames(boot: &BootInfo) -> Result<(), &'static str> {
    let usable = || {
        boot.memory_map
            .iter()
            .filter(|r| r.kind == MemoryKind::Usable && r.end > LOW_MEMORY_END)
            .map(|r| (r.start.max(LOW_MEMORY_END), r.end))
    };
    let lowest = usable().map(|r| r.0).min().ok_or("no usable memory")?;
    let highest = usable().map(|r| r.1).max().ok_or("no usable memory")?;
    let words = FrameBitmap::words_needed(lowest, highest);
    let bytes = (words as u64 * 8).next_multiple_of(PAGE_SIZE);
    let (store, _) =
        usable().find(|&(s, e)| e - s >= bytes && s + bytes <= 4 << 30).ok_or("no room for the frame bitmap")?;
    // SAFETY: [store, store + bytes) is usable RAM that is reserved from the pool just
    // below and never handed out, mapped by the loader's direct map (which covers at
    // least the first 4 GiB) and by the kernel's own from `init` on. It lives forever.
    let storage = unsafe { core::slice::from_raw_parts_mut((boot.phys_offset + store) as *mut u64, words) };
    let mut bitmap = FrameBitmap::new(storage, lowest, highest);
    for (start, end) in usable() {
        bitmap.add_free(start, end);
    }
    bitmap.reserve(store, store + bytes);
    TOTAL_FRAMES.store(bitmap.free_frames(), Ordering::Relaxed);
    *FRAMES.lock() = Some(bitmap);
    Ok(())
}

/// Maps `[start, end)` of RAM at the direct-map offset, with 2 MiB pages where they fit.
fn map_direct(table: &mut OffsetPageTable<'_>, start: u64, end: u64) -> Result<(), &'static str> {
    let flags = Flags::PRESENT | Flags::WRITABLE | Flags::NO_EXECUTE | Flags::GLOBAL;
    let offset = phys_offset();
    let mut addr = start / PAGE_SIZE * PAGE_SIZE;
    while addr < end {
        let virt = VirtAddr::new(offset + addr);
        if addr.is_multiple_of(HUGE) && addr + HUGE <= end {
            let page = Page::<Size2MiB>::containing_address(virt);
            let frame = PhysFrame::<Size2MiB>::containing_address(PhysAddr::new(addr));
            // SAFETY: the direct map aliases RAM at a fixed offset; the kernel treats
            // direct-map addresses of frames it owns as the frames themselves.
            unsafe { table.map_to(page, frame, flags | Flags::HUGE_PAGE, &mut Pool) }
                .map_err(|_| "cannot build the direct map")?
                .ignore();
            addr += HUGE;
        } else {
            let page = Page::<Size4KiB>::containing_address(virt);
            let frame = PhysFrame::<Size4KiB>::containing_address(PhysAddr::new(addr));
            // SAFETY: as above.
            unsafe { table.map_to(page, frame, flags, &mut Pool) }.map_err(|_| "cannot build the direct map")?.ignore();
            addr += PAGE_SIZE;
        }
    }
    Ok(())
}

/// Maps the kernel image section by section, leaving the boot stack's guard unmapped.
fn map_kernel_image(table: &mut OffsetPageTable<'_>) -> Result<(), &'static str> {
    let text = Flags::PRESENT | Flags::GLOBAL;
    let rodata = Flags::PRESENT | Flags::NO_EXECUTE | Flags::GLOBAL;
    let data = Flags::PRESENT | Flags::WRITABLE | Flags::NO_EXECUTE | Flags::GLOBAL;
    let guard = symbol_addr!(__boot_stack_guard);
    let sections = [
        (symbol_addr!(__text_start), symbol_addr!(__text_end), text),
        (symbol_addr!(__rodata_start), symbol_addr!(__rodata_end), rodata),
        (symbol_addr!(__data_start), guard, data),
        (guard + PAGE_SIZE, symbol_addr!(__data_end), data),
    ];
    for (start, end, flags) in sections {
        for virt in (start..end).step_by(PAGE_SIZE as usize) {
            let page = Page::<Size4KiB>::containing_address(VirtAddr::new(virt));
            let frame = PhysFrame::containing_address(PhysAddr::new(kernel_virt_to_phys(virt)));
            // SAFETY: maps the kernel image to where it was loaded, as it is already
            // mapped by the loader.
            unsafe { table.map_to(page, frame, flags, &mut Pool) }.map_err(|_| "cannot map the kernel image")?.ignore();
        }
    }
    Ok(())
}

/// The kernel's page table, for changes under [`KERNEL_TABLES`].
fn kernel_table() -> OffsetPageTable<'static> {
    table_at(KERNEL_PML4.load(Ordering::Relaxed))
}

fn table_at(pml4: u64) -> OffsetPageTable<'static> {
    let offset = phys_offset();
    // SAFETY: `pml4` is a PML4 frame owned by this module, and all RAM (where page
    // tables live) is mapped at `offset`. Callers serialize changes through
    // KERNEL_TABLES or own the table exclusively.
    unsafe { OffsetPageTable::new(&mut *((offset + pml4) as *mut PageTable), VirtAddr::new(offset)) }
}

/// Maps fresh frames at `[start, end)` of the heap window. On failure nothing stays
/// mapped. Called by the heap with its lock held, so this must not allocate heap memory.
pub(crate) fn map_heap(start: u64, end: u64) -> Result<(), MapError> {
    debug_assert!(start >= HEAP_START && start.is_multiple_of(PAGE_SIZE));
    map_fresh_range(start, end)
}

/// Maps fresh (zeroed) frames at `[start, end)` of a kernel window nothing else maps;
/// on failure nothing stays mapped. Allocates no heap memory.
fn map_fresh_range(start: u64, end: u64) -> Result<(), MapError> {
    let _guard = KERNEL_TABLES.lock();
    let mut table = kernel_table();
    let flags = Flags::PRESENT | Flags::WRITABLE | Flags::NO_EXECUTE | Flags::GLOBAL;
    for virt in (start..end).step_by(PAGE_SIZE as usize) {
        if let Err(e) = map_fresh(&mut table, virt, flags) {
            unmap_and_free(&mut table, start, virt);
            return Err(e);
        }
    }
    Ok(())
}

/// Maps fresh frames at `[start, end)` of the large-allocation window. On failure
/// nothing stays mapped. Must not allocate heap memory (the allocator calls it).
pub(crate) fn map_large(start: u64, end: u64) -> Result<(), MapError> {
    debug_assert!(start >= crate::layout::LARGE_START && start.is_multiple_of(PAGE_SIZE));
    map_fresh_range(start, end)
}

/// Unmaps `[start, end)` of the large-allocation window and frees its frames, and the
/// page tables (level 1) the unmapping left empty, so the window's tables stay in
/// proportion to what is mapped now rather than to the most ever mapped.
pub(crate) fn unmap_large(start: u64, end: u64) {
    let _guard = KERNEL_TABLES.lock();
    unmap_and_free(&mut kernel_table(), start, end);
    let pml4 = KERNEL_PML4.load(Ordering::Relaxed);
    let mut chunk = start / HUGE * HUGE;
    while chunk < end {
        free_table_if_empty(pml4, chunk);
        chunk += HUGE;
    }
}

/// Frees the level-1 table mapping the 2 MiB at `virt` if none of its entries is in
/// use. Higher levels stay: the kernel half's PDPTs are shared with every user address
/// space, and page directories cost one frame per GiB. Called with KERNEL_TABLES held.
fn free_table_if_empty(pml4: u64, virt: u64) {
    let addr = VirtAddr::new(virt);
    let offset = phys_offset();
    // SAFETY: page-table frames of the kernel's table, reached through the direct map
    // with KERNEL_TABLES held, so nothing else changes them meanwhile.
    let table = |phys: u64| unsafe { &mut *((offset + phys) as *mut PageTable) };
    let l4e = &table(pml4)[addr.p4_index()];
    if l4e.is_unused() {
        return;
    }
    let l3e = &table(l4e.addr().as_u64())[addr.p3_index()];
    if l3e.is_unused() || l3e.flags().contains(Flags::HUGE_PAGE) {
        return;
    }
    let pd = table(l3e.addr().as_u64());
    let l2e = &mut pd[addr.p2_index()];
    if l2e.is_unused() || l2e.flags().contains(Flags::HUGE_PAGE) {
        return;
    }
    let pt = l2e.addr().as_u64();
    if table(pt).iter().all(|e| e.is_unused()) {
        l2e.set_unused();
        // Drops the paging-structure caches' entries for this 2 MiB too.
        x86_64::instructions::tlb::flush(addr);
        crate::tlb::shootdown();
        free_frame_addr(pt);
    }
}

/// Unmaps `[start, end)` of the heap window and returns its frames to the pool.
pub(crate) fn unmap_heap(start: u64, end: u64) {
    let _guard = KERNEL_TABLES.lock();
    unmap_and_free(&mut kernel_table(), start, end);
}

fn map_fresh(table: &mut OffsetPageTable<'_>, virt: u64, flags: Flags) -> Result<(), MapError> {
    let frame = alloc_zeroed_frame().ok_or(MapError::OutOfMemory)?;
    let page = Page::<Size4KiB>::containing_address(VirtAddr::new(virt));
    let phys = PhysFrame::containing_address(PhysAddr::new(frame));
    // SAFETY: the frame is fresh and owned by this mapping; `virt` lies in a kernel
    // window (heap or stacks) that nothing else maps.
    match unsafe { table.map_to(page, phys, flags, &mut Pool) } {
        Ok(flush) => {
            flush.flush();
            Ok(())
        }
        Err(e) => {
            free_frame_addr(frame);
            Err(match e {
                MapToError::FrameAllocationFailed => MapError::OutOfMemory,
                _ => MapError::AlreadyMapped(virt),
            })
        }
    }
}

/// Unmaps `[start, end)` of a kernel window and frees its frames, each once no CPU can
/// still reach it through a cached translation: in batches of a fixed size, as the
/// allocator calls this and no heap memory may be used.
fn unmap_and_free(table: &mut OffsetPageTable<'_>, start: u64, end: u64) {
    const BATCH: usize = 64;
    let mut frames = [0u64; BATCH];
    let mut virt = start;
    while virt < end {
        let mut taken = 0;
        while virt < end && taken < BATCH {
            let page = Page::<Size4KiB>::containing_address(VirtAddr::new(virt));
            if let Ok((frame, flush)) = table.unmap(page) {
                flush.flush();
                frames[taken] = frame.start_address().as_u64();
                taken += 1;
            }
            virt += PAGE_SIZE;
        }
        crate::tlb::shootdown();
        for &frame in &frames[..taken] {
            free_frame_addr(frame);
        }
    }
}

/// Maps the physical range `[phys, phys + len)` at the direct-map offset, uncached,
/// for device registers; returns its virtual address. Ranges that are RAM are refused.
pub(crate) fn map_device(phys: u64, len: u64) -> Result<u64, MapError> {
    let end = phys.checked_add(len).ok_or(MapError::OverlapsRam(phys))?;
    if let Some(r) = RAM.lock().iter().find(|r| r.start < end && phys < r.end) {
        return Err(MapError::OverlapsRam(r.start.max(phys)));
    }
    let flags = Flags::PRESENT | Flags::WRITABLE | Flags::NO_EXECUTE | Flags::NO_CACHE | Flags::WRITE_THROUGH;
    map_physical(phys, end, flags)?;
    Ok(phys_offset() + phys)
}

/// Makes sure firmware tables at `[phys, phys + len)` are readable through the direct
/// map (they may sit in reserved memory, which the direct map leaves out).
pub(crate) fn map_firmware(phys: u64, len: u64) -> Result<u64, MapError> {
    let end = phys.checked_add(len).ok_or(MapError::AlreadyMapped(phys))?;
    map_physical(phys, end, Flags::PRESENT | Flags::NO_EXECUTE)?;
    Ok(phys_offset() + phys)
}

/// Maps `[phys, end)` at the direct-map offset page by page; pages already mapped to
/// the same frame are left as they are.
fn map_physical(phys: u64, end: u64, flags: Flags) -> Result<(), MapError> {
    let _guard = KERNEL_TABLES.lock();
    let mut table = kernel_table();
    let offset = phys_offset();
    for addr in (phys / PAGE_SIZE * PAGE_SIZE..end).step_by(PAGE_SIZE as usize) {
        let virt = VirtAddr::new(offset + addr);
        match table.translate(virt) {
            TranslateResult::Mapped { frame, offset: o, .. } => {
                if frame.start_address().as_u64() + o != addr {
                    return Err(MapError::AlreadyMapped(addr));
                }
            }
            TranslateResult::NotMapped => {
                let page = Page::<Size4KiB>::containing_address(virt);
                let frame = PhysFrame::containing_address(PhysAddr::new(addr));
                // SAFETY: maps a device or firmware page at its direct-map address,
                // where nothing else is mapped; it is not RAM the pool hands out.
                unsafe { table.map_to(page, frame, flags, &mut Pool) }.map_err(|_| MapError::OutOfMemory)?.flush();
            }
            TranslateResult::InvalidFrameAddress(_) => return Err(MapError::AlreadyMapped(addr)),
        }
    }
    Ok(())
}

/// The bytes of a boot module. Only ranges the boot loader reported as modules are
/// readable this way.
pub fn module_bytes(range: PhysRange) -> Option<&'static [u8]> {
    if !MODULES.lock().contains(&range) {
        return None;
    }
    // SAFETY: module ranges are KernelAndModules memory: never handed out by the frame
    // pool, mapped by the direct map, and never written.
    Some(unsafe { core::slice::from_raw_parts((phys_offset() + range.start) as *const u8, range.len() as usize) })
}

/// The frame pool as the x86_64 crate's page-table code wants it.
struct Pool;

// SAFETY: frames come from the pool, which hands each out once, zeroed.
unsafe impl FrameAllocator<Size4KiB> for Pool {
    fn allocate_frame(&mut self) -> Option<PhysFrame<Size4KiB>> {
        alloc_zeroed_frame().map(|a| PhysFrame::containing_address(PhysAddr::new(a)))
    }
}

/// A frame from the pool itself (no cache in front); its physical address.
pub(crate) fn pool_alloc() -> Option<u64> {
    FRAMES.lock().as_mut()?.alloc()
}

/// Fills `out` with frames from the pool under one lock; returns how many it got.
pub(crate) fn pool_alloc_batch(out: &mut [u64]) -> usize {
    let mut pool = FRAMES.lock();
    let Some(pool) = pool.as_mut() else { return 0 };
    let mut taken = 0;
    for slot in out.iter_mut() {
        match pool.alloc() {
            Some(frame) => *slot = frame,
            None => break,
        }
        taken += 1;
    }
    taken
}

/// Gives a frame back to the pool itself. Panics on a double free.
pub(crate) fn pool_free(addr: u64) {
    if let Some(pool) = FRAMES.lock().as_mut()
        && let Err(e) = pool.free(addr)
    {
        panic!("frame pool: {e}");
    }
}

/// Allocates a frame and zeroes it; returns its physical address.
fn alloc_zeroed_frame() -> Option<u64> {
    let addr = crate::frame_cache::alloc()?;
    // SAFETY: the frame was just allocated, so nothing else uses it, and all usable RAM
    // is mapped at the direct-map offset.
    unsafe { core::ptr::write_bytes((phys_offset() + addr) as *mut u8, 0, PAGE_SIZE as usize) };
    Some(addr)
}

/// A frame for the kernel allocator's page path, not zeroed: its direct-map address,
/// or `None` before the pool exists or when it is empty.
pub(crate) fn alloc_heap_page() -> Option<u64> {
    let addr = crate::frame_cache::alloc()?;
    Some(phys_offset() + addr)
}

/// Returns a page [`alloc_heap_page`] gave out, by its direct-map address.
pub(crate) fn free_heap_page(virt: u64) {
    free_frame_addr(virt - phys_offset());
}

/// Allocates `count` physically contiguous frames, zeroed; returns the first address.
pub(crate) fn alloc_contiguous_zeroed(count: usize) -> Option<u64> {
    let addr = FRAMES.lock().as_mut()?.alloc_contiguous(count, PAGE_SIZE)?;
    // SAFETY: the frames were just allocated, so nothing else uses them, and all usable
    // RAM is mapped at the direct-map offset.
    unsafe { core::ptr::write_bytes((phys_offset() + addr) as *mut u8, 0, count * PAGE_SIZE as usize) };
    Some(addr)
}

/// Returns `count` contiguous frames starting at `addr` to the pool.
pub(crate) fn free_contiguous(addr: u64, count: usize) {
    for i in 0..count as u64 {
        free_frame_addr(addr + i * PAGE_SIZE);
    }
}

/// The physical address a kernel virtual address is mapped to, if it is mapped.
pub(crate) fn kernel_virt_to_phys_mapped(virt: u64) -> Option<u64> {
    let virt = VirtAddr::try_new(virt).ok()?;
    let _guard = KERNEL_TABLES.lock();
    kernel_table().translate_addr(virt).map(|p| p.as_u64())
}

fn free_frame_addr(addr: u64) {
    crate::frame_cache::free(addr);
}

/// Copies `bytes` to physical memory at `phys` below 1 MiB (where application
/// processors start); false, writing nothing, unless the range is RAM below
/// `LOW_MEMORY_END`, which the frame pool never hands out and the direct map covers.
pub(crate) fn write_low_memory(phys: u64, bytes: &[u8]) -> bool {
    let Some(end) = phys.checked_add(bytes.len() as u64) else { return false };
    if end > LOW_MEMORY_END || !RAM.lock().iter().any(|r| r.start <= phys && end <= r.end) {
        return false;
    }
    // SAFETY: the range is RAM mapped at the direct-map offset (every RAM region is,
    // from `init` on) and below LOW_MEMORY_END, so no frame, heap page or stack of
    // the kernel lies there and no Rust reference to it exists.
    unsafe { core::ptr::copy_nonoverlapping(bytes.as_ptr(), (phys_offset() + phys) as *mut u8, bytes.len()) };
    true
}

/// Makes this CPU translate through the kernel's own table (no user half), unless it
/// already does: so that no user table the CPU is not using stays loaded on it, where
/// another CPU could free it.
pub fn use_kernel_table() {
    let kernel = KERNEL_PML4.load(Ordering::Relaxed);
    if kernel != 0 && Cr3::read().0.start_address().as_u64() != kernel {
        // SAFETY: the kernel's table maps everything kernel code uses; user tables
        // only add the user half, which kernel code does not touch outside user copies
        // (never in progress across a thread switch).
        unsafe { crate::tlb::load_table(kernel, false) };
    }
}

/// The kernel's PML4 frame, read-only (user tables copy its kernel half).
pub(crate) fn kernel_pml4() -> &'static Frame {
    static KERNEL: spin::Once<Frame> = spin::Once::new();
    KERNEL.call_once(|| Frame { phys: KERNEL_PML4.load(Ordering::Relaxed) })
}

/// Returns a page-table frame of a dropped user table to the pool.
pub(crate) fn release_table_frame(phys: u64) {
    free_frame_addr(phys);
}

/// Number of free frames (in the pool, or in a CPU's cache of free frames).
pub fn free_frames() -> usize {
    FRAMES.lock().as_ref().map_or(0, |p| p.free_frames()) + crate::frame_cache::cached()
}

/// Number of frames the pool manages.
pub fn total_frames() -> usize {
    TOTAL_FRAMES.load(Ordering::Relaxed)
}

/// An owned physical frame of 4 KiB, zeroed when allocated and returned to the pool
/// when dropped. Its contents are reached through the direct map.
#[derive(Debug)]
pub struct Frame {
    phys: u64,
}

impl Frame {
    /// Allocates a zeroed frame.
    pub fn alloc() -> Option<Frame> {
        alloc_zeroed_frame().map(|phys| Frame { phys })
    }

    /// Its physical address.
    pub fn phys(&self) -> u64 {
        self.phys
    }

    pub(crate) fn ptr(&self) -> *mut u8 {
        (phys_offset() + self.phys) as *mut u8
    }

    /// Copies `src` into the frame at `offset`. Panics if it does not fit.
    pub fn write(&mut self, offset: usize, src: &[u8]) {
        assert!(offset <= PAGE_SIZE as usize && src.len() <= PAGE_SIZE as usize - offset);
        // SAFETY: the frame is owned by `self` and mapped at the direct map; the range
        // was checked to lie inside it. Raw copies tolerate concurrent user access.
        unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), self.ptr().add(offset), src.len()) };
    }

    /// Copies bytes at `offset` out of the frame into `dst`. Panics if out of range.
    pub fn read(&self, offset: usize, dst: &mut [u8]) {
        assert!(offset <= PAGE_SIZE as usize && dst.len() <= PAGE_SIZE as usize - offset);
        // SAFETY: as in `write`.
        unsafe { core::ptr::copy_nonoverlapping(self.ptr().add(offset), dst.as_mut_ptr(), dst.len()) };
    }

    /// Copies `src` into a frame that is (or may be) mapped into user space, so other
    /// references to it exist: a raw copy, which user code may race with harmlessly.
    /// Panics if it does not fit.
    pub fn write_mapped(&self, offset: usize, src: &[u8]) {
        assert!(offset <= PAGE_SIZE as usize && src.len() <= PAGE_SIZE as usize - offset);
        // SAFETY: the frame is alive (we hold it) and lies in the direct map; no Rust
        // reference to its bytes exists (user memory is only ever copied raw).
        unsafe { core::ptr::copy_nonoverlapping(src.as_ptr(), self.ptr().add(offset), src.len()) };
    }

    /// Makes this frame a copy of `other`.
    pub fn copy_from(&mut self, other: &Frame) {
        // SAFETY: both frames are owned and distinct (one is borrowed mutably).
        unsafe { core::ptr::copy_nonoverlapping(other.ptr(), self.ptr(), PAGE_SIZE as usize) };
    }
}

impl Drop for Frame {
    fn drop(&mut self) {
        free_frame_addr(self.phys);
    }
}

/// Frames held by kernel stacks kept mapped for reuse (a cache, not memory in use).
pub fn cached_stack_frames() -> usize {
    CACHED_STACKS.lock().len() * (KernelStack::SIZE / PAGE_SIZE) as usize
}

/// Size of one kernel stack slot: the stack plus its guard page.
const STACK_SLOT: u64 = 64 * 1024;
/// Free stack slots (indices into the stack window), reused before new ones.
static FREE_STACK_SLOTS: IrqLock<Vec<u64>> = IrqLock::new(Vec::new());
/// Stacks of exited threads kept mapped for the next thread (mapping a stack is the
/// costly part of creating a thread).
static CACHED_STACKS: IrqLock<Vec<u64>> = IrqLock::new(Vec::new());
/// Most stacks kept mapped while unused.
const MAX_CACHED_STACKS: usize = 64;
static NEXT_STACK_SLOT: AtomicU64 = AtomicU64::new(0);

/// A kernel stack in the stack window with an unmapped guard page below it, so an
/// overflow faults instead of corrupting memory. Unmapped and freed on drop.
#[derive(Debug)]
pub struct KernelStack {
    slot: u64,
}

impl KernelStack {
    /// Usable bytes of every kernel stack.
    pub const SIZE: u64 = STACK_SLOT - PAGE_SIZE;

    /// Allocates and maps a kernel stack.
    pub fn new() -> Result<KernelStack, MapError> {
        if let Some(slot) = CACHED_STACKS.lock().pop() {
            return Ok(KernelStack { slot });
        }
        let slot = match FREE_STACK_SLOTS.lock().pop() {
            Some(slot) => slot,
            None => NEXT_STACK_SLOT.fetch_add(1, Ordering::Relaxed),
        };
        if (slot + 1) * STACK_SLOT > STACKS_MAX {
            return Err(MapError::OutOfMemory);
        }
        let stack = KernelStack { slot };
        let (bottom, top) = (stack.bottom(), stack.top());
        let mapped = {
            let _guard = KERNEL_TABLES.lock();
            let mut table = kernel_table();
            let flags = Flags::PRESENT | Flags::WRITABLE | Flags::NO_EXECUTE | Flags::GLOBAL;
            let mut result = Ok(());
            for virt in (bottom..top).step_by(PAGE_SIZE as usize) {
                if let Err(e) = map_fresh(&mut table, virt, flags) {
                    unmap_and_free(&mut table, bottom, virt);
                    result = Err(e);
                    break;
                }
            }
            result
        };
        match mapped {
            Ok(()) => Ok(stack),
            Err(e) => {
                // The pages are already unmapped; only the slot goes back.
                core::mem::forget(stack);
                FREE_STACK_SLOTS.lock().push(slot);
                Err(e)
            }
        }
    }

    /// Lowest usable address (just above the guard page).
    pub fn bottom(&self) -> u64 {
        STACKS_START + self.slot * STACK_SLOT + PAGE_SIZE
    }

    /// One past the highest usable address: the initial stack pointer.
    pub fn top(&self) -> u64 {
        STACKS_START + (self.slot + 1) * STACK_SLOT
    }
}

impl Drop for KernelStack {
    fn drop(&mut self) {
        {
            let mut cached = CACHED_STACKS.lock();
            if cached.len() < MAX_CACHED_STACKS {
                cached.push(self.slot);
                return;
            }
        }
        {
            let _guard = KERNEL_TABLES.lock();
            unmap_and_free(&mut kernel_table(), self.bottom(), self.top());
        }
        FREE_STACK_SLOTS.lock().push(self.slot);
    }
}
