//! Real static executables: the host's busybox, and binaries built here by whichever of
//! gcc, musl-gcc and rustc are installed.
//!
//! Layouts seen with `readelf -lW` when this was written (Debian 12, binutils 2.40,
//! gcc 12, musl 1.2.3, rustc 1.95 with its bundled lld 22):
//!
//! - busybox (Debian `busybox-static`), and `gcc -static` / `musl-gcc -static` with GNU
//!   ld: `ET_EXEC` at 0x400000, four `PT_LOAD` (R headers, R+X text, R rodata, RW data
//!   and bss), no `PT_PHDR` (`e_phoff` 64 lies in the first segment, so `AT_PHDR` is
//!   0x400040), `PT_TLS` and `PT_GNU_RELRO` at the start of the RW segment.
//! - `gcc -static-pie` with GNU ld: the same from vaddr 0 as `ET_DYN`, plus `PT_DYNAMIC`.
//! - `-z noseparate-code` (GNU ld) and gold: two `PT_LOAD`, R+X from offset 0 and RW.
//! - lld (rustc's `+crt-static` build is a static-PIE linked by lld; also `gcc
//!   -fuse-ld=lld`, tried by hand with rust-lld): `PT_PHDR` at 0x40, four `PT_LOAD`: R, R+X, RW (RELRO, padded to a page
//!   end) and RW (data and bss).
//! - Debian's `musl-gcc -static-pie` is not static at all: its specs always pass
//!   `-dynamic-linker`, so the file has `PT_INTERP /lib/ld-musl-x86_64.so.1` and is
//!   refused as dynamically linked. A real musl static-PIE needs `rcrt1.o` and
//!   `--no-dynamic-linker` (built below).
//!
//! No two `PT_LOAD` segments of any of these share a page. Adjacent segments often
//! share a *file* page (the RW segment starts mid-page at the file offset where the
//! previous one ended), but the linkers then move its vaddr to the next page, keeping
//! `p_vaddr ≡ p_offset` modulo the page size. A survey of all 5,772 x86_64 `ET_EXEC`
//! and `ET_DYN` files on the same machine (/usr, /lib, the Rust toolchains) found none
//! with segments sharing a page, none W+X, none with `p_vaddr` and `p_offset`
//! incongruent. The one way found to make a linker share pages is a `max-page-size`
//! below the page size, which also makes later segments incongruent; such a binary
//! crashes on Linux too, and `plan` refuses it (checked below).

mod common;

use berth_elf::{Limits, LoadPlan, PAGE_SIZE, plan};
use common::{PF_R, PF_W, PF_X, PT_INTERP, PT_LOAD, PT_PHDR, PT_TLS, Phdr, check_invariants};
use std::path::{Path, PathBuf};
use std::process::Command;

const HELLO_C: &str =
    "#include <stdio.h>\n__thread int tv = 5;\nint main(void) { printf(\"hello %d\\n\", tv); return 0; }\n";
const HELLO_RS: &str = "fn main() { println!(\"hello\"); }\n";
const MUSL: &str = "/usr/lib/x86_64-linux-musl";

/// The ELF type and program headers, read independently of the crate.
fn raw_phdrs(file: &[u8]) -> (u16, Vec<Phdr>) {
    let u16_at = |at: usize| u16::from_le_bytes(file[at..at + 2].try_into().unwrap());
    let u32_at = |at: usize| u32::from_le_bytes(file[at..at + 4].try_into().unwrap());
    let u64_at = |at: usize| u64::from_le_bytes(file[at..at + 8].try_into().unwrap());
    let phoff = u64_at(32) as usize;
    let headers = (0..usize::from(u16_at(56)))
        .map(|i| phoff + i * 56)
        .map(|p| Phdr {
            p_type: u32_at(p),
            p_flags: u32_at(p + 4),
            p_offset: u64_at(p + 8),
            p_vaddr: u64_at(p + 16),
            p_filesz: u64_at(p + 32),
            p_memsz: u64_at(p + 40),
            p_align: u64_at(p + 48),
        })
        .collect();
    (u16_at(16), headers)
}

