//! An image's configuration file (Docker's and OCI's `application/vnd.oci.image.config.v1+json`):
//! what containers of it run by default, its layers' digests and its history.

use crate::Error;
use crate::digest::Digest;
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
pub use berth_json::Empty;
use berth_json::{null_default, string_or_list};
use serde::{Deserialize, Serialize};

/// What a container of the image runs, unless its creator says otherwise (`config` in
/// the file; the fields a Dockerfile's CMD, ENTRYPOINT, ENV, ... set).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct RunConfig {
    /// The user (`name`, `uid`, `name:group`, `uid:gid`); empty is root.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub user: String,
    /// Ports it listens on, `80/tcp`.
    #[serde(deserialize_with = "null_default", skip_serializing_if = "BTreeMap::is_empty")]
    pub exposed_ports: BTreeMap<String, Empty>,
    /// `KEY=value` environment entries.
    #[serde(deserialize_with = "null_default", skip_serializing_if = "Vec::is_empty")]
    pub env: Vec<String>,
    /// The entrypoint; `None` when it has none.
    #[serde(deserialize_with = "string_or_list", skip_serializing_if = "Option::is_none")]
    pub entrypoint: Option<Vec<String>>,
    /// The command (arguments to the entrypoint, if any).
    #[serde(deserialize_with = "string_or_list", skip_serializing_if = "Option::is_none")]
    pub cmd: Option<Vec<String>>,
    /// Volumes it declares (berth records them; containers get none).
    #[serde(deserialize_with = "null_default", skip_serializing_if = "BTreeMap::is_empty")]
    pub volumes: BTreeMap<String, Empty>,
    /// The working directory; empty is `/`.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub working_dir: String,
    /// Labels.
    #[serde(deserialize_with = "null_default", skip_serializing_if = "BTreeMap::is_empty")]
    pub labels: BTreeMap<String, String>,
    /// The signal `docker stop` sends; empty is SIGTERM.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub stop_signal: String,
}

impl RunConfig {
    /// What a container runs when its creator asked for `user` (the create request's
    /// fields; `None`/empty meaning "the image's"), by Docker's rules: an entrypoint in the
    /// request replaces the image's and drops the image's command; a command alone
    /// replaces the image's command; the request's environment overrides the image's by
    /// name; exposed ports and labels are merged, the request's winning.
    pub fn merged_with(&self, user: &RunConfig) -> RunConfig {
        let (entrypoint, cmd) = match &user.entrypoint {
            Some(ep) if !ep.is_empty() => (Some(ep.clone()), user.cmd.clone()),
            _ => {
                let cmd = match &user.cmd {
                    Some(cmd) if !cmd.is_empty() => Some(cmd.clone()),
                    _ => self.cmd.clone(),
                };
                let entrypoint = if user.entrypoint.is_none() { self.entrypoint.clone() } else { None };
                (entrypoint, cmd)
            }
        };
        let mut env = user.env.clone();
        for entry in &self.env {
            let key = entry.split_once('=').map_or(entry.as_str(), |(k, _)| k);
            if !env.iter().any(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k) == key) {
                env.push(entry.clone());
            }
        }
        let pick = |mine: &String, theirs: &String| if theirs.is_empty() { mine.clone() } else { theirs.clone() };
        let mut exposed_ports = self.exposed_ports.clone();
        exposed_ports.extend(user.exposed_ports.clone());
        let mut labels = self.labels.clone();
        labels.extend(user.labels.clone());
        let mut volumes = self.volumes.clone();
        volumes.extend(user.volumes.clone());
        RunConfig {
            user: pick(&self.user, &user.user),
            exposed_ports,
            env,
            // `--entrypoint ""` is `[""]`: no entrypoint.
            entrypoint: entrypoint.filter(|ep| !(ep.len() == 1 && ep[0].is_empty())),
            cmd,
            volumes,
            working_dir: pick(&self.working_dir, &user.working_dir),
            labels,
            stop_signal: pick(&self.stop_signal, &user.stop_signal),
        }
    }

    /// The program and arguments: entrypoint then command.
    pub fn argv(&self) -> Vec<String> {
        let mut argv = self.entrypoint.clone().unwrap_or_default();
        argv.extend(self.cmd.clone().unwrap_or_default());
        argv
    }
}

