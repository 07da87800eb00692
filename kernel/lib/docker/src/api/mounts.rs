//! What a create request mounts: volumes (`-v`, `--mount type=volume`, anonymous
//! ones) and tmpfs file systems (`--tmpfs`, `--mount type=tmpfs`).

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use berth_json::null_default;

use super::HostConfig;

/// One `--mount`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Mount {
    /// `volume`, `bind`, `tmpfs`...
    #[serde(rename = "Type")]
    pub kind: String,
    /// The volume's name; empty for an anonymous volume.
    pub source: String,
    /// Where it appears in the container.
    pub target: String,
    /// Read-only.
    pub read_only: bool,
    /// Options of a volume mount.
    #[serde(deserialize_with = "null_default")]
    pub volume_options: VolumeOptions,
    /// Options of a tmpfs mount.
    #[serde(deserialize_with = "null_default")]
    pub tmpfs_options: TmpfsOptions,
}

/// `VolumeOptions` of a [`Mount`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeOptions {
    /// Do not fill an empty volume from the image (`volume-nocopy`).
    pub no_copy: bool,
}

/// `TmpfsOptions` of a [`Mount`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct TmpfsOptions {
    /// Its size limit in bytes; 0 for none but the container's.
    pub size_bytes: i64,
    /// The mode of its root directory (permission bits); 0 for 1777.
    pub mode: u32,
}

/// A volume a create request asks to mount: `source` names it (`None`: a new
/// anonymous one) at the absolute path `target`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedMount {
    /// The volume's name, or `None` for an anonymous volume.
    pub source: Option<String>,
    /// Where it appears in the container.
    pub target: String,
    /// Leave an empty volume empty, rather than filling it from what the image has at
    /// `target` (`nocopy`).
    pub no_copy: bool,
    /// Read-only in the container (`:ro`, `readonly`).
    pub read_only: bool,
}

/// A tmpfs a create request asks for: an empty file system in memory at `target`,
/// gone when the container stops.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestedTmpfs {
    /// Where it appears in the container.
    pub target: String,
    /// Its size limit in bytes (0: only the container's memory limit).
    pub size: u64,
    /// The permission bits of its root.
    pub mode: u32,
    /// Read-only (`ro`).
    pub read_only: bool,
}

/// Everything a create request mounts.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestedMounts {
    /// Volumes.
    pub volumes: Vec<RequestedMount>,
    /// Tmpfs file systems.
    pub tmpfs: Vec<RequestedTmpfs>,
}

impl RequestedMounts {
    /// Fails if something is mounted at `target` already.
    fn check_free(&self, target: &str) -> Result<(), String> {
        let taken = self.volumes.iter().any(|m| m.target == target) || self.tmpfs.iter().any(|m| m.target == target);
        if taken { Err(format!("Duplicate mount point: {target}")) } else { Ok(()) }
    }

    fn add_volume(
        &mut self,
        source: Option<String>,
        target: &str,
        no_copy: bool,
        read_only: bool,
    ) -> Result<(), String> {
        let target = clean_target(target)?;
        self.check_free(&target)?;
        if let Some(name) = &source
            && self.volumes.iter().any(|m| m.source.as_ref() == Some(name))
        {
            return Err(format!("volume {name} is mounted twice: berth mounts a volume at one path of a container"));
        }
        self.volumes.push(RequestedMount { source, target, no_copy, read_only });
        Ok(())
    }

    fn add_tmpfs(&mut self, target: &str, size: u64, mode: u32, read_only: bool) -> Result<(), String> {
        let target = clean_target(target)?;
        self.check_free(&target)?;
        self.tmpfs.push(RequestedTmpfs { target, size, mode, read_only });
        Ok(())
    }
}

