//! Each request of the docker CLI 28 sequences in the project's Docker API notes, parsed
//! and routed as the agent will: head, endpoint, and the query values the agent reads.

use alloc::format;
use alloc::string::{String, ToString};

use crate::http::{Body, RequestHead, parse_head};
use crate::route::{Route, api_version, route};
use crate::signal;

const ID: &str = "4e1c7b3b2a5f0d9e8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d";

/// A request head as the CLI writes it, with `extra` header lines.
fn cli(method: &str, target: &str, extra: &[&str]) -> (RequestHead, Route) {
    let mut text = format!(
        "{method} {target} HTTP/1.1\r\nHost: api.moby.localhost\r\nUser-Agent: Docker-Client/28.2.2 (linux)\r\n"
    );
    for line in extra {
        text.push_str(line);
        text.push_str("\r\n");
    }
    text.push_str("\r\n");
    let (head, used) = parse_head(text.as_bytes()).unwrap().unwrap();
    assert_eq!(used, text.len());
    let r = route(&head.method, &head.path);
    (head, r)
}

fn s(text: &str) -> String {
    text.to_string()
}

#[test]
fn version_negotiation() {
    let (head, r) = cli("HEAD", "/_ping", &[]);
    assert_eq!((r, head.body()), (Route::Ping, Ok(Body::None)));
    assert_eq!(cli("GET", "/_ping", &[]).1, Route::Ping);
    let (head, r) = cli("GET", "/v1.50/version", &[]);
    assert_eq!((r, api_version(&head.path)), (Route::Version, Some((1, 50))));
    assert_eq!(cli("GET", "/v1.50/info", &[]).1, Route::Info);
}

#[test]
fn ps_images_and_import() {
    let (head, r) = cli("GET", "/v1.50/containers/json?all=1", &[]);
    assert_eq!(r, Route::ContainerList);
    assert!(head.query_flag("all"));
    assert!(!cli("GET", "/v1.50/containers/json", &[]).0.query_flag("all"));
    assert_eq!(cli("GET", "/v1.50/images/json", &[]).1, Route::ImageList);
    let (head, r) = cli(
        "POST",
        "/v1.50/images/create?fromSrc=-&repo=img%3Atag",
        &["Content-Type: text/plain", "Transfer-Encoding: chunked"],
    );
    assert_eq!(r, Route::ImageCreate);
    assert_eq!((head.query("fromSrc"), head.query("repo")), (Some("-"), Some("img:tag")));
    assert_eq!(head.body(), Ok(Body::Chunked));
    let (head, r) =
        cli("POST", "/v1.50/images/load?quiet=1", &["Content-Type: application/x-tar", "Transfer-Encoding: chunked"]);
    assert_eq!(r, Route::ImageLoad);
    assert!(head.query_flag("quiet"));
    assert_eq!(head.body(), Ok(Body::Chunked));
}

#[test]
fn run_attached() {
    let (head, r) =
        cli("POST", "/v1.50/containers/create?name=web", &["Content-Length: 1432", "Content-Type: application/json"]);
    assert_eq!((r, head.query("name")), (Route::ContainerCreate, Some("web")));
    assert_eq!(head.body(), Ok(Body::Length(1432)));
    let (head, r) = cli(
        "POST",
        &format!("/v1.50/containers/{ID}/attach?stderr=1&stdout=1&stream=1"),
        &["Content-Length: 0", "Connection: Upgrade", "Content-Type: text/plain", "Upgrade: tcp"],
    );
    assert_eq!(r, Route::ContainerAttach(s(ID)));
    assert!(head.upgrade() && head.query_flag("stream") && !head.query_flag("stdin"));
    let (head, r) = cli("POST", &format!("/v1.50/containers/{ID}/wait?condition=removed"), &[]);
    assert_eq!((r, head.query("condition")), (Route::ContainerWait(s(ID)), Some("removed")));
    assert_eq!(cli("POST", &format!("/v1.50/containers/{ID}/start"), &[]).1, Route::ContainerStart(s(ID)));
    let (head, r) = cli("POST", &format!("/v1.50/containers/{ID}/resize?h=24&w=80"), &[]);
    assert_eq!((r, head.query("h"), head.query("w")), (Route::ContainerResize(s(ID)), Some("24"), Some("80")));
}

#[test]
fn lifecycle() {
    assert_eq!(cli("POST", "/v1.50/containers/web/start", &[]).1, Route::ContainerStart(s("web")));
    let (head, r) = cli("POST", "/v1.50/containers/web/stop?t=5", &[]);
    assert_eq!((r, head.query("t")), (Route::ContainerStop(s("web")), Some("5")));
    let (head, r) = cli("POST", "/v1.50/containers/w2/kill?signal=TERM", &[]);
    assert_eq!(r, Route::ContainerKill(s("w2")));
    assert_eq!(head.query("signal").and_then(signal::parse), Some(15));
    let (head, r) = cli("DELETE", "/v1.50/containers/web?force=1", &[]);
    assert_eq!(r, Route::ContainerRemove(s("web")));
    assert!(head.query_flag("force"));
    let (head, r) = cli("DELETE", "/v1.50/images/img?force=1", &[]);
    assert_eq!((r, head.query_flag("force")), (Route::ImageRemove(s("img")), true));
}

#[test]
fn logs_inspect_and_stats() {
    assert_eq!(cli("GET", "/v1.50/containers/web/json", &[]).1, Route::ContainerInspect(s("web")));
    let (head, r) = cli("GET", &format!("/v1.50/containers/{ID}/logs?stderr=1&stdout=1&tail=all&follow=1"), &[]);
    assert_eq!(r, Route::ContainerLogs(s(ID)));
    assert_eq!((head.query("tail"), head.query_flag("follow")), (Some("all"), true));
    // `docker inspect x` tries the image after a 404, then other objects, then /info.
    assert_eq!(cli("GET", "/v1.50/images/x/json", &[]).1, Route::ImageInspect(s("x")));
    assert_eq!(cli("GET", "/v1.50/networks/x", &[]).1, Route::NetworkInspect(s("x")));
    assert_eq!(cli("GET", "/v1.50/volumes/x", &[]).1, Route::VolumeInspect("x".to_string()));
    assert_eq!(cli("GET", "/v1.50/plugins/x/json", &[]).1, Route::NotFound);
    let (head, r) = cli("GET", "/v1.50/events?filters=%7B%22type%22%3A%7B%22container%22%3Atrue%7D%7D", &[]);
    assert_eq!((r, head.query("filters")), (Route::Events, Some(r#"{"type":{"container":true}}"#)));
    let (head, r) = cli("GET", "/v1.50/containers/4e1c7b3b2a5f/stats?stream=0", &[]);
    assert_eq!(r, Route::ContainerStats(s("4e1c7b3b2a5f")));
    assert!(!head.query_flag("stream"));
}
