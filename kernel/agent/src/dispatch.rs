//! The request loop of a connection: read a request, check its token, route it, answer,
//! and go on while the connection stays open.

use super::conn::Conn;
use super::error::ApiError;
use super::reply::{Handled, Next};
use super::{Auth, Slot};
use super::{archive, containers, copy, events, exec, images, metrics, networks, processes, streams, system, volumes};
use berth_docker::http::RequestHead;
use berth_docker::route::{Route, route};

/// Serves requests on `conn` until the client, an error or the listener (making room,
/// see `Slot`) ends it.
pub fn serve(mut conn: Conn, slot: &Slot) {
    loop {
        slot.set_waiting(true);
        let head = match conn.read_head(&|| slot.evicted()) {
            Ok(Some(head)) => head,
            Ok(None) => return,
            Err(e) => {
                conn.close_after();
                if conn.error(&e).is_ok() {
                    conn.linger();
                }
                return;
            }
        };
        slot.set_waiting(false);
        if !head.keep_alive() {
            conn.close_after();
        }
        let handled = handle(&mut conn, &head);
        metrics::note_request(handled.as_ref().map_or_else(|e| e.status, |_| 200));
        match handled {
            Ok(Next::Continue) => {}
            Ok(Next::Stop) => return,
            Err(e) => {
                // Past a failed upload the rest of its body is still in flight: close.
                if matches!(e.status, 400 | 408 | 413) {
                    conn.close_after();
                }
                if conn.error(&e).is_err() {
                    return;
                }
                if conn.closing() {
                    conn.linger();
                    return;
                }
            }
        }
        if conn.closing() {
            return;
        }
    }
}

/// Whether the request may use the agent: it carries the configured token (compared
/// in constant time), in one `Authorization` field only.
fn authorize(head: &RequestHead) -> Result<(), ApiError> {
    if head.header_count("authorization") > 1 {
        return Err(ApiError::bad_request("more than one Authorization header"));
    }
    let Auth::Token(token) = &super::settings().auth else { return Ok(()) };
    let given = head.header("authorization").and_then(|v| v.strip_prefix("Bearer ")).map(str::trim);
    if given.is_some_and(|g| same_secret(g.as_bytes(), token.as_bytes())) {
        Ok(())
    } else {
        Err(ApiError::new(401, "authentication required: send `Authorization: Bearer <token>` (the agent-token)"))
    }
}

/// Whether `a` and `b` are equal, taking as long whatever bytes differ.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn handle(conn: &mut Conn, head: &RequestHead) -> Handled {
    let body = head.body().map_err(ApiError::bad_http)?;
    if let Err(e) = authorize(head) {
        conn.close_after();
        return Err(e);
    }
    let target = route(&head.method, &head.path);
    // Uploads stream their bodies; everything else has at most a small JSON body.
    let json = match target {
        Route::ImageCreate | Route::ImageLoad => None,
        Route::ContainerArchive(ref method, _) if method == "PUT" => None,
        _ => Some(conn.read_body_bytes(body, crate::param::AGENT_MAX_JSON)?),
    };
    let json = json.as_deref().unwrap_or_default();
    match target {
        Route::Ping => system::ping(conn, head),
        Route::Metrics => metrics::metrics(conn),
        Route::Version => system::version(conn),
        Route::Info => system::info(conn),
        Route::Events => events::stream(conn, head),
        Route::DiskUsage => system::disk_usage(conn),
        Route::Commit => copy::commit(conn, head),
        Route::ContainerList => containers::list(conn, head),
        Route::ContainerCreate => containers::create(conn, head, json),
        Route::ContainerPrune => containers::prune(conn, head),
        Route::ContainerInspect(id) => containers::inspect(conn, &id),
        Route::ContainerStart(id) => containers::start(conn, &id),
        Route::ContainerStop(id) => containers::stop(conn, head, &id),
        Route::ContainerRestart(id) => containers::restart(conn, head, &id),
        Route::ContainerUpdate(id) => containers::update(conn, &id, json),
        Route::ContainerKill(id) => containers::kill(conn, head, &id),
        Route::ContainerWait(id) => containers::wait(conn, head, &id),
        Route::ContainerRemove(id) => containers::remove(conn, head, &id),
        Route::ContainerResize(id) => containers::resize(conn, head, &id),
        Route::ContainerTop(id) => processes::top(conn, head, &id),
        Route::ContainerPause(id) => processes::pause(conn, &id),
        Route::ContainerUnpause(id) => processes::unpause(conn, &id),
        Route::ContainerAttach(id) => streams::attach(conn, head, &id),
        Route::ContainerLogs(id) => streams::logs(conn, head, &id),
        Route::ContainerStats(id) => streams::stats(conn, head, &id),
        Route::ImageCreate => images::create(conn, head, body),
        Route::ImageLoad => archive::load(conn, body),
        Route::ImageList => images::list(conn, head),
        Route::ImageInspect(name) => images::inspect(conn, &name),
        Route::ImageRemove(name) => images::remove(conn, head, &name),
        Route::ImageTag(name) => images::tag(conn, head, &name),
        Route::ImageHistory(name) => images::history(conn, &name),
        Route::ImageSave(name) => archive::save(conn, head, name.as_deref()),
        Route::ContainerRename(id) => containers::rename(conn, head, &id),
        Route::ContainerExport(id) => copy::export(conn, &id),
        Route::ContainerChanges(id) => copy::changes(conn, &id),
        Route::ContainerExec(id) => exec::create(conn, &id, json),
        Route::ExecStart(id) => exec::start(conn, head, &id, json),
        Route::ExecInspect(id) => exec::inspect(conn, &id),
        Route::ExecResize(id) => exec::resize(conn, head, &id),
        Route::ContainerArchive(method, id) => copy::archive(conn, head, &method, &id, body),
        Route::NetworkList => networks::list(conn, head),
        Route::NetworkCreate => networks::create(conn, json),
        Route::NetworkPrune => networks::prune(conn, head),
        Route::NetworkInspect(id) => networks::inspect(conn, &id),
        Route::NetworkRemove(id) => networks::remove(conn, &id),
        Route::NetworkConnect(id) => networks::connect(conn, &id, json),
        Route::NetworkDisconnect(id) => networks::disconnect(conn, &id, json),
        Route::VolumeList => volumes::list(conn, head),
        Route::VolumeCreate => volumes::create(conn, json),
        Route::VolumePrune => volumes::prune(conn, head),
        Route::VolumeInspect(name) => volumes::inspect(conn, &name),
        Route::VolumeRemove(name) => volumes::remove(conn, head, &name),
        // As dockerd on a node in no swarm (clients such as docker-py look for 503).
        Route::NotInSwarm => Err(ApiError::new(
            503,
            "This node is not a swarm manager. berth does not run swarm mode (leave: this node is not part of a swarm)",
        )),
        Route::MethodNotAllowed => Err(ApiError::new(405, "method not allowed")),
        Route::NotFound => Err(ApiError::new(404, "page not found")),
    }
}
