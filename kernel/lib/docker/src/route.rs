//! Which endpoint a request is for: the Docker Engine API paths the agent serves.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// An endpoint, with its path parameters (container ids or names, image references) as
/// the client wrote them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    /// `GET` or `HEAD /_ping`.
    Ping,
    /// `GET /metrics` (Prometheus; not part of the Docker API).
    Metrics,
    /// `GET /version`.
    Version,
    /// `GET /info`.
    Info,
    /// `GET /events`.
    Events,
    /// `GET /system/df`.
    DiskUsage,
    /// `POST /commit?container=...` (`docker commit`).
    Commit,
    /// `GET /containers/json`.
    ContainerList,
    /// `POST /containers/create`.
    ContainerCreate,
    /// `POST /containers/prune`.
    ContainerPrune,
    /// `POST /containers/{id}/exec`.
    ContainerExec(String),
    /// `POST /containers/{id}/pause`.
    ContainerPause(String),
    /// `POST /containers/{id}/unpause`.
    ContainerUnpause(String),
    /// `POST /exec/{id}/start`.
    ExecStart(String),
    /// `POST /exec/{id}/resize`.
    ExecResize(String),
    /// `GET /exec/{id}/json`.
    ExecInspect(String),
    /// `GET /containers/{id}/json`.
    ContainerInspect(String),
    /// `POST /containers/{id}/start`.
    ContainerStart(String),
    /// `POST /containers/{id}/stop`.
    ContainerStop(String),
    /// `POST /containers/{id}/restart`.
    ContainerRestart(String),
    /// `POST /containers/{id}/update` (`docker update`).
    ContainerUpdate(String),
    /// `POST /containers/{id}/kill`.
    ContainerKill(String),
    /// `POST /containers/{id}/wait`.
    ContainerWait(String),
    /// `POST /containers/{id}/attach`.
    ContainerAttach(String),
    /// `GET /containers/{id}/logs`.
    ContainerLogs(String),
    /// `GET /containers/{id}/stats`.
    ContainerStats(String),
    /// `POST /containers/{id}/resize`.
    ContainerResize(String),
    /// `DELETE /containers/{id}`.
    ContainerRemove(String),
    /// `GET /containers/{id}/top`.
    ContainerTop(String),
    /// `POST /images/create` (import or pull).
    ImageCreate,
    /// `POST /images/load`.
    ImageLoad,
    /// `GET /images/json`.
    ImageList,
    /// `GET /images/{name}/json`; the name may hold `/` and `:`.
    ImageInspect(String),
    /// `DELETE /images/{name}`; the name may hold `/` and `:`.
    ImageRemove(String),
    /// `POST /images/{name}/tag?repo=&tag=`.
    ImageTag(String),
    /// `GET /images/{name}/history`.
    ImageHistory(String),
    /// `GET /images/get?names=...` (`docker save`), or `GET /images/{name}/get` for one.
    ImageSave(Option<String>),
    /// `/swarm`, `/nodes`, `/services`, `/tasks`, `/secrets`, `/configs`: swarm mode,
    /// which berth does not join (answered as dockerd answers on a node not in one).
    NotInSwarm,
    /// `GET /networks`.
    NetworkList,
    /// `POST /networks/create`.
    NetworkCreate,
    /// `POST /networks/prune`.
    NetworkPrune,
    /// `GET /networks/{id}`.
    NetworkInspect(String),
    /// `DELETE /networks/{id}`.
    NetworkRemove(String),
    /// `POST /networks/{id}/connect`.
    NetworkConnect(String),
    /// `POST /networks/{id}/disconnect`.
    NetworkDisconnect(String),
    /// `GET /volumes`.
    VolumeList,
    /// `POST /volumes/create`.
    VolumeCreate,
    /// `POST /volumes/prune`.
    VolumePrune,
    /// `GET /volumes/{name}`.
    VolumeInspect(String),
    /// `DELETE /volumes/{name}`.
    VolumeRemove(String),
    /// `POST /containers/{id}/rename?name=NEW`.
    ContainerRename(String),
    /// `GET /containers/{id}/export` (`docker export`).
    ContainerExport(String),
    /// `GET /containers/{id}/changes` (`docker diff`).
    ContainerChanges(String),
    /// `GET`, `HEAD` or `PUT /containers/{id}/archive?path=...` (`docker cp`): the
    /// method, then the container.
    ContainerArchive(String, String),
    /// A path the agent serves, with a method it does not serve there (405).
    MethodNotAllowed,
    /// A path the agent does not serve (404).
    NotFound,
}

