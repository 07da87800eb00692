//! Access to the ACPI tables and the AML interpreter's view of the machine.

use crate::mm;
use crate::time;
use ::acpi::{AcpiError, AcpiTables, Handle, Handler, PciAddress, PhysicalMapping};
use core::ptr::NonNull;
use x86_64::instructions::port::Port;

/// Maps ACPI tables through the direct map and gives the AML interpreter port, memory
/// and PCI configuration access.
#[derive(Debug, Clone, Copy)]
pub struct Firmware;

/// Reads the ACPI tables from the RSDP the boot loader reported.
pub fn tables(rsdp: u64) -> Result<AcpiTables<Firmware>, AcpiError> {
    // SAFETY: the RSDP address comes from the boot loader (PVH start info or Limine's
    // RSDP response), which found it where the firmware put it.
    unsafe { AcpiTables::from_rsdp(Firmware, rsdp as usize) }
}

fn firmware_ptr<T>(phys: usize, len: usize) -> *mut T {
    match mm::map_firmware(phys as u64, len.max(1) as u64) {
        Ok(virt) => virt as *mut T,
        Err(e) => panic!("ACPI: cannot map firmware memory at {phys:#x}: {e}"),
    }
}

impl Handler for Firmware {
    unsafe fn map_physical_region<T>(&self, phys: usize, size: usize) -> PhysicalMapping<Self, T> {
        let Some(virt) = NonNull::new(firmware_ptr::<T>(phys, size)) else {
            panic!("ACPI: null mapping for {phys:#x}");
        };
        PhysicalMapping {
            physical_start: phys,
            virtual_start: virt,
            region_length: size,
            mapped_length: size,
            handler: *self,
        }
    }

    fn unmap_physical_region<T>(_region: &PhysicalMapping<Self, T>) {
        // Firmware mappings stay in the direct map.
    }

    fn read_u8(&self, address: usize) -> u8 {
        // SAFETY: AML names firmware or device memory; `firmware_ptr` mapped it.
        unsafe { firmware_ptr::<u8>(address, 1).read_volatile() }
    }
    fn read_u16(&self, address: usize) -> u16 {
        // SAFETY: as in `read_u8`.
        unsafe { firmware_ptr::<u16>(address, 2).read_volatile() }
    }
    fn read_u32(&self, address: usize) -> u32 {
        // SAFETY: as in `read_u8`.
        unsafe { firmware_ptr::<u32>(address, 4).read_volatile() }
    }
    fn read_u64(&self, address: usize) -> u64 {
        // SAFETY: as in `read_u8`.
        unsafe { firmware_ptr::<u64>(address, 8).read_volatile() }
    }
    fn write_u8(&self, address: usize, value: u8) {
        // SAFETY: as in `read_u8`; AML's own writes to its operation regions.
        unsafe { firmware_ptr::<u8>(address, 1).write_volatile(value) }
    }
    fn write_u16(&self, address: usize, value: u16) {
        // SAFETY: as in `write_u8`.
        unsafe { firmware_ptr::<u16>(address, 2).write_volatile(value) }
    }
    fn write_u32(&self, address: usize, value: u32) {
        // SAFETY: as in `write_u8`.
        unsafe { firmware_ptr::<u32>(address, 4).write_volatile(value) }
    }
    fn write_u64(&self, address: usize, value: u64) {
        // SAFETY: as in `write_u8`.
        unsafe { firmware_ptr::<u64>(address, 8).write_volatile(value) }
    }

    fn read_io_u8(&self, port: u16) -> u8 {
        // SAFETY: ports named by the firmware's own AML or fixed ACPI registers.
        unsafe { Port::new(port).read() }
    }
    fn read_io_u16(&self, port: u16) -> u16 {
        // SAFETY: as in `read_io_u8`.
        unsafe { Port::new(port).read() }
    }
    fn read_io_u32(&self, port: u16) -> u32 {
        // SAFETY: as in `read_io_u8`.
        unsafe { Port::new(port).read() }
    }
    fn write_io_u8(&self, port: u16, value: u8) {
        // SAFETY: as in `read_io_u8`.
        unsafe { Port::new(port).write(value) }
    }
    fn write_io_u16(&self, port: u16, value: u16) {
        // SAFETY: as in `read_io_u8`.
        unsafe { Port::new(port).write(value) }
    }
    fn write_io_u32(&self, port: u16, value: u32) {
        // SAFETY: as in `read_io_u8`.
        unsafe { Port::new(port).write(value) }
    }

    fn read_pci_u8(&self, a: PciAddress, offset: u16) -> u8 {
        let word = crate::pci::read_config(a.bus(), a.device(), a.function(), offset & !3);
        (word >> ((offset & 3) * 8)) as u8
    }
    fn read_pci_u16(&self, a: PciAddress, offset: u16) -> u16 {
        let word = crate::pci::read_config(a.bus(), a.device(), a.function(), offset & !3);
        (word >> ((offset & 2) * 8)) as u16
    }
    fn read_pci_u32(&self, a: PciAddress, offset: u16) -> u32 {
        crate::pci::read_config(a.bus(), a.device(), a.function(), offset & !3)
    }
    fn write_pci_u8(&self, a: PciAddress, offset: u16, value: u8) {
        let (bus, dev, func, aligned) = (a.bus(), a.device(), a.function(), offset & !3);
        let shift = (offset & 3) * 8;
        let word = crate::pci::read_config(bus, dev, func, aligned) & !(0xff << shift);
        crate::pci::write_config(bus, dev, func, aligned, word | (u32::from(value) << shift));
    }
    fn write_pci_u16(&self, a: PciAddress, offset: u16, value: u16) {
        let (bus, dev, func, aligned) = (a.bus(), a.device(), a.function(), offset & !3);
        let shift = (offset & 2) * 8;
        let word = crate::pci::read_config(bus, dev, func, aligned) & !(0xffff << shift);
        crate::pci::write_config(bus, dev, func, aligned, word | (u32::from(value) << shift));
    }
    fn write_pci_u32(&self, a: PciAddress, offset: u16, value: u32) {
        crate::pci::write_config(a.bus(), a.device(), a.function(), offset & !3, value);
    }

    fn nanos_since_boot(&self) -> u64 {
        time::nanos_since_boot()
    }
    fn stall(&self, microseconds: u64) {
        time::busy_wait_ns(microseconds * 1000);
    }
    fn sleep(&self, milliseconds: u64) {
        time::busy_wait_ns(milliseconds * 1_000_000);
    }

    // The interpreter runs on one thread at boot and shutdown: its mutexes never
    // contend.
    fn create_mutex(&self) -> Handle {
        Handle(0)
    }
    fn acquire(&self, _mutex: Handle, _timeout: u16) -> Result<(), ::acpi::aml::AmlError> {
        Ok(())
    }
    fn release(&self, _mutex: Handle) {}
}
