//! Real, dynamically linked programs from a Debian bookworm root (`cargo xtask` builds
//! it with debootstrap): glibc's dynamic loader runs bash, coreutils, python3, procps
//! and nginx unmodified.

use super::run::Boot;
use crate::artifacts::Artifacts;
use crate::runner::seconds;

/// Size of `/var/www/html/big.bin` in the Debian image, which nginx serves.
pub const PAGE_BYTES: usize = 100 * 1024;
/// Guest memory for VMs with the Debian image (its tar is 130 MiB, held twice while the
/// image is built from the module).
const MEMORY_MIB: u32 = 1024;

/// bash runs a script of pipelines and coreutils, python3 the standard-library pieces
/// programs use most (json, sqlite3, subprocess, threading, sockets, multiprocessing),
/// and `ps` lists the container's processes: each prints what it prints on Linux.
pub fn programs(a: &Artifacts) -> Result<(), String> {
    let image = a.debian()?;
    let script = "/opt/berth/shell-check.sh && /usr/bin/python3 /opt/berth/python-check.py && \
                  (sleep 5 & ps -eo pid,ppid,comm)";
    let container = Boot::new(image, "debian", "", &format!("/bin/bash -c \"{script}\""));
    let out = boot_big(a, "debian-programs", &[container])?;
    let lines = out.output("debian");
    for expected in ["sum 5050", "2 b", "words 3", "files 20, bytes 151", "assoc 2 2", "subshell 42", "shell ok"] {
        out.expect_line("debian", expected)?;
    }
    out.expect_line("debian", "python ok 5c2f64c7f21e")?;
    let ps: Vec<&String> = lines.iter().skip_while(|l| !l.contains("PID")).collect();
    let listed = |name: &str| ps.iter().any(|l| l.split_whitespace().last() == Some(name));
    if !(listed("bash") && listed("sleep") && listed("ps")) {
        return Err(out.vm.failure(&format!("ps listed {ps:?}")));
    }
    out.expect_status("debian", 0)
}

/// Debian's nginx (master and worker) serves a file through a published port under
/// load, and the kernel leaks nothing per request.
pub fn nginx(a: &Artifacts) -> Result<(), String> {
    let image = a.debian()?;
    let expected = crate::http::sample_page(PAGE_BYTES);
    let command = "/usr/sbin/nginx -g \"daemon off; error_log stderr;\"";
    super::net::serve_image_under_load(a, "debian-nginx", image, MEMORY_MIB, command, "/big.bin", &expected)
}

/// Boots `containers` in a VM big enough for the Debian image; waits for them to end.
fn boot_big(a: &Artifacts, test: &str, containers: &[Boot]) -> Result<super::run::Outcome, String> {
    super::run::boot_with(a, test, containers, "", seconds(300), |c| c.memory_mib = MEMORY_MIB)
}
