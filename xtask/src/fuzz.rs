//! `cargo xtask fuzz`: random system calls against the kernel in QEMU, and
//! coverage-guided fuzzing (libFuzzer) of the parsers that read untrusted input.
//! `cargo xtask soak`: containers of every misbehaviour for a chosen time.

use crate::build::{self, ImageArgs};
use crate::util;
use clap::Args;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The fuzz targets in `fuzz/targets/`.
pub const HOST_TARGETS: [&str; 8] =
    ["http_request", "chunked_body", "json_bodies", "image_tar", "layer_blob", "image_documents", "elf", "boot_config"];

/// Options for `cargo xtask fuzz`.
#[derive(Args, Debug)]
pub struct FuzzArgs {
    /// How long to fuzz the kernel, and each host target, in seconds.
    #[arg(long, default_value_t = 60)]
    pub seconds: u64,
    /// The kernel fuzzer's seed (printed by every run, to repeat one).
    #[arg(long)]
    pub seed: Option<u64>,
    /// Only the host parsers.
    #[arg(long)]
    pub host_only: bool,
    /// Only the kernel's system calls.
    #[arg(long, conflicts_with = "host_only")]
    pub kernel_only: bool,
    /// Only the host targets whose name contains this.
    #[arg(long)]
    pub target: Option<String>,
}

/// Options for `cargo xtask soak`.
#[derive(Args, Debug)]
pub struct SoakArgs {
    /// How long to soak, in seconds.
    #[arg(long, default_value_t = 600)]
    pub seconds: u64,
}

/// Runs the fuzzers the options ask for.
pub fn fuzz(args: &FuzzArgs) -> Result<(), String> {
    let mut failed = Vec::new();
    if !args.kernel_only {
        let targets: Vec<&str> =
            HOST_TARGETS.iter().copied().filter(|t| args.target.as_deref().is_none_or(|f| t.contains(f))).collect();
        match fuzz_host(&targets, args.seconds) {
            Ok(crashed) if crashed.is_empty() => {}
            Ok(crashed) => failed.push(format!("fuzz targets crashed: {}", crashed.join(", "))),
            Err(e) => failed.push(e),
        }
    }
    if !args.host_only {
        let mut extra = vec![args.seconds.to_string()];
        extra.extend(args.seed.map(|s| s.to_string()));
        if let Err(e) = long_qemu_run("fuzz", &extra) {
            failed.push(e);
        }
    }
    if failed.is_empty() { Ok(()) } else { Err(failed.join("\n")) }
}

/// Runs the soak.
pub fn soak(args: &SoakArgs) -> Result<(), String> {
    long_qemu_run("soak", &[args.seconds.to_string()])
}

/// Builds the images and the test runner, then runs `berth-tests fuzz|soak ARGS`.
fn long_qemu_run(what: &str, args: &[String]) -> Result<(), String> {
    build::image(&ImageArgs::default())?;
    util::run(util::cargo().args(["build", "-p", "berth-tests", "--bin", "berth-tests"]), "test runner build")?;
    let t = util::step(&format!("{what} in QEMU ({} s)", args[0]));
    let status = Command::new(util::root().join("target/debug/berth-tests"))
        .arg("--artifacts")
        .arg(util::out_dir())
        .arg(what)
        .args(args)
        .status()
        .map_err(|e| format!("berth-tests: {e}"))?;
    util::done(t, &format!("{what} done"));
    if status.success() { Ok(()) } else { Err(format!("{what} failed (its console is in target/berth/test-scratch/)")) }
}

/// The flags that make rustc instrument code for libFuzzer (what `cargo fuzz` passes;
/// all stable codegen options, so no nightly compiler is needed).
const COVERAGE_FLAGS: &str = "-Cpasses=sancov-module -Cllvm-args=-sanitizer-coverage-level=4 \
    -Cllvm-args=-sanitizer-coverage-inline-8bit-counters -Cllvm-args=-sanitizer-coverage-pc-table \
    -Cllvm-args=-sanitizer-coverage-trace-compares --cfg fuzzing -Cdebug-assertions -Coverflow-checks";

