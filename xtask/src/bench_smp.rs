//! `cargo xtask bench --cpus N`: what more CPUs buy. Two CPU-bound programs (`bench
//! spin`) run at once, in two berth containers and as two Linux processes in the same
//! QEMU, first on one CPU and then on N; the time until both are done (the slower of
//! the two, each timing itself) gives the speed-up. Runs alternate berth, Linux, berth,
//! Linux... since these machines are noisy. Then busybox httpd under 16 connections
//! (wrk), in a berth container and as a Linux process, on one CPU and on N.

use crate::util;
use berth_image::bundle::{self, BundleModule};
use berth_tests::qemu::{Forward, Vm, VmConfig, free_port};
use std::path::Path;
use std::time::Duration;

/// Millions of rounds each program spins (about a second under TCG).
const SPIN: u32 = 150;
/// Measurements of each configuration.
const ROUNDS: usize = 3;

/// The slower of the two programs' own timings in `lines` (ms), if both reported.
fn makespan(lines: &[String]) -> Option<f64> {
    let times: Vec<f64> =
        lines.iter().filter_map(|l| l.split("bench spin: ").nth(1)?.split_whitespace().next()?.parse().ok()).collect();
    (times.len() == 2).then(|| times.iter().copied().fold(0.0, f64::max))
}

/// Two containers of `image` spinning at once on a berth VM of `cpus` CPUs.
fn berth_run(kernel: &Path, image: &Path, cpus: u32) -> Result<f64, String> {
    let initrd = util::out_dir().join("bench-smp.tar");
    let modules: Vec<BundleModule> = ["spin-a", "spin-b"]
        .iter()
        .enumerate()
        .map(|(i, name)| BundleModule {
            name: format!("images/{i}.tar"),
            cmdline: format!("container name={name} -- /usr/bin/bench spin {SPIN}"),
            file: image.to_path_buf(),
        })
        .collect();
    bundle::write(&modules, &initrd).map_err(|e| e.to_string())?;
    let mut config = VmConfig::new(kernel.to_path_buf());
    config.initrd = Some(initrd);
    config.cmdline = "halt-when-done".into();
    config.cpus = cpus;
    let mut vm = Vm::start(&config)?;
    vm.wait_exit(Duration::from_secs(300))?;
    let lines: Vec<String> = vm.output().lines().map(str::to_string).collect();
    makespan(&lines).ok_or_else(|| vm.failure("the two containers did not both report"))
}

/// Two processes spinning at once on a Linux VM of `cpus` CPUs.
fn linux_run(kernel: &crate::linux::Kernel, initramfs: &Path, cpus: u32) -> Result<f64, String> {
    let (lines, _) = crate::linux::run_on(kernel, initramfs, cpus, Duration::from_secs(300))?;
    makespan(&lines).ok_or_else(|| String::from("Linux: the two programs did not both report"))
}

/// Requests per second of busybox httpd in a berth container on `cpus` CPUs, under
/// 16 connections; None without wrk.
fn berth_http(kernel: &Path, image: &Path, cpus: u32) -> Result<Option<f64>, String> {
    let port = free_port();
    let initrd = util::out_dir().join("bench-smp-http.tar");
    let module = BundleModule {
        name: "images/0.tar".into(),
        cmdline: "container name=httpd publish=8080:80 -- /bin/busybox httpd -f -p 80 -h /data".into(),
        file: image.to_path_buf(),
    };
    bundle::write(&[module], &initrd).map_err(|e| e.to_string())?;
    let mut config = VmConfig::new(kernel.to_path_buf());
    config.initrd = Some(initrd);
    config.cpus = cpus;
    config.network = Some(vec![Forward { host: port, guest: 8080 }]);
    let mut vm = Vm::start(&config)?;
    vm.expect("berth: ready", Duration::from_secs(60))?;
    wrk_once_answering(&vm, port)
}

