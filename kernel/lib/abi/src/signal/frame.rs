//! The x86_64 signal frame: what the kernel pushes on the user stack to run a handler, and
//! what `rt_sigreturn` reads back.
//!
//! Linux builds, from the top of the chosen stack down:
//!
//! 1. the FPU state (an [`FxSaveArea`], or an XSAVE image that starts with one), 64-byte
//!    aligned; `uc_mcontext.fpstate` points at it;
//! 2. an [`RtSigframe`]: the return address (`sa_restorer`), the [`UContext`] and the
//!    [`SigInfo`], placed so that `(rsp + 8) % 16 == 0` at handler entry, as after a `call`.
//!
//! The handler runs with `rdi = sig`, `rsi = &frame.info`, `rdx = &frame.uc`, `rax = 0`.

use super::{SigInfo, StackT};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

abi_consts! {
    FRAME_CONSTS: Kernel;
    /// `uc_flags`: the FPU state is an XSAVE image ([`FxSaveArea::sw_reserved`] says how big).
    pub const UC_FP_XSTATE: u64 = 0x1;
    /// `uc_flags`: `uc_mcontext.ss` holds the interrupted SS.
    pub const UC_SIGCONTEXT_SS: u64 = 0x2;
    /// `uc_flags`: `rt_sigreturn` must restore SS exactly as saved.
    pub const UC_STRICT_RESTORE_SS: u64 = 0x4;
    /// `sw_reserved.magic1` of an XSAVE frame ("XSFP").
    pub const FP_XSTATE_MAGIC1: u32 = 0x4650_5853;
    /// The `u32` stored right after the XSAVE image of an XSAVE frame ("EXFP").
    pub const FP_XSTATE_MAGIC2: u32 = 0x4650_5845;
    /// Size of [`FP_XSTATE_MAGIC2`].
    pub const FP_XSTATE_MAGIC2_SIZE: usize = 4;
}

/// `struct sigcontext` (64-bit): the interrupted registers, `uc_mcontext` of a [`UContext`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
#[allow(missing_docs)] // the register fields are named after the registers
pub struct SigContext {
    pub r8: u64,
    pub r9: u64,
    pub r10: u64,
    pub r11: u64,
    pub r12: u64,
    pub r13: u64,
    pub r14: u64,
    pub r15: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rbp: u64,
    pub rbx: u64,
    pub rdx: u64,
    pub rax: u64,
    pub rcx: u64,
    pub rsp: u64,
    pub rip: u64,
    pub eflags: u64,
    pub cs: u16,
    pub gs: u16,
    pub fs: u16,
    /// Valid when `uc_flags` has [`UC_SIGCONTEXT_SS`]; older user space calls it `__pad0`.
    pub ss: u16,
    /// Error code of the exception that raised the signal.
    pub err: u64,
    /// Vector of that exception (14 for a page fault).
    pub trapno: u64,
    /// Low word of the blocked mask (legacy; `uc_sigmask` is authoritative).
    pub oldmask: u64,
    /// Faulting address of a page fault.
    pub cr2: u64,
    /// User address of the saved FPU state, or 0 if none.
    pub fpstate: u64,
    /// Reserved; zero.
    pub reserved1: [u64; 8],
}

/// The kernel's `struct ucontext` (`<asm/ucontext.h>`): 304 bytes.
///
/// glibc's `ucontext_t` is larger (a 128-byte `sigset_t` and FPU space follow); the
/// kernel's ends at an 8-byte `uc_sigmask`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct UContext {
    /// `UC_*` flags.
    pub uc_flags: u64,
    /// Unused by Linux; zero.
    pub uc_link: u64,
    /// The alternate stack settings at delivery.
    pub uc_stack: StackT,
    /// The interrupted registers.
    pub uc_mcontext: SigContext,
    /// The signal mask to restore on `rt_sigreturn`.
    pub uc_sigmask: u64,
}

/// The frame at the handler's `rsp` (the kernel's `struct rt_sigframe`, not in UAPI headers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct RtSigframe {
    /// Return address of the handler: `sa_restorer`, which calls `rt_sigreturn`.
    pub pretcode: u64,
    /// The context. The handler's `ret` pops `pretcode`, so `rt_sigreturn` finds this at
    /// the `rsp` it is entered with.
    pub uc: UContext,
    /// The siginfo passed in `rsi`.
    pub info: SigInfo,
}

