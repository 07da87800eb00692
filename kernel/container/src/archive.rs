//! Reading `docker save` archives and OCI image layouts as they arrive (`docker load`):
//! each member is hashed, and one named by its digest (`blobs/sha256/...`) must have
//! it; layers (tar or gzip) are read into layers as they stream past, small JSON
//! members are kept; at the end the archive's manifests say which configurations and
//! layers make which images. Nothing is added unless every image named is whole.

use super::images::{self, AddError, Named};
use super::layers::{Layer, LayerBlob, LayerError};
use alloc::boxed::Box;
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use berth_oci::gzip;
use berth_oci::{Digest, Hasher};
use berth_tar::{EntryKind, Event};

/// Bytes looked at to tell what a member is.
const SNIFF: usize = 512;

/// Why an archive was not loaded.
#[derive(Debug)]
pub enum LoadError {
    /// The archive (the outer tar) is malformed or truncated.
    Archive(String),
    /// A layer could not be read.
    Layer(LayerError),
    /// A blob, manifest or configuration is wrong or missing.
    Image(berth_oci::Error),
    /// An image's configuration and layers do not agree.
    Add(AddError),
}

impl From<berth_oci::Error> for LoadError {
    fn from(e: berth_oci::Error) -> LoadError {
        LoadError::Image(e)
    }
}

impl From<LayerError> for LoadError {
    fn from(e: LayerError) -> LoadError {
        LoadError::Layer(e)
    }
}

impl core::fmt::Display for LoadError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            LoadError::Archive(why) => write!(f, "the archive is not a valid tar: {why}"),
            LoadError::Layer(e) => write!(f, "{e}"),
            LoadError::Image(e) => write!(f, "{e}"),
            LoadError::Add(e) => write!(f, "{e}"),
        }
    }
}

/// Where a member's bytes go.
enum Sink {
    /// Its first bytes, until it is clear what it is.
    Sniff(Vec<u8>),
    /// A layer, compressed or not (boxed: it is large beside the others).
    Layer(Box<LayerBlob>),
    /// A JSON document.
    Json(Vec<u8>),
    /// Anything else: only hashed.
    Skip,
}

/// What a member turned out to hold.
enum Blob {
    Layer(Arc<Layer>),
    Json(Vec<u8>),
    Other,
}

/// The member being received.
struct Member {
    path: String,
    size: u64,
    received: u64,
    hasher: Hasher,
    sink: Sink,
}

/// A `docker load` in progress.
pub struct Loader {
    outer: berth_tar::Parser,
    member: Option<Member>,
    blobs: BTreeMap<String, Blob>,
    json_kept: usize,
    layer_limit: u64,
}

/// What a member whose first bytes are `head` (all of it if it is shorter) is.
fn sniff(head: &[u8], size: u64, layer_limit: u64) -> Sink {
    let tar_header = head.len() >= SNIFF && (&head[257..262] == b"ustar" || head[..SNIFF].iter().all(|&b| b == 0));
    if head.starts_with(&gzip::MAGIC) || tar_header {
        Sink::Layer(Box::new(LayerBlob::new(head.starts_with(&gzip::MAGIC), layer_limit)))
    } else if size <= crate::param::IMAGE_MAX_JSON
        && matches!(head.iter().find(|b| !b.is_ascii_whitespace()), Some(b'{' | b'['))
    {
        Sink::Json(Vec::new())
    } else {
        Sink::Skip
    }
}

impl Member {
    fn take(&mut self, data: &[u8], layer_limit: u64, json_kept: &mut usize) -> Result<(), LoadError> {
        self.hasher.update(data);
        self.received += data.len() as u64;
        if let Sink::Sniff(head) = &mut self.sink {
            head.extend_from_slice(data);
            if head.len() < SNIFF && self.received < self.size {
                return Ok(());
            }
            let head = core::mem::take(head);
            self.sink = sniff(&head, self.size, layer_limit);
            return self.feed(&head, json_kept);
        }
        self.feed(data, json_kept)
    }

    fn feed(&mut self, data: &[u8], json_kept: &mut usize) -> Result<(), LoadError> {
        match &mut self.sink {
            Sink::Layer(layer) => layer.push(data)?,
            Sink::Json(json) => {
                *json_kept += data.len();
                if *json_kept > crate::param::IMAGE_MAX_JSON_TOTAL {
                    return Err(LoadError::Image(berth_oci::Error::Format(format!(
                        "the archive holds more than {} MiB of JSON",
                        crate::param::IMAGE_MAX_JSON_TOTAL >> 20
                    ))));
                }
                json.extend_from_slice(data);
            }
            Sink::Sniff(_) | Sink::Skip => {}
        }
        Ok(())
    }

