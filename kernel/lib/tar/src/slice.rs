//! Reading an archive that is already in memory.

use crate::{Error, Event, Header, Parser};
use alloc::vec::Vec;

/// An entry of an in-memory archive, with its data borrowed from the archive.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Entry<'a> {
    /// The entry's header.
    pub header: Header,
    /// The entry's data (empty for kinds without data).
    pub data: &'a [u8],
}

/// Parses a whole archive held in memory, refusing entries above `max_entry_size`.
pub fn entries(archive: &[u8], max_entry_size: u64) -> Result<Vec<Entry<'_>>, Error> {
    let mut parser = Parser::new(max_entry_size);
    let mut input = archive;
    let mut out = Vec::new();
    while let Some(event) = parser.next(&mut input)? {
        match event {
            Event::Entry(header) => {
                let start = usize::try_from(header.data_offset).unwrap_or(usize::MAX);
                let end = usize::try_from(header.size)
                    .ok()
                    .and_then(|size| start.checked_add(size))
                    .filter(|&end| end <= archive.len())
                    .ok_or(Error::Truncated { at: archive.len() as u64 })?;
                out.push(Entry { data: &archive[start..end], header });
            }
            Event::Data(_) => {}
            Event::End => break,
        }
    }
    parser.finish()?;
    Ok(out)
}
