//! Process system calls: identity, creation, exec, exit, wait, kill, limits.

use super::{Args, SysResult};
use crate::proc::UserPart;
use crate::proc::{self, CloneArgs, Sender, WaitFor, current_process};
use crate::sched;
use crate::uaccess::{self, UserPtr};
use alloc::sync::Arc;
use berth_abi::Errno;
use berth_abi::process::*;
use berth_abi::signal::{SIGCHLD, SigInfo, Signal};
use berth_hal::trap::TrapFrame;
use core::sync::atomic::Ordering;

fn user() -> Arc<sched::Thread> {
    proc::current_user()
}

/// exit(code): ends the thread (the process, if it is the last).
pub fn exit(a: &Args) -> SysResult {
    let thread = user();
    let u = thread.user().expect("a user thread");
    if u.process.threads().len() <= 1 {
        proc::exit_group(a.i32(0));
    } else {
        u.exit_requested.store(true, Ordering::Release);
        u.note_signal_work();
    }
    Ok(0)
}

/// exit_group(code)
pub fn exit_group(a: &Args) -> SysResult {
    proc::exit_group(a.i32(0));
    Ok(0)
}

/// getpid()
pub fn getpid() -> SysResult {
    Ok(current_process().pid as isize)
}

/// getppid()
pub fn getppid() -> SysResult {
    Ok(current_process().ppid() as isize)
}

/// gettid()
pub fn gettid() -> SysResult {
    Ok(user().user().map_or(0, |u| u.tid) as isize)
}

/// set_tid_address(tidptr)
pub fn set_tid_address(a: &Args) -> SysResult {
    let thread = user();
    let u = thread.user().expect("a user thread");
    u.clear_child_tid.store(a.ptr::<u32>(0).addr(), Ordering::Relaxed);
    Ok(u.tid as isize)
}

/// fork()
pub fn fork(frame: &TrapFrame) -> SysResult {
    proc::clone(CloneArgs { exit_signal: Some(Signal::of(SIGCHLD)), ..CloneArgs::default() }, frame).map(|t| t as isize)
}

/// vfork()
pub fn vfork(frame: &TrapFrame) -> SysResult {
    let args = CloneArgs {
        flags: CloneFlags::VM | CloneFlags::VFORK,
        exit_signal: Some(Signal::of(SIGCHLD)),
        ..CloneArgs::default()
    };
    proc::clone(args, frame).map(|t| t as isize)
}

/// clone(flags, stack, parent_tid, child_tid, tls)
pub fn clone(a: &Args, frame: &TrapFrame) -> SysResult {
    let flags = a.u64(0);
    let args = CloneArgs {
        flags: CloneFlags::from_bits_retain(flags & !CSIGNAL),
        stack: a.u64(1),
        parent_tid: a.ptr(2),
        child_tid: a.ptr(3),
        tls: a.u64(4),
        // Linux takes any number here and sends nothing at exit unless it is a signal.
        exit_signal: Signal::new((flags & CSIGNAL) as i32),
    };
    proc::clone(args, frame).map(|t| t as isize)
}

/// clone3(args, size)
pub fn clone3(a: &Args, frame: &TrapFrame) -> SysResult {
    let size = a.usize(1);
    if !(CLONE_ARGS_SIZE_VER0..=4096).contains(&size) {
        return Err(Errno::EINVAL);
    }
    let mut raw = [0u8; core::mem::size_of::<berth_abi::process::CloneArgs>()];
    let n = size.min(raw.len());
    a.slice(0, 1).read_into(&mut raw[..n])?;
    let c = <berth_abi::process::CloneArgs as zerocopy::FromBytes>::read_from_bytes(&raw).map_err(|_| Errno::EFAULT)?;
    if c.set_tid != 0 || c.set_tid_size != 0 || c.cgroup != 0 || c.exit_signal > 64 {
        return Err(Errno::EINVAL);
    }
    let stack = if c.stack != 0 { c.stack + c.stack_size } else { 0 };
    let args = CloneArgs {
        flags: CloneFlags::from_bits_retain(c.flags),
        stack,
        parent_tid: UserPtr::new(c.parent_tid),
        child_tid: UserPtr::new(c.child_tid),
        tls: c.tls,
        exit_signal: Signal::new(c.exit_signal as i32),
    };
    proc::clone(args, frame).map(|t| t as isize)
}

