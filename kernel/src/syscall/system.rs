//! The system as a container sees it: uname, sysinfo, random numbers.

use super::{Args, SysResult};
use crate::proc::current_process;
use alloc::format;
use berth_abi::Errno;
use berth_abi::fs::Utsname;
use berth_abi::process::Sysinfo;

/// uname(buf): Linux, as far as programs are concerned; the host name is the
/// container's.
pub fn uname(a: &Args) -> SysResult {
    let host = current_process().sandbox.hostname.clone();
    let version = format!("#1 SMP berth {}", crate::VERSION);
    let uts = Utsname::new("Linux", &host, crate::LINUX_RELEASE, &version, "x86_64", "(none)");
    a.ptr(0).write(&uts)?;
    Ok(0)
}

/// sysinfo(info): memory is the container's limit and use.
pub fn sysinfo(a: &Args) -> SysResult {
    let c = current_process().sandbox.clone();
    let limit = match c.memory.limit() {
        u64::MAX => crate::mm::container_memory().1,
        l => l,
    };
    let info = Sysinfo {
        uptime: (crate::time::now_ns() / 1_000_000_000) as i64,
        totalram: limit,
        freeram: limit.saturating_sub(c.memory.used()),
        procs: c.task_count().min(u16::MAX as usize) as u16,
        mem_unit: 1,
        ..Sysinfo::default()
    };
    a.ptr(0).write(&info)?;
    Ok(0)
}

/// getrandom(buf, len, flags)
pub fn getrandom(a: &Args) -> SysResult {
    use berth_abi::random::GetRandomFlags;
    let flags = GetRandomFlags::from_bits(a.u32(2)).ok_or(Errno::EINVAL)?;
    if flags.contains(GetRandomFlags::RANDOM | GetRandomFlags::INSECURE) {
        return Err(Errno::EINVAL);
    }
    let buf = a.slice(0, 1).take(33_554_431);
    let len = buf.len();
    let mut done = 0;
    let mut chunk = [0u8; 256];
    while done < len {
        let n = (len - done).min(chunk.len());
        crate::random::fill(&mut chunk[..n]);
        buf.skip(done).write(&chunk[..n])?;
        done += n;
    }
    Ok(len as isize)
}
