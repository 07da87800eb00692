//! What every container's file system gets besides its image: device nodes, `/proc`,
//! `/tmp`, and the host name files.

use crate::fs::devices::numbers;
use crate::sandbox::Sandbox;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use berth_vfs::{FsError, Inode};

fn ensure_dir(sandbox: &Sandbox, parent: &Arc<Inode>, name: &str, mode: u32) -> Result<Arc<Inode>, FsError> {
    match sandbox.fs.child(parent, name) {
        Ok(i) if i.is_dir() => Ok(i),
        Ok(_) => {
            sandbox.fs.unlink(parent, name)?;
            sandbox.fs.mkdir(parent, name, mode)
        }
        Err(FsError::NotFound) => sandbox.fs.mkdir(parent, name, mode),
        Err(e) => Err(e),
    }
}

fn replace(sandbox: &Sandbox, dir: &Arc<Inode>, name: &str) -> Result<(), FsError> {
    match sandbox.fs.child(dir, name) {
        Ok(i) if i.is_dir() => sandbox.fs.rmdir(dir, name),
        Ok(_) => sandbox.fs.unlink(dir, name),
        Err(FsError::NotFound) => Ok(()),
        Err(e) => Err(e),
    }
}

fn write_file(sandbox: &Sandbox, dir: &Arc<Inode>, name: &str, text: &str) -> Result<(), FsError> {
    replace(sandbox, dir, name)?;
    let f = sandbox.fs.create_file(dir, name, 0o644)?;
    f.write_at(0, text.as_bytes(), sandbox.fs.now())?;
    Ok(())
}

/// Adds `/dev`, `/proc`, `/sys`, `/tmp`, `/etc/hostname`, `/etc/hosts` (with its
/// address, for container `id`) and (when it has a resolver to name)
/// `/etc/resolv.conf` to a new container.
pub fn prepare_fs(sandbox: &Arc<Sandbox>, id: &str) -> Result<(), crate::ContainerError> {
    let err = |what: &'static str, e: FsError| crate::ContainerError::FileSystem(what, e);
    let root = sandbox.fs.root();
    let dev = ensure_dir(sandbox, &root, "dev", 0o755).map_err(|e| err("/dev", e))?;
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
        replace(sandbox, &dev, name).map_err(|e| err(name, e))?;
        sandbox.fs.mknod(&dev, name, char_device | 0o666, rdev).map_err(|e| err(name, e))?;
    }
    for (name, target) in [
        ("fd", "/proc/self/fd"),
        ("stdin", "/proc/self/fd/0"),
        ("stdout", "/proc/self/fd/1"),
        ("stderr", "/proc/self/fd/2"),
    ] {
        replace(sandbox, &dev, name).map_err(|e| err(name, e))?;
        sandbox.fs.symlink(&dev, name, target).map_err(|e| err(name, e))?;
    }
    ensure_dir(sandbox, &dev, "shm", 0o1777).map_err(|e| err("/dev/shm", e))?;
    sandbox.fs.mount(&root, "proc", crate::sandbox::files::procfs::root(sandbox)).map_err(|e| err("/proc", e))?;
    sandbox.fs.mount(&root, "sys", crate::sandbox::files::procfs_sys::sys_root(sandbox)).map_err(|e| err("/sys", e))?;
    let tmp = ensure_dir(sandbox, &root, "tmp", 0o1777).map_err(|e| err("/tmp", e))?;
    tmp.set_mode(0o1777, sandbox.fs.now());
    let etc = ensure_dir(sandbox, &root, "etc", 0o755).map_err(|e| err("/etc", e))?;
    let host = &sandbox.hostname;
    write_file(sandbox, &etc, "hostname", &format!("{host}\n")).map_err(|e| err("/etc/hostname", e))?;
    write_name_files(sandbox, &etc, id)
}

/// Writes `/etc/hosts` and `/etc/resolv.conf` for the networks container `id` is on
/// (again when they change: `docker network connect` and `disconnect`), in the `etc`
/// directory of `sandbox`.
pub fn write_name_files(sandbox: &Sandbox, etc: &Arc<Inode>, id: &str) -> Result<(), crate::ContainerError> {
    let err = |what: &'static str, e: FsError| crate::ContainerError::FileSystem(what, e);
    let host = &sandbox.hostname;
    // Its host name at its first address on a network, as Docker writes it.
    let own = crate::networks::attachments(id)
        .iter()
        .find_map(|p| p.ip)
        .map_or(String::from("127.0.1.1"), |ip| format!("{ip}"));
    let hosts = format!("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n{own}\t{host}\n");
    write_file(sandbox, etc, "hosts", &hosts).map_err(|e| err("/etc/hosts", e))?;
    // The network resolver first on networks that resolve names (it refuses other
    // names, so the library asks the next); then the machine's DNS server, as Docker
    // gives containers the host's resolver.
    let mut resolv = String::new();
    if crate::networks::uses_resolver(id) {
        resolv.push_str(&format!("nameserver {}\n", berth_net::dns::RESOLVER));
    }
    if let Some(dns) = crate::net::addressing().and_then(|a| a.dns) {
        resolv.push_str(&format!("nameserver {dns}\n"));
    }
    if !resolv.is_empty() {
        write_file(sandbox, etc, "resolv.conf", &resolv).map_err(|e| err("/etc/resolv.conf", e))?;
    }
    Ok(())
}

/// Writes the name files of container `c` again after its networks changed.
pub fn rewrite_name_files(c: &crate::Container) {
    let fs = &c.sandbox.fs;
    let written = fs
        .child(&fs.root(), "etc")
        .map_err(|e| crate::ContainerError::FileSystem("/etc", e))
        .and_then(|etc| write_name_files(&c.sandbox, &etc, &c.id));
    if let Err(e) = written {
        log::warn!("container {}: its name files not rewritten: {e}", c.name());
    }
}