/// Waits until `/hello.txt` on host port `port` answers, then measures it with wrk
/// and 16 connections: requests per second, None without wrk.
fn wrk_once_answering(vm: &Vm, port: u16) -> Result<Option<f64>, String> {
    let url = format!("http://127.0.0.1:{port}/hello.txt");
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while berth_tests::http::get(&url).is_err() {
        if std::time::Instant::now() > deadline {
            return Err(vm.failure(&format!("{url} never answered")));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok(crate::bench_net::wrk(&url, 16).map(|f| f.requests_per_second))
}

/// A Linux initramfs that brings the network up and runs busybox httpd on port 80,
/// serving the same `/data/hello.txt` as the berth image.
fn linux_http_initramfs() -> Result<std::path::PathBuf, String> {
    let out = util::out_dir().join("linux/bench-smp-http-initramfs.cpio");
    let dir = crate::linux::modules_dir();
    let modules: Vec<(String, std::path::PathBuf)> = crate::linux::NET_MODULES
        .iter()
        .map(|m| {
            let file = crate::linux::module_file(m);
            (file.to_string(), dir.join(file))
        })
        .collect();
    let files: Vec<(&str, &Path)> = modules.iter().map(|(n, p)| (n.as_str(), p.as_path())).collect();
    let load: String = modules.iter().map(|(n, _)| format!("/bin/busybox insmod /bin/{n}\n")).collect();
    let hello = berth_image::rootfs::HELLO.trim_end();
    let script = format!(
        "{load}/bin/busybox ip link set lo up\n/bin/busybox ip link set eth0 up\n\
         /bin/busybox ip addr add 10.0.2.15/24 dev eth0\n/bin/busybox mkdir -p /data\n\
         echo '{hello}' > /data/hello.txt\n/bin/busybox httpd -f -p 80 -h /data &\n\
         echo HTTPD-STARTED\n/bin/busybox sleep 100000"
    );
    crate::linux::initramfs(&files, &script, &out)?;
    Ok(out)
}

/// Requests per second of busybox httpd as a Linux process on `cpus` CPUs, under 16
/// connections; None without wrk.
fn linux_http(kernel: &crate::linux::Kernel, initramfs: &Path, cpus: u32) -> Result<Option<f64>, String> {
    let port = free_port();
    let mut config = crate::linux::vm_config(kernel, initramfs);
    config.cpus = cpus;
    config.network = Some(vec![Forward { host: port, guest: 80 }]);
    let mut vm = Vm::start(&config)?;
    vm.expect("HTTPD-STARTED", Duration::from_secs(120))?;
    wrk_once_answering(&vm, port)
}

/// Runs the measurement with `cpus` CPUs against one; returns table rows.
pub fn run(kernel: &Path, image: &Path, cpus: u32, with_linux: bool) -> Result<Vec<(String, String)>, String> {
    let linux = if with_linux {
        let kernel = crate::linux::kernel()?;
        let bench = util::out_dir().join("userland/bench");
        let initramfs = util::out_dir().join("linux/bench-smp-initramfs.cpio");
        let script = format!("/bin/bench spin {SPIN} &\n/bin/bench spin {SPIN} &\nwait");
        crate::linux::initramfs(&[("bench", &bench)], &script, &initramfs)?;
        Some((kernel, initramfs))
    } else {
        None
    };
    println!("==> two CPU-bound programs at once (bench spin {SPIN}), on 1 and on {cpus} CPUs");
    let mut rows = Vec::new();
    for round in 1..=ROUNDS {
        let berth = (berth_run(kernel, image, 1)?, berth_run(kernel, image, cpus)?);
        println!(
            "    round {round} berth: {:.0} ms on 1 CPU, {:.0} ms on {cpus}: speed-up {:.2}x",
            berth.0,
            berth.1,
            berth.0 / berth.1
        );
        let mut row = format!("{:.2}x ({:.0} -> {:.0} ms)", berth.0 / berth.1, berth.0, berth.1);
        if let Some((kernel, initramfs)) = &linux {
            let l = (linux_run(kernel, initramfs, 1)?, linux_run(kernel, initramfs, cpus)?);
            println!(
                "    round {round} Linux: {:.0} ms on 1 CPU, {:.0} ms on {cpus}: speed-up {:.2}x",
                l.0,
                l.1,
                l.0 / l.1
            );
            row += &format!(" vs Linux {:.2}x ({:.0} -> {:.0} ms)", l.0 / l.1, l.0, l.1);
        }
        rows.push((format!("two CPU-bound programs, 1 -> {cpus} CPUs, round {round}"), row));
    }
    println!("==> busybox httpd, 16 connections (wrk), on 1 and on {cpus} CPUs");
    let linux_http_setup = match &linux {
        Some((kernel, _)) => Some((kernel, linux_http_initramfs()?)),
        None => None,
    };
    for round in 1..=ROUNDS {
        let (one, many) = (berth_http(kernel, image, 1)?, berth_http(kernel, image, cpus)?);
        let (Some(one), Some(many)) = (one, many) else {
            println!("    no wrk: skipped");
            break;
        };
        println!("    round {round} berth: {one:.0} req/s on 1 CPU, {many:.0} on {cpus}: {:.2}x", many / one);
        let mut row = format!("{:.2}x ({one:.0} -> {many:.0} req/s)", many / one);
        if let Some((kernel, initramfs)) = &linux_http_setup {
            let (l1, ln) = (linux_http(kernel, initramfs, 1)?, linux_http(kernel, initramfs, cpus)?);
            if let (Some(l1), Some(ln)) = (l1, ln) {
                println!("    round {round} Linux: {l1:.0} req/s on 1 CPU, {ln:.0} on {cpus}: {:.2}x", ln / l1);
                row += &format!(" vs Linux {:.2}x ({l1:.0} -> {ln:.0} req/s)", ln / l1);
            }
        }
        rows.push((format!("httpd, 16 connections, 1 -> {cpus} CPUs, round {round}"), row));
    }
    Ok(rows)
}
