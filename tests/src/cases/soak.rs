//! Soak: for a chosen time, containers are created, run and removed through the
//! Docker API, cycling through ones that fault, flood their logs, fork until refused,
//! run out of memory, run out of descriptors, exit with a status, or spin until killed,
//! with malformed requests in between, while a web server beside them serves a steady
//! load. At the end the machine's memory must be where it was (`cargo xtask soak` runs
//! it longer).

use crate::artifacts::Artifacts;
use crate::docker::TEST_TOKEN;
use crate::http::get;
use crate::qemu::Vm;
use crate::runner::seconds;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// What a soak run did.
#[derive(Debug, Clone)]
pub struct SoakReport {
    /// Containers created, run and removed.
    pub cycles: u64,
    /// Requests the web server answered meanwhile.
    pub requests: u64,
    /// How long it ran.
    pub elapsed: Duration,
    /// The kernel's counts before and after (`stats`).
    pub before: HashMap<String, u64>,
    /// After.
    pub after: HashMap<String, u64>,
}

/// One kind of container the soak runs: its command, host settings, the exit status it
/// must end with, and whether it must be killed (it would not end by itself).
struct Workload {
    cmd: &'static [&'static str],
    host: fn() -> Value,
    status: i64,
    kill: bool,
}

const WORKLOADS: &[Workload] = &[
    Workload { cmd: &["/usr/bin/crash", "null"], host: no_limits, status: 139, kill: false },
    Workload {
        cmd: &["/bin/busybox", "sh", "-c", "/bin/busybox yes soak | /bin/busybox head -c 2000000"],
        host: no_limits,
        status: 0,
        kill: false,
    },
    Workload { cmd: &["/usr/bin/crash", "fork-bomb"], host: few_pids, status: 0, kill: false },
    Workload { cmd: &["/usr/bin/crash", "oom"], host: little_memory, status: 0, kill: false },
    Workload { cmd: &["/usr/bin/crash", "fds"], host: no_limits, status: 0, kill: false },
    Workload { cmd: &["/usr/bin/crash", "exit", "3"], host: no_limits, status: 3, kill: false },
    Workload { cmd: &["/usr/bin/crash", "hog", "sockets"], host: little_memory, status: 0, kill: false },
    Workload { cmd: &["/usr/bin/crash", "spin"], host: no_limits, status: 137, kill: true },
];

fn no_limits() -> Value {
    json!({})
}

fn few_pids() -> Value {
    json!({ "PidsLimit": 32 })
}

fn little_memory() -> Value {
    json!({ "Memory": 32 << 20 })
}

/// Frames (less caches) and heap bytes the machine may keep after the soak beyond what
/// it had before: caches of stacks, mapped ranges and page tables.
const FRAME_SLACK: u64 = 1024;
const HEAP_SLACK: u64 = 1 << 20;

/// The short run `cargo xtask test` does.
pub fn soak_short(a: &Artifacts) -> Result<(), String> {
    soak(a, "soak", Duration::from_secs(60)).map(drop)
}

