//! Stopping the machine: ACPI power-off on real machines, `isa-debug-exit` under QEMU.

use crate::platform;

/// Exit status QEMU reports for a clean stop: `(0x10 << 1) | 1`.
pub const QEMU_SUCCESS: u32 = 0x10;
/// Exit status QEMU reports for a failure: `(0x11 << 1) | 1`.
pub const QEMU_FAILURE: u32 = 0x11;

/// Powers the machine off cleanly: ACPI S5 if the firmware allows, else QEMU's exit
/// device (or a halt on machines without it).
pub fn shutdown() -> ! {
    log::info!("shutting down");
    if let Err(e) = platform::acpi_power_off() {
        log::warn!("ACPI power-off failed: {e}");
    }
    berth_hal::cpu::exit_qemu(QEMU_SUCCESS)
}

/// Stops after a successful test run.
pub fn exit_success() -> ! {
    berth_hal::cpu::exit_qemu(QEMU_SUCCESS)
}

/// Stops after a fatal error: QEMU exits with a failure status; a real machine halts.
pub fn fail() -> ! {
    berth_hal::cpu::exit_qemu(QEMU_FAILURE)
}
