//! The control agent, driven by the real docker CLI (and, where the CLI cannot be made
//! to misbehave, by hand-written HTTP).

use super::run::start;
use crate::artifacts::Artifacts;
use crate::docker::{Docker, TEST_TOKEN};
use crate::http::get;
use crate::qemu::{Forward, Vm, free_port};
use crate::runner::seconds;
use berth_image::rootfs::{self, HELLO};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// A time limit for one docker command.
pub(super) const CLI: Duration = Duration::from_secs(60);

/// A busybox root file system tar (what `docker import` takes).
pub(super) fn busybox_tar(dir: &Path) -> Result<PathBuf, String> {
    let path = dir.join("busybox-rootfs.tar");
    rootfs::busybox_rootfs(&rootfs::system_busybox()).and_then(|r| r.write(&path)).map_err(|e| e.to_string())?;
    Ok(path)
}

/// `cmdline` with the test token unless it sets a token of its own.
fn with_token(cmdline: &str) -> String {
    if cmdline.contains("agent-token=") { cmdline.to_string() } else { format!("agent-token={TEST_TOKEN} {cmdline}") }
}

/// A VM with the agent on host port `agent` and host port `web` forwarded to guest
/// port 8080; waits until the agent listens.
pub(super) fn boot(a: &Artifacts, test: &str, cmdline: &str, agent: u16, web: u16) -> Result<Vm, String> {
    let forwards = vec![Forward { host: agent, guest: 2375 }, Forward { host: web, guest: 8080 }];
    let cmdline = with_token(cmdline);
    let mut vm = start(a, test, &[], &cmdline, |c| c.network = Some(forwards))?;
    vm.expect("agent: Docker Engine API", seconds(60))?;
    Ok(vm)
}

/// Boots a VM for `test` with the agent, imports the busybox image as `bb` with the
/// docker CLI and runs `body` with the VM, the CLI and the agent's host port; the
/// console is saved whatever the outcome.
pub(super) fn with_busybox(
    a: &Artifacts,
    test: &str,
    body: impl FnOnce(&mut Vm, &Docker, u16) -> Result<(), String>,
) -> Result<(), String> {
    with_busybox_and_web(a, test, |vm, docker, agent, _| body(vm, docker, agent))
}

/// As [`with_busybox`]; `body` also gets the host port forwarded to guest port 8080.
pub(super) fn with_busybox_and_web(
    a: &Artifacts,
    test: &str,
    body: impl FnOnce(&mut Vm, &Docker, u16, u16) -> Result<(), String>,
) -> Result<(), String> {
    let (agent, web) = (free_port(), free_port());
    let mut vm = boot(a, test, "", agent, web)?;
    let dir = a.dir.join("test-scratch").join(test);
    let result = busybox_tar(&dir).and_then(|tar| {
        let docker = Docker::new(agent, &dir.join("docker-config"), Some(TEST_TOKEN))?;
        docker.ok(&["import", &tar.to_string_lossy(), "bb"], CLI)?;
        body(&mut vm, &docker, agent, web)
    });
    save_console(a, test, &vm);
    result
}

pub(super) fn save_console(a: &Artifacts, test: &str, vm: &Vm) {
    let _ = std::fs::write(a.dir.join("test-scratch").join(test).join("console.log"), vm.output());
}

pub(super) fn expect(vm: &Vm, ok: bool, what: &str) -> Result<(), String> {
    if ok { Ok(()) } else { Err(vm.failure(what)) }
}

/// The workflow an operator uses: version, info, import, run (exit codes), run -d with
/// a published port, ps, logs, stop, rm.
pub fn docker_workflow(a: &Artifacts) -> Result<(), String> {
    let test = "agent-docker-workflow";
    let (agent, web) = (free_port(), free_port());
    let vm = boot(a, test, "", agent, web)?;
    let dir = a.dir.join("test-scratch").join(test);
    let tar = busybox_tar(&dir)?;
    let result = (|| {
        let docker = Docker::new(agent, &dir.join("docker-config"), Some(TEST_TOKEN))?;
        let version = docker.ok(&["version"], CLI)?;
        expect(
            &vm,
            version.contains("1.50") && version.contains("berth"),
            &format!("docker version said:\n{version}"),
        )?;
        let info = docker.ok(&["info"], CLI)?;
        expect(&vm, info.contains("berth") && info.contains("Total Memory"), &format!("docker info said:\n{info}"))?;
        // NCPU: the CPUs the scheduler runs on (the VM's).
        let cpus = format!("CPUs: {}", crate::qemu::default_cpus());
        expect(&vm, info.contains(&cpus), &format!("docker info does not say {cpus:?}:\n{info}"))?;

        let tar = tar.to_string_lossy().into_owned();
        let id = docker.ok(&["import", &tar, "bb:1"], CLI)?;
        expect(&vm, id.trim().starts_with("sha256:"), &format!("docker import printed {id:?}"))?;
        let images = docker.ok(&["images"], CLI)?;
        expect(&vm, images.lines().any(|l| l.starts_with("bb ") && l.contains(" 1 ")), &format!("images:\n{images}"))?;

        let hello = docker.run(&["run", "--rm", "bb:1", "/bin/busybox", "echo", "hello"], CLI)?;
        expect(&vm, hello.code == 0 && hello.stdout == "hello\n", &hello.describe(&["run", "--rm", "...echo hello"]))?;
        let three =
            docker.run(&["run", "--name", "three", "bb:1", "/bin/busybox", "sh", "-c", "echo bye >&2; exit 3"], CLI)?;
        expect(&vm, three.code == 3 && three.stderr.contains("bye"), &three.describe(&["run", "...exit 3"]))?;

        let web_args = [
            "run",
            "-d",
            "--name",
            "web",
            "-p",
            "8080:80",
            "bb:1",
            "/bin/busybox",
            "httpd",
            "-f",
            "-vv",
            "-p",
            "80",
            "-h",
            "/data",
        ];
        let id = docker.ok(&web_args, CLI)?;
        expect(&vm, id.trim().len() == 64, &format!("docker run -d printed {id:?}"))?;
        let url = format!("http://127.0.0.1:{web}/hello.txt");
        let deadline = Instant::now() + seconds(30);
        let page = loop {
            match get(&url) {
                Ok(body) => break body,
                Err(e) if Instant::now() > deadline => {
                    return Err(vm.failure(&format!("the web container never answered: {e}")));
                }
                Err(_) => std::thread::sleep(Duration::from_millis(200)),
            }
        };
        expect(&vm, page == HELLO.as_bytes(), "the web container served the wrong page")?;
        let ps = docker.ok(&["ps"], CLI)?;
        expect(&vm, ps.contains("web") && ps.contains("0.0.0.0:8080->80/tcp"), &format!("docker ps:\n{ps}"))?;
        let logs = docker.run(&["logs", "web"], CLI)?;
        expect(
            &vm,
            logs.code == 0 && (logs.stdout + &logs.stderr).contains("hello.txt"),
            "docker logs lacks the request",
        )?;

        let started = Instant::now();
        docker.ok(&["stop", "web"], CLI)?;
        expect(&vm, started.elapsed() < seconds(15), "docker stop took longer than its timeout")?;
        let ps = docker.ok(&["ps"], CLI)?;
        expect(&vm, !ps.contains("web"), &format!("a stopped container is still listed by docker ps:\n{ps}"))?;
        let all = docker.ok(&["ps", "-a"], CLI)?;
        expect(&vm, all.contains("web") && all.contains("Exited"), &format!("docker ps -a:\n{all}"))?;
        docker.ok(&["rm", "web", "three"], CLI)?;
        let all = docker.ok(&["ps", "-a"], CLI)?;
        expect(&vm, !all.contains("web") && !all.contains("three"), &format!("removed containers are listed:\n{all}"))
    })();
    save_console(a, test, &vm);
    result
}

