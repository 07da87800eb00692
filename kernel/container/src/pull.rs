//! `docker pull`: an image from a registry (the OCI distribution API), over plain HTTP
//! from the registries the operator named (`insecure-registry=`). The manifest (the
//! linux/amd64 one, where the tag names a multi-platform index), the configuration
//! and each layer are fetched and checked against their digests; a layer already
//! stored (by its diff id) is not fetched again. Nothing is added unless all arrive
//! whole. Redirects are followed, and a bearer token fetched where the registry asks
//! for one (anonymous pulls). Not yet: TLS, registry logins, names that need DNS.

use super::images::{self, AddError, Named};
use super::layers::{self, LayerBlob, LayerError};
use crate::net::http_client::{self, ClientError};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;
use berth_oci::archive::{Manifest, for_this_platform};
use berth_oci::reference::{Reference, Target};
use berth_oci::registry::{BearerChallenge, HttpUrl, MANIFEST_ACCEPT, layer_is_gzip};
use berth_oci::{Digest, Hasher, ImageConfig, MAX_CONFIG_BYTES};
use core::cell::RefCell;
use core::net::SocketAddrV4;

/// Why a pull failed.
#[derive(Debug)]
pub enum PullError {
    /// The registry is not one berth may pull from.
    NotAllowed(String),
    /// The registry does not have the image (its message).
    NotFound(String),
    /// Talking to the registry failed.
    Registry(String),
    /// What the registry sent is not a valid image.
    Image(berth_oci::Error),
    /// A layer could not be read or stored.
    Layer(LayerError),
    /// The configuration and layers do not agree.
    Add(AddError),
}

impl core::fmt::Display for PullError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            PullError::NotAllowed(why) | PullError::NotFound(why) | PullError::Registry(why) => f.write_str(why),
            PullError::Image(e) => write!(f, "{e}"),
            PullError::Layer(e) => write!(f, "{e}"),
            PullError::Add(e) => write!(f, "{e}"),
        }
    }
}

impl From<berth_oci::Error> for PullError {
    fn from(e: berth_oci::Error) -> PullError {
        PullError::Image(e)
    }
}

impl From<LayerError> for PullError {
    fn from(e: LayerError) -> PullError {
        PullError::Layer(e)
    }
}

impl From<ClientError> for PullError {
    fn from(e: ClientError) -> PullError {
        PullError::Registry(format!("registry: {e}"))
    }
}

/// What a pull reports as it goes, in Docker's words.
pub enum Progress<'a> {
    /// A line about the whole pull (`Pulling from test/app`, `Digest: ...`).
    Status(&'a str),
    /// A layer's state (`Pulling fs layer`, `Downloading`, `Already exists`, `Pull
    /// complete`), with bytes done and total for downloads (0 otherwise: the CLI shows
    /// no line for a message with numbers unless it draws bars on a terminal).
    Layer {
        /// The layer's short id (12 hex digits of its digest).
        id: &'a str,
        /// What is happening to it.
        status: &'a str,
        /// Bytes downloaded so far.
        current: u64,
        /// Bytes in all.
        total: u64,
    },
}

/// One registry, reached over plain HTTP.
struct Registry<'a> {
    host: &'a str,
    repository: &'a str,
    /// The bearer token a token server gave for this pull, once the registry asked.
    token: RefCell<Option<String>>,
}

/// Where `url` is: an IPv4 address and port (berth resolves no names yet).
fn address(url: &HttpUrl) -> Result<SocketAddrV4, PullError> {
    url.host.parse().map_err(|_| {
        PullError::Registry(format!("{}: berth reaches servers by IPv4 address and port (no DNS yet)", url.host))
    })
}

