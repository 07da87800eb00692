//! Containers running unmodified static Linux programs: busybox applets, the Rust and
//! C probes, faults and isolation, limits, malformed executables.

use super::ktest_with_image;
use super::run::{Boot, boot};
use crate::artifacts::Artifacts;
use crate::runner::seconds;
use berth_image::rootfs::{HELLO, Rootfs};
use std::process::Command;

/// Busybox applets from Debian's busybox-static, each in its own container, with
/// their output checked.
pub fn busybox_applets(a: &Artifacts) -> Result<(), String> {
    let img = &a.busybox_image;
    let run = |name: &str, settings: &str, cmd: &str| Boot::new(img, name, settings, cmd);
    let containers = [
        run("echo", "", "/bin/busybox echo hello from busybox"),
        run("uname", "hostname=berth-test", "/bin/busybox uname -a"),
        run("cat", "", "/bin/busybox cat /data/hello.txt"),
        run("ls", "", "/bin/busybox ls -l /"),
        run("wc", "", "/bin/busybox wc /data/hello.txt"),
        run("sha", "", "/bin/busybox sha256sum /data/hello.txt"),
        run("env", "env=GREETING=hi env=\"SPACED=a b\"", "/bin/busybox env"),
        run("date", "", "/bin/busybox date -u"),
        run("shexit", "", "/bin/busybox sh -c \"echo from sh; exit 3\""),
        run("false", "", "/bin/busybox false"),
        run("pipeline", "", "/bin/sh -c \"echo one two three | wc -w\""),
        // A binary the container wrote itself (its file blocks, not the image's bytes).
        run("copyexec", "", "/bin/sh -c \"cp /bin/busybox /tmp/busybox && /tmp/busybox echo the copy runs\""),
    ];
    let out = boot(a, "busybox-applets", &containers, "", seconds(120))?;
    for (name, code) in [("echo", 0), ("uname", 0), ("cat", 0), ("ls", 0), ("wc", 0), ("sha", 0), ("env", 0)] {
        out.expect_status(name, code)?;
    }
    out.expect_status("date", 0)?;
    out.expect_status("shexit", 3)?;
    out.expect_status("false", 1)?;
    out.expect_status("pipeline", 0)?;
    out.expect_status("copyexec", 0)?;
    out.expect_line("copyexec", "the copy runs")?;
    out.expect_line("echo", "hello from busybox")?;
    out.expect_line("uname", "Linux berth-test ")?;
    out.expect_line("uname", " x86_64 ")?;
    out.expect_line("cat", HELLO.trim_end())?;
    let ls = out.output("ls");
    for dir in ["bin", "data", "dev", "etc", "proc", "root", "tmp", "usr"] {
        if !ls.iter().any(|l| l.starts_with('d') && l.ends_with(&format!(" {dir}"))) {
            return Err(out.vm.failure(&format!("`ls -l /` lists no directory {dir}: {ls:?}")));
        }
    }
    let counts = [HELLO.lines().count(), HELLO.split_whitespace().count(), HELLO.len()].map(|n| n.to_string());
    let wc = out.output("wc");
    if !wc
        .iter()
        .any(|l| l.split_whitespace().collect::<Vec<_>>() == [&counts[0], &counts[1], &counts[2], "/data/hello.txt"])
    {
        return Err(out.vm.failure(&format!("wc printed {wc:?}, expected counts {counts:?}")));
    }
    out.expect_line("sha", &format!("{}  /data/hello.txt", sha256(HELLO.as_bytes())?))?;
    out.expect_line("env", "GREETING=hi")?;
    out.expect_line("env", "SPACED=a b")?;
    out.expect_line("env", "PATH=/usr/local/sbin:")?;
    let year = Command::new("date").arg("+%Y").output().map_err(|e| e.to_string())?;
    let year = String::from_utf8_lossy(&year.stdout).trim().to_string();
    out.expect_line("date", &format!("UTC {year}"))?;
    out.expect_line("shexit", "from sh")?;
    out.expect_line("pipeline", "3")?;
    Ok(())
}

/// The SHA-256 of `data`, as `sha256sum` prints it.
fn sha256(data: &[u8]) -> Result<String, String> {
    use std::io::Write;
    let mut child = Command::new("sha256sum")
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| e.to_string())?;
    child.stdin.take().ok_or("no stdin")?.write_all(data).map_err(|e| e.to_string())?;
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    Ok(String::from_utf8_lossy(&out.stdout).split_whitespace().next().unwrap_or_default().to_string())
}