/// execve(path, argv, envp)
pub fn execve(a: &Args, frame: &mut TrapFrame) -> SysResult {
    let path = a.cstr(0).read(berth_abi::fs::PATH_MAX)?;
    let limit = proc::exec::MAX_ARG_BYTES;
    let argv = uaccess::read_cstr_array(a.ptr(1), proc::exec::MAX_ARGS, limit)?;
    let envp = uaccess::read_cstr_array(a.ptr(2), proc::exec::MAX_ARGS, limit)?;
    proc::exec(&path, argv, envp, frame)?;
    Ok(0)
}

fn which_child(pid: i32) -> WaitFor {
    if pid > 0 { WaitFor::Pid(pid as u32) } else { WaitFor::Any }
}

/// wait4(pid, wstatus, options, rusage)
pub fn wait4(a: &Args) -> SysResult {
    let options = WaitOptions::from_bits_retain(a.i32(2));
    let known = WaitOptions::NOHANG
        | WaitOptions::UNTRACED
        | WaitOptions::CONTINUED
        | WaitOptions::ALL
        | WaitOptions::CLONE
        | WaitOptions::NOTHREAD;
    if !known.contains(options) {
        return Err(Errno::EINVAL);
    }
    match proc::wait_child(which_child(a.i32(0)), options.contains(WaitOptions::NOHANG), true)? {
        Some((pid, status)) => {
            a.ptr(1).write_unless_null(&status)?;
            a.ptr(3).write_unless_null(&Rusage::default())?;
            Ok(pid as isize)
        }
        None => Ok(0),
    }
}

/// waitid(idtype, id, infop, options)
pub fn waitid(a: &Args) -> SysResult {
    let (idtype, id, infop) = (a.i32(0), a.i32(1), a.ptr::<SigInfo>(2));
    let options = WaitOptions::from_bits_retain(a.i32(3));
    if !options.contains(WaitOptions::EXITED) {
        return Err(Errno::EINVAL);
    }
    let which = match idtype {
        P_ALL => WaitFor::Any,
        P_PID => WaitFor::Pid(id as u32),
        P_PGID => WaitFor::Any,
        _ => return Err(Errno::EINVAL),
    };
    let result =
        proc::wait_child(which, options.contains(WaitOptions::NOHANG), !options.contains(WaitOptions::NOWAIT))?;
    if !infop.is_null() {
        let info = match result {
            Some((pid, status)) if status & 0x7f == 0 => {
                SigInfo::sigchld(berth_abi::signal::CLD_EXITED, pid as i32, 0, (status >> 8) & 0xff)
            }
            Some((pid, status)) => SigInfo::sigchld(berth_abi::signal::CLD_KILLED, pid as i32, 0, status & 0x7f),
            None => SigInfo::default(),
        };
        infop.write(&info)?;
    }
    Ok(0)
}

/// A signal number from a `kill`-family call: `None` for 0 (check the target only),
/// EINVAL outside `0..=64`.
fn signal_arg(sig: i32) -> Result<Option<Signal>, Errno> {
    match sig {
        0 => Ok(None),
        _ => Signal::new(sig).map(Some).ok_or(Errno::EINVAL),
    }
}

/// kill(pid, sig): only processes of the caller's container can be named.
pub fn kill(a: &Args) -> SysResult {
    let (pid, sig) = (a.i32(0), signal_arg(a.i32(1))?);
    let me = current_process();
    let send = |t: &Arc<proc::Process>| {
        if let Some(sig) = sig {
            proc::send_to_process(t, sig, SigInfo::kill(sig.number(), me.pid as i32, 0), Sender::Inside);
        }
    };
    if pid > 0 {
        let target = me.sandbox.process(pid as u32).filter(|p| p.exit_status().is_none()).ok_or(Errno::ESRCH)?;
        send(&target);
        return Ok(0);
    }
    // A group, or every process but init (-1): processes forked meanwhile too.
    let group = if pid == 0 { me.pgid.load(Ordering::Relaxed) } else { pid.unsigned_abs() };
    let pick = |p: &proc::Process| if pid == -1 { p.pid != 1 } else { p.pgid.load(Ordering::Relaxed) == group };
    match proc::signal_each(&me.sandbox, pick, send) {
        0 => Err(Errno::ESRCH),
        _ => Ok(0),
    }
}

