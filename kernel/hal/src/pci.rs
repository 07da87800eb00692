//! PCI configuration space through the legacy 0xcf8/0xcfc mechanism.

use crate::sync::IrqLock;
use x86_64::instructions::port::Port;

static CONFIG: IrqLock<()> = IrqLock::new(());

fn address(bus: u8, device: u8, function: u8, offset: u16) -> u32 {
    0x8000_0000
        | (u32::from(bus) << 16)
        | (u32::from(device & 0x1f) << 11)
        | (u32::from(function & 7) << 8)
        | u32::from(offset & 0xfc)
}

/// Reads the aligned 32-bit configuration register at `offset` (< 256).
pub fn read_config(bus: u8, device: u8, function: u8, offset: u16) -> u32 {
    let _guard = CONFIG.lock();
    // SAFETY: 0xcf8/0xcfc are the PCI configuration ports; the lock keeps the address
    // write and the data read together.
    unsafe {
        Port::new(0xcf8).write(address(bus, device, function, offset));
        Port::new(0xcfc).read()
    }
}

/// Writes the aligned 32-bit configuration register at `offset` (< 256).
pub fn write_config(bus: u8, device: u8, function: u8, offset: u16, value: u32) {
    let _guard = CONFIG.lock();
    // SAFETY: as in `read_config`. Configuration writes reprogram devices; callers are
    // drivers (and the firmware's AML) acting on devices they own.
    unsafe {
        Port::new(0xcf8).write(address(bus, device, function, offset));
        Port::new(0xcfc).write(value);
    }
}
