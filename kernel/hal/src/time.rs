//! Reference clocks (HPET, ACPI PM timer) and the TSC-based monotonic clock.

use crate::mmio::{MapError, Mmio};
use core::sync::atomic::{AtomicU64, Ordering};
use x86_64::instructions::port::Port;

/// A clock of known frequency to calibrate the TSC and the APIC timer against.
#[derive(Debug)]
pub enum ReferenceClock {
    /// The HPET main counter.
    Hpet {
        /// Its registers.
        regs: Mmio,
        /// Counter frequency.
        hz: u64,
    },
    /// The ACPI power-management timer (3.579545 MHz).
    PmTimer {
        /// Its I/O port.
        port: u16,
        /// Whether it is 32 bits wide (else 24).
        wide: bool,
    },
}

const HPET_CAPABILITIES: u64 = 0x0;
const HPET_CONFIG: u64 = 0x10;
const HPET_COUNTER: u64 = 0xf0;
const PM_TIMER_HZ: u64 = 3_579_545;

impl ReferenceClock {
    /// Maps and starts the HPET whose registers are at `phys`.
    pub fn hpet(phys: u64) -> Result<ReferenceClock, MapError> {
        let regs = Mmio::map(phys, 1024)?;
        let period_fs = regs.read64(HPET_CAPABILITIES) >> 32;
        let hz = 1_000_000_000_000_000u64.checked_div(period_fs).unwrap_or(0);
        regs.write64(HPET_CONFIG, regs.read64(HPET_CONFIG) | 1);
        Ok(ReferenceClock::Hpet { regs, hz })
    }

    /// The PM timer the FADT describes, if it is in I/O space.
    pub fn pm_timer(timer: &::acpi::platform::PmTimer) -> Option<ReferenceClock> {
        let io = timer.base.address_space == ::acpi::address::AddressSpace::SystemIo;
        let port = u16::try_from(timer.base.address).ok()?;
        io.then_some(ReferenceClock::PmTimer { port, wide: timer.supports_32bit })
    }

    /// Ticks per second.
    pub fn hz(&self) -> u64 {
        match self {
            ReferenceClock::Hpet { hz, .. } => *hz,
            ReferenceClock::PmTimer { .. } => PM_TIMER_HZ,
        }
    }

    /// The counter's current value.
    pub fn read(&self) -> u64 {
        match self {
            ReferenceClock::Hpet { regs, .. } => regs.read64(HPET_COUNTER),
            // SAFETY: the port is the PM timer block the FADT names; reading it has no
            // side effects.
            ReferenceClock::PmTimer { port, .. } => u64::from(unsafe { Port::<u32>::new(*port).read() }),
        }
    }

    /// Mask of the counter's valid bits (it wraps at this).
    pub fn mask(&self) -> u64 {
        match self {
            ReferenceClock::Hpet { .. } => u64::MAX,
            ReferenceClock::PmTimer { wide: true, .. } => 0xffff_ffff,
            ReferenceClock::PmTimer { wide: false, .. } => 0xff_ffff,
        }
    }
}

static TSC_HZ: AtomicU64 = AtomicU64::new(0);

/// Records the TSC frequency measured by the kernel.
pub fn set_tsc_hz(hz: u64) {
    TSC_HZ.store(hz, Ordering::Relaxed);
}

/// The TSC frequency, or 0 before calibration.
pub fn tsc_hz() -> u64 {
    TSC_HZ.load(Ordering::Relaxed)
}

/// Nanoseconds since the kernel was entered (0 before calibration).
pub fn nanos_since_boot() -> u64 {
    let hz = tsc_hz();
    if hz == 0 {
        return 0;
    }
    let ticks = crate::cpu::read_tsc().wrapping_sub(crate::boot::entry_tsc());
    (u128::from(ticks) * 1_000_000_000 / u128::from(hz)) as u64
}

/// Spins for at least `ns` nanoseconds (not at all before calibration).
pub fn busy_wait_ns(ns: u64) {
    let end = nanos_since_boot().saturating_add(ns);
    while tsc_hz() != 0 && nanos_since_boot() < end {
        core::hint::spin_loop();
    }
}
