//! Why a container could not be made or started, as a type the agent maps to HTTP
//! statuses (and the console prints) without reading message text.

use alloc::string::String;
use berth_abi::Errno;
use berth_vfs::FsError;
use core::fmt;

/// Why a container could not be created or started.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ContainerError {
    /// Another container has the name.
    NameInUse(String),
    /// A port it publishes is taken.
    PortInUse(crate::net::PortInUse),
    /// Its file system could not be made: what, and why.
    FileSystem(&'static str, FsError),
    /// It was started before (its name).
    AlreadyStarted(String),
    /// Its program could not be run (the errno `execve` would give, and why).
    CannotRun(Errno, String),
    /// A volume it mounts does not exist (its name).
    NoVolume(String),
    /// It could not be put on a network it asks for.
    Network(crate::networks::NetworkError),
    /// The container whose network it asks to share is not running (its name or id).
    NetworkOwnerNotRunning(String),
}

impl fmt::Display for ContainerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ContainerError::NameInUse(name) => write!(f, "the name `{name}` is already in use"),
            ContainerError::PortInUse(p) => write!(f, "{p}"),
            ContainerError::FileSystem(what, e) => write!(f, "preparing the file system: {what}: {e}"),
            ContainerError::AlreadyStarted(name) => write!(f, "container {name} was already started"),
            ContainerError::CannotRun(_, why) => f.write_str(why),
            ContainerError::NoVolume(name) => write!(f, "no such volume: {name}"),
            ContainerError::Network(e) => write!(f, "{e}"),
            ContainerError::NetworkOwnerNotRunning(c) => {
                write!(f, "cannot join the network of a non running container: {c}")
            }
        }
    }
}

impl From<crate::networks::NetworkError> for ContainerError {
    fn from(e: crate::networks::NetworkError) -> ContainerError {
        ContainerError::Network(e)
    }
}

impl From<crate::net::PortInUse> for ContainerError {
    fn from(e: crate::net::PortInUse) -> ContainerError {
        ContainerError::PortInUse(e)
    }
}
