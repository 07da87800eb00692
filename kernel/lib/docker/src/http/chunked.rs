//! The chunked transfer coding (RFC 9112 section 7.1), decoded incrementally.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::HttpError;

/// The longest chunk-size line accepted (size, extensions, CRLF), in bytes.
pub const MAX_CHUNK_LINE: usize = 4096;

/// The most trailer bytes accepted after the last chunk.
pub const MAX_TRAILERS: usize = 64 * 1024;

/// Where the decoder is in the coding.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum State {
    /// In the hex digits of a chunk size.
    Size,
    /// After the digits: spaces or tabs before `;` or CR.
    SizeSpace,
    /// In chunk extensions, which are ignored.
    Extension,
    /// After the CR ending a chunk-size line.
    SizeLf,
    /// In a chunk's data; `remaining` bytes are left.
    Data,
    /// After a chunk's data, expecting CR.
    DataCr,
    /// After that CR, expecting LF.
    DataLf,
    /// At the start of a trailer line, or of the final empty line.
    TrailerStart,
    /// In a trailer field, which is ignored.
    Trailer,
    /// After the CR ending a trailer field.
    TrailerLf,
    /// After the CR of the final empty line.
    FinalLf,
    /// The body has ended.
    Done,
    /// An error was reported; nothing more is decoded.
    Failed,
}

/// An incremental decoder of a chunked body: feed it the bytes as they arrive.
#[derive(Debug, Clone)]
pub struct ChunkedDecoder {
    state: State,
    /// The chunk size being read, then the data bytes left in the chunk.
    remaining: u64,
    /// Hex digits of the size read so far.
    digits: usize,
    /// Bytes of the current chunk-size line so far.
    line: usize,
    /// Trailer bytes so far.
    trailers: usize,
}

impl Default for ChunkedDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl ChunkedDecoder {
    /// A decoder at the start of a body.
    pub fn new() -> Self {
        ChunkedDecoder { state: State::Size, remaining: 0, digits: 0, line: 0, trailers: 0 }
    }

    /// Whether the last chunk and the trailers have been read: the body is complete and
    /// any further bytes belong to the next request.
    pub fn is_done(&self) -> bool {
        self.state == State::Done
    }

    /// Decodes as much of `input` as it can, appending the body's bytes to `out`.
    ///
    /// Returns the number of input bytes consumed: all of them until the body ends, then
    /// only those up to the end of the body. Errors on a size that is not hex or does not
    /// fit 64 bits, a size line over [`MAX_CHUNK_LINE`], a missing CRLF, or trailers over
    /// [`MAX_TRAILERS`]; after an error the decoder refuses all further input.
    pub fn decode(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, HttpError> {
        match self.run(input, out) {
            Ok(n) => Ok(n),
            Err(what) => {
                self.state = State::Failed;
                Err(HttpError::BadChunk(what))
            }
        }
    }

    fn run(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<usize, String> {
        let mut i = 0;
        while i < input.len() {
            let b = input[i];
            self.state = match self.state {
                State::Data => {
                    let n = (input.len() - i).min(usize::try_from(self.remaining).unwrap_or(usize::MAX));
                    out.extend_from_slice(&input[i..i + n]);
                    i += n;
                    self.remaining -= n as u64;
                    if self.remaining == 0 {
                        self.state = State::DataCr;
                    }
                    continue;
                }
                State::Size | State::SizeSpace | State::Extension | State::SizeLf => self.size_line(b)?,
                State::DataCr if b == b'\r' => State::DataLf,
                State::DataLf if b == b'\n' => {
                    (self.remaining, self.digits, self.line) = (0, 0, 0);
                    State::Size
                }
                State::DataCr | State::DataLf => return Err("missing CRLF after chunk data".to_string()),
                State::TrailerStart | State::Trailer | State::TrailerLf | State::FinalLf => self.trailer(b)?,
                State::Done => return Ok(i),
                State::Failed => return Err("the body already failed to decode".to_string()),
            };
            i += 1;
        }
        if self.state == State::Failed {
            return Err("the body already failed to decode".to_string());
        }
        Ok(i)
    }

    /// One byte of a chunk-size line: `HEX [SP|HTAB]* [; extensions] CRLF`.
    fn size_line(&mut self, b: u8) -> Result<State, String> {
        self.line += 1;
        if self.line > MAX_CHUNK_LINE {
            return Err(format!("chunk size line longer than {MAX_CHUNK_LINE} bytes"));
        }
        let digit = (b as char).to_digit(16);
        Ok(match (self.state, b) {
            (State::Size, _) if digit.is_some() => {
                self.digits += 1;
                if self.digits > 16 || self.remaining >> 60 != 0 {
                    return Err("chunk size does not fit 64 bits".to_string());
                }
                self.remaining = self.remaining << 4 | u64::from(digit.unwrap_or(0));
                State::Size
            }
            (State::Size, _) if self.digits == 0 => return Err(format!("chunk size starts with {}", show(b))),
            (State::Size | State::SizeSpace, b' ' | b'\t') => State::SizeSpace,
            (State::Size | State::SizeSpace | State::Extension, b';') => State::Extension,
            (State::Size | State::SizeSpace | State::Extension, b'\r') => State::SizeLf,
            (State::Extension, b'\n') => return Err("chunk size line ends without CR".to_string()),
            (State::Extension, _) => State::Extension,
            (State::SizeLf, b'\n') if self.remaining == 0 => State::TrailerStart,
            (State::SizeLf, b'\n') => State::Data,
            (State::SizeLf, _) => return Err("chunk size line ends without LF".to_string()),
            (_, _) => return Err(format!("unexpected {} in chunk size line", show(b))),
        })
    }

    /// One byte of the trailer section: fields, each ending in CRLF, then an empty line.
    fn trailer(&mut self, b: u8) -> Result<State, String> {
        self.trailers += 1;
        if self.trailers > MAX_TRAILERS {
            return Err(format!("trailers longer than {MAX_TRAILERS} bytes"));
        }
        Ok(match (self.state, b) {
            (State::TrailerStart, b'\r') => State::FinalLf,
            (State::TrailerStart | State::Trailer, b'\n') => return Err("trailer line ends without CR".to_string()),
            (State::Trailer, b'\r') => State::TrailerLf,
            (State::TrailerStart | State::Trailer, _) => State::Trailer,
            (State::TrailerLf, b'\n') => State::TrailerStart,
            (State::FinalLf, b'\n') => State::Done,
            (_, _) => return Err("missing LF after CR at the end of the body".to_string()),
        })
    }
}

/// A byte for an error message: the character if printable, else its hex value.
fn show(b: u8) -> String {
    if b.is_ascii_graphic() { format!("`{}`", b as char) } else { format!("byte {b:#04x}") }
}