/// One raw HTTP request to the agent; the status and body.
/// Runs busybox httpd as container `web`, serving `/data` on guest port 8080 (host port
/// `web`); waits until it answers and returns a check that it still does.
fn start_web(docker: &Docker, vm: &Vm, web: u16) -> Result<impl Fn() -> bool + use<>, String> {
    let httpd = ["run", "-d", "--name", "web", "-p", "8080:80", "bb", "/bin/busybox", "httpd", "-f", "-p", "80"];
    docker.ok(&[&httpd[..], &["-h", "/data"]].concat(), CLI)?;
    let url = format!("http://127.0.0.1:{web}/hello.txt");
    let serving = move || get(&url).is_ok_and(|b| b == HELLO.as_bytes());
    let deadline = Instant::now() + seconds(30);
    while !serving() {
        expect(vm, Instant::now() < deadline, "the web container never answered")?;
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(serving)
}

fn raw(port: u16, request: &[u8]) -> Result<(u16, String), String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(seconds(30))).map_err(|e| e.to_string())?;
    s.write_all(request).map_err(|e| e.to_string())?;
    let mut reply = Vec::new();
    let _ = s.read_to_end(&mut reply);
    let text = String::from_utf8_lossy(&reply).into_owned();
    let status = text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0);
    Ok((status, text))
}

/// `GET /metrics` (with the token), and the value of the sample `series` on it.
fn scrape(agent: u16) -> Result<String, String> {
    let request = format!(
        "GET /metrics HTTP/1.1\r\nHost: berth\r\nAuthorization: Bearer {TEST_TOKEN}\r\nConnection: close\r\n\r\n"
    );
    let (status, text) = raw(agent, request.as_bytes())?;
    if status != 200 || !text.contains("Content-Type: text/plain; version=0.0.4") {
        return Err(format!("GET /metrics answered:\n{text}"));
    }
    Ok(text)
}

