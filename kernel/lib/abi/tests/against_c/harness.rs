//! A harness that checks Rust values against C: it writes one C program per header set,
//! compiles each with `gcc`, runs it, and compares every line it prints with the value
//! the Rust side expects.

use berth_abi::verify::Headers;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::process::Command;

/// Includes of the glibc program: glibc's own headers, as a C program would use them.
const LIBC_PRELUDE: &str = r#"
#define _GNU_SOURCE
#include <stdio.h>
#include <stddef.h>
#include <string.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <fcntl.h>
#include <dirent.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <sys/resource.h>
#include <sys/time.h>
#include <time.h>
#include <sys/timerfd.h>
#include <poll.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/select.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <netinet/tcp.h>
#include <sys/un.h>
#include <termios.h>
"#;

/// Includes of the kernel program: UAPI headers only (glibc's would clash with them).
const KERNEL_PRELUDE: &str = r#"
#include <stdio.h>
#include <stddef.h>
#include <string.h>
#include <asm/signal.h>
#include <asm/siginfo.h>
#include <asm/sigcontext.h>
#include <asm/ucontext.h>
#include <asm/stat.h>
#include <asm/statfs.h>
#include <asm/termbits.h>
#include <asm/termios.h>
#include <asm/ioctls.h>
#include <asm/prctl.h>
#include <asm/hwcap2.h>
#include <asm/socket.h>
#include <asm/unistd.h>
#include <linux/signal.h>
#include <linux/sched.h>
#include <linux/wait.h>
#include <linux/fcntl.h>
#include <linux/stat.h>
#include <linux/magic.h>
#include <linux/mman.h>
#include <linux/memfd.h>
#include <linux/resource.h>
#include <linux/sysinfo.h>
#include <linux/times.h>
#include <linux/utsname.h>
#include <linux/prctl.h>
#include <linux/auxvec.h>
#include <linux/futex.h>
#include <linux/time.h>
#include <linux/eventpoll.h>
#include <linux/poll.h>
#include <linux/uio.h>
#include <linux/in.h>
#include <linux/in6.h>
#include <linux/un.h>
"#;

/// Shared by both programs: prints bytes as hex.
const HELPERS: &str = r#"
static void dump(const char *key, const void *p, size_t n) {
    const unsigned char *b = p;
    printf("%s\t", key);
    for (size_t i = 0; i < n; i++) printf("%02x", b[i]);
    printf("\n");
}
"#;

/// What the Rust side expects a line to say.
#[derive(Debug, Clone)]
enum Want {
    /// An integer, compared at the width of the Rust type.
    Int { value: i128, bits: u32 },
    /// Exact text.
    Text(String),
}

/// A set of checks being assembled.
#[derive(Default)]
pub struct Checks {
    libc: String,
    kernel: String,
    wants: Vec<(String, Want, bool)>,
}

/// Outcome of [`Checks::run`].
pub struct Report {
    /// Lines that disagree, one message each.
    pub mismatches: Vec<String>,
    /// Optional checks the headers could not answer.
    pub skipped: Vec<String>,
    /// How many lines were compared.
    pub compared: usize,
}

/// Lower-case hex of some bytes, as the C `dump` prints them.
pub fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

impl Checks {
    fn body(&mut self, h: Headers) -> &mut String {
        match h {
            Headers::Libc => &mut self.libc,
            Headers::Kernel => &mut self.kernel,
        }
    }

    /// C code placed in `main` of the program for `h`; it must print the lines it promises.
    pub fn code(&mut self, h: Headers, code: &str) {
        let body = self.body(h);
        body.push_str(code);
        body.push('\n');
    }

    /// Expects the line `key` (printed by [`Checks::code`]) to read `want`.
    pub fn expect_text(&mut self, key: &str, want: impl Into<String>) {
        self.wants.push((key.to_string(), Want::Text(want.into()), false));
    }

    /// Checks that the C expression `expr` equals `value` at a width of `bits`.
    pub fn int(&mut self, h: Headers, key: &str, expr: &str, value: i128, bits: u32) {
        self.code(h, &format!("printf(\"%s\\t%lld\\n\", \"{key}\", (long long)({expr}));"));
        self.wants.push((key.to_string(), Want::Int { value, bits }, false));
    }

