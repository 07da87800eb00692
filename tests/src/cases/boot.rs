//! Booting: the banner, the memory map, modules, shutdown.

use super::run::{self, Boot};
use super::{boot_and_wait, ktest};
use crate::artifacts::Artifacts;
use crate::qemu::{Vm, VmConfig};
use crate::runner::seconds;
use berth_image::bundle::{self, BundleModule};

/// Boots to `ready`; the banner names the version and loader, and the memory lines
/// describe a sorted map with most of the VM's 512 MiB usable.
pub fn banner(a: &Artifacts) -> Result<(), String> {
    let mut vm = Vm::start(&VmConfig::new(a.kernel.clone()))?;
    vm.expect("ready", seconds(30))?;
    let out = vm.output();
    let version = env!("CARGO_PKG_VERSION");
    if !out.contains(&format!("berth {version} booted by PVH direct boot")) {
        return Err(vm.failure("no boot banner with the version and loader"));
    }
    let mut last_end = 0u64;
    let mut usable = 0u64;
    for line in out.lines().filter(|l| l.contains("memory: 0x")) {
        let fields: Vec<&str> = line.split_whitespace().collect();
        let range = fields.iter().find(|f| f.starts_with("0x")).ok_or_else(|| vm.failure("bad memory line"))?;
        let (start, end) = range.split_once('-').ok_or_else(|| vm.failure("bad memory range"))?;
        let parse =
            |s: &str| u64::from_str_radix(s.trim_start_matches("0x"), 16).map_err(|e| vm.failure(&e.to_string()));
        let (start, end) = (parse(start)?, parse(end)?);
        if start < last_end || end <= start {
            return Err(vm.failure(&format!("memory map out of order at {line}")));
        }
        if line.ends_with("Usable") {
            usable += end - start;
        }
        last_end = end;
    }
    if !(400 << 20..512 << 20).contains(&usable) {
        return Err(vm.failure(&format!("{} MiB usable in a 512 MiB VM", usable >> 20)));
    }
    for needle in ["MiB in the frame pool", "local APIC", "reference clock", "tick at 250 Hz"] {
        if !out.contains(needle) {
            return Err(vm.failure(&format!("the banner does not mention {needle:?}")));
        }
    }
    Ok(())
}

/// With 2 and 4 virtual CPUs every CPU the MADT lists comes up, the scheduler uses them
/// all (CPU 0 alone with `nosmp`), and containers run and see the CPUs they may
/// use (`nproc`, `/sys/devices/system/cpu/online`, `/proc/cpuinfo`). Two CPU-bound
/// containers on 2 CPUs keep both busy: CPU 1 runs a good share of their work.
pub fn smp(a: &Artifacts) -> Result<(), String> {
    let look = "seq 1 3; echo nproc $(nproc); echo online $(cat /sys/devices/system/cpu/online); \
                echo cpuinfo $(grep -c ^processor /proc/cpuinfo)";
    let counter = || Boot::new(&a.busybox_image, "counter", "", &format!("/bin/sh -c \"{look}\""));
    for (cpus, cmdline, scheduler, used) in
        [(2, "", "scheduler: 2 CPU(s)", 2), (4, "", "scheduler: 4 CPU(s)", 4), (2, "nosmp", "scheduler: 1 CPU", 1)]
    {
        let test = format!("boot-smp-{cpus}{cmdline}");
        let out = run::boot_with(a, &test, &[counter()], cmdline, seconds(60), |c| c.cpus = cpus)?;
        for line in [format!("CPUs: {cpus} of {cpus} online"), String::from(scheduler)] {
            if !out.vm.output().contains(&line) {
                return Err(out.vm.failure(&format!("expected `{line}` on the console")));
            }
        }
        out.expect_status("counter", 0)?;
        out.expect_line("counter", "3")?;
        out.expect_line("counter", &format!("nproc {used}"))?;
        let online = if used == 1 { String::from("0") } else { format!("0-{}", used - 1) };
        out.expect_line("counter", &format!("online {online}"))?;
        out.expect_line("counter", &format!("cpuinfo {used}"))?;
    }
    let spin = "/bin/sh -c \"i=0; while [ $i -lt 40000 ]; do i=$((i+1)); done; echo spun $i\"";
    let containers = [Boot::new(&a.busybox_image, "spin-a", "", spin), Boot::new(&a.busybox_image, "spin-b", "", spin)];
    let out = run::boot_with(a, "boot-smp-scheduler", &containers, "", seconds(120), |c| c.cpus = 2)?;
    for name in ["spin-a", "spin-b"] {
        out.expect_status(name, 0)?;
        out.expect_line(name, "spun 40000")?;
    }
    let busy = |cpu: u32| -> Option<u64> {
        let tag = format!("summary: cpu {cpu} busy ");
        out.vm.output().lines().find_map(|l| l.split(&tag).nth(1)?.split_whitespace().next()?.parse().ok())
    };
    let (Some(zero), Some(one)) = (busy(0), busy(1)) else {
        return Err(out.vm.failure("no per-CPU busy time in the summary"));
    };
    // Each container is placed on its own CPU; CPU 0 also runs the kernel's threads.
    if one * 4 < zero + one {
        return Err(out.vm.failure(&format!("CPU 1 ran {one} ms of {} ms: the second CPU was not used", zero + one)));
    }
    Ok(())
}