fn sample(page: &str, series: &str) -> Option<f64> {
    page.lines().find_map(|l| l.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

/// `/metrics` for a machine running the container `svc`: its memory and CPU, the
/// containers by state, system calls and agent requests counting up; the token is
/// needed as for the API.
fn metrics(vm: &Vm, docker: &Docker, agent: u16) -> Result<(), String> {
    let id = docker.ok(&["inspect", "-f", "{{.Id}}", "svc"], CLI)?;
    let before = scrape(agent)?;
    let svc = format!("{{id=\"{}\",name=\"svc\"}}", id.trim());
    let memory = sample(&before, &format!("berth_container_memory_bytes{svc}"));
    expect(vm, memory.is_some_and(|m| m > 0.0), &format!("svc's memory on /metrics:\n{before}"))?;
    expect(vm, sample(&before, &format!("berth_container_cpu_seconds_total{svc}")).is_some(), "svc's CPU time")?;
    let running = sample(&before, "berth_containers{state=\"running\"}");
    expect(vm, running.is_some_and(|n| n >= 1.0), &format!("running containers: {running:?}"))?;
    docker.ok(&["exec", "svc", "true"], CLI)?;
    let _ = docker.run(&["inspect", "no-such-container"], CLI)?;
    let after = scrape(agent)?;
    let grew = |series: &str| {
        let (a, b) = (sample(&before, series), sample(&after, series));
        expect(vm, matches!((a, b), (Some(a), Some(b)) if b > a), &format!("{series}: {a:?}, then {b:?}"))
    };
    grew("berth_syscalls_total")?;
    grew("berth_agent_requests_total{outcome=\"success\"}")?;
    grew("berth_agent_requests_total{outcome=\"client_error\"}")?;
    let (status, _) = raw(agent, b"GET /metrics HTTP/1.1\r\nHost: berth\r\nConnection: close\r\n\r\n")?;
    expect(vm, status == 401, &format!("/metrics without the token answered {status}"))
}

/// Error paths: each gives its documented status and message, and a container started
/// before keeps serving throughout.
pub fn errors(a: &Artifacts) -> Result<(), String> {
    let test = "agent-errors";
    let (agent, web) = (free_port(), free_port());
    let vm = boot(a, test, "agent-token=s3cret agent-image-max=8m", agent, web)?;
    let dir = a.dir.join("test-scratch").join(test);
    let tar = busybox_tar(&dir)?;
    let result = (|| {
        let docker = Docker::new(agent, &dir.join("docker-config"), Some("s3cret"))?;
        let tar_s = tar.to_string_lossy().into_owned();
        docker.ok(&["import", &tar_s, "bb"], CLI)?;
        let serving = start_web(&docker, &vm, web)?;
        let fails = |args: &[&str], needle: &str| -> Result<(), String> {
            let out = docker.run(args, CLI)?;
            let ok = out.code != 0 && out.stderr.contains(needle);
            expect(&vm, ok, &format!("expected an error containing {needle:?}: {}", out.describe(args)))
        };
        fails(&["run", "--rm", "nosuch:1", "/bin/true"], "pull access denied for nosuch")?;
        fails(&["stop", "nosuch"], "No such container: nosuch")?;
        fails(&["logs", "nosuch"], "No such container: nosuch")?;
        fails(&["create", "--name", "web", "bb", "/bin/true"], "is already in use by container")?;
        fails(&["create", "--name", "bad name", "bb", "/bin/true"], "Invalid container name")?;
        fails(&["rm", "web"], "You cannot remove a running container")?;
        fails(&["rmi", "bb"], "container")?;
        // A truncated archive and an oversized one (agent-image-max=8m).
        let whole = std::fs::read(&tar).map_err(|e| e.to_string())?;
        let cut = dir.join("truncated.tar");
        std::fs::write(&cut, &whole[..whole.len() / 2 + 100]).map_err(|e| e.to_string())?;
        fails(&["import", &cut.to_string_lossy(), "cut"], "not a valid tar")?;
        let big = dir.join("big.tar");
        let mut big_image = rootfs::Rootfs::new();
        big_image.file("big", vec![7u8; 12 << 20], 0o644);
        big_image.write(&big).map_err(|e| e.to_string())?;
        fails(&["import", &big.to_string_lossy(), "big"], "limit of 8 MiB")?;
        // Without the token, and with a wrong one.
        let anonymous = Docker::new(agent, &dir.join("no-token"), None)?;
        let out = anonymous.run(&["ps"], CLI)?;
        expect(
            &vm,
            out.code != 0 && out.stderr.contains("authentication required"),
            &out.describe(&["ps (no token)"]),
        )?;
        let wrong = Docker::new(agent, &dir.join("wrong-token"), Some("nope"))?;
        let out = wrong.run(&["ps"], CLI)?;
        expect(
            &vm,
            out.code != 0 && out.stderr.contains("authentication required"),
            &out.describe(&["ps (wrong token)"]),
        )?;
        // A container cannot manage its neighbours: the agent wants the token from it
        // too, through the host's forwarded port and at the machine's own address.
        let delete = "printf 'DELETE /v1.50/containers/web?force=1 HTTP/1.1\\r\\nHost: x\\r\\n\\r\\n'";
        let attack = format!(
            "{delete} | /bin/busybox nc 10.0.2.2 {agent}; {delete} | /bin/busybox nc 10.0.2.15 2375; echo tried"
        );
        let out = docker.run(&["run", "--rm", "bb", "/bin/busybox", "sh", "-c", &attack], CLI)?;
        expect(
            &vm,
            out.stdout.contains("HTTP/1.1 401") && !out.stdout.contains("HTTP/1.1 204") && out.stdout.contains("tried"),
            &format!("a container's DELETE of its neighbour: {}", out.describe(&["run", "attack"])),
        )?;
        // Two Authorization headers are refused, even if one is right.
        let (status, text) = raw(
            agent,
            b"GET /v1.50/containers/json HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer nope\r\nAuthorization: Bearer s3cret\r\n\r\n",
        )?;
        expect(&vm, status == 400, &format!("two Authorization headers got {status}: {text}"))?;
        // Malformed JSON and a malformed request, by hand.
        let body = b"{\"Image\": \"bb\", \"Cmd\": [";
        let request = format!(
            "POST /v1.50/containers/create HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer s3cret\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
            body.len()
        );
        let (status, text) = raw(agent, &[request.as_bytes(), body].concat())?;
        expect(&vm, status == 400 && text.contains("invalid JSON"), &format!("malformed JSON got {status}: {text}"))?;
        let (status, text) = raw(agent, b"GARBAGE\r\n\r\n")?;
        expect(&vm, status == 400, &format!("a malformed request got {status}: {text}"))?;
        // Through all of it, the web container kept serving.
        expect(&vm, serving(), "the web container stopped serving")?;
        let ps = docker.ok(&["ps"], CLI)?;
        expect(&vm, ps.contains("web") && ps.contains("Up"), &format!("docker ps after the errors:\n{ps}"))
    })();
    save_console(a, test, &vm);
    result
}

/// Creates, starts, waits for and removes containers through the API `n` times.
fn cycles(agent: u16, n: usize) -> Result<(), String> {
    let agent_url = format!("http://127.0.0.1:{agent}/v1.50");
    let client: ureq::Agent = ureq::Agent::config_builder().timeout_global(Some(seconds(60))).build().into();
    let bearer = format!("Bearer {TEST_TOKEN}");
    for i in 0..n {
        let mut created = client
            .post(&format!("{agent_url}/containers/create"))
            .header("Authorization", &bearer)
            .send_json(serde_json::json!({"Image": "bb", "Cmd": ["/bin/busybox", "true"]}))
            .map_err(|e| format!("create {i}: {e}"))?;
        let reply: serde_json::Value = created.body_mut().read_json().map_err(|e| e.to_string())?;
        let id = reply["Id"].as_str().ok_or("no Id")?.to_string();
        client
            .post(&format!("{agent_url}/containers/{id}/start"))
            .header("Authorization", &bearer)
            .send_empty()
            .map_err(|e| format!("start {i}: {e}"))?;
        let mut waited = client
            .post(&format!("{agent_url}/containers/{id}/wait"))
            .header("Authorization", &bearer)
            .send_empty()
            .map_err(|e| format!("wait {i}: {e}"))?;
        let status: serde_json::Value = waited.body_mut().read_json().map_err(|e| e.to_string())?;
        if status["StatusCode"] != 0 {
            return Err(format!("container {i} exited with {}", status["StatusCode"]));
        }
        client
            .delete(&format!("{agent_url}/containers/{id}"))
            .header("Authorization", &bearer)
            .call()
            .map_err(|e| format!("remove {i}: {e}"))?;
    }
    Ok(())
}

/// 200 create/start/remove cycles leave the kernel's memory in use where it was.
pub fn create_remove_cycles(a: &Artifacts) -> Result<(), String> {
    let test = "agent-create-remove-cycles";
    with_busybox(a, test, |vm, _, agent| {
        // The first cycles fill caches (page cache, stacks, tables, the 256 events
        // `docker events` keeps: 4 a cycle); then measure.
        cycles(agent, 70)?;
        let before = vm.stats(seconds(10))?;
        cycles(agent, 200)?;
        let n = |m: &std::collections::HashMap<String, u64>, k: &str| m.get(k).copied().unwrap_or(u64::MAX);
        let in_use =
            |m: &std::collections::HashMap<String, u64>| n(m, "frames_used").saturating_sub(n(m, "frames_cached"));
        // The last container's memory goes when its last reference does, which on a
        // busy host can be a moment after the API said it was removed: a leak is what
        // is still there after a few seconds.
        let mut report = String::new();
        for _ in 0..10 {
            let after = vm.stats(seconds(10))?;
            let heap = n(&after, "heap_bytes").saturating_sub(n(&before, "heap_bytes"));
            let frames = in_use(&after).saturating_sub(in_use(&before));
            let same =
                n(&after, "containers") == n(&before, "containers") && n(&after, "sockets") == n(&before, "sockets");
            if same && heap <= 64 * 1024 && frames <= 32 {
                return Ok(());
            }
            report = format!(
                "memory grew over 200 cycles: heap +{heap} bytes, +{frames} frames\nbefore {before:?}\nafter {after:?}"
            );
            std::thread::sleep(Duration::from_millis(500));
        }
        Err(vm.failure(&report))
    })
}

/// The rest of what the CLI offers: `run -i` (standard input), `create` with an
/// entrypoint, environment, working directory and limits, `start`, `logs -f`, `wait`,
/// `inspect`, `kill -s`, `stats --no-stream`, `rm -f`.
pub fn docker_options(a: &Artifacts) -> Result<(), String> {
    let test = "agent-docker-options";
    with_busybox(a, test, |vm, docker, _| {
        let out =
            docker.run_with_input(&["run", "-i", "--rm", "bb", "/bin/busybox", "tr", "a-z", "A-Z"], b"shout\n", CLI)?;
        expect(vm, out.code == 0 && out.stdout == "SHOUT\n", &out.describe(&["run", "-i", "...tr"]))?;

        let create = [
            "create",
            "--name",
            "c1",
            "--entrypoint",
            "/bin/busybox",
            "-e",
            "GREETING=hi",
            "-w",
            "/data",
            "-m",
            "32m",
            "--pids-limit",
            "50",
            "bb",
            "sh",
            "-c",
            "echo $GREETING; pwd; sleep 1; echo done; exit 4",
        ];
        docker.ok(&create, CLI)?;
        host_config_as_asked(vm, docker)?;
        let inspect = docker.ok(&["inspect", "c1"], CLI)?;
        for needle in [
            "\"Entrypoint\": [",
            "\"/bin/busybox\"",
            "\"WorkingDir\": \"/data\"",
            "\"Memory\": 33554432",
            "\"PidsLimit\": 50",
            "\"GREETING=hi\"",
        ] {
            expect(vm, inspect.contains(needle), &format!("docker inspect lacks {needle}:\n{inspect}"))?;
        }
        docker.ok(&["start", "c1"], CLI)?;
        let logs = docker.run(&["logs", "-f", "c1"], CLI)?;
        expect(vm, logs.code == 0 && logs.stdout == "hi\n/data\ndone\n", &logs.describe(&["logs", "-f", "c1"]))?;
        let code = docker.ok(&["wait", "c1"], CLI)?;
        expect(vm, code.trim() == "4", &format!("docker wait printed {code:?}"))?;

        let trap = "trap 'echo got USR1; exit 7' USR1; while true; do sleep 0.1; done";
        docker.ok(&["run", "-d", "--name", "sig", "bb", "/bin/busybox", "sh", "-c", trap], CLI)?;
        std::thread::sleep(Duration::from_millis(500));
        docker.ok(&["kill", "-s", "USR1", "sig"], CLI)?;
        let code = docker.ok(&["wait", "sig"], CLI)?;
        expect(vm, code.trim() == "7", &format!("after kill -s USR1, docker wait printed {code:?}"))?;
        let logs = docker.ok(&["logs", "sig"], CLI)?;
        expect(vm, logs.contains("got USR1"), &format!("the trap did not run: {logs:?}"))?;
        // `logs --until`: nothing before the container's time.
        let early = docker.ok(&["logs", "--until", "2001-01-01T00:00:00Z", "sig"], CLI)?;
        expect(vm, early.is_empty(), &format!("logs --until 2001 printed {early:?}"))?;

        // --stop-timeout: `docker stop` without -t waits that long before SIGKILL.
        let deaf = "trap '' TERM; while true; do sleep 0.1; done";
        docker
            .ok(&["run", "-d", "--name", "deaf", "--stop-timeout", "1", "bb", "/bin/busybox", "sh", "-c", deaf], CLI)?;
        let timeout = docker.ok(&["inspect", "-f", "{{.Config.StopTimeout}}", "deaf"], CLI)?;
        expect(vm, timeout.trim() == "1", &format!("inspect's StopTimeout: {timeout:?}"))?;
        let started = Instant::now();
        docker.ok(&["stop", "deaf"], CLI)?;
        let took = started.elapsed();
        expect(vm, took < Duration::from_secs(6), &format!("docker stop of a 1 s stop timeout took {took:?}"))?;
        let code = docker.ok(&["inspect", "-f", "{{.State.ExitCode}}", "deaf"], CLI)?;
        expect(vm, code.trim() == "137", &format!("killed after its stop timeout, exit code {code:?}"))?;

        // --cpuset-cpus: the container sees and may use just those CPUs (the VM has
        // 2); one the machine lacks is refused with Docker's message.
        let pinned =
            docker.run(&["run", "--rm", "--cpuset-cpus", "1", "--cpus", "0.5", "bb", "/bin/busybox", "nproc"], CLI)?;
        expect(
            vm,
            pinned.code == 0 && pinned.stdout == "1\n",
            &pinned.describe(&["run", "--cpuset-cpus", "1", "...nproc"]),
        )?;
        let wide = docker.run(&["run", "--rm", "--cpuset-cpus", "0-7", "bb", "/bin/busybox", "true"], CLI)?;
        expect(
            vm,
            wide.code != 0 && wide.stderr.contains("Requested CPUs are not available"),
            &wide.describe(&["run", "--cpuset-cpus", "0-7", "..."]),
        )?;
        docker.ok(&["create", "--name", "c2", "--cpuset-cpus", "0,1", "--cpus", "1.5", "bb", "/bin/true"], CLI)?;
        let inspect = docker.ok(&["inspect", "c2"], CLI)?;
        for needle in ["\"CpusetCpus\": \"0,1\"", "\"NanoCpus\": 1500000000"] {
            expect(vm, inspect.contains(needle), &format!("docker inspect lacks {needle}:\n{inspect}"))?;
        }

        docker.ok(&["run", "-d", "--name", "busy", "bb", "/bin/busybox", "sh", "-c", "while true; do :; done"], CLI)?;
        std::thread::sleep(Duration::from_millis(500));
        let stats = docker.ok(&["stats", "--no-stream"], CLI)?;
        let row = stats.lines().find(|l| l.contains("busy")).unwrap_or_default().to_string();
        let cpu: f64 = row.split_whitespace().nth(2).and_then(|c| c.trim_end_matches('%').parse().ok()).unwrap_or(0.0);
        expect(vm, cpu > 50.0, &format!("docker stats did not show the busy loop using the CPU:\n{stats}"))?;
        // --group-add: numbers and names of the image's /etc/group, for exec too; a
        // name the file lacks stops the start.
        let add = ["--group-add", "1000", "--group-add", "nogroup"];
        docker.ok(
            &[&["run", "-d", "--name", "grouped"][..], &add, &["bb", "/bin/busybox", "sleep", "60"]].concat(),
            CLI,
        )?;
        let groups = docker.ok(&["exec", "grouped", "id", "-G"], CLI)?;
        expect(vm, groups.trim() == "0 1000 65534", &format!("id -G with --group-add printed {groups:?}"))?;
        let shown = docker.ok(&["inspect", "-f", "{{.HostConfig.GroupAdd}}", "grouped"], CLI)?;
        expect(vm, shown.trim() == "[1000 nogroup]", &format!("inspect's GroupAdd: {shown:?}"))?;
        let bad = docker.run(&["run", "--rm", "--group-add", "nosuch", "bb", "/bin/busybox", "true"], CLI)?;
        let ok = bad.code != 0 && bad.stderr.contains("unable to find group nosuch");
        expect(vm, ok, &format!("--group-add nosuch: {}", bad.describe(&["run", "--group-add", "nosuch"])))?;
        docker.ok(&["rm", "-f", "grouped"], CLI)?;

        // A container its restart policy keeps starting again is refused removal unless
        // forced (as by dockerd), and once forced stays gone.
        docker.ok(&["run", "-d", "--name", "again", "--restart", "always", "bb", "/bin/busybox", "false"], CLI)?;
        let deadline = Instant::now() + seconds(10);
        while docker.ok(&["inspect", "-f", "{{.State.Status}} {{.State.Restarting}}", "again"], CLI)?.trim()
            != "restarting true"
        {
            expect(vm, Instant::now() < deadline, "the container was never seen restarting")?;
            std::thread::sleep(Duration::from_millis(20));
        }
        let refused = docker.run(&["rm", "again"], CLI)?;
        let ok = refused.code != 0 && refused.stderr.contains("You cannot remove a");
        expect(vm, ok, &format!("rm of a restarting container: {}", refused.describe(&["rm", "again"])))?;
        docker.ok(&["rm", "-f", "again"], CLI)?;
        std::thread::sleep(Duration::from_millis(500));
        let left = docker.ok(&["ps", "-a", "-q", "--filter", "name=again"], CLI)?;
        expect(vm, left.trim().is_empty(), &format!("a forced rm of a restarting container left {left:?}"))?;

        docker.ok(&["rm", "-f", "busy", "sig", "c1", "c2"], CLI)?;
        // `container prune` counts the writable layers it frees.
        let deaf = docker.ok(&["inspect", "-f", "{{.Id}}", "deaf"], CLI)?;
        let pruned = docker.ok(&["container", "prune", "-f"], CLI)?;
        let reclaimed = pruned.lines().find(|l| l.starts_with("Total reclaimed space:")).unwrap_or_default();
        let ok = pruned.contains(deaf.trim()) && !reclaimed.ends_with(" 0B");
        expect(vm, ok, &format!("container prune: {pruned:?}"))?;
        let all = docker.ok(&["ps", "-a", "-q"], CLI)?;
        expect(vm, all.trim().is_empty(), &format!("containers left after rm -f: {all:?}"))
    })
}

/// Image data counts against the memory all containers share: imports stop with a
/// clear error when the machine is full, a container then cannot write past what the
/// images leave, a running one keeps serving, and `rmi` gives the memory back.
pub fn image_memory(a: &Artifacts) -> Result<(), String> {
    let test = "agent-image-memory";
    let (agent, web) = (free_port(), free_port());
    let forwards = vec![Forward { host: agent, guest: 2375 }, Forward { host: web, guest: 8080 }];
    let mut vm = start(a, test, &[], &with_token("agent-image-max=64m"), |c| {
        c.network = Some(forwards);
        c.memory_mib = 256;
    })?;
    vm.expect("agent: Docker Engine API", seconds(60))?;
    let dir = a.dir.join("test-scratch").join(test);
    let tar = busybox_tar(&dir)?;
    let result = (|| {
        let docker = Docker::new(agent, &dir.join("docker-config"), Some(TEST_TOKEN))?;
        docker.ok(&["import", &tar.to_string_lossy(), "bb"], CLI)?;
        let serving = start_web(&docker, &vm, web)?;

        // Each import has different bytes: one layer's data is stored once, however many
        // images hold it, so the same tar again would cost nothing.
        const BIG_MIB: u64 = 32;
        let big_tar = |n: usize| -> Result<String, String> {
            let path = dir.join(format!("big{n}.tar"));
            let mut big_image = rootfs::Rootfs::new();
            big_image.file("big", vec![n as u8 + 1; (BIG_MIB << 20) as usize], 0o644);
            big_image.write(&path).map_err(|e| e.to_string())?;
            Ok(path.to_string_lossy().into_owned())
        };
        let mut imported = Vec::new();
        let refusal = loop {
            let tag = format!("big{}", imported.len());
            let out = docker.run(&["import", &big_tar(imported.len())?, &tag], CLI)?;
            if out.code != 0 {
                break out;
            }
            imported.push(tag);
            expect(&vm, imported.len() < 12, "12 imports of 32 MiB fitted in a 256 MiB machine")?;
        };
        expect(
            &vm,
            !imported.is_empty() && refusal.stderr.contains("not enough memory left on the machine"),
            &format!("after {} imports: {}", imported.len(), refusal.describe(&["import", "big"])),
        )?;

        // What the images hold is gone from what containers may write.
        let stats = vm.stats(seconds(10))?;
        let n = |k: &str| stats.get(k).copied().unwrap_or(0);
        let held = imported.len() as u64 * (BIG_MIB << 20);
        // With memory full, a layer already stored is shared, not stored again.
        docker.ok(&["import", &big_tar(0)?, "big0-again"], CLI)?;
        imported.push("big0-again".into());
        expect(&vm, n("container_bytes") >= held, &format!("images hold {held} bytes, but {stats:?}"))?;
        let left_mib = n("container_limit").saturating_sub(n("container_bytes")) >> 20;
        let count = format!("count={}", left_mib + 8);
        let fill = ["run", "--rm", "bb", "/bin/busybox", "dd", "if=/dev/zero", "of=/fill", "bs=1M", &count];
        let out = docker.run(&fill, CLI)?;
        expect(
            &vm,
            out.code != 0,
            &format!("wrote {left_mib}+8 MiB with {left_mib} MiB left: {}", out.describe(&fill)),
        )?;
        expect(&vm, serving(), "the web container stopped serving")?;

        // Removing the images gives their memory back.
        let mut rmi = vec!["rmi"];
        rmi.extend(imported.iter().map(String::as_str));
        docker.ok(&rmi, CLI)?;
        let out = docker.run(&fill, CLI)?;
        expect(&vm, out.code == 0, &format!("after rmi: {}", out.describe(&fill)))?;
        docker.ok(&["import", &big_tar(0)?, "again"], CLI)?;
        expect(&vm, serving(), "the web container stopped serving")
    })();
    save_console(a, test, &vm);
    result
}

/// `docker run -it IMG sh` from a terminal: an interactive shell with the operator's
/// window size, `^C` interrupting the foreground command, the exit status returned;
/// and `run -t` alone gives the program a terminal (newlines become `\r\n`).
pub fn docker_terminal(a: &Artifacts) -> Result<(), String> {
    let test = "agent-docker-terminal";
    with_busybox(a, test, |vm, docker, _| {
        let tty_test = ["run", "-t", "--rm", "bb", "/bin/busybox", "sh", "-c", "[ -t 1 ] && echo on a terminal"];
        let out = docker.ok(&tty_test, CLI)?;
        expect(vm, out == "on a terminal\r\n", &format!("`docker run -t` printed {out:?}"))?;

        let run = docker.command(&["run", "-it", "--name", "term", "bb", "/bin/busybox", "sh"]);
        let mut term = crate::terminal::Terminal::spawn(run, 40, 100)?;
        let wait = seconds(30);
        let failed = |e: String| vm.failure(&e);
        let at = term.expect(0, "/ # ", wait).map_err(failed)?;
        term.send(b"stty size; [ -t 0 ] && echo stdin is a terminal; echo $((6 * 7))\r")?;
        let at = term.expect(at, "40 100\r\n", wait).map_err(failed)?;
        let at = term.expect(at, "stdin is a terminal\r\n", wait).map_err(failed)?;
        let at = term.expect(at, "42\r\n", wait).map_err(failed)?;
        let at = term.expect(at, "/ # ", wait).map_err(failed)?;
        // ^C ends the foreground command, not the shell: the next line runs at once.
        term.send(b"sleep 60\r")?;
        let at = term.expect(at, "sleep 60\r\n", wait).map_err(failed)?;
        std::thread::sleep(Duration::from_millis(500));
        let typed = Instant::now();
        term.send(b"\x03")?;
        let at = term.expect(at, "/ # ", wait).map_err(failed)?;
        term.send(b"echo still here\r")?;
        term.expect(at, "still here\r\n", wait).map_err(failed)?;
        expect(vm, typed.elapsed() < seconds(20), "^C did not interrupt `sleep 60`")?;
        term.send(b"exit 5\r")?;
        let code = term.wait(wait)?;
        expect(vm, code == 5, &format!("`docker run -it` exited {code}; the terminal showed:\n{:?}", term.screen()))?;
        let logs = docker.ok(&["logs", "term"], CLI)?;
        expect(vm, logs.contains("still here\r\n"), &format!("docker logs of the terminal: {logs:?}"))?;
        docker.ok(&["rm", "term"], CLI).map(drop)
    })
}

/// Clients that hold connections without finishing requests cost the agent a bounded
/// amount: 70 idle connections and then 70 with half a request head still leave room
/// for the CLI (the longest-waiting ones make room), the half-finished requests get
/// 408 within the head deadline, and clients at once are all answered.
pub fn connection_abuse(a: &Artifacts) -> Result<(), String> {
    let test = "agent-connection-abuse";
    with_busybox(a, test, |vm, docker, agent| {
        let connect = || TcpStream::connect(("127.0.0.1", agent)).map_err(|e| e.to_string());
        // (QEMU's port forwarding takes connections one at a time: a few beyond the
        // agent's 64 make the point without taking minutes.)
        let idle: Vec<TcpStream> = (0..70).map(|_| connect()).collect::<Result<_, _>>()?;
        std::thread::sleep(seconds(3));
        let ps = docker.run(&["ps"], seconds(30))?;
        expect(vm, ps.code == 0, &format!("with 70 idle connections: {}", ps.describe(&["ps"])))?;
        drop(idle);

        let mut partial: Vec<TcpStream> = Vec::new();
        for _ in 0..70 {
            let mut s = connect()?;
            s.write_all(b"GET /v1.50/containers/json HTTP/1.1\r\nHost: x\r\nUser-Agent: slow")
                .map_err(|e| e.to_string())?;
            partial.push(s);
        }
        let started = Instant::now();
        std::thread::sleep(seconds(3));
        let ps = docker.run(&["ps"], seconds(30))?;
        expect(vm, ps.code == 0, &format!("with 70 half-sent requests: {}", ps.describe(&["ps"])))?;
        // Each half-sent request ends within the deadline: a 408, or closed to make room.
        for s in partial.iter_mut().take(20) {
            s.set_read_timeout(Some(seconds(20))).map_err(|e| e.to_string())?;
            let mut reply = Vec::new();
            let _ = s.read_to_end(&mut reply);
            let text = String::from_utf8_lossy(&reply);
            expect(
                vm,
                reply.is_empty() || text.starts_with("HTTP/1.1 408"),
                &format!("a half-sent request got {text:?}"),
            )?;
        }
        expect(vm, started.elapsed() < seconds(25), "half-sent requests were held past their deadline")?;
        drop(partial);

        // Clients at once: as many as berth takes into its handshake per port (16), and
        // about what QEMU's port forwarding lets through at once (it takes one
        // connection at a time; the host makes the rest retry for seconds).
        const CLIENTS: usize = 16;
        let ok = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..CLIENTS {
                s.spawn(|| {
                    let request = format!("GET /_ping HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {TEST_TOKEN}\r\nConnection: close\r\n\r\n");
                    if raw(agent, request.as_bytes()).is_ok_and(|(status, _)| status == 200) {
                        ok.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                });
            }
        });
        let ok = ok.into_inner();
        expect(vm, ok == CLIENTS, &format!("of {CLIENTS} clients at once, {ok} were answered 200"))?;
        let ps = docker.run(&["ps"], seconds(30))?;
        expect(vm, ps.code == 0, &format!("after the abuse: {}", ps.describe(&["ps"])))
    })
}

/// `docker cp` both ways (a file, a directory, into a directory; a missing path is a
/// 404 with Docker's words), `docker diff`, `docker export`, `docker commit` and
/// `docker system df`.
pub fn docker_cp_and_export(a: &Artifacts) -> Result<(), String> {
    let test = "agent-cp-export";
    with_busybox(a, test, |vm, docker, _| {
        let dir = a.dir.join("test-scratch").join(test).join("files");
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("updir/sub")).map_err(|e| e.to_string())?;
        std::fs::write(dir.join("up.txt"), "uploaded\n").map_err(|e| e.to_string())?;
        std::fs::write(dir.join("updir/sub/deep.txt"), "deep\n").map_err(|e| e.to_string())?;
        let path = |p: &str| dir.join(p).to_string_lossy().into_owned();
        let script = "cat /data/up.txt /tmp/updir/sub/deep.txt";
        docker.ok(&["create", "--name", "box", "bb", "/bin/busybox", "sh", "-c", script], CLI)?;

        docker.ok(&["cp", "box:/data/hello.txt", &path("hello.txt")], CLI)?;
        let hello = std::fs::read_to_string(dir.join("hello.txt")).map_err(|e| e.to_string())?;
        expect(vm, hello == berth_image::rootfs::HELLO, &format!("docker cp of a file out gave {hello:?}"))?;
        docker.ok(&["cp", "box:/data", &path("datadir")], CLI)?;
        let copied = std::fs::read_to_string(dir.join("datadir/hello.txt")).unwrap_or_default();
        expect(vm, copied == berth_image::rootfs::HELLO, "docker cp of a directory out")?;

        docker.ok(&["cp", &path("up.txt"), "box:/data/"], CLI)?;
        docker.ok(&["cp", &path("updir"), "box:/tmp/"], CLI)?;
        let out = docker.ok(&["start", "-a", "box"], CLI)?;
        expect(vm, out == "uploaded\ndeep\n", &format!("files copied in read back as {out:?}"))?;

        let missing = docker.run(&["cp", "box:/nope", &path("nope")], CLI)?;
        expect(
            vm,
            missing.code != 0 && missing.stderr.contains("Could not find the file /nope in container"),
            &format!("docker cp of a missing path: {}", missing.describe(&["cp"])),
        )?;

        // `docker diff`: the container's changes, none of berth's set-up (/dev, the host
        // name files).
        let diff = docker.ok(&["diff", "box"], CLI)?;
        let want = "C /data\nA /data/up.txt\nC /tmp\nA /tmp/updir\nA /tmp/updir/sub\nA /tmp/updir/sub/deep.txt\n";
        expect(vm, diff == want, &format!("docker diff printed {diff:?}, want {want:?}"))?;

        docker.ok(&["export", "-o", &path("box.tar"), "box"], CLI)?;
        let listing = std::process::Command::new("tar").arg("-tf").arg(dir.join("box.tar")).output();
        let listing = listing.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
        for want in ["data/up.txt", "bin/busybox", "tmp/updir/sub/deep.txt"] {
            expect(vm, listing.lines().any(|l| l.trim_start_matches("./") == want), &format!("export lacks {want}"))?;
        }

        // `docker commit`: an image of the container's changes, with a new command.
        let change = r#"CMD ["/bin/busybox", "cat", "/data/up.txt"]"#;
        docker.ok(&["commit", "-c", change, "-m", "snapshot", "box", "snap:1"], CLI)?;
        let out = docker.ok(&["run", "--rm", "snap:1"], CLI)?;
        expect(vm, out == "uploaded\n", &format!("a container of the committed image printed {out:?}"))?;
        let history = docker.ok(&["history", "--format", "{{.Comment}}", "snap:1"], CLI)?;
        expect(vm, history.lines().next() == Some("snapshot"), &format!("the commit's history:\n{history}"))?;
        docker.ok(&["rmi", "snap:1"], CLI)?;

        // `docker system df`: the image used by one container, whose writable layer
        // holds the files copied in.
        let df = docker.ok(&["system", "df", "--format", "{{.Type}} {{.TotalCount}} {{.Active}}"], CLI)?;
        for want in ["Images 1 1", "Containers 1 0", "Local Volumes 0 0"] {
            expect(vm, df.lines().any(|l| l == want), &format!("docker system df lacks {want:?}:\n{df}"))?;
        }
        let sizes = docker.ok(&["system", "df", "-v", "--format", "{{range .Containers}}{{.Size}}{{end}}"], CLI)?;
        expect(vm, !sizes.trim().is_empty() && !sizes.starts_with("0B"), &format!("a writable layer's size: {sizes:?}"))
    })
}

