//! The archives `docker save` writes and `docker load` reads: an OCI image layout
//! (`oci-layout`, `index.json`, manifests and blobs under `blobs/sha256/`) with
//! Docker's `manifest.json` beside it, as Docker 25 and later write. Loading also takes
//! the older Docker layout (`manifest.json` naming `<id>/layer.tar` files) and plain
//! OCI layouts (no `manifest.json`, an index that may nest an index of platforms).

use crate::{Digest, Error};
use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use serde::{Deserialize, Serialize};

/// Media types of the OCI image specification.
pub mod media {
    /// An image manifest.
    pub const MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
    /// An image index.
    pub const INDEX: &str = "application/vnd.oci.image.index.v1+json";
    /// An image configuration.
    pub const CONFIG: &str = "application/vnd.oci.image.config.v1+json";
    /// An uncompressed layer.
    pub const LAYER: &str = "application/vnd.oci.image.layer.v1.tar";
    /// Docker's manifest list (a registry's multi-platform index).
    pub const DOCKER_LIST: &str = "application/vnd.docker.distribution.manifest.list.v2+json";
}

/// The annotation holding an image's full name in an index.
const NAME_ANNOTATION: &str = "io.containerd.image.name";
/// The annotation holding an image's tag (or name) in an index.
const REF_ANNOTATION: &str = "org.opencontainers.image.ref.name";

/// The path of the blob with `digest` in a layout.
pub fn blob_path(digest: &Digest) -> String {
    format!("blobs/sha256/{}", digest.hex())
}

/// A blob's digest and size, and what it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Descriptor {
    /// Its media type.
    #[serde(rename = "mediaType", default)]
    pub media_type: String,
    /// `sha256:...`.
    pub digest: String,
    /// Its size in bytes.
    pub size: u64,
    /// Names and notes (an index's image names).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub annotations: BTreeMap<String, String>,
    /// The platform of an index entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub platform: Option<Platform>,
}

/// An index entry's platform.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Platform {
    /// `linux`.
    pub os: String,
    /// `amd64`.
    pub architecture: String,
}

/// An image manifest, or an index of them (one struct reads both: they differ in
/// which list they fill).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Manifest {
    /// 2.
    #[serde(rename = "schemaVersion")]
    pub schema_version: u32,
    /// The manifest's or index's media type.
    #[serde(rename = "mediaType", default, skip_serializing_if = "String::is_empty")]
    pub media_type: String,
    /// A manifest's configuration.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub config: Option<Descriptor>,
    /// A manifest's layers, bottom first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub layers: Vec<Descriptor>,
    /// An index's manifests.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub manifests: Vec<Descriptor>,
}

impl Manifest {
    /// Reads a manifest or index.
    pub fn parse(bytes: &[u8]) -> Result<Manifest, Error> {
        crate::json::parse(bytes, "a manifest")
    }

    /// Whether it is an index (of manifests) rather than an image manifest.
    pub fn is_index(&self) -> bool {
        self.media_type == media::INDEX || self.media_type == media::DOCKER_LIST || !self.manifests.is_empty()
    }
}

/// One image of Docker's `manifest.json`.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct DockerEntry {
    #[serde(rename = "Config")]
    config: String,
    #[serde(rename = "RepoTags", default, deserialize_with = "berth_json::null_default")]
    repo_tags: Vec<String>,
    #[serde(rename = "Layers")]
    layers: Vec<String>,
}

/// An image to save: its configuration file, its layers' digests and sizes (as their
/// uncompressed tars, which are their diff ids) and its names.
pub struct SaveImage<'a> {
    /// The configuration file.
    pub config: &'a [u8],
    /// Each layer's digest and size, bottom first.
    pub layers: Vec<(Digest, u64)>,
    /// Its `repository:tag` names.
    pub tags: Vec<String>,
}

