//! Waiting for readiness: poll, ppoll, select, pselect6.

use super::{Args, SysResult};
use crate::fs::{Fd, OpenFile};
use crate::proc::UserPart;
use crate::proc::{self, current_process, signal_pending};
use crate::sched::{self, WaitError, WaitQueue};
use crate::uaccess::{UserPtr, UserSlice};
use alloc::sync::Arc;
use alloc::vec::Vec;
use berth_abi::Errno;
use berth_abi::poll::*;
use berth_abi::signal::SigSet;
use berth_abi::time::{Timespec, Timeval};

/// One watched descriptor: its file (None if the number is not open) and interests.
struct Watch {
    file: Option<Arc<OpenFile>>,
    events: i16,
}

fn revents(w: &Watch) -> i16 {
    let Some(f) = &w.file else { return POLLNVAL };
    let r = f.ops.ready();
    let mut out = 0;
    if r.read && w.events & (POLLIN | POLLRDNORM) != 0 {
        out |= w.events & (POLLIN | POLLRDNORM);
    }
    if r.write && w.events & (POLLOUT | POLLWRNORM) != 0 {
        out |= w.events & (POLLOUT | POLLWRNORM);
    }
    if r.hangup {
        out |= POLLHUP;
    }
    if r.error {
        out |= POLLERR;
    }
    if r.read_hangup && w.events & POLLRDHUP != 0 {
        out |= POLLRDHUP;
    }
    out
}

/// Waits until one of `watches` is ready or the deadline; returns each one's events.
fn wait_ready(watches: &[Watch], deadline: Option<u64>) -> Result<Vec<i16>, Errno> {
    let queues: Vec<&WaitQueue> = watches.iter().filter_map(|w| w.file.as_ref()?.ops.wait_queue()).collect();
    let result = sched::wait_any(
        &queues,
        || {
            let events: Vec<i16> = watches.iter().map(revents).collect();
            events.iter().any(|&e| e != 0).then_some(events)
        },
        deadline,
        Some(&signal_pending),
    );
    match result {
        Ok(events) => Ok(events),
        Err(WaitError::TimedOut) => Ok(alloc::vec![0; watches.len()]),
        Err(WaitError::Interrupted) => Err(Errno::EINTR),
    }
}

fn do_poll(fds: UserPtr<PollFd>, nfds: usize, deadline: Option<u64>) -> SysResult {
    if nfds > crate::param::MAX_POLL_FDS {
        return Err(Errno::EINVAL);
    }
    let mut pollfds: Vec<PollFd> = (0..nfds).map(|i| fds.nth(i).read()).collect::<Result<_, _>>()?;
    let table = current_process().fd_table();
    let watches: Vec<Watch> = {
        let t = table.lock();
        pollfds
            .iter()
            .map(|p| Watch {
                file: if p.fd < 0 { None } else { t.get(Fd::new(p.fd)).ok() },
                events: if p.fd < 0 { 0 } else { p.events },
            })
            .collect()
    };
    // Negative descriptors are skipped: they report nothing, not POLLNVAL.
    let events = wait_ready(&watches, deadline)?;
    let mut count = 0;
    for (p, e) in pollfds.iter_mut().zip(events) {
        p.revents = if p.fd < 0 { 0 } else { e };
        if p.revents != 0 {
            count += 1;
        }
    }
    for (i, p) in pollfds.iter().enumerate() {
        fds.nth(i).write(p)?;
    }
    Ok(count)
}

/// The deadline `ms` milliseconds from now; none for a negative timeout (wait forever).
pub(super) fn deadline_after_ms(ms: i32) -> Option<u64> {
    (ms >= 0).then(|| crate::time::now_ns().saturating_add(ms as u64 * 1_000_000))
}

/// poll(fds, nfds, timeout_ms)
pub fn poll(a: &Args) -> SysResult {
    do_poll(a.ptr(0), a.usize(1), deadline_after_ms(a.i32(2)))
}

/// Runs `f` with the signal mask at `mask` (if not NULL; its size, `size`, must be 8
/// bytes), restoring it after unless a signal handler will run (then delivery
/// restores it).
pub(super) fn with_mask(mask: UserPtr<u64>, size: usize, f: impl FnOnce() -> SysResult) -> SysResult {
    if mask.is_null() {
        return f();
    }
    if size != core::mem::size_of::<u64>() {
        return Err(Errno::EINVAL);
    }
    let new = SigSet(mask.read()?).blockable();
    let thread = proc::current_user();
    let user = thread.user().expect("a user thread");
    let old = {
        let mut s = user.signals.lock();
        let old = s.mask;
        s.mask = new;
        old
    };
    let result = f();
    let mut s = user.signals.lock();
    if result == Err(Errno::EINTR) {
        s.saved_mask = Some(old);
        user.note_signal_work();
    } else {
        s.mask = old;
    }
    result
}