/// The API version of a path's `/vMAJOR.MINOR` prefix (`/v1.50/info` gives `(1, 50)`),
/// if it has one.
pub fn api_version(path: &str) -> Option<(u32, u32)> {
    let (version, _) = split_version(path)?;
    Some(version)
}

/// The version of a `/vM.N` prefix and the path after it.
fn split_version(path: &str) -> Option<((u32, u32), &str)> {
    let rest = path.strip_prefix("/v")?;
    let end = rest.find('/').unwrap_or(rest.len());
    let (major, minor) = rest[..end].split_once('.')?;
    let number = |s: &str| s.bytes().all(|b| b.is_ascii_digit()).then(|| s.parse::<u32>().ok()).flatten();
    Some(((number(major)?, number(minor)?), &rest[end..]))
}

/// The endpoint for `method` on `path` (decoded, without the query). An API version
/// prefix (`/v1.50`) is stripped first; any version is accepted here.
pub fn route(method: &str, path: &str) -> Route {
    let path = split_version(path).map_or(path, |(_, rest)| rest);
    let Some(path) = path.strip_prefix('/') else { return Route::NotFound };
    if let Some(rest) = path.strip_prefix("images/") {
        return image_route(method, rest);
    }
    let segments: Vec<&str> = path.split('/').collect();
    if segments.iter().any(|s| s.is_empty()) {
        return Route::NotFound;
    }
    let only = |allowed: &[&str], route: Route| if allowed.contains(&method) { route } else { Route::MethodNotAllowed };
    match segments.as_slice() {
        ["_ping"] => only(&["GET", "HEAD"], Route::Ping),
        ["version"] => only(&["GET"], Route::Version),
        ["metrics"] => only(&["GET"], Route::Metrics),
        ["info"] => only(&["GET"], Route::Info),
        ["events"] => only(&["GET"], Route::Events),
        ["system", "df"] => only(&["GET"], Route::DiskUsage),
        ["commit"] => only(&["POST"], Route::Commit),
        // `DELETE /containers/{id}` takes any id, even `json` or `create`.
        ["containers", id] if method == "DELETE" => Route::ContainerRemove(id.to_string()),
        ["containers", "json"] => only(&["GET"], Route::ContainerList),
        ["containers", "create"] => only(&["POST"], Route::ContainerCreate),
        ["containers", "prune"] => only(&["POST"], Route::ContainerPrune),
        ["containers", _] => Route::MethodNotAllowed,
        ["containers", id, action] => container_action(method, id, action),
        ["exec", id, "start"] => only(&["POST"], Route::ExecStart(id.to_string())),
        ["exec", id, "resize"] => only(&["POST"], Route::ExecResize(id.to_string())),
        ["exec", id, "json"] => only(&["GET"], Route::ExecInspect(id.to_string())),
        ["volumes"] => only(&["GET"], Route::VolumeList),
        ["volumes", "create"] if method == "POST" => Route::VolumeCreate,
        ["volumes", "prune"] if method == "POST" => Route::VolumePrune,
        ["volumes", name] => match method {
            "GET" => Route::VolumeInspect(name.to_string()),
            "DELETE" => Route::VolumeRemove(name.to_string()),
            _ => Route::MethodNotAllowed,
        },
        // Swarm mode's objects: berth is a node that is not in a swarm.
        [first, ..] if matches!(*first, "swarm" | "nodes" | "services" | "tasks" | "secrets" | "configs") => {
            Route::NotInSwarm
        }
        ["networks"] => only(&["GET"], Route::NetworkList),
        ["networks", "create"] if method == "POST" => Route::NetworkCreate,
        ["networks", "prune"] if method == "POST" => Route::NetworkPrune,
        ["networks", id] => match method {
            "GET" => Route::NetworkInspect(id.to_string()),
            "DELETE" => Route::NetworkRemove(id.to_string()),
            _ => Route::MethodNotAllowed,
        },
        ["networks", id, "connect"] => only(&["POST"], Route::NetworkConnect(id.to_string())),
        ["networks", id, "disconnect"] => only(&["POST"], Route::NetworkDisconnect(id.to_string())),
        _ => Route::NotFound,
    }
}

