//! The COM1 serial console: where the log and container output go.

use crate::sync::IrqLock;
use uart_16550::backend::PioBackend;
use uart_16550::{Config, Uart16550};

/// I/O base of COM1.
const COM1: u16 = 0x3f8;

static PORT: IrqLock<Option<Uart16550<PioBackend>>> = IrqLock::new(None);

/// Initializes COM1 (115200 8N1). Output before this is dropped.
pub fn init() {
    // SAFETY: 0x3f8 is COM1 on PC hardware; this module is its only user.
    let Ok(mut uart) = (unsafe { Uart16550::new_port(COM1) }) else {
        return;
    };
    // A machine without COM1 still boots; it just has no console.
    if uart.init(Config::default()).is_ok() {
        *PORT.lock() = Some(uart);
    }
}

/// Writes bytes to the console, turning `\n` into `\r\n`.
pub fn write(bytes: &[u8]) {
    if let Some(uart) = PORT.lock().as_mut() {
        send(uart, bytes);
    }
}

/// Writes to the console even if the console lock is held, for panics and faults that
/// may have interrupted a writer. Output may interleave with the interrupted write.
pub fn write_emergency(bytes: &[u8]) {
    if let Some(mut guard) = PORT.try_lock() {
        if let Some(uart) = guard.as_mut() {
            send(uart, bytes);
        }
        return;
    }
    // SAFETY: the lock's holder was interrupted on this (only) CPU and cannot run until
    // we return or halt; a second driver instance on the same port only risks
    // interleaved bytes, which is acceptable on the way down.
    if let Ok(mut uart) = unsafe { Uart16550::new_port(COM1) } {
        send(&mut uart, bytes);
    }
}

/// Reads one byte from the console if one is waiting.
pub fn try_read() -> Option<u8> {
    PORT.lock().as_mut().and_then(|uart| uart.try_receive_byte().ok())
}

/// Asks COM1 to interrupt (ISA IRQ 4) when a byte arrives.
pub fn enable_receive_interrupt() {
    if let Some(uart) = PORT.lock().as_mut() {
        uart.enable_interrupts(uart_16550::spec::registers::IER::DATA_READY);
    }
}

fn send(uart: &mut Uart16550<PioBackend>, bytes: &[u8]) {
    for line in bytes.split_inclusive(|&b| b == b'\n') {
        match line.split_last() {
            Some((b'\n', text)) => {
                uart.send_bytes_exact(text);
                uart.send_bytes_exact(b"\r\n");
            }
            _ => uart.send_bytes_exact(line),
        }
    }
}
