//! Linux in the same QEMU, running the same benchmark programs, for comparison.
//!
//! Debian's current kernel (`linux-image-amd64`) is fetched once with `apt-get
//! download` into `target/berth/linux/` (with the modules of the virtio network card)
//! and booted with an initramfs holding busybox, the benchmark programs and an `/init`
//! script that runs them and powers off; or, for the Debian benchmarks, the whole
//! Debian test root ([`root_initramfs`]).

use crate::util;
use berth_tests::qemu::{Vm, VmConfig};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

/// A Debian kernel ready to boot.
pub struct Kernel {
    /// The bzImage.
    pub image: PathBuf,
    /// Its version, e.g. `6.1.0-56-amd64`.
    pub version: String,
}

/// The modules Linux needs for QEMU's virtio network card (Debian builds them as
/// modules), in the order they load.
pub const NET_MODULES: &[&str] = &[
    "drivers/virtio/virtio_ring.ko",
    "drivers/virtio/virtio.ko",
    "drivers/virtio/virtio_pci_legacy_dev.ko",
    "drivers/virtio/virtio_pci_modern_dev.ko",
    "drivers/virtio/virtio_pci.ko",
    "net/core/failover.ko",
    "drivers/net/net_failover.ko",
    "drivers/net/virtio_net.ko",
];

/// The modules Linux needs for QEMU's virtio block device, in the order they load.
pub const BLOCK_MODULES: &[&str] = &[
    "drivers/virtio/virtio_ring.ko",
    "drivers/virtio/virtio.ko",
    "drivers/virtio/virtio_pci_legacy_dev.ko",
    "drivers/virtio/virtio_pci_modern_dev.ko",
    "drivers/virtio/virtio_pci.ko",
    "drivers/block/virtio_blk.ko",
];

/// Every module kept from the kernel package.
fn kept_modules() -> impl Iterator<Item = &'static str> {
    NET_MODULES.iter().chain(BLOCK_MODULES).copied()
}

/// Where the kept [`NET_MODULES`] and [`BLOCK_MODULES`] are.
pub fn modules_dir() -> PathBuf {
    util::out_dir().join("linux/modules")
}

/// Fetches (once) Debian's kernel package and unpacks its bzImage and the network and
/// block device modules.
pub fn kernel() -> Result<Kernel, String> {
    let dir = util::out_dir().join("linux");
    let found = |dir: &Path| -> Option<Kernel> {
        if !kept_modules().all(|m| modules_dir().join(module_file(m)).is_file()) {
            return None;
        }
        let entry = std::fs::read_dir(dir.join("boot"))
            .ok()?
            .filter_map(Result::ok)
            .find(|e| e.file_name().to_string_lossy().starts_with("vmlinuz-"))?;
        let version = entry.file_name().to_string_lossy().trim_start_matches("vmlinuz-").to_string();
        Some(Kernel { image: entry.path(), version })
    };
    if let Some(k) = found(&dir) {
        return Ok(k);
    }
    let t = util::step("fetching Debian's Linux kernel for comparison (apt-get download linux-image-amd64)");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let depends =
        Command::new("apt-cache").args(["depends", "linux-image-amd64"]).output().map_err(|e| e.to_string())?;
    let package = String::from_utf8_lossy(&depends.stdout)
        .lines()
        .find_map(|l| l.trim().strip_prefix("Depends: ").map(str::to_string))
        .filter(|p| p.starts_with("linux-image-"))
        .ok_or("apt-cache knows no linux-image-amd64 (run `apt-get update`)")?;
    util::run(Command::new("apt-get").current_dir(&dir).args(["download", &package]), "apt-get download")?;
    let deb = std::fs::read_dir(&dir)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .ok_or("no .deb downloaded")?;
    util::run(Command::new("dpkg-deb").arg("-x").arg(&deb).arg(&dir), "unpacking the kernel package")?;
    std::fs::create_dir_all(modules_dir()).map_err(|e| e.to_string())?;
    for module in kept_modules() {
        let from = std::fs::read_dir(dir.join("lib/modules"))
            .map_err(|e| e.to_string())?
            .filter_map(Result::ok)
            .map(|e| e.path().join("kernel").join(module))
            .find(|p| p.is_file())
            .ok_or_else(|| format!("the kernel package has no {module}"))?;
        std::fs::copy(&from, modules_dir().join(module_file(module))).map_err(|e| e.to_string())?;
    }
    let _ = std::fs::remove_dir_all(dir.join("lib"));
    let _ = std::fs::remove_dir_all(dir.join("usr"));
    let _ = std::fs::remove_file(&deb);
    util::done(t, &format!("{package} unpacked"));
    found(&dir).ok_or_else(|| "the kernel package holds no /boot/vmlinuz-*".into())
}

/// A module's file name (`virtio_net.ko`).
pub fn module_file(path: &str) -> &str {
    path.rsplit('/').next().unwrap_or(path)
}

