//! The machine's images: root file systems containers are made from, by id and by tag.
//!
//! An image arrives from a boot module (`image NAME:TAG` on its command line) or from
//! the control agent (`docker import`). Ids are 64 random hex digits, as container ids
//! are; tags are `repository:tag` strings (the agent normalizes what users type).

use super::registry;
use crate::mm::MemoryCounter;
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
    /// Its bytes, held against the memory all containers share.
    _charge: ImageCharge,
}

/// Image bytes charged to the memory all containers share (images are their data), so
/// that imports cannot eat the kernel's reserve; given back when dropped. An import
/// charges each file as it arrives, before it is stored.
pub struct ImageCharge(MemoryCounter);

impl ImageCharge {
    /// Nothing charged yet.
    pub fn new() -> ImageCharge {
        ImageCharge(MemoryCounter::for_container(u64::MAX))
    }

    /// Charges `bytes` more, or says the machine has no room for them.
    pub fn take(&self, bytes: u64) -> Result<(), String> {
        if self.0.try_charge(bytes) {
            Ok(())
        } else {
            let (used, limit) = crate::mm::container_memory();
            Err(alloc::format!(
                "not enough memory left on the machine for this image ({} MiB of {} MiB for containers and images in use)",
                used >> 20,
                limit >> 20
            ))
        }
    }
}

impl Drop for ImageCharge {
    fn drop(&mut self) {
        self.0.uncharge(self.0.used());
    }
}

impl StoredImage {
    /// How many containers (existing, running or not) were made from it.
    pub fn containers(&self) -> usize {
        registry::list().iter().filter(|c| Arc::ptr_eq(&c.image, &self.image)).count()
    }
}

static IMAGES: Mutex<Vec<Arc<StoredImage>>> = Mutex::new(Vec::new());

/// Adds `image`, whose bytes `charge` holds, tagged `tag` if given; the tag moves from
/// any image that had it.
pub fn add(image: Arc<Image>, charge: ImageCharge, tag: Option<String>) -> Arc<StoredImage> {
    let stored = Arc::new(StoredImage {
        id: super::registry::new_id(),
        tags: Mutex::new(tag.iter().cloned().collect()),
        created_ns: crate::time::realtime_ns(),
        image,
        _charge: charge,
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
