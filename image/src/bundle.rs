//! Writing the direct-boot module bundle (see `berth_boot::unpack_bundle`).

use crate::{Error, Result};
use berth_boot::BUNDLE_MANIFEST;
use std::fs::File;
use std::io::BufWriter;
use std::path::{Path, PathBuf};

/// A module to pack.
#[derive(Debug, Clone)]
pub struct BundleModule {
    /// Its member name (the path inside the boot medium, e.g. `images/a.tar`).
    pub name: String,
    /// Its command line.
    pub cmdline: String,
    /// The file holding its bytes.
    pub file: PathBuf,
}

/// Writes the bundle: a tar archive whose first member lists the modules.
pub fn write(modules: &[BundleModule], out: &Path) -> Result<()> {
    let io = |what: &str, e: std::io::Error| Error(format!("{what}: {e}"));
    let mut manifest = String::new();
    for m in modules {
        if m.name.contains(['\t', '\n']) || m.cmdline.contains('\n') {
            return Err(Error(format!("module `{}`: names and command lines must be single lines", m.name)));
        }
        manifest.push_str(&format!("{}\t{}\n", m.name, m.cmdline));
    }
    let file = File::create(out).map_err(|e| io(&out.display().to_string(), e))?;
    let mut builder = tar::Builder::new(BufWriter::new(file));
    builder.mode(tar::HeaderMode::Deterministic);
    let mut header = tar::Header::new_ustar();
    header.set_size(manifest.len() as u64);
    header.set_mode(0o644);
    builder
        .append_data(&mut header, BUNDLE_MANIFEST, manifest.as_bytes())
        .map_err(|e| io("writing the bundle manifest", e))?;
    for m in modules {
        let mut f = File::open(&m.file).map_err(|e| io(&format!("module {}", m.file.display()), e))?;
        builder.append_file(&m.name, &mut f).map_err(|e| io(&format!("packing {}", m.name), e))?;
    }
    builder.into_inner().map_err(|e| io("finishing the bundle", e))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_kernel_reads_what_this_writes() {
        let dir = std::env::temp_dir().join(format!("berth-bundle-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("a.tar"), vec![1u8; 1500]).unwrap();
        std::fs::write(dir.join("b.tar"), b"bee").unwrap();
        let modules = [
            BundleModule { name: "images/a.tar".into(), cmdline: "container name=a".into(), file: dir.join("a.tar") },
            BundleModule { name: "images/b.tar".into(), cmdline: String::new(), file: dir.join("b.tar") },
        ];
        let out = dir.join("bundle.tar");
        write(&modules, &out).unwrap();
        let bytes = std::fs::read(&out).unwrap();
        let unpacked = berth_boot::unpack_bundle(&bytes, 0x1000).unwrap().unwrap();
        assert_eq!(unpacked.len(), 2);
        assert_eq!(unpacked[0].cmdline, "container name=a");
        let a = &bytes[(unpacked[0].phys.start - 0x1000) as usize..(unpacked[0].phys.end - 0x1000) as usize];
        assert_eq!(a, &[1u8; 1500][..]);
        assert_eq!(unpacked[1].phys.len(), 3);
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn multi_line_command_lines_are_refused() {
        let m = BundleModule { name: "x".into(), cmdline: "a\nb".into(), file: PathBuf::from("/nonexistent") };
        assert!(write(&[m], Path::new("/tmp/never-written")).is_err());
    }
}
