//! `cargo xtask bench --store`: berth's persistent store. How long a boot takes to
//! bring back 100 containers with `--restart always` (QEMU start to the last one
//! running, after a power cut); what storing an image costs: `docker import` of the
//! test image with a data disk and without one, interleaved; and writing a file and
//! making it durable (`bench write-fsync`, what `dd conv=fsync` measures) into a
//! volume in a berth container against Linux writing the same to the same virtio-blk
//! disk, interleaved; and reading it back from the disk, none of it in memory (berth
//! after a reboot, Linux after dropping its caches).

use crate::util;
use berth_tests::docker::{Docker, TEST_TOKEN};
use berth_tests::qemu::{Forward, Vm, VmConfig, free_port};
use std::path::Path;
use std::time::{Duration, Instant};

/// Containers brought back at boot.
const CONTAINERS: usize = 100;
/// Rounds of the import measurement.
const ROUNDS: usize = 3;
const CLI: Duration = Duration::from_secs(120);

fn boot(kernel: &Path, disk: Option<&Path>, port: u16) -> Result<Vm, String> {
    let mut config = VmConfig::new(kernel.to_path_buf());
    config.cmdline = format!("agent-token={TEST_TOKEN}");
    config.network = Some(vec![Forward { host: port, guest: 2375 }]);
    config.disk = disk.map(Path::to_path_buf);
    let mut vm = Vm::start(&config)?;
    vm.expect("Docker Engine API", Duration::from_secs(120))?;
    Ok(vm)
}

/// The kernel's own timestamp (seconds since entry) at the start of a log line.
fn stamp(line: &str) -> Option<f64> {
    line.trim_start().strip_prefix('[')?.split(']').next()?.trim().parse().ok()
}

/// Runs the store benchmarks; returns (what, figure) rows.
pub fn run(kernel: &Path, linux: bool) -> Result<Vec<(String, String)>, String> {
    let dir = util::out_dir().join("bench-store");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let disk = dir.join("disk.img");
    let busybox = util::out_dir().join("boot-root/images/busybox.tar");
    let test_image = util::out_dir().join("boot-root/images/test.tar");
    let port = free_port();
    let docker = Docker::new(port, &dir.join("docker"), Some(TEST_TOKEN))?;
    let mut rows = Vec::new();

    println!("==> {CONTAINERS} containers with --restart always, then a power cut and a boot");
    berth_image::disk::data_disk(&disk, 256 << 20).map_err(|e| e.to_string())?;
    let vm = boot(kernel, Some(&disk), port)?;
    docker.ok(&["import", &busybox.to_string_lossy(), "bb"], CLI)?;
    for i in 0..CONTAINERS {
        let name = format!("s{i}");
        docker
            .ok(&["run", "-d", "--name", &name, "--restart", "always", "bb", "/bin/busybox", "sleep", "100000"], CLI)?;
        if (i + 1) % 25 == 0 {
            println!("    {} containers running", i + 1);
        }
    }
    drop(vm); // SIGKILL
    let started = Instant::now();
    let mut config = VmConfig::new(kernel.to_path_buf());
    config.cmdline = format!("agent-token={TEST_TOKEN}");
    config.network = Some(vec![Forward { host: port, guest: 2375 }]);
    config.disk = Some(disk.clone());
    let mut vm = Vm::start(&config)?;
    let line =
        vm.expect(&format!("{CONTAINERS} container(s) restored ({CONTAINERS} running)"), Duration::from_secs(300))?;
    let wall = started.elapsed().as_secs_f64() * 1000.0;
    let took: f64 = line
        .split(" in ")
        .last()
        .and_then(|t| t.trim().strip_suffix(" ms"))
        .and_then(|t| t.parse().ok())
        .unwrap_or(0.0);
    let at = stamp(&line).unwrap_or(0.0) * 1000.0;
    println!(
        "    QEMU start to all {CONTAINERS} running: {wall:.0} ms; in the kernel, all restored at {at:.0} ms after entry, \
         restoring took {took:.0} ms ({:.1} ms a container)",
        took / CONTAINERS as f64
    );
    let ps = docker.ok(&["ps", "-q"], CLI)?;
    println!("    docker ps lists {} running", ps.lines().count());
    rows.push((
        format!("boot to {CONTAINERS} restored containers running"),
        format!("{wall:.0} ms from QEMU start; {took:.0} ms restoring ({:.1} ms each)", took / CONTAINERS as f64),
    ));
    drop(vm);

    let mib = std::fs::metadata(&test_image).map_err(|e| e.to_string())?.len() as f64 / (1 << 20) as f64;
    println!("==> docker import of the test image ({mib:.1} MiB), with a data disk and without (interleaved)");
    let (mut with, mut without) = (Vec::new(), Vec::new());
    for round in 1..=ROUNDS {
        for stored in [true, false] {
            berth_image::disk::data_disk(&disk, 256 << 20).map_err(|e| e.to_string())?;
            let vm = boot(kernel, stored.then_some(disk.as_path()), port)?;
            let t = Instant::now();
            docker.ok(&["import", &test_image.to_string_lossy(), "t"], CLI)?;
            let ms = t.elapsed().as_secs_f64() * 1000.0;
            drop(vm);
            println!("    round {round}, {}: {ms:.0} ms", if stored { "stored on disk" } else { "memory only" });
            if stored { with.push(ms) } else { without.push(ms) }
        }
    }
    let median = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (w, wo) = (median(&mut with), median(&mut without));
    let store_ms = (w - wo).max(0.0);
    let rate = if store_ms > 0.0 { format!("{:.1} MiB/s", mib / (store_ms / 1000.0)) } else { String::from("-") };
    println!("    median {w:.0} ms stored, {wo:.0} ms in memory: the store adds {store_ms:.0} ms ({rate})");
    rows.push((
        format!("docker import {mib:.1} MiB, stored vs memory only"),
        format!("{w:.0} vs {wo:.0} ms (the store: {rate})"),
    ));
    if linux {
        rows.extend(write_fsync(kernel, &disk, &test_image, &docker, port)?);
    }
    Ok(rows)
}

