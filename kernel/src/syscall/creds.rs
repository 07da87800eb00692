//! User and group ids: `getuid` and friends, `setuid` and friends by Linux's rules
//! (`berth_abi::process::creds`), supplementary groups.

use super::{Args, SysResult};
use crate::proc::current_process;
use alloc::vec::Vec;
use berth_abi::Errno;
use berth_abi::process::creds::{Credentials, Ids, NGROUPS_MAX};

/// Which ids a call is about.
#[derive(Clone, Copy)]
pub enum Kind {
    /// User ids.
    User,
    /// Group ids.
    Group,
}

fn ids(c: &mut Credentials, kind: Kind) -> &mut Ids {
    match kind {
        Kind::User => &mut c.uid,
        Kind::Group => &mut c.gid,
    }
}

/// getuid / getgid.
pub fn get_real(kind: Kind) -> SysResult {
    Ok(ids(&mut current_process().creds.lock(), kind).real as isize)
}

/// geteuid / getegid.
pub fn get_effective(kind: Kind) -> SysResult {
    Ok(ids(&mut current_process().creds.lock(), kind).effective as isize)
}

/// getresuid(ruid*, euid*, suid*) / getresgid.
pub fn get_res(a: &Args, kind: Kind) -> SysResult {
    let all = *ids(&mut current_process().creds.lock(), kind);
    for (i, id) in [all.real, all.effective, all.saved].into_iter().enumerate() {
        a.ptr(i).write(&id)?;
    }
    Ok(0)
}

/// Applies `change` to the calling process's ids of `kind`, privileged if its
/// effective uid is 0 (before the change).
fn change(kind: Kind, change: impl FnOnce(&mut Ids, bool) -> Result<(), Errno>) -> SysResult {
    let process = current_process();
    let mut creds = process.creds.lock();
    let privileged = creds.privileged();
    change(ids(&mut creds, kind), privileged)?;
    Ok(0)
}

/// setuid(id) / setgid.
pub fn set(a: &Args, kind: Kind) -> SysResult {
    change(kind, |ids, p| ids.set(a.u32(0), p))
}

/// setreuid(real, effective) / setregid.
pub fn set_re(a: &Args, kind: Kind) -> SysResult {
    change(kind, |ids, p| ids.set_re(a.u32(0), a.u32(1), p))
}

/// setresuid(real, effective, saved) / setresgid.
pub fn set_res(a: &Args, kind: Kind) -> SysResult {
    change(kind, |ids, p| ids.set_res(a.u32(0), a.u32(1), a.u32(2), p))
}

/// setfsuid(id) / setfsgid: the old fs id.
pub fn set_fs(a: &Args, kind: Kind) -> SysResult {
    let process = current_process();
    let mut creds = process.creds.lock();
    let privileged = creds.privileged();
    Ok(ids(&mut creds, kind).set_fs(a.u32(0), privileged) as isize)
}

/// getgroups(size, list): the count when size is 0, else the groups (EINVAL if they
/// do not fit).
pub fn getgroups(a: &Args) -> SysResult {
    let groups = current_process().creds.lock().groups.clone();
    let size = a.i32(0);
    if size < 0 {
        return Err(Errno::EINVAL);
    }
    if size == 0 {
        return Ok(groups.len() as isize);
    }
    if (size as usize) < groups.len() {
        return Err(Errno::EINVAL);
    }
    let bytes: Vec<u8> = groups.iter().flat_map(|g| g.to_ne_bytes()).collect();
    a.ptr::<u32>(1).array(groups.len()).write(&bytes)?;
    Ok(groups.len() as isize)
}

/// setgroups(size, list).
pub fn setgroups(a: &Args) -> SysResult {
    let size = a.i32(0);
    if size < 0 || size as usize > NGROUPS_MAX {
        return Err(Errno::EINVAL);
    }
    if !current_process().creds.lock().privileged() {
        return Err(Errno::EPERM);
    }
    let bytes = a.ptr::<u32>(1).array(size as usize).read_all()?;
    let groups = bytes.chunks_exact(4).map(|c| u32::from_ne_bytes([c[0], c[1], c[2], c[3]])).collect();
    current_process().creds.lock().set_groups(groups)?;
    Ok(0)
}