/// Builds an initramfs with busybox, `files` (name, host path) in `/bin`, and `/init`
/// running `script` then powering off.
pub fn initramfs(files: &[(&str, &Path)], script: &str, out: &Path) -> Result<(), String> {
    use cpio::NewcBuilder;
    use std::io::Cursor;
    let mut entries: Vec<(NewcBuilder, Cursor<Vec<u8>>)> = Vec::new();
    let dir = |name: &str| (NewcBuilder::new(name).mode(0o40755), Cursor::new(Vec::new()));
    for d in ["bin", "proc", "dev", "tmp", "sys"] {
        entries.push(dir(d));
    }
    let read = |p: &Path| std::fs::read(p).map_err(|e| format!("{}: {e}", p.display()));
    entries.push((NewcBuilder::new("bin/busybox").mode(0o100755), Cursor::new(read(Path::new("/bin/busybox"))?)));
    entries.push((NewcBuilder::new("bin/sh").mode(0o120777), Cursor::new(b"busybox".to_vec())));
    for (name, path) in files {
        entries.push((NewcBuilder::new(&format!("bin/{name}")).mode(0o100755), Cursor::new(read(path)?)));
    }
    let init = format!(
        "#!/bin/sh\n/bin/busybox mount -t proc proc /proc\n/bin/busybox mount -t devtmpfs dev /dev\necho LINUX-INIT\n{script}\necho LINUX-DONE\n/bin/busybox poweroff -f\n"
    );
    entries.push((NewcBuilder::new("init").mode(0o100755), Cursor::new(init.into_bytes())));
    let file = std::fs::File::create(out).map_err(|e| e.to_string())?;
    cpio::write_cpio(entries.into_iter(), file).map_err(|e| e.to_string())?;
    Ok(())
}

/// Boots `kernel` with `initramfs` in the same QEMU configuration berth uses; returns
/// the console lines and the time from QEMU's start to `/init`'s first line.
pub fn run(kernel: &Kernel, initramfs: &Path, timeout: Duration) -> Result<(Vec<String>, Duration), String> {
    run_on(kernel, initramfs, 1, timeout)
}

/// [`run`] on a VM of `cpus` CPUs.
pub fn run_on(
    kernel: &Kernel,
    initramfs: &Path,
    cpus: u32,
    timeout: Duration,
) -> Result<(Vec<String>, Duration), String> {
    let mut config = vm_config(kernel, initramfs);
    config.cpus = cpus;
    let mut vm = Vm::start(&config)?;
    vm.expect("LINUX-INIT", timeout)?;
    let boot = vm.elapsed();
    vm.expect("LINUX-DONE", timeout)?;
    Ok((vm.output().lines().map(str::to_string).collect(), boot))
}

/// A VM booting `kernel` with `initramfs`, its console on the serial port, in the
/// QEMU configuration berth uses (callers add CPUs, memory, forwards).
pub fn vm_config(kernel: &Kernel, initramfs: &Path) -> VmConfig {
    let mut config = VmConfig::new(kernel.image.clone());
    config.initrd = Some(initramfs.to_path_buf());
    config.cmdline = "console=ttyS0 quiet panic=-1".into();
    config
}

/// Builds an initramfs of the directory tree `root` (device nodes and sockets left out:
/// `/init` mounts devtmpfs) with `extra` files added (path in the archive, mode,
/// contents); hard links become copies.
pub fn root_initramfs(root: &Path, extra: Vec<(String, u32, Vec<u8>)>, out: &Path) -> Result<(), String> {
    use cpio::NewcBuilder;
    use std::io::Cursor;
    use std::os::unix::fs::{MetadataExt, PermissionsExt};
    let mut entries: Vec<(NewcBuilder, Cursor<Vec<u8>>)> = Vec::new();
    let mut stack = vec![root.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let mut children: Vec<PathBuf> = std::fs::read_dir(&dir)
            .map_err(|e| format!("{}: {e}", dir.display()))?
            .filter_map(Result::ok)
            .map(|e| e.path())
            .collect();
        children.sort();
        for path in children {
            let meta = std::fs::symlink_metadata(&path).map_err(|e| e.to_string())?;
            let name = path.strip_prefix(root).map_err(|e| e.to_string())?.to_string_lossy().into_owned();
            let mode = meta.permissions().mode();
            let builder = NewcBuilder::new(&name).mode(mode).uid(meta.uid()).gid(meta.gid());
            let file_type = meta.file_type();
            let data = if file_type.is_symlink() {
                std::fs::read_link(&path).map_err(|e| e.to_string())?.to_string_lossy().into_owned().into_bytes()
            } else if file_type.is_file() {
                std::fs::read(&path).map_err(|e| format!("{}: {e}", path.display()))?
            } else if file_type.is_dir() {
                stack.push(path.clone());
                Vec::new()
            } else {
                continue;
            };
            entries.push((builder, Cursor::new(data)));
        }
    }
    for (name, mode, data) in extra {
        entries.push((NewcBuilder::new(&name).mode(mode), Cursor::new(data)));
    }
    let file = std::fs::File::create(out).map_err(|e| e.to_string())?;
    cpio::write_cpio(entries.into_iter(), std::io::BufWriter::new(file)).map_err(|e| e.to_string())?;
    Ok(())
}