/// The small files of a saved archive (everything but the layers), by path.
pub fn save_files(images: &[SaveImage<'_>]) -> Vec<(String, Vec<u8>)> {
    let mut files = Vec::new();
    let mut index = Manifest { schema_version: 2, media_type: media::INDEX.to_string(), ..Manifest::default() };
    let mut docker = Vec::new();
    for image in images {
        let config_digest = Digest::of(image.config);
        let manifest = Manifest {
            schema_version: 2,
            media_type: media::MANIFEST.to_string(),
            config: Some(descriptor(media::CONFIG, &config_digest, image.config.len() as u64)),
            layers: image.layers.iter().map(|(d, size)| descriptor(media::LAYER, d, *size)).collect(),
            manifests: Vec::new(),
        };
        let manifest_bytes = serde_json::to_vec(&manifest).unwrap_or_default();
        let manifest_digest = Digest::of(&manifest_bytes);
        let entry = descriptor(media::MANIFEST, &manifest_digest, manifest_bytes.len() as u64);
        if image.tags.is_empty() {
            index.manifests.push(entry.clone());
        }
        for name in &image.tags {
            let mut named = entry.clone();
            named.annotations.insert(NAME_ANNOTATION.to_string(), full_name(name));
            let tag = name.rsplit_once(':').map_or("latest", |(_, t)| t);
            named.annotations.insert(REF_ANNOTATION.to_string(), tag.to_string());
            index.manifests.push(named);
        }
        docker.push(DockerEntry {
            config: blob_path(&config_digest),
            repo_tags: image.tags.clone(),
            layers: image.layers.iter().map(|(d, _)| blob_path(d)).collect(),
        });
        files.push((blob_path(&config_digest), image.config.to_vec()));
        files.push((blob_path(&manifest_digest), manifest_bytes));
    }
    files.sort();
    files.dedup_by(|a, b| a.0 == b.0);
    files.insert(0, ("oci-layout".to_string(), br#"{"imageLayoutVersion":"1.0.0"}"#.to_vec()));
    files.insert(1, ("index.json".to_string(), serde_json::to_vec(&index).unwrap_or_default()));
    files.insert(2, ("manifest.json".to_string(), serde_json::to_vec(&docker).unwrap_or_default()));
    files
}

fn descriptor(media_type: &str, digest: &Digest, size: u64) -> Descriptor {
    Descriptor {
        media_type: media_type.to_string(),
        digest: digest.to_string(),
        size,
        annotations: BTreeMap::new(),
        platform: None,
    }
}

/// `docker.io/library/busybox:latest` for `busybox:latest`.
fn full_name(name: &str) -> String {
    let first = name.split('/').next().unwrap_or("");
    let has_registry = name.contains('/') && (first.contains('.') || first.contains(':') || first == "localhost");
    match (has_registry, name.contains('/')) {
        (true, _) => name.to_string(),
        (false, true) => format!("docker.io/{name}"),
        (false, false) => format!("docker.io/library/{name}"),
    }
}

/// An image a loaded archive holds: the paths of its configuration and layers inside
/// the archive, and its names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ToLoad {
    /// The configuration file's path.
    pub config: String,
    /// The layers' paths, bottom first.
    pub layers: Vec<String>,
    /// Its names, as the archive gives them (`docker.io/library/app:1` or `app:1`).
    pub tags: Vec<String>,
}

/// The images an archive holds, from its `manifest.json` or else its `index.json`;
/// `json` gives a member's contents by path (members that looked like JSON).
pub fn images_in<'a>(json: &dyn Fn(&str) -> Option<&'a [u8]>) -> Result<Vec<ToLoad>, Error> {
    if let Some(bytes) = json("manifest.json") {
        let entries: Vec<DockerEntry> =
            serde_json::from_slice(bytes).map_err(|e| Error::Format(format!("manifest.json is not valid: {e}")))?;
        return Ok(entries
            .into_iter()
            .map(|e| ToLoad {
                config: clean(&e.config),
                layers: e.layers.iter().map(|l| clean(l)).collect(),
                tags: e.repo_tags,
            })
            .collect());
    }
    let Some(index) = json("index.json") else {
        return Err(Error::Missing(String::from(
            "manifest.json or index.json (this is not a docker save archive or OCI layout)",
        )));
    };
    let index = Manifest::parse(index)?;
    let mut out = Vec::new();
    for entry in &index.manifests {
        let manifest = manifest_at(json, entry)?;
        let manifest = if manifest.is_index() {
            let Some(chosen) = for_this_platform(&manifest.manifests) else {
                return Err(Error::Platform(String::from("an index with no linux/amd64 image")));
            };
            manifest_at(json, chosen)?
        } else {
            manifest
        };
        let config = manifest.config.as_ref().ok_or_else(|| Error::Format(String::from("a manifest has no config")))?;
        let layers = manifest.layers.iter().map(path_of).collect::<Result<Vec<_>, _>>()?;
        let name = entry
            .annotations
            .get(NAME_ANNOTATION)
            .or_else(|| entry.annotations.get(REF_ANNOTATION).filter(|r| r.contains(':') || r.contains('/')));
        let tags = name.cloned().into_iter().collect();
        out.push(ToLoad { config: path_of(config)?, layers, tags });
    }
    Ok(out)
}

fn clean(path: &str) -> String {
    path.trim_start_matches("./").to_string()
}

/// The blob path of a sha256 descriptor.
fn path_of(d: &Descriptor) -> Result<String, Error> {
    let digest = Digest::parse(&d.digest).map_err(|e| Error::Format(format!("{e}")))?;
    Ok(blob_path(&digest))
}

fn manifest_at<'a>(json: &dyn Fn(&str) -> Option<&'a [u8]>, entry: &Descriptor) -> Result<Manifest, Error> {
    let path = path_of(entry)?;
    Manifest::parse(json(&path).ok_or_else(|| Error::Missing(format!("manifest {}", entry.digest)))?)
}

/// The linux/amd64 entry of a platform index (or its only entry, without platforms).
pub fn for_this_platform(entries: &[Descriptor]) -> Option<&Descriptor> {
    entries
        .iter()
        .find(|d| d.platform.as_ref().is_some_and(|p| p.os == "linux" && p.architecture == "amd64"))
        .or_else(|| (entries.len() == 1 && entries[0].platform.is_none()).then(|| &entries[0]))
}
