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

/// Python's multiprocessing pools, many in a row: the workers share one task pipe under
/// a POSIX semaphore (`sem_open`: a file in /dev/shm each maps `MAP_SHARED`). A lock
/// that is not one memory lets two workers split a message ("invalid load key"); a
/// futex wake that misses the other process hangs the pool.
pub fn multiprocessing(a: &Artifacts) -> Result<(), String> {
    let image = a.debian()?;
    let script = "import multiprocessing as m; exec('for r in range(30):\\n with m.Pool(4) as p: assert p.map(abs, range(-300, 0)) == list(range(300, 0, -1)), r'); print('pools ok')";
    let container = Boot::new(image, "debian", "", &format!("/usr/bin/python3 -c \"{script}\""));
    let out = super::run::boot_with(a, "debian-multiprocessing", &[container], "", seconds(120), |c| {
        c.memory_mib = MEMORY_MIB
    })?;
    out.expect_line("debian", "pools ok")?;
    out.expect_status("debian", 0)
}

/// Debian's nginx (master and a worker per CPU) serves a file through a published
/// port under load, and the kernel leaks nothing per request. (With a wait queue's
/// wake able to fall between a thread joining the queue and blocking, about one run
/// in three on 2 CPUs left a connection in CLOSE-WAIT that nginx never heard end.)
pub fn nginx(a: &Artifacts) -> Result<(), String> {
    let image = a.debian()?;
    let expected = crate::http::sample_page(PAGE_BYTES);
    let command = "/usr/sbin/nginx -g \"daemon off; error_log stderr;\"";
    let vm = super::net::ServerVm { memory_mib: MEMORY_MIB, cmdline: "" };
    super::net::serve_image_under_load(a, "debian-nginx", image, vm, command, "/big.bin", &expected)
}

/// Boots `containers` in a VM big enough for the Debian image; waits for them to end.
fn boot_big(a: &Artifacts, test: &str, containers: &[Boot]) -> Result<super::run::Outcome, String> {
    super::run::boot_with(a, test, containers, "", seconds(300), |c| c.memory_mib = MEMORY_MIB)
}

/// Standard-library modules whose own regression tests (Debian's
/// `libpython3.11-testsuite`) run on Linux and on berth. Chosen to cover what programs
/// lean on the kernel for: files and directories, archives, threads, `select`, time,
/// hashing and compression, as well as pure computation.
pub const REGRTEST_MODULES: &[&str] = &[
    "test_json",
    "test_re",
    "test_struct",
    "test_math",
    "test_collections",
    "test_itertools",
    "test_functools",
    "test_textwrap",
    "test_string",
    "test_base64",
    "test_hashlib",
    "test_bisect",
    "test_heapq",
    "test_csv",
    "test_tempfile",
    "test_shutil",
    "test_glob",
    "test_fnmatch",
    "test_zlib",
    "test_tarfile",
    "test_threading",
    "test_select",
    "test_pathlib",
    "test_datetime",
];

/// What one run of Python's test runner (`python3 -m test`) reported.
#[derive(Debug, PartialEq, Eq)]
pub struct RegrtestResult {
    /// Modules that ran and passed.
    pub passed: Vec<String>,
    /// Modules in any other summary section (failed, skipped, environment changed...),
    /// with the section.
    pub other: Vec<(String, String)>,
}

/// Reads the summary `python3 -m test` prints at its end for a run of `modules`; None if
/// the run ended without one (it crashed or was stopped).
pub fn parse_regrtest(output: &str, modules: &[&str]) -> Option<RegrtestResult> {
    let summary = &output[output.rfind("== Tests result:")?..];
    let mut other = Vec::new();
    let mut section: Option<String> = None;
    for line in summary.lines() {
        if let Some(names) = line.strip_prefix("    ") {
            if let Some(section) = &section {
                other.extend(names.split_whitespace().map(|n| (n.to_string(), section.clone())));
            }
        } else if line.ends_with(':') && line.starts_with(|c: char| c.is_ascii_digit()) {
            section = Some(line.trim_end_matches(':').split_once(' ').map_or("", |(_, s)| s).to_string());
        } else if !line.trim().is_empty() {
            section = None;
        }
    }
    let passed = modules.iter().filter(|m| !other.iter().any(|(n, _)| n == *m)).map(|m| m.to_string()).collect();
    Some(RegrtestResult { passed, other })
}

