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
    match platform::acpi_power_off() {
        Ok(()) => {
            // Give the platform a second to act before calling it a failure.
            let deadline = crate::time::now_ns() + 1_000_000_000;
            while crate::time::now_ns() < deadline {
                core::hint::spin_loop();
            }
            log::warn!("ACPI power-off: the machine is still running a second after S5");
        }
        Err(e) => log::warn!("ACPI power-off failed: {e}"),
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
