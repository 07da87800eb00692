//! What happens when the kernel panics: report and stop, never hang silently.

use core::panic::PanicInfo;

#[panic_handler]
fn panic(info: &PanicInfo<'_>) -> ! {
    use alloc::format;
    berth_hal::cpu::disable_interrupts();
    // Formatting may allocate; if the heap is what failed, the message still gets out
    // through the fixed prefix.
    berth_hal::serial::write_emergency(b"\nKERNEL PANIC: ");
    let message = format!("{}\n", info);
    berth_hal::serial::write_emergency(message.as_bytes());
    crate::power::fail()
}