/// Python's own regression tests for [`REGRTEST_MODULES`] run first on Linux (this
/// host, in a chroot of the same Debian root), then in berth; every module that passes
/// on Linux must pass on berth.
pub fn python_regrtest(a: &Artifacts) -> Result<(), String> {
    let image = a.debian()?;
    let root = image.parent().ok_or("the Debian image has no directory")?.join("root");
    let linux = std::process::Command::new("chroot")
        .arg(&root)
        .args(["/usr/bin/env", "-i", "PATH=/usr/bin:/bin", "HOME=/root", "/usr/bin/python3", "-m", "test"])
        .args(REGRTEST_MODULES)
        .output()
        .map_err(|e| format!("chroot {} (the test runs as root): {e}", root.display()))?;
    let linux_text = String::from_utf8_lossy(&linux.stdout).into_owned();
    let on_linux = parse_regrtest(&linux_text, REGRTEST_MODULES)
        .ok_or_else(|| format!("python3 -m test on Linux printed no summary:\n{linux_text}"))?;
    if on_linux.passed.len() < REGRTEST_MODULES.len() / 2 {
        return Err(format!("only {:?} passed on Linux; its run:\n{linux_text}", on_linux.passed));
    }
    let command = format!("/usr/bin/python3 -m test {}", on_linux.passed.join(" "));
    let container = Boot::new(image, "regrtest", "", &command);
    let out = super::run::boot_with(a, "debian-python-regrtest", &[container], "", seconds(900), |c| {
        c.memory_mib = MEMORY_MIB
    })?;
    let berth_text = out.output("regrtest").join("\n");
    let wanted: Vec<&str> = on_linux.passed.iter().map(String::as_str).collect();
    let on_berth = parse_regrtest(&berth_text, &wanted)
        .ok_or_else(|| out.vm.failure("python3 -m test on berth printed no summary"))?;
    if !on_berth.other.is_empty() {
        return Err(out.vm.failure(&format!(
            "passed on Linux but not on berth: {:?}",
            on_berth.other.iter().map(|(m, why)| format!("{m} ({why})")).collect::<Vec<_>>()
        )));
    }
    println!("    python regrtest: {} modules pass on Linux and on berth", on_berth.passed.len());
    out.expect_status("regrtest", 0)
}

#[cfg(test)]
mod tests {
    use super::parse_regrtest;

    #[test]
    fn regrtest_summaries() {
        let all = "0:00:01 [1/2] test_a\n== Tests result: SUCCESS ==\n\nAll 2 tests OK.\n\nTotal duration: 1 sec\n";
        let r = parse_regrtest(all, &["test_a", "test_b"]).unwrap();
        assert_eq!(r.passed, ["test_a", "test_b"]);
        assert!(r.other.is_empty());

        let mixed = "== Tests result: FAILURE ==\n\n1 test OK.\n\n2 tests failed:\n    test_b test_c\n\n\
                     1 test altered the execution environment:\n    test_d\n\nTotal duration: 3 sec\n";
        let r = parse_regrtest(mixed, &["test_a", "test_b", "test_c", "test_d"]).unwrap();
        assert_eq!(r.passed, ["test_a"]);
        assert_eq!(r.other[0], ("test_b".to_string(), "tests failed".to_string()));
        assert_eq!(r.other[2], ("test_d".to_string(), "test altered the execution environment".to_string()));
        assert_eq!(parse_regrtest("0:00:01 [1/2] test_a\nKilled", &["test_a"]), None);
    }
}
