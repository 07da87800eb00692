//! Image endpoints: `docker import` (a root file system tar, streamed into an image as
//! it arrives), `images`, `rmi`, `image inspect`.

use super::conn::Conn;
use super::dispatch::{Handled, Next};
use super::error::ApiError;
use super::inspect;
use crate::container::images::{self, ImageCharge, Removal, RemoveError};
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use berth_docker::api;
use berth_docker::http::{Body, RequestHead};
use berth_vfs::{FsError, ImageBuilder, ImageLimits};

/// The `repository:tag` an import is to be known by, from `repo` (maybe with a tag)
/// and `tag`.
fn import_tag(head: &RequestHead) -> Result<Option<String>, ApiError> {
    let Some(repo) = head.query("repo").filter(|r| !r.is_empty()) else { return Ok(None) };
    let (name, tag) = berth_docker::names::image_ref(repo);
    let tag = head.query("tag").filter(|t| !t.is_empty()).map_or(tag, String::from);
    if name.is_empty() || name.chars().any(|c| c.is_ascii_uppercase() || c.is_whitespace()) {
        return Err(ApiError::bad_request(format!(
            "invalid reference format: repository name ({repo}) must be lowercase"
        )));
    }
    Ok(Some(format!("{name}:{tag}")))
}

/// `POST /images/create?fromSrc=-&repo=NAME:TAG` (import: the body is the tar), or
/// `?fromImage=` (a pull, which berth cannot do: it reaches no registry).
pub fn create(conn: &mut Conn, head: &RequestHead, body: Body) -> Handled {
    if let Some(from) = head.query("fromImage") {
        // The CLI asks for the fully qualified name; say it as the user typed it.
        let from = from.strip_prefix("docker.io/").map_or(from, |r| r.strip_prefix("library/").unwrap_or(r));
        conn.close_after();
        return Err(ApiError::new(
            404,
            format!("pull access denied for {from}: berth does not pull from registries; use docker import"),
        ));
    }
    if head.query("fromSrc") != Some("-") {
        conn.close_after();
        return Err(ApiError::bad_request("only imports from the request body (fromSrc=-) are supported"));
    }
    let tag = import_tag(head)?;
    let limit = super::settings().image_limit;
    let limits = ImageLimits { max_bytes: limit, ..ImageLimits::default() };
    let mut builder = ImageBuilder::new(limits);
    let charge = ImageCharge::new();
    // The limit is on the image's file data (checked as each entry arrives); the upload
    // may be a little larger (headers, padding).
    let mut parser = berth_tar::Parser::new(u64::MAX);
    let upload_limit = limit.saturating_add(limit / 8).saturating_add(1 << 20);
    let mut declared: u64 = 0;
    let mut ended = false;
    let bad_tar = |e: &dyn core::fmt::Display| ApiError::bad_request(format!("the archive is not a valid tar: {e}"));
    conn.read_body(body, upload_limit, None, |mut piece| {
        while !ended {
            match parser.next(&mut piece).map_err(|e| bad_tar(&e))? {
                Some(event) => {
                    // Images live in kernel memory: refuse a file that would eat into
                    // the kernel's reserve, or that the machine-wide container memory
                    // has no room for.
                    if let berth_tar::Event::Entry(h) = &event {
                        declared = declared.saturating_add(h.size);
                        if declared > limit {
                            return Err(ApiError::too_large(limit));
                        }
                        if h.size > memory_for_images() {
                            return Err(ApiError::new(507, "not enough memory left on the machine for this image"));
                        }
                        charge.take(h.size).map_err(|e| ApiError::new(507, e))?;
                    }
                    ended = builder.push(event).map_err(|e| match e {
                        FsError::NoSpace => ApiError::new(507, "not enough memory left on the machine for this image"),
                        e => bad_tar(&e),
                    })?;
                }
                None => break,
            }
        }
        // Hundreds of megabytes arrive in pieces; let the containers run between them.
        crate::sched::yield_now();
        Ok(())
    })?;
    parser.finish().map_err(|e| bad_tar(&e))?;
    let image = builder.finish().map_err(|e| bad_tar(&e))?;
    let stored = images::add(Arc::new(image), charge, tag.clone());
    log::info!(
        "imported image {} as {} ({} entries, {} KiB)",
        &stored.id[..12],
        tag.as_deref().unwrap_or("<none>"),
        stored.image.entries(),
        stored.image.bytes() / 1024
    );
    let reply = api::json_line(&api::JsonMessage::status(&format!("sha256:{}", stored.id)));
    conn.respond(200, Some("application/json"), &reply).map_err(ApiError::io)?;
    Ok(Next::Continue)
}

/// Bytes of kernel memory an import may still take: what is free in the frame pool and
/// inside the heap, less a reserve for the kernel and the containers' own needs. (A
/// rough guide only: each file's buffer is also allocated fallibly.)
fn memory_for_images() -> u64 {
    const RESERVE: u64 = 64 << 20;
    let heap = berth_hal::heap_stats();
    let in_heap = heap.claimed.saturating_sub(heap.allocated) as u64;
    (berth_hal::mm::free_frames() as u64 * 4096 + in_heap).saturating_sub(RESERVE)
}

/// `GET /images/json`.
pub fn list(conn: &Conn) -> Handled {
    let mut items: Vec<api::ImageSummary> = images::list().iter().map(|i| inspect::image_summary(i)).collect();
    items.reverse();
    conn.json(200, &items).map_err(ApiError::io)?;
    Ok(Next::Continue)
}

/// The stored image a user's reference names.
pub fn find(key: &str) -> Result<Arc<images::StoredImage>, ApiError> {
    let (repo, tag) = berth_docker::names::image_ref(key);
    images::find(&format!("{repo}:{tag}")).or_else(|| images::find(key)).ok_or_else(|| ApiError::no_image(key))
}

/// `GET /images/{name}/json`.
pub fn inspect(conn: &Conn, key: &str) -> Handled {
    let stored = find(key)?;
    conn.json(200, &inspect::image(&stored)).map_err(ApiError::io)?;
    Ok(Next::Continue)
}

/// `DELETE /images/{name}[?force=1]`.
pub fn remove(conn: &Conn, head: &RequestHead, key: &str) -> Handled {
    let stored = find(key)?;
    // Remove by the tag the user typed when it is one, else by id.
    let (repo, tag) = berth_docker::names::image_ref(key);
    let tagged = format!("{repo}:{tag}");
    let by = if stored.tags.lock().contains(&tagged) { tagged } else { stored.id.clone() };
    let done = images::remove(&by, head.query_flag("force")).map_err(|e| match e {
        RemoveError::NotFound => ApiError::no_image(key),
        RemoveError::InUse(id) => ApiError::conflict(format!(
            "conflict: unable to remove repository reference \"{key}\" (must force) - container {} is using its \
             referenced image {}",
            &id[..12],
            &stored.id[..12]
        )),
        RemoveError::ManyTags => ApiError::conflict(format!(
            "conflict: unable to delete {} (must be forced) - image is referenced in multiple repositories",
            &stored.id[..12]
        )),
    })?;
    let items: Vec<api::ImageDeleteItem> = done
        .into_iter()
        .map(|r| match r {
            Removal::Untagged(t) => api::ImageDeleteItem::untagged(&t),
            Removal::Deleted(id) => api::ImageDeleteItem::deleted(&format!("sha256:{id}")),
        })
        .collect();
    conn.json(200, &items).map_err(ApiError::io)?;
    Ok(Next::Continue)
}
