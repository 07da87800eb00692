//! Image references as `docker pull` takes them: `[registry[:port]/]repository[:tag]`
//! or `...@sha256:...`, with Docker's defaults (Docker Hub, `library/`, `latest`).

use crate::{Digest, Error};
use alloc::format;
use alloc::string::{String, ToString};

/// The registry a name without one comes from.
pub const DOCKER_HUB: &str = "docker.io";

/// A parsed reference.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reference {
    /// `host[:port]` of the registry (`docker.io` for Docker Hub).
    pub registry: String,
    /// The repository inside it (`library/busybox`, `team/app`).
    pub repository: String,
    /// The tag or digest asked for.
    pub target: Target,
}

/// What a reference names inside its repository.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    /// A tag (`latest` when none is given).
    Tag(String),
    /// A manifest digest.
    Digest(Digest),
}

impl Reference {
    /// Parses `name` (what the user typed, or the CLI's `fromImage`) with an optional
    /// separate `tag` (the CLI's `tag` parameter, which may be a digest).
    pub fn parse(name: &str, tag: Option<&str>) -> Result<Reference, Error> {
        let bad = |why: &str| Error::Format(format!("invalid reference format: {why} ({name})"));
        let (name, mut target) = match name.split_once('@') {
            Some((n, d)) => (n, Some(Target::Digest(Digest::parse(d).map_err(|e| bad(&format!("{e}")))?))),
            None => (name, None),
        };
        let slash = name.rfind('/').map_or(0, |i| i + 1);
        let name = match name[slash..].rfind(':') {
            Some(i) if target.is_none() => {
                target = Some(Target::Tag(name[slash + i + 1..].to_string()));
                &name[..slash + i]
            }
            Some(i) => &name[..slash + i],
            None => name,
        };
        if let Some(tag) = tag.filter(|t| !t.is_empty()) {
            target = Some(match tag.strip_prefix("sha256:") {
                Some(_) => Target::Digest(Digest::parse(tag).map_err(|e| bad(&format!("{e}")))?),
                None => Target::Tag(tag.to_string()),
            });
        }
        let target = target.unwrap_or_else(|| Target::Tag("latest".to_string()));
        if let Target::Tag(t) = &target {
            let ok = t.len() <= 128
                && t.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
                && t.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'));
            if !ok {
                return Err(bad("a tag is up to 128 letters, digits, `_`, `.` and `-`"));
            }
        }
        let (registry, repository) = match name.split_once('/') {
            Some((first, rest)) if first.contains('.') || first.contains(':') || first == "localhost" => {
                (first.to_string(), rest.to_string())
            }
            _ => (DOCKER_HUB.to_string(), name.to_string()),
        };
        let repository = if registry == DOCKER_HUB && !repository.contains('/') {
            format!("library/{repository}")
        } else {
            repository
        };
        let component_ok = |c: &str| {
            !c.is_empty()
                && c.bytes().all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || matches!(b, b'.' | b'_' | b'-'))
                && c.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric())
        };
        if !repository.split('/').all(component_ok) {
            return Err(bad("repository names are lowercase letters, digits and separators"));
        }
        Ok(Reference { registry, repository, target })
    }

    /// The repository as Docker shows it: without `docker.io/` and `library/`.
    pub fn familiar_repository(&self) -> String {
        if self.registry == DOCKER_HUB {
            self.repository.strip_prefix("library/").unwrap_or(&self.repository).to_string()
        } else {
            format!("{}/{}", self.registry, self.repository)
        }
    }

    /// The `repository:tag` an image pulled by a tag is known by (None for a digest).
    pub fn tag_name(&self) -> Option<String> {
        match &self.target {
            Target::Tag(tag) => Some(format!("{}:{tag}", self.familiar_repository())),
            Target::Digest(_) => None,
        }
    }

    /// The tag or digest, as it goes in a registry URL.
    pub fn target_text(&self) -> String {
        match &self.target {
            Target::Tag(tag) => tag.clone(),
            Target::Digest(d) => d.to_string(),
        }
    }
}

impl core::fmt::Display for Reference {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match &self.target {
            Target::Tag(tag) => write!(f, "{}:{tag}", self.familiar_repository()),
            Target::Digest(d) => write!(f, "{}@{d}", self.familiar_repository()),
        }
    }
}