/// Builds the fuzz targets with coverage instrumentation (in `target/fuzz`).
fn build_targets() -> Result<PathBuf, String> {
    let t = util::step("building the fuzz targets (libFuzzer, coverage-instrumented)");
    let target_dir = util::root().join("target/fuzz");
    util::run(
        util::cargo()
            .env("RUSTFLAGS", COVERAGE_FLAGS)
            .args(["build", "--release", "-p", "berth-fuzz", "--target", "x86_64-unknown-linux-gnu"])
            .arg("--target-dir")
            .arg(&target_dir),
        "fuzz target build",
    )?;
    util::done(t, "fuzz targets built");
    Ok(target_dir.join("x86_64-unknown-linux-gnu/release"))
}

/// What one libFuzzer run reported.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct FuzzRun {
    /// Inputs tried.
    pub runs: u64,
    /// Coverage points reached (libFuzzer's `cov:`).
    pub coverage: u64,
}

/// Reads libFuzzer's output: the runs from `Done N runs in S second(s)` and the last
/// `cov: N` figure.
pub fn parse_libfuzzer(output: &str) -> FuzzRun {
    let mut run = FuzzRun::default();
    for line in output.lines() {
        if let Some(rest) = line.strip_prefix("Done ") {
            run.runs = rest.split_whitespace().next().and_then(|n| n.parse().ok()).unwrap_or(0);
        }
        if let Some(cov) = line.split("cov: ").nth(1).and_then(|r| r.split_whitespace().next()?.parse().ok()) {
            run.coverage = cov;
        }
    }
    run
}

/// Fuzzes each of `targets` for `seconds`, from the seeds in `fuzz/corpus/` and what
/// earlier runs found (`target/fuzz/corpus/`); returns the targets that crashed. A
/// crash leaves its input in `target/fuzz/artifacts/TARGET/`.
pub fn fuzz_host<'a>(targets: &[&'a str], seconds: u64) -> Result<Vec<&'a str>, String> {
    let bin = build_targets()?;
    let mut crashed = Vec::new();
    for target in targets {
        let t = util::step(&format!("fuzzing {target} for {seconds} s"));
        let corpus = util::root().join("target/fuzz/corpus").join(target);
        let artifacts = util::root().join("target/fuzz/artifacts").join(target);
        for dir in [&corpus, &artifacts] {
            std::fs::create_dir_all(dir).map_err(|e| format!("{}: {e}", dir.display()))?;
        }
        let output = Command::new(bin.join(target))
            .arg(format!("-max_total_time={seconds}"))
            .arg(format!("-artifact_prefix={}/", artifacts.display()))
            .arg("-print_final_stats=1")
            .arg(&corpus)
            .arg(seeds(target))
            .output()
            .map_err(|e| format!("{target}: {e}"))?;
        let text = String::from_utf8_lossy(&output.stderr);
        let run = parse_libfuzzer(&text);
        if output.status.success() {
            util::done(t, &format!("{target}: {} inputs, coverage {}, no crash", run.runs, run.coverage));
        } else {
            let tail: Vec<&str> = text.lines().rev().take(30).collect::<Vec<_>>().into_iter().rev().collect();
            println!("{}", tail.join("\n"));
            util::done(t, &format!("{target}: CRASHED (input in {})", artifacts.display()));
            crashed.push(*target);
        }
    }
    Ok(crashed)
}

/// The committed seed inputs of `target`.
fn seeds(target: &str) -> PathBuf {
    Path::new(&util::root()).join("fuzz/corpus").join(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_libfuzzer_summaries() {
        let out = "#2\tINITED cov: 120 ft: 130 corp: 3/300b exec/s: 0 rss: 30Mb\n\
                   #4096\tpulse  cov: 141 ft: 190 corp: 9/1Kb exec/s: 2048 rss: 31Mb\n\
                   Done 81920 runs in 10 second(s)\n";
        assert_eq!(parse_libfuzzer(out), FuzzRun { runs: 81920, coverage: 141 });
        assert_eq!(parse_libfuzzer("nothing"), FuzzRun::default());
    }
}
