//! `docker cp`'s view of a path in a container: the `X-Docker-Container-Path-Stat`
//! header (base64 of this JSON), with modes as Go's `os.FileMode` encodes them.

use alloc::string::String;
use serde::{Deserialize, Serialize};

/// What `HEAD`/`GET /containers/{id}/archive` says of the path.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PathStat {
    /// Its base name.
    pub name: String,
    /// Its size in bytes.
    pub size: i64,
    /// Type and permission bits, as Go's `os.FileMode`.
    pub mode: u32,
    /// Modification time, RFC 3339.
    pub mtime: String,
    /// A symbolic link's target (empty otherwise).
    pub link_target: String,
}

/// Go's `os.FileMode` for a Unix `st_mode`: the permission bits, and the type and
/// special bits where Go keeps them (a directory is bit 31, not `S_IFDIR`).
pub fn go_file_mode(mode: u32) -> u32 {
    const DIR: u32 = 1 << 31;
    const SYMLINK: u32 = 1 << 27;
    const DEVICE: u32 = 1 << 26;
    const NAMED_PIPE: u32 = 1 << 25;
    const SOCKET: u32 = 1 << 24;
    const SETUID: u32 = 1 << 23;
    const SETGID: u32 = 1 << 22;
    const CHAR_DEVICE: u32 = 1 << 21;
    const STICKY: u32 = 1 << 20;
    let mut go = mode & 0o777;
    go |= match mode & 0o170_000 {
        0o040_000 => DIR,
        0o120_000 => SYMLINK,
        0o060_000 => DEVICE,
        0o020_000 => DEVICE | CHAR_DEVICE,
        0o010_000 => NAMED_PIPE,
        0o140_000 => SOCKET,
        _ => 0,
    };
    for (unix, bit) in [(0o4000, SETUID), (0o2000, SETGID), (0o1000, STICKY)] {
        if mode & unix != 0 {
            go |= bit;
        }
    }
    go
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_as_go_has_them() {
        assert_eq!(go_file_mode(0o100_644), 0o644);
        assert_eq!(go_file_mode(0o040_755), 0x8000_01ed);
        assert_eq!(go_file_mode(0o041_777), 0x8010_01ff, "a sticky directory");
        assert_eq!(go_file_mode(0o120_777), 0x0800_01ff);
        assert_eq!(go_file_mode(0o020_666), 0x0420_01b6, "a character device");
        assert_eq!(go_file_mode(0o104_755), 0x0080_01ed, "setuid");
    }

    #[test]
    fn the_json_the_cli_reads() {
        let stat =
            PathStat { name: "hostname".into(), size: 6, mode: 0o644, mtime: "x".into(), link_target: "".into() };
        let json = serde_json::to_string(&stat).unwrap();
        assert_eq!(json, r#"{"name":"hostname","size":6,"mode":420,"mtime":"x","linkTarget":""}"#);
    }
}