/// `docker exec`: output and exit status, standard error apart, `-e`, `-w`, `-u`, `-i`
/// with input, `-t`, `-d`, a missing program; exec output stays out of the container's
/// log; a stopped container refuses. `docker top`, and `docker events` replaying what
/// happened, in order. `/metrics` meanwhile.
pub fn docker_exec(a: &Artifacts) -> Result<(), String> {
    let test = "agent-exec";
    with_busybox(a, test, |vm, docker, agent| {
        let bb = |args: &[&str]| -> Vec<String> { args.iter().map(|s| s.to_string()).collect() };
        docker
            .ok(&["run", "-d", "--name", "svc", "bb", "/bin/busybox", "sh", "-c", "echo started; sleep 1000"], CLI)?;
        let out = docker.ok(&["exec", "svc", "echo", "hello"], CLI)?;
        expect(vm, out == "hello\n", &format!("docker exec echo printed {out:?}"))?;

        let args = bb(&["exec", "svc", "sh", "-c", "echo out; echo err >&2; exit 3"]);
        let run = docker.run(&args.iter().map(String::as_str).collect::<Vec<_>>(), CLI)?;
        let ok = run.code == 3 && run.stdout == "out\n" && run.stderr == "err\n";
        expect(vm, ok, &format!("exit status and streams: {}", run.describe(&["exec"])))?;

        let out = docker.ok(&["exec", "-e", "A=1", "-w", "/tmp", "svc", "sh", "-c", "echo $A; pwd"], CLI)?;
        expect(vm, out == "1\n/tmp\n", &format!("-e and -w gave {out:?}"))?;
        let out = docker.ok(&["exec", "-u", "nobody", "svc", "id", "-u"], CLI)?;
        expect(vm, out == "65534\n", &format!("-u nobody gave {out:?}"))?;
        let out = docker.run_with_input(&["exec", "-i", "svc", "cat"], b"piped\nlines\n", CLI)?;
        expect(vm, out.code == 0 && out.stdout == "piped\nlines\n", &format!("-i: {}", out.describe(&["exec", "-i"])))?;
        let out = docker.ok(&["exec", "-t", "svc", "echo", "tty"], CLI)?;
        expect(vm, out.trim() == "tty", &format!("-t gave {out:?}"))?;
        let on_terminal = "[ -t 0 ] && [ -t 1 ] && readlink /proc/self/fd/0";
        let out = docker.ok(&["exec", "-t", "svc", "sh", "-c", on_terminal], CLI)?;
        expect(vm, out.starts_with("/dev/pts/") && out.ends_with("\r\n"), &format!("exec -t's terminal: {out:?}"))?;
        exec_interactive(vm, docker)?;
        exec_detach(vm, agent)?;

        metrics(vm, docker, agent)?;

        docker.ok(&["exec", "-d", "svc", "sh", "-c", "sleep 1; echo later > /tmp/d"], CLI)?;
        let deadline = std::time::Instant::now() + seconds(30);
        while docker.run(&["exec", "svc", "cat", "/tmp/d"], CLI)?.stdout != "later\n" {
            expect(vm, std::time::Instant::now() < deadline, "a detached exec did not run")?;
            std::thread::sleep(std::time::Duration::from_millis(200));
        }

        let missing = docker.run(&["exec", "svc", "no-such-program"], CLI)?;
        let ok = missing.code == 127 && missing.stdout.contains("no-such-program: not found");
        expect(vm, ok, &format!("a missing program: {}", missing.describe(&["exec"])))?;
        let logs = docker.ok(&["logs", "svc"], CLI)?;
        expect(vm, logs == "started\n", &format!("exec output reached the container's log: {logs:?}"))?;

        // Clients such as docker-py read a container's output only for these drivers.
        let driver = docker.ok(&["inspect", "-f", "{{.HostConfig.LogConfig.Type}}", "svc"], CLI)?;
        expect(vm, driver.trim() == "json-file", &format!("the log driver shown: {driver:?}"))?;
        let top = docker.ok(&["top", "svc"], CLI)?;
        let ok = top.starts_with("UID") && top.lines().any(|l| l.ends_with("sleep 1000"));
        expect(vm, ok, &format!("docker top:\n{top}"))?;

        docker.ok(&["stop", "-t", "1", "svc"], CLI)?;
        let stopped = docker.run(&["exec", "svc", "true"], CLI)?;
        expect(vm, stopped.code != 0 && stopped.stderr.contains("is not running"), "exec in a stopped container")?;

        // What happened to it, as `docker events` replays it (ending at `--until`).
        let until = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_err(|e| e.to_string())?;
        let until = format!("{}", until.as_secs() + 2);
        let args =
            ["events", "--since", "0", "--until", &until, "--filter", "container=svc", "--format", "{{.Action}}"];
        let events = docker.ok(&args, CLI)?;
        let actions: Vec<&str> = events.lines().collect();
        for want in ["create", "start", "exec_create: echo hello", "exec_start: echo hello", "kill", "die", "stop"] {
            expect(vm, actions.contains(&want), &format!("docker events lacks {want:?}:\n{events}"))?;
        }
        let position = |a: &str| actions.iter().position(|x| *x == a);
        expect(vm, position("create") < position("start") && position("die") < position("stop"), "events out of order")
    })
}

