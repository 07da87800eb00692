//! Runs berth's QEMU integration tests: `berth-tests --artifacts DIR [--jobs N] [FILTER]`.
//! `cargo xtask test` builds what they need and calls this.

use berth_tests::artifacts::Artifacts;
use berth_tests::{cases, runner};
use std::path::PathBuf;

fn main() {
    let mut args = std::env::args().skip(1);
    let mut dir = PathBuf::from("target/berth");
    let mut jobs = std::thread::available_parallelism().map_or(2, |n| n.get());
    let mut filter = None;
    let mut list = false;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--artifacts" => dir = args.next().map(PathBuf::from).unwrap_or(dir),
            "--jobs" => jobs = args.next().and_then(|j| j.parse().ok()).unwrap_or(jobs),
            "--list" => list = true,
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
    let summary = runner::run(cases::ALL, &artifacts, jobs, filter.as_deref(), cases::ALONE);
    std::process::exit(if summary.failed.is_empty() { 0 } else { 1 });
}