/// Every check of a probe passes and it exits 0.
fn probe(a: &Artifacts, name: &str, program: &str, settings: &str) -> Result<super::run::Outcome, String> {
    let out = boot(a, name, &[Boot::new(&a.test_image, name, settings, program)], "", seconds(300))?;
    let lines = out.output(name);
    if let Some(fail) = lines.iter().find(|l| l.starts_with("FAIL")) {
        return Err(out.vm.failure(&format!("{name}: {fail}")));
    }
    out.expect_line(name, ", 0 failed")?;
    out.expect_status(name, 0)?;
    Ok(out)
}

/// The Rust std probe: files, memory, time, randomness, threads, panics.
pub fn rust_probe(a: &Artifacts) -> Result<(), String> {
    let out = probe(a, "rust-probe", "/usr/bin/rust-probe", "env=PROBE_TOKEN=t0k3n")?;
    out.expect_line("rust-probe", "token=t0k3n")?;
    out.expect_line("rust-probe", "rust-probe: 23 passed, 0 failed")
}

/// The C probe: files, memory, time, randomness, identity, pipes, fork/exec, signals,
/// errno values, epoll and eventfd.
pub fn c_probe(a: &Artifacts) -> Result<(), String> {
    probe(a, "c-probe", "/usr/bin/c-probe", "")?.expect_line("c-probe", "c-probe: 41 passed, 0 failed")
}

/// The same C probe linked dynamically: musl's dynamic loader (`PT_INTERP`
/// `/lib/ld-musl-x86_64.so.1`, from the image) is mapped beside it and runs it.
pub fn c_probe_dynamic(a: &Artifacts) -> Result<(), String> {
    probe(a, "c-probe-dynamic", "/usr/bin/c-probe-dynamic", "")?
        .expect_line("c-probe-dynamic", "c-probe: 41 passed, 0 failed")
}

/// Misbehaving containers end with the status Linux gives them, while a well-behaved
/// container beside them keeps running and prints all its output in order.
pub fn faults_and_isolation(a: &Artifacts) -> Result<(), String> {
    let img = &a.test_image;
    let crash =
        |name: &str, settings: &str, mode: &str| Boot::new(img, name, settings, &format!("/usr/bin/crash {mode}"));
    let containers = [
        crash("bystander", "", "print-loop 30"),
        crash("null", "", "null"),
        crash("kernel-write", "", "kernel-write"),
        crash("illegal", "", "illegal"),
        crash("divide", "", "divide"),
        crash("garbage", "", "syscall-garbage"),
        crash("oom", "memory=64m", "oom"),
        crash("oom-touch", "memory=64m", "oom-touch"),
        crash("fork-bomb", "pids=32", "fork-bomb"),
        crash("spin", "timeout=2", "spin"),
        crash("init-signals", "", "init-signals"),
        crash("bad-handler", "", "bad-frame handler"),
        crash("bad-rip", "", "bad-frame rip"),
        crash("bad-mxcsr", "", "bad-frame mxcsr"),
        crash("sendfile-hog", "", "hog sendfile"),
        crash("itimer-hog", "", "hog itimer"),
    ];
    let out = boot(a, "faults", &containers, "", seconds(180))?;
    for (name, code) in [
        ("null", 139),
        ("kernel-write", 139),
        ("illegal", 132),
        ("divide", 136),
        ("oom", 0),
        ("oom-touch", 137),
        ("fork-bomb", 0),
        ("spin", 137),
        ("bystander", 0),
        ("init-signals", 0),
        ("bad-handler", 139),
        ("bad-rip", 139),
        ("bad-mxcsr", 139),
        ("sendfile-hog", 0),
        ("itimer-hog", 0),
    ] {
        out.expect_status(name, code)?;
    }
    out.expect_line("oom", "allocation failed after")?;
    out.expect_line("fork-bomb", "fork failed: EAGAIN after")?;
    out.expect_line("fork-bomb", "killed and reaped")?;
    out.expect_line("init-signals", "received the SIGUSR1 it handles")?;
    let ticks: Vec<String> = out.output("bystander");
    let expected: Vec<String> = (1..=30).map(|i| format!("tick {i}")).collect();
    if ticks != expected {
        return Err(out.vm.failure(&format!("the bystander's output was disturbed: {ticks:?}")));
    }
    // Bad pointers and unknown system calls: errors, not crashes. (Sockets come with
    // the network; until then `socket` answers ENOSYS, which this program calls wrong.)
    let garbage = out.output("garbage");
    if !garbage.iter().any(|l| l == "survived") {
        return Err(out.vm.failure("the garbage-syscall container did not survive"));
    }
    let wrong: Vec<&String> = garbage.iter().filter(|l| l.contains("WRONG") && !l.contains("socket(")).collect();
    if !wrong.is_empty() {
        return Err(out.vm.failure(&format!("system calls with garbage arguments gave the wrong errno: {wrong:?}")));
    }
    Ok(())
}

