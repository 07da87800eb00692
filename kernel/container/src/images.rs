//! The machine's images: root file systems containers are made from, by id and by tag.
//!
//! An image is a configuration file (its default command, environment, user, ports,
//! and the digests of its layers) and the layers it names, bottom first, each stored
//! once however many images share it (`layers.rs`); the file tree containers see is
//! the layers stacked. Its id is the sha256 of the configuration file, as Docker's is.
//! Images arrive from boot modules (`image NAME:TAG` on the module's command line), or
//! through the control agent (`docker import`, `docker load`, `docker pull`).

use super::layers::Layer;
use super::registry;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use berth_oci::{Digest, ImageConfig};
use berth_vfs::Image;
use spin::Mutex;

/// An image and what it is known by.
pub struct StoredImage {
    /// 64 hex digits: the digest of [`Self::config_bytes`].
    pub id: String,
    /// Its `repository:tag` names.
    pub tags: Mutex<Vec<String>>,
    /// Its `repository@sha256:...` names: the registry manifests it was pulled by.
    pub digests: Mutex<Vec<String>>,
    /// When it was made (the configuration's `created`, else when it arrived), ns since
    /// the epoch.
    pub created_ns: u64,
    /// The configuration file, as it arrived.
    pub config_bytes: Vec<u8>,
    /// The configuration.
    pub config: ImageConfig,
    /// The layers, bottom first.
    pub layers: Vec<Arc<Layer>>,
    /// The file tree: the layers stacked.
    pub image: Arc<Image>,
}

/// An image and the names one operation gives it (`docker save` saves it under them,
/// `docker load` loaded it as them).
pub type Named = (Arc<StoredImage>, Vec<String>);

impl StoredImage {
    /// How many containers (existing, running or not) were made from it.
    pub fn containers(&self) -> usize {
        registry::list().iter().filter(|c| Arc::ptr_eq(&c.image, &self.image)).count()
    }

    /// Bytes of file data in its layers.
    pub fn size(&self) -> u64 {
        self.layers.iter().map(|l| l.tree.bytes()).sum()
    }
}

/// Why an image could not be added.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AddError {
    /// The configuration is malformed or for another platform.
    Config(berth_oci::Error),
    /// The layers given are not the ones the configuration names.
    Layers(String),
}

impl core::fmt::Display for AddError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            AddError::Config(e) => write!(f, "{e}"),
            AddError::Layers(why) => f.write_str(why),
        }
    }
}
static IMAGES: Mutex<Vec<Arc<StoredImage>>> = Mutex::new(Vec::new());

/// Reads the configuration file `config_bytes` and checks that `layers` are the ones
/// it names, in order.
pub fn check(config_bytes: &[u8], layers: &[Arc<Layer>]) -> Result<ImageConfig, AddError> {
    let config = ImageConfig::parse(config_bytes).map_err(AddError::Config)?;
    let wanted = config.diff_ids().map_err(AddError::Config)?;
    let have: Vec<Digest> = layers.iter().map(|l| l.diff_id).collect();
    if wanted != have {
        let differ = wanted.iter().zip(&have).position(|(w, h)| w != h).unwrap_or(wanted.len().min(have.len()));
        return Err(AddError::Layers(alloc::format!(
            "the image config names {} layers; layer {} of the {} given is not the one it names",
            wanted.len(),
            differ + 1,
            have.len()
        )));
    }
    Ok(config)
}

/// Adds the image whose configuration file is `config_bytes`, made of `layers` (which
/// must be the ones it names, in order), tagged `tag` if given; the tag moves from any
/// image that had it. The same configuration added again is the same image: it gains
/// the tag.
pub fn add(config_bytes: Vec<u8>, layers: Vec<Arc<Layer>>, tag: Option<String>) -> Result<Arc<StoredImage>, AddError> {
    let config = check(&config_bytes, &layers)?;
    let id = Digest::of(&config_bytes).hex();
    let existing = IMAGES.lock().iter().find(|i| i.id == id).cloned();
    let stored = match existing {
        Some(stored) => stored,
        None => {
            // Stacked outside the lock; two adds of one image at once keep the first.
            let image = Arc::new(berth_oci::stack(layers.iter().map(|l| &*l.tree)));
            let created_ns = config
                .created
                .as_deref()
                .and_then(berth_docker::time::parse_rfc3339)
                .unwrap_or_else(crate::time::realtime_ns);
            let candidate = Arc::new(StoredImage {
                id: id.clone(),
                tags: Mutex::new(Vec::new()),
                digests: Mutex::new(Vec::new()),
                created_ns,
                config_bytes,
                config,
                layers,
                image,
            });
            let mut all = IMAGES.lock();
            match all.iter().find(|i| i.id == id) {
                Some(first) => first.clone(),
                None => {
                    all.push(candidate.clone());
                    candidate
                }
            }
        }
    };
    if let Some(tag) = tag {
        self::tag(&stored, tag);
    }
    Ok(stored)
}

/// Gives `image` the name `tag`, taking it from any image that had it.
pub fn tag(image: &Arc<StoredImage>, tag: String) {
    for other in IMAGES.lock().iter() {
        if !Arc::ptr_eq(other, image) {
            other.tags.lock().retain(|t| *t != tag);
        }
    }
    let mut tags = image.tags.lock();
    if !tags.contains(&tag) {
        tags.push(tag);
    }
}

/// Finds an image by tag (`repository:tag`), digest (`repository@sha256:...`), id (with
/// or without `sha256:`), or unique id prefix.
pub fn find(key: &str) -> Option<Arc<StoredImage>> {
    let all = IMAGES.lock();
    if let Some(i) = all.iter().find(|i| i.tags.lock().iter().any(|t| t == key)) {
        return Some(i.clone());
    }
    if let Some((name, digest)) = key.split_once('@') {
        // `repository@sha256:...`: the manifest an image was pulled by.
        let (repository, _) = berth_docker::names::image_ref(name);
        let wanted = alloc::format!("{repository}@{digest}");
        return all.iter().find(|i| i.digests.lock().contains(&wanted)).cloned();
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

/// Adds the image `docker commit` makes: `base`'s layers and `layer` (a container's
/// changes) on top, `run` as what containers run, a history entry with `comment`.
pub fn commit(
    base: &StoredImage,
    layer: Arc<Layer>,
    run: berth_oci::RunConfig,
    comment: &str,
    author: &str,
    tag: Option<String>,
) -> Result<Arc<StoredImage>, AddError> {
    let created = berth_docker::time::rfc3339(crate::time::realtime_ns());
    let mut config = base.config.clone();
    config.created = Some(created.clone());
    config.author = String::from(author);
    config.comment = String::from(comment);
    config.config = run;
    config.rootfs.diff_ids.push(alloc::format!("{}", layer.diff_id));
    config.history.push(berth_oci::History {
        created: Some(created),
        author: String::from(author),
        comment: String::from(comment),
        ..berth_oci::History::default()
    });
    let mut layers = base.layers.clone();
    layers.push(layer);
    add(config.to_bytes(), layers, tag)
}

/// Adds the image `docker import` makes of one layer: a configuration with `run` as
/// what containers run, `comment` (empty for Docker's "Imported from -") and the time
/// now.
pub fn import(
    layer: Arc<Layer>,
    run: berth_oci::RunConfig,
    comment: &str,
    tag: Option<String>,
) -> Result<Arc<StoredImage>, AddError> {
    let created = berth_docker::time::rfc3339(crate::time::realtime_ns());
    let config = ImageConfig::imported(layer.diff_id, &created, comment, run);
    add(config.to_bytes(), alloc::vec![layer], tag)
}
