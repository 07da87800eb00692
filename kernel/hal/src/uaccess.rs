//! Copying to and from user memory: the one checked way the kernel touches it.
//!
//! Every copy first checks that the whole user range lies below [`USER_END`], so user
//! pointers can never reach kernel memory. The copy itself is a `rep movsb`/`rep
//! stosb` whose address range the page-fault handler recognizes: a fault there that
//! the kernel cannot resolve (by demand paging) resumes at a fix-up that makes the
//! copy return [`BadAddress`] (which system calls turn into `EFAULT`).

use crate::layout::USER_END;
use crate::trap::TrapFrame;
use core::arch::global_asm;

/// A user address range that is not accessible.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BadAddress;

unsafe extern "C" {
    /// Copies `len` bytes from `src` to `dst`; returns the number NOT copied.
    fn user_copy(dst: *mut u8, src: *const u8, len: usize) -> usize;
    /// Fills `len` bytes at `dst` with `byte`; returns the number NOT filled.
    fn user_fill(dst: *mut u8, byte: u8, len: usize) -> usize;
    static user_copy_start: u8;
    static user_copy_end: u8;
    static user_copy_fixup: u8;
}

fn check_range(addr: u64, len: usize) -> Result<(), BadAddress> {
    let end = addr.checked_add(len as u64).ok_or(BadAddress)?;
    if end <= USER_END { Ok(()) } else { Err(BadAddress) }
}

/// Copies `dst.len()` bytes from user address `src`.
pub fn copy_from_user(dst: &mut [u8], src: u64) -> Result<(), BadAddress> {
    check_range(src, dst.len())?;
    // SAFETY: the source range is user memory (checked above); faults in `user_copy`
    // are resolved or fixed up by the page-fault handler, never propagated; the
    // destination is a valid kernel buffer.
    let left = unsafe { user_copy(dst.as_mut_ptr(), src as *const u8, dst.len()) };
    if left == 0 { Ok(()) } else { Err(BadAddress) }
}

/// Copies `src` to user address `dst`.
pub fn copy_to_user(dst: u64, src: &[u8]) -> Result<(), BadAddress> {
    check_range(dst, src.len())?;
    // SAFETY: as in `copy_from_user`, with the roles reversed.
    let left = unsafe { user_copy(dst as *mut u8, src.as_ptr(), src.len()) };
    if left == 0 { Ok(()) } else { Err(BadAddress) }
}

/// Fills `len` bytes at user address `dst` with `byte`.
pub fn fill_user(dst: u64, byte: u8, len: usize) -> Result<(), BadAddress> {
    check_range(dst, len)?;
    // SAFETY: as in `copy_to_user`.
    let left = unsafe { user_fill(dst as *mut u8, byte, len) };
    if left == 0 { Ok(()) } else { Err(BadAddress) }
}

/// Whether a kernel-mode fault happened inside a user-memory copy.
pub fn in_user_copy(frame: &TrapFrame) -> bool {
    let (start, end) = (&raw const user_copy_start as u64, &raw const user_copy_end as u64);
    !frame.from_user() && (start..end).contains(&frame.rip)
}

/// Makes the interrupted user-memory copy give up: it returns the bytes left.
pub fn fail_user_copy(frame: &mut TrapFrame) {
    assert!(in_user_copy(frame), "fail_user_copy outside a user copy");
    frame.rip = &raw const user_copy_fixup as u64;
}

global_asm!(
    r#"
    .section .text
    .balign 16
    .global user_copy
    .global user_fill
    .global user_copy_start
    .global user_copy_end
    .global user_copy_fixup
user_copy:
    mov %rdx, %rcx
    jmp 1f
user_fill:
    mov %rdx, %rcx
    mov %esi, %eax
    jmp 2f
user_copy_start:
1:  rep movsb
    xor %eax, %eax
    ret
2:  rep stosb
    xor %eax, %eax
    ret
user_copy_end:
user_copy_fixup:
    mov %rcx, %rax
    ret
"#,
    options(att_syntax)
);
