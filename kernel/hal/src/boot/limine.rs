//! The Limine boot protocol: requests placed in the image, read back at `_start`.
//!
//! The kernel asks for base revision 3 and works with 2 as well: Limine 8 (the newest
//! whose binaries can be had here) knows only 2, boots the kernel with it and leaves
//! the request unanswered. Nothing berth uses differs between the two but the RSDP's
//! address (virtual in 2, physical in 3), which `from_limine` takes either way.
//!
//! With the MP request, Limine starts the other CPUs itself and parks them, each
//! waiting for an address to jump to ([`parked_cpu`]; `crate::smp` sends them on).

use super::{early_init, enter_kernel, fail, kernel_virt_range};
use crate::bootinfo::{LimineInput, LimineMemoryEntry, LimineModule, PhysRange, from_limine};
use alloc::string::String;
use core::arch::global_asm;
use limine::BaseRevision;
use limine::request::{
    BootloaderInfoRequest, ExecutableAddressRequest, ExecutableCmdlineRequest, ExecutableFileRequest, HhdmRequest,
    MemoryMapRequest, ModuleRequest, MpRequest, RequestsEndMarker, RequestsStartMarker, RsdpRequest,
};

#[used]
#[unsafe(link_section = ".requests_start")]
static START_MARKER: RequestsStartMarker = RequestsStartMarker::new();
#[used]
#[unsafe(link_section = ".requests")]
static BASE_REVISION: BaseRevision = BaseRevision::with_revision(3);
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
/// Where loaders that predate the command-line request (Limine 8) put the command line.
#[used]
#[unsafe(link_section = ".requests")]
static FILE: ExecutableFileRequest = ExecutableFileRequest::new();
#[used]
#[unsafe(link_section = ".requests")]
static MP: MpRequest = MpRequest::new();
#[used]
#[unsafe(link_section = ".requests_end")]
static END_MARKER: RequestsEndMarker = RequestsEndMarker::new();

extern "C" fn limine_main() -> ! {
    early_init();
    let base_revision = if BASE_REVISION.is_supported() { Some(3) } else { BASE_REVISION.loaded_revision() };
    if base_revision.is_some_and(|r| r < 2) {
        fail(&"the boot loader booted with a Limine base revision older than 2");
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
        cmdline: match (CMDLINE.get_response(), FILE.get_response()) {
            (Some(c), _) => c.cmdline().to_string_lossy().into_owned(),
            (None, Some(f)) => f.file().string().to_string_lossy().into_owned(),
            (None, None) => String::new(),
        },
        rsdp: RSDP.get_response().map(|r| r.address() as u64),
        base_revision,
    };
    match from_limine(input) {
        Ok(info) => enter_kernel(info),
        Err(e) => fail(&e),
    }
}

/// The CPU with local APIC id `apic_id` if Limine started it and parked it, waiting
/// for an address to jump to (only when Limine booted the kernel).
pub(crate) fn parked_cpu(apic_id: u32) -> Option<&'static limine::mp::Cpu> {
    let response = MP.get_response()?;
    (apic_id != response.bsp_lapic_id()).then_some(())?;
    response.cpus().iter().find(|c| c.lapic_id == apic_id).copied()
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
