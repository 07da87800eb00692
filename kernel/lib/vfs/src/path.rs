//! Path helpers and limits.

use crate::FsError;
use alloc::string::String;
use alloc::vec::Vec;

/// Longest path accepted (PATH_MAX).
pub const MAX_PATH: usize = 4096;
/// Longest file name accepted (NAME_MAX).
pub const MAX_NAME: usize = 255;

/// Turns a path from an archive (`./bin/sh`, `bin/`, `/etc/passwd`) into its
/// components relative to the root. `..` is refused so an archive can never place a
/// file outside its root; `.` and empty components are dropped.
pub fn normalize_archive_path(path: &str) -> Result<Vec<String>, FsError> {
    if path.len() > MAX_PATH {
        return Err(FsError::NameTooLong);
    }
    let mut parts = Vec::new();
    for part in path.split('/') {
        match part {
            "" | "." => {}
            ".." => return Err(FsError::BadImage(alloc::format!("path `{path}` leaves the root with `..`"))),
            name if name.len() > MAX_NAME => return Err(FsError::NameTooLong),
            name => parts.push(String::from(name)),
        }
    }
    Ok(parts)
}

/// Checks one name for a directory entry.
pub(crate) fn check_name(name: &str) -> Result<(), FsError> {
    if name.is_empty() || name == "." || name == ".." || name.contains('/') || name.contains('\0') {
        return Err(FsError::Invalid);
    }
    if name.len() > MAX_NAME {
        return Err(FsError::NameTooLong);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;

    #[test]
    fn archive_paths() {
        assert_eq!(normalize_archive_path("./bin/sh").unwrap(), vec!["bin", "sh"]);
        assert_eq!(normalize_archive_path("/etc//passwd").unwrap(), vec!["etc", "passwd"]);
        assert!(normalize_archive_path("./").unwrap().is_empty());
        assert!(normalize_archive_path("a/../../etc").is_err());
    }

    #[test]
    fn names() {
        assert!(check_name("ok.txt").is_ok());
        for bad in ["", ".", "..", "a/b", "a\0"] {
            assert_eq!(check_name(bad), Err(FsError::Invalid), "{bad:?}");
        }
        assert_eq!(check_name(&"x".repeat(256)), Err(FsError::NameTooLong));
    }
}
