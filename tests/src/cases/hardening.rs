//! Hardening: a container calling random system calls must not bring the kernel down
//! or disturb its neighbours (`cargo xtask fuzz` runs it longer).

use super::run::{Boot, start};
use crate::artifacts::Artifacts;
use crate::docker::{Docker, TEST_TOKEN};
use crate::http::get;
use crate::qemu::{Forward, Vm, free_port};
use crate::runner::seconds;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// How a fuzzing run goes.
#[derive(Debug, Clone, Copy)]
pub struct FuzzOptions {
    /// How long the fuzzer calls.
    pub seconds: u64,
    /// Its seed (a fresh one if `None`; the report says which).
    pub seed: Option<u64>,
    /// Processes fuzzing at once.
    pub workers: u32,
}

/// What a fuzzing run found, when the kernel survived.
#[derive(Debug, Clone)]
pub struct FuzzReport {
    /// The fuzzer's summary line (calls, time, workers, seed).
    pub summary: String,
    /// Requests the neighbouring web server answered meanwhile.
    pub requests: u64,
    /// The slowest of them.
    pub slowest: Duration,
    /// Frames in use before the fuzzer started and after it ended.
    pub frames: (u64, u64),
}

/// A time limit for one docker command.
const CLI: Duration = Duration::from_secs(60);

/// A request to the neighbour slower than this counts as disturbed.
const SLOW: Duration = Duration::from_secs(5);
/// Frames the machine may keep after the fuzzer beyond what it had before (caches of
/// kernel stacks and the like): 4 MiB.
const FRAME_SLACK: u64 = 1024;

/// The short run `cargo xtask test` does.
pub fn fuzz_short(a: &Artifacts) -> Result<(), String> {
    fuzz(a, "fuzz-syscalls", FuzzOptions { seconds: 45, seed: None, workers: 4 }).map(drop)
}

/// Boots berth with a web server and a fuzzing container (64 MiB, 50 processes), has
/// the fuzzer call for `options.seconds` while the host keeps requesting a page from
/// the web server, and checks that the kernel survived, every request was answered in
/// time and memory came back once the fuzzer ended.
pub fn fuzz(a: &Artifacts, test: &str, options: FuzzOptions) -> Result<FuzzReport, String> {
    let (web_port, go_port) = (free_port(), free_port());
    let seed = options.seed.map(|s| format!(" -s {s}")).unwrap_or_default();
    // The shell waits for the host to connect once it has its baseline (and says "go"
    // to it), then becomes the fuzzer (still pid 1, which the fuzzer needs).
    let fuzz_command = format!(
        "/bin/busybox sh -c \"echo go | /bin/busybox nc -l -p 9000; exec /usr/bin/fuzz -q -t {} -w {}{seed}\"",
        options.seconds, options.workers
    );
    let containers = [
        Boot::new(&a.test_image, "web", "echo=no publish=8080:8080", "/bin/busybox httpd -f -p 8080 -h /etc"),
        Boot::new(&a.test_image, "fuzz", "memory=64m pids=50 echo=stderr publish=9000:9000", &fuzz_command),
    ];
    let mut vm = start(a, test, &containers, "", |c| {
        c.network = Some(vec![Forward { host: web_port, guest: 8080 }, Forward { host: go_port, guest: 9000 }]);
    })?;
    let result = (|| {
        vm.expect("ready", seconds(60))?;
        let url = format!("http://127.0.0.1:{web_port}/hostname");
        wait_for(&vm, &url)?;
        let before = frames_used(&mut vm)?;
        start_fuzzer(&vm, go_port)?;
        let started = vm.expect("[fuzz] fuzz: seed", seconds(30))?;
        // A failure names the seed, so that the run can be repeated (`fuzz -s SEED`).
        let seed = started.split("fuzz: ").nth(1).unwrap_or_default().to_string();
        let (summary, requests, slowest) = match watch(&mut vm, &url, options.seconds) {
            Ok(watched) => watched,
            Err(e) => return Err(format!("{e}\n{}\n({seed})", what_the_fuzzer_is_doing(&mut vm))),
        };
        if slowest > SLOW {
            return Err(vm.failure(&format!("the web neighbour took {slowest:?} to answer while the fuzzer ran")));
        }
        vm.expect("container fuzz exited", seconds(30))?;
        let after = settled_frames(&mut vm, before)?;
        if after > before + FRAME_SLACK {
            return Err(
                vm.failure(&format!("frames in use went from {before} before the fuzzer to {after} after it ended"))
            );
        }
        get(&url).map_err(|e| vm.failure(&format!("the web neighbour stopped answering: {e}")))?;
        Ok(FuzzReport { summary, requests, slowest, frames: (before, after) })
    })();
    let _ = std::fs::write(a.scratch(test).join("console.log"), vm.output());
    result
}