impl Registry<'_> {
    /// GETs `/v2/<repository>/<what>`, following redirects (without the registry's
    /// token, which is for the registry only) and, when the registry asks for one,
    /// fetching a bearer token from the server its challenge names. A final status
    /// other than 200 is an error.
    fn get(&self, what: &str, accept: Option<&str>) -> Result<http_client::Response, PullError> {
        let home = HttpUrl { host: String::from(self.host), path: format!("/v2/{}/{what}", self.repository) };
        let mut url = home.clone();
        let mut asked_token = false;
        for _ in 0..=crate::param::MAX_REDIRECTS {
            let bearer = self.token.borrow().as_ref().map(|t| format!("Bearer {t}"));
            let mut headers: Vec<(&str, &str)> = accept.map(|a| ("Accept", a)).into_iter().collect();
            if let Some(bearer) = bearer.as_deref().filter(|_| url.host == home.host) {
                headers.push(("Authorization", bearer));
            }
            let response = http_client::get(address(&url)?, &url.host, &url.path, &headers)?;
            let status = response.status();
            let location = response.head.header("location").map(String::from);
            let challenge = response.head.header("www-authenticate").and_then(BearerChallenge::parse);
            match (status, location, challenge) {
                (200, _, _) => return Ok(response),
                (301 | 302 | 303 | 307 | 308, Some(location), _) => {
                    url = HttpUrl::parse(&location, Some(&url))?;
                }
                (401, _, Some(challenge)) if !asked_token && url.host == home.host => {
                    asked_token = true;
                    *self.token.borrow_mut() = Some(self.bearer_token(&challenge)?);
                }
                (status, _, _) => return Err(self.refusal(status, response, &url)),
            }
        }
        Err(PullError::Registry(format!(
            "{}: more than {} redirects for {}",
            self.host,
            crate::param::MAX_REDIRECTS,
            home.path
        )))
    }

    /// A token from the token server `challenge` names.
    fn bearer_token(&self, challenge: &BearerChallenge) -> Result<String, PullError> {
        let url = HttpUrl::parse(&challenge.token_url(), None)?;
        let response = http_client::get(address(&url)?, &url.host, &url.path, &[])?;
        if response.status() != 200 {
            return Err(self.refusal(response.status(), response, &url));
        }
        let body = response.read_all(64 * 1024)?;
        berth_oci::registry::token_from(&body)
            .ok_or_else(|| PullError::Registry(format!("the token server {} sent no token", challenge.realm)))
    }

    /// The error for a final `status` other than 200 (reading the registry's reason).
    fn refusal(&self, status: u16, response: http_client::Response, url: &HttpUrl) -> PullError {
        let body = response.read_all(64 * 1024).unwrap_or_default();
        let message = berth_oci::registry::error_message(&body);
        match status {
            404 => PullError::NotFound(format!("{}: {message}", self.host)),
            401 | 403 => PullError::Registry(format!(
                "{} refused access ({message}); berth pulls anonymously (no registry logins yet)",
                self.host
            )),
            _ => PullError::Registry(format!("{} answered {status} for {}: {message}", url.host, url.path)),
        }
    }

    /// A small blob or manifest, checked against `digest` when one is given; with its
    /// digest.
    fn fetch(
        &self,
        what: &str,
        accept: Option<&str>,
        digest: Option<&Digest>,
        limit: u64,
    ) -> Result<(Vec<u8>, Digest), PullError> {
        let bytes = self.get(what, accept)?.read_all(limit)?;
        let actual = Digest::of(&bytes);
        if let Some(expected) = digest
            && *expected != actual
        {
            return Err(PullError::Image(berth_oci::Error::DigestMismatch {
                what: format!("{what} from {}", self.host),
                expected: *expected,
                actual,
            }));
        }
        Ok((bytes, actual))
    }
}

/// The short id Docker shows for a layer: the first 12 hex digits of its digest.
fn short(digest: &Digest) -> String {
    digest.hex()[..12].to_string()
}

/// Whether berth may pull from `reference`'s registry: one of `allowed`, at an IPv4
/// address and port.
pub fn check_registry(reference: &Reference, allowed: &[String]) -> Result<(), PullError> {
    if !allowed.contains(&reference.registry) {
        return Err(PullError::NotAllowed(format!(
            "berth pulls only from registries named by insecure-registry=HOST:PORT on its command line, over \
             plain HTTP; {} is not one (TLS is not built yet)",
            reference.registry
        )));
    }
    match reference.registry.parse::<SocketAddrV4>() {
        Ok(_) => Ok(()),
        Err(_) => Err(PullError::NotAllowed(format!(
            "{}: berth reaches registries by IPv4 address and port (it resolves no names yet)",
            reference.registry
        ))),
    }
}

