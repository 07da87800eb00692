//! A Debian bookworm root file system for the tests of real, dynamically linked
//! programs (bash, python3, nginx): made once with `debootstrap --variant=minbase` from
//! Debian's archive, trimmed, given the test files in `tests/debian/`, and written as
//! `target/berth/debian/bookworm.tar`. It is made again only when what goes into it
//! changes (the stamp beside it says what it was made from).

use crate::util;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The suite.
const SUITE: &str = "bookworm";
/// Packages on top of `minbase`.
const PACKAGES: &[&str] = &["python3", "nginx-light", "procps", "libpython3.11-testsuite"];
/// What is removed from the root: documentation and the package caches.
const TRIM: &[&str] = &[
    "var/cache/apt/archives",
    "var/lib/apt/lists",
    "usr/share/doc",
    "usr/share/man",
    "usr/share/locale",
    "usr/share/info",
];
/// Size of `/var/www/html/big.bin` (`berth_tests::http::sample_page`).
pub use berth_tests::cases::debian::PAGE_BYTES as DEBIAN_PAGE_BYTES;

/// Files of `tests/debian/` and where they go in the root.
const TEST_FILES: &[(&str, &str, u32)] = &[
    ("shell-check.sh", "opt/berth/shell-check.sh", 0o755),
    ("python-check.py", "opt/berth/python-check.py", 0o644),
    ("nginx-site.conf", "etc/nginx/sites-available/default", 0o644),
];

/// The image's path (made if it is missing or stale).
pub fn image() -> Result<PathBuf, String> {
    let dir = util::out_dir().join("debian");
    let tar = dir.join(format!("{SUITE}.tar"));
    let stamp_path = dir.join(format!("{SUITE}.stamp"));
    let stamp = stamp()?;
    if tar.exists() && std::fs::read_to_string(&stamp_path).is_ok_and(|s| s == stamp) {
        return Ok(tar);
    }
    let t = util::step(&format!("building the Debian {SUITE} test image (debootstrap; a minute or two, once)"));
    if !util::have_command("debootstrap") {
        return Err("debootstrap is missing (cargo xtask setup installs it)".into());
    }
    if !running_as_root() {
        return Err("building the Debian test image needs root (debootstrap makes device files and chroots)".into());
    }
    let root = dir.join("root");
    if root.exists() {
        std::fs::remove_dir_all(&root).map_err(|e| format!("{}: {e}", root.display()))?;
    }
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    util::run(
        Command::new("debootstrap")
            .args(["--variant=minbase", &format!("--include={}", PACKAGES.join(",")), SUITE])
            .arg(&root)
            .arg(mirror()),
        "debootstrap",
    )?;
    for path in TRIM {
        let p = root.join(path);
        if p.exists() {
            std::fs::remove_dir_all(&p).map_err(|e| format!("{}: {e}", p.display()))?;
        }
    }
    for (from, to, mode) in TEST_FILES {
        install(&util::root().join("tests/debian").join(from), &root.join(to), *mode)?;
    }
    std::fs::write(root.join("var/www/html/index.html"), "<h1>berth nginx</h1>\n").map_err(|e| e.to_string())?;
    let big = berth_tests::http::sample_page(DEBIAN_PAGE_BYTES);
    std::fs::write(root.join("var/www/html/big.bin"), big).map_err(|e| e.to_string())?;
    util::run(Command::new("tar").args(["--numeric-owner", "-cf"]).arg(&tar).arg("-C").arg(&root).arg("."), "tar")?;
    std::fs::write(&stamp_path, stamp).map_err(|e| e.to_string())?;
    let size = std::fs::metadata(&tar).map(|m| m.len() >> 20).unwrap_or(0);
    util::done(t, &format!("{} ({size} MiB)", tar.display()));
    Ok(tar)
}

/// What the image is made from: the suite, the packages and the test files (whole:
/// they are small).
fn stamp() -> Result<String, String> {
    let mut stamp = format!("{SUITE} {}\n", PACKAGES.join(","));
    for (from, to, mode) in TEST_FILES {
        let path = util::root().join("tests/debian").join(from);
        let text = std::fs::read_to_string(&path).map_err(|e| format!("{}: {e}", path.display()))?;
        stamp += &format!("== {from} -> {to} {mode:o}\n{text}");
    }
    Ok(stamp)
}

fn install(from: &Path, to: &Path, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
    }
    if to.is_symlink() {
        std::fs::remove_file(to).map_err(|e| e.to_string())?;
    }
    std::fs::copy(from, to).map_err(|e| format!("{} -> {}: {e}", from.display(), to.display()))?;
    std::fs::set_permissions(to, std::fs::Permissions::from_mode(mode)).map_err(|e| e.to_string())
}

/// Debian's archive as this machine's apt configuration names it, else deb.debian.org.
fn mirror() -> String {
    let sources = std::fs::read_to_string("/etc/apt/sources.list.d/debian.sources").unwrap_or_default();
    sources
        .lines()
        .filter_map(|l| l.strip_prefix("URIs:"))
        .flat_map(str::split_whitespace)
        .find(|u| !u.contains("security"))
        .unwrap_or("http://deb.debian.org/debian")
        .to_string()
}

/// Whether xtask runs as root, which debootstrap needs.
fn running_as_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
}
