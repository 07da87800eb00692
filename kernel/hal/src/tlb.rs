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
//! through regardless, and its handler takes no lock. (User address spaces need none
//! of this: a scheduling group's threads run on one CPU at a time.)

use crate::percpu::MAX_CPUS;
use core::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use x86_64::registers::control::{Cr4, Cr4Flags};

/// Shootdowns asked for so far.
static REQUESTED: AtomicU64 = AtomicU64::new(0);
/// The latest request each CPU has flushed for.
static FLUSHED: [AtomicU64; MAX_CPUS] = [const { AtomicU64::new(0) }; MAX_CPUS];
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
    let request = REQUESTED.fetch_add(1, Ordering::AcqRel) + 1;
    let me = crate::percpu::index();
    for cpu in (0..cpus).filter(|&c| c != me) {
        crate::smp::send_nmi(cpu);
    }
    for cpu in (0..cpus).filter(|&c| c != me) {
        while FLUSHED[cpu].load(Ordering::Acquire) < request {
            core::hint::spin_loop();
        }
    }
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
