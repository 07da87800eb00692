//! The Limine boot protocol: requests placed in the image, read back at `_start`.

use super::{early_init, enter_kernel, fail, kernel_virt_range};
use crate::bootinfo::{LimineInput, LimineMemoryEntry, LimineModule, PhysRange, from_limine};
use alloc::string::String;
use core::arch::global_asm;
use limine::BaseRevision;
use limine::request::{
    BootloaderInfoRequest, ExecutableAddressRequest, ExecutableCmdlineRequest, HhdmRequest, MemoryMapRequest,
    ModuleRequest, RequestsEndMarker, RequestsStartMarker, RsdpRequest,
};

#[used]
#[unsafe(link_section = ".requests_start")]
static START_MARKER: RequestsStartMarker = RequestsStartMarker::new();
#[used]
#[unsafe(link_section = ".requests")]
static BASE_REVISION: BaseRevision = BaseRevision::new();
#[used]
#[unsafe(link_section = ".requests")]
static INFO: BootloaderInfoRequest = BootloaderInfoRequest::new();
#[used]
#[unsafe(link_section = ".requests")]
static HHDM: HhdmRequest = HhdmRequest::new();
#[used]
#[unsafe(link_section = ".requests")]
static MEMORY_MAP: MemoryMapRequest = MemoryMapRequest::new();
#[used]
#[unsafe(link_section = ".requests")]
static MODULES: ModuleRequest = ModuleRequest::new();
#[used]
#[unsafe(link_section = ".requests")]
static RSDP: RsdpRequest = RsdpRequest::new();
#[used]
#[unsafe(link_section = ".requests")]
static ADDRESS: ExecutableAddressRequest = ExecutableAddressRequest::new();
#[used]
#[unsafe(link_section = ".requests")]
static CMDLINE: ExecutableCmdlineRequest = ExecutableCmdlineRequest::new();
#[used]
#[unsafe(link_section = ".requests_end")]
static END_MARKER: RequestsEndMarker = RequestsEndMarker::new();

extern "C" fn limine_main() -> ! {
    early_init();
    if !BASE_REVISION.is_supported() {
        fail(&"the boot loader does not support Limine base revision 3");
    }
    let (Some(hhdm), Some(memory), Some(address)) =
        (HHDM.get_response(), MEMORY_MAP.get_response(), ADDRESS.get_response())
    else {
        fail(&"the boot loader did not answer the HHDM, memory map or address requests");
    };
    let (start, end) = kernel_virt_range();
    let kernel_phys = start - address.virtual_base() + address.physical_base();
    let input = LimineInput {
        loader: INFO.get_response().map(|i| (String::from(i.name()), String::from(i.version()))).unwrap_or_default(),
        memory_map: memory
            .entries()
            .iter()
            .map(|e| LimineMemoryEntry { base: e.base, length: e.length, kind: limine_type(e.entry_type) })
            .collect(),
        hhdm: hhdm.offset(),
        kernel: PhysRange { start: kernel_phys, end: kernel_phys + (end - start) },
        modules: MODULES
            .get_response()
            .map(|m| {
                m.modules()
                    .iter()
                    .map(|f| LimineModule {
                        addr: f.addr() as u64,
                        size: f.size(),
                        cmdline: f.string().to_string_lossy().into_owned(),
                    })
                    .collect()
            })
            .unwrap_or_default(),
        cmdline: CMDLINE.get_response().map(|c| c.cmdline().to_string_lossy().into_owned()).unwrap_or_default(),
        rsdp: RSDP.get_response().map(|r| r.address() as u64),
    };
    match from_limine(input) {
        Ok(info) => enter_kernel(info),
        Err(e) => fail(&e),
    }
}

/// Limine's numeric memory type (the crate wraps it in a newtype).
fn limine_type(t: limine::memory_map::EntryType) -> u64 {
    use limine::memory_map::EntryType as T;
    [
        T::USABLE,
        T::RESERVED,
        T::ACPI_RECLAIMABLE,
        T::ACPI_NVS,
        T::BAD_MEMORY,
        T::BOOTLOADER_RECLAIMABLE,
        T::EXECUTABLE_AND_MODULES,
        T::FRAMEBUFFER,
    ]
    .iter()
    .position(|&k| k == t)
    .map_or(1, |i| i as u64)
}

global_asm!(
    r#"
    .section .text.boot, "ax"
    .code64
    .global _start
_start:
    cli
    movabs $__boot_stack_top, %rsp
    xor %ebp, %ebp
    movabs ${limine_main}, %rax
    call *%rax
    ud2
"#,
    limine_main = sym limine_main,
    options(att_syntax)
);
