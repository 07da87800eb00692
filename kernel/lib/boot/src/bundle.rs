//! The direct-boot module bundle.
//!
//! QEMU's PVH boot passes a single initrd, while `limine.cfg` may list several modules,
//! each with its own command line. The image builder therefore packs the modules into
//! one tar archive whose first member, [`BUNDLE_MANIFEST`], lists them one per line as
//! `<member name>\t<module command line>`. Module bytes stay where they are inside the
//! archive; nothing is copied.

use crate::{Module, PhysRange};
use alloc::string::String;
use alloc::vec::Vec;

/// Name of the manifest member that marks a tar archive as a module bundle.
pub const BUNDLE_MANIFEST: &str = "berth-modules";

/// Splits a bundle at physical address `base` into its modules. Returns `Ok(None)` if
/// `archive` is not a bundle (so it is a single plain module), or an error describing
/// why a bundle is malformed.
pub fn unpack_bundle(archive: &[u8], base: u64) -> Result<Option<Vec<Module>>, String> {
    let Ok(entries) = berth_tar::entries(archive, u64::MAX) else {
        return Ok(None);
    };
    let Some(manifest) = entries.first().filter(|e| e.header.name == BUNDLE_MANIFEST) else {
        return Ok(None);
    };
    let manifest =
        core::str::from_utf8(manifest.data).map_err(|_| String::from("module bundle manifest is not UTF-8"))?;
    let mut modules = Vec::new();
    for line in manifest.lines().filter(|l| !l.is_empty()) {
        let (name, cmdline) = line.split_once('\t').unwrap_or((line, ""));
        let entry = entries
            .iter()
            .skip(1)
            .find(|e| e.header.name == name)
            .ok_or_else(|| alloc::format!("module bundle lists `{name}` but does not contain it"))?;
        modules.push(Module {
            phys: PhysRange::new(base + entry.header.data_offset, entry.header.size),
            cmdline: String::from(cmdline),
        });
    }
    Ok(Some(modules))
}