/// Runs the soak for `length` (see the module's description).
pub fn soak(a: &Artifacts, test: &str, length: Duration) -> Result<SoakReport, String> {
    let (mut vm, agent, web) = super::hardening::start_with_web(a, test)?;
    let result = (|| {
        vm.expect("agent: Docker Engine API", seconds(60))?;
        let api = Api::new(agent);
        api.import(&a.test_image)?;
        let url = format!("http://127.0.0.1:{web}/hostname");
        wait_until_serving(&vm, &url)?;
        // A first cycle of each fills the caches (page cache, stacks) before measuring.
        for w in WORKLOADS {
            api.cycle(w).map_err(|e| vm.failure(&e))?;
        }
        let before = settled(&mut vm, None)?;
        let (stop, served, failure) =
            (Arc::new(AtomicBool::new(false)), Arc::new(AtomicU64::new(0)), Arc::new(Mutex::new(None)));
        let load = {
            let (stop, served, failure, url) = (stop.clone(), served.clone(), failure.clone(), url.clone());
            std::thread::spawn(move || {
                while !stop.load(Ordering::Relaxed) {
                    match get(&url) {
                        Ok(_) => {
                            served.fetch_add(1, Ordering::Relaxed);
                        }
                        Err(e) => {
                            failure.lock().unwrap_or_else(|p| p.into_inner()).get_or_insert(e);
                        }
                    }
                    std::thread::sleep(Duration::from_millis(50));
                }
            })
        };
        let started = Instant::now();
        let mut cycles = 0u64;
        let outcome = (|| {
            while started.elapsed() < length {
                api.cycle(&WORKLOADS[cycles as usize % WORKLOADS.len()])?;
                api.malformed()?;
                cycles += 1;
            }
            Ok::<(), String>(())
        })();
        stop.store(true, Ordering::Relaxed);
        let _ = load.join();
        outcome.map_err(|e| vm.failure(&format!("after {cycles} cycles: {e}")))?;
        if let Some(e) = failure.lock().unwrap_or_else(|p| p.into_inner()).take() {
            return Err(vm.failure(&format!("the web server failed a request during the soak: {e}")));
        }
        let after = settled(&mut vm, Some(&before))?;
        check_back(&vm, &before, &after)?;
        Ok(SoakReport { cycles, requests: served.load(Ordering::Relaxed), elapsed: started.elapsed(), before, after })
    })();
    let _ = std::fs::write(a.scratch(test).join("console.log"), vm.output());
    result
}

fn n(m: &HashMap<String, u64>, k: &str) -> u64 {
    m.get(k).copied().unwrap_or(0)
}

fn in_use(m: &HashMap<String, u64>) -> u64 {
    n(m, "frames_used").saturating_sub(n(m, "frames_cached"))
}

/// Whether the counts in `after` are back within the slack of `before`; why not if not.
fn compare(before: &HashMap<String, u64>, after: &HashMap<String, u64>) -> Result<(), String> {
    let mut grew = Vec::new();
    if in_use(after) > in_use(before) + FRAME_SLACK {
        grew.push(format!("frames in use {} -> {}", in_use(before), in_use(after)));
    }
    if n(after, "heap_bytes") > n(before, "heap_bytes") + HEAP_SLACK {
        grew.push(format!("heap {} -> {}", n(before, "heap_bytes"), n(after, "heap_bytes")));
    }
    for key in ["container_bytes", "processes", "threads", "sockets", "containers", "orphans"] {
        if n(after, key) > n(before, key) {
            grew.push(format!("{key} {} -> {}", n(before, key), n(after, key)));
        }
    }
    if grew.is_empty() { Ok(()) } else { Err(grew.join(", ")) }
}

fn check_back(vm: &Vm, before: &HashMap<String, u64>, after: &HashMap<String, u64>) -> Result<(), String> {
    compare(before, after).map_err(|e| vm.failure(&format!("memory did not come back after the soak: {e}")))
}

/// The kernel's counts once closing work is done: sampled until back near `before`
/// (or, without one, until two samples agree), for at most 20 s.
fn settled(vm: &mut Vm, before: Option<&HashMap<String, u64>>) -> Result<HashMap<String, u64>, String> {
    let deadline = Instant::now() + seconds(20);
    let mut last = vm.stats(seconds(10))?;
    loop {
        std::thread::sleep(Duration::from_millis(500));
        let now = vm.stats(seconds(10))?;
        let done = match before {
            Some(b) => compare(b, &now).is_ok(),
            None => in_use(&now) == in_use(&last) && n(&now, "processes") == n(&last, "processes"),
        };
        if done || Instant::now() >= deadline {
            return Ok(now);
        }
        last = now;
    }
}