/// `struct _fpx_sw_bytes`: software-defined bytes 464..512 of an FXSAVE image, which the
/// CPU leaves alone and Linux uses to describe an XSAVE frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct FpxSwBytes {
    /// [`FP_XSTATE_MAGIC1`] for an XSAVE frame, 0 for a plain FXSAVE one.
    pub magic1: u32,
    /// Size of the whole FPU area, including the trailing [`FP_XSTATE_MAGIC2`].
    pub extended_size: u32,
    /// The XSAVE feature bits present in the image.
    pub xfeatures: u64,
    /// Size of the XSAVE image, without the trailing magic.
    pub xstate_size: u32,
    /// Reserved; zero.
    pub padding: [u32; 7],
}

/// The 512-byte FXSAVE image (`struct _fpstate_64`): x87, MMX and SSE state.
///
/// The kernel fills it with `fxsave`/`xsave` and copies it to the frame verbatim. For a
/// plain FXSAVE frame leave [`sw_reserved`](Self::sw_reserved) zero and `uc_flags` without
/// [`UC_FP_XSTATE`]; for an XSAVE frame see [`FxSaveArea::mark_xstate`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct FxSaveArea {
    /// x87 control word.
    pub cwd: u16,
    /// x87 status word.
    pub swd: u16,
    /// Abridged x87 tag word.
    pub twd: u16,
    /// Last x87 opcode.
    pub fop: u16,
    /// Last x87 instruction pointer.
    pub rip: u64,
    /// Last x87 data pointer.
    pub rdp: u64,
    /// SSE control and status.
    pub mxcsr: u32,
    /// Writable MXCSR bits.
    pub mxcsr_mask: u32,
    /// ST0..ST7 / MM0..MM7, 16 bytes each.
    pub st_space: [u32; 32],
    /// XMM0..XMM15, 16 bytes each.
    pub xmm_space: [u32; 64],
    /// Reserved by the CPU.
    pub reserved2: [u32; 12],
    /// Software-defined bytes (`sw_reserved`).
    pub sw_reserved: FpxSwBytes,
}

zeroed_default!(FxSaveArea);

impl FxSaveArea {
    /// x87 control word after `fninit`: all exceptions masked, 64-bit precision, round to nearest.
    pub const INITIAL_CWD: u16 = 0x037f;
    /// MXCSR after reset: all exceptions masked, round to nearest.
    pub const INITIAL_MXCSR: u32 = 0x1f80;

    /// The state a new process starts with (as Linux's `fpstate_init_fxstate`).
    pub fn initial() -> FxSaveArea {
        FxSaveArea { cwd: Self::INITIAL_CWD, mxcsr: Self::INITIAL_MXCSR, ..FxSaveArea::default() }
    }

    /// Marks this image as the start of an XSAVE frame of `xstate_size` bytes holding the
    /// components in `xfeatures`: sets `magic1` and the sizes in `sw_reserved`.
    ///
    /// The caller also stores [`FP_XSTATE_MAGIC2`] at `fpstate + xstate_size` and sets
    /// [`UC_FP_XSTATE`] in `uc_flags`; the frame then occupies
    /// `xstate_size + FP_XSTATE_MAGIC2_SIZE` bytes.
    pub fn mark_xstate(&mut self, xstate_size: u32, xfeatures: u64) {
        self.sw_reserved = FpxSwBytes {
            magic1: FP_XSTATE_MAGIC1,
            extended_size: xstate_size + FP_XSTATE_MAGIC2_SIZE as u32,
            xfeatures,
            xstate_size,
            padding: [0; 7],
        };
    }

    /// Marks this image as a plain FXSAVE frame: zeroes `sw_reserved`.
    pub fn mark_fxsave(&mut self) {
        self.sw_reserved = FpxSwBytes::default();
    }

    /// Whether `sw_reserved` describes an XSAVE frame.
    pub fn is_xstate(&self) -> bool {
        self.sw_reserved.magic1 == FP_XSTATE_MAGIC1
    }
}