/// Eight containers at once on 4 CPUs, each forking and exiting 40 children and
/// spinning: all finish (no deadlock, no lost wake-up; the run has a deadline), each
/// with its own output, and more than one CPU does the work.
pub fn smp_storm(a: &Artifacts) -> Result<(), String> {
    let work = "/bin/sh -c \"for i in $(seq 1 40); do /bin/true; done; i=0; while [ $i -lt 5000 ]; do i=$((i+1)); done; echo done $i\"";
    let names: Vec<String> = (0..8).map(|n| format!("storm-{n}")).collect();
    let containers: Vec<Boot> = names.iter().map(|n| Boot::new(&a.busybox_image, n, "", work)).collect();
    let out = run::boot_with(a, "boot-smp-storm", &containers, "", seconds(180), |c| c.cpus = 4)?;
    for name in &names {
        out.expect_status(name, 0)?;
        out.expect_line(name, "done 5000")?;
    }
    let busy: Vec<u64> = (0..4)
        .filter_map(|cpu| {
            let tag = format!("summary: cpu {cpu} busy ");
            out.vm.output().lines().find_map(|l| l.split(&tag).nth(1)?.split_whitespace().next()?.parse().ok())
        })
        .collect();
    if busy.len() != 4 || busy.iter().filter(|&&ms| ms > 0).count() < 2 {
        return Err(out.vm.failure(&format!("per-CPU busy time {busy:?}: the work did not spread")));
    }
    Ok(())
}

/// A container given CPU 1 alone (`cpuset=1`, Docker's `--cpuset-cpus 1`) on 2 CPUs
/// sees one CPU, and its work runs there; `taskset` (sched_setaffinity) inside a
/// container of both CPUs moves a program to the CPU it names, and may not name one
/// the container lacks.
pub fn smp_cpuset(a: &Artifacts) -> Result<(), String> {
    let pinned = "echo nproc $(nproc); echo online $(cat /sys/devices/system/cpu/online); \
                  echo cpuinfo $(grep -c ^processor /proc/cpuinfo); taskset -p $$; \
                  i=0; while [ $i -lt 30000 ]; do i=$((i+1)); done; echo spun $i";
    let free = "taskset -c 1 /usr/bin/c-probe where; taskset -p 4 $$ >/dev/null 2>&1; echo bad $?; \
                taskset -c 0 /bin/sh -c 'echo child nproc $(nproc)'";
    let containers = [
        Boot::new(&a.busybox_image, "pinned", "cpuset=1", &format!("/bin/sh -c \"{pinned}\"")),
        Boot::new(&a.test_image, "free", "", &format!("/bin/sh -c \"{free}\"")),
    ];
    let out = run::boot_with(a, "boot-smp-cpuset", &containers, "", seconds(120), |c| c.cpus = 2)?;
    for line in ["nproc 1", "online 1", "cpuinfo 1", "spun 30000"] {
        out.expect_line("pinned", line)?;
    }
    if !out.output("pinned").iter().any(|l| l.ends_with("affinity mask: 2")) {
        return Err(out.vm.failure("taskset -p in the pinned container did not show mask 2"));
    }
    out.expect_status("pinned", 0)?;
    out.expect_line("free", "running on CPU 1, affinity 2")?;
    out.expect_line("free", "bad 1")?;
    out.expect_line("free", "child nproc 1")?;
    out.expect_status("free", 0)?;
    Ok(())
}

