//! Signal system calls.

use super::{Args, SysResult};
use crate::proc::UserPart;
use crate::proc::{self, current_process, signal_pending};
use crate::sched;
use crate::uaccess::UserPtr;
use berth_abi::Errno;
use berth_abi::signal::*;
use berth_hal::trap::TrapFrame;

fn check_setsize(size: usize) -> Result<(), Errno> {
    if size == 8 { Ok(()) } else { Err(Errno::EINVAL) }
}

/// rt_sigaction(sig, act, oldact, sigsetsize)
pub fn rt_sigaction(a: &Args) -> SysResult {
    let sig = Signal::new(a.i32(0)).ok_or(Errno::EINVAL)?;
    let (act, old): (UserPtr<KernelSigaction>, UserPtr<KernelSigaction>) = (a.ptr(1), a.ptr(2));
    check_setsize(a.usize(3))?;
    if !act.is_null() && (sig.number() == SIGKILL || sig.number() == SIGSTOP) {
        return Err(Errno::EINVAL);
    }
    let process = current_process();
    let new = act.read_unless_null()?;
    let actions = process.signals.actions.lock().clone();
    let previous = {
        let mut actions = actions.lock();
        let previous = actions.get(sig);
        if let Some(mut new) = new {
            new.mask &= SigSet::FULL.blockable().0;
            actions.set(sig, new);
        }
        previous
    };
    if new.is_some_and(|n| n.handler == SIG_IGN) {
        process.signals.pending.lock().discard(sig.number());
    }
    old.write_unless_null(&previous)?;
    Ok(0)
}

/// rt_sigprocmask(how, set, oldset, sigsetsize)
pub fn rt_sigprocmask(a: &Args) -> SysResult {
    let (how, set, old): (_, UserPtr<u64>, UserPtr<u64>) = (a.i32(0), a.ptr(1), a.ptr(2));
    check_setsize(a.usize(3))?;
    let new = set.read_unless_null()?.map(SigSet);
    let thread = proc::current_user();
    let user = thread.user().expect("a user thread");
    let previous = {
        let mut s = user.signals.lock();
        let previous = s.mask;
        if let Some(new) = new {
            s.mask = match how {
                SIG_BLOCK => previous.union(new),
                SIG_UNBLOCK => previous.difference(new),
                SIG_SETMASK => new,
                _ => return Err(Errno::EINVAL),
            }
            .blockable();
            user.note_signal_work(); // unblocked signals may be pending
        }
        previous
    };
    old.write_unless_null(&previous.0)?;
    Ok(0)
}

/// rt_sigreturn()
///
/// A frame that cannot be read, or that returns outside user space, earns SIGSEGV (as
/// on Linux); the registers are then whatever was restored.
pub fn rt_sigreturn(frame: &mut TrapFrame) -> SysResult {
    match proc::sigreturn(frame) {
        Ok(rax) => Ok(rax as isize),
        Err(_) => {
            proc::force_segv();
            Ok(frame.rax as isize)
        }
    }
}

/// sigaltstack(ss, old_ss)
pub fn sigaltstack(a: &Args, frame: &TrapFrame) -> SysResult {
    let thread = proc::current_user();
    let user = thread.user().expect("a user thread");
    let current = user.signals.lock().altstack;
    let on_stack = current.ss_flags & SS_DISABLE == 0 && frame.rsp.wrapping_sub(current.ss_sp) < current.ss_size;
    let mut old = current;
    old.ss_flags = if on_stack { SS_ONSTACK } else { current.ss_flags & SS_DISABLE };
    a.ptr(1).write_unless_null(&old)?;
    if let Some(new) = a.ptr::<StackT>(0).read_unless_null()? {
        if on_stack {
            return Err(Errno::EPERM);
        }
        let flags = new.ss_flags & !SS_AUTODISARM;
        let mut s = user.signals.lock();
        if flags == SS_DISABLE {
            s.altstack = StackT { ss_flags: SS_DISABLE, ..StackT::default() };
        } else if flags == 0 || flags == SS_ONSTACK {
            if new.ss_size < MINSIGSTKSZ as u64 {
                return Err(Errno::ENOMEM);
            }
            s.altstack = StackT { ss_sp: new.ss_sp, ss_flags: 0, _pad: 0, ss_size: new.ss_size };
        } else {
            return Err(Errno::EINVAL);
        }
    }
    Ok(0)
}

/// rt_sigpending(set, sigsetsize)
pub fn rt_sigpending(a: &Args) -> SysResult {
    check_setsize(a.usize(1))?;
    let thread = proc::current_user();
    let user = thread.user().expect("a user thread");
    let pending = user.signals.lock().pending.set().union(user.process.signals.pending.lock().set());
    a.ptr(0).write(&pending.0)?;
    Ok(0)
}

/// Sleeps until a signal arrives; always EINTR.
fn wait_for_signal() -> SysResult {
    let _ = sched::wait_any(&[], || None::<()>, None, Some(&signal_pending));
    Err(Errno::EINTR)
}

/// rt_sigsuspend(mask, sigsetsize)
pub fn rt_sigsuspend(a: &Args) -> SysResult {
    check_setsize(a.usize(1))?;
    let mask = SigSet(a.ptr::<u64>(0).read()?).blockable();
    let thread = proc::current_user();
    let user = thread.user().expect("a user thread");
    {
        let mut s = user.signals.lock();
        s.saved_mask = Some(s.mask);
        s.mask = mask;
    }
    user.note_signal_work();
    wait_for_signal()
}

/// pause()
pub fn pause() -> SysResult {
    wait_for_signal()
}
