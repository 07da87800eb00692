//! epoll: epoll_create, epoll_create1, epoll_ctl, epoll_wait, epoll_pwait, epoll_pwait2.
//!
//! The instance itself is [`crate::fs::Epoll`]; this file checks arguments in the order
//! Linux does, so the same bad call gets the same errno.

use super::poll::{deadline_after_ms, timespec_deadline, with_mask};
use super::{Args, SysResult};
use crate::fs::{Epoll, Fd, OpenFile};
use crate::proc::{current_process, signal_pending};
use crate::sched::WaitError;
use crate::uaccess::UserPtr;
use alloc::string::String;
use berth_abi::Errno;
use berth_abi::fs::O_RDWR;
use berth_abi::poll::*;
use zerocopy::IntoBytes;

/// Most events one wait may return (Linux's `EP_MAX_EVENTS`: what fits in `INT_MAX`
/// bytes).
const MAX_EVENTS: usize = i32::MAX as usize / core::mem::size_of::<EpollEvent>();

/// Events EPOLLEXCLUSIVE may be combined with.
const EXCLUSIVE_OK: EpollEvents = EpollEvents::IN
    .union(EpollEvents::OUT)
    .union(EpollEvents::ERR)
    .union(EpollEvents::HUP)
    .union(EpollEvents::WAKEUP)
    .union(EpollEvents::ET)
    .union(EpollEvents::EXCLUSIVE);

fn create(cloexec: bool) -> SysResult {
    let file = OpenFile::new(Epoll::new(Some(current_process().sandbox.memory.clone())), O_RDWR, String::new());
    let fd = current_process().fd_table().lock().insert(file, cloexec)?;
    Ok(isize::from(fd))
}

/// epoll_create(size): `size` is only checked to be positive.
pub fn epoll_create(a: &Args) -> SysResult {
    if a.i32(0) <= 0 {
        return Err(Errno::EINVAL);
    }
    create(false)
}

/// epoll_create1(flags)
pub fn epoll_create1(a: &Args) -> SysResult {
    // Its one flag.
    let flags = a.u32(0);
    if flags & !EPOLL_CLOEXEC != 0 {
        return Err(Errno::EINVAL);
    }
    create(flags & EPOLL_CLOEXEC != 0)
}

/// epoll_ctl(epfd, op, fd, event)
pub fn epoll_ctl(a: &Args) -> SysResult {
    let (epfd, op, fd) = (a.fd(0), a.i32(1), a.fd(2));
    // Every operation but DEL reads the event first, as Linux does.
    let event = if op == EPOLL_CTL_DEL { EpollEvent::default() } else { a.ptr(3).read()? };
    let (epoll_file, target) = {
        let table = current_process().fd_table();
        let t = table.lock();
        (t.get(epfd)?, t.get(fd)?)
    };
    if !target.ops.supports_poll() {
        return Err(Errno::EPERM);
    }
    let epoll = epoll_file.ops.as_epoll().ok_or(Errno::EINVAL)?;
    let target_epoll = target.ops.as_epoll();
    if target_epoll.is_some_and(|t| core::ptr::eq(t, epoll)) {
        return Err(Errno::EINVAL);
    }
    // EPOLLEXCLUSIVE: only when adding, not on an epoll file, with few other events.
    let events = EpollEvents::from_bits_retain(event.events);
    let exclusive = op != EPOLL_CTL_DEL && events.contains(EpollEvents::EXCLUSIVE);
    if exclusive
        && (op == EPOLL_CTL_MOD || (op == EPOLL_CTL_ADD && (target_epoll.is_some() || !EXCLUSIVE_OK.contains(events))))
    {
        return Err(Errno::EINVAL);
    }
    match op {
        EPOLL_CTL_ADD => epoll.add(&target, fd, event)?,
        EPOLL_CTL_MOD => epoll.modify(&target, fd, event)?,
        EPOLL_CTL_DEL => epoll.remove(&target, fd)?,
        _ => return Err(Errno::EINVAL),
    }
    Ok(0)
}

/// Waits until the epoll instance at `epfd` has events or the deadline passes, and
/// copies up to `max` of them to `events`; returns how many.
fn wait(epfd: Fd, events: UserPtr<EpollEvent>, max: i32, deadline: Option<u64>) -> SysResult {
    let max = usize::try_from(max).ok().filter(|&m| m > 0 && m <= MAX_EVENTS).ok_or(Errno::EINVAL)?;
    let events = events.array(max);
    if !events.in_user_range() {
        return Err(Errno::EFAULT);
    }
    let file = super::fs::file(epfd)?;
    let epoll = file.ops.as_epoll().ok_or(Errno::EINVAL)?;
    let ready = match epoll.wait(max, deadline, &signal_pending) {
        Ok(ready) => ready,
        Err(WaitError::TimedOut) => return Ok(0),
        Err(WaitError::Interrupted) => return Err(Errno::EINTR),
    };
    // Events taken but not copied are lost (Linux puts them back); only a program
    // that passes a bad buffer sees the difference.
    events.write(ready.as_slice().as_bytes())?;
    Ok(ready.len() as isize)
}

/// epoll_wait(epfd, events, maxevents, timeout_ms)
pub fn epoll_wait(a: &Args) -> SysResult {
    wait(a.fd(0), a.ptr(1), a.i32(2), deadline_after_ms(a.i32(3)))
}

/// epoll_pwait(epfd, events, maxevents, timeout_ms, sigmask, sigsetsize)
pub fn epoll_pwait(a: &Args) -> SysResult {
    let deadline = deadline_after_ms(a.i32(3));
    with_mask(a.ptr(4), a.usize(5), || wait(a.fd(0), a.ptr(1), a.i32(2), deadline))
}

/// epoll_pwait2(epfd, events, maxevents, timeout, sigmask, sigsetsize): the timeout is
/// a `struct timespec` (null: wait forever).
pub fn epoll_pwait2(a: &Args) -> SysResult {
    let deadline = timespec_deadline(a.ptr(3))?;
    with_mask(a.ptr(4), a.usize(5), || wait(a.fd(0), a.ptr(1), a.i32(2), deadline))
}
