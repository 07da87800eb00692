//! The Limine boot image: a hybrid BIOS/UEFI ISO.
//!
//! Needs Limine's binaries (`limine-bios.sys`, `limine-bios-cd.bin`,
//! `limine-uefi-cd.bin`, `BOOTX64.EFI` and the `limine` host tool), from `LIMINE_DIR` or
//! `/usr/share/limine` where distributions install them, and `xorriso`.

use crate::{Error, Result};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Files the ISO needs from a Limine installation.
pub const LIMINE_FILES: [&str; 4] = ["limine-bios.sys", "limine-bios-cd.bin", "limine-uefi-cd.bin", "BOOTX64.EFI"];

/// Where Limine's binaries are: `$LIMINE_DIR`, else `/usr/share/limine`. Returns an
/// error that says what is missing and how to provide it.
pub fn find_limine() -> Result<PathBuf> {
    let dir = std::env::var_os("LIMINE_DIR").map_or_else(|| PathBuf::from("/usr/share/limine"), PathBuf::from);
    let missing: Vec<&str> = LIMINE_FILES.iter().copied().filter(|f| !dir.join(f).is_file()).collect();
    if missing.is_empty() {
        Ok(dir)
    } else {
        Err(Error(format!(
            "Limine binaries not found in {} (missing: {}). Install Limine (8 or later; \
             distributions put it in /usr/share/limine) or set LIMINE_DIR to a directory \
             holding {} and the `limine` tool.",
            dir.display(),
            missing.join(", "),
            LIMINE_FILES.join(", ")
        )))
    }
}

/// The `limine` host tool, which installs the BIOS stages: `$LIMINE_DIR/limine`, else
/// `limine` on the PATH; `None` if neither runs.
pub fn limine_tool(dir: &Path) -> Option<PathBuf> {
    let local = dir.join("limine");
    [local, PathBuf::from("limine")]
        .into_iter()
        .find(|tool| Command::new(tool).arg("--version").output().is_ok_and(|o| o.status.success()))
}

/// Which firmware an ISO built by [`build`] boots from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Firmware {
    /// UEFI and legacy BIOS.
    Both,
    /// UEFI only: the `limine` host tool, which installs the BIOS stages, was not found.
    UefiOnly,
}

/// Lays out the ISO tree under `tree`: the staged boot files from `root`, the config
/// as `boot/limine/limine.conf`, Limine's CD and EFI loaders.
pub fn stage(root: &Path, config: &Path, limine: &Path, tree: &Path) -> Result<()> {
    let io = |what: &Path, e: std::io::Error| Error(format!("{}: {e}", what.display()));
    if tree.exists() {
        std::fs::remove_dir_all(tree).map_err(|e| io(tree, e))?;
    }
    copy_tree(root, tree)?;
    let boot = tree.join("boot/limine");
    let efi = tree.join("EFI/BOOT");
    for dir in [&boot, &efi] {
        std::fs::create_dir_all(dir).map_err(|e| io(dir, e))?;
    }
    std::fs::copy(config, boot.join("limine.conf")).map_err(|e| io(config, e))?;
    for f in &LIMINE_FILES[..3] {
        std::fs::copy(limine.join(f), boot.join(f)).map_err(|e| io(&limine.join(f), e))?;
    }
    std::fs::copy(limine.join("BOOTX64.EFI"), efi.join("BOOTX64.EFI")).map_err(|e| io(&efi, e))?;
    Ok(())
}

fn copy_tree(from: &Path, to: &Path) -> Result<()> {
    let io = |what: &Path, e: std::io::Error| Error(format!("{}: {e}", what.display()));
    std::fs::create_dir_all(to).map_err(|e| io(to, e))?;
    for entry in std::fs::read_dir(from).map_err(|e| io(from, e))? {
        let entry = entry.map_err(|e| io(from, e))?;
        let target = to.join(entry.file_name());
        if entry.path().is_dir() {
            copy_tree(&entry.path(), &target)?;
        } else {
            std::fs::copy(entry.path(), &target).map_err(|e| io(&entry.path(), e))?;
        }
    }
    Ok(())
}

/// Builds the hybrid ISO at `out` from the staged `tree` and installs Limine's BIOS
/// stages into it if the `limine` tool is at hand (else the ISO boots through UEFI
/// only, and the result says so).
pub fn build(tree: &Path, limine: &Path, out: &Path) -> Result<Firmware> {
    let status = Command::new("xorriso")
        .args(["-as", "mkisofs", "-R", "-r", "-J", "-b", "boot/limine/limine-bios-cd.bin"])
        .args(["-no-emul-boot", "-boot-load-size", "4", "-boot-info-table", "-hfsplus"])
        .args(["-apm-block-size", "2048", "--efi-boot", "boot/limine/limine-uefi-cd.bin"])
        .args(["-efi-boot-part", "--efi-boot-image", "--protective-msdos-label"])
        .arg(tree)
        .arg("-o")
        .arg(out)
        .status()
        .map_err(|e| Error(format!("running xorriso (apt-get install xorriso): {e}")))?;
    if !status.success() {
        return Err(Error(format!("xorriso failed ({status})")));
    }
    let Some(tool) = limine_tool(limine) else {
        return Ok(Firmware::UefiOnly);
    };
    let status = Command::new(&tool)
        .arg("bios-install")
        .arg(out)
        .status()
        .map_err(|e| Error(format!("running {}: {e}", tool.display())))?;
    if !status.success() {
        return Err(Error(format!("`limine bios-install` failed ({status})")));
    }
    Ok(Firmware::Both)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stages_config_and_loaders_where_limine_looks() {
        let base = std::env::temp_dir().join(format!("berth-iso-{}", std::process::id()));
        let (root, limine, tree) = (base.join("root"), base.join("limine"), base.join("tree"));
        std::fs::create_dir_all(root.join("boot")).unwrap();
        std::fs::create_dir_all(&limine).unwrap();
        std::fs::write(root.join("boot/berth"), b"kernel").unwrap();
        for f in LIMINE_FILES {
            std::fs::write(limine.join(f), f).unwrap();
        }
        let config = base.join("limine.cfg");
        std::fs::write(&config, "timeout: 0\n").unwrap();
        stage(&root, &config, &limine, &tree).unwrap();
        assert_eq!(std::fs::read(tree.join("boot/berth")).unwrap(), b"kernel");
        assert_eq!(std::fs::read(tree.join("boot/limine/limine.conf")).unwrap(), b"timeout: 0\n");
        assert!(tree.join("boot/limine/limine-bios-cd.bin").is_file());
        assert!(tree.join("EFI/BOOT/BOOTX64.EFI").is_file());
        std::fs::remove_dir_all(&base).unwrap();
    }
}
