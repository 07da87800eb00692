//! Interrupts and exceptions: the IDT, one entry stub per vector, and the trap frame.
//!
//! Every vector's stub pushes its number (and a zero error code where the CPU pushes
//! none), then a common path saves the general registers into a [`TrapFrame`] on the
//! current kernel stack and calls the handler the kernel registered with
//! [`set_handler`]. On return the frame, possibly modified, is restored with `iretq`.

use crate::gdt;
use core::arch::global_asm;
use core::fmt;
use x86_64::VirtAddr;
use x86_64::structures::idt::InterruptDescriptorTable;

/// The registers saved on entry to the kernel, in stack order.
#[repr(C)]
#[derive(Clone, Default)]
#[allow(missing_docs)]
pub struct TrapFrame {
    pub r15: u64,
    pub r14: u64,
    pub r13: u64,
    pub r12: u64,
    pub r11: u64,
    pub r10: u64,
    pub r9: u64,
    pub r8: u64,
    pub rbp: u64,
    pub rdi: u64,
    pub rsi: u64,
    pub rdx: u64,
    pub rcx: u64,
    pub rbx: u64,
    pub rax: u64,
    /// The interrupt vector (or [`SYSCALL_VECTOR`] for a system call).
    pub vector: u64,
    /// The CPU's error code, or 0.
    pub error_code: u64,
    pub rip: u64,
    pub cs: u64,
    pub rflags: u64,
    pub rsp: u64,
    pub ss: u64,
}

/// The `vector` value of frames built by the `syscall` entry path.
pub const SYSCALL_VECTOR: u64 = 0x100;

impl TrapFrame {
    /// Whether the trap came from user mode.
    pub fn from_user(&self) -> bool {
        self.cs & 3 == 3
    }
}

impl fmt::Debug for TrapFrame {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "RIP {:#018x} CS {:#x} RFLAGS {:#x} RSP {:#018x} SS {:#x}",
            self.rip, self.cs, self.rflags, self.rsp, self.ss
        )?;
        writeln!(f, "RAX {:#018x} RBX {:#018x} RCX {:#018x} RDX {:#018x}", self.rax, self.rbx, self.rcx, self.rdx)?;
        writeln!(f, "RSI {:#018x} RDI {:#018x} RBP {:#018x} R8  {:#018x}", self.rsi, self.rdi, self.rbp, self.r8)?;
        writeln!(f, "R9  {:#018x} R10 {:#018x} R11 {:#018x} R12 {:#018x}", self.r9, self.r10, self.r11, self.r12)?;
        write!(f, "R13 {:#018x} R14 {:#018x} R15 {:#018x}", self.r13, self.r14, self.r15)
    }
}

/// The kernel's trap handler.
pub type Handler = fn(&mut TrapFrame);

static HANDLER: spin::Once<Handler> = spin::Once::new();
static IDT: spin::Once<InterruptDescriptorTable> = spin::Once::new();

/// Vectors for which the CPU pushes an error code.
const fn has_error_code(vector: u8) -> bool {
    matches!(vector, 8 | 10..=14 | 17 | 21 | 29 | 30)
}

/// Loads the GDT, TSS and IDT. Traps before [`set_handler`] print and halt.
pub fn init() {
    gdt::init();
    let idt = IDT.call_once(|| {
        let mut idt = InterruptDescriptorTable::new();
        let stub = |vector: u8| VirtAddr::new(trap_stubs as *const () as u64 + 16 * u64::from(vector));
        // SAFETY: each address is the start of the matching stub in `trap_stubs`,
        // which saves the registers and returns with `iretq`; stubs of vectors with a
        // CPU-pushed error code omit the dummy push, the others push one.
        unsafe {
            idt.divide_error.set_handler_addr(stub(0));
            idt.debug.set_handler_addr(stub(1));
            idt.non_maskable_interrupt.set_handler_addr(stub(2)).set_stack_index(gdt::NMI_IST);
            idt.breakpoint.set_handler_addr(stub(3)).set_privilege_level(x86_64::PrivilegeLevel::Ring3);
            idt.overflow.set_handler_addr(stub(4));
            idt.bound_range_exceeded.set_handler_addr(stub(5));
            idt.invalid_opcode.set_handler_addr(stub(6));
            idt.device_not_available.set_handler_addr(stub(7));
            idt.double_fault.set_handler_addr(stub(8)).set_stack_index(gdt::DOUBLE_FAULT_IST);
            idt.invalid_tss.set_handler_addr(stub(10));
            idt.segment_not_present.set_handler_addr(stub(11));
            idt.stack_segment_fault.set_handler_addr(stub(12));
            idt.general_protection_fault.set_handler_addr(stub(13));
            idt.page_fault.set_handler_addr(stub(14));
            idt.x87_floating_point.set_handler_addr(stub(16));
            idt.alignment_check.set_handler_addr(stub(17));
            idt.machine_check.set_handler_addr(stub(18));
            idt.simd_floating_point.set_handler_addr(stub(19));
            idt.virtualization.set_handler_addr(stub(20));
            idt.cp_protection_exception.set_handler_addr(stub(21));
            idt.hv_injection_exception.set_handler_addr(stub(28));
            idt.vmm_communication_exception.set_handler_addr(stub(29));
            idt.security_exception.set_handler_addr(stub(30));
            for vector in 32..=255u8 {
                idt[vector].set_handler_addr(stub(vector));
            }
        }
        idt
    });
    idt.load();
}