/// The threads of one process run on several CPUs at once (`c-probe smp-stress`, on 2
/// and on 4 CPUs): four of them share a mutex and count exactly, and while one thread
/// maps and unmaps a page over and over, another reading it never sees freed memory
/// reused elsewhere (which it does without the TLB shootdown).
pub fn smp_threads(a: &Artifacts) -> Result<(), String> {
    for cpus in [2, 4] {
        let containers = [Boot::new(&a.test_image, "threads", "", "/usr/bin/c-probe smp-stress")];
        let test = format!("boot-smp-threads-{cpus}");
        let out = run::boot_with(a, &test, &containers, "", seconds(180), |c| c.cpus = cpus)?;
        out.expect_status("threads", 0)?;
        let used = out
            .output("threads")
            .iter()
            .find_map(|l| l.strip_prefix("smp-stress ok: ")?.split_whitespace().next()?.parse::<u32>().ok());
        if used.is_none_or(|n| n < 2) {
            return Err(out.vm.failure(&format!("the threads ran on {used:?} CPUs of {cpus}")));
        }
    }
    Ok(())
}

/// A Go program with GOMAXPROCS=4 on 4 CPUs (`go-probe`): goroutines on four OS
/// threads at once count under one mutex, pass tokens around a ring of channels and
/// allocate while the collector runs, each result checked; it sees the 4 CPUs.
pub fn smp_go(a: &Artifacts) -> Result<(), String> {
    let containers = [Boot::new(&a.test_image, "go", "env=GOMAXPROCS=4", "/usr/bin/go-probe")];
    let out = run::boot_with(a, "boot-smp-go", &containers, "", seconds(180), |c| c.cpus = 4)?;
    out.expect_status("go", 0)?;
    if !out.output("go").iter().any(|l| l.starts_with("go-probe ok: GOMAXPROCS 4, NumCPU 4")) {
        return Err(out.vm.failure("go-probe did not report success with GOMAXPROCS 4 on 4 CPUs"));
    }
    Ok(())
}

/// The kernel's own memory-map checks.
pub fn memory_map(a: &Artifacts) -> Result<(), String> {
    ktest(a, "test=memory-map", seconds(30)).map(drop)
}

/// Two modules in an initrd bundle reach the kernel with their sizes, contents (by
/// hash) and command lines.
pub fn modules(a: &Artifacts) -> Result<(), String> {
    let dir = a.scratch("boot-modules");
    let one: Vec<u8> = (0..70_000u32).map(|i| (i * 7 % 251) as u8).collect();
    let two = b"second module".to_vec();
    std::fs::write(dir.join("one"), &one).map_err(|e| e.to_string())?;
    std::fs::write(dir.join("two"), &two).map_err(|e| e.to_string())?;
    let modules = [
        BundleModule {
            name: "images/one.tar".into(),
            cmdline: "container name=one -- /bin/true".into(),
            file: dir.join("one"),
        },
        BundleModule { name: "images/two.tar".into(), cmdline: String::new(), file: dir.join("two") },
    ];
    let initrd = dir.join("initrd.tar");
    bundle::write(&modules, &initrd).map_err(|e| e.to_string())?;
    let mut config = VmConfig::new(a.kernel.clone());
    config.initrd = Some(initrd);
    let mut vm = Vm::start(&config)?;
    vm.expect("ready", seconds(30))?;
    let out = vm.output();
    let expect = [
        format!(
            "module 0: {} bytes, fnv1a {:016x}, cmdline \"container name=one -- /bin/true\"",
            one.len(),
            fnv1a(&one)
        ),
        format!("module 1: {} bytes, fnv1a {:016x}, cmdline \"\"", two.len(), fnv1a(&two)),
    ];
    for line in &expect {
        if !out.contains(line.as_str()) {
            return Err(vm.failure(&format!("missing `{line}`")));
        }
    }
    Ok(())
}

/// ACPI power-off through `\_S5`: QEMU exits with status 0 (not the debug-exit code).
pub fn acpi_shutdown(a: &Artifacts) -> Result<(), String> {
    let (code, vm) = boot_and_wait(a, "test=shutdown", seconds(30))?;
    if code != 0 || !vm.output().contains("shutting down") {
        return Err(vm.failure(&format!("expected an ACPI power-off (exit 0), got exit {code}")));
    }
    Ok(())
}

