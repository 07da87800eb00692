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
    match serde_json::from_slice::<Errors>(body) {
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
