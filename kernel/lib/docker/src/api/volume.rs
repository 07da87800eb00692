//! `/volumes`: what `docker volume` sends and reads.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use berth_json::null_default;

/// A volume, as `GET /volumes/{name}` and the list show it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Volume {
    /// Its name.
    pub name: String,
    /// `local`.
    pub driver: String,
    /// Its nominal place on the host ([`Volume::mountpoint`]).
    pub mountpoint: String,
    /// Creation time, RFC 3339.
    pub created_at: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// `local`.
    pub scope: String,
    /// Driver options it was created with.
    pub options: BTreeMap<String, String>,
    /// Its size and users (`docker system df` only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub usage_data: Option<VolumeUsage>,
}

/// `UsageData` of a [`Volume`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VolumeUsage {
    /// Bytes its files take (as written out).
    pub size: i64,
    /// Containers that mount it.
    pub ref_count: i64,
}

/// `GET /system/df` (`docker system df`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct DiskUsage {
    /// Bytes of all layers, each counted once.
    pub layers_size: i64,
    /// The images, with how many containers use each.
    pub images: Vec<super::ImageSummary>,
    /// The containers, with the size of their writable layers.
    pub containers: Vec<super::ContainerSummary>,
    /// The volumes, with their usage.
    pub volumes: Vec<Volume>,
    /// Build cache (none: berth does not build).
    pub build_cache: Vec<super::Empty>,
}

impl Volume {
    /// The path shown as a volume's `Mountpoint` and a mount's `Source`. berth has no
    /// host file system: the path names the volume, it is not a place to look.
    pub fn mountpoint(name: &str) -> String {
        format!("/var/lib/berth/volumes/{name}")
    }
}

/// `GET /volumes`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VolumeList {
    /// The volumes.
    pub volumes: Vec<Volume>,
    /// Warnings (none).
    pub warnings: Vec<String>,
}

/// The body of `POST /volumes/create`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct VolumeCreate {
    /// The name; empty for a generated one.
    pub name: String,
    /// The driver; empty or `local`.
    pub driver: String,
    /// Driver options (`--opt`).
    #[serde(deserialize_with = "null_default")]
    pub driver_opts: BTreeMap<String, String>,
    /// Labels (`--label`).
    #[serde(deserialize_with = "null_default")]
    pub labels: BTreeMap<String, String>,
}

/// `POST /volumes/prune`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct VolumePruneReport {
    /// The names of the volumes removed.
    pub volumes_deleted: Vec<String>,
    /// Bytes freed.
    pub space_reclaimed: u64,
}

/// `POST /containers/prune`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ContainerPruneReport {
    /// The ids of the containers removed.
    pub containers_deleted: Vec<String>,
    /// Bytes freed: the size of their writable layers.
    pub space_reclaimed: u64,
}

/// What a `docker volume ls` or `prune` filter asks for.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VolumeFilter {
    /// Names (substrings, as Docker matches them).
    pub names: Vec<String>,
    /// `label=KEY` or `label=KEY=VALUE`; all must match.
    pub labels: Vec<String>,
    /// `dangling=true`: only volumes no container uses; `false`: only used ones.
    pub dangling: Option<bool>,
    /// `all=true` (prune): named volumes too, not only anonymous ones.
    pub all: bool,
}

impl VolumeFilter {
    /// Parses `{"name":{"x":true},"label":{"k=v":true},"dangling":{"true":true}}` (or
    /// the older list form); unknown filters are refused rather than ignored.
    pub fn parse(filters: &str) -> Result<VolumeFilter, String> {
        let mut out = VolumeFilter::default();
        for (name, values) in super::filter_args(filters)? {
            match name.as_str() {
                "name" => out.names.extend(values),
                "label" => out.labels.extend(values),
                "dangling" => out.dangling = super::filter_flag(&name, &values)?.or(out.dangling),
                "all" => out.all = super::filter_flag(&name, &values)?.unwrap_or(out.all),
                "driver" if values.iter().all(|v| v == "local") => {}
                other => return Err(format!("invalid filter '{other}'")),
            }
        }
        Ok(out)
    }

    /// Whether a volume called `name` with `labels`, used or not, passes.
    pub fn matches(&self, name: &str, labels: &BTreeMap<String, String>, used: bool) -> bool {
        (self.names.is_empty() || self.names.iter().any(|n| name.contains(n.as_str())))
            && super::labels_match(&self.labels, |k| labels.get(k).map(String::as_str))
            && self.dangling.is_none_or(|d| d != used)
    }
}