    /// Checks the member's digest if its name gives one, and finishes what it holds.
    fn finish(self) -> Result<(String, Blob), LoadError> {
        let actual = self.hasher.finish();
        if let Some(expected) = self.path.strip_prefix("blobs/sha256/").and_then(Digest::from_hex)
            && expected != actual
        {
            let what = format!("blob {}", self.path);
            return Err(LoadError::Image(berth_oci::Error::DigestMismatch { what, expected, actual }));
        }
        let blob = match self.sink {
            Sink::Layer(layer) => Blob::Layer(layer.finish()?),
            Sink::Json(json) => Blob::Json(json),
            Sink::Sniff(_) | Sink::Skip => Blob::Other,
        };
        Ok((self.path, blob))
    }
}

impl Loader {
    /// A load whose layers may each hold up to `layer_limit` bytes of files.
    pub fn new(layer_limit: u64) -> Loader {
        Loader {
            outer: berth_tar::Parser::new(u64::MAX),
            member: None,
            blobs: BTreeMap::new(),
            json_kept: 0,
            layer_limit,
        }
    }

    /// Takes the next bytes of the archive.
    pub fn push(&mut self, mut input: &[u8]) -> Result<(), LoadError> {
        let archive = |e: berth_tar::Error| LoadError::Archive(format!("{e}"));
        while let Some(event) = self.outer.next(&mut input).map_err(archive)? {
            match event {
                Event::Entry(h) if h.kind == EntryKind::File => {
                    let path = String::from(h.name.trim_start_matches("./"));
                    let member = Member {
                        path,
                        size: h.size,
                        received: 0,
                        hasher: Hasher::new(),
                        sink: Sink::Sniff(Vec::new()),
                    };
                    if h.size == 0 {
                        self.complete(member)?;
                    } else {
                        self.member = Some(member);
                    }
                }
                Event::Entry(_) | Event::End => {}
                Event::Data(data) => {
                    let Some(member) = &mut self.member else { continue };
                    member.take(data, self.layer_limit, &mut self.json_kept)?;
                    if member.received == member.size
                        && let Some(member) = self.member.take()
                    {
                        self.complete(member)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn complete(&mut self, member: Member) -> Result<(), LoadError> {
        let (path, blob) = member.finish()?;
        // Only what manifests can name is kept: layers and JSON (bounded above).
        match blob {
            Blob::Other => return Ok(()),
            Blob::Layer(_)
                if self.blobs.values().filter(|b| matches!(b, Blob::Layer(_))).count()
                    >= crate::param::IMAGE_MAX_LAYERS =>
            {
                return Err(LoadError::Image(berth_oci::Error::Format(format!(
                    "the archive holds more than {} layers",
                    crate::param::IMAGE_MAX_LAYERS
                ))));
            }
            _ => {}
        }
        self.blobs.insert(path, blob);
        Ok(())
    }

    /// Adds the images the archive holds, once every one of them is known whole; gives
    /// each with its names.
    pub fn finish(self) -> Result<Vec<Named>, LoadError> {
        self.outer.finish().map_err(|e| LoadError::Archive(format!("{e}")))?;
        if let Some(member) = &self.member {
            return Err(LoadError::Archive(format!("it ends inside {}", member.path)));
        }
        let json = |path: &str| match self.blobs.get(path) {
            Some(Blob::Json(bytes)) => Some(bytes.as_slice()),
            _ => None,
        };
        let wanted = berth_oci::archive::images_in(&json)?;
        if wanted.is_empty() {
            return Err(LoadError::Image(berth_oci::Error::Missing(String::from("an image in the archive"))));
        }
        let mut ready = Vec::new();
        for image in wanted {
            let missing = |what: String| LoadError::Image(berth_oci::Error::Missing(what));
            let config = json(&image.config).ok_or_else(|| missing(format!("the image config {}", image.config)))?;
            let mut layers = Vec::new();
            for path in &image.layers {
                match self.blobs.get(path) {
                    Some(Blob::Layer(layer)) => layers.push(layer.clone()),
                    _ => return Err(missing(format!("layer {path}"))),
                }
            }
            images::check(config, &layers).map_err(LoadError::Add)?;
            let mut tags = Vec::new();
            for name in image.tags {
                if !berth_docker::names::valid_image_ref(&name) {
                    return Err(LoadError::Image(berth_oci::Error::Format(format!("invalid image name `{name}`"))));
                }
                let (repo, tag) = berth_docker::names::image_ref(&name);
                tags.push(format!("{repo}:{tag}"));
            }
            ready.push((config.to_vec(), layers, tags));
        }
        let mut loaded = Vec::new();
        for (config, layers, tags) in ready {
            let stored = images::add(config, layers, None).map_err(LoadError::Add)?;
            for tag in &tags {
                images::tag(&stored, tag.clone());
            }
            loaded.push((stored, tags));
        }
        Ok(loaded)
    }
}
