//! `docker save` and `docker load`: images out as, and in from, the archive Docker 25
//! and later write (an OCI image layout with Docker's `manifest.json`).

use super::conn::Conn;
use super::error::ApiError;
use super::images::layer_error;
use super::reply::{Handled, Next};
use crate::container::archive::{LoadError, Loader};
use crate::container::images::Named;
use alloc::collections::BTreeSet;
use alloc::format;
use alloc::sync::Arc;
use alloc::vec::Vec;
use berth_docker::api;
use berth_docker::http::{Body, RequestHead};
use berth_oci::archive::{SaveImage, blob_path, save_files};
use berth_tar::writer::{self, Member, MemberKind};

/// Response bytes gathered before they are sent as one chunk.
const BATCH: usize = 64 * 1024;

/// The images `GET /images/get?names=...` (or `/images/{name}/get`) names, each with
/// the names it is saved under: the tag it was named by, none when named by id.
fn chosen(head: &RequestHead, name: Option<&str>) -> Result<Vec<Named>, ApiError> {
    let mut names: Vec<&str> = head.query_all("names").collect();
    names.extend(name);
    if names.is_empty() {
        return Err(ApiError::bad_request("no image named to save"));
    }
    let mut chosen: Vec<Named> = Vec::new();
    for name in names {
        let image = super::images::find(name)?;
        let (repo, tag) = berth_docker::names::image_ref(name);
        let tag = format!("{repo}:{tag}");
        let named_by_tag = image.tags.lock().contains(&tag);
        let at = match chosen.iter().position(|(i, _)| Arc::ptr_eq(i, &image)) {
            Some(at) => at,
            None => {
                chosen.push((image, Vec::new()));
                chosen.len() - 1
            }
        };
        if named_by_tag && !chosen[at].1.contains(&tag) {
            chosen[at].1.push(tag);
        }
    }
    Ok(chosen)
}

/// Writes a response body in chunks of about [`BATCH`] bytes.
struct ChunkWriter<'a> {
    conn: &'a Conn,
    batch: Vec<u8>,
}

impl ChunkWriter<'_> {
    fn write(&mut self, data: &[u8]) -> Result<(), berth_abi::Errno> {
        if self.batch.len() + data.len() > BATCH {
            self.flush()?;
        }
        if data.len() >= BATCH {
            return self.conn.chunk(data);
        }
        self.batch.extend_from_slice(data);
        Ok(())
    }

    fn flush(&mut self) -> Result<(), berth_abi::Errno> {
        self.conn.chunk(&self.batch)?;
        self.batch.clear();
        // Hundreds of megabytes leave in pieces; let the containers run between them.
        crate::sched::yield_now();
        Ok(())
    }

    fn member(&mut self, name: &str, kind: MemberKind<'_>, size: u64) -> Result<(), berth_abi::Errno> {
        let mode = if kind == MemberKind::Directory { 0o755 } else { 0o644 };
        self.write(&writer::header(&Member { name, kind, mode, uid: 0, gid: 0, size, mtime: 0 }))
    }

    fn pad(&mut self, size: u64) -> Result<(), berth_abi::Errno> {
        self.write(&[0; 512][..writer::padding(size)])
    }
}

/// `GET /images/get?names=NAME...` or `GET /images/{name}/get`: the archive, streamed.
pub fn save(conn: &Conn, head: &RequestHead, name: Option<&str>) -> Handled {
    let chosen = chosen(head, name)?;
    let saves: Vec<SaveImage<'_>> = chosen
        .iter()
        .map(|(image, tags)| SaveImage {
            config: &image.config_bytes,
            layers: image.layers.iter().map(|l| (l.diff_id, l.tar.len())).collect(),
            tags: tags.clone(),
        })
        .collect();
    let files = save_files(&saves);
    conn.start_chunked(200, "application/x-tar").map_err(ApiError::io)?;
    let mut out = ChunkWriter { conn, batch: Vec::with_capacity(BATCH) };
    let written = (|| {
        out.member("blobs/", MemberKind::Directory, 0)?;
        out.member("blobs/sha256/", MemberKind::Directory, 0)?;
        for (path, bytes) in &files {
            out.member(path, MemberKind::File, bytes.len() as u64)?;
            out.write(bytes)?;
            out.pad(bytes.len() as u64)?;
        }
        let mut sent = BTreeSet::new();
        for layer in chosen.iter().flat_map(|(image, _)| image.layers.iter()) {
            if sent.insert(layer.diff_id) {
                out.member(&blob_path(&layer.diff_id), MemberKind::File, layer.tar.len())?;
                layer.tar.write(|piece| out.write(piece))?;
                out.pad(layer.tar.len())?;
            }
        }
        out.write(&writer::end())?;
        out.flush()?;
        conn.end_chunked()
    })();
    match written {
        Ok(()) => Ok(Next::Continue),
        // The answer has begun: a failure means the client is gone.
        Err(_) => Ok(Next::Stop),
    }
}

/// The HTTP error for an archive that was not loaded.
fn load_error(e: LoadError) -> ApiError {
    match e {
        LoadError::Layer(e) => layer_error(e),
        LoadError::Image(berth_oci::Error::NoSpace) => ApiError::new(507, format!("{e}")),
        e => ApiError::bad_request(format!("{e}")),
    }
}

/// `POST /images/load[?quiet=1]`: the body is the archive, read as it arrives.
pub fn load(conn: &mut Conn, body: Body) -> Handled {
    let limit = super::settings().image_limit;
    // Each layer is held to the image limit; the archive may hold a few.
    let upload_limit = limit.saturating_mul(4);
    let mut loader = Loader::new(limit);
    conn.read_body(body, upload_limit, None, |piece| {
        loader.push(piece).map_err(load_error)?;
        crate::sched::yield_now();
        Ok(())
    })?;
    let loaded = loader.finish().map_err(load_error)?;
    super::images::persist()?;
    let mut reply = Vec::new();
    for (image, tags) in &loaded {
        log::info!("loaded image {} ({} layers) as {:?}", &image.id[..12], image.layers.len(), tags);
        if tags.is_empty() {
            let line = format!("Loaded image ID: sha256:{}\n", image.id);
            reply.extend(api::json_line(&api::JsonMessage::stream(&line)));
        }
        for tag in tags {
            reply.extend(api::json_line(&api::JsonMessage::stream(&format!("Loaded image: {tag}\n"))));
        }
    }
    conn.respond(200, Some("application/json"), &reply).map_err(ApiError::io)?;
    Ok(Next::Continue)
}
