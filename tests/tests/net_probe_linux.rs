//! `net-probe` passes on this Linux host, so its expectations are Linux's.
//!
//! Compiles the probe with musl-gcc (Debian's `musl-tools`, which `cargo xtask setup`
//! installs) into Cargo's scratch directory, starts the host test server and runs the
//! probe natively against it on 127.0.0.1.

use berth_tests::netprobe::{self, compile, verdict};
use berth_tests::netserver::NetServer;
use std::path::Path;
use std::process::Command;

#[test]
fn net_probe_passes_on_linux() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("the repository root");
    let exe = Path::new(env!("CARGO_TARGET_TMPDIR")).join("net-probe");
    compile(root, &exe).unwrap_or_else(|e| panic!("{e}"));
    let server = NetServer::start().unwrap_or_else(|e| panic!("{e}"));
    let command = netprobe::net_probe_command("127.0.0.1", server.port(), server.closed_port());
    let output = Command::new(&exe)
        .args(command.split_whitespace().skip(1))
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", exe.display()));
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<String> = stdout.lines().map(str::to_string).collect();
    print!("{stdout}");
    eprint!("{}", String::from_utf8_lossy(&output.stderr));
    let passed = verdict(&lines).unwrap_or_else(|e| panic!("{e}"));
    assert!(output.status.success(), "net-probe exited with {} after {passed} checks passed", output.status);
}
