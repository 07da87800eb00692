//! Clocks and sleeping.

use super::{Args, SysResult};
use crate::proc::{current_process, signal_pending};
use crate::sched::{self, WaitError};
use crate::time::{now_ns, realtime_ns};
use crate::uaccess::UserPtr;
use berth_abi::Errno;
use berth_abi::time::*;

/// The current value of clock `clock`, ns.
fn read_clock(clock: i32) -> Result<u64, Errno> {
    Ok(match clock {
        CLOCK_REALTIME | CLOCK_REALTIME_COARSE | CLOCK_TAI => realtime_ns(),
        CLOCK_MONOTONIC | CLOCK_MONOTONIC_RAW | CLOCK_MONOTONIC_COARSE | CLOCK_BOOTTIME => now_ns(),
        CLOCK_PROCESS_CPUTIME_ID => current_process().cpu_ns(),
        CLOCK_THREAD_CPUTIME_ID => sched::current().cpu_ns(),
        _ => return Err(Errno::EINVAL),
    })
}

/// clock_gettime(clockid, tp)
pub fn clock_gettime(a: &Args) -> SysResult {
    let ns = read_clock(a.i32(0))?;
    a.ptr(1).write(&Timespec::from_nanos(ns))?;
    Ok(0)
}

/// clock_getres(clockid, res)
pub fn clock_getres(a: &Args) -> SysResult {
    read_clock(a.i32(0))?;
    a.ptr(1).write_unless_null(&Timespec::new(0, 1))?;
    Ok(0)
}

/// gettimeofday(tv, tz)
pub fn gettimeofday(a: &Args) -> SysResult {
    a.ptr(0).write_unless_null(&Timeval::from_nanos(realtime_ns()))?;
    a.ptr(1).write_unless_null(&Timezone::default())?;
    Ok(0)
}

/// time(tloc)
pub fn time(a: &Args) -> SysResult {
    let secs = (realtime_ns() / 1_000_000_000) as i64;
    a.ptr(0).write_unless_null(&secs)?;
    Ok(secs as isize)
}

/// Sleeps until the monotonic `deadline`; on a signal writes the time left to `rem`.
fn sleep_until(deadline: u64, rem: UserPtr<Timespec>) -> SysResult {
    match sched::sleep(deadline, Some(&signal_pending)) {
        Ok(()) => Ok(0),
        Err(WaitError::Interrupted) => {
            let left = deadline.saturating_sub(now_ns());
            rem.write_unless_null(&Timespec::from_nanos(left))?;
            Err(Errno::EINTR)
        }
        Err(WaitError::TimedOut) => Ok(0),
    }
}

/// nanosleep(req, rem)
pub fn nanosleep(a: &Args) -> SysResult {
    let req: Timespec = a.ptr(0).read()?;
    req.validate()?;
    sleep_until(now_ns().saturating_add(req.to_nanos()), a.ptr(1))
}

/// clock_nanosleep(clockid, flags, req, rem)
pub fn clock_nanosleep(a: &Args) -> SysResult {
    let (clock, flags) = (a.i32(0), a.i32(1));
    let req: Timespec = a.ptr(2).read()?;
    req.validate()?;
    let now = read_clock(clock)?;
    if matches!(clock, CLOCK_THREAD_CPUTIME_ID) {
        return Err(Errno::EINVAL);
    }
    let wait = if flags & TIMER_ABSTIME != 0 { req.to_nanos().saturating_sub(now) } else { req.to_nanos() };
    let rem = if flags & TIMER_ABSTIME != 0 { UserPtr::default() } else { a.ptr(3) };
    sleep_until(now_ns().saturating_add(wait), rem)
}

/// alarm(seconds): SIGALRM after `seconds` (0 cancels); the seconds the previous alarm
/// had left, rounded to the nearest (at least 1 while one is pending).
pub fn alarm(a: &Args) -> SysResult {
    let secs = u64::from(a.u32(0));
    let (left, _) = crate::proc::itimer::set(&current_process(), secs * NSEC_PER_SEC as u64, 0);
    let rounded = (left + NSEC_PER_SEC as u64 / 2) / NSEC_PER_SEC as u64;
    Ok(if left > 0 { rounded.max(1) } else { 0 } as isize)
}

fn itimerval(value: u64, interval: u64) -> Itimerval {
    Itimerval { interval: Timeval::from_nanos(interval), value: Timeval::from_nanos(value) }
}

/// setitimer(which, new, old): only the real-time timer (ITIMER_REAL) exists.
pub fn setitimer(a: &Args) -> SysResult {
    if a.i32(0) != ITIMER_REAL {
        return Err(Errno::EINVAL);
    }
    let new: Itimerval = a.ptr(1).read_unless_null()?.unwrap_or_default();
    new.value.validate()?;
    new.interval.validate()?;
    // A timer set to less than a microsecond still fires, as Linux rounds up.
    let (value, interval) = (new.value.to_nanos(), new.interval.to_nanos());
    let (old_value, old_interval) = crate::proc::itimer::set(&current_process(), value, interval);
    a.ptr(2).write_unless_null(&itimerval(old_value, old_interval))?;
    Ok(0)
}

/// getitimer(which, cur)
pub fn getitimer(a: &Args) -> SysResult {
    if a.i32(0) != ITIMER_REAL {
        return Err(Errno::EINVAL);
    }
    let (value, interval) = crate::proc::itimer::get(&current_process());
    a.ptr(1).write(&itimerval(value, interval))?;
    Ok(0)
}
