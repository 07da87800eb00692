//! `cargo xtask bench`: measurements of berth, printed (never asserted).

use crate::build::{self, ImageArgs};
use crate::util;
use berth_image::bundle::{self, BundleModule};
use berth_tests::qemu::{Vm, VmConfig};
use clap::Args;
use std::path::Path;
use std::time::Duration;

/// Options for `cargo xtask bench`.
#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Boots to measure.
    #[arg(long, default_value_t = 5)]
    pub runs: usize,
    /// Skip running the same programs on Linux for comparison.
    #[arg(long)]
    pub no_linux: bool,
    /// Run only the network benchmarks (HTTP servers, TCP throughput, the agent).
    #[arg(long)]
    pub network_only: bool,
    /// Run only the Debian benchmarks (nginx, python3 start-up, idle containers; with
    /// Linux unless --no-linux).
    #[arg(long)]
    pub debian_only: bool,
    /// Run only the multi-CPU benchmark: two CPU-bound programs on 1 and on N CPUs
    /// (with Linux unless --no-linux).
    #[arg(long, value_parser = clap::value_parser!(u32).range(2..=64))]
    pub cpus: Option<u32>,
    /// Run only the store benchmarks: 100 containers brought back at boot after a
    /// power cut, what storing an image costs, and write + fsync into a volume
    /// (with Linux writing to the same disk unless --no-linux).
    #[arg(long)]
    pub store: bool,
}

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

/// The program benchmarks: (mode and argument, what they measure).
const PROGRAMS: [(&str, &str); 4] = [
    ("getpid 200000", "getpid"),
    ("faults 64", "page fault, 4 KiB anonymous"),
    ("fork-exec 100", "fork + execve + waitpid"),
    ("pipe 10000", "pipe round trip, 2 processes"),
];

/// The value part of a `bench <name>: <value> ...` line.
fn bench_value(lines: &[String], name: &str) -> Option<String> {
    let tag = format!("bench {name}: ");
    lines.iter().find_map(|l| l.split(&tag).nth(1)).map(|v| v.split(" (").next().unwrap_or(v).to_string())
}

/// Runs an in-kernel test with `image` as module; returns the console lines.
fn ktest(kernel: &Path, test: &str, image: Option<&Path>) -> Result<Vec<String>, String> {
    let mut config = VmConfig::new(kernel.to_path_buf());
    if let Some(image) = image {
        let initrd = util::out_dir().join(format!("bench-{test}.tar"));
        let module =
            BundleModule { name: "images/image.tar".into(), cmdline: "image".into(), file: image.to_path_buf() };
        bundle::write(&[module], &initrd).map_err(|e| e.to_string())?;
        config.initrd = Some(initrd);
    }
    config.cmdline = format!("test={test}");
    let mut vm = Vm::start(&config)?;
    vm.wait_exit(Duration::from_secs(300))?;
    Ok(vm.output().lines().map(str::to_string).collect())
}

/// Runs `bench <mode>` in a container; returns the console lines.
fn in_container(kernel: &Path, image: &Path, mode: &str) -> Result<Vec<String>, String> {
    let initrd = util::out_dir().join("bench-program.tar");
    let module = BundleModule {
        name: "images/test.tar".into(),
        cmdline: format!("container name=bench -- /usr/bin/bench {mode}"),
        file: image.to_path_buf(),
    };
    bundle::write(&[module], &initrd).map_err(|e| e.to_string())?;
    let mut config = VmConfig::new(kernel.to_path_buf());
    config.initrd = Some(initrd);
    config.cmdline = "halt-when-done".into();
    let mut vm = Vm::start(&config)?;
    vm.wait_exit(Duration::from_secs(300))?;
    Ok(vm.output().lines().map(str::to_string).collect())
}

