//! Booting berth with containers as boot modules, and reading what they did.

use crate::artifacts::Artifacts;
use crate::qemu::{Vm, VmConfig};
use berth_image::bundle::{self, BundleModule};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

/// A container to start at boot: an image and a module command line
/// (`container name=... -- program args`).
pub struct Boot {
    /// The image archive.
    pub image: PathBuf,
    /// The module command line.
    pub cmdline: String,
}

impl Boot {
    /// A container of `image` named `name` running `command` (settings may precede it
    /// in `settings`, e.g. `memory=64m`).
    pub fn new(image: &std::path::Path, name: &str, settings: &str, command: &str) -> Boot {
        Boot { image: image.to_path_buf(), cmdline: format!("container name={name} {settings} -- {command}") }
    }
}

/// What the containers of a run did.
pub struct Outcome {
    /// The VM (for its console).
    pub vm: Vm,
    /// Each container's exit status from the kernel's summary lines.
    pub status: HashMap<String, i32>,
}

impl Outcome {
    /// The lines container `name` printed, in order.
    pub fn output(&self, name: &str) -> Vec<String> {
        let tag = format!("[{name}] ");
        self.vm.output().lines().filter_map(|l| l.split_once(&tag).map(|(_, rest)| rest.to_string())).collect()
    }

    /// Fails unless container `name` exited with `code`.
    pub fn expect_status(&self, name: &str, code: i32) -> Result<(), String> {
        match self.status.get(name) {
            Some(&c) if c == code => Ok(()),
            other => Err(self.vm.failure(&format!("container {name}: expected status {code}, got {other:?}"))),
        }
    }

    /// Fails unless container `name` printed a line containing `needle`.
    pub fn expect_line(&self, name: &str, needle: &str) -> Result<(), String> {
        if self.output(name).iter().any(|l| l.contains(needle)) {
            Ok(())
        } else {
            Err(self.vm.failure(&format!("container {name} never printed {needle:?}")))
        }
    }
}

/// Boots berth with `containers` as modules and `cmdline`, waits for all of them to
/// finish (the kernel powers off then) and collects their statuses.
pub fn boot(
    a: &Artifacts,
    test: &str,
    containers: &[Boot],
    cmdline: &str,
    timeout: Duration,
) -> Result<Outcome, String> {
    boot_with(a, test, containers, cmdline, timeout, |_| {})
}

/// [`boot`], with `configure` adjusting the VM (more memory, say) before it starts.
pub fn boot_with(
    a: &Artifacts,
    test: &str,
    containers: &[Boot],
    cmdline: &str,
    timeout: Duration,
    configure: impl FnOnce(&mut VmConfig),
) -> Result<Outcome, String> {
    let vm = start(a, test, containers, &format!("halt-when-done {cmdline}"), configure)?;
    finish(a, test, vm, timeout)
}

/// Starts berth with `containers` as modules and `cmdline`; `configure` adjusts the VM
/// (a network device, say) before it starts.
pub fn start(
    a: &Artifacts,
    test: &str,
    containers: &[Boot],
    cmdline: &str,
    configure: impl FnOnce(&mut VmConfig),
) -> Result<Vm, String> {
    let dir = a.scratch(test);
    let modules: Vec<BundleModule> = containers
        .iter()
        .enumerate()
        .map(|(i, c)| BundleModule {
            name: format!("images/{i}.tar"),
            cmdline: c.cmdline.clone(),
            file: c.image.clone(),
        })
        .collect();
    let initrd = dir.join("initrd.tar");
    bundle::write(&modules, &initrd).map_err(|e| e.to_string())?;
    let mut config = VmConfig::new(a.kernel.clone());
    config.initrd = Some(initrd);
    config.cmdline = cmdline.to_string();
    configure(&mut config);
    Vm::start(&config)
}

/// Waits for a VM started with `halt-when-done` to power off, and collects the
/// containers' statuses.
pub fn finish(a: &Artifacts, test: &str, mut vm: Vm, timeout: Duration) -> Result<Outcome, String> {
    let code = vm.wait_exit(timeout);
    let _ = std::fs::write(a.dir.join("test-scratch").join(test).join("console.log"), vm.output());
    let code = code?;
    if code != 0 {
        return Err(vm.failure(&format!("the VM exited with {code}, not through an ACPI power-off")));
    }
    let mut status = HashMap::new();
    for line in vm.output().lines() {
        if let Some(rest) = line.split("summary: container ").nth(1) {
            let mut words = rest.split_whitespace();
            if let (Some(name), Some("status"), Some(code)) = (words.next(), words.next(), words.next()) {
                status.insert(name.to_string(), code.parse().unwrap_or(-1));
            }
        }
    }
    Ok(Outcome { vm, status })
}