pub(super) fn find_thread(tgid: Option<u32>, tid: u32) -> Result<Arc<sched::Thread>, Errno> {
    let me = current_process();
    let processes = match tgid {
        Some(pid) => alloc::vec![me.sandbox.process(pid).ok_or(Errno::ESRCH)?],
        None => me.sandbox.processes(),
    };
    processes.iter().flat_map(|p| p.threads()).find(|t| t.user().is_some_and(|u| u.tid == tid)).ok_or(Errno::ESRCH)
}

/// tkill(tid, sig)
pub fn tkill(tid: i32, sig: i32) -> SysResult {
    let sig = signal_arg(sig)?;
    if tid <= 0 {
        return Err(Errno::EINVAL);
    }
    let t = find_thread(None, tid as u32)?;
    if let Some(sig) = sig {
        let info = SigInfo::tkill(sig.number(), current_process().pid as i32, 0);
        proc::send_to_thread(&t, sig, info, Sender::Inside);
    }
    Ok(0)
}

/// tgkill(tgid, tid, sig)
pub fn tgkill(a: &Args) -> SysResult {
    let (tgid, tid, sig) = (a.i32(0), a.i32(1), signal_arg(a.i32(2))?);
    if tgid <= 0 || tid <= 0 {
        return Err(Errno::EINVAL);
    }
    let t = find_thread(Some(tgid as u32), tid as u32)?;
    if let Some(sig) = sig {
        let info = SigInfo::tkill(sig.number(), current_process().pid as i32, 0);
        proc::send_to_thread(&t, sig, info, Sender::Inside);
    }
    Ok(0)
}

fn process_by_pid(pid: i32) -> Result<Arc<proc::Process>, Errno> {
    let me = current_process();
    if pid == 0 { Ok(me) } else { me.sandbox.process(pid as u32).ok_or(Errno::ESRCH) }
}

/// getpgid(pid)
pub fn getpgid(a: &Args) -> SysResult {
    Ok(process_by_pid(a.i32(0))?.pgid.load(Ordering::Relaxed) as isize)
}

/// setpgid(pid, pgid)
pub fn setpgid(a: &Args) -> SysResult {
    let p = process_by_pid(a.i32(0))?;
    let pgid = if a.i32(1) == 0 { p.pid } else { a.u32(1) };
    p.pgid.store(pgid, Ordering::Relaxed);
    Ok(0)
}

/// getsid(pid)
pub fn getsid(a: &Args) -> SysResult {
    Ok(process_by_pid(a.i32(0))?.sid.load(Ordering::Relaxed) as isize)
}

/// setsid()
pub fn setsid() -> SysResult {
    let p = current_process();
    if p.pgid.load(Ordering::Relaxed) == p.pid && p.pid != 1 && p.sid.load(Ordering::Relaxed) == p.pid {
        return Err(Errno::EPERM);
    }
    p.sid.store(p.pid, Ordering::Relaxed);
    p.pgid.store(p.pid, Ordering::Relaxed);
    Ok(p.pid as isize)
}

/// The limits berth reports.
fn limit(resource: i32) -> Result<Rlimit, Errno> {
    let p = current_process();
    let inf = RLIM_INFINITY;
    Ok(match resource {
        RLIMIT_NOFILE => Rlimit { cur: crate::fs::MAX_FDS as u64, max: crate::fs::MAX_FDS as u64 },
        RLIMIT_STACK => Rlimit { cur: proc::exec::STACK_SIZE, max: inf },
        RLIMIT_NPROC => {
            let n = u64::from(p.sandbox.pid_limit());
            Rlimit { cur: n, max: n }
        }
        RLIMIT_AS | RLIMIT_DATA | RLIMIT_RSS => {
            let m = p.sandbox.memory.limit();
            let m = if m == u64::MAX { inf } else { m };
            Rlimit { cur: m, max: m }
        }
        RLIMIT_CORE => Rlimit { cur: 0, max: inf },
        RLIMIT_MEMLOCK => Rlimit { cur: 8 << 20, max: 8 << 20 },
        RLIMIT_SIGPENDING => Rlimit { cur: 1024, max: 1024 },
        r if (0..16).contains(&r) => Rlimit::INFINITY,
        _ => return Err(Errno::EINVAL),
    })
}