/// MiB each write-and-fsync writes.
const WRITE_MIB: u32 = 32;

/// The figure of a `bench write-fsync` (or `bench read`) line: MiB/s and the line's
/// details.
fn rate(lines: &str, what: &str) -> Option<(f64, String)> {
    let rest = lines.lines().find_map(|l| l.split(&format!("bench {what}: ")).nth(1))?;
    let rate = rest.split_whitespace().next()?.parse().ok()?;
    Some((rate, rest.to_string()))
}

/// `bench write-fsync` of [`WRITE_MIB`] MiB, then `bench read` of it from the disk:
/// in a berth container into a volume (the store on the data disk's partition; read
/// after a reboot), and on Linux to that same partition as a raw block device (no file
/// system: the most Linux can do on this disk; read after dropping its caches), round
/// after round. Returns the rows.
fn write_fsync(
    kernel: &Path,
    disk: &Path,
    test_image: &Path,
    docker: &Docker,
    port: u16,
) -> Result<Vec<(String, String)>, String> {
    println!("==> write {WRITE_MIB} MiB and fsync: berth (a volume) and Linux (the raw partition), interleaved");
    let linux = crate::linux::kernel()?;
    let dir = crate::linux::modules_dir();
    let modules: Vec<(String, std::path::PathBuf)> = crate::linux::BLOCK_MODULES
        .iter()
        .map(|m| (crate::linux::module_file(m).to_string(), dir.join(crate::linux::module_file(m))))
        .collect();
    let mut files: Vec<(&str, &Path)> = modules.iter().map(|(n, p)| (n.as_str(), p.as_path())).collect();
    let bench = util::out_dir().join("userland/bench");
    files.push(("bench", &bench));
    let load: String = modules.iter().map(|(n, _)| format!("/bin/busybox insmod /bin/{n}\n")).collect();
    let script = format!(
        "{load}/bin/busybox sleep 1\n/bin/bench write-fsync /dev/vda1 {WRITE_MIB}\n\
         /bin/busybox sh -c 'echo 3 > /proc/sys/vm/drop_caches'\n/bin/bench read /dev/vda1 {WRITE_MIB}"
    );
    let initramfs = util::out_dir().join("linux/bench-store-initramfs.cpio");
    crate::linux::initramfs(&files, &script, &initramfs)?;

    let (mut berth, mut linux_rates, mut ratios) = (Vec::new(), Vec::new(), Vec::new());
    let (mut berth_reads, mut linux_reads, mut read_ratios) = (Vec::new(), Vec::new(), Vec::new());
    for round in 1..=ROUNDS {
        berth_image::disk::data_disk(disk, 256 << 20).map_err(|e| e.to_string())?;
        let vm = boot(kernel, Some(disk), port)?;
        docker.ok(&["import", &test_image.to_string_lossy(), "t"], CLI)?;
        let mib = WRITE_MIB.to_string();
        let out =
            docker.ok(&["run", "--rm", "-v", "bench:/w", "t", "/usr/bin/bench", "write-fsync", "/w/f", &mib], CLI)?;
        drop(vm);
        let (b, details) = rate(&out, "write-fsync").ok_or_else(|| format!("berth printed no figure: {out}"))?;
        println!("    round {round}, berth: {details}");
        // Read after a reboot: none of the volume's data is in memory.
        let vm = boot(kernel, Some(disk), port)?;
        let out = docker.ok(&["run", "--rm", "-v", "bench:/w", "t", "/usr/bin/bench", "read", "/w/f", &mib], CLI)?;
        drop(vm);
        let (br, details) = rate(&out, "read").ok_or_else(|| format!("berth printed no read figure: {out}"))?;
        println!("    round {round}, berth read: {details}");

        berth_image::disk::data_disk(disk, 256 << 20).map_err(|e| e.to_string())?;
        let mut config = crate::linux::vm_config(&linux, &initramfs);
        config.disk = Some(disk.to_path_buf());
        let mut vm = Vm::start(&config)?;
        vm.expect("LINUX-DONE", Duration::from_secs(300))?;
        let (l, details) =
            rate(&vm.output(), "write-fsync").ok_or_else(|| format!("Linux printed no figure:\n{}", vm.output()))?;
        println!("    round {round}, Linux: {details}   berth/Linux {:.2}x", b / l);
        let (lr, details) =
            rate(&vm.output(), "read").ok_or_else(|| format!("Linux printed no read figure:\n{}", vm.output()))?;
        println!("    round {round}, Linux read: {details}   berth/Linux {:.2}x", br / lr);
        berth.push(b);
        linux_rates.push(l);
        ratios.push(b / l);
        berth_reads.push(br);
        linux_reads.push(lr);
        read_ratios.push(br / lr);
    }
    let median = |mut v: Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let listed = |ratios: Vec<f64>| ratios.iter().map(|r| format!("{r:.2}x")).collect::<Vec<_>>().join(", ");
    Ok(vec![
        (
            format!("write {WRITE_MIB} MiB + fsync, berth volume vs Linux raw"),
            format!("{:.1} vs {:.1} MiB/s (medians; ratios {})", median(berth), median(linux_rates), listed(ratios)),
        ),
        (
            format!("read {WRITE_MIB} MiB from the disk, berth vs Linux"),
            format!(
                "{:.1} vs {:.1} MiB/s (medians; ratios {})",
                median(berth_reads),
                median(linux_reads),
                listed(read_ratios)
            ),
        ),
    ])
}
