//! System calls berth answers with a constant: each named for what it stands for, with
//! why that answer is right for a program in a berth container. (Calls berth does not
//! know at all go to `unknown`, which answers ENOSYS and logs once.)

use super::{Args, SysResult};
use berth_abi::Errno;

/// `posix_fadvise`: 0. Advice about access patterns may be ignored (there is no
/// read-ahead to tune).
pub fn file_advice() -> SysResult {
    Ok(0)
}

/// `msync`, `mlock`, `munlock`, `mlockall`, `munlockall`: 0. Memory is never paged out,
/// so every page is locked already, and shared file mappings are read-only, so there is
/// nothing to write back.
pub fn memory_residency() -> SysResult {
    Ok(0)
}

/// `chroot`: EPERM, as for a process without CAP_SYS_CHROOT; a container's root is
/// its image.
pub fn change_root() -> SysResult {
    Err(Errno::EPERM)
}

/// `setrlimit`: 0. Limits are accepted and not kept; a container's limits are its
/// memory, pids and CPU settings (`getrlimit` and `prlimit64` report what berth holds
/// to).
pub fn set_resource_limit() -> SysResult {
    Ok(0)
}

/// `get_robust_list`: ENOSYS. The list `set_robust_list` registers is kept for the
/// thread's exit, but not given back.
pub fn get_robust_list() -> SysResult {
    Err(Errno::ENOSYS)
}

/// `personality`: 0, Linux's own, the only one there is.
pub fn personality() -> SysResult {
    Ok(0)
}

/// `clock_settime`, `settimeofday`: EPERM. The machine's clock is not a container's to
/// set.
pub fn set_clock() -> SysResult {
    Err(Errno::EPERM)
}

/// `sched_getscheduler`, `sched_setscheduler`, `sched_setparam`: 0, SCHED_OTHER, the one
/// policy berth has (containers share the CPU by their `cpu-shares`).
pub fn scheduler_policy() -> SysResult {
    Ok(0)
}

/// `sched_getparam(pid, param)`: priority 0, the only one SCHED_OTHER has.
pub fn scheduler_param(a: &Args) -> SysResult {
    a.ptr(1).write(&0i32)?;
    Ok(0)
}

/// `getpriority`: 20, nice 0 in the system call's encoding (20 - nice).
pub fn get_priority() -> SysResult {
    Ok(20)
}

/// `setpriority`: 0. Niceness is accepted and not used: a container's share of the CPU
/// is its `cpu-shares`, whatever its processes ask.
pub fn set_priority() -> SysResult {
    Ok(0)
}

/// `sethostname`, `setdomainname`: EPERM. The host name is the container's setting.
pub fn set_names() -> SysResult {
    Err(Errno::EPERM)
}

/// `rseq`: ENOSYS. Restartable sequences are not offered; glibc then does without.
pub fn restartable_sequences() -> SysResult {
    Err(Errno::ENOSYS)
}