/// Requests `url` over and over until the fuzzer's summary appears on the console;
/// returns the summary, the number of requests and the slowest one.
fn watch(vm: &mut Vm, url: &str, fuzz_seconds: u64) -> Result<(String, u64, Duration), String> {
    let stop = Arc::new(AtomicBool::new(false));
    let record = Arc::new(Mutex::new((0u64, Duration::ZERO, None::<String>)));
    let poller = {
        let (stop, record, url) = (stop.clone(), record.clone(), url.to_string());
        std::thread::spawn(move || {
            while !stop.load(Ordering::Relaxed) {
                let t = Instant::now();
                let outcome = get(&url);
                let mut r = record.lock().unwrap_or_else(|e| e.into_inner());
                match outcome {
                    Ok(_) => {
                        r.0 += 1;
                        r.1 = r.1.max(t.elapsed());
                    }
                    Err(e) => {
                        r.2.get_or_insert(e);
                    }
                }
                drop(r);
                std::thread::sleep(Duration::from_millis(200));
            }
        })
    };
    let summary = vm.expect_where(
        |l| is_summary(l) || l.contains("KERNEL PANIC"),
        "the fuzzer's summary",
        seconds(fuzz_seconds + 60),
    );
    stop.store(true, Ordering::Relaxed);
    let _ = poller.join();
    let summary = summary?;
    if summary.contains("KERNEL PANIC") {
        std::thread::sleep(Duration::from_millis(500)); // the rest of the report
        return Err(vm.failure("the kernel panicked under the fuzzer"));
    }
    let (requests, slowest, error) = record.lock().unwrap_or_else(|e| e.into_inner()).clone();
    if let Some(e) = error {
        return Err(vm.failure(&format!("the web neighbour failed a request while the fuzzer ran: {e}")));
    }
    let summary = summary.split_once("fuzz: done, ").map_or(summary.as_str(), |(_, s)| s).to_string();
    Ok((summary, requests, slowest))
}

/// The kernel's account of the fuzz container's threads (the console's `ps fuzz`)
/// and of its run queues (`sched`): where a fuzzer that never finished is stuck.
fn what_the_fuzzer_is_doing(vm: &mut Vm) -> String {
    let seen = vm.output().len();
    if vm.send_line("ps fuzz").and_then(|()| vm.send_line("sched")).is_err() {
        return "(the console takes no input)".into();
    }
    std::thread::sleep(Duration::from_secs(3));
    let after = vm.output().get(seen..).unwrap_or_default().to_string();
    format!("--- `ps fuzz` and `sched` on the console ---\n{after}")
}

