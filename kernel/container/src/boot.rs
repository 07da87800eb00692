//! Containers started at boot from the modules `limine.cfg` lists.

use super::{Container, Status, parse_module_cmdline, registry};
use alloc::string::String;
use alloc::sync::Arc;
use alloc::vec::Vec;
use berth_hal::bootinfo::BootInfo;
use berth_vfs::{Image, ImageLimits};

/// Adds every module whose command line is `image NAME[:TAG]` to the machine's images
/// (a bare name is tagged `latest`), for the control agent to make containers from.
pub fn load_boot_images(boot: &BootInfo) {
    for (i, module) in boot.modules.iter().enumerate() {
        let mut words = module.cmdline.split_whitespace();
        if words.next() != Some("image") {
            continue;
        }
        let Some(name) = words.next() else { continue };
        let tag = if name.rsplit('/').next().is_some_and(|last| last.contains(':')) {
            String::from(name)
        } else {
            alloc::format!("{name}:latest")
        };
        let Some(bytes) = berth_hal::mm::module_bytes(module.phys) else {
            log::error!("module {i}: its bytes are not readable");
            continue;
        };
        let mut builder = super::layers::LayerBuilder::new(ImageLimits::default().max_bytes);
        let added =
            builder.push(bytes).and_then(|()| builder.finish()).map_err(|e| alloc::format!("{e}")).and_then(|layer| {
                super::images::import(layer, berth_oci::RunConfig::default(), "", Some(tag.clone()))
                    .map_err(|e| alloc::format!("{e}"))
            });
        match added {
            Ok(stored) => {
                super::store::note_module_image(&stored.id);
                log::info!("image {tag} ({}) loaded from module {i}", &stored.id[..12]);
            }
            Err(e) => log::error!("module {i}: image {tag}: {e}"),
        }
    }
}

/// Creates and starts a container for every module whose command line begins with
/// `container`; returns them. Problems are logged and skip that module.
pub fn start_boot_containers(boot: &BootInfo) -> Vec<Arc<Container>> {
    let mut started = Vec::new();
    for (i, module) in boot.modules.iter().enumerate() {
        if !module.cmdline.starts_with("container") {
            continue;
        }
        let config = match parse_module_cmdline(&module.cmdline) {
            Ok(c) => c,
            Err(e) => {
                log::error!("module {i}: {e}: not started");
                continue;
            }
        };
        let Some(bytes) = berth_hal::mm::module_bytes(module.phys) else {
            log::error!("module {i}: its bytes are not readable");
            continue;
        };
        let image = match Image::from_tar(bytes, ImageLimits::default()) {
            Ok(image) => Arc::new(image),
            Err(e) => {
                log::error!("module {i}: {e}: not started");
                continue;
            }
        };
        let name = config.name.clone().unwrap_or_else(|| String::from("?"));
        match Container::create(config, image).and_then(|c| c.start().map(|()| c.clone()).or(Ok(c))) {
            Ok(c) => {
                log::info!("container {} ({}) started from module {i}", c.name(), &c.id[..12]);
                started.push(c);
            }
            Err(e) => log::error!("container {name}: {e}"),
        }
    }
    started
}

/// Waits until every container in `containers` has finished, then logs a summary line
/// per container (`container NAME exited with status N`) for test harnesses.
pub fn wait_for_all(containers: &[Arc<Container>]) {
    let _ = registry::FINISHED.wait_until(
        || containers.iter().all(|c| matches!(c.status(), Status::Exited(_))).then_some(()),
        None,
        None,
    );
    for c in containers {
        if let Status::Exited(code) = c.status() {
            log::info!("summary: container {} status {code}", c.name());
        }
    }
}
