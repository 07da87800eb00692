//! Time: the calibrated TSC clock and the periodic timer tick.

use crate::platform::Platform;
use crate::trap::TIMER_VECTOR;
use alloc::format;
use alloc::string::String;
use berth_boot::KernelArgs;
use berth_hal::{apic, cpu, time as clock};
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// Timer interrupts per second unless `hz=` says otherwise.
pub const DEFAULT_HZ: u32 = 250;
/// How long calibration measures, in reference-clock nanoseconds.
const CALIBRATION_NS: u64 = 20_000_000;

static TICKS: AtomicU64 = AtomicU64::new(0);
static HZ: AtomicU32 = AtomicU32::new(0);
static APIC_TIMER_HZ: AtomicU64 = AtomicU64::new(0);

/// Calibrates the TSC and the APIC timer against the platform's reference clock and
/// starts the periodic tick at `hz=` (default [`DEFAULT_HZ`]) per second.
pub fn init(platform: &Platform, args: &KernelArgs) {
    let hz = args.number("hz").and_then(|h| u32::try_from(h).ok()).filter(|h| (10..=10_000).contains(h));
    let hz = hz.unwrap_or(DEFAULT_HZ);
    let reference = &platform.reference;
    let target = CALIBRATION_NS * reference.hz() / 1_000_000_000;

    // Measure both counters across the same span of the reference clock.
    let (tsc_ticks, apic_ticks, ref_ticks) = cpu::without_interrupts(|| {
        let ref_start = reference.read();
        apic::timer_start_masked(u32::MAX);
        let tsc_start = cpu::read_tsc();
        let mut elapsed;
        loop {
            elapsed = reference.read().wrapping_sub(ref_start) & reference.mask();
            if elapsed >= target {
                break;
            }
            core::hint::spin_loop();
        }
        let apic_ticks = u32::MAX - apic::timer_current();
        (cpu::read_tsc() - tsc_start, u64::from(apic_ticks), elapsed)
    });
    let per_second = |ticks: u64| (u128::from(ticks) * u128::from(reference.hz()) / u128::from(ref_ticks)) as u64;
    let (tsc_hz, apic_hz) = (per_second(tsc_ticks), per_second(apic_ticks));
    clock::set_tsc_hz(tsc_hz);
    APIC_TIMER_HZ.store(apic_hz, Ordering::Relaxed);
    HZ.store(hz, Ordering::Relaxed);
    let count = u32::try_from(apic_hz / u64::from(hz)).unwrap_or(u32::MAX).max(1);
    apic::timer_start(TIMER_VECTOR, count, true);
}

/// Counts one timer interrupt.
pub fn tick() {
    TICKS.fetch_add(1, Ordering::Relaxed);
}

/// Timer interrupts since the tick started.
pub fn ticks() -> u64 {
    TICKS.load(Ordering::Relaxed)
}

/// The configured tick rate.
pub fn hz() -> u32 {
    HZ.load(Ordering::Relaxed)
}

/// Nanoseconds since boot on the monotonic clock.
pub fn now_ns() -> u64 {
    clock::nanos_since_boot()
}

/// One line for the boot banner.
pub fn describe() -> String {
    format!(
        "time: TSC at {} MHz, APIC timer at {} MHz (divided), tick at {} Hz",
        clock::tsc_hz() / 1_000_000,
        APIC_TIMER_HZ.load(Ordering::Relaxed) / 1_000_000,
        hz()
    )
}
