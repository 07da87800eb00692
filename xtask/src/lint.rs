//! `cargo xtask lint`: formatting and clippy, warnings denied, for the host crates and
//! for the kernel on its own target.

use crate::{build, setup, util};

/// Runs rustfmt's check and clippy everywhere.
pub fn lint() -> Result<(), String> {
    setup::ensure()?;
    let t = util::step("cargo fmt --check");
    util::run(util::cargo().args(["fmt", "--all", "--", "--check"]), "cargo fmt --check")?;
    util::done(t, "formatted");
    let t = util::step("clippy (host crates)");
    util::run(util::cargo().args(["clippy", "--all-targets", "--", "-D", "warnings"]), "clippy (host)")?;
    util::run(util::cargo().args(["clippy", "-p", "berth-fuzz", "--", "-D", "warnings"]), "clippy (fuzz targets)")?;
    util::done(t, "clean");
    let t = util::step("clippy (kernel, x86_64-unknown-none)");
    let mut clippy = build::kernel_cargo("clippy");
    for layer in build::KERNEL_LAYERS {
        clippy.args(["-p", layer]);
    }
    util::run(clippy.args(["--", "-D", "warnings"]), "clippy (kernel)")?;
    util::done(t, "clean");
    Ok(())
}
