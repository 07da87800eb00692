//! Extended attributes. berth's file systems keep none: a file that exists has no
//! attribute to get (ENODATA) and an empty list, and setting one is not supported
//! (EOPNOTSUPP), as on a Linux file system without extended attributes. (`ls -l` asks
//! for ACLs and SELinux labels this way and takes ENODATA as "none".)

use super::fs_path::{lookup, path_arg};
use super::{Args, SysResult};
use crate::fs::Fd;
use crate::proc::current_process;
use berth_abi::Errno;

/// What an extended-attribute call does once its file is found.
#[derive(Clone, Copy)]
pub enum Op {
    /// `getxattr`: no attribute is there.
    Get,
    /// `listxattr`: the list is empty.
    List,
    /// `setxattr`: not supported.
    Set,
    /// `removexattr`: no attribute is there.
    Remove,
}

fn answer(op: Op) -> SysResult {
    match op {
        Op::Get | Op::Remove => Err(Errno::ENODATA),
        Op::List => Ok(0),
        Op::Set => Err(Errno::EOPNOTSUPP),
    }
}

/// `getxattr`, `listxattr`, `setxattr`, `removexattr` (`follow`), and their `l`
/// versions (not following a last symbolic link): the path must name a file.
pub fn by_path(a: &Args, op: Op, follow: bool) -> SysResult {
    lookup(&current_process(), Fd::AT_FDCWD, &path_arg(a.cstr(0))?, follow)?;
    answer(op)
}

/// `fgetxattr`, `flistxattr`, `fsetxattr`, `fremovexattr`: the descriptor must be open.
pub fn by_fd(a: &Args, op: Op) -> SysResult {
    current_process().fd_table().lock().get(a.fd(0))?;
    answer(op)
}
