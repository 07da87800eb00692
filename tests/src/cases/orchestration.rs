//! The Engine API calls Nomad's Docker task driver makes through a task's life
//! (`docs/orchestration.md` lists them from Nomad's source and says what berth
//! answers), replayed by hand in the same order with the same parameters and bodies,
//! each answer checked against what the document says.

use super::agent::{CLI, busybox_tar, expect, save_console};
use crate::artifacts::Artifacts;
use crate::docker::{Docker, TEST_TOKEN};
use crate::qemu::{Vm, free_port};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

/// The allocation the replayed task belongs to.
const ALLOC: &str = "5b3e1f7c-9a2d-4c61-8f0e-2d7a6b9c1e44";

/// An HTTP client of the agent that speaks as Moby's Go client does.
struct Api {
    port: u16,
}

/// A reply: status and body (de-chunked).
struct Reply {
    status: u16,
    body: Vec<u8>,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
}

impl Api {
    fn call(&self, method: &str, path: &str, body: Option<(&str, &[u8])>) -> Result<Reply, String> {
        let mut s = TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(Duration::from_secs(30))).map_err(|e| e.to_string())?;
        let mut head = format!(
            "{method} {path} HTTP/1.1\r\nHost: api.moby.localhost\r\nUser-Agent: Go-http-client/1.1\r\n\
             Authorization: Bearer {TEST_TOKEN}\r\nConnection: close\r\n"
        );
        if let Some((kind, bytes)) = body {
            head.push_str(&format!("Content-Type: {kind}\r\nContent-Length: {}\r\n", bytes.len()));
        }
        head.push_str("\r\n");
        s.write_all(head.as_bytes()).map_err(|e| e.to_string())?;
        if let Some((_, bytes)) = body {
            s.write_all(bytes).map_err(|e| e.to_string())?;
        }
        let mut reply = Vec::new();
        let _ = s.read_to_end(&mut reply);
        let split = reply.windows(4).position(|w| w == b"\r\n\r\n").ok_or(format!("{method} {path}: no reply"))?;
        let head = String::from_utf8_lossy(&reply[..split]).to_lowercase();
        let status = head.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
        let raw = &reply[split + 4..];
        let body = if head.contains("transfer-encoding: chunked") { dechunk(raw) } else { raw.to_vec() };
        Ok(Reply { status, body })
    }

    fn json(&self, method: &str, path: &str, body: &Value) -> Result<Reply, String> {
        self.call(method, path, Some(("application/json", body.to_string().as_bytes())))
    }
}

fn dechunk(mut raw: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    while let Some(end) = raw.windows(2).position(|w| w == b"\r\n") {
        let size = usize::from_str_radix(String::from_utf8_lossy(&raw[..end]).trim(), 16).unwrap_or(0);
        if size == 0 || raw.len() < end + 2 + size {
            break;
        }
        out.extend_from_slice(&raw[end + 2..end + 2 + size]);
        raw = &raw[(end + 4 + size).min(raw.len())..];
    }
    out
}

/// The create body Nomad's driver sends for a task (`createContainerConfig`), with
/// `binds` as its `HostConfig.Binds`.
fn task_body(binds: &[String], network_mode: &str) -> Value {
    json!({
        "Image": "bb:latest",
        "Cmd": ["/bin/busybox", "sh", "-c", "echo task started; echo $NOMAD_ALLOC_DIR > /local/dir; exec sleep 1000"],
        "Env": ["NOMAD_ALLOC_DIR=/alloc", "NOMAD_TASK_DIR=/local", "NOMAD_SECRETS_DIR=/secrets", "NOMAD_ALLOC_ID=".to_string() + ALLOC],
        "Labels": {"com.hashicorp.nomad.alloc_id": ALLOC},
        "Hostname": "",
        "Tty": false,
        "OpenStdin": false,
        "ExposedPorts": {"8080/tcp": {}, "8080/udp": {}},
        "HostConfig": {
            "Binds": binds,
            "Memory": 64 << 20,
            "MemoryReservation": 0,
            "MemorySwap": 64 << 20,
            "CpuShares": 100,
            "PidsLimit": -1,
            "NetworkMode": network_mode,
            "PortBindings": {"8080/tcp": [{"HostIp": "", "HostPort": "8080"}], "8080/udp": [{"HostIp": "", "HostPort": "8080"}]},
            "LogConfig": {"Type": "json-file", "Config": {"max-file": "2", "max-size": "2m"}},
        },
        "NetworkingConfig": null,
    })
}

