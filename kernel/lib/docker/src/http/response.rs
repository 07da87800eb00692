//! Response heads and chunks.

use alloc::format;
use alloc::vec::Vec;

/// The chunk that ends a chunked body (with no trailers).
pub const LAST_CHUNK: &[u8] = b"0\r\n\r\n";

/// The reason phrase berth sends with `status`: the standard one, except `UPGRADED` for
/// 101 as the Docker daemon sends it; empty for a status it does not know.
pub fn reason(status: u16) -> &'static str {
    match status {
        100 => "Continue",
        101 => "UPGRADED",
        200 => "OK",
        201 => "Created",
        204 => "No Content",
        304 => "Not Modified",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        409 => "Conflict",
        413 => "Payload Too Large",
        431 => "Request Header Fields Too Large",
        500 => "Internal Server Error",
        501 => "Not Implemented",
        503 => "Service Unavailable",
        _ => "",
    }
}

/// A response head: the `HTTP/1.1` status line, each header as `Name: value`, and the
/// blank line. CR and LF are dropped from names and values so that no value can end the
/// head early.
pub fn response_head(status: u16, headers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = format!("HTTP/1.1 {status} {}\r\n", reason(status)).into_bytes();
    let clean = |s: &str, out: &mut Vec<u8>| out.extend(s.bytes().filter(|&b| b != b'\r' && b != b'\n'));
    for (name, value) in headers {
        clean(name, &mut out);
        out.extend_from_slice(b": ");
        clean(value, &mut out);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"\r\n");
    out
}

/// `data` as one chunk of a chunked body. Empty data gives no bytes at all, since an
/// empty chunk would end the body (that is [`LAST_CHUNK`]).
pub fn chunk(data: &[u8]) -> Vec<u8> {
    if data.is_empty() {
        return Vec::new();
    }
    let mut out = format!("{:x}\r\n", data.len()).into_bytes();
    out.reserve(data.len() + 2);
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
    out
}
