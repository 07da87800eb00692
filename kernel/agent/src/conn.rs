//! One client connection: buffered reading of requests and bodies (with a length or
//! chunked), and writing of responses (whole, chunked, or a hijacked raw stream).

use super::error::ApiError;
use crate::fs::FileOps;
use crate::net::SocketOps;
use alloc::format;
use alloc::sync::Arc;
use alloc::vec;
use alloc::vec::Vec;
use berth_abi::Errno;
use berth_abi::net::MsgFlags;
use berth_docker::http::{self, Body, ChunkedDecoder, RequestHead};
use serde::Serialize;

/// Bytes asked of the socket at a time.
const READ_CHUNK: usize = 64 * 1024;

/// Headers every response carries.
const COMMON_HEADERS: [(&str, &str); 4] =
    [("Api-Version", super::API_VERSION), ("Docker-Experimental", "false"), ("Ostype", "linux"), ("Server", "berth")];

/// A client connection.
pub struct Conn {
    file: Arc<dyn FileOps>,
    /// Received bytes not yet consumed.
    input: Vec<u8>,
    /// The current response asks to close the connection after it.
    closing: bool,
    /// Where received bytes land first.
    scratch: Vec<u8>,
}

impl Conn {
    /// Wraps an accepted connection.
    pub fn new(file: Arc<dyn FileOps>) -> Conn {
        Conn { file, input: Vec::new(), closing: false, scratch: vec![0u8; READ_CHUNK] }
    }

    /// The socket.
    pub fn socket(&self) -> &dyn SocketOps {
        crate::net::socket_of(self.file.as_ref()).expect("agent connections are sockets")
    }

    /// The file (for waiting on its readiness).
    pub fn file(&self) -> &Arc<dyn FileOps> {
        &self.file
    }

    /// Whether the connection is to be closed after the current response.
    pub fn closing(&self) -> bool {
        self.closing
    }

    /// Marks the connection to be closed after the current response.
    pub fn close_after(&mut self) {
        self.closing = true;
    }

    /// Receives more bytes; Ok(0) when the client has closed.
    fn fill(&mut self) -> Result<usize, Errno> {
        let mut scratch = core::mem::take(&mut self.scratch);
        let got = self.socket().recv(&mut scratch, MsgFlags::empty(), false);
        if let Ok(got) = &got {
            self.input.extend_from_slice(&scratch[..got.len]);
        }
        self.scratch = scratch;
        Ok(got?.len)
    }

    /// Reads the next request head; None when the client closed between requests, sat
    /// idle too long, or `evicted` says the connection was closed to make room. A head
    /// that does not arrive whole within [`crate::param::AGENT_HEAD_NS`] of its first byte is a 408.
    pub fn read_head(&mut self, evicted: &dyn Fn() -> bool) -> Result<Option<RequestHead>, ApiError> {
        let waiting = crate::time::now_ns();
        let mut first_byte = (!self.input.is_empty()).then_some(waiting);
        loop {
            if !self.input.is_empty()
                && let Some((head, used)) = http::parse_head(&self.input).map_err(ApiError::bad_http)?
            {
                self.input.drain(..used);
                return Ok(Some(head));
            }
            if evicted() {
                return Ok(None);
            }
            let deadline =
                first_byte.map_or(waiting + crate::param::AGENT_IDLE_NS, |t| t + crate::param::AGENT_HEAD_NS);
            let now = crate::time::now_ns();
            if now >= deadline {
                return match first_byte {
                    Some(_) => Err(ApiError::new(408, "the request head did not arrive in time")),
                    None => Ok(None),
                };
            }
            self.set_receive_timeout_ns(deadline - now);
            match self.fill() {
                Ok(0) if self.input.is_empty() => return Ok(None),
                Ok(0) => return Err(ApiError::bad_request("the request ended before its headers did")),
                Ok(_) => {
                    first_byte.get_or_insert(now);
                }
                Err(Errno::EAGAIN) => {} // the deadline is checked above
                // A reset connection just ends.
                Err(_) => return Ok(None),
            }
        }
    }

