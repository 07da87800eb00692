//! Starting the other CPUs (application processors).
//!
//! An application processor waits in real mode for the boot CPU's INIT and STARTUP
//! IPIs. STARTUP starts it at a page below 1 MiB (`TRAMPOLINE_PHYS`), where this
//! module copies a small trampoline: real mode → protected mode → long mode on
//! temporary page tables (the kernel's half plus the trampoline's page at its own
//! address), then a jump to [`ap_entry`] on the kernel stack the boot CPU gave it.
//! There the CPU switches to the kernel's page tables, loads a GDT and TSS of its own,
//! the shared IDT, enables its FPU and local APIC, and reports in.
//!
//! Where Limine booted the kernel it has already started the other CPUs (its MP
//! request) and parked them in long mode on its own page tables; such a CPU is sent on
//! by writing its "goto address": [`limine_ap_entry`] switches to the kernel's tables
//! and stack and joins the same [`ap_entry`]. No trampoline is needed then (the page
//! below 1 MiB may not even be free under UEFI).
//!
//! CPUs are started one at a time, so one set of parameters serves them all. A started CPU then waits in `hlt` until the kernel hands it its main
//! function ([`release`]), which it runs for ever.

use crate::mm::{Frame, KernelStack};
use crate::percpu::MAX_CPUS;
use alloc::vec::Vec;
use core::arch::global_asm;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use x86_64::PhysAddr;
use x86_64::registers::control::Cr3;
use x86_64::structures::paging::PhysFrame;

/// Where the trampoline is copied: its page number is the STARTUP IPI's vector.
const TRAMPOLINE_PHYS: u64 = 0x8000;
/// How long a STARTUP IPI is given before it is repeated, as the MP specification says.
const STARTUP_RETRY_NS: u64 = 200_000;
/// How long a CPU is given to report in after its second STARTUP IPI. Generous:
/// under emulation a CPU's first instructions can take milliseconds.
const REPORT_TIMEOUT_NS: u64 = 1_000_000_000;

/// The vector of the IPI that asks a CPU to look at its run queue (and wakes a CPU
/// waiting to be released).
pub const RESCHEDULE_VECTOR: u8 = 0xf0;

/// CPUs running, the boot CPU included.
static ONLINE: AtomicU32 = AtomicU32::new(1);
/// CPUs the boot loader had started and parked, and that were sent on from there.
static FROM_LOADER: AtomicU32 = AtomicU32::new(0);
/// Each CPU's local APIC id, by CPU index.
static APIC_IDS: [AtomicU32; MAX_CPUS] = [const { AtomicU32::new(0) }; MAX_CPUS];
/// What the application processors run once the kernel is ready for them.
static AP_MAIN: spin::Once<fn(usize) -> !> = spin::Once::new();
/// The index the CPU being started last reported, or `u64::MAX`.
static REPORTED: AtomicU64 = AtomicU64::new(u64::MAX);

/// Why a CPU did not start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StartError {
    /// The trampoline page is not RAM the kernel maps.
    NoTrampolinePage,
    /// No memory below 4 GiB for the temporary page tables, or for a stack.
    NoMemory,
    /// The CPU did not report in after INIT and two STARTUP IPIs.
    NoAnswer,
    /// More CPUs than berth uses ([`MAX_CPUS`]).
    TooMany,
}

impl core::fmt::Display for StartError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            StartError::NoTrampolinePage => write!(f, "page {TRAMPOLINE_PHYS:#x} is not usable RAM"),
            StartError::NoMemory => f.write_str("no memory for its page tables or stack"),
            StartError::NoAnswer => f.write_str("it did not answer INIT and STARTUP"),
            StartError::TooMany => write!(f, "berth uses at most {MAX_CPUS} CPUs"),
        }
    }
}

/// CPUs running now, the boot CPU included.
pub fn online() -> u32 {
    ONLINE.load(Ordering::Acquire)
}

/// How many of the running CPUs the boot loader had started (Limine's MP request);
/// the rest came up through INIT and STARTUP.
pub fn started_by_loader() -> u32 {
    FROM_LOADER.load(Ordering::Acquire)
}