/// Runs the benchmarks and prints the figures.
pub fn bench(args: &BenchArgs) -> Result<(), String> {
    let built = build::image(&ImageArgs::default())?;
    let kernel = built.direct.kernel.clone();
    let image = util::out_dir().join("boot-root/images/test.tar");
    let runs = args.runs.max(1);
    if let Some(cpus) = args.cpus {
        let rows = crate::bench_smp::run(&kernel, &image, cpus, !args.no_linux)?;
        println!("\nberth and Linux on 1 and {cpus} CPUs (QEMU TCG, 512 MiB; each round's pair)");
        for (what, figure) in &rows {
            println!("  {what:<52} {figure}");
        }
        return Ok(());
    }
    if args.store {
        let rows = crate::bench_store::run(&kernel, !args.no_linux)?;
        println!("\nberth's store (QEMU TCG, 512 MiB, a virtio-blk data disk)");
        for (what, figure) in &rows {
            println!("  {what:<52} {figure}");
        }
        return Ok(());
    }
    if args.debian_only {
        let rows = crate::bench_debian::run(&kernel, !args.no_linux)?;
        println!("\nberth and Linux with Debian's programs (QEMU TCG, 1 vCPU, 1536 MiB; each round's pair)");
        for (what, figure) in &rows {
            println!("  {what:<52} {figure}");
        }
        return Ok(());
    }
    if args.network_only {
        let mut rows = crate::bench_net::run(&kernel, &image)?;
        rows.extend(crate::bench_agent::run(&kernel)?);
        println!("\nberth network benchmarks (QEMU TCG, 1 vCPU, 512 MiB)");
        for (what, figure) in &rows {
            println!("  {what:<46} {figure}");
        }
        return Ok(());
    }

    println!("==> boot time: {runs} boots, QEMU start to the kernel's `ready` line (TCG, 512 MiB)");
    let (mut wall, mut kernel_ms) = (Vec::new(), Vec::new());
    for i in 1..=runs {
        let mut config = VmConfig::new(kernel.clone());
        config.initrd = built.direct.initrd.clone();
        config.cmdline = built.direct.cmdline.clone();
        let mut vm = Vm::start(&config)?;
        let line = vm.expect("ready", Duration::from_secs(60))?;
        let ms = vm.elapsed().as_secs_f64() * 1000.0;
        // The kernel's own stamp: seconds since kernel entry.
        let stamp = line.trim_start_matches('[').split(']').next().and_then(|s| s.trim().parse::<f64>().ok());
        println!("    boot {i}: {ms:.0} ms to ready (kernel entry to ready: {:.1} ms)", stamp.unwrap_or(0.0) * 1000.0);
        wall.push(ms);
        kernel_ms.extend(stamp.map(|s| s * 1000.0));
    }

    println!("==> kernel primitives (in-kernel timings)");
    let primitives = ktest(&kernel, "microbench", None)?;
    for line in primitives.iter().filter_map(|l| l.rsplit_once("microbench: ").map(|(_, r)| r)) {
        println!("    {line}");
    }

    println!("==> container start latency (30 containers of `bench true`)");
    let start = ktest(&kernel, "start-latency", Some(&image))?;
    let start_line = start.iter().find_map(|l| l.split("bench container-start: ").nth(1)).unwrap_or("?").to_string();
    println!("    {start_line}");

    println!("==> programs in a berth container (one VM each)");
    let mut berth = Vec::new();
    for (mode, _) in PROGRAMS {
        let lines = in_container(&kernel, &image, mode)?;
        let name = mode.split(' ').next().unwrap_or(mode);
        let value = bench_value(&lines, name);
        println!("    {mode}: {}", value.as_deref().unwrap_or("no result"));
        berth.push(value);
    }

    let mut network = match crate::bench_net::run(&kernel, &image) {
        Ok(rows) => rows,
        Err(e) => {
            println!("    network benchmarks failed: {e}");
            Vec::new()
        }
    };
    match crate::bench_agent::run(&kernel) {
        Ok(rows) => network.extend(rows),
        Err(e) => println!("    control agent benchmarks failed: {e}"),
    }
    match crate::bench_debian::run(&kernel, !args.no_linux) {
        Ok(rows) => network.extend(rows),
        Err(e) => println!("    Debian benchmarks failed: {e}"),
    }

    let linux = if args.no_linux {
        None
    } else {
        println!("==> the same programs on Linux in the same QEMU");
        match linux_figures(&built) {
            Ok(l) => Some(l),
            Err(e) => {
                println!("    Linux comparison skipped: {e}");
                None
            }
        }
    };

    let elf = std::fs::read(&kernel).map_err(|e| e.to_string())?;
    let loads: Vec<crate::elf::Segment> =
        crate::elf::segments(&elf).unwrap_or_default().into_iter().filter(|s| s.kind == 1).collect();
    let file: u64 = loads.iter().map(|s| s.file_size).sum();
    let memory: u64 = loads.iter().map(|s| s.mem_size).sum();
    let linux_name = linux.as_ref().map_or("Linux".to_string(), |l| format!("Linux {}", l.version));
    println!("\nberth benchmarks (QEMU TCG, 1 vCPU, 512 MiB; medians where repeated)");
    println!("  {:<46} {:<34} {}", "", "berth", linux_name);
    let linux_boot = linux.as_ref().map(|l| format!("{:.0} ms (to /init)", l.boot_ms));
    println!(
        "  {:<46} {:<34} {}",
        "boot: QEMU start to ready",
        format!("{:.0} ms", median(&mut wall)),
        linux_boot.unwrap_or_default()
    );
    if !kernel_ms.is_empty() {
        println!("  {:<46} {:.1} ms", "boot: kernel entry to ready", median(&mut kernel_ms));
    }
    for (i, (mode, what)) in PROGRAMS.iter().enumerate() {
        let theirs = linux.as_ref().and_then(|l| l.values[i].clone()).unwrap_or_default();
        println!("  {:<46} {:<34} {theirs}", format!("{what} (bench {mode})"), berth[i].clone().unwrap_or_default());
    }
    println!(
        "  {:<46} {}",
        "container start: create to first system call",
        start_line.split(" median").next().unwrap_or("?")
    );
    for (what, figure) in &network {
        println!("  {what:<46} {figure}");
    }
    println!("  {:<46} {} KiB (with symbols)", "kernel ELF file", elf.len() / 1024);
    println!("  {:<46} {} KiB from file, {} KiB in memory", "kernel image loaded", file / 1024, memory / 1024);
    Ok(())
}

/// Figures from Linux.
struct LinuxFigures {
    version: String,
    boot_ms: f64,
    values: Vec<Option<String>>,
}

fn linux_figures(built: &build::Built) -> Result<LinuxFigures, String> {
    let _ = built;
    let kernel = crate::linux::kernel()?;
    let bench = util::out_dir().join("userland/bench");
    let script: Vec<String> = PROGRAMS.iter().map(|(mode, _)| format!("/bin/bench {mode}")).collect();
    let initramfs = util::out_dir().join("linux/bench-initramfs.cpio");
    crate::linux::initramfs(&[("bench", &bench)], &script.join("\n"), &initramfs)?;
    let (lines, boot) = crate::linux::run(&kernel, &initramfs, Duration::from_secs(600))?;
    let values = PROGRAMS
        .iter()
        .map(|(mode, _)| bench_value(&lines, mode.split(' ').next().unwrap_or(mode)))
        .collect::<Vec<_>>();
    for ((mode, _), v) in PROGRAMS.iter().zip(&values) {
        println!("    {mode}: {}", v.as_deref().unwrap_or("no result"));
    }
    Ok(LinuxFigures { version: kernel.version, boot_ms: boot.as_secs_f64() * 1000.0, values })
}
