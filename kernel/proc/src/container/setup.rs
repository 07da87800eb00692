//! What every container's file system gets besides its image: device nodes, `/proc`,
//! `/tmp`, and the host name files.

use super::Container;
use crate::fs::devices::numbers;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use berth_vfs::{FsError, Inode};

fn ensure_dir(container: &Container, parent: &Arc<Inode>, name: &str, mode: u32) -> Result<Arc<Inode>, FsError> {
    match container.fs.child(parent, name) {
        Ok(i) if i.is_dir() => Ok(i),
        Ok(_) => {
            container.fs.unlink(parent, name)?;
            container.fs.mkdir(parent, name, mode)
        }
        Err(FsError::NotFound) => container.fs.mkdir(parent, name, mode),
        Err(e) => Err(e),
    }
}

fn replace(container: &Container, dir: &Arc<Inode>, name: &str) -> Result<(), FsError> {
    match container.fs.child(dir, name) {
        Ok(i) if i.is_dir() => container.fs.rmdir(dir, name),
        Ok(_) => container.fs.unlink(dir, name),
        Err(FsError::NotFound) => Ok(()),
        Err(e) => Err(e),
    }
}

fn write_file(container: &Container, dir: &Arc<Inode>, name: &str, text: &str) -> Result<(), FsError> {
    replace(container, dir, name)?;
    let f = container.fs.create_file(dir, name, 0o644)?;
    f.write_at(0, text.as_bytes(), container.fs.now())?;
    Ok(())
}

/// Adds `/dev`, `/proc`, `/tmp`, `/etc/hostname`, `/etc/hosts` and (when the machine
/// has a DNS server) `/etc/resolv.conf` to a new container.
pub fn prepare_fs(container: &Arc<Container>) -> Result<(), super::ContainerError> {
    let err = |what: &'static str, e: FsError| super::ContainerError::FileSystem(what, e);
    let root = container.fs.root();
    let dev = ensure_dir(container, &root, "dev", 0o755).map_err(|e| err("/dev", e))?;
    let char_device = berth_abi::fs::S_IFCHR;
    let nodes = [
        ("null", numbers::NULL),
        ("zero", numbers::ZERO),
        ("full", numbers::FULL),
        ("random", numbers::RANDOM),
        ("urandom", numbers::URANDOM),
        ("tty", numbers::TTY),
        ("console", numbers::CONSOLE),
    ];
    for (name, rdev) in nodes {
        replace(container, &dev, name).map_err(|e| err(name, e))?;
        container.fs.mknod(&dev, name, char_device | 0o666, rdev).map_err(|e| err(name, e))?;
    }
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        replace(container, &dev, name).map_err(|e| err(name, e))?;
        container.fs.symlink(&dev, name, target).map_err(|e| err(name, e))?;
    }
    ensure_dir(container, &dev, "shm", 0o1777).map_err(|e| err("/dev/shm", e))?;
    container.fs.mount(&root, "proc", super::files::procfs::root(container)).map_err(|e| err("/proc", e))?;
    let tmp = ensure_dir(container, &root, "tmp", 0o1777).map_err(|e| err("/tmp", e))?;
    tmp.set_mode(0o1777, container.fs.now());
    let etc = ensure_dir(container, &root, "etc", 0o755).map_err(|e| err("/etc", e))?;
    let host = container.hostname();
    write_file(container, &etc, "hostname", &format!("{host}\n")).map_err(|e| err("/etc/hostname", e))?;
    let hosts = format!("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n127.0.1.1\t{host}\n");
    write_file(container, &etc, "hosts", &hosts).map_err(|e| err("/etc/hosts", e))?;
    // The machine's DNS server, as Docker gives containers the host's resolver.
    if let Some(dns) = crate::net::addressing().and_then(|a| a.dns) {
        let resolv = format!("nameserver {dns}\n");
        write_file(container, &etc, "resolv.conf", &resolv).map_err(|e| err("/etc/resolv.conf", e))?;
    }
    Ok(())
}

impl Container {
    /// The container's host name: configured, or the first 12 digits of its id.
    pub fn hostname(&self) -> String {
        if self.config.hostname.is_empty() { String::from(&self.id[..12]) } else { self.config.hostname.clone() }
    }
}
