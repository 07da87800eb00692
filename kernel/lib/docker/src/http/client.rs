//! The client side, for the servers berth calls (image registries): request heads out,
//! response heads in, with the same framing rules as requests.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::request::{framing, head_length};
use super::{Body, HttpError, MAX_HEAD, MAX_HEADERS};

/// A parsed response head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResponseHead {
    /// The status code.
    pub status: u16,
    /// The header fields in order; names lowercased, values trimmed.
    pub headers: Vec<(String, String)>,
}

/// How a response body is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ResponseBody {
    /// Exactly this many bytes.
    Length(u64),
    /// The chunked coding.
    Chunked,
    /// Until the server closes the connection.
    UntilClose,
}

impl ResponseHead {
    /// The value of the first header field called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// How the body of the response to a GET is framed (RFC 9112 section 6.3).
    pub fn body(&self) -> Result<ResponseBody, HttpError> {
        if matches!(self.status, 100..=199 | 204 | 304) {
            return Ok(ResponseBody::Length(0));
        }
        Ok(match framing(&self.headers)? {
            Body::None => ResponseBody::UntilClose,
            Body::Length(n) => ResponseBody::Length(n),
            Body::Chunked => ResponseBody::Chunked,
        })
    }
}

/// Parses a response head from the start of `buf`: `Ok(None)` while it is incomplete,
/// else the head and the bytes it took. Interim (1xx) responses are the caller's to
/// skip.
pub fn parse_response_head(buf: &[u8]) -> Result<Option<(ResponseHead, usize)>, HttpError> {
    let window = &buf[..buf.len().min(MAX_HEAD)];
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut response = httparse::Response::new(&mut fields);
    let Some(consumed) = head_length(response.parse(window), buf.len())? else { return Ok(None) };
    let Some(status) = response.code else {
        return Err(HttpError::Malformed("incomplete status line".to_string()));
    };
    let headers = response
        .headers
        .iter()
        .map(|h| (h.name.to_ascii_lowercase(), String::from_utf8_lossy(h.value).trim().to_string()))
        .collect();
    Ok(Some((ResponseHead { status, headers }, consumed)))
}

/// A GET request head for `path` (with its query) on `host`, asking the server to
/// close the connection after answering, with `extra` header fields.
pub fn get_request(host: &str, path: &str, extra: &[(&str, &str)]) -> Vec<u8> {
    let mut head = format!("GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n");
    for (name, value) in extra {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str("\r\n");
    head.into_bytes()
}
