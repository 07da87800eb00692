//! Time: the calibrated TSC clock and the periodic timer tick.

use crate::platform::Platform;
use alloc::format;
use alloc::string::String;
use berth_boot::KernelArgs;
use berth_hal::{apic, cpu, time as clock};
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// The periodic timer's interrupt vector (the trap dispatcher sends it to [`tick`]).
pub const TIMER_VECTOR: u8 = 0x20;

/// How long calibration measures, in reference-clock nanoseconds.
const CALIBRATION_NS: u64 = 20_000_000;

static TICKS: AtomicU64 = AtomicU64::new(0);
static HZ: AtomicU32 = AtomicU32::new(0);
static APIC_TIMER_HZ: AtomicU64 = AtomicU64::new(0);
/// The periodic timer's initial count, for the other CPUs' timers.
static TIMER_COUNT: AtomicU32 = AtomicU32::new(0);

/// Calibrates the TSC and the APIC timer against the platform's reference clock and
/// starts the periodic tick at `hz=` (default [`crate::param::DEFAULT_HZ`]) per second.
pub fn init(platform: &Platform, args: &KernelArgs) {
    let hz = args.number("hz").and_then(|h| u32::try_from(h).ok()).filter(|h| (10..=10_000).contains(h));
    let hz = hz.unwrap_or(crate::param::DEFAULT_HZ);
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
    TIMER_COUNT.store(count, Ordering::Relaxed);
    apic::timer_start(TIMER_VECTOR, count, true);
}

/// Starts this CPU's periodic tick (an application processor's; the local APIC timers
/// of one machine run at one rate, so the boot CPU's calibration holds).
pub fn start_this_cpu() {
    apic::timer_start(TIMER_VECTOR, TIMER_COUNT.load(Ordering::Relaxed).max(1), true);
}

/// Counts one timer interrupt (the boot CPU's: the others' ticks only preempt).
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

/// Wall-clock time at boot, ns since the Unix epoch (from the RTC, or set later).
static BOOT_EPOCH_NS: AtomicU64 = AtomicU64::new(0);

/// Reads the RTC to anchor the wall clock.
pub fn init_wall_clock() {
    let t = berth_hal::rtc::read();
    let secs = unix_seconds(t.year, t.month, t.day, t.hour, t.minute, t.second);
    BOOT_EPOCH_NS.store((secs * 1_000_000_000).saturating_sub(now_ns()), Ordering::Relaxed);
}

/// Wall-clock time, ns since the Unix epoch.
pub fn realtime_ns() -> u64 {
    BOOT_EPOCH_NS.load(Ordering::Relaxed) + now_ns()
}
/// Seconds since the epoch of a UTC calendar time (days-from-civil, Howard Hinnant).
pub fn unix_seconds(year: u32, month: u32, day: u32, hour: u32, minute: u32, second: u32) -> u64 {
    let (y, m) =
        if month <= 2 { (i64::from(year) - 1, i64::from(month) + 9) } else { (i64::from(year), i64::from(month) - 3) };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let doy = (153 * m + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let secs = days * 86_400 + i64::from(hour) * 3600 + i64::from(minute) * 60 + i64::from(second);
    u64::try_from(secs).unwrap_or(0)
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
