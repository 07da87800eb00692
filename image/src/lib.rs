//! Boot image assembly for berth.
//!
//! `limine.cfg` at the top of the repository is the one boot configuration. This crate
//! reads it ([`config`]) and turns it into what each boot path needs:
//!
//! * **Direct boot** ([`direct_boot`]): QEMU's `-kernel` with the entry's command line in
//!   `-append` and its modules packed into one `-initrd` bundle ([`bundle`]), which the
//!   kernel unpacks into the same module list Limine would have given it.
//! * **Limine** ([`iso`], [`disk`]): a hybrid BIOS/UEFI ISO and a GPT disk image (boot
//!   and data partitions, for `dd` to a server's disk) with the configuration installed
//!   as `limine.conf`, built whenever Limine's binaries are present.
//!
//! Paths in the configuration use Limine's `boot():/...` form and are resolved against
//! a staging directory that mirrors the boot medium.

pub mod bundle;
pub mod config;
pub mod disk;
pub mod iso;
pub mod rootfs;

use std::fmt;
use std::path::{Path, PathBuf};

pub use config::{BootConfig, Entry, ModuleSpec};

/// An error with the file or step it concerns.
#[derive(Debug)]
pub struct Error(pub String);

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for Error {}

/// Result type of this crate.
pub type Result<T> = std::result::Result<T, Error>;

/// Resolves a Limine URI of the form `boot():/path` (or `boot(N):/path`) against the
/// staging directory `root`. Other resources, compressed (`$`) payloads and hash
/// suffixes other than a plain `#hash` are not supported for direct boot.
pub fn resolve(uri: &str, root: &Path) -> Result<PathBuf> {
    let uri = uri.split('#').next().unwrap_or(uri);
    if uri.starts_with('$') {
        return Err(Error(format!("`{uri}`: compressed payloads are not supported by berth's image builder")));
    }
    let rest = uri
        .strip_prefix("boot(")
        .and_then(|r| r.split_once("):"))
        .map(|(_, path)| path)
        .ok_or_else(|| Error(format!("`{uri}`: only boot():/... paths are supported")))?;
    let relative = rest.trim_start_matches('/');
    if relative.is_empty() || relative.split('/').any(|c| c == "..") {
        return Err(Error(format!("`{uri}`: not a file path inside the boot medium")));
    }
    Ok(root.join(relative))
}

/// What QEMU needs to boot an entry directly.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DirectBoot {
    /// The kernel ELF (`-kernel`).
    pub kernel: PathBuf,
    /// The module bundle (`-initrd`), if the entry has modules.
    pub initrd: Option<PathBuf>,
    /// The kernel command line (`-append`).
    pub cmdline: String,
}

/// Prepares direct boot of `entry` (the first entry if `None`): resolves the kernel,
/// and packs the modules into `bundle_path`.
pub fn direct_boot(config: &BootConfig, entry: Option<&str>, root: &Path, bundle_path: &Path) -> Result<DirectBoot> {
    let entry = config.entry(entry)?;
    let kernel =
        resolve(entry.path.as_deref().ok_or_else(|| Error(format!("entry `{}` has no path", entry.name)))?, root)?;
    let initrd = if entry.modules.is_empty() {
        None
    } else {
        let mut modules = Vec::new();
        for m in &entry.modules {
            let file = resolve(&m.path, root)?;
            let name = m.path.split_once("):").map_or(m.path.as_str(), |(_, p)| p).trim_start_matches('/');
            modules.push(bundle::BundleModule { name: name.to_string(), cmdline: m.cmdline.clone(), file });
        }
        bundle::write(&modules, bundle_path)?;
        Some(bundle_path.to_path_buf())
    };
    Ok(DirectBoot { kernel, initrd, cmdline: entry.cmdline.clone() })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolves_boot_paths() {
        let root = Path::new("/stage");
        assert_eq!(resolve("boot():/boot/berth", root).unwrap(), Path::new("/stage/boot/berth"));
        assert_eq!(resolve("boot(2):/images/a.tar#abc", root).unwrap(), Path::new("/stage/images/a.tar"));
        assert!(resolve("hdd(1:1):/x", root).is_err());
        assert!(resolve("$boot():/x.gz", root).is_err());
        assert!(resolve("boot():/../etc/passwd", root).is_err());
        assert!(resolve("boot():/", root).is_err());
    }
}