/// Replays a task's life as Nomad's driver drives it.
pub fn nomad_replay(a: &Artifacts) -> Result<(), String> {
    let test = "agent-nomad-replay";
    let dir = a.dir.join("test-scratch").join(test);
    let agent = free_port();
    let vm = super::agent::boot(a, test, "", agent, free_port())?;
    let result = (|| {
        let docker = Docker::new(agent, &dir.join("docker-config"), Some(TEST_TOKEN))?;
        docker.ok(&["import", &busybox_tar(&dir)?.to_string_lossy(), "bb"], CLI)?;
        let archive = dir.join("bb.tar");
        docker.ok(&["save", "-o", &archive.to_string_lossy(), "bb"], CLI)?;
        replay(&vm, &Api { port: agent }, &std::fs::read(&archive).map_err(|e| e.to_string())?)
    })();
    save_console(a, test, &vm);
    result
}

fn check(vm: &Vm, what: &str, reply: &Reply, status: u16) -> Result<(), String> {
    expect(vm, reply.status == status, &format!("{what}: status {} (want {status}): {}", reply.status, reply.text()))
}

fn replay(vm: &Vm, api: &Api, archive: &[u8]) -> Result<(), String> {
    // The client's handshake, then fingerprinting.
    check(vm, "HEAD /_ping", &api.call("HEAD", "/_ping", None)?, 200)?;
    let version = api.call("GET", "/v1.50/version", None)?;
    check(vm, "GET /version", &version, 200)?;
    expect(vm, version.json()["ApiVersion"] == "1.50", "the version's ApiVersion")?;
    let networks = api.call("GET", "/v1.50/networks", None)?;
    check(vm, "GET /networks", &networks, 200)?;
    let gateway = networks.json().as_array().and_then(|all| {
        let bridge = all.iter().find(|n| n["Name"] == "bridge")?;
        bridge["IPAM"]["Config"][0]["Gateway"].as_str().map(String::from)
    });
    expect(vm, gateway.as_deref() == Some("172.17.0.1"), &format!("the bridge's gateway: {gateway:?}"))?;
    let info = api.call("GET", "/v1.50/info", None)?;
    check(vm, "GET /info", &info, 200)?;
    expect(vm, info.json()["OSType"] == "linux" && info.json()["Runtimes"].is_object(), "OSType and Runtimes")?;

    // The image: inspected, loaded from the task's archive (`load`), inspected again.
    check(vm, "inspect of a missing image", &api.call("GET", "/v1.50/images/redis:7/json", None)?, 404)?;
    let loaded = api.call("POST", "/v1.50/images/load?quiet=1", Some(("application/x-tar", archive)))?;
    check(vm, "POST /images/load?quiet=1", &loaded, 200)?;
    let image = api.call("GET", "/v1.50/images/bb:latest/json", None)?;
    check(vm, "GET /images/bb:latest/json", &image, 200)?;
    let image_id = image.json()["Id"].as_str().unwrap_or_default().to_string();

    // Create: the alloc, local and secrets directories as host binds are refused
    // (berth has no host file system); as volumes named after the allocation, made.
    let name = format!("web-{ALLOC}");
    let create = format!("/v1.50/containers/create?name={name}");
    let host_binds: Vec<String> =
        ["alloc:/alloc", "web/local:/local", "web/secrets:/secrets", "alloc/logs:/alloc/logs:ro"]
            .iter()
            .map(|b| format!("/var/nomad/alloc/{ALLOC}/{b}"))
            .collect();
    let refused = api.json("POST", &create, &task_body(&host_binds, "default"))?;
    check(vm, "create with host binds", &refused, 400)?;
    expect(vm, refused.text().contains("no host file system"), "the refusal says why")?;
    let volume_binds: Vec<String> =
        ["alloc:/alloc", "local:/local", "secrets:/secrets"].iter().map(|b| format!("nomad-{ALLOC}-{b}")).collect();
    let created = api.json("POST", &create, &task_body(&volume_binds, "default"))?;
    check(vm, "create", &created, 201)?;
    let list = api.call("GET", "/v1.50/containers/json?all=1", None)?;
    let id = list.json().as_array().and_then(|all| {
        let mine = all.iter().find(|c| c["Names"][0] == format!("/{name}"))?;
        mine["Id"].as_str().map(String::from)
    });
    let id = id.ok_or_else(|| vm.failure(&format!("containerByName: /{name} is not listed: {}", list.text())))?;
    check(vm, "inspect after create", &api.call("GET", &format!("/v1.50/containers/{id}/json"), None)?, 200)?;

    // Start, inspect (its address), logs, stats.
    check(vm, "start", &api.call("POST", &format!("/v1.50/containers/{id}/start"), None)?, 204)?;
    let inspect = api.call("GET", &format!("/v1.50/containers/{id}/json"), None)?.json();
    let address =
        inspect["NetworkSettings"]["Networks"]["bridge"]["IPAddress"].as_str().unwrap_or_default().to_string();
    expect(vm, address.starts_with("172.17.0."), &format!("detectIP: {address:?}"))?;
    expect(vm, inspect["State"]["Running"] == true, "running after start")?;
    let logs = poll_logs(api, &id)?;
    expect(vm, logs.contains("task started"), &format!("logs: {logs:?}"))?;
    let stats = api.call("GET", &format!("/v1.50/containers/{id}/stats?stream=false"), None)?;
    check(vm, "stats", &stats, 200)?;
    let s = stats.json();
    expect(
        vm,
        s["cpu_stats"].is_object() && s["precpu_stats"].is_object() && s["memory_stats"]["limit"] == 64 << 20,
        "stats fields",
    )?;

    // A script check (exec), then a signal, the stop, the safety stop, the wait.
    let exec = api.json(
        "POST",
        &format!("/v1.50/containers/{id}/exec"),
        &json!({"AttachStdin": false, "AttachStdout": true, "AttachStderr": true, "Tty": false,
                "Cmd": ["/bin/busybox", "cat", "/local/dir"]}),
    )?;
    check(vm, "exec create", &exec, 201)?;
    let exec_id = exec.json()["Id"].as_str().unwrap_or_default().to_string();
    let started = api.json("POST", &format!("/v1.50/exec/{exec_id}/start"), &json!({"Detach": false, "Tty": false}))?;
    expect(
        vm,
        started.status == 200 && started.text().contains("/alloc"),
        &format!("exec output: {}", started.text()),
    )?;
    let exec_state = api.call("GET", &format!("/v1.50/exec/{exec_id}/json"), None)?.json();
    expect(vm, exec_state["ExitCode"] == 0 && exec_state["Running"] == false, "exec's exit code")?;
    check(vm, "kill SIGHUP", &api.call("POST", &format!("/v1.50/containers/{id}/kill?signal=SIGHUP"), None)?, 204)?;
    let stop = api.call("POST", &format!("/v1.50/containers/{id}/stop?t=5"), None)?;
    expect(vm, matches!(stop.status, 204 | 304), &format!("stop: {}", stop.status))?;
    let wait = api.call("POST", &format!("/v1.50/containers/{id}/wait?condition=not-running"), None)?;
    expect(vm, wait.status == 200 && wait.json()["StatusCode"].is_i64(), &format!("wait: {}", wait.text()))?;
    check(vm, "the safety stop", &api.call("POST", &format!("/v1.50/containers/{id}/stop?t=0"), None)?, 304)?;

    // The group network's pause container, made with NetworkMode none and started;
    // a task joins its port space (`container:<id>`) and serves there: the pause
    // container reaches it on 127.0.0.1.
    let pause = json!({"Image": "bb:latest", "Cmd": ["/bin/busybox", "sleep", "1000"],
        "Labels": {"com.hashicorp.nomad.alloc_id": ALLOC},
        "HostConfig": {"NetworkMode": "none", "RestartPolicy": {"Name": "unless-stopped"}}});
    let pause = api.json("POST", &format!("/v1.50/containers/create?name=nomad_init_{ALLOC}"), &pause)?;
    check(vm, "the pause container", &pause, 201)?;
    let pause_id = pause.json()["Id"].as_str().unwrap_or_default().to_string();
    check(vm, "start pause", &api.call("POST", &format!("/v1.50/containers/{pause_id}/start"), None)?, 204)?;
    let mut joined = task_body(&[], &format!("container:{pause_id}"));
    joined["HostConfig"]["PortBindings"] = json!({});
    joined["Cmd"] = json!(["/bin/busybox", "httpd", "-f", "-p", "80", "-h", "/etc"]);
    let joined = api.json("POST", "/v1.50/containers/create?name=joined", &joined)?;
    check(vm, "a task in the pause container's port space", &joined, 201)?;
    let joined_id = joined.json()["Id"].as_str().unwrap_or_default().to_string();
    check(vm, "start joined", &api.call("POST", &format!("/v1.50/containers/{joined_id}/start"), None)?, 204)?;
    let joined_state = api.call("GET", &format!("/v1.50/containers/{joined_id}/json"), None)?.json();
    let mode = joined_state["HostConfig"]["NetworkMode"].as_str().unwrap_or_default().to_string();
    expect(vm, mode == format!("container:{pause_id}"), &format!("the joined task's network mode: {mode}"))?;
    let fetch = "for i in 1 2 3 4 5 6 7 8 9 10; do wget -q -O - http://127.0.0.1/hostname && exit; sleep 0.2; done";
    let exec = json!({"AttachStdout": true, "AttachStderr": true, "Cmd": ["/bin/busybox", "sh", "-c", fetch]});
    let exec = api.json("POST", &format!("/v1.50/containers/{pause_id}/exec"), &exec)?;
    let exec_id = exec.json()["Id"].as_str().unwrap_or_default().to_string();
    let served = api.json("POST", &format!("/v1.50/exec/{exec_id}/start"), &json!({"Detach": false, "Tty": false}))?;
    let joined_host = joined_state["Config"]["Hostname"].as_str().unwrap_or("?").to_string();
    expect(vm, served.text().contains(&joined_host), &format!("127.0.0.1 in the pause container: {}", served.text()))?;
    let filter = r#"{"label":{"com.hashicorp.nomad.alloc_id":true}}"#;
    let filtered = api.call("GET", &format!("/v1.50/containers/json?all=1&filters={}", encode(filter)), None)?;
    expect(vm, filtered.json().as_array().map(Vec::len) == Some(3), &format!("label filter: {}", filtered.text()))?;
    check(vm, "remove joined", &api.call("DELETE", &format!("/v1.50/containers/{joined_id}?force=1"), None)?, 204)?;

    // Destroy, and the image's collection.
    check(vm, "remove", &api.call("DELETE", &format!("/v1.50/containers/{id}?force=1"), None)?, 204)?;
    check(vm, "remove pause", &api.call("DELETE", &format!("/v1.50/containers/{pause_id}?force=1"), None)?, 204)?;
    let removed = api.call("DELETE", &format!("/v1.50/images/{image_id}?force=1&noprune=1"), None)?;
    check(vm, "image remove", &removed, 200)
}

/// `logs?stdout=1&stderr=1&since=0` until it shows something (the task starts at
/// once, but its output may lag the start by a moment).
fn poll_logs(api: &Api, id: &str) -> Result<String, String> {
    for _ in 0..50 {
        let logs = api.call("GET", &format!("/v1.50/containers/{id}/logs?stdout=1&stderr=1&since=0"), None)?;
        if !logs.body.is_empty() {
            return Ok(logs.text());
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Ok(String::new())
}

/// Percent-encodes a query value.
fn encode(value: &str) -> String {
    value
        .bytes()
        .map(|b| if b.is_ascii_alphanumeric() { (b as char).to_string() } else { format!("%{b:02X}") })
        .collect()
}
