//! Control agent benchmarks: `docker run --rm IMG /bin/busybox true` from the CLI's
//! start to its exit, and requests per second for `GET /containers/json`.

use crate::util;
use berth_tests::docker::{Docker, TEST_TOKEN};
use berth_tests::qemu::{Forward, Vm, VmConfig, free_port};
use std::path::Path;
use std::time::{Duration, Instant};

/// `docker run` measurements.
const RUNS: usize = 20;
/// Containers listed by the `GET /containers/json` measurement.
const LISTED: usize = 10;

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Runs the agent benchmarks; returns (what, figure) rows for the summary.
pub fn run(kernel: &Path) -> Result<Vec<(String, String)>, String> {
    println!("==> control agent: the docker CLI and wrk against berth's Docker API");
    let port = free_port();
    let mut config = VmConfig::new(kernel.to_path_buf());
    config.cmdline = format!("agent-token={TEST_TOKEN}");
    config.network = Some(vec![Forward { host: port, guest: 2375 }]);
    let mut vm = Vm::start(&config)?;
    vm.expect("Docker Engine API", Duration::from_secs(60))?;
    let dir = util::out_dir().join("bench-agent");
    let docker = Docker::new(port, &dir, Some(TEST_TOKEN))?;
    let image = util::out_dir().join("boot-root/images/busybox.tar");
    docker.ok(&["import", &image.to_string_lossy(), "bb"], Duration::from_secs(120))?;
    let mut times = Vec::new();
    for _ in 0..RUNS {
        let started = Instant::now();
        docker.ok(&["run", "--rm", "bb", "/bin/busybox", "true"], Duration::from_secs(60))?;
        times.push(started.elapsed().as_secs_f64() * 1000.0);
    }
    let run_ms = median(times.clone());
    let min = times.iter().copied().fold(f64::MAX, f64::min);
    println!("    docker run --rm bb /bin/busybox true: median {run_ms:.0} ms (min {min:.0} ms, {RUNS} runs)");
    for i in 0..LISTED {
        docker.ok(&["create", "--name", &format!("c{i}"), "bb", "/bin/busybox", "true"], Duration::from_secs(60))?;
    }
    let url = format!("http://127.0.0.1:{port}/v1.50/containers/json?all=1");
    let mut rows = vec![(
        "docker run --rm IMG /bin/busybox true".to_string(),
        format!("{run_ms:.0} ms median (CLI start to exit)"),
    )];
    for connections in [1, 16] {
        let out = std::process::Command::new("wrk")
            .args(["-t", &connections.min(4).to_string(), "-c", &connections.to_string(), "-d", "5s"])
            .args(["-H", &format!("Authorization: Bearer {TEST_TOKEN}"), &url])
            .output();
        let text = out.map(|o| String::from_utf8_lossy(&o.stdout).into_owned()).unwrap_or_default();
        let rps = text.lines().find_map(|l| l.trim().strip_prefix("Requests/sec:").map(|v| v.trim().to_string()));
        let figure = match rps {
            Some(r) => format!("{r} req/s ({LISTED} containers listed)"),
            None => String::from("wrk is missing (cargo xtask setup installs it)"),
        };
        println!("    GET /containers/json, {connections} connection(s): {figure}");
        rows.push((format!("agent GET /containers/json, {connections} conn."), figure));
    }
    drop(vm);
    Ok(rows)
}
