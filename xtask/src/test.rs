//! `cargo xtask test`: host unit tests, then the QEMU integration tests.

use crate::build::{self, ImageArgs};
use crate::util;
use clap::Args;
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

/// Options for `cargo xtask test`.
#[derive(Args, Debug)]
pub struct TestArgs {
    /// Run only QEMU tests whose name contains this.
    pub filter: Option<String>,
    /// QEMU tests to run at once (default: one per CPU).
    #[arg(long)]
    pub jobs: Option<usize>,
    /// Virtual CPUs of each QEMU test's VM, unless the test chooses.
    #[arg(long, default_value_t = 2)]
    pub cpus: u32,
    /// Skip the host unit tests.
    #[arg(long)]
    pub qemu_only: bool,
    /// Skip the QEMU tests.
    #[arg(long, conflicts_with = "qemu_only")]
    pub host_only: bool,
}

/// Seconds each host fuzz target runs in `cargo xtask test`.
const HOST_FUZZ_SECONDS: u64 = 10;

/// Passed, failed and skipped counts.
#[derive(Default, Clone, Copy)]
struct Counts {
    passed: usize,
    failed: usize,
    /// Tests the machine lacks something for (the runner says what).
    skipped: usize,
}

/// Runs a command, echoing its output and summing the counts `parse` finds in it.
fn run_counting(cmd: &mut Command, parse: fn(&str) -> Option<Counts>) -> Result<(Counts, bool), String> {
    let mut child = cmd.stdout(Stdio::piped()).spawn().map_err(|e| e.to_string())?;
    let mut total = Counts::default();
    if let Some(out) = child.stdout.take() {
        for line in BufReader::new(out).lines().map_while(Result::ok) {
            println!("{line}");
            if let Some(c) = parse(&line) {
                total.passed += c.passed;
                total.failed += c.failed;
                total.skipped += c.skipped;
            }
        }
    }
    let ok = child.wait().map_err(|e| e.to_string())?.success();
    Ok((total, ok))
}

/// `test result: ok. 7 passed; 0 failed; ...` from libtest.
fn parse_libtest(line: &str) -> Option<Counts> {
    let rest = line.strip_prefix("test result: ")?;
    let number = |label: &str| {
        rest.split(';')
            .find_map(|part| part.trim().strip_suffix(label).and_then(|n| n.trim().rsplit(' ').next()?.parse().ok()))
    };
    Some(Counts { passed: number("passed")?, failed: number("failed")?, skipped: 0 })
}

/// `QEMU tests: 9 passed, 1 failed[, 1 skipped] in 12.3 s` from the QEMU runner.
fn parse_runner(line: &str) -> Option<Counts> {
    let rest = line.strip_prefix("QEMU tests: ")?;
    let words: Vec<&str> = rest.split([' ', ',']).filter(|w| !w.is_empty()).collect();
    let count = |label: &str| words.windows(2).find(|w| w[1] == label).and_then(|w| w[0].parse().ok());
    Some(Counts { passed: count("passed")?, failed: count("failed")?, skipped: count("skipped").unwrap_or(0) })
}

/// Builds everything, runs both test suites and prints the totals.
pub fn test(args: &TestArgs) -> Result<(), String> {
    let started = std::time::Instant::now();
    // The host tests need set-up too (musl-gcc builds a C program they run on Linux).
    crate::setup::ensure()?;
    let mut host = Counts::default();
    let mut qemu = Counts::default();
    if !args.qemu_only {
        let t = util::step("host unit tests");
        let (counts, ok) = run_counting(util::cargo().arg("test"), parse_libtest)?;
        host = counts;
        if !ok && counts.failed == 0 {
            host.failed += 1; // the tests did not even build
        }
        util::done(t, &format!("host unit tests: {} passed, {} failed", host.passed, host.failed));
        // A short run of each coverage-guided fuzz target (`cargo xtask fuzz` runs longer).
        let targets = crate::fuzz::HOST_TARGETS;
        match crate::fuzz::fuzz_host(&targets, HOST_FUZZ_SECONDS) {
            Ok(crashed) => {
                host.passed += targets.len() - crashed.len();
                host.failed += crashed.len();
            }
            Err(e) => {
                println!("{e}");
                host.failed += targets.len();
            }
        }
    }
    if !args.host_only {
        build::image(&ImageArgs::default())?;
        crate::debian::image()?;
        crate::clients::compose()?;
        crate::clients::python()?;
        let t = util::step("building the QEMU test runner");
        util::run(util::cargo().args(["build", "-p", "berth-tests", "--bin", "berth-tests"]), "test runner build")?;
        util::done(t, "runner built");
        let t = util::step("QEMU integration tests");
        let mut runner = Command::new(util::root().join("target/debug/berth-tests"));
        runner.arg("--artifacts").arg(util::out_dir()).arg("--cpus").arg(args.cpus.to_string());
        if let Some(jobs) = args.jobs {
            runner.arg("--jobs").arg(jobs.to_string());
        }
        runner.args(args.filter.iter());
        let (counts, ok) = run_counting(&mut runner, parse_runner)?;
        qemu = counts;
        if !ok && counts.failed == 0 {
            qemu.failed += 1; // the runner itself failed
        }
        util::done(t, "QEMU tests done");
    }
    let (passed, failed) = (host.passed + qemu.passed, host.failed + qemu.failed);
    println!(
        "\nhost unit tests: {} passed, {} failed; QEMU tests: {} passed, {} failed, {} skipped; {:.0} s in all",
        host.passed,
        host.failed,
        qemu.passed,
        qemu.failed,
        qemu.skipped,
        started.elapsed().as_secs_f64()
    );
    println!("{passed} passed, {failed} failed");
    if failed == 0 { Ok(()) } else { Err(format!("{failed} test(s) failed")) }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_libtest_summaries() {
        let c =
            parse_libtest("test result: FAILED. 6 passed; 1 failed; 0 ignored; 0 measured; 0 filtered out").unwrap();
        assert_eq!((c.passed, c.failed), (6, 1));
        assert!(parse_libtest("test foo ... ok").is_none());
    }

    #[test]
    fn reads_runner_summaries() {
        let c = parse_runner("QEMU tests: 9 passed, 2 failed in 12.3 s").unwrap();
        assert_eq!((c.passed, c.failed, c.skipped), (9, 2, 0));
        let c = parse_runner("QEMU tests: 9 passed, 0 failed, 1 skipped in 12.3 s").unwrap();
        assert_eq!((c.passed, c.failed, c.skipped), (9, 0, 1));
    }
}
