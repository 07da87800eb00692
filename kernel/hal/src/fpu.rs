//! Floating-point and vector register state of user threads.
//!
//! The kernel itself never touches these registers (it is built soft-float), so each
//! thread's state is saved and restored eagerly at every context switch: `xsave`/`xrstor`
//! where the CPU has XSAVE (covering AVX when present), `fxsave`/`fxrstor` otherwise.

use alloc::boxed::Box;
use core::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use x86_64::registers::control::{Cr0, Cr0Flags, Cr4, Cr4Flags};
use x86_64::registers::xcontrol::{XCr0, XCr0Flags};

/// Largest save area supported (AVX-512 needs about 2.7 KiB).
const MAX_AREA: usize = 4096;

static USE_XSAVE: AtomicBool = AtomicBool::new(false);
static AREA_SIZE: AtomicUsize = AtomicUsize::new(512);
static INITIAL: spin::Once<FpuState> = spin::Once::new();

/// A saved register image (the `fxsave`/`xsave` area, 64-byte aligned).
#[repr(C, align(64))]
struct Area([u8; MAX_AREA]);

/// One thread's saved FPU/SSE/AVX state.
pub struct FpuState {
    area: Box<Area>,
}

/// Enables SSE (and XSAVE with AVX where present) for user mode and records the
/// initial register state new threads start with.
pub fn init() {
    let features = crate::cpu::features();
    enable_on_this_cpu();
    if features.xsave {
        let size = core::arch::x86_64::__cpuid_count(0xd, 0).ebx as usize;
        if size <= MAX_AREA {
            USE_XSAVE.store(true, Ordering::Relaxed);
            AREA_SIZE.store(size, Ordering::Relaxed);
        }
    }
    INITIAL.call_once(|| {
        // SAFETY: `fninit` resets the x87 unit; writing MXCSR's default (all exceptions
        // masked) is valid with OSFXSR set.
        unsafe {
            core::arch::asm!("fninit");
            let mxcsr: u32 = 0x1f80;
            core::arch::asm!("ldmxcsr [{}]", in(reg) &mxcsr);
        }
        let mut state = FpuState { area: Box::new(Area([0; MAX_AREA])) };
        state.save();
        state
    });
}

/// Enables SSE (and XSAVE with AVX where present) on this CPU: the boot CPU in
/// [`init`], each application processor as it starts.
pub(crate) fn enable_on_this_cpu() {
    let features = crate::cpu::features();
    // SAFETY: MP/EM/TS as required for SSE; OSFXSR/OSXMMEXCPT declare that the OS saves
    // SSE state (it does, in `switch`); OSXSAVE only when CPUID reports XSAVE.
    unsafe {
        Cr0::update(|f| {
            f.remove(Cr0Flags::EMULATE_COPROCESSOR | Cr0Flags::TASK_SWITCHED);
            f.insert(Cr0Flags::MONITOR_COPROCESSOR);
        });
        Cr4::update(|f| f.insert(Cr4Flags::OSFXSR | Cr4Flags::OSXMMEXCPT_ENABLE));
        if features.xsave {
            Cr4::update(|f| f.insert(Cr4Flags::OSXSAVE));
            let mut xcr0 = XCr0Flags::X87 | XCr0Flags::SSE;
            if features.avx {
                xcr0 |= XCr0Flags::AVX;
            }
            XCr0::write(xcr0);
        }
    }
}

/// The MXCSR bits this CPU allows, from the image `fxsave` wrote at boot (0 there
/// means the architectural default, 0xffbf).
fn mxcsr_mask() -> u32 {
    let saved =
        INITIAL.get().map_or(0, |s| u32::from_le_bytes([s.area.0[28], s.area.0[29], s.area.0[30], s.area.0[31]]));
    if saved == 0 { 0xffbf } else { saved }
}

impl FpuState {
    /// The state a new program starts with.
    pub fn initial() -> FpuState {
        let mut area = Box::new(Area([0; MAX_AREA]));
        if let Some(initial) = INITIAL.get() {
            area.0.copy_from_slice(&initial.area.0);
        }
        FpuState { area }
    }

    /// A copy of the registers as they are now (for `fork`).
    pub fn current() -> FpuState {
        let mut state = FpuState { area: Box::new(Area([0; MAX_AREA])) };
        state.save();
        state
    }

    /// Saves the CPU's registers into this area.
    pub(crate) fn save(&mut self) {
        let ptr = self.area.0.as_mut_ptr();
        // SAFETY: the area is 64-byte aligned and large enough for the CPU's save
        // format (checked in `init`); xsave with all components requested saves those
        // enabled in XCR0.
        unsafe {
            if USE_XSAVE.load(Ordering::Relaxed) {
                core::arch::asm!("xsave64 [{}]", in(reg) ptr, in("eax") u32::MAX, in("edx") u32::MAX);
            } else {
                core::arch::asm!("fxsave64 [{}]", in(reg) ptr);
            }
        }
    }

    /// Loads this area into the CPU's registers.
    pub(crate) fn restore(&self) {
        let ptr = self.area.0.as_ptr();
        // SAFETY: the area holds an image produced by `save` (or by `set_legacy_area`,
        // which keeps the header valid and MXCSR's reserved bits clear), so restoring
        // it cannot fault.
        unsafe {
            if USE_XSAVE.load(Ordering::Relaxed) {
                core::arch::asm!("xrstor64 [{}]", in(reg) ptr, in("eax") u32::MAX, in("edx") u32::MAX);
            } else {
                core::arch::asm!("fxrstor64 [{}]", in(reg) ptr);
            }
        }
    }

    /// The 512-byte legacy (`fxsave` layout) part, as it appears in a signal frame.
    pub fn legacy_area(&self) -> &[u8; 512] {
        self.area.0.first_chunk::<512>().unwrap_or(&[0; 512])
    }

    /// Replaces the legacy part from a signal frame being returned from. A frame whose
    /// MXCSR sets bits the CPU reserves (its own MXCSR_MASK says which, never the
    /// frame's, which the program wrote) is refused and nothing changes: `fxrstor` of
    /// it would fault. Linux refuses it too (the program gets SIGSEGV).
    #[must_use]
    pub fn set_legacy_area(&mut self, bytes: &[u8; 512]) -> bool {
        // MXCSR lives at byte 24; MXCSR_MASK at 28.
        let mask = mxcsr_mask();
        if u32::from_le_bytes([bytes[24], bytes[25], bytes[26], bytes[27]]) & !mask != 0 {
            return false;
        }
        self.area.0[..512].copy_from_slice(bytes);
        self.area.0[28..32].copy_from_slice(&mask.to_le_bytes());
        if USE_XSAVE.load(Ordering::Relaxed) {
            // Mark x87 and SSE as present in XSTATE_BV so xrstor loads them.
            self.area.0[512] |= 0b11;
        }
        true
    }
}