/// What a create request mounts: volumes from `-v NAME:/path[:OPTIONS]` (`Binds`) and
/// `--mount type=volume`, tmpfs file systems from `--tmpfs PATH[:OPTIONS]` (`Tmpfs`)
/// and `--mount type=tmpfs`, then anonymous volumes at the paths in `anonymous`
/// (`Config.Volumes` and the image's `VOLUME`s) where nothing else is mounted.
/// Refused, saying why: host paths (`-v /host:/path`, `type=bind`; berth has no host
/// file system to share), other mount types, bad options, relative or root targets,
/// and two mounts on one path.
pub fn requested_mounts<'a>(
    host: &HostConfig,
    anonymous: impl IntoIterator<Item = &'a String>,
) -> Result<RequestedMounts, String> {
    let mut out = RequestedMounts::default();
    for bind in &host.binds {
        let mut parts = bind.split(':');
        let (source, target) = match (parts.next(), parts.next()) {
            (Some(s), Some(t)) if !s.is_empty() && !t.is_empty() => (s, t),
            _ => return Err(format!("invalid volume specification: '{bind}'")),
        };
        let (mut no_copy, mut read_only) = (false, false);
        if let Some(options) = parts.next() {
            for option in options.split(',') {
                match option {
                    "nocopy" => no_copy = true,
                    "ro" => read_only = true,
                    "rw" | "z" | "Z" | "" => {}
                    other => return Err(format!("invalid mode: {other}")),
                }
            }
        }
        if parts.next().is_some() {
            return Err(format!("invalid volume specification: '{bind}'"));
        }
        if source.starts_with('/') || source.starts_with('.') {
            return Err(format!(
                "{bind}: berth has no host file system to bind-mount from; use a named volume (NAME:{target})"
            ));
        }
        out.add_volume(Some(String::from(source)), target, no_copy, read_only)?;
    }
    for (target, options) in &host.tmpfs {
        let (size, mode, read_only) = tmpfs_options(options)?;
        out.add_tmpfs(target, size, mode, read_only)?;
    }
    for m in &host.mounts {
        match m.kind.as_str() {
            "volume" => {
                let source = (!m.source.is_empty()).then(|| m.source.clone());
                out.add_volume(source, &m.target, m.volume_options.no_copy, m.read_only)?;
            }
            "tmpfs" => {
                let size = u64::try_from(m.tmpfs_options.size_bytes)
                    .map_err(|_| format!("mount {}: invalid tmpfs size", m.target))?;
                let mode = match m.tmpfs_options.mode & 0o7777 {
                    0 => 0o1777,
                    mode => mode,
                };
                out.add_tmpfs(&m.target, size, mode, m.read_only)?;
            }
            "bind" => {
                return Err(format!(
                    "mount {}: berth has no host file system to bind-mount from; use type=volume",
                    m.target
                ));
            }
            other => return Err(format!("mount {}: mounts of type {other} are not supported by berth", m.target)),
        }
    }
    for path in anonymous {
        let target = clean_target(path)?;
        if out.check_free(&target).is_ok() {
            out.volumes.push(RequestedMount { source: None, target, no_copy: false, read_only: false });
        }
    }
    Ok(out)
}

/// The size, root mode and read-only flag of `--tmpfs PATH:OPTIONS` (`size=64m`,
/// `mode=1770`, `ro`; `rw`, `exec`, `noexec`, `suid`, `nosuid`, `dev`, `nodev` are taken
/// and not enforced, as berth has none of those distinctions).
fn tmpfs_options(options: &str) -> Result<(u64, u32, bool), String> {
    let (mut size, mut mode, mut read_only) = (0, 0o1777, false);
    for option in options.split(',').filter(|o| !o.is_empty()) {
        match option.split_once('=') {
            Some(("size", value)) => size = parse_size(value).ok_or_else(|| format!("invalid tmpfs size: {value}"))?,
            Some(("mode", value)) => {
                mode = u32::from_str_radix(value, 8)
                    .ok()
                    .filter(|m| *m <= 0o7777)
                    .ok_or_else(|| format!("invalid tmpfs mode: {value}"))?;
            }
            Some((key, _)) => return Err(format!("invalid tmpfs option: {key}")),
            None => match option {
                "ro" => read_only = true,
                "rw" | "exec" | "noexec" | "suid" | "nosuid" | "dev" | "nodev" => {}
                other => return Err(format!("invalid tmpfs option: {other}")),
            },
        }
    }
    Ok((size, mode, read_only))
}

/// Bytes in `64m`, `65536k`, `1g` or `4096`.
fn parse_size(text: &str) -> Option<u64> {
    let (digits, shift) = match text.chars().last()?.to_ascii_lowercase() {
        'k' => (&text[..text.len() - 1], 10),
        'm' => (&text[..text.len() - 1], 20),
        'g' => (&text[..text.len() - 1], 30),
        _ => (text, 0),
    };
    digits.parse::<u64>().ok()?.checked_mul(1 << shift)
}

/// `target` as an absolute path without `.`, empty parts or a trailing `/`; `..` and
/// the root itself are refused.
fn clean_target(target: &str) -> Result<String, String> {
    if !target.starts_with('/') {
        return Err(format!("invalid mount config: mount path must be absolute: {target}"));
    }
    if target.chars().any(char::is_control) {
        return Err(format!("invalid mount config: mount path has a control character: {target:?}"));
    }
    let mut clean = String::new();
    for part in target.split('/').filter(|p| !p.is_empty() && *p != ".") {
        if part == ".." {
            return Err(format!("invalid mount config: mount path must not contain '..': {target}"));
        }
        clean.push('/');
        clean.push_str(part);
    }
    if clean.is_empty() {
        return Err(String::from("invalid specification: destination can't be '/'"));
    }
    Ok(clean)
}
