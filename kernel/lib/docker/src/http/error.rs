//! What can be wrong with a request's framing.

use alloc::string::String;
use core::fmt;

/// Why a request could not be framed. Each names the response status it deserves
/// ([`HttpError::status`]) and displays as a sentence for the `{"message": ...}` body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HttpError {
    /// The request head breaks HTTP/1.1's syntax; the text says where.
    Malformed(String),
    /// The head did not end within [`MAX_HEAD`](super::MAX_HEAD) bytes.
    HeadTooLarge,
    /// The head has more than [`MAX_HEADERS`](super::MAX_HEADERS) header fields.
    TooManyHeaders,
    /// `Content-Length` is not a decimal number, or several values disagree.
    BadContentLength(String),
    /// Both `Transfer-Encoding` and `Content-Length` are present (a request smuggling
    /// vector, refused as RFC 9112 allows).
    ConflictingFraming,
    /// A transfer coding other than `chunked` alone.
    UnsupportedTransferEncoding(String),
    /// A chunked body breaks the chunked coding's syntax; the text says how.
    BadChunk(String),
}

impl HttpError {
    /// The response status for this error: 400, 431 for an oversized head, 501 for a
    /// transfer coding berth cannot decode.
    pub fn status(&self) -> u16 {
        match self {
            HttpError::HeadTooLarge | HttpError::TooManyHeaders => 431,
            HttpError::UnsupportedTransferEncoding(_) => 501,
            _ => 400,
        }
    }
}

impl fmt::Display for HttpError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            HttpError::Malformed(what) => write!(f, "malformed request: {what}"),
            HttpError::HeadTooLarge => {
                write!(f, "request head is larger than {} bytes", super::MAX_HEAD)
            }
            HttpError::TooManyHeaders => {
                write!(f, "request has more than {} header fields", super::MAX_HEADERS)
            }
            HttpError::BadContentLength(v) => write!(f, "bad Content-Length: `{v}`"),
            HttpError::ConflictingFraming => {
                write!(f, "request has both Transfer-Encoding and Content-Length")
            }
            HttpError::UnsupportedTransferEncoding(v) => {
                write!(f, "unsupported Transfer-Encoding `{v}` (only `chunked` is)")
            }
            HttpError::BadChunk(what) => write!(f, "bad chunked body: {what}"),
        }
    }
}
