//! Where the built pieces the tests boot are found.

use std::path::{Path, PathBuf};

/// Paths to what `cargo xtask` built.
#[derive(Debug, Clone)]
pub struct Artifacts {
    /// The output directory (`target/berth`).
    pub dir: PathBuf,
    /// The kernel ELF.
    pub kernel: PathBuf,
    /// The image with busybox and the test programs (`images/test.tar`).
    pub test_image: PathBuf,
    /// The plain busybox image (`images/busybox.tar`).
    pub busybox_image: PathBuf,
    /// The Debian bookworm image of dynamically linked programs (`debian/bookworm.tar`).
    pub debian_image: PathBuf,
    /// The root it was made from, for running the same programs on Linux (`chroot`).
    pub debian_root: PathBuf,
}

impl Artifacts {
    /// The artifacts under `dir` (`target/berth`), as `cargo xtask` lays them out.
    pub fn in_dir(dir: &Path) -> Artifacts {
        Artifacts {
            dir: dir.to_path_buf(),
            kernel: dir.join("boot-root/boot/berth"),
            test_image: dir.join("boot-root/images/test.tar"),
            busybox_image: dir.join("boot-root/images/busybox.tar"),
            debian_image: dir.join("debian/bookworm.tar"),
            debian_root: dir.join("debian/root"),
        }
    }

    /// The Debian image, or why it is missing.
    pub fn debian(&self) -> Result<&Path, String> {
        if self.debian_image.is_file() {
            Ok(&self.debian_image)
        } else {
            Err(format!("{} is missing: `cargo xtask test` builds it (with debootstrap)", self.debian_image.display()))
        }
    }

    /// Checks the kernel exists, with advice if it does not.
    pub fn check(&self) -> Result<(), String> {
        if self.kernel.is_file() && self.test_image.is_file() {
            Ok(())
        } else {
            Err(format!(
                "{} is missing: build it with `cargo xtask test` (or `cargo xtask image`)",
                self.kernel.display()
            ))
        }
    }

    /// A fresh scratch directory for one test.
    pub fn scratch(&self, test: &str) -> PathBuf {
        let dir = self.dir.join("test-scratch").join(test);
        let _ = std::fs::remove_dir_all(&dir);
        let _ = std::fs::create_dir_all(&dir);
        dir
    }
}
