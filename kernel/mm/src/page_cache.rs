//! Pages of image files, shared by every process that maps them without writing: the
//! text and read-only data of the programs containers run. One copy of each page
//! serves every process of every container of the image, so `fork`ed children and new
//! programs start on pages that already exist (and, under emulation, on code already
//! translated). A write to such a page copies it first (copy-on-write, as for `fork`).
//!
//! Only files still holding their image's bytes are cached (a container's modified
//! files are not), and the pages live as long as those bytes: when the last user of an
//! image's file data is gone, its pages go at the next purge. They are charged to no
//! container (image data is machine memory, like the image itself).

use super::charge::{MemoryCounter, UserPage};
use alloc::collections::BTreeMap;
use alloc::sync::{Arc, Weak};
use spin::Mutex;

/// The cached pages of one file's bytes.
struct FilePages {
    /// The bytes (their allocation stays while this lives, so the key stays unique).
    data: Weak<[u8]>,
    /// Filled pages by index in the file.
    pages: BTreeMap<u64, Arc<UserPage>>,
}

/// Files by the address of their bytes.
static CACHE: Mutex<BTreeMap<usize, FilePages>> = Mutex::new(BTreeMap::new());

/// The counter cached pages are charged to: no limit, for the statistics.
fn counter() -> &'static Arc<MemoryCounter> {
    static COUNTER: spin::Once<Arc<MemoryCounter>> = spin::Once::new();
    COUNTER.call_once(|| Arc::new(MemoryCounter::new(u64::MAX)))
}

fn key(data: &Arc<[u8]>) -> usize {
    Arc::as_ptr(data) as *const u8 as usize
}

/// Page `index` of `data` (zero-filled past the end), filled on first use; None when
/// out of memory.
pub fn page(data: &Arc<[u8]>, index: u64) -> Option<Arc<UserPage>> {
    let mut cache = CACHE.lock();
    if !cache.contains_key(&key(data)) {
        // A new file: drop the files nobody uses any more first.
        cache.retain(|_, f| f.data.strong_count() > 0);
        cache.insert(key(data), FilePages { data: Arc::downgrade(data), pages: BTreeMap::new() });
    }
    let file = cache.get_mut(&key(data))?;
    if let Some(page) = file.pages.get(&index) {
        return Some(page.clone());
    }
    let mut page = UserPage::zeroed(counter())?;
    let from = (index * 4096) as usize;
    if let Some(bytes) = data.get(from..(from + 4096).min(data.len())) {
        UserPage::fill(&mut page, 0, bytes);
    }
    file.pages.insert(index, page.clone());
    Some(page)
}

/// Files and pages in the cache.
pub fn stats() -> (usize, usize) {
    let cache = CACHE.lock();
    (cache.len(), cache.values().map(|f| f.pages.len()).sum())
}