/// Starts the CPUs with these local APIC ids (the boot CPU's not among them); returns,
/// for each, whether it came up. Call once, from the boot CPU, after the local APIC,
/// the trap tables, the FPU and the TSC clock are set up, with interrupts off.
pub fn start(apic_ids: &[u32]) -> Vec<Result<(), StartError>> {
    APIC_IDS[0].store(crate::apic::id(), Ordering::Relaxed);
    let cold: Vec<u32> = apic_ids.iter().copied().filter(|&id| crate::boot::parked_cpu(id).is_none()).collect();
    // CPUs no loader started go through the trampoline: INIT them all first and wait
    // once (10 ms, as the MP specification asks), then start them one by one.
    let trampoline = if cold.is_empty() {
        Err(StartError::NoTrampolinePage)
    } else {
        TrampolineTables::new().and_then(|t| if copy_trampoline() { Ok(t) } else { Err(StartError::NoTrampolinePage) })
    };
    if trampoline.is_ok() {
        for &id in &cold {
            crate::apic::send_init(id);
        }
        crate::time::busy_wait_ns(10_000_000);
    }
    let mut next = 1;
    let mut started = |id: u32| {
        if next >= MAX_CPUS {
            return Err(StartError::TooMany);
        }
        match (crate::boot::parked_cpu(id), &trampoline) {
            (Some(parked), _) => start_parked(parked, next as u64)?,
            (None, Ok(tables)) => start_one(id, next as u64, tables)?,
            (None, Err(e)) => return Err(*e),
        }
        APIC_IDS[next].store(id, Ordering::Release);
        next += 1;
        Ok(())
    };
    apic_ids.iter().map(|&id| started(id)).collect()
    // The temporary tables are dropped here: every CPU that came up left them before
    // reporting in, and one that did not will never be started again.
}

/// Sends a CPU that Limine parked to [`limine_ap_entry`] and waits for it to report
/// as `index`.
fn start_parked(cpu: &'static limine::mp::Cpu, index: u64) -> Result<(), StartError> {
    let stack = KernelStack::new().map_err(|_| StartError::NoMemory)?;
    let kernel = crate::mm::kernel_pml4().phys();
    for (slot, value) in PARKED_PARAMETERS.iter().zip([kernel, stack.top(), ap_entry as *const () as u64, index]) {
        slot.store(value, Ordering::Relaxed);
    }
    cpu.extra.store((&raw const PARKED_PARAMETERS) as u64, Ordering::Relaxed);
    REPORTED.store(u64::MAX, Ordering::Release);
    // Publishes everything above before the CPU can see the address (sequentially
    // consistent store).
    cpu.goto_address.write(limine_ap_entry);
    let result = wait_for_report(index, REPORT_TIMEOUT_NS);
    if result.is_ok() {
        FROM_LOADER.fetch_add(1, Ordering::AcqRel);
    }
    // The CPU runs on this stack for ever (or, late, may still come to it).
    core::mem::forget(stack);
    result
}

/// Waits up to `ns` for the CPU being started to report in as `index`.
fn wait_for_report(index: u64, ns: u64) -> Result<(), StartError> {
    let end = crate::time::nanos_since_boot() + ns;
    while crate::time::nanos_since_boot() < end {
        if REPORTED.load(Ordering::Acquire) == index {
            return Ok(());
        }
        core::hint::spin_loop();
    }
    Err(StartError::NoAnswer)
}

/// Sends STARTUP IPIs to the CPU `apic_id` and waits for it to report as `index`.
fn start_one(apic_id: u32, index: u64, tables: &TrampolineTables) -> Result<(), StartError> {
    let stack = KernelStack::new().map_err(|_| StartError::NoMemory)?;
    write_parameters(&Parameters { cr3: tables.pml4.phys(), stack_top: stack.top(), index });
    REPORTED.store(u64::MAX, Ordering::Release);
    let vector = (TRAMPOLINE_PHYS >> 12) as u8;
    for wait in [STARTUP_RETRY_NS, REPORT_TIMEOUT_NS] {
        crate::apic::send_startup(apic_id, vector);
        if wait_for_report(index, wait).is_ok() {
            // The CPU runs on this stack for ever.
            core::mem::forget(stack);
            return Ok(());
        }
    }
    // A CPU that never answered never touched the stack; one that answers late would
    // find it reused, so keep it.
    core::mem::forget(stack);
    Err(StartError::NoAnswer)
}

/// Page tables for the trip into long mode: the kernel's half of the address space,
/// and the first 2 MiB of physical memory at their own address so the trampoline keeps
/// running when paging comes on. All below 4 GiB: 32-bit code loads the root.
struct TrampolineTables {
    pml4: Frame,
    _pdpt: Frame,
    _pd: Frame,
}

