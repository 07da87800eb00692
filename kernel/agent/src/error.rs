//! The agent's errors: an HTTP status and the message the docker CLI prints after
//! `Error response from daemon:`.

use alloc::format;
use alloc::string::{String, ToString};
use berth_abi::Errno;

/// A failed request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// HTTP status.
    pub status: u16,
    /// What went wrong, for the user.
    pub message: String,
}

impl ApiError {
    /// An error with `status` and `message`.
    pub fn new(status: u16, message: impl Into<String>) -> ApiError {
        ApiError { status, message: message.into() }
    }

    /// 400: the request is malformed.
    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(400, message)
    }

    /// 400 for an unparsable HTTP request.
    pub fn bad_http(e: berth_docker::http::HttpError) -> ApiError {
        ApiError::new(400, format!("malformed HTTP request: {e}"))
    }

    /// 400 for an unparsable JSON body.
    pub fn bad_json(e: String) -> ApiError {
        ApiError::new(400, format!("invalid JSON: {e}"))
    }

    /// 404 for a container that is not there.
    pub fn no_container(key: &str) -> ApiError {
        ApiError::new(404, format!("No such container: {key}"))
    }

    /// 404 for an image that is not there.
    pub fn no_image(key: &str) -> ApiError {
        ApiError::new(404, format!("No such image: {key}"))
    }

    /// 409: the request conflicts with the current state.
    pub fn conflict(message: impl Into<String>) -> ApiError {
        ApiError::new(409, message)
    }

    /// 413: a body over the configured limit.
    pub fn too_large(limit: u64) -> ApiError {
        ApiError::new(413, format!("the upload is larger than the agent's limit of {} MiB", limit >> 20))
    }

    /// 500: the kernel could not do it.
    pub fn internal(message: impl Into<String>) -> ApiError {
        ApiError::new(500, message)
    }

    /// 500 for a failed socket operation mid-request.
    pub fn io(e: Errno) -> ApiError {
        ApiError::new(500, format!("connection error: {e:?}"))
    }
}

impl From<&str> for ApiError {
    fn from(message: &str) -> ApiError {
        ApiError::internal(message.to_string())
    }
}

impl From<crate::container::ContainerError> for ApiError {
    /// 409 for what clashes with another container or with the container's state, 507
    /// for a machine out of memory, 400 for a program that cannot run, 500 otherwise.
    fn from(e: crate::container::ContainerError) -> ApiError {
        use crate::container::ContainerError as E;
        let status = match e {
            E::Network(e) => return ApiError::from(e),
            E::NameInUse(_) | E::PortInUse(_) | E::AlreadyStarted(_) => 409,
            E::FileSystem(_, berth_vfs::FsError::NoSpace) => 507,
            E::CannotRun(..) => 400,
            E::NoVolume(_) => 404,
            E::NetworkOwnerNotRunning(_) => 409,
            E::FileSystem(..) => 500,
        };
        ApiError::new(status, e.to_string())
    }
}