/// What berth keeps without acting on (or writes its own way) is shown back as it
/// was asked for, as clients such as docker-py check: `--init`, `--runtime`, log
/// options, tmpfs options, the CPU set; an unknown log driver is refused.
fn host_config_as_asked(vm: &Vm, docker: &Docker) -> Result<(), String> {
    let args = ["create", "--name", "asked", "--init", "--log-opt", "max-file=3", "--tmpfs", "/t:size=3M"];
    docker.ok(&[&args[..], &["--cpuset-cpus", "0,1", "bb", "true"]].concat(), CLI)?;
    let format = "{{.HostConfig.Init}} {{.HostConfig.Runtime}} {{.HostConfig.LogConfig.Type}} \
                  {{index .HostConfig.LogConfig.Config \"max-file\"}} {{index .HostConfig.Tmpfs \"/t\"}} \
                  {{.HostConfig.CpusetCpus}}";
    let shown = docker.ok(&["inspect", "-f", format, "asked"], CLI)?;
    expect(vm, shown.trim() == "true runc json-file 3 size=3M 0,1", &format!("HostConfig as asked: {shown:?}"))?;
    let refused = docker.run(&["create", "--log-driver", "asdf", "bb", "true"], CLI)?;
    let ok = refused.code != 0 && refused.stderr.contains("no log driver named 'asdf'");
    expect(vm, ok, &format!("an unknown log driver: {}", refused.describe(&["create"])))?;
    docker.ok(&["rm", "asked"], CLI).map(drop)
}

