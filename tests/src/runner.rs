//! Runs test cases in parallel, each against its own VM, and reports.

use crate::artifacts::Artifacts;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// One integration test.
pub struct Case {
    /// Its name (used to select it on the command line).
    pub name: &'static str,
    /// What it checks, in one line.
    pub about: &'static str,
    /// The test: `Ok` or a failure message.
    pub run: fn(&Artifacts) -> Result<(), String>,
}

/// A test that runs only where the machine has what it needs (Limine's binaries, say):
/// `check` says why not, and the runner reports the test as skipped with that reason.
pub struct Precondition {
    /// The test it guards.
    pub case: &'static str,
    /// `Err(why)` if the test cannot run here.
    pub check: fn(&Artifacts) -> Result<(), String>,
}

/// The result of a run.
#[derive(Debug, Default)]
pub struct Summary {
    /// Tests that passed.
    pub passed: usize,
    /// Names of tests skipped, and why.
    pub skipped: Vec<(String, String)>,
    /// Names and messages of tests that failed.
    pub failed: Vec<(String, String)>,
}

/// Runs `cases` (those whose name contains `filter`) on `jobs` threads, printing a line
/// as each finishes. The cases named in `alone` run first, one at a time: they measure
/// time, which another VM on the same host would take from them. A case whose
/// precondition fails is skipped, with its reason.
pub fn run(
    cases: &[Case],
    artifacts: &Artifacts,
    jobs: usize,
    filter: Option<&str>,
    alone: &[&str],
    preconditions: &[Precondition],
) -> Summary {
    let mut selected: Vec<&Case> = cases.iter().filter(|c| filter.is_none_or(|f| c.name.contains(f))).collect();
    selected.sort_by_key(|c| !alone.contains(&c.name));
    let exclusive = selected.iter().filter(|c| alone.contains(&c.name)).count();
    let total = selected.len();
    let next = AtomicUsize::new(0);
    let done = AtomicUsize::new(0);
    let summary = Mutex::new(Summary::default());
    let started = Instant::now();
    std::thread::scope(|s| {
        for worker in 0..jobs.max(1) {
            let selected = &selected;
            let (next, done, summary) = (&next, &done, &summary);
            s.spawn(move || {
                loop {
                    // Workers other than the first wait until the exclusive cases are done.
                    if worker > 0 && done.load(Ordering::Relaxed) < exclusive {
                        std::thread::sleep(std::time::Duration::from_millis(50));
                        continue;
                    }
                    let i = next.fetch_add(1, Ordering::Relaxed);
                    let Some(case) = selected.get(i) else { break };
                    let t = Instant::now();
                    let missing =
                        preconditions.iter().filter(|p| p.case == case.name).find_map(|p| (p.check)(artifacts).err());
                    if let Some(why) = missing {
                        let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                        println!("[{n:>3}/{total}] {:<32} skipped: {why}", case.name);
                        summary.lock().unwrap_or_else(|e| e.into_inner()).skipped.push((case.name.to_string(), why));
                        continue;
                    }
                    let result = std::panic::catch_unwind(|| (case.run)(artifacts))
                        .unwrap_or_else(|_| Err("the test panicked".into()));
                    let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                    let verdict = if result.is_ok() { "ok" } else { "FAILED" };
                    println!("[{n:>3}/{total}] {:<32} {verdict} ({:.1} s)", case.name, t.elapsed().as_secs_f64());
                    let mut s = summary.lock().unwrap_or_else(|e| e.into_inner());
                    match result {
                        Ok(()) => s.passed += 1,
                        Err(e) => s.failed.push((case.name.to_string(), e)),
                    }
                }
            });
        }
    });
    let summary = summary.into_inner().unwrap_or_else(|e| e.into_inner());
    for (name, message) in &summary.failed {
        println!("\n=== FAILED: {name}\n{message}");
    }
    let skipped = match summary.skipped.len() {
        0 => String::new(),
        n => format!(", {n} skipped"),
    };
    println!(
        "\nQEMU tests: {} passed, {} failed{skipped} in {:.1} s",
        summary.passed,
        summary.failed.len(),
        started.elapsed().as_secs_f64()
    );
    summary
}

/// A generous per-step timeout: TCG on a loaded 2-core machine is slow.
pub const fn seconds(s: u64) -> Duration {
    Duration::from_secs(s)
}
