//! File system errors (the kernel maps them to errno values).

use alloc::string::String;
use core::fmt;

/// Why a file system operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FsError {
    /// No such file or directory (ENOENT).
    NotFound,
    /// A path component is not a directory (ENOTDIR).
    NotDirectory,
    /// The target is a directory (EISDIR).
    IsDirectory,
    /// The name exists already (EEXIST).
    Exists,
    /// The directory is not empty (ENOTEMPTY).
    NotEmpty,
    /// Too many levels of symbolic links (ELOOP).
    TooManyLinks,
    /// A name or path is too long (ENAMETOOLONG).
    NameTooLong,
    /// The container's memory budget is used up (ENOSPC).
    NoSpace,
    /// The operation is not valid here (EINVAL), e.g. moving a directory into itself.
    Invalid,
    /// The operation is not permitted on this object (EPERM), e.g. writing `/proc`.
    NotPermitted,
    /// Permission bits forbid it (EACCES).
    AccessDenied,
    /// Between two trees, e.g. renaming into a volume (EXDEV).
    CrossDevice,
    /// A mount point cannot be removed or renamed (EBUSY).
    Busy,
    /// The tree is mounted read-only here (EROFS).
    ReadOnly,
    /// A malformed image archive.
    BadImage(String),
    /// A paged file's data could not be read back from its disk (EIO).
    Io,
}

impl fmt::Display for FsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FsError::NotFound => f.write_str("no such file or directory"),
            FsError::NotDirectory => f.write_str("not a directory"),
            FsError::IsDirectory => f.write_str("is a directory"),
            FsError::Exists => f.write_str("file exists"),
            FsError::NotEmpty => f.write_str("directory not empty"),
            FsError::TooManyLinks => f.write_str("too many levels of symbolic links"),
            FsError::NameTooLong => f.write_str("file name too long"),
            FsError::NoSpace => f.write_str("no space left (container memory limit)"),
            FsError::Invalid => f.write_str("invalid argument"),
            FsError::NotPermitted => f.write_str("operation not permitted"),
            FsError::AccessDenied => f.write_str("permission denied"),
            FsError::CrossDevice => f.write_str("invalid cross-device link"),
            FsError::Busy => f.write_str("device or resource busy"),
            FsError::ReadOnly => f.write_str("read-only file system"),
            FsError::BadImage(why) => write!(f, "bad image: {why}"),
            FsError::Io => f.write_str("input/output error"),
        }
    }
}