fn wait_until_serving(vm: &Vm, url: &str) -> Result<(), String> {
    let deadline = Instant::now() + seconds(30);
    while get(url).is_err() {
        if Instant::now() >= deadline {
            return Err(vm.failure(&format!("{url} never answered")));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}

/// The Docker API of one machine, with the test token.
struct Api {
    port: u16,
    base: String,
    client: ureq::Agent,
    bearer: String,
}

impl Api {
    fn new(port: u16) -> Api {
        let client =
            ureq::Agent::config_builder().timeout_global(Some(seconds(120))).http_status_as_error(false).build().into();
        Api { port, base: format!("http://127.0.0.1:{port}/v1.50"), client, bearer: format!("Bearer {TEST_TOKEN}") }
    }

    /// Sends a request; its status and JSON reply (Null if none).
    fn call(&self, method: &str, path: &str, body: Option<Value>) -> Result<(u16, Value), String> {
        let url = format!("{}{path}", self.base);
        let response = match (method, body) {
            ("POST", Some(b)) => self.client.post(&url).header("Authorization", &self.bearer).send_json(b),
            ("POST", None) => self.client.post(&url).header("Authorization", &self.bearer).send_empty(),
            ("DELETE", _) => self.client.delete(&url).header("Authorization", &self.bearer).call(),
            _ => self.client.get(&url).header("Authorization", &self.bearer).call(),
        };
        let mut response = response.map_err(|e| format!("{method} {path}: {e}"))?;
        let status = response.status().as_u16();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        Ok((status, serde_json::from_str(&text).unwrap_or(Value::Null)))
    }

    /// Imports `image` as `t`.
    fn import(&self, image: &std::path::Path) -> Result<(), String> {
        let bytes = std::fs::read(image).map_err(|e| e.to_string())?;
        let url = format!("{}/images/create?fromSrc=-&repo=t", self.base);
        let mut response = self
            .client
            .post(&url)
            .header("Authorization", &self.bearer)
            .header("Content-Type", "application/x-tar")
            .send(&bytes[..])
            .map_err(|e| format!("import: {e}"))?;
        let text = response.body_mut().read_to_string().unwrap_or_default();
        if response.status().as_u16() != 200 || text.contains("errorDetail") {
            return Err(format!("import: {text}"));
        }
        Ok(())
    }

    /// Creates, starts, waits for (killing it first if it must be) and removes one
    /// container of `w`; its exit status must be `w.status`.
    fn cycle(&self, w: &Workload) -> Result<(), String> {
        let body = json!({ "Image": "t", "Cmd": w.cmd, "HostConfig": (w.host)() });
        let (status, created) = self.call("POST", "/containers/create", Some(body))?;
        let id = created["Id"].as_str().filter(|_| status == 201).ok_or(format!("create gave {status}: {created}"))?;
        let id = id.to_string();
        let (status, _) = self.call("POST", &format!("/containers/{id}/start"), None)?;
        if status != 204 {
            return Err(format!("start gave {status}"));
        }
        if w.kill {
            std::thread::sleep(Duration::from_millis(300));
            self.call("POST", &format!("/containers/{id}/kill"), None)?;
        }
        let (_, waited) = self.call("POST", &format!("/containers/{id}/wait"), None)?;
        let code = waited["StatusCode"].as_i64().unwrap_or(-1);
        if code != w.status {
            let (_, logs) = self.call("GET", &format!("/containers/{id}/logs?stdout=1&stderr=1&tail=5"), None)?;
            return Err(format!("{:?} exited {code}, not {} ({logs})", w.cmd, w.status));
        }
        let (status, _) = self.call("DELETE", &format!("/containers/{id}"), None)?;
        if status != 204 {
            return Err(format!("remove gave {status}"));
        }
        Ok(())
    }

    /// A malformed request, which must get 400.
    fn malformed(&self) -> Result<(), String> {
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).map_err(|e| e.to_string())?;
        s.set_read_timeout(Some(seconds(30))).map_err(|e| e.to_string())?;
        s.write_all(b"GET /v1.50/containers/json HTTP/1.1\r\nHost x\r\n\r\n").map_err(|e| e.to_string())?;
        let mut reply = Vec::new();
        let _ = s.read_to_end(&mut reply);
        if reply.starts_with(b"HTTP/1.1 400") {
            Ok(())
        } else {
            Err(format!("a malformed request got {:?}", String::from_utf8_lossy(&reply)))
        }
    }
}