/// A container limited to a quarter of the CPU gets about that, beside one that is not.
pub fn cpu_limit(a: &Artifacts) -> Result<(), String> {
    let img = &a.test_image;
    let containers = [
        Boot::new(img, "quarter", "cpus=0.25 timeout=3", "/usr/bin/crash spin"),
        Boot::new(img, "whole", "timeout=3", "/usr/bin/crash spin"),
    ];
    let out = boot(a, "cpu-limit", &containers, "", seconds(120))?;
    out.expect_status("quarter", 137)?;
    let cpu = |name: &str| -> Result<f64, String> {
        let line = out
            .vm
            .output()
            .lines()
            .find(|l| l.contains(&format!("container {name} exited")))
            .map(str::to_string)
            .ok_or_else(|| out.vm.failure("no exit line"))?;
        let t = line.split("(CPU ").nth(1).and_then(|r| r.split(' ').next()).and_then(|v| v.parse().ok());
        t.ok_or_else(|| out.vm.failure(&format!("no CPU time in {line:?}")))
    };
    let (quarter, whole) = (cpu("quarter")?, cpu("whole")?);
    let share = quarter / (quarter + whole);
    if !(0.15..=0.35).contains(&share) {
        return Err(out
            .vm
            .failure(&format!("the limited container got {:.0}% of the CPU, not about 25%", share * 100.0)));
    }
    Ok(())
}

/// Containers of one image each see their own copy: writes in one are invisible to the
/// other, and each sees only its own processes.
pub fn isolation(a: &Artifacts) -> Result<(), String> {
    let img = &a.busybox_image;
    let containers = [
        Boot::new(
            img,
            "writer",
            "",
            "/bin/sh -c \"echo secret > /data/mine; cat /data/mine; rm /data/hello.txt; sleep 2\"",
        ),
        Boot::new(
            img,
            "reader",
            "",
            "/bin/sh -c \"sleep 1; ls /data; cat /data/mine; echo procs: $(ls /proc | grep -c '^[0-9]')\"",
        ),
        Boot::new(
            img,
            "killer",
            "",
            "/bin/sh -c \"sleep 1; kill -9 2; echo kill says $?; kill -0 1 && echo own init visible\"",
        ),
        Boot::new(img, "later", "", "/bin/sh -c \"sleep 3; cat /data/hello.txt\""),
    ];
    let out = boot(a, "isolation", &containers, "", seconds(120))?;
    out.expect_line("writer", "secret")?;
    let reader = out.output("reader");
    if reader.iter().any(|l| l.contains("mine") && !l.contains("No such file"))
        || !reader.iter().any(|l| l.contains("hello.txt"))
    {
        return Err(out.vm.failure(&format!("the reader saw the writer's files: {reader:?}")));
    }
    // The reader's shell, its `ls` and `grep` — its own processes only.
    if !reader
        .iter()
        .any(|l| l.starts_with("procs: ") && l.trim_start_matches("procs: ").parse::<u32>().is_ok_and(|n| n <= 4))
    {
        return Err(out.vm.failure(&format!("the reader's /proc shows other containers' processes: {reader:?}")));
    }
    out.expect_line("killer", "kill says 1")?;
    out.expect_line("killer", "own init visible")?;
    out.expect_status("writer", 0)?;
    out.expect_line("later", HELLO.trim_end())?;
    Ok(())
}

