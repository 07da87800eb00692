//! Decompressing gzip streams (RFC 1952) as they arrive: registry layers and OCI
//! layouts hold layers as `tar+gzip`. miniz_oxide inflates; the gzip wrapper (header,
//! CRC-32 and length trailer, members one after another as pigz writes) is read here.

use crate::Error;
use alloc::boxed::Box;
use alloc::format;
use alloc::vec;
use alloc::vec::Vec;
use miniz_oxide::inflate::stream::{InflateState, inflate};
use miniz_oxide::{DataFormat, MZError, MZFlush, MZStatus};

/// The two bytes every gzip stream starts with.
pub const MAGIC: [u8; 2] = [0x1f, 0x8b];

/// The longest header accepted (file name, comment and extra field included).
const MAX_HEADER: usize = 64 * 1024;

/// Bytes inflated at a time.
const OUT_CHUNK: usize = 32 * 1024;

enum State {
    /// Collecting a member's header.
    Header(Vec<u8>),
    /// Inflating a member's deflate stream.
    Body,
    /// Collecting a member's 8-byte trailer.
    Trailer(Vec<u8>),
}

/// A gzip decoder fed in pieces.
pub struct GzipDecoder {
    state: State,
    inflater: Box<InflateState>,
    out: Vec<u8>,
    crc: crc32fast::Hasher,
    member_len: u64,
    members: u32,
}

impl Default for GzipDecoder {
    fn default() -> Self {
        Self::new()
    }
}

fn format_error(why: &str) -> Error {
    Error::Format(format!("the layer is not a valid gzip stream: {why}"))
}

/// The length of a complete header at the front of `h`, or None if more bytes are needed.
fn header_len(h: &[u8]) -> Result<Option<usize>, Error> {
    if h.len() < 10 {
        return Ok(None);
    }
    if h[..2] != MAGIC || h[2] != 8 {
        return Err(format_error("bad magic number or compression method"));
    }
    let flags = h[3];
    if flags & 0xe0 != 0 {
        return Err(format_error("reserved header flags are set"));
    }
    let mut at = 10;
    if flags & 0x04 != 0 {
        let Some(x) = h.get(at..at + 2) else { return Ok(None) };
        at += 2 + usize::from(u16::from_le_bytes([x[0], x[1]]));
    }
    for flag in [0x08, 0x10] {
        if flags & flag != 0 {
            let Some(nul) = h.get(at..).and_then(|rest| rest.iter().position(|&b| b == 0)) else { return Ok(None) };
            at += nul + 1;
        }
    }
    if flags & 0x02 != 0 {
        at += 2;
    }
    Ok((h.len() >= at).then_some(at))
}

impl GzipDecoder {
    /// A decoder at the start of a stream.
    pub fn new() -> GzipDecoder {
        GzipDecoder {
            state: State::Header(Vec::new()),
            inflater: InflateState::new_boxed(DataFormat::Raw),
            out: vec![0; OUT_CHUNK],
            crc: crc32fast::Hasher::new(),
            member_len: 0,
            members: 0,
        }
    }

    /// Decompresses `input`, passing what comes out to `sink`.
    pub fn push<E: From<Error>>(
        &mut self,
        mut input: &[u8],
        mut sink: impl FnMut(&[u8]) -> Result<(), E>,
    ) -> Result<(), E> {
        loop {
            match &mut self.state {
                State::Header(_) | State::Trailer(_) if input.is_empty() => return Ok(()),
                State::Header(h) => {
                    let before = h.len();
                    h.extend_from_slice(&input[..input.len().min(MAX_HEADER + 1 - before)]);
                    match header_len(h)? {
                        Some(len) => {
                            input = &input[len - before..];
                            self.state = State::Body;
                        }
                        None if h.len() > MAX_HEADER => return Err(format_error("the header is too long").into()),
                        None => return Ok(()),
                    }
                }
                State::Body => {
                    let result = inflate(&mut self.inflater, input, &mut self.out, MZFlush::None);
                    input = &input[result.bytes_consumed..];
                    let out = &self.out[..result.bytes_written];
                    self.crc.update(out);
                    self.member_len += out.len() as u64;
                    sink(out)?;
                    match result.status {
                        Ok(MZStatus::StreamEnd) => self.state = State::Trailer(Vec::new()),
                        Ok(_) | Err(MZError::Buf) => {
                            // A full output buffer may leave more output held inside.
                            if input.is_empty() && result.bytes_written < OUT_CHUNK {
                                return Ok(());
                            }
                            if result.bytes_consumed == 0 && result.bytes_written == 0 {
                                return Err(format_error("the deflate stream makes no progress").into());
                            }
                        }
                        Err(_) => return Err(format_error("corrupt deflate data").into()),
                    }
                }
                State::Trailer(t) => {
                    let n = (8 - t.len()).min(input.len());
                    t.extend_from_slice(&input[..n]);
                    input = &input[n..];
                    if t.len() == 8 {
                        let crc = u32::from_le_bytes([t[0], t[1], t[2], t[3]]);
                        let len = u32::from_le_bytes([t[4], t[5], t[6], t[7]]);
                        let ours = core::mem::take(&mut self.crc).finalize();
                        if crc != ours || len != self.member_len as u32 {
                            return Err(format_error("the CRC-32 or length in the trailer does not match").into());
                        }
                        self.members += 1;
                        self.member_len = 0;
                        self.inflater.reset(DataFormat::Raw);
                        self.state = State::Header(Vec::new());
                    }
                }
            }
        }
    }

    /// Checks that the stream ended after a whole member.
    pub fn finish(&self) -> Result<(), Error> {
        match &self.state {
            State::Header(h) if h.is_empty() && self.members > 0 => Ok(()),
            _ => Err(format_error("the stream is truncated")),
        }
    }
}
