//! Volume endpoints: `docker volume create|ls|inspect|rm|prune`.

use super::conn::Conn;
use super::error::ApiError;
use super::reply::{Handled, Next, no_content};
use crate::container::volumes::{self, Volume, VolumeError};
use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::vec::Vec;
use berth_docker::api;
use berth_docker::http::RequestHead;

impl From<VolumeError> for ApiError {
    /// 400 for a bad name or option, 404 for a missing volume, 409 for one in use, 507
    /// for a full store, 500 otherwise.
    fn from(e: VolumeError) -> ApiError {
        let status = match &e {
            VolumeError::BadName(_) | VolumeError::BadOption(_) => 400,
            VolumeError::NotFound(_) => 404,
            VolumeError::InUse(..) => 409,
            VolumeError::Store(berth_store::StoreError::Full { .. }) => 507,
            VolumeError::FileSystem(berth_vfs::FsError::NoSpace) => 507,
            VolumeError::Store(_) | VolumeError::FileSystem(_) => 500,
        };
        ApiError::new(status, alloc::format!("{e}"))
    }
}

/// A volume as the API shows it.
pub fn shown(v: &Volume) -> api::Volume {
    api::Volume {
        name: v.name.clone(),
        driver: String::from("local"),
        mountpoint: api::Volume::mountpoint(&v.name),
        created_at: berth_docker::time::rfc3339(v.created_at),
        labels: v.labels.iter().cloned().collect(),
        scope: String::from("local"),
        options: v.options.iter().cloned().collect(),
        usage_data: None,
    }
}

fn filter_of(head: &RequestHead) -> Result<api::VolumeFilter, ApiError> {
    match head.query("filters").filter(|f| !f.is_empty()) {
        Some(f) => api::VolumeFilter::parse(f).map_err(ApiError::bad_request),
        None => Ok(api::VolumeFilter::default()),
    }
}

fn labels_of(v: &Volume) -> BTreeMap<String, String> {
    v.labels.iter().cloned().collect()
}

/// `GET /volumes[?filters=...]`.
pub fn list(conn: &Conn, head: &RequestHead) -> Handled {
    let filter = filter_of(head)?;
    let shown: Vec<api::Volume> = volumes::list()
        .iter()
        .filter(|v| filter.matches(&v.name, &labels_of(v), !volumes::users(&v.name).is_empty()))
        .map(|v| shown(v))
        .collect();
    conn.json(200, &api::VolumeList { volumes: shown, warnings: Vec::new() }).map_err(ApiError::io)?;
    Ok(Next::Continue)
}

/// `POST /volumes/create`: a new volume, or the existing one of that name (as Docker).
pub fn create(conn: &Conn, body: &[u8]) -> Handled {
    let req: api::VolumeCreate = api::from_json(body).map_err(ApiError::bad_json)?;
    if !matches!(req.driver.as_str(), "" | "local") {
        return Err(ApiError::new(
            404,
            alloc::format!(
                "error looking up volume plugin {}: plugin \"{}\" not found (berth has the local driver only)",
                req.driver,
                req.driver
            ),
        ));
    }
    let name = (!req.name.is_empty()).then_some(req.name.as_str());
    let (volume, _) = volumes::create(name, req.labels.into_iter().collect(), req.driver_opts.into_iter().collect())?;
    conn.json(201, &shown(&volume)).map_err(ApiError::io)?;
    Ok(Next::Continue)
}

/// `GET /volumes/{name}`.
pub fn inspect(conn: &Conn, name: &str) -> Handled {
    let volume = volumes::get(name).ok_or_else(|| ApiError::from(VolumeError::NotFound(String::from(name))))?;
    conn.json(200, &shown(&volume)).map_err(ApiError::io)?;
    Ok(Next::Continue)
}

/// `DELETE /volumes/{name}[?force=1]`.
pub fn remove(conn: &Conn, head: &RequestHead, name: &str) -> Handled {
    volumes::remove(name, head.query_flag("force"))?;
    no_content(conn)
}

/// `POST /volumes/prune[?filters=...]`: removes the unused anonymous volumes (named
/// ones too with `all=true`) that pass the filter.
pub fn prune(conn: &Conn, head: &RequestHead) -> Handled {
    let filter = filter_of(head)?;
    let mut report = api::VolumePruneReport::default();
    for v in volumes::list() {
        let unused = volumes::users(&v.name).is_empty();
        if unused && (v.anonymous || filter.all) && filter.matches(&v.name, &labels_of(&v), false) {
            let bytes = v.fs.archive_len().unwrap_or(0);
            match volumes::remove(&v.name, false) {
                Ok(()) => {
                    report.volumes_deleted.push(v.name.clone());
                    report.space_reclaimed += bytes;
                }
                Err(e) => log::warn!("volume {}: not pruned: {e}", v.name),
            }
        }
    }
    conn.json(200, &report).map_err(ApiError::io)?;
    Ok(Next::Continue)
}
