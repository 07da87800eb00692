//! System calls: the Linux x86_64 ABI.

use berth_hal::trap::TrapFrame;

/// The `syscall` instruction's handler.
pub fn entry(frame: &mut TrapFrame) {
    frame.rax = (-38i64) as u64; // ENOSYS until the table exists
}