impl TrampolineTables {
    fn new() -> Result<TrampolineTables, StartError> {
        let low = |f: Frame| if f.phys() < 1 << 32 { Some(f) } else { None };
        let frame = || Frame::alloc().and_then(low).ok_or(StartError::NoMemory);
        let (mut pml4, mut pdpt, mut pd) = (frame()?, frame()?, frame()?);
        const PRESENT_WRITABLE: u64 = 0b11;
        const HUGE: u64 = 1 << 7;
        pd.write(0, &(PRESENT_WRITABLE | HUGE).to_le_bytes());
        pdpt.write(0, &(pd.phys() | PRESENT_WRITABLE).to_le_bytes());
        pml4.write(0, &(pdpt.phys() | PRESENT_WRITABLE).to_le_bytes());
        // The kernel's half: the same lower-level tables, which never change at this
        // level (they are all made at boot).
        let mut upper = [0u8; 2048];
        crate::mm::kernel_pml4().read(2048, &mut upper);
        pml4.write(2048, &upper);
        Ok(TrampolineTables { pml4, _pdpt: pdpt, _pd: pd })
    }
}

/// What the trampoline reads, at the end of its page.
struct Parameters {
    cr3: u64,
    stack_top: u64,
    index: u64,
}

/// What [`limine_ap_entry`] reads (through the parked CPU's `extra` word): the
/// kernel's page-table root, the stack top, the entry point and the CPU's index.
static PARKED_PARAMETERS: [AtomicU64; 4] = [const { AtomicU64::new(0) }; 4];

unsafe extern "C" {
    /// Where a CPU Limine parked jumps when sent on (with its `limine::mp::Cpu` in
    /// RDI, on Limine's page tables and stack): loads [`PARKED_PARAMETERS`]' table
    /// and stack and calls the entry with the index.
    fn limine_ap_entry(cpu: &limine::mp::Cpu) -> !;
    static ap_trampoline: u8;
    static ap_trampoline_end: u8;
    static ap_trampoline_params: u8;
}

/// Offset of a trampoline symbol from its start.
fn trampoline_offset(symbol: *const u8) -> usize {
    symbol as usize - (&raw const ap_trampoline) as usize
}

/// Copies the trampoline's code to its page below 1 MiB; false if that page is not RAM.
fn copy_trampoline() -> bool {
    let len = trampoline_offset(&raw const ap_trampoline_end);
    // SAFETY: the two symbols bound the trampoline's bytes in the kernel image's
    // read-only text, which is mapped and never written.
    let code = unsafe { core::slice::from_raw_parts(&raw const ap_trampoline, len) };
    crate::mm::write_low_memory(TRAMPOLINE_PHYS, code)
}

fn write_parameters(p: &Parameters) {
    let mut bytes = [0u8; 32];
    bytes[0..8].copy_from_slice(&p.cr3.to_le_bytes());
    bytes[8..16].copy_from_slice(&p.stack_top.to_le_bytes());
    bytes[16..24].copy_from_slice(&(ap_entry as *const () as u64).to_le_bytes());
    bytes[24..32].copy_from_slice(&p.index.to_le_bytes());
    let at = TRAMPOLINE_PHYS + trampoline_offset(&raw const ap_trampoline_params) as u64;
    // The page was checked to be RAM when the code was copied.
    crate::mm::write_low_memory(at, &bytes);
}

/// Runs `main(index)` on every started application processor, for ever: the kernel's
/// scheduler loop. Call once, when the kernel is ready for more CPUs.
pub fn release(main: fn(usize) -> !) {
    crate::tlb::activate();
    crate::frame_cache::enable();
    AP_MAIN.call_once(|| main);
    for cpu in 1..online() as usize {
        send_reschedule(cpu);
    }
}

/// Sends CPU `cpu` (an index) the reschedule IPI.
pub fn send_reschedule(cpu: usize) {
    if cpu < online() as usize && cpu != crate::percpu::index() {
        crate::apic::send_fixed(APIC_IDS[cpu].load(Ordering::Acquire), RESCHEDULE_VECTOR);
    }
}

/// This CPU's index, found by its local APIC id (for code that cannot trust GS).
pub(crate) fn index_of_this_cpu() -> Option<usize> {
    let id = crate::apic::id();
    (0..online() as usize).find(|&c| APIC_IDS[c].load(Ordering::Acquire) == id)
}