/// The deadline a `struct timespec` timeout sets; none for a null pointer (wait
/// forever). EFAULT or EINVAL for a bad pointer or value.
pub(super) fn timespec_deadline(timeout: UserPtr<Timespec>) -> Result<Option<u64>, Errno> {
    let Some(t) = timeout.read_unless_null()? else { return Ok(None) };
    t.validate()?;
    Ok(Some(crate::time::now_ns().saturating_add(t.to_nanos())))
}

/// ppoll(fds, nfds, tmo_p, sigmask, sigsetsize)
pub fn ppoll(a: &Args) -> SysResult {
    let deadline = timespec_deadline(a.ptr(2))?;
    with_mask(a.ptr(3), a.usize(4), || do_poll(a.ptr(0), a.usize(1), deadline))
}

fn do_select(nfds: usize, sets: [Option<UserSlice>; 3], deadline: Option<u64>) -> SysResult {
    if nfds > FD_SETSIZE {
        return Err(Errno::EINVAL);
    }
    let bytes = FdSet::bytes_for(nfds);
    let mut read_sets = [FdSet::default(); 3];
    for (set, user) in read_sets.iter_mut().zip(&sets) {
        if let Some(user) = user {
            let mut raw = [0u8; FD_SETSIZE / 8];
            user.read_into(&mut raw[..bytes])?;
            for (i, word) in set.0.iter_mut().enumerate() {
                *word = u64::from_le_bytes(raw[i * 8..i * 8 + 8].try_into().unwrap_or([0; 8]));
            }
        }
    }
    let table = current_process().fd_table();
    let mut watches = Vec::new();
    let mut fds = Vec::new();
    {
        let t = table.lock();
        for fd in 0..nfds {
            let mut events = 0;
            if read_sets[0].contains(fd) {
                events |= POLLIN;
            }
            if read_sets[1].contains(fd) {
                events |= POLLOUT;
            }
            if read_sets[2].contains(fd) {
                events |= POLLPRI;
            }
            if events != 0 {
                let file = t.get(Fd::new(fd as i32)).map_err(|_| Errno::EBADF)?;
                watches.push(Watch { file: Some(file), events });
                fds.push(fd);
            }
        }
    }
    let events = wait_ready(&watches, deadline)?;
    let mut out = [FdSet::default(); 3];
    let mut count = 0;
    for (&fd, &e) in fds.iter().zip(&events) {
        if e & (POLLIN | POLLHUP | POLLERR) != 0 && read_sets[0].contains(fd) {
            out[0].insert(fd);
            count += 1;
        }
        if e & (POLLOUT | POLLERR) != 0 && read_sets[1].contains(fd) {
            out[1].insert(fd);
            count += 1;
        }
        if e & POLLPRI != 0 && read_sets[2].contains(fd) {
            out[2].insert(fd);
            count += 1;
        }
    }
    for (set, user) in out.iter().zip(&sets) {
        if let Some(user) = user {
            let raw: Vec<u8> = set.0.iter().flat_map(|w| w.to_le_bytes()).collect();
            user.write(&raw[..bytes])?;
        }
    }
    Ok(count)
}

/// select(nfds, readfds, writefds, exceptfds, timeout)
pub fn select(a: &Args) -> SysResult {
    let deadline = match a.ptr::<Timeval>(4).read_unless_null()? {
        None => None,
        Some(t) => {
            t.validate()?;
            Some(crate::time::now_ns().saturating_add(t.to_nanos()))
        }
    };
    do_select(a.usize(0), fd_sets(a), deadline)
}

/// pselect6(nfds, readfds, writefds, exceptfds, timeout, sigmask_and_size)
pub fn pselect6(a: &Args) -> SysResult {
    let deadline = timespec_deadline(a.ptr(4))?;
    let [mask, size] = a.ptr::<[u64; 2]>(5).read_unless_null()?.unwrap_or([0, 0]);
    with_mask(UserPtr::new(mask), size as usize, || do_select(a.usize(0), fd_sets(a), deadline))
}

/// The three descriptor sets of select and pselect6 (arguments 1 to 3; NULL for none),
/// each as long as the largest set.
fn fd_sets(a: &Args) -> [Option<UserSlice>; 3] {
    [1, 2, 3].map(|i| {
        let set = a.ptr::<[u8; FD_SETSIZE / 8]>(i);
        (!set.is_null()).then(|| set.bytes())
    })
}