    /// Like [`Checks::int`] for a macro the headers may not define (skipped if undefined).
    pub fn int_if_defined(&mut self, h: Headers, key: &str, macro_name: &str, value: i128, bits: u32) {
        self.code(
            h,
            &format!("#ifdef {macro_name}\nprintf(\"%s\\t%lld\\n\", \"{key}\", (long long)({macro_name}));\n#endif"),
        );
        self.wants.push((key.to_string(), Want::Int { value, bits }, true));
    }

    /// Checks that the C expression `expr` (a `const char *`) reads `want`.
    pub fn string(&mut self, h: Headers, key: &str, expr: &str, want: &str) {
        self.code(h, &format!("printf(\"%s\\t%s\\n\", \"{key}\", {expr});"));
        self.expect_text(key, want);
    }

    /// Compiles and runs both programs and compares their output with the expectations.
    pub fn run(self, dir: &Path) -> Report {
        let mut got = HashMap::new();
        for (name, prelude, body) in [("libc", LIBC_PRELUDE, &self.libc), ("kernel", KERNEL_PRELUDE, &self.kernel)] {
            let out =
                compile_and_run(dir, name, &format!("{prelude}{HELPERS}\nint main(void) {{\n{body}\nreturn 0;\n}}\n"));
            for line in out.lines() {
                let (key, value) = line.split_once('\t').unwrap_or_else(|| panic!("bad output line {line:?}"));
                assert!(got.insert(key.to_string(), value.to_string()).is_none(), "key {key} printed twice");
            }
        }

        let mut report = Report { mismatches: Vec::new(), skipped: Vec::new(), compared: 0 };
        let mut seen = BTreeMap::new();
        for (key, want, optional) in self.wants {
            assert!(seen.insert(key.clone(), ()).is_none(), "key {key} checked twice");
            let Some(c) = got.get(&key) else {
                if optional {
                    report.skipped.push(key);
                } else {
                    report.mismatches.push(format!("{key}: not printed by the C program"));
                }
                continue;
            };
            report.compared += 1;
            match want {
                Want::Text(w) if *c != w => report.mismatches.push(format!("{key}: C {c:?}, Rust {w:?}")),
                Want::Text(_) => {}
                Want::Int { value, bits } => {
                    let c_value: i128 = c.parse().unwrap_or_else(|_| panic!("{key}: {c:?} is not a number"));
                    if !same_int(c_value, value, bits) {
                        report.mismatches.push(format!(
                            "{key}: C {c_value} ({c_value:#x}), Rust {value} ({value:#x}) as {bits}-bit"
                        ));
                    }
                }
            }
        }
        report
    }
}

/// Whether a C value (as `long long`) and a Rust value of `bits` bits are the same number:
/// equal bit patterns at that width, and the C value representable at it.
fn same_int(c: i128, rust: i128, bits: u32) -> bool {
    let mask = (1i128 << bits) - 1;
    let zext = c & mask;
    let sext = if zext >> (bits - 1) & 1 == 1 { zext - (1i128 << bits) } else { zext };
    (c == zext || c == sext) && zext == rust & mask
}

fn compile_and_run(dir: &Path, name: &str, source: &str) -> String {
    std::fs::create_dir_all(dir).unwrap();
    let src = dir.join(format!("{name}.c"));
    let exe: PathBuf = dir.join(name);
    std::fs::write(&src, source).unwrap();
    let cc = Command::new("gcc")
        .args(["-std=gnu11", "-O0", "-Wall", "-Wno-format", "-o"])
        .arg(&exe)
        .arg(&src)
        .output()
        .expect("running gcc (install gcc and linux-libc-dev)");
    assert!(cc.status.success(), "gcc failed on {}:\n{}", src.display(), String::from_utf8_lossy(&cc.stderr));
    let run = Command::new(&exe).output().unwrap();
    assert!(run.status.success(), "{} failed", exe.display());
    String::from_utf8(run.stdout).unwrap()
}

/// The `#define`s a header set yields, from `gcc -dM -E`: name to replacement text.
pub fn macros(includes: &[&str]) -> BTreeMap<String, String> {
    let src: String = includes.iter().map(|h| format!("#include <{h}>\n")).collect();
    let mut child = Command::new("gcc")
        .args(["-dM", "-E", "-x", "c", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("running gcc");
    use std::io::Write;
    child.stdin.take().unwrap().write_all(src.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success());
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .filter_map(|l| {
            let rest = l.strip_prefix("#define ")?;
            let (name, value) = rest.split_once(' ').unwrap_or((rest, ""));
            Some((name.to_string(), value.trim().to_string()))
        })
        .collect()
}