/// `/containers/{id}/{action}`.
fn container_action(method: &str, id: &str, action: &str) -> Route {
    let id = id.to_string();
    if action == "archive" {
        return match method {
            "GET" | "HEAD" | "PUT" => Route::ContainerArchive(method.to_string(), id),
            _ => Route::MethodNotAllowed,
        };
    }
    let (allowed, route) = match action {
        "json" => ("GET", Route::ContainerInspect(id)),
        "start" => ("POST", Route::ContainerStart(id)),
        "stop" => ("POST", Route::ContainerStop(id)),
        "restart" => ("POST", Route::ContainerRestart(id)),
        "update" => ("POST", Route::ContainerUpdate(id)),
        "kill" => ("POST", Route::ContainerKill(id)),
        "wait" => ("POST", Route::ContainerWait(id)),
        "attach" => ("POST", Route::ContainerAttach(id)),
        "logs" => ("GET", Route::ContainerLogs(id)),
        "stats" => ("GET", Route::ContainerStats(id)),
        "resize" => ("POST", Route::ContainerResize(id)),
        "top" => ("GET", Route::ContainerTop(id)),
        "rename" => ("POST", Route::ContainerRename(id)),
        "export" => ("GET", Route::ContainerExport(id)),
        "changes" => ("GET", Route::ContainerChanges(id)),
        "exec" => ("POST", Route::ContainerExec(id)),
        "pause" => ("POST", Route::ContainerPause(id)),
        "unpause" => ("POST", Route::ContainerUnpause(id)),
        _ => return Route::NotFound,
    };
    if method == allowed { route } else { Route::MethodNotAllowed }
}

