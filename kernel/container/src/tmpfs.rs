//! Tmpfs mounts (`--tmpfs`, `--mount type=tmpfs`): an empty tree in memory at a path of
//! the container, charged to the container (and to the tmpfs's own size limit), made
//! afresh each time the container starts, as a Linux tmpfs is empty after a remount.

use crate::mm::MemoryCounter;
use crate::sandbox::Sandbox;
use crate::{ContainerError, TmpfsMount};
use alloc::sync::Arc;
use berth_vfs::{Budget, Filesystem, Image};

/// What a tmpfs's files are charged to: its own limit, and its container's.
struct TmpfsBudget {
    size: MemoryCounter,
    container: Arc<MemoryCounter>,
}

impl Budget for TmpfsBudget {
    fn charge(&self, bytes: u64) -> bool {
        if !self.size.try_charge(bytes) {
            return false;
        }
        if !self.container.try_charge(bytes) {
            self.size.uncharge(bytes);
            return false;
        }
        true
    }

    fn uncharge(&self, bytes: u64) {
        self.size.uncharge(bytes);
        self.container.uncharge(bytes);
    }
}

/// Mounts a container's tmpfs file systems (each a new, empty one), making each
/// target directory where the image has none.
pub(crate) fn mount_into(sandbox: &Sandbox, mounts: &[TmpfsMount]) -> Result<(), ContainerError> {
    let err = |e| ContainerError::FileSystem("a tmpfs mount point", e);
    for m in mounts {
        let limit = if m.size == 0 { u64::MAX } else { m.size };
        let budget = Arc::new(TmpfsBudget { size: MemoryCounter::new(limit), container: sandbox.memory.clone() });
        let tree = Filesystem::new(&Image::empty(), Some(budget), crate::time::realtime_ns).map_err(err)?;
        tree.root().set_mode(m.mode, tree.now());
        let (dir, name) = crate::volumes::mount_point(sandbox, &m.target).map_err(err)?;
        sandbox.fs.mount_tree(&dir, &name, &tree, m.read_only).map_err(err)?;
    }
    Ok(())
}