/// Loads the IDT [`init`] built on this CPU (an application processor).
pub(crate) fn load_idt() {
    if let Some(idt) = IDT.get() {
        idt.load();
    }
}

/// Registers the kernel's trap handler (once).
pub fn set_handler(handler: Handler) {
    HANDLER.call_once(|| handler);
}

/// Called by the common stub with the saved frame.
extern "C" fn trap_entry(frame: &mut TrapFrame) {
    match HANDLER.get() {
        Some(handler) => handler(frame),
        None => {
            crate::serial::write_emergency(b"berth: trap before the kernel installed a handler\n");
            let mut line = heapless_line(frame.vector, frame.error_code, frame.rip);
            crate::serial::write_emergency(line.as_bytes_mut());
            crate::cpu::exit_qemu(0x11)
        }
    }
}

/// Formats a one-line fault summary without allocating.
fn heapless_line(vector: u64, error: u64, rip: u64) -> LineBuf {
    use core::fmt::Write;
    let mut line = LineBuf { buf: [0; 96], len: 0 };
    let _ = writeln!(line, "vector {vector} error {error:#x} rip {rip:#x}");
    line
}

struct LineBuf {
    buf: [u8; 96],
    len: usize,
}

impl LineBuf {
    fn as_bytes_mut(&mut self) -> &mut [u8] {
        &mut self.buf[..self.len]
    }
}

impl fmt::Write for LineBuf {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        let n = s.len().min(self.buf.len() - self.len);
        self.buf[self.len..self.len + n].copy_from_slice(&s.as_bytes()[..n]);
        self.len += n;
        Ok(())
    }
}

const _: () = assert!(!has_error_code(0) && has_error_code(14));

// The stubs: 256 entries, 16 bytes apart. `trap_common` builds the TrapFrame. On entry
// from user mode (CS RPL 3) it swaps GS to the kernel's per-CPU base, and back on exit.
global_asm!(
    r#"
    .section .text
    .balign 16
    .global trap_stubs
trap_stubs:
    .set vector, 0
    .rept 256
    .balign 16
    .if vector == 8 || (vector >= 10 && vector <= 14) || vector == 17 || vector == 21 || vector == 29 || vector == 30
    .else
    push $0
    .endif
    push $vector
    jmp trap_common
    .set vector, vector + 1
    .endr

    .balign 16
trap_common:
    testb $3, 24(%rsp)
    jz 1f
    swapgs
1:
    push %rax
    push %rbx
    push %rcx
    push %rdx
    push %rsi
    push %rdi
    push %rbp
    push %r8
    push %r9
    push %r10
    push %r11
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, %rdi
    cld
    call {trap_entry}
    .global trap_return
trap_return:
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %r11
    pop %r10
    pop %r9
    pop %r8
    pop %rbp
    pop %rdi
    pop %rsi
    pop %rdx
    pop %rcx
    pop %rbx
    pop %rax
    testb $3, 24(%rsp)
    jz 2f
    swapgs
2:
    add $16, %rsp
    iretq
"#,
    trap_entry = sym trap_entry,
    options(att_syntax)
);

unsafe extern "C" {
    /// The first of the 256 entry stubs (not callable; only its address is used).
    fn trap_stubs();
}
