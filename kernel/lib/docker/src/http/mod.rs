//! HTTP/1.1 framing: reading a request head, the length of its body, decoding a chunked
//! body, and writing response heads and chunks; on the client side (`client`), writing
//! requests and reading response heads.
//!
//! Nothing here reads or writes a socket: the agent feeds bytes in and sends the bytes
//! these functions return.

mod chunked;
mod client;
mod error;
mod request;
mod response;
#[cfg(test)]
mod tests;

pub use chunked::{ChunkedDecoder, MAX_CHUNK_LINE, MAX_TRAILERS};
pub use client::{ResponseBody, ResponseHead, get_request, parse_response_head};
pub use error::HttpError;
pub use request::{Body, MAX_HEAD, MAX_HEADERS, RequestHead, parse_head};
pub use response::{LAST_CHUNK, chunk, reason, response_head};
