//! The files every container has of its own: its console (`/dev/console`, stdout and
//! stderr of its first process, which write to its log), its terminal, the device
//! files of its `/dev`, and its `/proc`.

mod console;
pub mod procfs;
pub mod procfs_sys;
mod terminal;

pub use console::Console;
pub use terminal::Terminal;

use super::Sandbox;
use crate::fs::{Device, FileOps, devices::numbers};
use alloc::sync::Arc;
use berth_abi::Errno;

/// The device file for `rdev` in `container`, if berth implements it.
pub fn device_for(rdev: u64, sandbox: &Arc<Sandbox>) -> Result<Arc<dyn FileOps>, Errno> {
    match rdev {
        numbers::CONSOLE => Ok(Arc::new(Console::new(sandbox, super::Stream::Stdout))),
        // The container's terminal, if it has one (as Linux: ENXIO without).
        numbers::TTY => sandbox.terminal.clone().map(|t| t as Arc<dyn FileOps>).ok_or(Errno::ENXIO),
        _ => Device::from_rdev(rdev).map(|d| Arc::new(d) as Arc<dyn FileOps>).ok_or(Errno::ENODEV),
    }
}
