//! Debian's own programs on berth and on Linux in the same QEMU (TCG, one vCPU, the
//! same memory): nginx requests/s with 1 and 16 connections (the same binary serving
//! the same file), `python3 -c pass` start-up, and memory per idle container with 100
//! of them running (`sleep` from the Debian image; on Linux, each in its own pid and
//! mount namespace, `unshare -pmf`, without a container runtime). Rounds alternate,
//! berth then Linux, and each pair's ratio is printed, since these machines are noisy.

use crate::bench_net::{HttpFigures, http_load};
use crate::{linux, util};
use berth_tests::docker::Docker;
use berth_tests::qemu::{Forward, Vm, VmConfig, free_port};
use std::path::Path;
use std::time::{Duration, Instant};

/// Guest memory for both systems (the Debian root is 130 MiB; Linux holds it twice
/// while it unpacks its initramfs).
const MEMORY_MIB: u32 = 1536;
/// Idle containers started for the memory figure.
const CONTAINERS: usize = 100;
/// `python3 -c pass` runs timed together.
const PYTHON_RUNS: usize = 20;
/// Rounds of berth and Linux.
const ROUNDS: usize = 2;
/// The token the benchmark's agent wants.
const TOKEN: &str = "bench-token";
/// The page nginx serves (Debian's test root holds it).
const PAGE: &str = "/index.html";

/// The timing loop both systems run: microseconds per `python3 -c pass`.
fn python_script() -> String {
    format!(
        "s=$(date +%s%N); for i in $(seq {PYTHON_RUNS}); do /usr/bin/python3 -c pass; done; e=$(date +%s%N); \
         echo python-start $(( (e - s) / {PYTHON_RUNS} / 1000 ))"
    )
}

/// One system's figures.
#[derive(Default, Clone, Copy)]
struct Figures {
    nginx_1: f64,
    nginx_16: f64,
    python_ms: f64,
    kib_per_container: f64,
}

fn value_after(lines: &str, key: &str) -> Option<f64> {
    lines.lines().find_map(|l| l.split(key).nth(1)?.split_whitespace().next()?.parse().ok())
}

