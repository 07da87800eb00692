//! Keeping every CPU's TLB true to the kernel's half of the address space.
//!
//! The kernel maps and unmaps its own windows as it runs (the heap, large allocations,
//! kernel stacks). A CPU that unmapped a page flushes it from its own TLB, but another
//! CPU may still hold the old translation, and would use it once the address is mapped
//! again for something else: reading, say, a new socket buffer through the old, freed
//! frame. So once the scheduler runs on several CPUs, every kernel unmapping ends with
//! a shootdown: the other CPUs get an NMI, flush their whole TLB (global entries too)
//! and acknowledge, and only then are the frames (and emptied page tables) freed.
//!
//! An NMI, not an ordinary interrupt, because the CPU that unmaps holds the kernel's
//! page-table lock with interrupts off, and so may the CPU it waits for: an NMI gets
//! through regardless, and its handler takes no lock.
//!
//! User tables: each CPU publishes the user table it has loaded ([`load_table`], the
//! only way CR3 changes once CPUs run). A change that takes a translation away from a
//! table another CPU has loaded shoots down just those CPUs ([`shootdown_cpus`]); a
//! CPU that loads a table later starts with a TLB emptied by the load. A table is
//! freed only once no CPU has it loaded.

use crate::percpu::MAX_CPUS;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use x86_64::PhysAddr;
use x86_64::registers::control::{Cr3, Cr4, Cr4Flags};
use x86_64::structures::paging::PhysFrame;

/// Shootdowns asked for so far.
static REQUESTED: AtomicU64 = AtomicU64::new(0);
/// The latest request each CPU has flushed for.
static FLUSHED: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
/// The user table (its PML4's physical address) each CPU has loaded, 0 for the
/// kernel's own: set before the table is loaded.
static LOADED: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
/// The user table each CPU is leaving: kept until the load of its next table is done.
static LEAVING: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];

/// Whether CPUs other than this one run kernel code that uses the kernel's windows
/// (set when the scheduler gets them; parked CPUs touch none of it).
static OTHERS_ACTIVE: AtomicBool = AtomicBool::new(false);

/// From now on, kernel unmappings shoot down the other CPUs' TLBs.
pub(crate) fn activate() {
    OTHERS_ACTIVE.store(true, Ordering::Release);
}

/// Makes every other running CPU drop its cached translations before this returns.
/// Call after unmapping kernel pages and before freeing their frames.
pub(crate) fn shootdown() {
    let cpus = crate::smp::online() as usize;
    if !OTHERS_ACTIVE.load(Ordering::Acquire) || cpus < 2 {
        return;
    }
    let me = crate::percpu::index();
    shootdown_cpus((0..cpus).filter(|&c| c != me).fold(0, |mask, c| mask | 1 << c));
}

/// Makes the CPUs in `mask` (bit `i`: CPU `i`; never this one) drop their cached
/// translations, global ones included, before this returns.
pub(crate) fn shootdown_cpus(mask: u64) {
    if mask == 0 {
        return;
    }
    let request = REQUESTED.fetch_add(1, Ordering::AcqRel) + 1;
    let targets = || (0..MAX_CPUS).filter(move |c| mask & (1 << c) != 0);
    for cpu in targets() {
        crate::smp::send_nmi(cpu);
    }
    for cpu in targets() {
        while FLUSHED[cpu].load(Ordering::Acquire) < request {
            core::hint::spin_loop();
        }
    }
}

/// The CPUs other than this one that have the user table `pml4` loaded, or are
/// leaving it. Call after changing the table: a CPU not counted loads it afterwards,
/// and so sees the change.
pub(crate) fn others_using(pml4: u64) -> u64 {
    // Orders the caller's table writes before the reads below, against a CPU that
    // publishes a table and then loads it (`load_table`).
    core::sync::atomic::fence(Ordering::SeqCst);
    let me = crate::percpu::index();
    (0..crate::smp::online() as usize)
        .filter(|&c| c != me)
        .filter(|&c| LOADED[c].load(Ordering::SeqCst) == pml4 || LEAVING[c].load(Ordering::SeqCst) == pml4)
        .fold(0, |mask, c| mask | 1 << c)
}

/// Loads the table at `pml4` into this CPU's CR3 (`user`: a user table, which other
/// CPUs may shoot down here while it is loaded). Interrupts must be off, or the
/// caller's thread bound to this CPU.
///
/// # Safety
/// `pml4` is a complete table mapping the kernel half exactly as the kernel's does.
pub(crate) unsafe fn load_table(pml4: u64, user: bool) {
    let me = crate::percpu::index();
    let old = LOADED[me].load(Ordering::Relaxed);
    LEAVING[me].store(old, Ordering::SeqCst);
    LOADED[me].store(if user { pml4 } else { 0 }, Ordering::SeqCst);
    // SAFETY: the caller's promise.
    unsafe { Cr3::write(PhysFrame::containing_address(PhysAddr::new(pml4)), Cr3::read().1) };
    LEAVING[me].store(0, Ordering::SeqCst);
}

/// The NMI handler's part: flushes this CPU's whole TLB and acknowledges every
/// request made so far. It finds its CPU by local APIC id, not through GS, which an
/// NMI may find still holding the user's value (in the `syscall` entry's first
/// instructions).
pub fn on_nmi() {
    let seen = REQUESTED.load(Ordering::Acquire);
    flush_everything();
    if let Some(cpu) = crate::smp::index_of_this_cpu() {
        FLUSHED[cpu].fetch_max(seen, Ordering::AcqRel);
    }
}

/// Drops every TLB entry, global ones included (turning global pages off and on).
fn flush_everything() {
    // SAFETY: clearing and setting CR4.PGE changes no translation; it only empties the
    // TLB, global entries included.
    unsafe {
        let flags = Cr4::read();
        Cr4::write(flags - Cr4Flags::PAGE_GLOBAL);
        Cr4::write(flags);
    }
}
