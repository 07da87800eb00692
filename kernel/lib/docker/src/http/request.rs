//! The request head: request line, target (path and query) and header fields.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::HttpError;

/// The longest request head accepted, in bytes (request line, headers, blank line).
pub const MAX_HEAD: usize = 64 * 1024;

/// The most header fields a request may carry.
pub const MAX_HEADERS: usize = 100;

/// A parsed request head.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestHead {
    /// The method as sent (`GET`, `POST`...; methods are case-sensitive).
    pub method: String,
    /// The path, percent-decoded, without the query.
    pub path: String,
    /// The query's `key=value` pairs in order, percent-decoded, `+` read as a space.
    pub query: Vec<(String, String)>,
    /// The header fields in order; names lowercased, values trimmed.
    pub headers: Vec<(String, String)>,
    /// 1 for HTTP/1.1, 0 for HTTP/1.0.
    pub minor_version: u8,
}

/// How the body that follows a head is framed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Body {
    /// No body.
    None,
    /// Exactly this many bytes (`Content-Length`).
    Length(u64),
    /// The chunked coding (`Transfer-Encoding: chunked`): see
    /// [`ChunkedDecoder`](super::ChunkedDecoder).
    Chunked,
}

/// Parses a request head from the start of `buf`.
///
/// Returns `Ok(None)` while the head is incomplete (read more and call again with the
/// whole buffer), or the head and the number of bytes it took; the body, if any, starts
/// there. A head that has not ended within [`MAX_HEAD`] bytes is
/// [`HttpError::HeadTooLarge`] as soon as the buffer holds that many bytes, so a reader
/// never needs a bigger buffer. Empty lines before the request line are skipped.
pub fn parse_head(buf: &[u8]) -> Result<Option<(RequestHead, usize)>, HttpError> {
    let window = &buf[..buf.len().min(MAX_HEAD)];
    let mut fields = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut req = httparse::Request::new(&mut fields);
    let Some(consumed) = head_length(req.parse(window), buf.len())? else { return Ok(None) };
    let (Some(method), Some(target), Some(minor_version)) = (req.method, req.path, req.version) else {
        return Err(HttpError::Malformed("incomplete request line".to_string()));
    };
    let (path, query) = split_target(target)?;
    let headers = req
        .headers
        .iter()
        .map(|h| (h.name.to_ascii_lowercase(), String::from_utf8_lossy(h.value).trim().to_string()))
        .collect();
    let head = RequestHead { method: method.to_string(), path, query, headers, minor_version };
    Ok(Some((head, consumed)))
}

/// The length of a head httparse has read from a buffer of `buffered` bytes: None while
/// it is incomplete, HeadTooLarge once [`MAX_HEAD`] bytes have not held it.
pub(super) fn head_length(parsed: httparse::Result<usize>, buffered: usize) -> Result<Option<usize>, HttpError> {
    match parsed {
        Ok(httparse::Status::Complete(n)) => Ok(Some(n)),
        Ok(httparse::Status::Partial) if buffered >= MAX_HEAD => Err(HttpError::HeadTooLarge),
        Ok(httparse::Status::Partial) => Ok(None),
        Err(httparse::Error::TooManyHeaders) => Err(HttpError::TooManyHeaders),
        Err(e) => Err(HttpError::Malformed(e.to_string())),
    }
}

/// Splits a request target into its decoded path and query pairs. Accepts the origin
/// form (`/path?query`) and the absolute form (`http://host/path?query`).
fn split_target(target: &str) -> Result<(String, Vec<(String, String)>), HttpError> {
    let mut origin = target;
    for scheme in ["http://", "https://"] {
        if let Some(rest) = target.strip_prefix(scheme) {
            origin = rest.find('/').map_or("/", |i| &rest[i..]);
        }
    }
    if !origin.starts_with('/') {
        return Err(HttpError::Malformed(format!("request target `{target}` does not start with `/`")));
    }
    let origin = origin.split_once('#').map_or(origin, |(before, _)| before);
    let (path, query) = origin.split_once('?').unwrap_or((origin, ""));
    let path = percent_decode(path, false)?;
    let mut pairs = Vec::new();
    for item in query.split('&').filter(|i| !i.is_empty()) {
        let (key, value) = item.split_once('=').unwrap_or((item, ""));
        pairs.push((percent_decode(key, true)?, percent_decode(value, true)?));
    }
    Ok((path, pairs))
}