/// Connects to the fuzz container's `nc -l`, which then execs the fuzzer.
fn start_fuzzer(vm: &Vm, port: u16) -> Result<(), String> {
    let deadline = Instant::now() + seconds(30);
    loop {
        match std::net::TcpStream::connect(("127.0.0.1", port)) {
            // QEMU accepts for the guest before the guest has, and closes at once if
            // nothing listens there yet: only nc's "go" means the guest took it.
            Ok(mut s) => {
                use std::io::Read;
                s.set_read_timeout(Some(seconds(5))).map_err(|e| e.to_string())?;
                let _ = s.shutdown(std::net::Shutdown::Write);
                let mut got = Vec::new();
                let _ = s.read_to_end(&mut got);
                if got.starts_with(b"go") {
                    return Ok(());
                }
            }
            Err(e) if Instant::now() >= deadline => {
                return Err(vm.failure(&format!("cannot reach the fuzz container's port: {e}")));
            }
            Err(_) => {}
        }
        if Instant::now() >= deadline {
            return Err(vm.failure("the fuzz container never took the go-ahead"));
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// The supervisor's last line, `fuzz: done, N calls ...` (the workers' random writes
/// to the same log can hold pieces of its format, never a number after it).
fn is_summary(line: &str) -> bool {
    line.split_once("container: [fuzz] fuzz: done, ")
        .is_some_and(|(_, rest)| rest.split(' ').next().is_some_and(|n| n.parse::<u64>().is_ok()))
}

fn wait_for(vm: &Vm, url: &str) -> Result<(), String> {
    let deadline = Instant::now() + seconds(30);
    loop {
        match get(url) {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() >= deadline => return Err(vm.failure(&format!("{url} never answered: {e}"))),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

fn frames_used(vm: &mut Vm) -> Result<u64, String> {
    let stats = vm.stats(seconds(10))?;
    let n = |k: &str| stats.get(k).copied().unwrap_or(0);
    // Kernel stacks and heap pages kept for reuse are not memory in use.
    Ok(n("frames_used").saturating_sub(n("frames_cached")))
}

/// Frames in use once closing connections and exited threads are gone (sampled for a
/// few seconds until back within the slack of `before`).
fn settled_frames(vm: &mut Vm, before: u64) -> Result<u64, String> {
    let deadline = Instant::now() + seconds(15);
    loop {
        let now = frames_used(vm)?;
        if now <= before + FRAME_SLACK || Instant::now() >= deadline {
            return Ok(now);
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// Ways of making the kernel take memory for a container (`crash hog KIND`).
const HOGS: [&str; 6] = ["fork", "sockets", "pipes", "maps", "sparse-maps", "log"];
/// Memory the kernel may take for a hog beyond what the hog is charged (heap rounding,
/// caches): 4 MiB.
const CHARGE_SLACK: u64 = 4 << 20;

/// Each way a container can make the kernel allocate for it (sleeping children, full
/// socket pairs and pipes, tens of thousands of mappings, mappings of a sparse file, a
/// flood of tiny log writes) is charged to it: in a 32 MiB container the hog is
/// refused, every frame it made the machine take is paid for, a web server beside it
/// keeps serving, and the memory comes back when it ends.
pub fn kernel_charges(a: &Artifacts) -> Result<(), String> {
    let test = "memory-kernel-charges";
    let (mut vm, agent, web) = start_with_web(a, test)?;
    let result = (|| {
        vm.expect("agent: Docker Engine API", seconds(60))?;
        let url = format!("http://127.0.0.1:{web}/hostname");
        wait_for(&vm, &url)?;
        let dir = a.scratch(test);
        let docker = Docker::new(agent, &dir.join("docker-config"), Some(TEST_TOKEN))?;
        docker.ok(&["import", &a.test_image.to_string_lossy(), "t"], CLI)?;
        let reach_before = memory_reach(&vm, &docker, "reach-before")?;
        let before = usage(&mut vm)?;
        for kind in HOGS {
            let name = format!("hog-{kind}");
            docker.ok(&["run", "-d", "--name", &name, "-m", "32m", "t", "/usr/bin/crash", "hog", kind], CLI)?;
            let said = wait_for_log(&vm, &docker, &name, "holding")?;
            let held = usage(&mut vm)?;
            let taken = held.frames.saturating_sub(before.frames) * 4096;
            let charged = held.charged.saturating_sub(before.charged);
            if taken > charged + CHARGE_SLACK {
                return Err(vm.failure(&format!(
                    "hog {kind} ({said}) made the kernel take {} KiB but was charged {} KiB",
                    taken >> 10,
                    charged >> 10
                )));
            }
            if charged > (32 << 20) + CHARGE_SLACK {
                return Err(vm.failure(&format!("hog {kind} was charged {} KiB past its 32 MiB", charged >> 10)));
            }
            get(&url).map_err(|e| vm.failure(&format!("the web neighbour failed while hog {kind} held: {e}")))?;
            let code = docker.ok(&["wait", &name], CLI)?;
            if code.trim() != "0" {
                return Err(vm.failure(&format!("hog {kind} exited {code}")));
            }
            docker.ok(&["rm", &name], CLI)?;
            let after = settled_usage(&mut vm, &before)?;
            if after.frames > before.frames + FRAME_SLACK
                || after.charged > before.charged
                || after.processes > before.processes
                || after.threads > before.threads
            {
                return Err(vm.failure(&format!("after hog {kind}: {before:?} became {after:?}")));
            }
        }
        // Everything came back: a program can touch as much memory as before.
        let reach_after = memory_reach(&vm, &docker, "reach-after")?;
        if reach_after + 8 < reach_before {
            return Err(vm.failure(&format!(
                "a program could touch {reach_before} MiB before the hogs and {reach_after} MiB after"
            )));
        }
        Ok(())
    })();
    let _ = std::fs::write(a.scratch(test).join("console.log"), vm.output());
    result
}

/// How many MiB a container without a memory limit can allocate and touch (`crash
/// oom`), which is what the machine has to give.
fn memory_reach(vm: &Vm, docker: &Docker, name: &str) -> Result<u64, String> {
    let out = docker.ok(&["run", "--rm", "--name", name, "t", "/usr/bin/crash", "oom"], seconds(180))?;
    out.lines()
        .find_map(|l| l.strip_prefix("oom: allocation failed after ")?.split(' ').next()?.parse().ok())
        .ok_or_else(|| vm.failure(&format!("crash oom said: {out}")))
}

/// Memory in use: frames (less caches) and bytes charged to containers and images.
#[derive(Debug, Clone, Copy)]
struct Usage {
    frames: u64,
    charged: u64,
    processes: u64,
    threads: u64,
}

fn usage(vm: &mut Vm) -> Result<Usage, String> {
    let stats = vm.stats(seconds(10))?;
    let n = |k: &str| stats.get(k).copied().unwrap_or(0);
    Ok(Usage {
        frames: n("frames_used").saturating_sub(n("frames_cached")),
        charged: n("container_bytes"),
        processes: n("processes"),
        threads: n("threads"),
    })
}

/// Usage once closing work is done (sampled for a while until back near `before`).
fn settled_usage(vm: &mut Vm, before: &Usage) -> Result<Usage, String> {
    let deadline = Instant::now() + seconds(15);
    loop {
        let now = usage(vm)?;
        let back = now.frames <= before.frames + FRAME_SLACK
            && now.charged <= before.charged
            && now.processes <= before.processes
            && now.threads <= before.threads;
        if back || Instant::now() >= deadline {
            return Ok(now);
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

/// Waits until `docker logs NAME` has a line containing `needle`; returns that line.
fn wait_for_log(vm: &Vm, docker: &Docker, name: &str, needle: &str) -> Result<String, String> {
    let deadline = Instant::now() + seconds(90);
    loop {
        let out = docker.run(&["logs", name], CLI)?;
        if let Some(line) = out.stdout.lines().chain(out.stderr.lines()).find(|l| l.contains(needle)) {
            return Ok(line.to_string());
        }
        if Instant::now() >= deadline {
            return Err(vm.failure(&format!("{name} never printed {needle:?}: {}", out.describe(&["logs", name]))));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// A fork bomb shares the CPU like any other container: while one container runs
/// hundreds of spinning processes, a web server beside it answers every request
/// promptly, and a container with a single spinning process gets about as much CPU
/// time as the whole bomb.
pub fn fork_bomb_fairness(a: &Artifacts) -> Result<(), String> {
    let test = "sched-fork-bomb";
    let web = free_port();
    let containers = [
        Boot::new(&a.test_image, "web", "echo=no publish=8080:8080", "/bin/busybox httpd -f -p 8080 -h /etc"),
        Boot::new(&a.test_image, "bomb", "", "/usr/bin/crash hog fork-spin"),
        Boot::new(&a.test_image, "solo", "timeout=60", "/usr/bin/crash spin"),
    ];
    let mut vm = start(a, test, &containers, "", |c| c.network = Some(vec![Forward { host: web, guest: 8080 }]))?;
    let result = (|| {
        let line = vm.expect("[bomb] hog: fork-spin holding", seconds(60))?;
        let before = cpu_ms(&mut vm, &["bomb", "solo"])?;
        let url = format!("http://127.0.0.1:{web}/hostname");
        let mut slowest = Duration::ZERO;
        let started = Instant::now();
        let mut answered = 0;
        while started.elapsed() < seconds(2) {
            let t = Instant::now();
            get(&url).map_err(|e| vm.failure(&format!("the web server failed during the fork bomb: {e}")))?;
            slowest = slowest.max(t.elapsed());
            answered += 1;
        }
        let after = cpu_ms(&mut vm, &["bomb", "solo"])?;
        let (bomb, solo) = (after[0] - before[0], after[1] - before[1]);
        eprintln!(
            "    fork bomb ({line}): {answered} requests, slowest {slowest:?}; CPU bomb {bomb} ms, solo {solo} ms"
        );
        if slowest > seconds(2) {
            return Err(vm.failure(&format!("a request took {slowest:?} during the fork bomb ({line})")));
        }
        // One spinning process against hundreds: the same share, give or take.
        if solo * 2 < bomb || bomb * 2 < solo {
            return Err(vm.failure(&format!("over 2 s the bomb got {bomb} ms of CPU and the solo spinner {solo} ms")));
        }
        Ok(())
    })();
    let _ = std::fs::write(a.scratch(test).join("console.log"), vm.output());
    result
}

/// CPU time (ms) of the containers `names`, from the console's `ps`.
fn cpu_ms(vm: &mut Vm, names: &[&str]) -> Result<Vec<u64>, String> {
    vm.send_line("ps")?;
    let mut out = Vec::new();
    for name in names {
        let line = vm.expect(&format!(" {name} Running"), seconds(10))?;
        let ms = line.split("cpu_ms=").nth(1).and_then(|v| v.trim().parse().ok());
        out.push(ms.ok_or_else(|| vm.failure(&format!("no cpu_ms in `{line}`")))?);
    }
    Ok(out)
}

/// Boots `test` with the agent (host port given back first) and a busybox web server
/// in a container (its host port second), serving `/etc` on guest port 8080.
pub(super) fn start_with_web(a: &Artifacts, test: &str) -> Result<(Vm, u16, u16), String> {
    let (agent, web) = (free_port(), free_port());
    let containers =
        [Boot::new(&a.test_image, "web", "echo=no publish=8080:8080", "/bin/busybox httpd -f -p 8080 -h /etc")];
    let vm = start(a, test, &containers, &format!("agent-token={TEST_TOKEN}"), |c| {
        c.network = Some(vec![Forward { host: agent, guest: 2375 }, Forward { host: web, guest: 8080 }]);
    })?;
    Ok((vm, agent, web))
}