/// prlimit64(pid, resource, new, old): limits can be read; setting them is accepted
/// and has no effect (containers' limits are set from outside).
pub fn prlimit64(a: &Args) -> SysResult {
    if a.i32(0) != 0 && process_by_pid(a.i32(0)).is_err() {
        return Err(Errno::ESRCH);
    }
    let lim = limit(a.i32(1))?;
    a.ptr(3).write_unless_null(&lim)?;
    Ok(0)
}

/// getrlimit(resource, rlim)
pub fn getrlimit(a: &Args) -> SysResult {
    a.ptr(1).write(&limit(a.i32(0))?)?;
    Ok(0)
}

/// getrusage(who, usage)
pub fn getrusage(a: &Args) -> SysResult {
    let p = current_process();
    let ns = p.cpu_ns();
    let usage = Rusage {
        ru_utime: berth_abi::time::Timeval::from_nanos(ns),
        ru_maxrss: (p.sandbox.memory.peak() / 1024) as i64,
        ..Rusage::default()
    };
    a.ptr(1).write(&usage)?;
    Ok(0)
}

/// times(buf): CPU time in clock ticks (100 per second); returns ticks since boot.
pub fn times(a: &Args) -> SysResult {
    let ticks = |ns: u64| (ns / 10_000_000) as i64;
    let t = Tms { tms_utime: ticks(current_process().cpu_ns()), ..Tms::default() };
    a.ptr(0).write_unless_null(&t)?;
    Ok(ticks(crate::time::now_ns()) as isize)
}

/// arch_prctl(code, addr)
pub fn arch_prctl(a: &Args) -> SysResult {
    let thread = user();
    let ctx = thread.context();
    let (code, addr) = (a.i32(0), a.u64(1));
    let canonical = addr < berth_hal::layout::USER_END;
    match code {
        ARCH_SET_FS if canonical => ctx.set_fs_base(addr),
        ARCH_SET_GS if canonical => ctx.set_user_gs_base(addr),
        ARCH_SET_FS | ARCH_SET_GS => return Err(Errno::EPERM),
        ARCH_GET_FS => a.ptr(1).write(&ctx.fs_base())?,
        ARCH_GET_GS => a.ptr(1).write(&ctx.user_gs_base())?,
        ARCH_GET_CPUID => return Ok(1),
        _ => return Err(Errno::EINVAL),
    }
    Ok(0)
}

/// set_robust_list(head, len)
pub fn set_robust_list(a: &Args) -> SysResult {
    if a.usize(1) != 24 {
        return Err(Errno::EINVAL);
    }
    let thread = user();
    thread.user().expect("a user thread").robust_list.store(a.u64(0), Ordering::Relaxed);
    Ok(0)
}

/// prctl(option, ...)
pub fn prctl(a: &Args) -> SysResult {
    let p = current_process();
    match a.i32(0) {
        PR_SET_NAME => {
            let mut raw = [0u8; 16];
            a.ptr::<[u8; 16]>(1).bytes().read_into(&mut raw)?;
            let end = raw.iter().position(|&b| b == 0).unwrap_or(15).min(15);
            p.info.lock().name = alloc::string::String::from_utf8_lossy(&raw[..end]).into_owned();
            Ok(0)
        }
        PR_GET_NAME => {
            let mut raw = [0u8; 16];
            let name = p.info.lock().name.clone();
            let n = name.len().min(15);
            raw[..n].copy_from_slice(&name.as_bytes()[..n]);
            a.ptr(1).write(&raw)?;
            Ok(0)
        }
        PR_GET_DUMPABLE => Ok(1),
        PR_SET_DUMPABLE | PR_SET_PDEATHSIG | PR_SET_NO_NEW_PRIVS | PR_SET_KEEPCAPS | PR_SET_CHILD_SUBREAPER => Ok(0),
        PR_GET_NO_NEW_PRIVS | PR_GET_PDEATHSIG | PR_GET_KEEPCAPS => Ok(0),
        PR_CAPBSET_READ => Ok(1),
        _ => Err(Errno::EINVAL),
    }
}
