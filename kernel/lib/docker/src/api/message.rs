//! Error bodies, the JSON message stream of `docker import` and `docker load`, and
//! reading and writing JSON.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};

/// The body of every error response: `{"message": "..."}`; the CLI prints
/// `Error response from daemon: ...`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorResponse {
    /// What went wrong.
    pub message: String,
}

impl ErrorResponse {
    /// An error body saying `message`.
    pub fn new(message: impl Into<String>) -> Self {
        ErrorResponse { message: message.into() }
    }
}

/// One message of a JSON message stream (`POST /images/create`, `/images/load`):
/// `{"status": ...}`, `{"stream": ...}` or an error, which ends the stream.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct JsonMessage {
    /// Text printed as it is (`Loaded image: img:tag\n`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub stream: Option<String>,
    /// A status line (`docker import` prints the last one: the image id).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status: Option<String>,
    /// The object a status is about.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id: Option<String>,
    /// A progress bar's text.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress: Option<String>,
    /// A progress bar's numbers (the CLI draws the bar from them).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub progress_detail: Option<ProgressDetail>,
    /// The error, for clients that read the detail.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error_detail: Option<ErrorDetail>,
    /// The error's message.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

/// `progressDetail` of a [`JsonMessage`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ProgressDetail {
    /// Bytes done.
    pub current: u64,
    /// Bytes in all.
    pub total: u64,
}

/// `errorDetail` of a [`JsonMessage`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorDetail {
    /// What went wrong.
    pub message: String,
}

impl JsonMessage {
    /// `{"status": text}`.
    pub fn status(text: &str) -> Self {
        JsonMessage { status: Some(text.to_string()), ..Default::default() }
    }

    /// `{"status": status, "id": id}`, with a progress bar's numbers when `total` is
    /// not 0: one line of a layer's progress.
    pub fn layer(id: &str, status: &str, current: u64, total: u64) -> Self {
        JsonMessage {
            status: Some(status.to_string()),
            id: Some(id.to_string()),
            progress_detail: (total != 0).then_some(ProgressDetail { current, total }),
            ..Default::default()
        }
    }

    /// `{"stream": text}`.
    pub fn stream(text: &str) -> Self {
        JsonMessage { stream: Some(text.to_string()), ..Default::default() }
    }

    /// `{"errorDetail": {"message": text}, "error": text}`: the CLI prints it and exits
    /// with failure.
    pub fn error(text: &str) -> Self {
        JsonMessage {
            error_detail: Some(ErrorDetail { message: text.to_string() }),
            error: Some(text.to_string()),
            ..Default::default()
        }
    }
}

/// `value` as JSON. The types here always serialize (their map keys are strings); were
/// one to fail, the result is `{}`.
pub fn to_json<T: Serialize>(value: &T) -> Vec<u8> {
    serde_json::to_vec(value).unwrap_or_else(|_| b"{}".to_vec())
}

/// `value` as JSON and a newline: one item of a JSON message stream.
pub fn json_line<T: Serialize>(value: &T) -> Vec<u8> {
    let mut line = to_json(value);
    line.push(b'\n');
    line
}

/// Reads a request body, or says why it is not the JSON expected (for a 400 answer).
pub fn from_json<T: DeserializeOwned>(body: &[u8]) -> Result<T, String> {
    if !berth_json::depth_ok(body) {
        return Err(alloc::format!("invalid JSON: nested more than {} levels deep", berth_json::MAX_DEPTH));
    }
    serde_json::from_slice(body).map_err(|e| alloc::format!("invalid JSON: {e}"))
}