/// Plans a real executable and checks the plan against the file's own headers.
fn check_real(path: &Path) -> LoadPlan {
    let file = std::fs::read(path).unwrap();
    let plan = plan(&file, &Limits::BERTH).unwrap_or_else(|e| panic!("{}: refused: {e}", path.display()));
    check_invariants(&plan, file.len(), &Limits::BERTH);
    let (e_type, phdrs) = raw_phdrs(&file);
    let bias = if e_type == 3 { Limits::BERTH.pie_base } else { 0 };
    assert_eq!(plan.load_bias, bias);
    let loads: Vec<_> = phdrs.iter().filter(|p| p.p_type == PT_LOAD && p.p_memsz > 0).collect();
    assert_eq!(plan.segments.len(), loads.len(), "{}", path.display());
    for (s, p) in plan.segments.iter().zip(&loads) {
        assert_eq!(s.start, (p.p_vaddr + bias) & !(PAGE_SIZE - 1));
        assert_eq!(s.end, (p.p_vaddr + bias + p.p_memsz).next_multiple_of(PAGE_SIZE));
        assert_eq!(s.file_offset, p.p_offset & !(PAGE_SIZE - 1));
        assert_eq!(s.file_end, p.p_vaddr + bias + p.p_filesz);
        let flags = p.p_flags;
        assert_eq!(
            (s.perms.read, s.perms.write, s.perms.execute),
            (flags & PF_R != 0, flags & PF_W != 0, flags & PF_X != 0)
        );
    }
    let tls = phdrs.iter().find(|p| p.p_type == PT_TLS).map(|p| (p.p_vaddr + bias, p.p_memsz));
    assert_eq!(plan.tls, tls);
    match phdrs.iter().find(|p| p.p_type == PT_PHDR) {
        Some(p) => assert_eq!(plan.phdr, Some(p.p_vaddr + bias)),
        None => assert!(plan.phdr.is_some(), "{}: the table is in the first segment", path.display()),
    }
    assert!(!plan.executable_stack);
    plan
}

#[test]
fn busybox() {
    let path = Path::new("/bin/busybox");
    if !path.exists() {
        eprintln!("skipped: /bin/busybox is absent (apt-get install busybox-static)");
        return;
    }
    let file = std::fs::read(path).unwrap();
    if raw_phdrs(&file).1.iter().any(|p| p.p_type == PT_INTERP) {
        // A dynamically linked busybox (Debian's `busybox` rather than `busybox-static`).
        assert!(plan(&file, &Limits::BERTH).unwrap().interpreter.is_some());
        eprintln!("skipped: /bin/busybox is dynamically linked");
        return;
    }
    let plan = check_real(path);
    assert!(plan.segments.len() >= 2);
    eprintln!("busybox: {plan:x?}");
}

/// A directory for one test's sources and build products (tests run in parallel).
fn scratch(test: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join("berth-elf-real").join(test);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("hello.c"), HELLO_C).unwrap();
    std::fs::write(dir.join("hello.rs"), HELLO_RS).unwrap();
    dir
}

/// Runs a compiler; the output path, or `None` (with a note) if it is missing or fails.
fn build(dir: &Path, name: &str, program: &str, args: &[&str]) -> Option<PathBuf> {
    let out = dir.join(name);
    let _ = std::fs::remove_file(&out);
    let result = Command::new(program).current_dir(dir).args(args).arg("-o").arg(&out).output();
    match result {
        Ok(o) if o.status.success() => Some(out),
        Ok(o) => {
            eprintln!("skipped {name}: {program} failed: {}", String::from_utf8_lossy(&o.stderr).trim());
            None
        }
        Err(e) => {
            eprintln!("skipped {name}: {program}: {e}");
            None
        }
    }
}

