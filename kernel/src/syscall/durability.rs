//! `fsync`, `fdatasync`, `syncfs` and `sync`: making files durable.
//!
//! On a machine with a store, these calls write out before they return what holds the
//! file, if it changed since last written: its volume, or its container's writable
//! layer (for a container the agent stores). So what a program has synced survives a
//! power cut. Without a store they succeed at once, as on a machine whose disk is
//! memory.

use super::fs::file;
use super::{Args, SysResult};
use crate::container::volumes::{self, VolumeError};
use crate::container::{registry, store};
use crate::proc::current_process;
use berth_abi::Errno;

/// The errno a failed write of a volume gives: ENOSPC when the store (or memory for
/// writing it out) is full, EIO otherwise, as a failing disk gives on Linux.
fn errno(e: VolumeError) -> Errno {
    if e.is_no_space() { Errno::ENOSPC } else { Errno::EIO }
}

/// `fsync(fd)`, `fdatasync(fd)`, `syncfs(fd)`: writes the volume the file is in, or
/// the writable layer of the caller's container if the file is one of its own.
pub fn sync_file(a: &Args) -> SysResult {
    let f = file(a.fd(0))?;
    let Some(inode) = f.ops.inode() else { return Ok(0) };
    let sandbox = current_process().sandbox.clone();
    if sandbox.fs.holds(inode) {
        return sync_own_files(&sandbox);
    }
    volumes::sync_holding(inode).map_err(errno)?;
    Ok(0)
}

/// Writes the writable layer of the container `sandbox` belongs to.
fn sync_own_files(sandbox: &alloc::sync::Arc<crate::sandbox::Sandbox>) -> SysResult {
    let list = registry::list();
    let Some(c) = list.iter().find(|c| alloc::sync::Arc::ptr_eq(&c.sandbox, sandbox)) else { return Ok(0) };
    store::save_layer(c).map_err(|e| {
        log::warn!("container {}: writable layer not written: {e}", c.name());
        if e.is_no_space() { Errno::ENOSPC } else { Errno::EIO }
    })?;
    Ok(0)
}

/// After a read or write of `inode`, with no lock held: if its tree (a volume, or the
/// caller's container's own files) holds more changed data than it should keep
/// unwritten, writes it out, as Linux's writers flush dirty pages past `dirty_ratio`
/// (what cannot be written is logged; the data stays in memory); and if its memory
/// is nearly used up, drops clean data that is on the disk, so that its programs'
/// page faults find room (Linux's reclaim keeps free pages above a watermark so).
pub fn balance(inode: &berth_vfs::Inode) {
    if inode.wants_write_out() {
        let sandbox = current_process().sandbox.clone();
        if sandbox.fs.holds(inode) {
            let _ = sync_own_files(&sandbox);
        } else if let Err(e) = volumes::sync_holding(inode) {
            log::warn!("a volume: not written: {e}");
        }
    }
    inode.make_room();
}

/// `sync()`: writes the caller's container's writable layer and the volumes mounted
/// in it (the others are not its business). It cannot fail: what could not be
/// written is logged.
pub fn sync_all() -> SysResult {
    let sandbox = current_process().sandbox.clone();
    let _ = sync_own_files(&sandbox);
    let fs = &sandbox.fs;
    for volume in volumes::list().iter().filter(|v| fs.has_mounted(&v.fs)) {
        if let Err(e) = volumes::sync(volume) {
            log::warn!("volume {}: not written: {e}", volume.name);
        }
    }
    Ok(0)
}