/// Pulls `reference` from its registry (see [`check_registry`]), each layer holding up
/// to `layer_limit` bytes of files. Gives the image, its names, and whether it is new
/// to this machine.
pub fn pull(
    reference: &Reference,
    layer_limit: u64,
    progress: &mut dyn FnMut(Progress<'_>),
) -> Result<(Named, bool), PullError> {
    let registry = Registry { host: &reference.registry, repository: &reference.repository, token: RefCell::new(None) };
    let target = reference.target_text();
    progress(Progress::Status(&format!("{}: Pulling from {}", target, reference.repository)));

    // The manifest: the tag's, or the linux/amd64 one of the index it names.
    let expected = match &reference.target {
        Target::Digest(d) => Some(*d),
        Target::Tag(_) => None,
    };
    let (bytes, manifest_digest) = registry.fetch(
        &format!("manifests/{target}"),
        Some(MANIFEST_ACCEPT),
        expected.as_ref(),
        crate::param::MAX_MANIFEST,
    )?;
    let mut manifest = Manifest::parse(&bytes)?;
    if manifest.is_index() {
        let chosen = for_this_platform(&manifest.manifests).ok_or_else(|| {
            PullError::Image(berth_oci::Error::Platform(String::from("no linux/amd64 image in the index")))
        })?;
        let digest =
            Digest::parse(&chosen.digest).map_err(|e| PullError::Image(berth_oci::Error::Format(format!("{e}"))))?;
        let (bytes, _) = registry.fetch(
            &format!("manifests/{digest}"),
            Some(MANIFEST_ACCEPT),
            Some(&digest),
            crate::param::MAX_MANIFEST,
        )?;
        manifest = Manifest::parse(&bytes)?;
    }
    if manifest.schema_version != 2 {
        return Err(PullError::Image(berth_oci::Error::Format(String::from(
            "the registry sent a schema 1 manifest, which berth does not read",
        ))));
    }
    let config_desc = manifest
        .config
        .as_ref()
        .ok_or_else(|| PullError::Image(berth_oci::Error::Format(String::from("the manifest names no config"))))?;
    let config_digest = parse_digest(&config_desc.digest)?;
    let (config_bytes, _) =
        registry.fetch(&format!("blobs/{config_digest}"), None, Some(&config_digest), MAX_CONFIG_BYTES as u64)?;
    let config = ImageConfig::parse(&config_bytes)?;
    let diff_ids = config.diff_ids()?;
    if diff_ids.len() != manifest.layers.len() {
        return Err(PullError::Image(berth_oci::Error::Format(format!(
            "the manifest names {} layers and the config {}",
            manifest.layers.len(),
            diff_ids.len()
        ))));
    }

    // The layers: those already here are shared, the others fetched.
    let mut layers = Vec::new();
    for (desc, diff_id) in manifest.layers.iter().zip(&diff_ids) {
        let digest = parse_digest(&desc.digest)?;
        let id = short(&digest);
        if let Some(layer) = layers::stored(diff_id) {
            progress(Progress::Layer { id: &id, status: "Already exists", current: 0, total: 0 });
            layers.push(layer);
            continue;
        }
        let Some(gzip) = layer_is_gzip(&desc.media_type) else {
            return Err(PullError::Image(berth_oci::Error::Format(format!(
                "layer {id} is {}; berth reads tar and tar+gzip layers",
                desc.media_type
            ))));
        };
        progress(Progress::Layer { id: &id, status: "Pulling fs layer", current: 0, total: 0 });
        let mut blob = LayerBlob::new(gzip, layer_limit);
        let mut hasher = Hasher::new();
        let mut reported = 0u64;
        let response = registry.get(&format!("blobs/{digest}"), None)?;
        response.read_body(desc.size, |piece| -> Result<(), PullError> {
            hasher.update(piece);
            blob.push(piece)?;
            if hasher.len() - reported >= 1 << 20 {
                reported = hasher.len();
                progress(Progress::Layer { id: &id, status: "Downloading", current: reported, total: desc.size });
            }
            crate::sched::yield_now();
            Ok(())
        })?;
        if hasher.len() != desc.size {
            return Err(PullError::Registry(format!(
                "layer {id} is truncated: the registry sent {} of its {} bytes",
                hasher.len(),
                desc.size
            )));
        }
        let actual = hasher.finish();
        if actual != digest {
            return Err(PullError::Image(berth_oci::Error::DigestMismatch {
                what: format!("layer {id}"),
                expected: digest,
                actual,
            }));
        }
        let layer = blob.finish()?;
        progress(Progress::Layer { id: &id, status: "Pull complete", current: 0, total: 0 });
        layers.push(layer);
    }

    images::check(&config_bytes, &layers).map_err(PullError::Add)?;
    let id = Digest::of(&config_bytes).hex();
    let fresh = images::find(&id).is_none_or(|i| i.id != id);
    let tag = reference.tag_name();
    let stored = images::add(config_bytes, layers, tag.clone()).map_err(PullError::Add)?;
    let repo_digest = format!("{}@{manifest_digest}", reference.familiar_repository());
    {
        let mut digests = stored.digests.lock();
        if !digests.contains(&repo_digest) {
            digests.push(repo_digest);
        }
    }
    progress(Progress::Status(&format!("Digest: {manifest_digest}")));
    Ok(((stored, tag.into_iter().collect()), fresh))
}

fn parse_digest(text: &str) -> Result<Digest, PullError> {
    Digest::parse(text).map_err(|e| PullError::Image(berth_oci::Error::Format(format!("{e}"))))
}
