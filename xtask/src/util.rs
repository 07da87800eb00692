//! Small helpers: the repository layout, running commands, progress lines.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// The repository root (where the workspace Cargo.toml is).
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("xtask lives in the workspace").to_path_buf()
}

/// `target/berth`: everything xtask builds.
pub fn out_dir() -> PathBuf {
    root().join("target/berth")
}

/// The cargo that runs xtask (honours the pinned toolchain).
pub fn cargo() -> Command {
    let mut cmd = Command::new(std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into()));
    cmd.current_dir(root());
    cmd
}

/// Prints a step header and returns a timer for [`done`].
pub fn step(what: &str) -> Instant {
    println!("==> {what}");
    Instant::now()
}

/// Prints how long a step took.
pub fn done(started: Instant, what: &str) {
    println!("    {what} ({:.1} s)", started.elapsed().as_secs_f64());
}

/// Runs a command, failing with its description if it does not succeed.
pub fn run(cmd: &mut Command, what: &str) -> Result<(), String> {
    let status = cmd.status().map_err(|e| format!("{what}: cannot start {:?}: {e}", cmd.get_program()))?;
    if status.success() { Ok(()) } else { Err(format!("{what} failed ({status})")) }
}

/// Whether an executable is on the PATH.
pub fn have_command(name: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|paths| std::env::split_paths(&paths).any(|dir| dir.join(name).is_file()))
}
