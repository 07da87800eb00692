//! The push parser: bytes in, [`Event`]s out, with no copy of entry data.

use crate::header::{self, EntryKind, Header, RawHeader};
use crate::{BLOCK, Error};
use alloc::string::String;
use alloc::vec::Vec;

/// Largest long-name or PAX extended header accepted, in bytes.
const MAX_META: u64 = 64 * 1024;

/// What the parser found in the bytes it was given.
#[derive(Debug, PartialEq, Eq)]
pub enum Event<'a> {
    /// A new entry begins; for files, `size` bytes of [`Event::Data`] follow.
    Entry(Header),
    /// The next piece of the current entry's data, borrowed from the input.
    Data(&'a [u8]),
    /// The end-of-archive marker (two zero blocks); later bytes are ignored.
    End,
}

#[derive(Debug)]
enum State {
    /// Collecting a header block (`filled` bytes of it so far).
    Header { filled: usize },
    /// Passing through file data.
    Data { remaining: u64, padding: u64 },
    /// Collecting a long name or PAX header's payload.
    Meta { flag: u8, remaining: u64, padding: u64, offset: u64 },
    /// Skipping the padding after an entry's data.
    Skip { remaining: u64 },
    /// The end marker was seen.
    Ended,
}

/// Values from GNU long-name entries and PAX headers that apply to the next entry.
#[derive(Debug, Default)]
struct Overrides {
    name: Option<String>,
    link_name: Option<String>,
    size: Option<u64>,
    uid: Option<u32>,
    gid: Option<u32>,
    mtime: Option<u64>,
    berth: Vec<(String, String)>,
}

/// An incremental tar parser. See the crate documentation.
#[derive(Debug)]
pub struct Parser {
    state: State,
    /// Bytes consumed from the start of the archive.
    offset: u64,
    block: [u8; BLOCK],
    meta: Vec<u8>,
    overrides: Overrides,
    zero_blocks: u8,
    max_entry_size: u64,
}

impl Default for Parser {
    fn default() -> Self {
        Self::new(u64::MAX)
    }
}

impl Parser {
    /// A parser that refuses entries larger than `max_entry_size` bytes.
    pub fn new(max_entry_size: u64) -> Parser {
        Parser {
            state: State::Header { filled: 0 },
            offset: 0,
            block: [0; BLOCK],
            meta: Vec::new(),
            overrides: Overrides::default(),
            zero_blocks: 0,
            max_entry_size,
        }
    }