/// FNV-1a, 64-bit: the kernel prints it for each module.
fn fnv1a(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}

/// Whether the Limine test can run here: `LIMINE_DIR` names Limine's binaries (the
/// image step then builds `berth.iso` with them) and OVMF is installed.
pub fn limine_present(_: &Artifacts) -> Result<(), String> {
    if std::env::var_os("LIMINE_DIR").is_none() {
        return Err("LIMINE_DIR is not set (it names a directory with Limine 8 or later's binaries)".into());
    }
    if !std::path::Path::new(OVMF).is_file() {
        return Err(format!("no UEFI firmware at {OVMF} (apt-get install ovmf)"));
    }
    Ok(())
}

/// The UEFI firmware the Limine test boots through.
const OVMF: &str = "/usr/share/ovmf/OVMF.fd";

/// The Limine disk image (`berth.img`, from `limine.cfg`) boots through SeaBIOS with 4
/// CPUs (when the `limine` tool installed the BIOS stages) and through UEFI with 2, and
/// the ISO (`berth.iso`) through UEFI: Limine starts the other CPUs (its MP request)
/// and the kernel takes them from there, the command line and both modules arrive, the
/// hello container prints and the web container serves over the network.
pub fn limine(a: &Artifacts) -> Result<(), String> {
    let (iso, disk) = (a.dir.join("berth.iso"), a.dir.join("berth.img"));
    for built in [&iso, &disk] {
        if !built.is_file() {
            return Err(format!("{} was not built although LIMINE_DIR is set (see the image step)", built.display()));
        }
    }
    let limine_dir = std::path::PathBuf::from(std::env::var_os("LIMINE_DIR").unwrap_or_default());
    let bios = berth_image::iso::limine_tool(&limine_dir).is_some();
    // (medium, UEFI firmware, CPUs); the disk is booted from a scratch copy, which the
    // kernel may write.
    let scratch = a.scratch("boot-limine");
    std::fs::create_dir_all(&scratch).map_err(|e| e.to_string())?;
    let copy = scratch.join("berth.img");
    let rounds = [(&disk, None, 4), (&disk, Some(OVMF), 2), (&iso, Some(OVMF), 2)];
    for (medium, firmware, cpus) in rounds.into_iter().filter(|(_, f, _)| bios || f.is_some()) {
        let port = crate::qemu::free_port();
        let mut config = VmConfig::new(a.kernel.clone());
        if medium == &iso {
            config.iso = Some(iso.clone());
        } else {
            std::fs::copy(&disk, &copy).map_err(|e| format!("copying {}: {e}", disk.display()))?;
            config.disk = Some(copy.clone());
            config.boot_from_disk = true;
        }
        config.uefi_firmware = firmware.map(std::path::PathBuf::from);
        config.cpus = cpus;
        config.network = Some(vec![crate::qemu::Forward { host: port, guest: 8080 }]);
        let how = format!(
            "Limine from the {} through {}",
            if medium == &iso { "ISO" } else { "disk image" },
            if firmware.is_some() { "UEFI" } else { "BIOS" }
        );
        let mut vm = Vm::start(&config)?;
        vm.expect("container hello exited", seconds(120)).map_err(|e| format!("{how}: {e}"))?;
        let out = vm.output();
        let aps = cpus - 1;
        for needle in [
            "booted by Limine ".to_string(),
            "(Limine protocol, base revision".to_string(),
            "command line: \"log=info\"".to_string(),
            format!("CPUs: {cpus} of {cpus} online ({aps} started by the boot loader)"),
            format!("scheduler: {cpus} CPU(s)"),
            "berth: ready".to_string(),
            "[hello] hello from a berth container".to_string(),
            "container hello exited with status 0".to_string(),
        ] {
            if !out.contains(&needle) {
                return Err(vm.failure(&format!("{how}: no {needle:?}")));
            }
        }
        // Booted from the disk image, the kernel finds the data partition beside its own.
        if medium == &disk && !out.contains("store: disk at") {
            return Err(vm.failure(&format!("{how}: the store on the disk image's data partition was not opened")));
        }
        for _ in 0..3 {
            let body = crate::http::get(&format!("http://127.0.0.1:{port}/hello.txt"))?;
            if body.is_empty() {
                return Err(vm.failure("the web container served an empty page"));
            }
        }
    }
    Ok(())
}
