//! The machine's images: root file systems containers are made from, by id and by tag.
//!
//! An image arrives from a boot module (`image NAME:TAG` on its command line) or from
//! the control agent (`docker import`). Ids are 64 random hex digits, as container ids
//! are; tags are `repository:tag` strings (the agent normalizes what users type).

use super::registry;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use berth_vfs::Image;
use spin::Mutex;

/// An image and what it is known by.
pub struct StoredImage {
    /// 64 hex digits.
    pub id: String,
    /// Its `repository:tag` names.
    pub tags: Mutex<Vec<String>>,
    /// Wall-clock time it was added, ns since the epoch.
    pub created_ns: u64,
    /// The file tree.
    pub image: Arc<Image>,
}

impl StoredImage {
    /// How many containers (existing, running or not) were made from it.
    pub fn containers(&self) -> usize {
        registry::list().iter().filter(|c| Arc::ptr_eq(&c.image, &self.image)).count()
    }
}

static IMAGES: Mutex<Vec<Arc<StoredImage>>> = Mutex::new(Vec::new());

/// Adds `image`, tagged `tag` if given; the tag moves from any image that had it.
pub fn add(image: Arc<Image>, tag: Option<String>) -> Arc<StoredImage> {
    let stored = Arc::new(StoredImage {
        id: super::registry::new_id(),
        tags: Mutex::new(tag.iter().cloned().collect()),
        created_ns: crate::time::realtime_ns(),
        image,
    });
    let mut all = IMAGES.lock();
    if let Some(tag) = &tag {
        for other in all.iter() {
            other.tags.lock().retain(|t| t != tag);
        }
    }
    all.push(stored.clone());
    stored
}

/// Finds an image by tag (`repository:tag`), id (with or without `sha256:`), or unique
/// id prefix.
pub fn find(key: &str) -> Option<Arc<StoredImage>> {
    let all = IMAGES.lock();
    if let Some(i) = all.iter().find(|i| i.tags.lock().iter().any(|t| t == key)) {
        return Some(i.clone());
    }
    let id = key.strip_prefix("sha256:").unwrap_or(key);
    if id.is_empty() || !id.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let mut matches = all.iter().filter(|i| i.id.starts_with(id));
    let first = matches.next()?;
    matches.next().is_none().then(|| first.clone())
}

/// Every image, oldest first.
pub fn list() -> Vec<Arc<StoredImage>> {
    IMAGES.lock().clone()
}

/// What removing an image did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Removal {
    /// A tag was taken off.
    Untagged(String),
    /// The image was deleted.
    Deleted(String),
}

/// Why an image could not be removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoveError {
    /// No image has that name.
    NotFound,
    /// Containers use it (the first one's id).
    InUse(String),
    /// It is named by several tags; remove it by tag, or force.
    ManyTags,
}

/// Removes what `key` names, as `docker rmi` does: a tag of an image with other tags
/// only loses that tag; otherwise the image goes, unless a container uses it (or, when
/// named by id, it has several tags) and `force` is not given.
pub fn remove(key: &str, force: bool) -> Result<Vec<Removal>, RemoveError> {
    let stored = find(key).ok_or(RemoveError::NotFound)?;
    let by_tag = stored.tags.lock().iter().any(|t| t == key);
    let mut done = Vec::new();
    if by_tag && stored.tags.lock().len() > 1 {
        stored.tags.lock().retain(|t| t != key);
        done.push(Removal::Untagged(String::from(key)));
        return Ok(done);
    }
    if !force {
        if let Some(c) = registry::list().iter().find(|c| Arc::ptr_eq(&c.image, &stored.image)) {
            return Err(RemoveError::InUse(c.id.clone()));
        }
        if !by_tag && stored.tags.lock().len() > 1 {
            return Err(RemoveError::ManyTags);
        }
    }
    for tag in core::mem::take(&mut *stored.tags.lock()) {
        done.push(Removal::Untagged(tag));
    }
    IMAGES.lock().retain(|i| !Arc::ptr_eq(i, &stored));
    done.push(Removal::Deleted(stored.id.clone()));
    Ok(done)
}