/// Executables that are not valid static x86_64 ELF files are refused with a message
/// saying what is wrong, and the container ends with status 126.
pub fn malformed_elf(a: &Artifacts) -> Result<(), String> {
    let busybox = std::fs::read("/bin/busybox").map_err(|e| e.to_string())?;
    let u16_at = |b: &[u8], o: usize| u16::from_le_bytes([b[o], b[o + 1]]) as usize;
    let u64_at = |b: &[u8], o: usize| u64::from_le_bytes(b[o..o + 8].try_into().unwrap_or([0; 8]));
    let phoff = u64_at(&busybox, 0x20) as usize;
    let (phentsize, phnum) = (u16_at(&busybox, 0x36), u16_at(&busybox, 0x38));
    let loads: Vec<usize> = (0..phnum)
        .map(|i| phoff + i * phentsize)
        .filter(|&p| u32::from_le_bytes([busybox[p], busybox[p + 1], busybox[p + 2], busybox[p + 3]]) == 1)
        .collect();
    let mut arm = busybox.clone();
    arm[0x12..0x14].copy_from_slice(&40u16.to_le_bytes());
    let mut overlap = busybox.clone();
    let (first, second) = (loads[0], loads[1]);
    let vaddr = u64_at(&overlap, first + 16) & !0xfff;
    let offset = u64_at(&overlap, second + 8);
    overlap[second + 16..second + 24].copy_from_slice(&(vaddr + (offset & 0xfff)).to_le_bytes());
    let mut huge = busybox.clone();
    let last = loads[loads.len() - 1];
    huge[last + 40..last + 48].copy_from_slice(&u64::MAX.to_le_bytes());
    let mut rootfs = Rootfs::new();
    rootfs.file("bad/truncated", busybox[..1000].to_vec(), 0o755);
    rootfs.file("bad/arm", arm, 0o755);
    rootfs.file("bad/overlap", overlap, 0o755);
    rootfs.file("bad/huge", huge, 0o755);
    rootfs.file("bad/empty", Vec::new(), 0o755);
    rootfs.copy("bad/dynamic", std::path::Path::new("/bin/true"), 0o755).map_err(|e| e.to_string())?;
    rootfs.copy("bin/busybox", std::path::Path::new("/bin/busybox"), 0o755).map_err(|e| e.to_string())?;
    let image = a.scratch("malformed-image").join("bad.tar");
    rootfs.write(&image).map_err(|e| e.to_string())?;
    let cases = [
        ("truncated", "past the end"),
        ("arm", "e_machine"),
        ("overlap", "overlap"),
        ("huge", "ELF segment"),
        ("empty", "ELF"),
    ];
    let mut containers: Vec<Boot> =
        cases.iter().map(|(name, _)| Boot::new(&image, name, "", &format!("/bad/{name}"))).collect();
    containers.push(Boot::new(&image, "dynamic", "", "/bad/dynamic"));
    containers.push(Boot::new(&image, "fine", "", "/bin/busybox echo still fine"));
    let out = boot(a, "malformed-elf", &containers, "", seconds(120))?;
    for (name, why) in cases {
        out.expect_status(name, 126)?;
        let lines = out.output(name);
        if !lines.iter().any(|l| l.contains("cannot run") && l.contains(why)) {
            return Err(out.vm.failure(&format!("/bad/{name}: expected a message mentioning {why:?}, got {lines:?}")));
        }
    }
    // A dynamically linked program whose interpreter the image lacks: ENOENT, as on
    // Linux, so the status is 127 and the message names the missing interpreter.
    out.expect_status("dynamic", 127)?;
    let lines = out.output("dynamic");
    if !lines.iter().any(|l| l.contains("interpreter /lib64/ld-linux-x86-64.so.2: no such file")) {
        return Err(out.vm.failure(&format!("/bad/dynamic: expected the missing interpreter named, got {lines:?}")));
    }
    out.expect_line("fine", "still fine")?;
    out.expect_status("fine", 0)
}

/// A thousand containers that crash, one after another: each ends with SIGSEGV's
/// status and memory in use does not grow.
pub fn thousand_faulting(a: &Artifacts) -> Result<(), String> {
    ktest_with_image(a, "churn", &a.test_image, seconds(300)).map(drop)
}

/// A hundred containers of one image cost a small fraction of the image each.
pub fn image_sharing(a: &Artifacts) -> Result<(), String> {
    ktest_with_image(a, "image-sharing", &a.test_image, seconds(120)).map(drop)
}
