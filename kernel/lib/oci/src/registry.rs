//! What a registry client needs to know of the OCI distribution API: the manifest
//! formats to ask for, and the registry's error bodies.

use alloc::format;
use alloc::string::String;
use serde::Deserialize;

/// The manifest formats berth reads, best first (an `Accept` header's value).
pub const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
                                   application/vnd.oci.image.manifest.v1+json, \
                                   application/vnd.docker.distribution.manifest.list.v2+json, \
                                   application/vnd.docker.distribution.manifest.v2+json";

#[derive(Deserialize)]
struct Errors {
    errors: alloc::vec::Vec<ErrorItem>,
}

#[derive(Deserialize)]
struct ErrorItem {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

/// The first error of a registry's error body (`{"errors":[{"code":..,"message":..}]}`)
/// as `message (CODE)`, or the body's start as text.
pub fn error_message(body: &[u8]) -> String {
    match crate::json::parse::<Errors>(body, "an error body") {
        Ok(Errors { errors }) if !errors.is_empty() => format!("{} ({})", errors[0].message, errors[0].code),
        _ => String::from_utf8_lossy(&body[..body.len().min(200)]).trim().into(),
    }
}

/// Whether a layer of `media_type` is gzip-compressed (true), a plain tar (false), or
/// something berth cannot read (None: zstd, foreign layers).
pub fn layer_is_gzip(media_type: &str) -> Option<bool> {
    match media_type {
        "application/vnd.oci.image.layer.v1.tar+gzip" | "application/vnd.docker.image.rootfs.diff.tar.gzip" => {
            Some(true)
        }
        "application/vnd.oci.image.layer.v1.tar" | "application/vnd.docker.image.rootfs.diff.tar" => Some(false),
        _ => None,
    }
}

/// An `http://` URL split into where to connect and what to ask for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpUrl {
    /// `host[:port]` (port 80 when none is given).
    pub host: String,
    /// The path and query (`/` at least).
    pub path: String,
}

impl HttpUrl {
    /// Reads an absolute `http://` URL, or a path relative to `base` (a redirect's
    /// `Location`). `https://` is refused with a reason.
    pub fn parse(url: &str, base: Option<&HttpUrl>) -> Result<HttpUrl, crate::Error> {
        if let (Some(base), true) = (base, url.starts_with('/')) {
            return Ok(HttpUrl { host: base.host.clone(), path: url.into() });
        }
        if url.starts_with("https://") {
            return Err(crate::Error::Format(format!("{url}: berth speaks plain HTTP only (no TLS yet)")));
        }
        let rest =
            url.strip_prefix("http://").ok_or_else(|| crate::Error::Format(format!("{url}: not an http:// URL")))?;
        let (host, path) = match rest.find(['/', '?']) {
            Some(i) if rest.as_bytes()[i] == b'/' => (&rest[..i], String::from(&rest[i..])),
            Some(i) => (&rest[..i], format!("/{}", &rest[i..])),
            None => (rest, String::from("/")),
        };
        if host.is_empty() || host.contains('@') {
            return Err(crate::Error::Format(format!("{url}: no host")));
        }
        let host = if host.contains(':') { String::from(host) } else { format!("{host}:80") };
        Ok(HttpUrl { host, path })
    }
}

/// A registry's `WWW-Authenticate: Bearer realm="...",service="...",scope="..."`: where
/// to get a token for the request it refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BearerChallenge {
    /// The token server's URL.
    pub realm: String,
    /// The registry's name at the token server.
    pub service: Option<String>,
    /// The access asked for (`repository:library/busybox:pull`).
    pub scope: Option<String>,
}

impl BearerChallenge {
    /// Reads a `WWW-Authenticate` value; None unless it is a Bearer challenge with a
    /// realm.
    pub fn parse(header: &str) -> Option<BearerChallenge> {
        let (scheme, params) = header.trim().split_once(' ')?;
        if !scheme.eq_ignore_ascii_case("bearer") {
            return None;
        }
        let (mut realm, mut service, mut scope) = (None, None, None);
        let mut rest = params.trim();
        while !rest.is_empty() {
            let (key, after) = rest.split_once('=')?;
            let (value, after) = match after.strip_prefix('"') {
                Some(quoted) => {
                    let end = quoted.find('"')?;
                    (&quoted[..end], &quoted[end + 1..])
                }
                None => after.split_once(',').map_or((after, ""), |(v, a)| (v, a)),
            };
            match key.trim().to_ascii_lowercase().as_str() {
                "realm" => realm = Some(String::from(value)),
                "service" => service = Some(String::from(value)),
                "scope" => scope = Some(String::from(value)),
                _ => {}
            }
            rest = after.trim_start_matches([',', ' ']);
        }
        Some(BearerChallenge { realm: realm?, service, scope })
    }

    /// The URL to GET a token from.
    pub fn token_url(&self) -> String {
        let mut url = self.realm.clone();
        let mut separator = if url.contains('?') { '&' } else { '?' };
        for (key, value) in [("service", &self.service), ("scope", &self.scope)] {
            if let Some(value) = value {
                url.push(separator);
                url.push_str(key);
                url.push('=');
                url.push_str(&percent_encode(value));
                separator = '&';
            }
        }
        url
    }
}

/// `value` with everything but unreserved characters percent-encoded (for a query).
fn percent_encode(value: &str) -> String {
    let mut out = String::new();
    for b in value.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[derive(Deserialize)]
struct TokenReply {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

/// The token in a token server's reply (`token`, or OAuth's `access_token`).
pub fn token_from(body: &[u8]) -> Option<String> {
    let reply: TokenReply = crate::json::parse(body, "a token reply").ok()?;
    reply.token.or(reply.access_token).filter(|t| !t.is_empty())
}