/// The compiler's path for one of its files (crtbeginS.o, libgcc.a, ...).
fn gcc_file(name: &str) -> String {
    Command::new("gcc")
        .arg(format!("-print-file-name={name}"))
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
        .unwrap_or_default()
}

#[test]
fn executables_built_here() {
    let dir = scratch("built_here");
    let mut built = Vec::new();
    let c = |name: &'static str, cc: &'static str, flags: &'static [&'static str]| {
        (name, cc, flags.iter().copied().chain(["-O2", "hello.c"]).map(String::from).collect::<Vec<_>>())
    };
    let mut builds = vec![
        c("musl-static", "musl-gcc", &["-static", "-no-pie"]),
        c("musl-static-noseparate", "musl-gcc", &["-static", "-no-pie", "-Wl,-z,noseparate-code"]),
        c("glibc-static", "gcc", &["-static", "-no-pie"]),
        c("glibc-static-pie", "gcc", &["-static-pie"]),
        c("glibc-static-gold", "gcc", &["-static", "-no-pie", "-fuse-ld=gold"]),
        (
            "rust-crt-static",
            "rustc",
            ["-O", "--target", "x86_64-unknown-linux-gnu", "-C", "target-feature=+crt-static", "hello.rs"]
                .map(String::from)
                .to_vec(),
        ),
    ];
    if Path::new(MUSL).join("rcrt1.o").exists() {
        // A real musl static-PIE, linked by hand since Debian's musl-gcc cannot.
        let mut args: Vec<String> =
            ["-static-pie", "-fPIE", "-O2", "-nostdlib", "-nostdinc"].map(String::from).to_vec();
        args.extend([
            "-isystem".into(),
            "/usr/include/x86_64-linux-musl".into(),
            "-isystem".into(),
            gcc_file("include"),
        ]);
        args.extend([format!("{MUSL}/rcrt1.o"), format!("{MUSL}/crti.o"), gcc_file("crtbeginS.o"), "hello.c".into()]);
        args.extend([format!("-L{MUSL}"), "-lc".into(), gcc_file("libgcc.a"), gcc_file("crtendS.o")]);
        args.push(format!("{MUSL}/crtn.o"));
        builds.push(("musl-static-pie", "gcc", args));
    }
    for (name, program, args) in &builds {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        if let Some(path) = build(&dir, name, program, &args) {
            let plan = check_real(&path);
            eprintln!("{name}: {} segments, bias {:#x}, entry {:#x}", plan.segments.len(), plan.load_bias, plan.entry);
            built.push(*name);
        }
    }
    eprintln!("checked: {built:?}");
}

#[test]
fn debian_musl_gcc_static_pie_is_dynamic() {
    let dir = scratch("musl_gcc");
    let Some(path) = build(&dir, "musl-gcc-static-pie", "musl-gcc", &["-static-pie", "-O2", "hello.c"]) else { return };
    let file = std::fs::read(&path).unwrap();
    let plan = plan(&file, &Limits::BERTH).unwrap();
    check_invariants(&plan, file.len(), &Limits::BERTH);
    // Debian's musl-gcc makes it dynamic after all (a PT_INTERP for musl's loader).
    if let Some(interp) = &plan.interpreter {
        assert!(interp.contains("ld-musl"), "{interp}");
    }
}

#[test]
fn page_size_below_4096_is_refused() {
    // The only linker setting found that makes segments share a page.
    let dir = scratch("small_pages");
    let args = ["-static", "-no-pie", "-O2", "-Wl,-z,max-page-size=0x100", "hello.c"];
    let Some(path) = build(&dir, "glibc-small-pages", "gcc", &args) else { return };
    let file = std::fs::read(&path).unwrap();
    let e = plan(&file, &Limits::BERTH).unwrap_err();
    eprintln!("max-page-size=0x100: {e}");
}
