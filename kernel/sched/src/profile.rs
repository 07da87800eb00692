//! A sampling profiler for kernel developers: while on, every timer tick records where
//! the CPU was (the interrupted instruction); `profile stop` on the console prints the
//! most frequent kernel addresses (resolve them with `addr2line -f -e` on the kernel
//! ELF) and how the samples split between kernel, user mode and idle.

use alloc::collections::BTreeMap;
use alloc::vec::Vec;
use berth_hal::sync::IrqLock;
use berth_hal::trap::TrapFrame;

struct Samples {
    kernel: BTreeMap<u64, u32>,
    /// User-mode samples by instruction address.
    user_rips: BTreeMap<u64, u32>,
    user: u64,
    idle: u64,
}

static SAMPLES: IrqLock<Option<Samples>> = IrqLock::new(None);

/// Starts (or restarts) sampling.
pub fn start() {
    *SAMPLES.lock() = Some(Samples { kernel: BTreeMap::new(), user_rips: BTreeMap::new(), user: 0, idle: 0 });
}

/// Records one tick's sample (called from the timer interrupt).
pub fn sample(frame: &TrapFrame) {
    let mut samples = SAMPLES.lock();
    let Some(s) = samples.as_mut() else { return };
    if frame.from_user() {
        s.user += 1;
        *s.user_rips.entry(frame.rip).or_insert(0) += 1;
    } else if crate::current_is_idle() {
        s.idle += 1;
    } else {
        *s.kernel.entry(frame.rip).or_insert(0) += 1;
    }
}

/// Stops sampling and logs the result.
pub fn stop() {
    let Some(s) = SAMPLES.lock().take() else {
        log::info!("profile: not running (profile start)");
        return;
    };
    let kernel: u64 = s.kernel.values().map(|&n| u64::from(n)).sum();
    log::info!("profile: {} samples: kernel {kernel}, user {}, idle {}", kernel + s.user + s.idle, s.user, s.idle);
    let mut top: Vec<(u64, u32)> = s.kernel.into_iter().collect();
    top.sort_by_key(|&(_, n)| core::cmp::Reverse(n));
    for (rip, n) in top.into_iter().take(40) {
        log::info!("profile: {n:6} {rip:#x}");
    }
    let mut user: Vec<(u64, u32)> = s.user_rips.into_iter().collect();
    user.sort_by_key(|&(_, n)| core::cmp::Reverse(n));
    for (rip, n) in user.into_iter().take(10) {
        log::info!("profile: user {n:6} {rip:#x}");
    }
}
