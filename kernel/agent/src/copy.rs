//! Files in and out of a container: `docker cp` (`GET`, `HEAD` and `PUT
//! /containers/{id}/archive?path=...`), `docker export`, and `docker commit` (its
//! changes as a new image's top layer).

use super::conn::Conn;
use super::error::ApiError;
use super::lookup;
use super::reply::{Handled, Next, no_content};
use crate::container::{Container, store};
use alloc::format;
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use base64::Engine;
use berth_docker::api;
use berth_docker::http::{Body, RequestHead};
use berth_vfs::{Filesystem, FsError, ImageBuilder, ImageLimits, Inode};

/// The HTTP error for a file system error while copying.
fn fs_error(path: &str, e: FsError) -> ApiError {
    match e {
        FsError::NotFound => ApiError::new(404, format!("Could not find the file {path} in container")),
        FsError::NoSpace => ApiError::new(507, format!("{path}: {e}")),
        FsError::BadImage(why) => ApiError::bad_request(format!("the archive: {why}")),
        FsError::IsDirectory => ApiError::bad_request(format!("{path}: cannot overwrite directory with non-directory")),
        FsError::NotDirectory => {
            ApiError::bad_request(format!("{path}: cannot overwrite non-directory with directory"))
        }
        FsError::ReadOnly => ApiError::new(403, format!("{path}: the volume is mounted read-only")),
        e => ApiError::internal(format!("{path}: {e}")),
    }
}

/// The `path` parameter, and what it names in `c` (symbolic links followed).
fn target(c: &Container, head: &RequestHead) -> Result<(String, Arc<Inode>), ApiError> {
    let path = head.query("path").filter(|p| !p.is_empty()).ok_or(ApiError::bad_request("path is required"))?;
    let path = String::from(path);
    let fs = &c.sandbox.fs;
    let inode = fs.lookup(&fs.root(), &path, true).map_err(|e| fs_error(&path, e))?;
    Ok((path, inode))
}

/// The base name `docker cp` gives what `path` names (`/` for the root).
fn base_name(path: &str) -> &str {
    path.trim_end_matches('/').rsplit('/').next().filter(|n| !n.is_empty() && *n != ".").unwrap_or("/")
}

/// The `X-Docker-Container-Path-Stat` header's value for `inode` at `path`.
fn path_stat(path: &str, inode: &Inode) -> String {
    let m = inode.metadata();
    let stat = api::PathStat {
        name: String::from(base_name(path)),
        size: m.size as i64,
        mode: api::go_file_mode(m.mode),
        mtime: berth_docker::time::rfc3339(m.mtime),
        link_target: inode.readlink().unwrap_or_default(),
    };
    base64::engine::general_purpose::STANDARD.encode(api::to_json(&stat))
}

/// `HEAD`, `GET` or `PUT /containers/{id}/archive?path=...`.
pub fn archive(conn: &mut Conn, head: &RequestHead, method: &str, key: &str, body: Body) -> Handled {
    let c = lookup::container(key)?;
    match method {
        "PUT" => put(conn, head, &c, body),
        _ => {
            let (path, inode) = target(&c, head)?;
            let stat = path_stat(&path, &inode);
            let headers = [("X-Docker-Container-Path-Stat", stat.as_str())];
            if method == "HEAD" {
                conn.respond_with(200, &headers, None, &[]).map_err(ApiError::io)?;
                return Ok(Next::Continue);
            }
            let (tar, _charge) = store::charged_archive(|room| c.sandbox.fs.archive_of(&inode, base_name(&path), room))
                .map_err(|e| fs_error(&path, e))?;
            conn.respond_with(200, &headers, Some("application/x-tar"), &tar).map_err(ApiError::io)?;
            Ok(Next::Continue)
        }
    }
}

/// `PUT /containers/{id}/archive?path=DIR`: the body, a tar archive, is unpacked into
/// the directory `DIR` of the container (files of the same names replaced).
fn put(conn: &mut Conn, head: &RequestHead, c: &Container, body: Body) -> Handled {
    let (path, dir) = target(c, head)?;
    if !dir.is_dir() {
        return Err(ApiError::bad_request(format!("extraction point is not a directory: {path}")));
    }
    let limit = super::settings().image_limit;
    let limits = ImageLimits { max_bytes: limit, ..ImageLimits::default() };
    let mut builder = ImageBuilder::new(limits);
    let mut parser = berth_tar::Parser::new(limit);
    let mut ended = false;
    conn.read_body(body, limit.saturating_add(1 << 20), None, |mut piece| {
        while !ended
            && let Some(event) =
                parser.next(&mut piece).map_err(|e| ApiError::bad_request(format!("the archive: {e}")))?
        {
            ended = builder.push(event).map_err(|e| fs_error(&path, e))?;
        }
        Ok(())
    })?;
    let upload = builder.finish().map_err(|e| fs_error(&path, e))?;
    let upload = Filesystem::new(&upload, None, crate::time::realtime_ns).map_err(|e| fs_error(&path, e))?;
    upload.merge_tree(&upload.root(), &c.sandbox.fs, &dir).map_err(|e| fs_error(&path, e))?;
    no_content(conn)
}