/// Decodes `%XX` escapes (and, in a query, `+` as a space). The result must be UTF-8.
fn percent_decode(s: &str, plus_is_space: bool) -> Result<String, HttpError> {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'%' => {
                let hex = |j: usize| bytes.get(j).and_then(|&b| (b as char).to_digit(16));
                let (Some(hi), Some(lo)) = (hex(i + 1), hex(i + 2)) else {
                    return Err(HttpError::Malformed(format!("bad percent escape in `{s}`")));
                };
                out.push((hi * 16 + lo) as u8);
                i += 3;
            }
            b'+' if plus_is_space => {
                out.push(b' ');
                i += 1;
            }
            b => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| HttpError::Malformed(format!("`{s}` does not decode to UTF-8")))
}

impl RequestHead {
    /// The value of the first header field called `name` (any case).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// How many header fields are called `name` (a request with two `Authorization`
    /// fields, say, is refused rather than have one of them chosen).
    pub fn header_count(&self, name: &str) -> usize {
        self.headers.iter().filter(|(n, _)| n.eq_ignore_ascii_case(name)).count()
    }

    /// Every comma-separated element of every header field called `name`, trimmed.
    fn elements<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        elements(&self.headers, name)
    }

    /// Whether the header field `name` lists `token` (any case), as `Connection` does.
    fn has_token(&self, name: &str, token: &str) -> bool {
        self.elements(name).any(|e| e.eq_ignore_ascii_case(token))
    }

    /// The value of the first query parameter called `key` (exact case).
    pub fn query(&self, key: &str) -> Option<&str> {
        self.query.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// Every value of a query parameter given more than once (`changes=...&changes=...`),
    /// in order.
    pub fn query_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.query.iter().filter(move |(k, _)| k == key).map(|(_, v)| v.as_str())
    }

    /// A boolean query parameter read as the Docker daemon reads it: absent, empty, `0`,
    /// `no`, `false` and `none` (any case, spaces trimmed) are false, anything else (`1`,
    /// `true`, `True`...) is true.
    pub fn query_flag(&self, key: &str) -> bool {
        let value = self.query(key).unwrap_or("").trim();
        !["", "0", "no", "false", "none"].iter().any(|f| value.eq_ignore_ascii_case(f))
    }

    /// How the body is framed: chunked if `Transfer-Encoding: chunked`, else the
    /// `Content-Length`, else none. Refuses both at once, any other transfer coding, and
    /// a `Content-Length` that is not a decimal number (repeated values must agree).
    pub fn body(&self) -> Result<Body, HttpError> {
        framing(&self.headers)
    }

    /// Whether the connection stays open after this exchange: HTTP/1.1 unless
    /// `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`.
    pub fn keep_alive(&self) -> bool {
        if self.has_token("connection", "close") {
            false
        } else {
            self.minor_version >= 1 || self.has_token("connection", "keep-alive")
        }
    }

    /// Whether the client asks to take over the connection (`Connection: Upgrade` and an
    /// `Upgrade` header), as `docker attach` does with `Upgrade: tcp`.
    pub fn upgrade(&self) -> bool {
        self.has_token("connection", "upgrade") && self.header("upgrade").is_some_and(|v| !v.is_empty())
    }
}

/// The comma-separated elements of every header field called `name`.
fn elements<'a>(headers: &'a [(String, String)], name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
    headers
        .iter()
        .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
        .flat_map(|(_, v)| v.split(','))
        .map(str::trim)
        .filter(|e| !e.is_empty())
}

/// How a message with `headers` frames its body: chunked if `Transfer-Encoding:
/// chunked`, else the `Content-Length`, else none. Refuses both at once, any other
/// transfer coding, and a `Content-Length` that is not a decimal number (repeated
/// values must agree).
pub(super) fn framing(headers: &[(String, String)]) -> Result<Body, HttpError> {
    let has = |name: &str| headers.iter().any(|(n, _)| n == name);
    if has("transfer-encoding") {
        if has("content-length") {
            return Err(HttpError::ConflictingFraming);
        }
        let codings: Vec<&str> = elements(headers, "transfer-encoding").collect();
        return match codings.as_slice() {
            [only] if only.eq_ignore_ascii_case("chunked") => Ok(Body::Chunked),
            _ => Err(HttpError::UnsupportedTransferEncoding(codings.join(", "))),
        };
    }
    let mut length = None;
    for value in headers.iter().filter(|(n, _)| n == "content-length").flat_map(|(_, v)| v.split(',')) {
        let value = value.trim();
        let n = match value.bytes().all(|b| b.is_ascii_digit()) {
            true => value.parse::<u64>().ok(),
            false => None,
        };
        match (n, length) {
            (None, _) => return Err(HttpError::BadContentLength(value.to_string())),
            (Some(n), Some(before)) if n != before => {
                return Err(HttpError::BadContentLength(format!("{before} and {n}")));
            }
            (Some(n), _) => length = Some(n),
        }
    }
    Ok(length.map_or(Body::None, Body::Length))
}
