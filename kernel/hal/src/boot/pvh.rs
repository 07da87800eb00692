//! QEMU's PVH direct boot: a 32-bit entry that builds early page tables and enters long
//! mode, then `pvh_main`.
//!
//! QEMU loads the kernel's segments at their physical addresses and jumps to the
//! address in the Xen ELF note in 32-bit protected mode with paging off and `%ebx`
//! holding the physical address of `hvm_start_info`. The entry code maps the first
//! 4 GiB of physical memory three times with 2 MiB pages: at 0 (to survive enabling
//! paging), at the direct-map offset, and the first 1 GiB at -2 GiB where the kernel
//! is linked.

use super::{early_init, enter_kernel, fail, linked_kernel_range};
use crate::bootinfo::{PhysMemory, from_pvh};
use crate::layout::PVH_PHYS_OFFSET;
use core::arch::global_asm;

/// How much physical memory the early page tables map at the direct-map offset.
const EARLY_MAPPED: u64 = 4 << 30;

/// Physical memory as the PVH early page tables map it.
struct EarlyDirectMap;

impl PhysMemory for EarlyDirectMap {
    fn bytes(&self, addr: u64, len: u64) -> Option<&[u8]> {
        let end = addr.checked_add(len)?;
        if end > EARLY_MAPPED || len > isize::MAX as u64 {
            return None;
        }
        // SAFETY: the early page tables map [0, 4 GiB) at PVH_PHYS_OFFSET, read-write,
        // and the range was just checked to lie inside it. Boot structures and modules
        // are not written while BootInfo is built from them.
        Some(unsafe { core::slice::from_raw_parts((PVH_PHYS_OFFSET + addr) as *const u8, len as usize) })
    }
}

extern "C" fn pvh_main(start_info: u64) -> ! {
    early_init();
    match from_pvh(&EarlyDirectMap, start_info, linked_kernel_range(), PVH_PHYS_OFFSET) {
        Ok(info) => enter_kernel(info),
        Err(e) => fail(&e),
    }
}

global_asm!(
    r#"
    .section .note.Xen, "a", @note
    .balign 4
    .long 4
    .long 4
    .long 18
    .asciz "Xen"
    .balign 4
    .long pvh_start32 - 0xffffffff80000000
    .balign 4

    .section .bss.boot_tables, "aw", @nobits
    .balign 4096
pvh_pml4:
    .skip 4096
pvh_pdpt_low:
    .skip 4096
pvh_pdpt_high:
    .skip 4096
pvh_pd:
    .skip 4096 * 4

    .section .rodata
    .balign 8
pvh_gdt:
    .quad 0
    .quad 0x00af9a000000ffff
    .quad 0x00cf92000000ffff
pvh_gdt_end:
    .balign 8
pvh_gdt_ptr:
    .word pvh_gdt_end - pvh_gdt - 1
    .long pvh_gdt - 0xffffffff80000000

    .section .text.boot, "ax"
    .code32
    .global pvh_start32
pvh_start32:
    cli
    cld
    mov %ebx, %esi

    /* Zero the seven table pages. */
    mov $(pvh_pml4 - 0xffffffff80000000), %edi
    mov $(7 * 1024), %ecx
    xor %eax, %eax
    rep stosl

    /* 2048 PD entries of 2 MiB: present | writable | huge. */
    mov $(pvh_pd - 0xffffffff80000000), %edi
    xor %ecx, %ecx
1:
    mov %ecx, %eax
    shl $21, %eax
    or $0x83, %eax
    mov %eax, (%edi, %ecx, 8)
    inc %ecx
    cmp $2048, %ecx
    jne 1b

    /* Low PDPT: four PDs for 4 GiB. */
    mov $(pvh_pdpt_low - 0xffffffff80000000), %edi
    mov $(pvh_pd - 0xffffffff80000000 + 3), %eax
    mov %eax, 0(%edi)
    add $4096, %eax
    mov %eax, 8(%edi)
    add $4096, %eax
    mov %eax, 16(%edi)
    add $4096, %eax
    mov %eax, 24(%edi)

    /* High PDPT: entry 510 (-2 GiB) maps the first GiB. */
    mov $(pvh_pdpt_high - 0xffffffff80000000), %edi
    mov $(pvh_pd - 0xffffffff80000000 + 3), %eax
    mov %eax, 4080(%edi)

    /* PML4: identity (0), direct map (256), kernel (511). */
    mov $(pvh_pml4 - 0xffffffff80000000), %edi
    mov $(pvh_pdpt_low - 0xffffffff80000000 + 3), %eax
    mov %eax, 0(%edi)
    mov %eax, 2048(%edi)
    mov $(pvh_pdpt_high - 0xffffffff80000000 + 3), %eax
    mov %eax, 4088(%edi)

    /* PAE, then CR3, then EFER.LME|NXE, then paging with write protection. */
    mov %cr4, %eax
    or $0x20, %eax
    mov %eax, %cr4
    mov %edi, %cr3
    mov $0xc0000080, %ecx
    rdmsr
    or $0x900, %eax
    wrmsr
    mov %cr0, %eax
    or $0x80010001, %eax
    mov %eax, %cr0

    lgdt (pvh_gdt_ptr - 0xffffffff80000000)
    ljmp $0x08, $(pvh_start64 - 0xffffffff80000000)

    .code64
pvh_start64:
    mov $0x10, %eax
    mov %eax, %ds
    mov %eax, %es
    mov %eax, %ss
    xor %eax, %eax
    mov %eax, %fs
    mov %eax, %gs
    movabs $__boot_stack_top, %rsp
    xor %ebp, %ebp
    mov %esi, %edi
    movabs ${pvh_main}, %rax
    call *%rax
    ud2
"#,
    pvh_main = sym pvh_main,
    options(att_syntax)
);
