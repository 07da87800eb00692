//! A layer's tar, kept as its file tree plus everything else (headers, padding, the
//! end marker), so that `docker save` writes back the very bytes that arrived and the
//! layer keeps its digest. Docker keeps the same thing on disk ("tar-split"); here the
//! file data is the tree's own, not a copy, and the rest is stored with its runs of
//! zeros squeezed out: tar headers and padding are mostly zeros. (Not deflate:
//! miniz_oxide's compressor needs more stack than a kernel thread has.)

use alloc::sync::Arc;
use alloc::vec::Vec;

/// Raw header bytes encoded together.
const CHUNK: usize = 64 * 1024;

/// Zero runs shorter than this stay in the literal bytes.
const MIN_ZERO_RUN: usize = 9;

/// `raw` as pairs of (literal length, literal bytes, zero-run length), lengths as u32
/// little-endian.
fn squeeze(raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut at = 0;
    while at < raw.len() {
        // The literal runs up to the next zero run long enough to be worth skipping.
        let mut end = at;
        let mut zeros = 0;
        while end < raw.len() {
            let run = raw[end..].iter().take_while(|&&b| b == 0).count();
            if run >= MIN_ZERO_RUN || end + run == raw.len() {
                zeros = run;
                break;
            }
            end += run.max(1);
        }
        out.extend_from_slice(&((end - at) as u32).to_le_bytes());
        out.extend_from_slice(&raw[at..end]);
        out.extend_from_slice(&(zeros as u32).to_le_bytes());
        at = end + zeros;
    }
    out.shrink_to_fit();
    out
}

/// The bytes [`squeeze`] encoded.
fn unsqueeze(mut encoded: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let take_len = |e: &mut &[u8]| -> usize {
        let (len, rest) = e.split_at(4.min(e.len()));
        *e = rest;
        let mut word = [0u8; 4];
        word[..len.len()].copy_from_slice(len);
        u32::from_le_bytes(word) as usize
    };
    while !encoded.is_empty() {
        let literal = take_len(&mut encoded).min(encoded.len());
        out.extend_from_slice(&encoded[..literal]);
        encoded = &encoded[literal..];
        let zeros = take_len(&mut encoded);
        out.resize(out.len() + zeros, 0);
    }
    out
}

/// One file's data and the non-file bytes before it.
struct Segment {
    /// Header bytes (of the meta stream) that come before the data.
    meta: usize,
    /// The file's bytes.
    data: Arc<[u8]>,
}

/// A tar archive as non-file bytes (squeezed) and shared file data.
#[derive(Default)]
pub struct TarSplit {
    /// Runs of [`CHUNK`] meta bytes (the last may be shorter), squeezed.
    chunks: Vec<Vec<u8>>,
    /// Meta bytes not squeezed yet.
    open: Vec<u8>,
    segments: Vec<Segment>,
    /// Meta bytes since the last file.
    pending_meta: usize,
    /// The archive's length.
    len: u64,
}

impl TarSplit {
    /// An empty archive.
    pub fn new() -> TarSplit {
        TarSplit::default()
    }

    /// Appends bytes that are not file data.
    pub fn meta(&mut self, bytes: &[u8]) {
        self.open.extend_from_slice(bytes);
        self.pending_meta += bytes.len();
        self.len += bytes.len() as u64;
        while self.open.len() >= CHUNK {
            let rest = self.open.split_off(CHUNK);
            self.chunks.push(squeeze(&self.open));
            self.open = rest;
        }
    }

    /// Appends a file's data (held, not copied).
    pub fn file(&mut self, data: Arc<[u8]>) {
        self.len += data.len() as u64;
        self.segments.push(Segment { meta: core::mem::take(&mut self.pending_meta), data });
    }

    /// Squeezes what is still open; call once the archive has ended.
    pub fn finish(&mut self) {
        if !self.open.is_empty() {
            self.chunks.push(squeeze(&self.open));
            self.open = Vec::new();
        }
        self.open.shrink_to_fit();
        self.chunks.shrink_to_fit();
        self.segments.shrink_to_fit();
    }

    /// The archive's length in bytes.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Whether the archive is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Memory the split holds beyond the file data (which the tree holds too).
    pub fn held_bytes(&self) -> u64 {
        let chunks: usize = self.chunks.iter().map(Vec::capacity).sum();
        (chunks + self.open.capacity() + self.segments.capacity() * core::mem::size_of::<Segment>()) as u64
    }

    /// Writes the archive, in pieces, to `sink`.
    pub fn write<E>(&self, mut sink: impl FnMut(&[u8]) -> Result<(), E>) -> Result<(), E> {
        let mut meta = MetaReader { split: self, next_chunk: 0, raw: Vec::new(), at: 0 };
        for segment in &self.segments {
            meta.copy(segment.meta, &mut sink)?;
            sink(&segment.data)?;
        }
        meta.copy(usize::MAX, &mut sink)
    }
}

/// Reads the meta stream back, one chunk at a time.
struct MetaReader<'a> {
    split: &'a TarSplit,
    next_chunk: usize,
    raw: Vec<u8>,
    at: usize,
}

impl MetaReader<'_> {
    /// Passes the next `n` meta bytes (or all that are left) to `sink`.
    fn copy<E>(&mut self, mut n: usize, sink: &mut impl FnMut(&[u8]) -> Result<(), E>) -> Result<(), E> {
        while n > 0 {
            if self.at == self.raw.len() {
                self.raw = match self.split.chunks.get(self.next_chunk) {
                    Some(chunk) => unsqueeze(chunk),
                    None if self.next_chunk == self.split.chunks.len() => self.split.open.clone(),
                    None => return Ok(()),
                };
                self.next_chunk += 1;
                self.at = 0;
                if self.raw.is_empty() {
                    continue;
                }
            }
            let take = n.min(self.raw.len() - self.at);
            sink(&self.raw[self.at..self.at + take])?;
            self.at += take;
            n -= take;
        }
        Ok(())
    }
}