/// `docker exec -it svc sh`: a shell on a terminal of its own, sized as the client's,
/// that takes typed lines and ends with the status it exits with.
fn exec_interactive(vm: &Vm, docker: &Docker) -> Result<(), String> {
    let mut term = crate::terminal::Terminal::spawn(docker.command(&["exec", "-it", "svc", "sh"]), 40, 100)?;
    let (wait, failed) = (seconds(30), |e: String| vm.failure(&e));
    let at = term.expect(0, "# ", wait).map_err(failed)?;
    term.send(b"stty size; [ -t 0 ] && echo stdin is a terminal; echo $((6 * 7))\r")?;
    let at = term.expect(at, "40 100\r\n", wait).map_err(failed)?;
    let at = term.expect(at, "stdin is a terminal\r\n", wait).map_err(failed)?;
    term.expect(at, "42\r\n", wait).map_err(failed)?;
    term.send(b"exit 3\r")?;
    let code = term.wait(wait)?;
    expect(vm, code == 3, &format!("`docker exec -it` exited {code}; the terminal showed:\n{:?}", term.screen()))
}

/// The detach keys typed into an exec's terminal (`^P^Q`, or the exec's own) end
/// the client's stream at once, as dockerd ends it; the program runs on. (Driven by
/// hand, as docker-py's test does: the CLI also watches for the keys itself.)
fn exec_detach(vm: &Vm, agent: u16) -> Result<(), String> {
    let create = r#"{"AttachStdin":true,"AttachStdout":true,"Tty":true,"DetachKeys":"ctrl-x,x","Cmd":["cat"]}"#;
    let request = format!(
        "POST /containers/svc/exec HTTP/1.1\r\nHost: berth\r\nAuthorization: Bearer {TEST_TOKEN}\r\n\
         Content-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{create}",
        create.len()
    );
    let (status, reply) = raw(agent, request.as_bytes())?;
    let id = reply.split("\"Id\":\"").nth(1).and_then(|r| r.split('"').next()).unwrap_or_default().to_string();
    expect(vm, status == 201 && !id.is_empty(), &format!("exec create: {reply}"))?;
    let start = r#"{"Detach":false,"Tty":true}"#;
    let mut s = TcpStream::connect(("127.0.0.1", agent)).map_err(|e| e.to_string())?;
    s.set_read_timeout(Some(seconds(10))).map_err(|e| e.to_string())?;
    let request = format!(
        "POST /exec/{id}/start HTTP/1.1\r\nHost: berth\r\nAuthorization: Bearer {TEST_TOKEN}\r\n\
         Content-Type: application/json\r\nConnection: Upgrade\r\nUpgrade: tcp\r\nContent-Length: {}\r\n\r\n{start}",
        start.len()
    );
    s.write_all(request.as_bytes()).map_err(|e| e.to_string())?;
    s.write_all(b"hello\n").map_err(|e| e.to_string())?;
    let mut seen = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&seen).contains("hello\r\nhello") {
        match s.read(&mut buf) {
            Ok(0) | Err(_) => {
                return Err(vm.failure(&format!("no echo before detaching: {:?}", String::from_utf8_lossy(&seen))));
            }
            Ok(n) => seen.extend_from_slice(&buf[..n]),
        }
    }
    let typed = Instant::now();
    s.write_all(b"\x18x").map_err(|e| e.to_string())?;
    let closed = loop {
        match s.read(&mut buf) {
            Ok(0) => break true,
            Ok(_) => {}
            Err(_) => break false,
        }
    };
    expect(vm, closed && typed.elapsed() < seconds(5), "the stream after the detach keys")?;
    let request = format!(
        "GET /exec/{id}/json HTTP/1.1\r\nHost: berth\r\nAuthorization: Bearer {TEST_TOKEN}\r\nConnection: close\r\n\r\n"
    );
    let (_, state) = raw(agent, request.as_bytes())?;
    expect(vm, state.contains("\"Running\":true"), &format!("the exec after its client detached: {state}"))
}

