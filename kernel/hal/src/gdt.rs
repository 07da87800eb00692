//! The GDT and TSS.
//!
//! Selector order is fixed by `syscall`/`sysret`: kernel code, kernel data, then a
//! 32-bit user code placeholder, user data and 64-bit user code, so that STAR can name
//! both pairs. The TSS gives the double-fault handler its own stack and tells the CPU
//! which kernel stack to use when an interrupt arrives from user mode.

use crate::percpu::MAX_CPUS;
use alloc::boxed::Box;
use core::cell::UnsafeCell;
use core::sync::atomic::{AtomicPtr, Ordering};
use x86_64::VirtAddr;
use x86_64::instructions::segmentation::{CS, DS, ES, SS, Segment};
use x86_64::instructions::tables::load_tss;
use x86_64::registers::segmentation::SegmentSelector;
use x86_64::structures::gdt::{Descriptor, GlobalDescriptorTable};
use x86_64::structures::tss::TaskStateSegment;

/// Kernel code selector.
pub const KERNEL_CS: u16 = 0x08;
/// Kernel data selector.
pub const KERNEL_SS: u16 = 0x10;
/// IST slot of the double-fault stack.
pub const DOUBLE_FAULT_IST: u16 = 0;
/// IST slot of the NMI stack: an NMI can arrive in the `syscall` entry before the
/// stack switch, when RSP is still the user's.
pub const NMI_IST: u16 = 1;

const FAULT_STACK_SIZE: usize = 16 * 1024;

#[repr(align(16))]
struct FaultStack(UnsafeCell<[u8; FAULT_STACK_SIZE]>);
// SAFETY: the stack is only ever used by the CPU as the double-fault stack.
unsafe impl Sync for FaultStack {}
static DOUBLE_FAULT_STACK: FaultStack = FaultStack(UnsafeCell::new([0; FAULT_STACK_SIZE]));
static NMI_STACK: FaultStack = FaultStack(UnsafeCell::new([0; FAULT_STACK_SIZE]));

struct Tss(UnsafeCell<TaskStateSegment>);
// SAFETY: the boot CPU's TSS: written only by `init` at boot and by `set_kernel_stack`
// on the boot CPU with interrupts disabled, and read by that CPU.
unsafe impl Sync for Tss {}
static TSS: Tss = Tss(UnsafeCell::new(TaskStateSegment::new()));

static GDT: spin::Once<GlobalDescriptorTable> = spin::Once::new();

/// Each CPU's TSS, by CPU index (set as the CPU loads it).
static TSS_OF: [AtomicPtr<TaskStateSegment>; MAX_CPUS] = [const { AtomicPtr::new(core::ptr::null_mut()) }; MAX_CPUS];

/// Loads the boot CPU's GDT and TSS and reloads every segment register.
pub fn init() {
    // SAFETY: runs once at boot before interrupts are enabled; nothing else references
    // the TSS yet.
    let tss = unsafe { &mut *TSS.0.get() };
    tss.interrupt_stack_table[DOUBLE_FAULT_IST as usize] =
        VirtAddr::from_ptr(DOUBLE_FAULT_STACK.0.get()) + FAULT_STACK_SIZE as u64;
    tss.interrupt_stack_table[NMI_IST as usize] = VirtAddr::from_ptr(NMI_STACK.0.get()) + FAULT_STACK_SIZE as u64;
    TSS_OF[0].store(TSS.0.get(), Ordering::Release);
    // SAFETY: TSS is a static that lives forever.
    load(GDT.call_once(|| table(unsafe { &*TSS.0.get() })));
}

/// Gives application processor `index` a GDT and TSS of its own (with its own
/// double-fault and NMI stacks), which live for ever, and loads them.
pub fn init_ap(index: usize) {
    let stack =
        || -> &'static mut FaultStack { Box::leak(Box::new(FaultStack(UnsafeCell::new([0; FAULT_STACK_SIZE])))) };
    let mut tss = TaskStateSegment::new();
    tss.interrupt_stack_table[DOUBLE_FAULT_IST as usize] =
        VirtAddr::from_ptr(stack().0.get()) + FAULT_STACK_SIZE as u64;
    tss.interrupt_stack_table[NMI_IST as usize] = VirtAddr::from_ptr(stack().0.get()) + FAULT_STACK_SIZE as u64;
    let tss: &'static mut TaskStateSegment = Box::leak(Box::new(tss));
    TSS_OF[index].store(tss, Ordering::Release);
    // SAFETY: the TSS lives for ever; the GDT only needs its address, and from now on
    // it is written only through `TSS_OF` by this CPU (`set_kernel_stack`).
    load(Box::leak(Box::new(table(unsafe { &*(tss as *const TaskStateSegment) }))));
}

/// A GDT in the layout `syscall`/`sysret` need, with `tss` last.
fn table(tss: &'static TaskStateSegment) -> GlobalDescriptorTable {
    let mut gdt = GlobalDescriptorTable::new();
    gdt.append(Descriptor::kernel_code_segment());
    gdt.append(Descriptor::kernel_data_segment());
    // 32-bit user code: present, DPL 3, code, readable, 32-bit, 4 GiB.
    gdt.append(Descriptor::UserSegment(0x00cf_fa00_0000_ffff));
    gdt.append(Descriptor::user_data_segment());
    gdt.append(Descriptor::user_code_segment());
    gdt.append(Descriptor::tss_segment(tss));
    gdt
}

/// Loads `gdt` on this CPU and reloads every segment register and the task register.
fn load(gdt: &'static GlobalDescriptorTable) {
    gdt.load();
    // SAFETY: the selectors name the descriptors `table` appends, in that order.
    unsafe {
        CS::set_reg(SegmentSelector(KERNEL_CS));
        SS::set_reg(SegmentSelector(KERNEL_SS));
        DS::set_reg(SegmentSelector(0));
        ES::set_reg(SegmentSelector(0));
        load_tss(SegmentSelector(0x30));
    }
}

/// Sets the stack this CPU switches to when an interrupt or exception arrives from
/// user mode (TSS.RSP0). Called on every switch to a thread that runs in user mode.
pub fn set_kernel_stack(top: u64) {
    crate::cpu::without_interrupts(|| {
        let tss = TSS_OF[crate::percpu::index()].load(Ordering::Acquire);
        assert!(!tss.is_null(), "set_kernel_stack before this CPU loaded its TSS");
        // SAFETY: each CPU writes only its own TSS, with interrupts off, so nothing
        // else touches it; the CPU reads RSP0 only on a privilege change, which cannot
        // happen here.
        unsafe { (*tss).privilege_stack_table[0] = VirtAddr::new(top) };
    });
}
