//! `fsync`, `fdatasync`, `syncfs` and `sync`: making files durable.
//!
//! A container's own files live in memory and go with it, so there is nothing to make
//! durable for them. Files in volumes are kept on the machine's store: these calls
//! write the volume out before they return (when it changed since last written), so
//! what a program has synced survives a power cut. Without a store they succeed at
//! once, as on a machine whose disk is memory.

use super::fs::file;
use super::{Args, SysResult};
use crate::container::volumes::{self, VolumeError};
use crate::proc::current_process;
use berth_abi::Errno;

/// The errno a failed write of a volume gives: ENOSPC when the store (or memory for
/// writing it out) is full, EIO otherwise, as a failing disk gives on Linux.
fn errno(e: VolumeError) -> Errno {
    if e.is_no_space() { Errno::ENOSPC } else { Errno::EIO }
}

/// `fsync(fd)`, `fdatasync(fd)`, `syncfs(fd)`: writes the volume the file is in, if it
/// is in one.
pub fn sync_file(a: &Args) -> SysResult {
    let f = file(a.fd(0))?;
    if let Some(inode) = f.ops.inode() {
        volumes::sync_holding(inode).map_err(errno)?;
    }
    Ok(0)
}

/// `sync()`: writes the volumes mounted in the caller's container (the others are
/// not its business). It cannot fail: a volume that could not be written is logged.
pub fn sync_all() -> SysResult {
    let fs = &current_process().sandbox.fs;
    for volume in volumes::list().iter().filter(|v| fs.has_mounted(&v.fs)) {
        if let Err(e) = volumes::sync(volume) {
            log::warn!("volume {}: not written: {e}", volume.name);
        }
    }
    Ok(0)
}
