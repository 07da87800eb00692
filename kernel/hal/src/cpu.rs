//! CPU instructions and registers the kernel needs, behind safe functions.

use x86_64::instructions::{hlt, interrupts, port::Port};
use x86_64::registers::control::Cr2;

/// I/O port of QEMU's `isa-debug-exit` device (see the test harness).
const DEBUG_EXIT_PORT: u16 = 0xf4;

/// Stops the CPU for good: interrupts off, halt forever.
pub fn halt_forever() -> ! {
    loop {
        interrupts::disable();
        hlt();
    }
}

/// Enables interrupts and halts until the next one arrives, atomically (`sti; hlt`), so
/// a wake-up between the check and the halt is never lost.
pub fn wait_for_interrupt() {
    interrupts::enable_and_hlt();
}

/// Enables maskable interrupts.
pub fn enable_interrupts() {
    interrupts::enable();
}

/// Disables maskable interrupts.
pub fn disable_interrupts() {
    interrupts::disable();
}

/// Whether maskable interrupts are enabled.
pub fn interrupts_enabled() -> bool {
    interrupts::are_enabled()
}

/// Runs `f` with interrupts disabled, restoring the previous state afterwards.
pub fn without_interrupts<R>(f: impl FnOnce() -> R) -> R {
    interrupts::without_interrupts(f)
}

/// Reads the time-stamp counter.
pub fn read_tsc() -> u64 {
    // SAFETY: `rdtsc` has no side effects and is available on every x86_64 CPU.
    unsafe { core::arch::x86_64::_rdtsc() }
}

/// The faulting address of the last page fault.
pub fn fault_address() -> u64 {
    Cr2::read_raw()
}

/// Exits QEMU through `isa-debug-exit` with exit status `(code << 1) | 1`. On a machine
/// without that device the write does nothing, so this then halts instead.
pub fn exit_qemu(code: u32) -> ! {
    let mut port = Port::<u32>::new(DEBUG_EXIT_PORT);
    // SAFETY: port 0xf4 is QEMU's debug-exit device or unused; writing to an unused
    // I/O port has no effect on PC hardware.
    unsafe { port.write(code) };
    halt_forever()
}

/// CPU features berth cares about, from CPUID.
#[derive(Debug, Clone, Copy)]
pub struct Features {
    /// The local APIC supports x2APIC (MSR) mode.
    pub x2apic: bool,
    /// The TSC runs at a constant rate in all power states.
    pub invariant_tsc: bool,
    /// `xsave`/`xrstor` are available.
    pub xsave: bool,
    /// AVX registers exist.
    pub avx: bool,
    /// 1 GiB pages are supported.
    pub huge_pages_1g: bool,
    /// `fsgsbase` instructions are available.
    pub fsgsbase: bool,
}

/// Reads the CPU's feature flags.
pub fn features() -> Features {
    use core::arch::x86_64::{__cpuid, __cpuid_count};
    // Leaves above the reported maximum are not queried.
    let max = __cpuid(0).eax;
    let max_ext = __cpuid(0x8000_0000).eax;
    let leaf1 = __cpuid(1);
    let leaf7 = if max >= 7 { __cpuid_count(7, 0).ebx } else { 0 };
    let ext1 = if max_ext >= 0x8000_0001 { __cpuid(0x8000_0001).edx } else { 0 };
    let ext7 = if max_ext >= 0x8000_0007 { __cpuid(0x8000_0007).edx } else { 0 };
    Features {
        x2apic: leaf1.ecx & (1 << 21) != 0,
        invariant_tsc: ext7 & (1 << 8) != 0,
        xsave: leaf1.ecx & (1 << 26) != 0,
        avx: leaf1.ecx & (1 << 28) != 0,
        huge_pages_1g: ext1 & (1 << 26) != 0,
        fsgsbase: leaf7 & 1 != 0,
    }
}

/// A fault the kernel's self-tests raise on purpose, to show that faults in kernel
/// mode are reported rather than hung.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeliberateFault {
    /// A read of an unmapped kernel address (the guard page at the bottom of the
    /// kernel stack window, which is never mapped).
    PageFault,
    /// An integer division by zero.
    DivideError,
}

/// Raises `fault` in kernel mode. The kernel's fault handler reports it and stops the
/// machine, so this does not return.
pub fn raise(fault: DeliberateFault) -> ! {
    match fault {
        // SAFETY: the load targets a canonical kernel address that is never mapped; it
        // faults before reading anything, and the handler does not return here.
        DeliberateFault::PageFault => unsafe {
            core::arch::asm!("mov rax, [{}]", in(reg) crate::layout::STACKS_START, out("rax") _);
        },
        // SAFETY: `div` by zero raises #DE before changing any register.
        DeliberateFault::DivideError => unsafe {
            core::arch::asm!("xor edx, edx", "mov eax, 1", "xor ecx, ecx", "div ecx", out("eax") _, out("edx") _, out("ecx") _);
        },
    }
    halt_forever()
}

/// A hardware random number (RDSEED, else RDRAND), if the CPU has either.
pub fn hardware_random() -> Option<u64> {
    use core::arch::x86_64::{__cpuid, __cpuid_count};
    let rdrand = __cpuid(1).ecx & (1 << 30) != 0;
    let rdseed = __cpuid(0).eax >= 7 && __cpuid_count(7, 0).ebx & (1 << 18) != 0;
    let mut value = 0u64;
    let mut ok: u8 = 0;
    for _ in 0..10 {
        if rdseed {
            // SAFETY: RDSEED exists (checked by CPUID); it only writes its operands.
            unsafe { core::arch::asm!("rdseed {v}", "setc {ok}", v = out(reg) value, ok = out(reg_byte) ok) };
        } else if rdrand {
            // SAFETY: RDRAND exists (checked by CPUID); it only writes its operands.
            unsafe { core::arch::asm!("rdrand {v}", "setc {ok}", v = out(reg) value, ok = out(reg_byte) ok) };
        } else {
            return None;
        }
        if ok != 0 {
            return Some(value);
        }
    }
    None
}