/// Sends CPU `cpu` (an index) a non-maskable interrupt (for TLB shootdowns).
pub(crate) fn send_nmi(cpu: usize) {
    crate::apic::send_nmi(APIC_IDS[cpu].load(Ordering::Acquire));
}

/// Where a started CPU enters Rust, on its own kernel stack, on the trampoline's page
/// tables, with interrupts off.
extern "C" fn ap_entry(index: u64) -> ! {
    let index = index as usize;
    let kernel = crate::mm::kernel_pml4().phys();
    // SAFETY: the kernel's tables map everything the trampoline's did except the
    // trampoline page, which this code no longer uses: it runs in the kernel image, on
    // a kernel stack.
    unsafe { Cr3::write(PhysFrame::containing_address(PhysAddr::new(kernel)), Cr3::read().1) };
    crate::gdt::init_ap(index);
    crate::percpu::init_ap(index);
    crate::trap::load_idt();
    crate::fpu::enable_on_this_cpu();
    crate::apic::enable_on_this_cpu();
    crate::context::init_this_cpu();
    ONLINE.fetch_add(1, Ordering::AcqRel);
    REPORTED.store(index as u64, Ordering::Release);
    loop {
        if let Some(main) = AP_MAIN.get() {
            main(index);
        }
        // `release` sends the reschedule IPI after setting AP_MAIN; `sti; hlt` lets
        // it in only once halted, so it cannot slip by between the check and the halt.
        x86_64::instructions::interrupts::enable_and_hlt();
        x86_64::instructions::interrupts::disable();
    }
}

global_asm!(
    r#"
    .text
    .global limine_ap_entry
limine_ap_entry:
    cli
    /* extra (offset 24): the parameters; the kernel's tables map this code where
       Limine's did. */
    mov 24(%rdi), %rax
    mov 0(%rax), %rcx
    mov %rcx, %cr3
    mov 8(%rax), %rsp
    mov 24(%rax), %rdi
    mov 16(%rax), %rax
    xor %ebp, %ebp
    call *%rax
    ud2
"#,
    options(att_syntax)
);

global_asm!(
    r#"
    .section .text.ap_trampoline, "ax"
    .balign 16
    .global ap_trampoline
    .global ap_trampoline_end
    .global ap_trampoline_params
    .code16
ap_trampoline:
    cli
    cld
    /* CS is the page (0x800 for 0x8000); address the page's data through DS. */
    mov %cs, %ax
    mov %ax, %ds
    lgdtl (tr_gdt_ptr - ap_trampoline)
    mov %cr0, %eax
    or $1, %eax
    mov %eax, %cr0
    ljmpl $0x18, $({base} + tr_32 - ap_trampoline)

    .code32
tr_32:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    /* PAE and global pages, the temporary tables, EFER.LME|NXE, then paging with
       write protection. */
    mov %cr4, %eax
    or $0xa0, %eax
    mov %eax, %cr4
    mov ({base} + ap_trampoline_params - ap_trampoline), %eax
    mov %eax, %cr3
    mov $0xc0000080, %ecx
    rdmsr
    or $0x900, %eax
    wrmsr
    mov %cr0, %eax
    or $0x80010001, %eax
    mov %eax, %cr0
    ljmp $0x08, $({base} + tr_64 - ap_trampoline)

    .code64
tr_64:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs
    mov ({base} + ap_trampoline_params + 8 - ap_trampoline), %rsp
    mov ({base} + ap_trampoline_params + 24 - ap_trampoline), %rdi
    mov ({base} + ap_trampoline_params + 16 - ap_trampoline), %rax
    xor %ebp, %ebp
    call *%rax
    ud2

    .balign 8
tr_gdt:
    .quad 0
    .quad 0x00af9a000000ffff /* 0x08: 64-bit code */
    .quad 0x00cf92000000ffff /* 0x10: data */
    .quad 0x00cf9a000000ffff /* 0x18: 32-bit code */
tr_gdt_end:
tr_gdt_ptr:
    .word tr_gdt_end - tr_gdt - 1
    .long {base} + tr_gdt - ap_trampoline
    .balign 8
ap_trampoline_params:
    .quad 0 /* cr3 */
    .quad 0 /* stack top */
    .quad 0 /* entry */
    .quad 0 /* argument: the CPU's index */
ap_trampoline_end:
    .code64
    .text
"#,
    base = const TRAMPOLINE_PHYS,
    options(att_syntax)
);
