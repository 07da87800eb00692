//! A small HTTP/1.1 client over the kernel's own TCP, for the servers berth calls
//! (image registries): one GET per connection. The response head must arrive within
//! [`crate::param::HTTP_STALL_NS`], and a body must keep a pace of [`crate::param::HTTP_MIN_PACE`] bytes per [`crate::param::HTTP_STALL_NS`], so
//! a server that stalls or trickles costs its caller an error, never a hung thread.

use super::{SockAddr, SocketOps, TcpSocket};
use alloc::vec;
use alloc::vec::Vec;
use berth_abi::Errno;
use berth_docker::http::{self, ChunkedDecoder, HttpError, ResponseBody, ResponseHead};
use core::net::SocketAddrV4;

/// Keeps a server to a pace: at least [`crate::param::HTTP_MIN_PACE`] bytes in every window of
/// [`crate::param::HTTP_STALL_NS`] (a whole small response may take less).
struct Pace {
    window_start: u64,
    in_window: u64,
}

impl Pace {
    fn new() -> Pace {
        Pace { window_start: crate::time::now_ns(), in_window: 0 }
    }

    /// Notes `n` more bytes; TimedOut if a window ended short of the pace.
    fn note(&mut self, n: usize) -> Result<(), ClientError> {
        self.in_window += n as u64;
        let now = crate::time::now_ns();
        if now.saturating_sub(self.window_start) >= crate::param::HTTP_STALL_NS {
            if self.in_window < crate::param::HTTP_MIN_PACE {
                return Err(ClientError::TooSlow);
            }
            *self = Pace { window_start: now, in_window: 0 };
        }
        Ok(())
    }
}

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientError {
    /// The connection could not be made.
    Connect(Errno),
    /// Sending or receiving failed.
    Io(Errno),
    /// The server sent nothing for [`crate::param::HTTP_STALL_NS`], or not the whole head in that time.
    TimedOut,
    /// The server sent less than [`crate::param::HTTP_MIN_PACE`] bytes in [`crate::param::HTTP_STALL_NS`].
    TooSlow,
    /// The server closed the connection before the response ended.
    Closed,
    /// The response breaks HTTP.
    Http(HttpError),
    /// The body is longer than the caller takes.
    TooLarge(u64),
}

impl core::fmt::Display for ClientError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            ClientError::Connect(e) => write!(f, "cannot connect: {e:?}"),
            ClientError::Io(e) => write!(f, "connection failed: {e:?}"),
            ClientError::TimedOut => {
                write!(f, "the server did not answer within {} s", crate::param::HTTP_STALL_NS / 1_000_000_000)
            }
            ClientError::TooSlow => {
                write!(
                    f,
                    "the server sent less than {} KiB in {} s",
                    crate::param::HTTP_MIN_PACE >> 10,
                    crate::param::HTTP_STALL_NS / 1_000_000_000
                )
            }
            ClientError::Closed => f.write_str("the server closed the connection early"),
            ClientError::Http(e) => write!(f, "bad HTTP response: {e}"),
            ClientError::TooLarge(limit) => write!(f, "the response is larger than {limit} bytes"),
        }
    }
}

/// A response whose body is still to be read.
pub struct Response {
    socket: TcpSocket,
    /// Its head.
    pub head: ResponseHead,
    framing: ResponseBody,
    /// Bytes received after the head, not yet handed out.
    input: Vec<u8>,
    scratch: Vec<u8>,
}

/// Bytes received at a time.
const RECEIVE: usize = 64 * 1024;

/// Receives what has arrived (waiting at most [`crate::param::HTTP_STALL_NS`]) into `into`, through
/// `scratch`; Ok(0) at the end of the stream.
fn receive(socket: &TcpSocket, scratch: &mut [u8], into: &mut Vec<u8>) -> Result<usize, ClientError> {
    let ns = crate::param::HTTP_STALL_NS;
    let mut tv = ((ns / 1_000_000_000) as i64).to_ne_bytes().to_vec();
    tv.extend_from_slice(&(((ns % 1_000_000_000) / 1000) as i64).to_ne_bytes());
    let _ = socket.set_option(berth_abi::net::SOL_SOCKET, berth_abi::net::SO_RCVTIMEO, &tv);
    match socket.recv(scratch, berth_abi::net::MsgFlags::empty(), false) {
        Ok(got) => {
            into.extend_from_slice(&scratch[..got.len]);
            Ok(got.len)
        }
        Err(Errno::EAGAIN) => Err(ClientError::TimedOut),
        Err(e) => Err(ClientError::Io(e)),
    }
}

