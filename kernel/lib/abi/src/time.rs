//! Time: `timespec`, `timeval` and the interval timer structs, clock ids and timer flags.

use crate::errno::{Errno, Result};
use zerocopy::{FromBytes, Immutable, IntoBytes, KnownLayout};

abi_consts! {
    TIME_CONSTS: Libc;
    /// Wall-clock time.
    pub const CLOCK_REALTIME: i32 = 0;
    /// Time since boot, not counting suspend; never jumps.
    pub const CLOCK_MONOTONIC: i32 = 1;
    /// CPU time of the process.
    pub const CLOCK_PROCESS_CPUTIME_ID: i32 = 2;
    /// CPU time of the thread.
    pub const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    /// Monotonic time without NTP adjustment.
    pub const CLOCK_MONOTONIC_RAW: i32 = 4;
    /// Cheap, tick-granular [`CLOCK_REALTIME`].
    pub const CLOCK_REALTIME_COARSE: i32 = 5;
    /// Cheap, tick-granular [`CLOCK_MONOTONIC`].
    pub const CLOCK_MONOTONIC_COARSE: i32 = 6;
    /// Monotonic time including suspend.
    pub const CLOCK_BOOTTIME: i32 = 7;
    /// [`CLOCK_REALTIME`] timers that wake the system.
    pub const CLOCK_REALTIME_ALARM: i32 = 8;
    /// [`CLOCK_BOOTTIME`] timers that wake the system.
    pub const CLOCK_BOOTTIME_ALARM: i32 = 9;
    /// International atomic time.
    pub const CLOCK_TAI: i32 = 11;
    /// `clock_nanosleep`/`timer_settime`: the time is absolute.
    pub const TIMER_ABSTIME: i32 = 1;
    /// `setitimer`: real time, delivers `SIGALRM`.
    pub const ITIMER_REAL: i32 = 0;
    /// `setitimer`: user CPU time, delivers `SIGVTALRM`.
    pub const ITIMER_VIRTUAL: i32 = 1;
    /// `setitimer`: user and system CPU time, delivers `SIGPROF`.
    pub const ITIMER_PROF: i32 = 2;
    /// `timerfd_settime`: the time is absolute.
    pub const TFD_TIMER_ABSTIME: i32 = 1;
    /// `timerfd_settime`: cancel when the realtime clock jumps.
    pub const TFD_TIMER_CANCEL_ON_SET: i32 = 2;
    /// `timerfd_create`: close on `execve`.
    pub const TFD_CLOEXEC: u32 = 0o2000000;
    /// `timerfd_create`: non-blocking.
    pub const TFD_NONBLOCK: u32 = 0o4000;
}

/// Nanoseconds per second.
pub const NSEC_PER_SEC: i64 = 1_000_000_000;

/// `struct timespec` (64-bit `time_t`): 16 bytes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct Timespec {
    /// Seconds.
    pub sec: i64,
    /// Nanoseconds, `0..1_000_000_000` when valid.
    pub nsec: i64,
}

impl Timespec {
    /// Zero.
    pub const ZERO: Timespec = Timespec { sec: 0, nsec: 0 };

    /// A timespec from its fields.
    pub const fn new(sec: i64, nsec: i64) -> Timespec {
        Timespec { sec, nsec }
    }

    /// Checks a timespec from user space as the kernel's `timespec64_valid` does: `EINVAL`
    /// unless `sec >= 0` and `0 <= nsec < 1_000_000_000`.
    pub const fn validate(&self) -> Result<()> {
        if self.sec < 0 || self.nsec < 0 || self.nsec >= NSEC_PER_SEC { Err(Errno::EINVAL) } else { Ok(()) }
    }

    /// A duration in nanoseconds as a timespec.
    pub const fn from_nanos(ns: u64) -> Timespec {
        Timespec { sec: (ns / NSEC_PER_SEC as u64) as i64, nsec: (ns % NSEC_PER_SEC as u64) as i64 }
    }

    /// The timespec in nanoseconds, saturating: negative values give 0, values past
    /// `u64::MAX` nanoseconds (about 584 years) give `u64::MAX`.
    pub const fn to_nanos(&self) -> u64 {
        let ns = self.sec as i128 * NSEC_PER_SEC as i128 + self.nsec as i128;
        if ns < 0 {
            0
        } else if ns > u64::MAX as i128 {
            u64::MAX
        } else {
            ns as u64
        }
    }
}

/// `struct timeval` (64-bit): 16 bytes.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default, FromBytes, IntoBytes, Immutable, KnownLayout,
)]
#[repr(C)]
pub struct Timeval {
    /// Seconds.
    pub sec: i64,
    /// Microseconds, `0..1_000_000` when valid.
    pub usec: i64,
}

impl Timeval {
    /// A timeval from its fields.
    pub const fn new(sec: i64, usec: i64) -> Timeval {
        Timeval { sec, usec }
    }

    /// `EINVAL` unless `sec >= 0` and `0 <= usec < 1_000_000`.
    pub const fn validate(&self) -> Result<()> {
        if self.sec < 0 || self.usec < 0 || self.usec >= 1_000_000 { Err(Errno::EINVAL) } else { Ok(()) }
    }

    /// A duration in nanoseconds as a timeval, truncated to microseconds.
    pub const fn from_nanos(ns: u64) -> Timeval {
        Timeval { sec: (ns / NSEC_PER_SEC as u64) as i64, usec: ((ns % NSEC_PER_SEC as u64) / 1000) as i64 }
    }

    /// The timeval in nanoseconds, saturating like [`Timespec::to_nanos`].
    pub const fn to_nanos(&self) -> u64 {
        Timespec { sec: self.sec, nsec: self.usec.saturating_mul(1000) }.to_nanos()
    }
}

impl From<Timeval> for Timespec {
    fn from(tv: Timeval) -> Timespec {
        Timespec { sec: tv.sec, nsec: tv.usec.saturating_mul(1000) }
    }
}

impl From<Timespec> for Timeval {
    fn from(ts: Timespec) -> Timeval {
        Timeval { sec: ts.sec, usec: ts.nsec / 1000 }
    }
}

/// `struct itimerval` (`getitimer`, `setitimer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct Itimerval {
    /// Reload value; zero for a one-shot timer.
    pub interval: Timeval,
    /// Time to the next expiry; zero disarms.
    pub value: Timeval,
}

/// `struct itimerspec` (`timer_settime`, `timerfd_settime`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct Itimerspec {
    /// Reload value; zero for a one-shot timer.
    pub interval: Timespec,
    /// Time to the next expiry; zero disarms.
    pub value: Timespec,
}

/// `struct timezone` (`gettimeofday`; obsolete, Linux reports zeroes unless set).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, FromBytes, IntoBytes, Immutable, KnownLayout)]
#[repr(C)]
pub struct Timezone {
    /// Minutes west of Greenwich.
    pub minuteswest: i32,
    /// Type of DST correction.
    pub dsttime: i32,
}