fn wait_for(url: &str, vm: &Vm) -> Result<(), String> {
    let deadline = Instant::now() + Duration::from_secs(120);
    while berth_tests::http::get(url).is_err() {
        if Instant::now() > deadline {
            return Err(vm.failure(&format!("{url} never answered")));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(())
}

fn nginx_load(url: &str) -> (HttpFigures, HttpFigures) {
    (http_load(url, 1), http_load(url, 16))
}

/// berth: the image imported through the agent, then each measurement with the CLI.
fn on_berth(kernel: &Path, image: &Path) -> Result<Figures, String> {
    let (agent, web) = (free_port(), free_port());
    let mut config = VmConfig::new(kernel.to_path_buf());
    config.memory_mib = MEMORY_MIB;
    config.cmdline = format!("agent-token={TOKEN}");
    config.network = Some(vec![Forward { host: agent, guest: 2375 }, Forward { host: web, guest: 8080 }]);
    let mut vm = Vm::start(&config)?;
    vm.expect("agent: Docker Engine API", Duration::from_secs(60))?;
    let docker = Docker::new(agent, &util::out_dir().join("bench-debian-docker"), Some(TOKEN))?;
    let long = Duration::from_secs(600);
    docker.ok(&["import", &image.to_string_lossy(), "debian:bench"], long)?;

    let out = docker.ok(&["run", "--rm", "debian:bench", "/bin/bash", "-c", &python_script()], long)?;
    let python_ms = value_after(&out, "python-start ").ok_or(format!("python timing: {out}"))? / 1000.0;

    let nginx = "daemon off; error_log stderr;";
    docker.ok(&["run", "-d", "-p", "8080:80", "debian:bench", "/usr/sbin/nginx", "-g", nginx], long)?;
    let url = format!("http://127.0.0.1:{web}{PAGE}");
    wait_for(&url, &vm)?;
    let (one, sixteen) = nginx_load(&url);

    let frames = |vm: &mut Vm| -> Result<f64, String> {
        let stats = vm.stats(Duration::from_secs(30))?;
        Ok(*stats.get("frames_used").ok_or("no frames_used in stats")? as f64 * 4.0)
    };
    std::thread::sleep(Duration::from_secs(2));
    let before = frames(&mut vm)?;
    for _ in 0..CONTAINERS {
        docker.ok(&["run", "-d", "debian:bench", "/usr/bin/sleep", "600"], long)?;
    }
    std::thread::sleep(Duration::from_secs(3));
    let after = frames(&mut vm)?;
    Ok(Figures {
        nginx_1: one.requests_per_second,
        nginx_16: sixteen.requests_per_second,
        python_ms,
        kib_per_container: (after - before) / CONTAINERS as f64,
    })
}

/// Linux: the same root as its initramfs; `/init` brings the network up, times
/// python, starts the idle processes, then nginx.
fn on_linux(kernel: &linux::Kernel, initramfs: &Path) -> Result<Figures, String> {
    let web = free_port();
    let mut config = linux::vm_config(kernel, initramfs);
    config.memory_mib = MEMORY_MIB;
    config.network = Some(vec![Forward { host: web, guest: 80 }]);
    let mut vm = Vm::start(&config)?;
    let line = vm.expect("python-start ", Duration::from_secs(600))?;
    let python_ms = value_after(&line, "python-start ").ok_or(format!("python timing: {line}"))? / 1000.0;
    let line = vm.expect("memory-per-process-kib ", Duration::from_secs(600))?;
    let kib_per_container = value_after(&line, "memory-per-process-kib ").ok_or(format!("memory: {line}"))?;
    vm.expect("NGINX-STARTED", Duration::from_secs(120))?;
    let url = format!("http://127.0.0.1:{web}{PAGE}");
    wait_for(&url, &vm)?;
    let (one, sixteen) = nginx_load(&url);
    Ok(Figures {
        nginx_1: one.requests_per_second,
        nginx_16: sixteen.requests_per_second,
        python_ms,
        kib_per_container,
    })
}

/// The Linux initramfs: the Debian root, busybox, the network modules and `/init`.
fn linux_initramfs(root: &Path) -> Result<std::path::PathBuf, String> {
    let out = util::out_dir().join("linux/debian-initramfs.cpio");
    let busybox = std::fs::read("/bin/busybox").map_err(|e| format!("/bin/busybox: {e}"))?;
    // Linux unpacks an initramfs without making missing directories: name each one.
    let mut extra = vec![("busybox".to_string(), 0o100755, busybox), ("modules".to_string(), 0o40755, Vec::new())];
    let mut load = String::new();
    for module in linux::NET_MODULES {
        let file = linux::module_file(module);
        let bytes = std::fs::read(linux::modules_dir().join(file)).map_err(|e| format!("{file}: {e}"))?;
        extra.push((format!("modules/{file}"), 0o100644, bytes));
        load += &format!("/busybox insmod /modules/{file}\n");
    }
    let init = format!(
        "#!/bin/sh\n/busybox mount -t proc proc /proc\n/busybox mount -t sysfs sys /sys\n\
         /busybox mount -t devtmpfs dev /dev\n/busybox mount -t tmpfs tmp /tmp\n/busybox mkdir -p /run\n\
         {load}/busybox ip link set lo up\n/busybox ip link set eth0 up\n\
         /busybox ip addr add 10.0.2.15/24 dev eth0\nexport PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root\n\
         /bin/bash -c '{python}'\n\
         before=$(/busybox awk '/MemAvailable/ {{print $2}}' /proc/meminfo)\n\
         for i in $(seq {CONTAINERS}); do unshare -pmf /usr/bin/sleep 600 & done\n/busybox sleep 3\n\
         after=$(/busybox awk '/MemAvailable/ {{print $2}}' /proc/meminfo)\n\
         echo memory-per-process-kib $(( (before - after) / {CONTAINERS} ))\n\
         /usr/sbin/nginx -g 'daemon off; error_log stderr;' &\necho NGINX-STARTED\n/busybox sleep 100000\n",
        python = python_script()
    );
    extra.push(("init".to_string(), 0o100755, init.into_bytes()));
    linux::root_initramfs(root, extra, &out)?;
    Ok(out)
}

fn ratio(berth: f64, linux: f64) -> String {
    if linux > 0.0 { format!("{:.2}x", berth / linux) } else { "-".into() }
}

/// Runs the Debian benchmarks; returns (what, figure) rows for the summary.
pub fn run(kernel: &Path, with_linux: bool) -> Result<Vec<(String, String)>, String> {
    println!("==> Debian's nginx and python3, and idle Debian containers, on berth and Linux");
    let image = crate::debian::image()?;
    let root = image.parent().ok_or("no Debian directory")?.join("root");
    let linux = if with_linux {
        let kernel = linux::kernel()?;
        let initramfs = linux_initramfs(&root)?;
        Some((kernel, initramfs))
    } else {
        None
    };
    let mut pairs = Vec::new();
    for round in 1..=ROUNDS {
        let b = on_berth(kernel, &image)?;
        println!(
            "    round {round} berth: nginx {:.0} / {:.0} req/s (1 / 16 conns), python3 -c pass {:.0} ms, {:.0} KiB per idle container",
            b.nginx_1, b.nginx_16, b.python_ms, b.kib_per_container
        );
        let l = match &linux {
            Some((k, initramfs)) => {
                let l = on_linux(k, initramfs)?;
                println!(
                    "    round {round} Linux: nginx {:.0} / {:.0} req/s, python3 -c pass {:.0} ms, {:.0} KiB per idle process",
                    l.nginx_1, l.nginx_16, l.python_ms, l.kib_per_container
                );
                Some(l)
            }
            None => None,
        };
        pairs.push((b, l));
    }
    let row = |what: &str, unit: &str, get: fn(&Figures) -> f64| -> (String, String) {
        let figures: Vec<String> = pairs
            .iter()
            .map(|(b, l)| match l {
                Some(l) => format!("{:.0} vs {:.0} ({})", get(b), get(l), ratio(get(b), get(l))),
                None => format!("{:.0}", get(b)),
            })
            .collect();
        (format!("{what} ({unit}, berth vs Linux)"), figures.join("; "))
    };
    Ok(vec![
        row("Debian nginx, 1 connection", "req/s", |f| f.nginx_1),
        row("Debian nginx, 16 connections", "req/s", |f| f.nginx_16),
        row("python3 -c pass", "ms", |f| f.python_ms),
        row("idle Debian container, 100 running", "KiB each", |f| f.kib_per_container),
    ])
}