/// Sends `GET path` to the server at `addr` (named `host` in the request) with `extra`
/// header fields, and reads the response head.
pub fn get(addr: SocketAddrV4, host: &str, path: &str, extra: &[(&str, &str)]) -> Result<Response, ClientError> {
    let socket = TcpSocket::new(super::machine_namespace());
    socket.connect(&SockAddr::Inet(addr), false).map_err(ClientError::Connect)?;
    let request = http::get_request(host, path, extra);
    let mut sent = 0;
    while sent < request.len() {
        sent +=
            socket.send(&request[sent..], None, berth_abi::net::MsgFlags::NOSIGNAL, false).map_err(ClientError::Io)?;
    }
    let mut input = Vec::new();
    let mut scratch = vec![0u8; RECEIVE];
    let deadline = crate::time::now_ns() + crate::param::HTTP_STALL_NS;
    loop {
        if crate::time::now_ns() > deadline {
            return Err(ClientError::TimedOut);
        }
        if let Some((head, used)) = http::parse_response_head(&input).map_err(ClientError::Http)? {
            input.drain(..used);
            if (100..200).contains(&head.status) {
                continue; // an interim response: the real one follows
            }
            let framing = head.body().map_err(ClientError::Http)?;
            return Ok(Response { socket, head, framing, input, scratch });
        }
        if receive(&socket, &mut scratch, &mut input)? == 0 {
            return Err(ClientError::Closed);
        }
    }
}

impl Response {
    /// The status code.
    pub fn status(&self) -> u16 {
        self.head.status
    }

    /// Reads the body, passing it to `sink` piece by piece; fails past `limit` bytes.
    pub fn read_body<E: From<ClientError>>(
        mut self,
        limit: u64,
        mut sink: impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<u64, E> {
        let mut total = 0u64;
        let mut pace = Pace::new();
        let mut feed = |piece: &[u8], total: &mut u64| -> Result<(), E> {
            pace.note(piece.len())?;
            *total += piece.len() as u64;
            if *total > limit {
                return Err(ClientError::TooLarge(limit).into());
            }
            sink(piece)
        };
        match self.framing {
            ResponseBody::Length(len) => {
                if len > limit {
                    return Err(ClientError::TooLarge(limit).into());
                }
                let mut left = len;
                while left > 0 {
                    if self.input.is_empty() && receive(&self.socket, &mut self.scratch, &mut self.input)? == 0 {
                        return Err(ClientError::Closed.into());
                    }
                    let n = (self.input.len() as u64).min(left) as usize;
                    feed(&self.input[..n], &mut total)?;
                    self.input.drain(..n);
                    left -= n as u64;
                }
            }
            ResponseBody::Chunked => {
                let mut decoder = ChunkedDecoder::new();
                let mut out = Vec::new();
                while !decoder.is_done() {
                    if self.input.is_empty() && receive(&self.socket, &mut self.scratch, &mut self.input)? == 0 {
                        return Err(ClientError::Closed.into());
                    }
                    let used = decoder.decode(&self.input, &mut out).map_err(ClientError::Http)?;
                    self.input.drain(..used);
                    feed(&out, &mut total)?;
                    out.clear();
                }
            }
            ResponseBody::UntilClose => loop {
                if !self.input.is_empty() {
                    let piece = core::mem::take(&mut self.input);
                    feed(&piece, &mut total)?;
                }
                if receive(&self.socket, &mut self.scratch, &mut self.input)? == 0 {
                    break;
                }
            },
        }
        Ok(total)
    }

    /// Reads the whole body, at most `limit` bytes.
    pub fn read_all(self, limit: u64) -> Result<Vec<u8>, ClientError> {
        let mut body = Vec::new();
        self.read_body(limit, |piece| -> Result<(), ClientError> {
            body.extend_from_slice(piece);
            Ok(())
        })?;
        Ok(body)
    }
}