/// `docker pause` stops a container's processes where they are (a counter stops
/// counting) until `docker unpause`; state and status say so; exec is refused while
/// paused; `docker stop` ends a paused container.
pub fn docker_pause(a: &Artifacts) -> Result<(), String> {
    let test = "agent-pause";
    with_busybox(a, test, |vm, docker, _| {
        let dir = a.dir.join("test-scratch").join(test).join("files");
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let count = || -> Result<u64, String> {
            let file = dir.join("n");
            docker.ok(&["cp", "ticker:/tmp/n", &file.to_string_lossy()], CLI)?;
            let text = std::fs::read_to_string(&file).map_err(|e| e.to_string())?;
            text.trim().parse().map_err(|_| format!("the counter file holds {text:?}"))
        };
        let counter = "i=0; while true; do i=$((i+1)); echo $i > /tmp/n; sleep 0.05; done";
        docker.ok(&["run", "-d", "--name", "ticker", "bb", "/bin/busybox", "sh", "-c", counter], CLI)?;
        std::thread::sleep(std::time::Duration::from_millis(500));
        docker.ok(&["pause", "ticker"], CLI)?;
        let state =
            docker.ok(&["inspect", "-f", "{{.State.Status}} {{.State.Paused}} {{.State.Running}}", "ticker"], CLI)?;
        expect(vm, state.trim() == "paused true true", &format!("a paused container's state: {state:?}"))?;
        let status = docker.ok(&["ps", "--format", "{{.Status}}"], CLI)?;
        expect(vm, status.trim().ends_with("(Paused)"), &format!("ps status {status:?}"))?;
        let first = count()?;
        std::thread::sleep(std::time::Duration::from_millis(800));
        let second = count()?;
        expect(vm, first > 0 && first == second, &format!("counting while paused: {first} then {second}"))?;
        let again = docker.run(&["pause", "ticker"], CLI)?;
        expect(vm, again.code != 0 && again.stderr.contains("already paused"), "pausing twice")?;
        let exec = docker.run(&["exec", "ticker", "true"], CLI)?;
        expect(vm, exec.code != 0 && exec.stderr.contains("is paused"), "exec while paused")?;

        docker.ok(&["unpause", "ticker"], CLI)?;
        let deadline = std::time::Instant::now() + seconds(30);
        while count()? <= second {
            expect(vm, std::time::Instant::now() < deadline, "the counter did not go on after unpause")?;
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        docker.ok(&["pause", "ticker"], CLI)?;
        docker.ok(&["stop", "-t", "1", "ticker"], CLI)?;
        let state = docker.ok(&["inspect", "-f", "{{.State.Status}}", "ticker"], CLI)?;
        expect(vm, state.trim() == "exited", &format!("a paused container after stop: {state:?}"))
    })
}