    /// Receives more body bytes, allowing at most [`crate::param::AGENT_BODY_STALL_NS`] without any and
    /// ending at `deadline`; Ok(0) when the client has closed.
    fn fill_body(&mut self, deadline: Option<u64>) -> Result<usize, ApiError> {
        let now = crate::time::now_ns();
        let wait = deadline.map_or(crate::param::AGENT_BODY_STALL_NS, |d| {
            d.saturating_sub(now).min(crate::param::AGENT_BODY_STALL_NS)
        });
        if wait == 0 {
            return Err(ApiError::new(408, "the request body did not arrive in time"));
        }
        self.set_receive_timeout_ns(wait);
        match self.fill() {
            Err(Errno::EAGAIN) => Err(ApiError::new(408, "the request body did not arrive in time")),
            other => other.map_err(ApiError::io),
        }
    }

    /// Reads the request body, passing it to `sink` piece by piece; fails with 413 past
    /// `limit` bytes. Returns the body's length.
    pub fn read_body(
        &mut self,
        body: Body,
        limit: u64,
        deadline: Option<u64>,
        mut sink: impl FnMut(&[u8]) -> Result<(), ApiError>,
    ) -> Result<u64, ApiError> {
        let mut total: u64 = 0;
        let mut feed = |piece: &[u8], total: &mut u64| -> Result<(), ApiError> {
            *total += piece.len() as u64;
            if *total > limit {
                return Err(ApiError::too_large(limit));
            }
            sink(piece)
        };
        match body {
            Body::None => {}
            Body::Length(len) => {
                if len > limit {
                    return Err(ApiError::too_large(limit));
                }
                let mut left = len;
                while left > 0 {
                    if self.input.is_empty() && self.fill_body(deadline)? == 0 {
                        return Err(ApiError::bad_request("the request body ended early"));
                    }
                    let n = (self.input.len() as u64).min(left) as usize;
                    let piece: Vec<u8> = self.input.drain(..n).collect();
                    left -= n as u64;
                    feed(&piece, &mut total)?;
                }
            }
            Body::Chunked => {
                let mut decoder = ChunkedDecoder::new();
                let mut out = Vec::new();
                while !decoder.is_done() {
                    if self.input.is_empty() && self.fill_body(deadline)? == 0 {
                        return Err(ApiError::bad_request("the chunked request body ended early"));
                    }
                    let used = decoder.decode(&self.input, &mut out).map_err(ApiError::bad_http)?;
                    self.input.drain(..used);
                    if !out.is_empty() {
                        feed(&out, &mut total)?;
                        out.clear();
                    }
                }
            }
        }
        Ok(total)
    }

    /// Reads a whole (small) body into memory, within [`crate::param::AGENT_SMALL_BODY_NS`].
    pub fn read_body_bytes(&mut self, body: Body, limit: u64) -> Result<Vec<u8>, ApiError> {
        let mut bytes = Vec::new();
        let deadline = crate::time::now_ns() + crate::param::AGENT_SMALL_BODY_NS;
        self.read_body(body, limit, Some(deadline), |piece| {
            bytes.extend_from_slice(piece);
            Ok(())
        })?;
        Ok(bytes)
    }

    /// The bytes received beyond the request (a hijacked stream's first input).
    pub fn take_input(&mut self) -> Vec<u8> {
        core::mem::take(&mut self.input)
    }