    /// Bytes consumed so far.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Consumes bytes from the front of `input` until it can report an event.
    /// Returns `Ok(None)` when `input` is used up and more bytes are needed.
    pub fn next<'a>(&mut self, input: &mut &'a [u8]) -> Result<Option<Event<'a>>, Error> {
        loop {
            match self.state {
                State::Ended => {
                    *input = &[];
                    return Ok(None);
                }
                State::Header { filled } => {
                    let n = (BLOCK - filled).min(input.len());
                    self.block[filled..filled + n].copy_from_slice(&input[..n]);
                    self.advance(input, n);
                    if filled + n < BLOCK {
                        self.state = State::Header { filled: filled + n };
                        return Ok(None);
                    }
                    self.state = State::Header { filled: 0 };
                    if let Some(event) = self.take_header()? {
                        return Ok(Some(event));
                    }
                }
                State::Data { remaining, padding } => {
                    if input.is_empty() {
                        return Ok(None);
                    }
                    let n = usize::try_from(remaining).unwrap_or(usize::MAX).min(input.len());
                    let data = &input[..n];
                    self.advance(input, n);
                    let remaining = remaining - n as u64;
                    self.state = if remaining == 0 {
                        State::Skip { remaining: padding }
                    } else {
                        State::Data { remaining, padding }
                    };
                    return Ok(Some(Event::Data(data)));
                }
                State::Meta { flag, remaining, padding, offset } => {
                    let n = usize::try_from(remaining).unwrap_or(usize::MAX).min(input.len());
                    self.meta.extend_from_slice(&input[..n]);
                    self.advance(input, n);
                    let remaining = remaining - n as u64;
                    if remaining > 0 {
                        self.state = State::Meta { flag, remaining, padding, offset };
                        return Ok(None);
                    }
                    self.apply_meta(flag, offset)?;
                    self.state = State::Skip { remaining: padding };
                }
                State::Skip { remaining } => {
                    let n = usize::try_from(remaining).unwrap_or(usize::MAX).min(input.len());
                    self.advance(input, n);
                    let remaining = remaining - n as u64;
                    if remaining > 0 {
                        self.state = State::Skip { remaining };
                        return Ok(None);
                    }
                    self.state = State::Header { filled: 0 };
                }
            }
        }
    }

    /// Checks that the input ended at an entry boundary. An archive may end without its
    /// end-of-archive marker (GNU tar accepts that too), but not inside an entry.
    pub fn finish(&self) -> Result<(), Error> {
        let pending_meta =
            self.overrides.name.is_some() || self.overrides.link_name.is_some() || self.overrides.size.is_some();
        match self.state {
            State::Ended => Ok(()),
            State::Header { filled: 0 } if !pending_meta => Ok(()),
            _ => Err(Error::Truncated { at: self.offset }),
        }
    }

    fn advance(&mut self, input: &mut &[u8], n: usize) {
        *input = &input[n..];
        self.offset += n as u64;
    }

    /// Interprets a complete header block; returns the event it produces, if any.
    fn take_header(&mut self) -> Result<Option<Event<'static>>, Error> {
        let offset = self.offset - BLOCK as u64;
        if header::is_zero_block(&self.block) {
            self.zero_blocks += 1;
            if self.zero_blocks == 2 {
                self.state = State::Ended;
                return Ok(Some(Event::End));
            }
            return Ok(None);
        }
        self.zero_blocks = 0;
        let raw = header::parse(&self.block, offset)?;
        if matches!(raw.flag, b'L' | b'K' | b'x' | b'g') {
            if raw.size > MAX_META {
                return Err(Error::BadPax { offset });
            }
            self.meta.clear();
            self.state = State::Meta { flag: raw.flag, remaining: raw.size, padding: padding(raw.size), offset };
            return Ok(None);
        }
        let header = self.resolve(raw, offset)?;
        if header.size > 0 {
            self.state = State::Data { remaining: header.size, padding: padding(header.size) };
        }
        Ok(Some(Event::Entry(header)))
    }

    /// Applies pending overrides to a raw header and validates the result.
    fn resolve(&mut self, raw: RawHeader, offset: u64) -> Result<Header, Error> {
        let o = core::mem::take(&mut self.overrides);
        let kind = raw.kind();
        let name = o.name.unwrap_or(raw.name);
        if name.is_empty() || name.contains('\0') {
            return Err(Error::BadName { offset });
        }
        let size = o.size.unwrap_or(raw.size);
        let size = if kind.has_data() { size } else { 0 };
        if size > self.max_entry_size {
            return Err(Error::TooLarge { name, size });
        }
        let link_name = match kind {
            EntryKind::HardLink | EntryKind::Symlink => o.link_name.unwrap_or(raw.link_name),
            _ => String::new(),
        };
        Ok(Header {
            name,
            link_name,
            kind,
            mode: raw.mode,
            uid: o.uid.unwrap_or(raw.uid),
            gid: o.gid.unwrap_or(raw.gid),
            size,
            mtime: o.mtime.unwrap_or(raw.mtime),
            data_offset: self.offset,
            device: match kind {
                EntryKind::CharDevice | EntryKind::BlockDevice => raw.device,
                _ => (0, 0),
            },
            berth: o.berth,
        })
    }

    fn apply_meta(&mut self, flag: u8, offset: u64) -> Result<(), Error> {
        let meta = core::mem::take(&mut self.meta);
        match flag {
            b'L' | b'K' => {
                let end = meta.iter().position(|&b| b == 0).unwrap_or(meta.len());
                let text = core::str::from_utf8(&meta[..end]).map_err(|_| Error::BadName { offset })?;
                let text = Some(String::from(text));
                if flag == b'L' {
                    self.overrides.name = text;
                } else {
                    self.overrides.link_name = text;
                }
            }
            b'x' => parse_pax(&meta, &mut self.overrides).ok_or(Error::BadPax { offset })?,
            // Global PAX headers are validated and otherwise ignored.
            _ => parse_pax(&meta, &mut Overrides::default()).ok_or(Error::BadPax { offset })?,
        }
        self.meta = meta;
        self.meta.clear();
        Ok(())
    }
}

/// Bytes of padding after `size` bytes of data to reach a block boundary.
fn padding(size: u64) -> u64 {
    (BLOCK as u64 - size % BLOCK as u64) % BLOCK as u64
}

/// Parses PAX records (`"<len> <key>=<value>\n"`) into `o`; `None` if malformed.
fn parse_pax(mut data: &[u8], o: &mut Overrides) -> Option<()> {
    while !data.is_empty() {
        let space = data.iter().position(|&b| b == b' ')?;
        let len: usize = core::str::from_utf8(&data[..space]).ok()?.parse().ok()?;
        if len <= space + 1 || len > data.len() || data[len - 1] != b'\n' {
            return None;
        }
        let record = core::str::from_utf8(&data[space + 1..len - 1]).ok()?;
        let (key, value) = record.split_once('=')?;
        if value.contains('\0') {
            return None;
        }
        // Times may carry a fraction ("1700000000.123"); whole seconds are enough.
        let integer = || value.split('.').next().and_then(|v| v.parse::<u64>().ok());
        match key {
            "path" => o.name = Some(String::from(value)),
            "linkpath" => o.link_name = Some(String::from(value)),
            "size" => o.size = Some(value.parse().ok()?),
            "uid" => o.uid = Some(value.parse().ok()?),
            "gid" => o.gid = Some(value.parse().ok()?),
            "mtime" => o.mtime = Some(integer()?),
            _ => {
                if let Some(own) = key.strip_prefix("BERTH.") {
                    o.berth.push((String::from(own), String::from(value)));
                }
            }
        }
        data = &data[len..];
    }
    Some(())
}
