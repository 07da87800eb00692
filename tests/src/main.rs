//! Runs berth's QEMU integration tests: `berth-tests --artifacts DIR [--jobs N]
//! [--cpus N] [FILTER]` (`--cpus`: the virtual CPUs of every VM a case does not size
//! itself, default 2).
//! `cargo xtask test` builds what they need and calls this. `berth-tests --artifacts DIR
//! fuzz SECONDS [SEED]` and `... soak SECONDS` run the long versions of the fuzzing and
//! soak tests (`cargo xtask fuzz` and `cargo xtask soak`).

use berth_tests::artifacts::Artifacts;
use berth_tests::cases::{hardening, soak};
use berth_tests::{cases, runner};
use std::path::PathBuf;
use std::time::Duration;

fn main() {
    let mut args = std::env::args().skip(1).peekable();
    let mut dir = PathBuf::from("target/berth");
    let mut jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut filter = None;
    let mut list = false;
    let mut long: Option<(String, Vec<String>)> = None;
    // The suite's VMs have 2 CPUs unless `--cpus` says otherwise.
    berth_tests::qemu::set_default_cpus(2);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--artifacts" => dir = args.next().map(PathBuf::from).unwrap_or(dir),
            "--jobs" => jobs = args.next().and_then(|j| j.parse().ok()).unwrap_or(jobs),
            "--cpus" => {
                let cpus = args.next().and_then(|c| c.parse().ok()).filter(|&c| c >= 1).unwrap_or(2);
                berth_tests::qemu::set_default_cpus(cpus);
            }
            "--list" => list = true,
            "fuzz" | "soak" => long = Some((arg.clone(), args.by_ref().collect())),
            f => filter = Some(f.to_string()),
        }
    }
    if list {
        for c in cases::ALL {
            println!("{:<32} {}", c.name, c.about);
        }
        return;
    }
    let artifacts = Artifacts::in_dir(&dir);
    if let Err(e) = artifacts.check() {
        eprintln!("{e}");
        std::process::exit(2);
    }
    if let Some((what, rest)) = long {
        let number = |i: usize| rest.get(i).and_then(|s| s.parse::<u64>().ok());
        let seconds = number(0).unwrap_or(60);
        let outcome = match what.as_str() {
            "fuzz" => {
                let options = hardening::FuzzOptions { seconds, seed: number(1), workers: 4 };
                hardening::fuzz(&artifacts, "fuzz-long", options).map(|r| {
                    format!(
                        "kernel survived, {}; others unaffected: {} requests to a web neighbour, slowest {:?}; \
                         frames in use {} before, {} after",
                        r.summary, r.requests, r.slowest, r.frames.0, r.frames.1
                    )
                })
            }
            _ => soak::soak(&artifacts, "soak-long", Duration::from_secs(seconds)).map(|r| {
                let frames = |m: &std::collections::HashMap<String, u64>| {
                    m.get("frames_used").copied().unwrap_or(0).saturating_sub(m.get("frames_cached").copied().unwrap_or(0))
                };
                let get = |m: &std::collections::HashMap<String, u64>, k: &str| m.get(k).copied().unwrap_or(0);
                format!(
                    "soak: {} container cycles in {:.0} s, {} web requests answered; frames in use {} before, {} after; \
                     heap {} -> {} bytes; charged {} -> {} bytes",
                    r.cycles,
                    r.elapsed.as_secs_f64(),
                    r.requests,
                    frames(&r.before),
                    frames(&r.after),
                    get(&r.before, "heap_bytes"),
                    get(&r.after, "heap_bytes"),
                    get(&r.before, "container_bytes"),
                    get(&r.after, "container_bytes")
                )
            }),
        };
        match outcome {
            Ok(line) => println!("{line}"),
            Err(e) => {
                eprintln!("{what} FAILED: {e}");
                std::process::exit(1);
            }
        }
        return;
    }
    let summary = runner::run(cases::ALL, &artifacts, jobs, filter.as_deref(), cases::ALONE, cases::PRECONDITIONS);
    std::process::exit(if summary.failed.is_empty() { 0 } else { 1 });
}
