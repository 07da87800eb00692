//! What the image endpoints answer: list, inspect and remove.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

/// One item of `GET /images/json` (a row of `docker images`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageSummary {
    /// The id, `sha256:` and 64 hex digits.
    pub id: String,
    /// The parent image's id (empty).
    pub parent_id: String,
    /// Tags, `repo:tag`.
    pub repo_tags: Vec<String>,
    /// Digests, `repo@sha256:...` (none for imported images).
    pub repo_digests: Vec<String>,
    /// Creation time, Unix seconds.
    pub created: i64,
    /// Size in bytes.
    pub size: i64,
    /// Bytes shared with other images; -1 when not computed.
    pub shared_size: i64,
    /// The same as `Size`, for clients older than API 1.44.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub virtual_size: Option<i64>,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Containers using it; -1 when not computed.
    pub containers: i64,
}

/// The answer to `GET /images/{name}/json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageInspect {
    /// The id, `sha256:...`.
    pub id: String,
    /// Tags.
    pub repo_tags: Vec<String>,
    /// Digests.
    pub repo_digests: Vec<String>,
    /// The parent's id (empty).
    pub parent: String,
    /// The commit message (`docker import -m`).
    pub comment: String,
    /// Creation time, RFC 3339.
    pub created: String,
    /// The author.
    pub author: String,
    /// The configuration containers start from.
    pub config: ImageConfig,
    /// `amd64`.
    pub architecture: String,
    /// `linux`.
    pub os: String,
    /// Size in bytes.
    pub size: i64,
    /// The layers.
    #[serde(rename = "RootFS")]
    pub root_fs: RootFs,
}

/// `Config` of an [`ImageInspect`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageConfig {
    /// The default command.
    pub cmd: Option<Vec<String>>,
    /// The default environment.
    pub env: Vec<String>,
    /// The default working directory.
    pub working_dir: String,
    /// The default entrypoint.
    pub entrypoint: Option<Vec<String>>,
    /// The default user.
    pub user: String,
    /// Labels.
    pub labels: BTreeMap<String, String>,
    /// Ports it listens on, `80/tcp`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub exposed_ports: BTreeMap<String, super::Empty>,
    /// Volumes it declares.
    #[serde(skip_serializing_if = "BTreeMap::is_empty", default)]
    pub volumes: BTreeMap<String, super::Empty>,
    /// The signal `docker stop` sends.
    #[serde(skip_serializing_if = "String::is_empty", default)]
    pub stop_signal: String,
}

/// One row of `GET /images/{name}/history` (newest first).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct HistoryItem {
    /// The image's id for its top row, else `<missing>`.
    pub id: String,
    /// Unix seconds.
    pub created: i64,
    /// The instruction.
    pub created_by: String,
    /// The image's tags on its top row.
    pub tags: Option<Vec<String>>,
    /// Bytes the step added.
    pub size: i64,
    /// Its comment.
    pub comment: String,
}

/// `RootFS` of an [`ImageInspect`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct RootFs {
    /// `layers`.
    #[serde(rename = "Type")]
    pub kind: String,
    /// Each layer's digest, `sha256:...`.
    pub layers: Vec<String>,
}

/// One item of the answer to `DELETE /images/{name}`: a tag removed or an image deleted.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ImageDeleteItem {
    /// The tag removed (`img:tag`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub untagged: Option<String>,
    /// The image id deleted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub deleted: Option<String>,
}

impl ImageDeleteItem {
    /// `{"Untagged": tag}`.
    pub fn untagged(tag: &str) -> Self {
        ImageDeleteItem { untagged: Some(String::from(tag)), deleted: None }
    }

    /// `{"Deleted": id}`.
    pub fn deleted(id: &str) -> Self {
        ImageDeleteItem { untagged: None, deleted: Some(String::from(id)) }
    }
}

/// The patterns of a `docker images` filter (`{"reference":{"PATTERN":true}}`, or the
/// older `{"reference":["PATTERN"]}`); other filters are refused rather than ignored.
pub fn reference_filters(filters: &str) -> Result<Vec<String>, String> {
    let parsed: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(filters).map_err(|e| alloc::format!("invalid filters: {e}"))?;
    let mut patterns = Vec::new();
    for (name, values) in parsed {
        if name != "reference" {
            return Err(alloc::format!("berth does not filter images by {name}"));
        }
        match values {
            serde_json::Value::Object(map) => patterns.extend(map.into_iter().map(|(k, _)| k)),
            serde_json::Value::Array(list) => {
                patterns.extend(list.into_iter().filter_map(|v| v.as_str().map(String::from)))
            }
            _ => return Err(String::from("invalid filters: reference")),
        }
    }
    Ok(patterns)
}

#[cfg(test)]
mod filter_tests {
    use super::reference_filters;

    #[test]
    fn reference_filters_as_the_cli_sends_them() {
        assert_eq!(reference_filters(r#"{"reference":{"bad":true}}"#).unwrap(), ["bad"]);
        assert_eq!(reference_filters(r#"{"reference":["a","b"]}"#).unwrap(), ["a", "b"]);
        assert!(reference_filters(r#"{"dangling":{"true":true}}"#).unwrap_err().contains("dangling"));
        assert!(reference_filters("{").is_err());
    }
}
