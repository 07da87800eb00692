//! Building the container programs in `userland/` and the images made from them.

use crate::util;
use berth_image::rootfs::{self, Rootfs};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The built container programs.
pub struct Programs {
    /// The Rust std probe (static-pie).
    pub rust_probe: PathBuf,
    /// The C probe (musl, static).
    pub c_probe: PathBuf,
    /// The deliberately misbehaving program.
    pub crash: PathBuf,
    /// The micro-benchmarks.
    pub bench: PathBuf,
    /// The socket errno checks (musl, static).
    pub net_probe: PathBuf,
    /// The random system-call fuzzer.
    pub fuzz: PathBuf,
    /// The C probe linked dynamically against musl (run by musl's dynamic loader).
    pub c_probe_dynamic: PathBuf,
    /// The Go runtime probe (static, no cgo).
    pub go_probe: PathBuf,
}

/// musl's dynamic loader (and libc), where Debian's `musl` package puts it, and where
/// dynamically linked musl programs look for it.
const MUSL_LOADER: (&str, &str) = ("/lib/x86_64-linux-musl/libc.so", "lib/ld-musl-x86_64.so.1");

/// Compiles the C `sources` (paths from the repository root) into the static executable `out`.
fn musl(sources: &[&str], out: &Path, strict: bool) -> Result<(), String> {
    musl_linked(sources, out, strict, true)
}

/// Compiles the C `sources` into `out`, statically linked or not.
fn musl_linked(sources: &[&str], out: &Path, strict: bool, static_link: bool) -> Result<(), String> {
    let mut cmd = Command::new("musl-gcc");
    if static_link {
        cmd.arg("-static");
    }
    cmd.args(["-O2", "-Wall", "-Wextra"]);
    if strict {
        cmd.arg("-Werror");
    }
    cmd.arg("-o").arg(out).args(sources.iter().map(|s| util::root().join(s)));
    util::run(&mut cmd, &format!("musl-gcc {}", sources.join(" ")))
}

/// Builds the Go program in `dir` into the static executable `out` (no cgo).
fn go(dir: &Path, out: &Path) -> Result<(), String> {
    let mut cmd = Command::new("go");
    cmd.current_dir(dir).env("CGO_ENABLED", "0").env("GOFLAGS", "-trimpath -mod=mod").args(["build", "-o"]).arg(out);
    cmd.arg(".");
    util::run(&mut cmd, &format!("go build {}", dir.display()))
}

/// Compiles the programs into `target/berth/userland/`.
pub fn build() -> Result<Programs, String> {
    let t = util::step("building the container programs (userland/)");
    let dir = util::out_dir().join("userland");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let target_dir = util::root().join("target/userland");
    util::run(
        util::cargo()
            .env("RUSTFLAGS", "-C target-feature=+crt-static -C strip=debuginfo")
            .args(["build", "-p", "rust-probe", "--release", "--target", "x86_64-unknown-linux-gnu"])
            .arg("--target-dir")
            .arg(&target_dir),
        "rust-probe build",
    )?;
    let programs = Programs {
        rust_probe: dir.join("rust-probe"),
        c_probe: dir.join("c-probe"),
        crash: dir.join("crash"),
        bench: dir.join("bench"),
        net_probe: dir.join("net-probe"),
        fuzz: dir.join("fuzz"),
        c_probe_dynamic: dir.join("c-probe-dynamic"),
        go_probe: dir.join("go-probe"),
    };
    std::fs::copy(target_dir.join("x86_64-unknown-linux-gnu/release/rust-probe"), &programs.rust_probe)
        .map_err(|e| format!("rust-probe: {e}"))?;
    musl(
        &["userland/c-probe/probe.c", "userland/c-probe/readiness.c", "userland/c-probe/smp.c"],
        &programs.c_probe,
        true,
    )?;
    musl(&["userland/crash/crash.c"], &programs.crash, false)?;
    musl(&["userland/bench/bench.c"], &programs.bench, true)?;
    musl(berth_tests::netprobe::SOURCES, &programs.net_probe, true)?;
    musl(&["userland/fuzz/fuzz.c"], &programs.fuzz, true)?;
    musl_linked(
        &["userland/c-probe/probe.c", "userland/c-probe/readiness.c", "userland/c-probe/smp.c"],
        &programs.c_probe_dynamic,
        true,
        false,
    )?;
    go(&util::root().join("userland/go-probe"), &programs.go_probe)?;
    util::done(t, "container programs built");
    Ok(programs)
}

/// Writes the images into `images/` of the boot medium: `busybox.tar` (Debian's
/// busybox-static and its applets) and `test.tar` (that plus the test programs).
pub fn images(programs: &Programs, images: &Path) -> Result<(), String> {
    let t = util::step("writing container images");
    std::fs::create_dir_all(images).map_err(|e| e.to_string())?;
    let busybox = rootfs::system_busybox();
    let base = rootfs::busybox_rootfs(&busybox).map_err(|e| e.to_string())?;
    base.write(&images.join("busybox.tar")).map_err(|e| e.to_string())?;
    let mut test: Rootfs = rootfs::busybox_rootfs(&busybox).map_err(|e| e.to_string())?;
    for (name, path) in [
        ("rust-probe", &programs.rust_probe),
        ("c-probe", &programs.c_probe),
        ("crash", &programs.crash),
        ("bench", &programs.bench),
        ("net-probe", &programs.net_probe),
        ("fuzz", &programs.fuzz),
        ("c-probe-dynamic", &programs.c_probe_dynamic),
        ("go-probe", &programs.go_probe),
    ] {
        test.copy(&format!("usr/bin/{name}"), path, 0o755).map_err(|e| e.to_string())?;
    }
    test.copy(MUSL_LOADER.1, Path::new(MUSL_LOADER.0), 0o755).map_err(|e| format!("{}: {e}", MUSL_LOADER.0))?;
    test.write(&images.join("test.tar")).map_err(|e| e.to_string())?;
    util::done(t, "images written");
    Ok(())
}