/// `GET /containers/{id}/export` (`docker export`): the container's whole tree as a tar
/// archive (volumes and `/proc` left out; their mount points stay, empty).
pub fn export(conn: &Conn, key: &str) -> Handled {
    let c = lookup::container(key)?;
    let (tar, _charge) = store::charged_archive(|room| c.sandbox.fs.archive(room)).map_err(|e| fs_error("/", e))?;
    conn.respond(200, Some("application/x-tar"), &tar).map_err(ApiError::io)?;
    Ok(Next::Continue)
}

/// What berth's set-up adds to every container's files at start, which `docker diff`
/// leaves out (Docker mounts these, so never lists them): trees, files, and
/// directories it adds to (listed only if something else in them changed).
const SETUP_TREES: [&str; 3] = ["/dev", "/proc", "/sys"];
const SETUP_FILES: [&str; 3] = ["/etc/hostname", "/etc/hosts", "/etc/resolv.conf"];
const SETUP_DIRS: [&str; 2] = ["/etc", "/tmp"];

/// `GET /containers/{id}/changes` (`docker diff`): the container's changes to its
/// image, path by path, without what berth's set-up adds (nor a directory changed
/// only by that).
pub fn changes(conn: &Conn, key: &str) -> Handled {
    use berth_vfs::PathChange;
    let c = lookup::container(key)?;
    let all = c.sandbox.fs.changed_paths(&c.image).map_err(|e| fs_error("/", e))?;
    let under = |dir: &str, path: &str| path.strip_prefix(dir).is_some_and(|rest| rest.starts_with('/'));
    let set_up = |path: &str| SETUP_FILES.contains(&path) || SETUP_TREES.iter().any(|t| path == *t || under(t, path));
    let kept: Vec<(String, PathChange)> = all.into_iter().filter(|(path, _)| !set_up(path)).collect();
    let changes: Vec<api::ContainerChange> = kept
        .iter()
        .filter(|(path, kind)| {
            let only_set_up = SETUP_DIRS.contains(&path.as_str())
                && *kind != PathChange::Deleted
                && !kept.iter().any(|(p, _)| under(path, p));
            !only_set_up
        })
        .map(|(path, kind)| {
            let kind = match kind {
                PathChange::Modified => 0,
                PathChange::Added => 1,
                PathChange::Deleted => 2,
            };
            api::ContainerChange { path: path.clone(), kind }
        })
        .collect();
    conn.json(200, &changes).map_err(ApiError::io)?;
    Ok(Next::Continue)
}

/// What a committed image runs: the container's own settings, then the request's
/// `changes` (`--change CMD ...`).
fn run_config_of(c: &Container, head: &RequestHead) -> Result<berth_oci::RunConfig, ApiError> {
    let entry = c.config.entrypoint_len.min(c.config.cmd.len());
    let (entrypoint, cmd) = c.config.cmd.split_at(entry);
    let mut run = berth_oci::RunConfig {
        user: c.config.user.clone(),
        exposed_ports: c.config.exposed_ports.iter().map(|p| (p.clone(), berth_oci::Empty {})).collect(),
        env: c.config.env.clone(),
        entrypoint: (!entrypoint.is_empty()).then(|| entrypoint.to_vec()),
        cmd: Some(cmd.to_vec()),
        working_dir: c.config.workdir.clone(),
        labels: c.config.labels.iter().cloned().collect(),
        ..berth_oci::RunConfig::default()
    };
    for change in head.query_all("changes") {
        berth_oci::changes::apply(&mut run, change).map_err(|e| ApiError::bad_request(format!("{e}")))?;
    }
    Ok(run)
}

/// `POST /commit?container=ID[&repo=NAME[&tag=TAG]][&comment=...][&author=...]
/// [&changes=...]` (`docker commit`): a new image of the container's image with its
/// changes (`Filesystem::changes_archive`, whiteouts for what it removed) as the top
/// layer. A running container is not paused while its files are read.
pub fn commit(conn: &Conn, head: &RequestHead) -> Handled {
    let key =
        head.query("container").filter(|k| !k.is_empty()).ok_or(ApiError::bad_request("container is required"))?;
    let c = lookup::container(key)?;
    let base = lookup::image_of(&c).ok_or_else(|| ApiError::conflict("the container's image has been removed"))?;
    let tag = super::images::import_tag(head)?;
    let run = run_config_of(&c, head)?;
    let (tar, _charge) =
        store::charged_archive(|room| c.sandbox.fs.changes_archive(&c.image, room)).map_err(|e| fs_error("/", e))?;
    let mut builder = crate::container::layers::LayerBuilder::new(super::settings().image_limit);
    builder.push(&tar).map_err(super::images::layer_error)?;
    let layer = builder.finish().map_err(super::images::layer_error)?;
    let (comment, author) = (head.query("comment").unwrap_or(""), head.query("author").unwrap_or(""));
    let image = crate::container::images::commit(&base, layer, run, comment, author, tag)
        .map_err(|e| ApiError::bad_request(format!("{e}")))?;
    super::images::persist()?;
    conn.json(201, &api::CreateResponse { id: format!("sha256:{}", image.id), warnings: Vec::new() })
        .map_err(ApiError::io)?;
    Ok(Next::Continue)
}