    /// Receives what the client sent without blocking: Some(bytes) (empty at end of
    /// stream), None if nothing is there.
    pub fn try_receive(&mut self) -> Result<Option<Vec<u8>>, Errno> {
        if !self.input.is_empty() {
            return Ok(Some(self.take_input()));
        }
        let mut scratch = core::mem::take(&mut self.scratch);
        let got = self.socket().recv(&mut scratch, MsgFlags::DONTWAIT, true);
        let data = got.map(|g| scratch[..g.len].to_vec());
        self.scratch = scratch;
        match data {
            Ok(bytes) => Ok(Some(bytes)),
            Err(Errno::EAGAIN) => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Sends all of `data`.
    pub fn write_all(&self, data: &[u8]) -> Result<(), Errno> {
        let mut sent = 0;
        while sent < data.len() {
            sent += self.socket().send(&data[sent..], None, MsgFlags::NOSIGNAL, false)?;
        }
        Ok(())
    }

    fn head(&self, status: u16, extra: &[(&str, &str)]) -> Vec<u8> {
        let mut headers: Vec<(&str, &str)> = COMMON_HEADERS.to_vec();
        headers.extend_from_slice(extra);
        if self.closing {
            headers.push(("Connection", "close"));
        }
        http::response_head(status, &headers)
    }

    /// Sends a complete response.
    pub fn respond(&self, status: u16, content_type: Option<&str>, body: &[u8]) -> Result<(), Errno> {
        self.respond_with(status, &[], content_type, body)
    }

    /// Sends a complete response with `extra` headers.
    pub fn respond_with(
        &self,
        status: u16,
        extra: &[(&str, &str)],
        content_type: Option<&str>,
        body: &[u8],
    ) -> Result<(), Errno> {
        let length = format!("{}", body.len());
        let mut headers = vec![("Content-Length", length.as_str())];
        if let Some(t) = content_type {
            headers.push(("Content-Type", t));
        }
        headers.extend_from_slice(extra);
        let mut out = self.head(status, &headers);
        // A small body goes with the head; a large one as it is, not copied.
        if body.len() <= 64 << 10 {
            out.extend_from_slice(body);
            return self.write_all(&out);
        }
        self.write_all(&out)?;
        self.write_all(body)
    }

    /// Sends the head of a response to a HEAD request (no body follows).
    pub fn respond_head_only(&self, status: u16, content_type: &str, length: usize) -> Result<(), Errno> {
        let length = format!("{length}");
        self.write_all(&self.head(status, &[("Content-Type", content_type), ("Content-Length", &length)]))
    }

    /// Sends `value` as JSON.
    pub fn json<T: Serialize>(&self, status: u16, value: &T) -> Result<(), Errno> {
        self.respond(status, Some("application/json"), &berth_docker::api::json_line(value))
    }

    /// Sends an error as Docker does: its status and `{"message": ...}`.
    pub fn error(&self, e: &ApiError) -> Result<(), Errno> {
        self.json(e.status, &berth_docker::api::ErrorResponse::new(e.message.clone()))
    }

    /// Starts a chunked response (for streams: logs, wait, import progress).
    pub fn start_chunked(&self, status: u16, content_type: &str) -> Result<(), Errno> {
        self.write_all(&self.head(status, &[("Content-Type", content_type), ("Transfer-Encoding", "chunked")]))
    }

    /// Sends one chunk of a chunked response (large data is sent as it is, not copied).
    pub fn chunk(&self, data: &[u8]) -> Result<(), Errno> {
        if data.is_empty() {
            return Ok(());
        }
        if data.len() < 4096 {
            return self.write_all(&http::chunk(data));
        }
        self.write_all(format!("{:x}\r\n", data.len()).as_bytes())?;
        self.write_all(data)?;
        self.write_all(b"\r\n")
    }

    /// Ends a chunked response.
    pub fn end_chunked(&self) -> Result<(), Errno> {
        self.write_all(http::LAST_CHUNK)
    }

    /// Answers an upgrade request and hands over the raw stream (attach).
    pub fn upgrade(&self, content_type: &str) -> Result<(), Errno> {
        let head =
            http::response_head(101, &[("Content-Type", content_type), ("Connection", "Upgrade"), ("Upgrade", "tcp")]);
        self.write_all(&head)
    }

    /// Before closing after an error: ends the sending side and reads (and drops) what
    /// the client is still sending, for a little while, so the close does not reset
    /// the connection and take the error response with it (a refused upload's client
    /// is still sending its body).
    pub fn linger(&mut self) {
        const LINGER_NS: u64 = 2_000_000_000;
        const LINGER_BYTES: usize = 16 << 20;
        self.shutdown_write();
        let end = crate::time::now_ns() + LINGER_NS;
        let mut dropped = 0;
        while dropped < LINGER_BYTES {
            let now = crate::time::now_ns();
            if now >= end {
                break;
            }
            self.input.clear();
            self.set_receive_timeout_ns(end - now);
            match self.fill() {
                Ok(n) if n > 0 => dropped += n,
                _ => break,
            }
        }
    }

    /// Closes the sending side (the client sees end of stream).
    pub fn shutdown_write(&self) {
        let _ = self.socket().shutdown(berth_abi::net::SHUT_WR);
    }

    /// Limits how long a receive may wait (it then fails with EAGAIN).
    fn set_receive_timeout_ns(&self, ns: u64) {
        let (seconds, micros) = (ns / 1_000_000_000, (ns % 1_000_000_000 / 1000).max(1));
        let mut tv = (seconds as i64).to_ne_bytes().to_vec();
        tv.extend_from_slice(&(micros as i64).to_ne_bytes());
        let _ = self.socket().set_option(berth_abi::net::SOL_SOCKET, berth_abi::net::SO_RCVTIMEO, &tv);
    }
}
