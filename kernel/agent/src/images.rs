//! Image endpoints: `docker import` (a root file system tar, streamed into an image as
//! it arrives), `docker pull`, `images`, `rmi`, `image inspect`, `tag`, `history`.

use super::conn::Conn;
use super::error::ApiError;
use super::inspect;
use super::reply::{Handled, Next};
use crate::container::images::{self, Removal, RemoveError};
use crate::container::layers::{LayerBuilder, LayerError};
use crate::container::pull::{self, Progress};
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use berth_docker::api;
use berth_docker::http::{Body, RequestHead};
use berth_oci::reference::Reference;

/// The `repository:tag` an import is to be known by, from `repo` (maybe with a tag)
/// and `tag`.
pub fn import_tag(head: &RequestHead) -> Result<Option<String>, ApiError> {
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

/// `POST /images/create?fromSrc=-&repo=NAME:TAG[&changes=...][&message=...]` (import:
/// the body is the tar), or `?fromImage=NAME` (a pull).
pub fn create(conn: &mut Conn, head: &RequestHead, body: Body) -> Handled {
    if let Some(from) = head.query("fromImage") {
        return pull(conn, head, from);
    }
    if head.query("fromSrc") != Some("-") {
        conn.close_after();
        return Err(ApiError::bad_request("only imports from the request body (fromSrc=-) are supported"));
    }
    let tag = import_tag(head)?;
    // The changes are checked before the upload, so a typo costs no upload.
    let mut run = berth_oci::RunConfig::default();
    for change in head.query_all("changes") {
        if let Err(e) = berth_oci::changes::apply(&mut run, change) {
            conn.close_after();
            return Err(ApiError::bad_request(format!("{e}")));
        }
    }
    let limit = super::settings().image_limit;
    // The limit is on the image's file data (checked as each entry arrives); the upload
    // may be a little larger (headers, padding).
    let upload_limit = limit.saturating_add(limit / 8).saturating_add(1 << 20);
    let mut builder = LayerBuilder::new(limit);
    conn.read_body(body, upload_limit, None, |piece| {
        builder.push(piece).map_err(layer_error)?;
        // Hundreds of megabytes arrive in pieces; let the containers run between them.
        crate::sched::yield_now();
        Ok(())
    })?;
    let layer = builder.finish().map_err(layer_error)?;
    let stored = images::import(layer, run, head.query("message").unwrap_or(""), tag.clone())
        .map_err(|e| ApiError::bad_request(format!("{e}")))?;
    log::info!(
        "imported image {} as {} ({} entries, {} KiB)",
        &stored.id[..12],
        tag.as_deref().unwrap_or("<none>"),
        stored.image.entries(),
        stored.image.bytes() / 1024
    );
    persist()?;
    let reply = api::json_line(&api::JsonMessage::status(&format!("sha256:{}", stored.id)));
    conn.respond(200, Some("application/json"), &reply).map_err(ApiError::io)?;
    Ok(Next::Continue)
}

/// `POST /images/create?fromImage=NAME[&tag=TAG]`: a pull, its progress streamed as
/// JSON messages; a failure after the stream began is its last message.
fn pull(conn: &Conn, head: &RequestHead, from: &str) -> Handled {
    let reference = Reference::parse(from, head.query("tag")).map_err(|e| ApiError::bad_request(format!("{e}")))?;
    let settings = super::settings();
    pull::check_registry(&reference, &settings.insecure_registries)
        .map_err(|e| ApiError::new(404, format!("pull access denied for {reference}: {e}")))?;
    conn.start_chunked(200, "application/json").map_err(ApiError::io)?;
    let mut gone = false;
    let mut send = |message: &api::JsonMessage| {
        gone = gone || conn.chunk(&api::json_line(message)).is_err();
    };
    let result = pull::pull(&reference, settings.image_limit, &mut |p| match p {
        Progress::Status(text) => send(&api::JsonMessage::status(text)),
        Progress::Layer { id, status, current, total } => send(&api::JsonMessage::layer(id, status, current, total)),
    });
    let last = match &result {
        Ok(((image, _), fresh)) => {
            log::info!("pulled {reference} as image {}", &image.id[..12]);
            let what = if *fresh { "Downloaded newer image" } else { "Image is up to date" };
            match persist() {
                Ok(()) => api::JsonMessage::status(&format!("Status: {what} for {reference}")),
                Err(e) => api::JsonMessage::error(&e.message),
            }
        }
        Err(e) => {
            log::info!("pull of {reference} failed: {e}");
            api::JsonMessage::error(&format!("{e}"))
        }
    };
    send(&last);
    if gone || conn.end_chunked().is_err() {
        return Ok(Next::Stop);
    }
    Ok(Next::Continue)
}

/// Writes the images to the machine's store (if it has one) after an operation changed
/// them: 507 if the store is full (the change holds in memory until the next boot),
/// 500 if the disk failed.
pub fn persist() -> Result<(), ApiError> {
    match crate::container::store::sync_images() {
        Ok(()) => Ok(()),
        Err(e @ berth_store::StoreError::Full { .. }) => {
            log::warn!("store: {e}");
            Err(ApiError::new(507, format!("{e}: the change holds in memory only, until the next boot")))
        }
        Err(e) => {
            log::error!("store: {e}");
            Err(ApiError::internal(format!("the store on disk: {e}")))
        }
    }
}

/// The HTTP error for a layer that could not be built.
pub fn layer_error(e: LayerError) -> ApiError {
    match e {
        LayerError::TooLarge(limit) => ApiError::too_large(limit),
        LayerError::NoSpace(room) => ApiError::new(507, format!("{room}")),
        LayerError::BadTar(_) | LayerError::BadCompression(_) => ApiError::bad_request(format!("{e}")),
    }
}

/// `GET /images/json[?filters={"reference":{"PATTERN":true}}]`. Other filters are
/// refused rather than ignored.
pub fn list(conn: &Conn, head: &RequestHead) -> Handled {
    let patterns = match head.query("filters").filter(|f| !f.is_empty()) {
        Some(filters) => api::reference_filters(filters).map_err(ApiError::bad_request)?,
        None => Vec::new(),
    };
    let wanted = |i: &images::StoredImage| {
        patterns.is_empty()
            || i.tags.lock().iter().any(|t| patterns.iter().any(|p| berth_docker::names::reference_matches(p, t)))
    };
    let mut items: Vec<api::ImageSummary> =
        images::list().iter().filter(|i| wanted(i)).map(|i| inspect::image_summary(i)).collect();
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
    persist()?;
    conn.json(200, &items).map_err(ApiError::io)?;
    Ok(Next::Continue)
}

/// `POST /images/{name}/tag?repo=REPO&tag=TAG` (`docker tag`).
pub fn tag(conn: &Conn, head: &RequestHead, key: &str) -> Handled {
    let stored = find(key)?;
    let Some(tag) = import_tag(head)? else {
        return Err(ApiError::bad_request("repository name must have at least one component"));
    };
    if !berth_docker::names::valid_image_ref(&tag) {
        return Err(ApiError::bad_request(format!("invalid reference format: {tag}")));
    }
    images::tag(&stored, tag);
    persist()?;
    conn.respond(201, None, &[]).map_err(ApiError::io)?;
    Ok(Next::Continue)
}

/// `GET /images/{name}/history` (`docker history`): the configuration's steps, newest
/// first, each layer's size on the step that made it.
pub fn history(conn: &Conn, key: &str) -> Handled {
    let stored = find(key)?;
    let mut layers = stored.layers.iter();
    let seconds = |t: &Option<String>| {
        t.as_deref().and_then(berth_docker::time::parse_rfc3339).map_or(0, |ns| (ns / 1_000_000_000) as i64)
    };
    let mut rows: Vec<api::HistoryItem> = stored
        .config
        .history
        .iter()
        .map(|h| api::HistoryItem {
            id: String::from("<missing>"),
            created: seconds(&h.created),
            created_by: h.created_by.clone(),
            tags: None,
            size: if h.empty_layer { 0 } else { layers.next().map_or(0, |l| l.tree.bytes() as i64) },
            comment: h.comment.clone(),
        })
        .collect();
    rows.reverse();
    if let Some(top) = rows.first_mut() {
        top.id = format!("sha256:{}", stored.id);
        top.tags = Some(stored.tags.lock().clone());
    }
    conn.json(200, &rows).map_err(ApiError::io)?;
    Ok(Next::Continue)
}