/// `/images/...`, where an image name runs over several segments
/// (`/images/library/busybox:latest/json`). As in the Docker daemon's router,
/// `DELETE /images/{name}` takes any name, so every other path under `/images/` is one
/// the agent serves and a wrong method there is 405.
fn image_route(method: &str, rest: &str) -> Route {
    if rest.is_empty() || rest.split('/').any(str::is_empty) {
        return Route::NotFound;
    }
    match (method, rest) {
        ("DELETE", name) => Route::ImageRemove(name.to_string()),
        ("GET", "json") => Route::ImageList,
        ("POST", "create") => Route::ImageCreate,
        ("POST", "load") => Route::ImageLoad,
        ("GET", "get") => Route::ImageSave(None),
        ("GET", _) => {
            if let Some(name) = rest.strip_suffix("/json") {
                Route::ImageInspect(name.to_string())
            } else if let Some(name) = rest.strip_suffix("/history") {
                Route::ImageHistory(name.to_string())
            } else if let Some(name) = rest.strip_suffix("/get") {
                Route::ImageSave(Some(name.to_string()))
            } else {
                Route::MethodNotAllowed
            }
        }
        ("POST", _) => match rest.strip_suffix("/tag") {
            Some(name) => Route::ImageTag(name.to_string()),
            None => Route::MethodNotAllowed,
        },
        _ => Route::MethodNotAllowed,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::format;

    fn both(method: &str, path: &str) -> Route {
        let plain = route(method, path);
        for prefix in ["/v1.50", "/v1.24", "/v1.41", "/v1.5", "/v2.0"] {
            assert_eq!(route(method, &format!("{prefix}{path}")), plain, "{prefix}{path}");
        }
        plain
    }

    #[test]
    fn every_endpoint() {
        let id = || "4e1c7b3b2a5f".to_string();
        let cases = [
            ("GET", "/_ping", Route::Ping),
            ("HEAD", "/_ping", Route::Ping),
            ("GET", "/metrics", Route::Metrics),
            ("GET", "/version", Route::Version),
            ("GET", "/info", Route::Info),
            ("GET", "/events", Route::Events),
            ("GET", "/system/df", Route::DiskUsage),
            ("POST", "/commit", Route::Commit),
            ("GET", "/containers/json", Route::ContainerList),
            ("POST", "/containers/create", Route::ContainerCreate),
            ("GET", "/containers/4e1c7b3b2a5f/json", Route::ContainerInspect(id())),
            ("POST", "/containers/4e1c7b3b2a5f/start", Route::ContainerStart(id())),
            ("POST", "/containers/4e1c7b3b2a5f/stop", Route::ContainerStop(id())),
            ("POST", "/containers/4e1c7b3b2a5f/restart", Route::ContainerRestart(id())),
            ("POST", "/containers/4e1c7b3b2a5f/kill", Route::ContainerKill(id())),
            ("POST", "/containers/4e1c7b3b2a5f/wait", Route::ContainerWait(id())),
            ("POST", "/containers/4e1c7b3b2a5f/attach", Route::ContainerAttach(id())),
            ("GET", "/containers/4e1c7b3b2a5f/logs", Route::ContainerLogs(id())),
            ("GET", "/containers/4e1c7b3b2a5f/stats", Route::ContainerStats(id())),
            ("POST", "/containers/4e1c7b3b2a5f/resize", Route::ContainerResize(id())),
            ("GET", "/containers/4e1c7b3b2a5f/top", Route::ContainerTop(id())),
            ("DELETE", "/containers/4e1c7b3b2a5f", Route::ContainerRemove(id())),
            ("GET", "/containers/web/json", Route::ContainerInspect("web".to_string())),
            ("POST", "/images/create", Route::ImageCreate),
            ("POST", "/images/load", Route::ImageLoad),
            ("GET", "/images/json", Route::ImageList),
            ("GET", "/images/busybox/json", Route::ImageInspect("busybox".to_string())),
            ("GET", "/images/img:tag/json", Route::ImageInspect("img:tag".to_string())),
            ("GET", "/images/library/busybox:latest/json", Route::ImageInspect("library/busybox:latest".to_string())),
            (
                "GET",
                "/images/localhost:5000/team/app:1.2/json",
                Route::ImageInspect("localhost:5000/team/app:1.2".to_string()),
            ),
            ("GET", "/images/sha256:0123abcd/json", Route::ImageInspect("sha256:0123abcd".to_string())),
            ("DELETE", "/images/img", Route::ImageRemove("img".to_string())),
            ("POST", "/images/localhost:5000/app:1/tag", Route::ImageTag("localhost:5000/app:1".to_string())),
            ("GET", "/images/busybox/history", Route::ImageHistory("busybox".to_string())),
            ("GET", "/images/get", Route::ImageSave(None)),
            ("GET", "/images/team/app:2/get", Route::ImageSave(Some("team/app:2".to_string()))),
            ("DELETE", "/images/library/busybox:latest", Route::ImageRemove("library/busybox:latest".to_string())),
            ("DELETE", "/images/localhost:5000/x:y", Route::ImageRemove("localhost:5000/x:y".to_string())),
            ("POST", "/containers/web/rename", Route::ContainerRename("web".to_string())),
            ("POST", "/containers/prune", Route::ContainerPrune),
            ("POST", "/containers/web/exec", Route::ContainerExec("web".to_string())),
            ("POST", "/containers/web/pause", Route::ContainerPause("web".to_string())),
            ("POST", "/containers/web/unpause", Route::ContainerUnpause("web".to_string())),
            ("POST", "/exec/e1/start", Route::ExecStart("e1".to_string())),
            ("POST", "/exec/e1/resize", Route::ExecResize("e1".to_string())),
            ("GET", "/exec/e1/json", Route::ExecInspect("e1".to_string())),
            ("GET", "/containers/web/export", Route::ContainerExport("web".to_string())),
            ("GET", "/containers/web/changes", Route::ContainerChanges("web".to_string())),
            ("GET", "/containers/web/archive", Route::ContainerArchive("GET".to_string(), "web".to_string())),
            ("HEAD", "/containers/web/archive", Route::ContainerArchive("HEAD".to_string(), "web".to_string())),
            ("PUT", "/containers/web/archive", Route::ContainerArchive("PUT".to_string(), "web".to_string())),
            ("GET", "/volumes", Route::VolumeList),
            ("POST", "/volumes/create", Route::VolumeCreate),
            ("POST", "/volumes/prune", Route::VolumePrune),
            ("GET", "/volumes/data", Route::VolumeInspect("data".to_string())),
            ("GET", "/volumes/create", Route::VolumeInspect("create".to_string())),
            ("DELETE", "/volumes/data", Route::VolumeRemove("data".to_string())),
            ("GET", "/networks", Route::NetworkList),
            ("POST", "/networks/create", Route::NetworkCreate),
            ("POST", "/networks/prune", Route::NetworkPrune),
            ("GET", "/networks/front", Route::NetworkInspect("front".to_string())),
            ("DELETE", "/networks/front", Route::NetworkRemove("front".to_string())),
            ("POST", "/networks/front/connect", Route::NetworkConnect("front".to_string())),
            ("POST", "/networks/front/disconnect", Route::NetworkDisconnect("front".to_string())),
            ("POST", "/swarm/leave", Route::NotInSwarm),
            ("GET", "/swarm", Route::NotInSwarm),
            ("GET", "/services", Route::NotInSwarm),
            ("GET", "/nodes/x", Route::NotInSwarm),
        ];
        for (method, path, want) in cases {
            assert_eq!(both(method, path), want, "{method} {path}");
        }
    }

    #[test]
    fn wrong_methods() {
        for (method, path) in [
            ("POST", "/_ping"),
            ("DELETE", "/version"),
            ("POST", "/info"),
            ("POST", "/containers/json"),
            ("GET", "/containers/create"),
            ("GET", "/containers/web"),
            ("POST", "/containers/web"),
            ("POST", "/containers/web/json"),
            ("GET", "/containers/web/start"),
            ("DELETE", "/containers/web/stop"),
            ("GET", "/containers/web/kill"),
            ("GET", "/containers/web/wait"),
            ("GET", "/containers/web/attach"),
            ("POST", "/containers/web/logs"),
            ("POST", "/containers/web/stats"),
            ("GET", "/containers/web/resize"),
            ("POST", "/containers/web/top"),
            ("GET", "/containers/web/restart"),
            ("POST", "/images/json"),
            ("GET", "/images/create"),
            ("GET", "/images/load"),
            ("POST", "/images/busybox/json"),
            ("GET", "/images/busybox"),
            ("HEAD", "/version"),
            ("get", "/version"),
            ("POST", "/volumes"),
            ("POST", "/volumes/data"),
            ("GET", "/containers/web/rename"),
            ("POST", "/containers/web/archive"),
            ("POST", "/containers/web/export"),
            ("GET", "/exec/e1/start"),
            ("POST", "/exec/e1/json"),
        ] {
            assert_eq!(both(method, path), Route::MethodNotAllowed, "{method} {path}");
        }
    }

    #[test]
    fn unknown_paths() {
        for (method, path) in [
            ("GET", "/"),
            ("GET", ""),
            ("GET", "_ping"),
            ("GET", "/_ping/"),
            ("GET", "/nope"),
            ("GET", "/containers"),
            ("GET", "/containers/"),
            ("GET", "/containers//json"),
            ("GET", "/containers/json/"),
            ("GET", "/containers/web/json/extra"),
            ("GET", "/images"),
            ("GET", "/images/"),
            ("GET", "/images//json"),
            ("DELETE", "/images/a//b"),
            ("GET", "/networks/x/y"),
            ("GET", "/networks//connect"),
            ("GET", "/volumes/"),
            ("GET", "/volumes/a/b"),
        ] {
            assert_eq!(both(method, path), Route::NotFound, "{method} {path:?}");
        }
        assert_eq!(route("GET", "/v1.50"), Route::NotFound);
        assert_eq!(route("GET", "/v1.50/"), Route::NotFound);
    }

    #[test]
    fn delete_takes_any_name() {
        assert_eq!(route("DELETE", "/containers/json"), Route::ContainerRemove("json".to_string()));
        assert_eq!(route("DELETE", "/v1.50/containers/create"), Route::ContainerRemove("create".to_string()));
        assert_eq!(route("DELETE", "/images/json"), Route::ImageRemove("json".to_string()));
        assert_eq!(route("DELETE", "/images/x/json"), Route::ImageRemove("x/json".to_string()));
    }

    #[test]
    fn version_prefixes() {
        assert_eq!(api_version("/v1.50/containers/json"), Some((1, 50)));
        assert_eq!(api_version("/v1.24/_ping"), Some((1, 24)));
        assert_eq!(api_version("/v1.5"), Some((1, 5)));
        assert_eq!(api_version("/v10.100/info"), Some((10, 100)));
        for none in [
            "/_ping",
            "/v1/info",
            "/v.50/info",
            "/v1./info",
            "/va.b/info",
            "/v1.50x/info",
            "/v+1.5/info",
            "v1.50/info",
            "/version",
        ] {
            assert_eq!(api_version(none), None, "{none}");
        }
        // A path that only looks like a prefix is routed as it stands.
        assert_eq!(route("GET", "/v1/info"), Route::NotFound);
        assert_eq!(route("GET", "/version"), Route::Version);
    }
}
