//! Building container images: root file system trees written as tar archives, the
//! format `docker import` takes.

use crate::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

enum Item {
    Dir { mode: u32 },
    File { data: Vec<u8>, mode: u32 },
    Symlink { target: String },
}

/// A root file system being assembled.
#[derive(Default)]
pub struct Rootfs {
    items: Vec<(String, Item)>,
}

impl Rootfs {
    /// An empty tree with the directories every Linux root has.
    pub fn new() -> Rootfs {
        let mut r = Rootfs::default();
        for (dir, mode) in [("bin", 0o755), ("etc", 0o755), ("root", 0o700), ("tmp", 0o1777), ("usr", 0o755)] {
            r.dir(dir, mode);
        }
        r
    }

    /// Adds a directory.
    pub fn dir(&mut self, path: &str, mode: u32) -> &mut Rootfs {
        self.items.push((path.to_string(), Item::Dir { mode }));
        self
    }

    /// Adds a file with the given contents.
    pub fn file(&mut self, path: &str, data: impl Into<Vec<u8>>, mode: u32) -> &mut Rootfs {
        self.items.push((path.to_string(), Item::File { data: data.into(), mode }));
        self
    }

    /// Adds a copy of the host file `source`.
    pub fn copy(&mut self, path: &str, source: &Path, mode: u32) -> Result<&mut Rootfs> {
        let data = std::fs::read(source).map_err(|e| Error(format!("{}: {e}", source.display())))?;
        Ok(self.file(path, data, mode))
    }

    /// Adds a symbolic link.
    pub fn symlink(&mut self, path: &str, target: &str) -> &mut Rootfs {
        self.items.push((path.to_string(), Item::Symlink { target: target.to_string() }));
        self
    }

    /// The archive's bytes.
    pub fn to_tar(&self) -> Result<Vec<u8>> {
        let io = |e: std::io::Error| Error(format!("writing an image archive: {e}"));
        let mut b = tar::Builder::new(Vec::new());
        for (path, item) in &self.items {
            let mut h = tar::Header::new_gnu();
            h.set_uid(0);
            h.set_gid(0);
            h.set_mtime(1_700_000_000);
            match item {
                Item::Dir { mode } => {
                    h.set_entry_type(tar::EntryType::Directory);
                    h.set_mode(*mode);
                    h.set_size(0);
                    b.append_data(&mut h, format!("{path}/"), &[][..]).map_err(io)?;
                }
                Item::File { data, mode } => {
                    h.set_entry_type(tar::EntryType::Regular);
                    h.set_mode(*mode);
                    h.set_size(data.len() as u64);
                    b.append_data(&mut h, path, &data[..]).map_err(io)?;
                }
                Item::Symlink { target } => {
                    h.set_entry_type(tar::EntryType::Symlink);
                    h.set_mode(0o777);
                    h.set_size(0);
                    b.append_link(&mut h, path, target).map_err(io)?;
                }
            }
        }
        b.into_inner().map_err(io)
    }

    /// Writes the archive to `out`.
    pub fn write(&self, out: &Path) -> Result<()> {
        std::fs::write(out, self.to_tar()?).map_err(|e| Error(format!("{}: {e}", out.display())))
    }
}

/// The applets a busybox binary provides (`busybox --list`).
pub fn busybox_applets(busybox: &Path) -> Result<Vec<String>> {
    let out = Command::new(busybox)
        .arg("--list")
        .output()
        .map_err(|e| Error(format!("running {} --list: {e}", busybox.display())))?;
    Ok(String::from_utf8_lossy(&out.stdout).lines().map(str::to_string).filter(|a| a != "busybox").collect())
}

/// A minimal Linux root: busybox with a link for every applet, /etc/passwd and
/// /etc/group for root, and a sample file `/data/hello.txt`.
pub fn busybox_rootfs(busybox: &Path) -> Result<Rootfs> {
    let mut r = Rootfs::new();
    r.copy("bin/busybox", busybox, 0o755)?;
    for applet in busybox_applets(busybox)? {
        r.symlink(&format!("bin/{applet}"), "busybox");
    }
    r.file("etc/passwd", "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n", 0o644);
    r.file("etc/group", "root:x:0:\nnogroup:x:65534:\n", 0o644);
    r.dir("data", 0o755);
    r.file("data/hello.txt", HELLO, 0o644);
    Ok(r)
}

/// The sample file in every busybox image (tests check its checksum).
pub const HELLO: &str = "hello from a berth container image\n";

/// Where Debian's busybox-static puts the binary.
pub fn system_busybox() -> PathBuf {
    PathBuf::from("/bin/busybox")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn archives_read_back_with_the_kernel_reader() {
        let mut r = Rootfs::new();
        r.file("bin/x", b"\x7fELF".to_vec(), 0o755).symlink("bin/y", "x").dir("data", 0o755);
        let bytes = r.to_tar().unwrap();
        let entries = berth_tar::entries(&bytes, u64::MAX).unwrap();
        let names: Vec<&str> = entries.iter().map(|e| e.header.name.as_str()).collect();
        assert_eq!(names, ["bin/", "etc/", "root/", "tmp/", "usr/", "bin/x", "bin/y", "data/"]);
        assert_eq!(entries[5].data, b"\x7fELF");
        assert_eq!(entries[5].header.mode, 0o755);
        assert_eq!(entries[6].header.link_name, "x");
        assert_eq!(entries[3].header.mode, 0o1777);
    }
}