/// `rootfs`: the layers, bottom first, by the digest of each one's uncompressed tar.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct RootFs {
    /// `layers`.
    #[serde(rename = "type")]
    pub kind: String,
    /// `sha256:...` of each layer's tar ("diff id").
    #[serde(deserialize_with = "null_default")]
    pub diff_ids: Vec<String>,
}

/// One step of the image's history (`docker history` shows them newest first).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct History {
    /// When, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// The instruction that made it.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub created_by: String,
    /// Who.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub author: String,
    /// A comment.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub comment: String,
    /// True when the step added no layer (ENV, CMD, ...).
    #[serde(skip_serializing_if = "core::ops::Not::not")]
    pub empty_layer: bool,
}

/// The configuration file.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct ImageConfig {
    /// `amd64`.
    pub architecture: String,
    /// `linux`.
    pub os: String,
    /// When it was made, RFC 3339.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub created: Option<String>,
    /// Who made it.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub author: String,
    /// A comment (`docker import -m`).
    #[serde(skip_serializing_if = "String::is_empty")]
    pub comment: String,
    /// What containers run.
    #[serde(deserialize_with = "null_default")]
    pub config: RunConfig,
    /// The layers.
    pub rootfs: RootFs,
    /// The steps that made it.
    #[serde(deserialize_with = "null_default", skip_serializing_if = "Vec::is_empty")]
    pub history: Vec<History>,
}

/// Largest configuration file accepted.
pub const MAX_CONFIG_BYTES: usize = 4 << 20;

impl ImageConfig {
    /// Reads and checks a configuration file: valid JSON, for linux/amd64, with
    /// `layers` of valid sha256 digests.
    pub fn parse(bytes: &[u8]) -> Result<ImageConfig, Error> {
        if bytes.len() > MAX_CONFIG_BYTES {
            return Err(Error::Format(alloc::format!("image config is {} bytes, more than 4 MiB", bytes.len())));
        }
        let config: ImageConfig = crate::json::parse(bytes, "the image config")?;
        if config.os != "linux" || config.architecture != "amd64" {
            return Err(Error::Platform(alloc::format!("{}/{}", config.os, config.architecture)));
        }
        if config.rootfs.kind != "layers" {
            return Err(Error::Format(alloc::format!(
                "image config: rootfs type `{}`, want `layers`",
                config.rootfs.kind
            )));
        }
        config.diff_ids()?;
        Ok(config)
    }

    /// The layers' digests, bottom first.
    pub fn diff_ids(&self) -> Result<Vec<Digest>, Error> {
        self.rootfs
            .diff_ids
            .iter()
            .map(|d| Digest::parse(d).map_err(|e| Error::Format(alloc::format!("{e}"))))
            .collect()
    }

    /// The configuration of an image made by `docker import` of one layer, at `created`
    /// (RFC 3339), with `comment` (`-m`; empty gives Docker's "Imported from -").
    pub fn imported(layer: Digest, created: &str, comment: &str, config: RunConfig) -> ImageConfig {
        let comment = if comment.is_empty() { String::from("Imported from -") } else { String::from(comment) };
        ImageConfig {
            architecture: String::from("amd64"),
            os: String::from("linux"),
            created: Some(String::from(created)),
            author: String::new(),
            comment: comment.clone(),
            config,
            rootfs: RootFs { kind: String::from("layers"), diff_ids: alloc::vec![alloc::format!("{layer}")] },
            history: alloc::vec![History { created: Some(String::from(created)), comment, ..History::default() }],
        }
    }

    /// The file's bytes (compact JSON); its digest is the image's id.
    pub fn to_bytes(&self) -> Vec<u8> {
        serde_json::to_vec(self).unwrap_or_default()
    }
}
