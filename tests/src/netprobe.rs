//! `net-probe` (`userland/net-probe`), the socket errno checks: how it is built, the
//! container command that runs it, and reading its results.
//!
//! The probe talks to a [`crate::netserver::NetServer`] on the host. A QEMU test starts
//! one, boots berth with a network device (`VmConfig.network = Some(vec![])`: the probe
//! connects out, so no forwards are needed) and a container running
//! [`net_probe_command`]`(GUEST_HOST, server.port(), server.closed_port())`, then passes
//! the container's output lines to [`verdict`].

use std::path::Path;
use std::process::Command;

/// The probe's C sources, relative to the repository root.
pub const SOURCES: &[&str] = &[
    "userland/net-probe/net-probe.c",
    "userland/net-probe/helpers.c",
    "userland/net-probe/remote.c",
    "userland/net-probe/local.c",
    "userland/net-probe/streams.c",
    "userland/net-probe/fetch.c",
];

/// Where the probe is installed in the test image (`images/test.tar`).
pub const PATH_IN_IMAGE: &str = "/usr/bin/net-probe";

/// The host's loopback as a guest on QEMU user networking sees it.
pub const GUEST_HOST: &str = "10.0.2.2";

/// The command line that runs the probe against a server at `host` (`GUEST_HOST` inside
/// berth, `127.0.0.1` on the host) with control port `ctrl` and refused port `closed`.
pub fn net_probe_command(host: &str, ctrl: u16, closed: u16) -> String {
    format!("{PATH_IN_IMAGE} {host} {ctrl} {closed}")
}

/// Compiles the probe from the sources under `root` (the repository) into `out` with
/// `musl-gcc -static -O2 -Wall -Wextra -Werror`, as `cargo xtask` builds it.
pub fn compile(root: &Path, out: &Path) -> Result<(), String> {
    let mut cmd = Command::new("musl-gcc");
    cmd.args(["-static", "-O2", "-Wall", "-Wextra", "-Werror", "-o"]).arg(out);
    cmd.args(SOURCES.iter().map(|s| root.join(s)));
    let output = cmd.output().map_err(|e| {
        format!("cannot run musl-gcc ({e}): install Debian's musl-tools package (`cargo xtask setup` does)")
    })?;
    if output.status.success() {
        Ok(())
    } else {
        Err(format!("musl-gcc failed on net-probe:\n{}", String::from_utf8_lossy(&output.stderr)))
    }
}

/// Reads the probe's output lines: `Ok(number of checks passed)` if it printed a `PASS`
/// line for every check, no `FAIL` line and a summary with 0 failed; otherwise the
/// failures (or what is missing) as the error.
pub fn verdict(lines: &[String]) -> Result<usize, String> {
    let failures: Vec<&str> = lines.iter().map(|l| l.trim_end()).filter(|l| l.starts_with("FAIL ")).collect();
    let passed = lines.iter().filter(|l| l.starts_with("PASS ")).count();
    let summary = lines.iter().rev().find_map(|l| l.trim_end().strip_prefix("net-probe: "));
    let counts = summary.and_then(|s| {
        let mut words = s.split([' ', ',']).filter(|w| !w.is_empty());
        let pass: usize = words.next()?.parse().ok()?;
        let fail: usize = words.nth(1)?.parse().ok()?;
        Some((pass, fail))
    });
    match counts {
        _ if !failures.is_empty() => Err(format!("net-probe failed:\n{}", failures.join("\n"))),
        Some((pass, 0)) if pass == passed && pass > 0 => Ok(passed),
        Some((pass, fail)) => {
            Err(format!("net-probe summary says {pass} passed, {fail} failed; saw {passed} PASS lines"))
        }
        None => Err(format!("net-probe printed no summary line (it crashed or hung); {passed} checks passed")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(text: &str) -> Vec<String> {
        text.lines().map(str::to_string).collect()
    }

    #[test]
    fn command_names_the_installed_probe() {
        assert_eq!(net_probe_command(GUEST_HOST, 4000, 4001), "/usr/bin/net-probe 10.0.2.2 4000 4001");
    }

    #[test]
    fn verdicts() {
        assert_eq!(verdict(&lines("PASS a\nPASS b\nnet-probe: 2 passed, 0 failed\n")), Ok(2));
        assert!(
            verdict(&lines("PASS a\nFAIL b: x\nnet-probe: 1 passed, 1 failed\n")).unwrap_err().contains("FAIL b: x")
        );
        assert!(verdict(&lines("PASS a\n")).unwrap_err().contains("no summary"));
        assert!(verdict(&lines("PASS a\nnet-probe: 2 passed, 0 failed\n")).is_err());
        assert!(verdict(&lines("net-probe: 0 passed, 0 failed\n")).is_err());
    }
}
