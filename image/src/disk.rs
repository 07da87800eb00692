//! The Limine disk image: a GPT disk ready for `dd` to a server's disk or a USB stick.
//!
//! Partition 1, `berth-boot` (an EFI system partition, FAT): the staged boot files
//! (the kernel at `/boot/berth`, image archives under `/images`), the configuration as
//! `/boot/limine/limine.conf` with Limine's BIOS stage beside it, and Limine's UEFI
//! loader as `/EFI/BOOT/BOOTX64.EFI`. Partition 2, `berth-data` (type
//! [`berth_gpt::BERTH_DATA`]): space for berth's persistent store, left zeroed (the
//! file is sparse). `limine bios-install` then writes Limine's BIOS stages into the
//! protective MBR and the gap after the partition table, so one disk boots through
//! both firmwares; without the `limine` tool it boots through UEFI only.

use crate::iso::{Firmware, LIMINE_FILES, limine_tool};
use crate::{Error, Result};
use gpt::partition_types::{OperatingSystem, Type};
use std::io::{Cursor, Seek, SeekFrom, Write};
use std::path::Path;
use std::process::Command;

/// Sectors (bytes per logical block) of the image.
const SECTOR: u64 = 512;
/// Partitions start on 1 MiB boundaries, as partitioning tools place them.
const ALIGN_SECTORS: u64 = (1 << 20) / SECTOR;
/// The boot partition is at least this big (FAT32's minimum is about 33 MiB).
const MIN_BOOT_BYTES: u64 = 64 << 20;

/// The sizes of a disk image.
#[derive(Debug, Clone, Copy)]
pub struct Layout {
    /// Bytes of the boot partition.
    pub boot_bytes: u64,
    /// Bytes of the data partition.
    pub data_bytes: u64,
}

impl Layout {
    /// A boot partition with room for `content` bytes of files (and a quarter more
    /// for the file system and later additions), and `data_bytes` of data partition.
    pub fn for_content(content: u64, data_bytes: u64) -> Layout {
        let boot = (content + content / 4 + (8 << 20)).max(MIN_BOOT_BYTES).next_multiple_of(1 << 20);
        Layout { boot_bytes: boot, data_bytes: data_bytes.next_multiple_of(1 << 20) }
    }

    /// The whole disk's size: the partitions, 1 MiB before them and 1 MiB after (the
    /// backup table).
    pub fn disk_bytes(&self) -> u64 {
        self.boot_bytes + self.data_bytes + (2 << 20)
    }
}

fn gpt_type(guid: berth_gpt::Guid) -> Type {
    Type { guid: uuid::Uuid::from_bytes(guid.0), os: OperatingSystem::None }
}

/// Writes a sparse disk of `bytes` at `out` with a protective MBR and a GPT holding
/// `partitions` (name, bytes, type) in order, each on a 1 MiB boundary; returns each
/// partition's first byte.
fn gpt_disk(out: &Path, bytes: u64, partitions: &[(&str, u64, berth_gpt::Guid)]) -> Result<Vec<u64>> {
    let io = |e: std::io::Error| Error(format!("{}: {e}", out.display()));
    let mut file =
        std::fs::OpenOptions::new().read(true).write(true).create(true).truncate(true).open(out).map_err(io)?;
    file.set_len(bytes).map_err(io)?;
    gpt::mbr::ProtectiveMBR::with_lb_size(u32::try_from(bytes / SECTOR - 1).unwrap_or(u32::MAX))
        .overwrite_lba0(&mut file)
        .map_err(|e| Error(format!("{}: protective MBR: {e}", out.display())))?;
    let gpt_err = |e: gpt::GptError| Error(format!("{}: partition table: {e}", out.display()));
    let mut table = gpt::GptConfig::new().writable(true).create_from_device(file, None).map_err(gpt_err)?;
    let mut ids = Vec::new();
    for &(name, size, kind) in partitions {
        ids.push(table.add_partition(name, size, gpt_type(kind), 0, Some(ALIGN_SECTORS)).map_err(gpt_err)?);
    }
    let starts = ids.iter().map(|id| table.partitions()[id].first_lba * SECTOR).collect();
    table.write().map_err(gpt_err)?;
    Ok(starts)
}

/// Writes an empty GPT disk of `layout` to `out` (sparse), with the boot and data
/// partitions; returns the boot partition's first byte.
pub fn partition(out: &Path, layout: Layout) -> Result<u64> {
    let partitions = [
        ("berth-boot", layout.boot_bytes, berth_gpt::EFI_SYSTEM),
        ("berth-data", layout.data_bytes, berth_gpt::BERTH_DATA),
    ];
    Ok(gpt_disk(out, layout.disk_bytes(), &partitions)?[0])
}

/// Writes a data disk at `out` (sparse): a GPT with one berth data partition of
/// `data_bytes`, which the kernel formats as its store on first use. For direct boot,
/// where no boot partition is needed.
pub fn data_disk(out: &Path, data_bytes: u64) -> Result<()> {
    let data_bytes = data_bytes.next_multiple_of(1 << 20);
    gpt_disk(out, data_bytes + (2 << 20), &[("berth-data", data_bytes, berth_gpt::BERTH_DATA)]).map(drop)
}

/// Builds the disk image at `out` from the staged boot files in `root`, the
/// configuration `config` and Limine's binaries in `limine`, with `data_bytes` of data
/// partition; says which firmware boots it.
pub fn build(root: &Path, config: &Path, limine: &Path, out: &Path, data_bytes: u64) -> Result<Firmware> {
    let mut files: Vec<(String, std::path::PathBuf)> = Vec::new();
    collect(root, "", &mut files)?;
    files.push(("boot/limine/limine.conf".into(), config.to_path_buf()));
    files.push(("boot/limine/limine-bios.sys".into(), limine.join(LIMINE_FILES[0])));
    files.push(("EFI/BOOT/BOOTX64.EFI".into(), limine.join("BOOTX64.EFI")));
    let mut content = 0;
    for (_, path) in &files {
        content += std::fs::metadata(path).map_err(|e| Error(format!("{}: {e}", path.display())))?.len();
    }
    let layout = Layout::for_content(content, data_bytes);
    let boot_at = partition(out, layout)?;
    let fat = fat_image(layout.boot_bytes, &files)?;
    let io = |e: std::io::Error| Error(format!("{}: {e}", out.display()));
    let mut disk = std::fs::OpenOptions::new().write(true).open(out).map_err(io)?;
    disk.seek(SeekFrom::Start(boot_at)).map_err(io)?;
    disk.write_all(&fat).map_err(io)?;
    drop(disk);
    let Some(tool) = limine_tool(limine) else {
        return Ok(Firmware::UefiOnly);
    };
    let status = Command::new(&tool)
        .args(["bios-install", "--quiet"])
        .arg(out)
        .status()
        .map_err(|e| Error(format!("running {}: {e}", tool.display())))?;
    if !status.success() {
        return Err(Error(format!("`limine bios-install {}` failed ({status})", out.display())));
    }
    Ok(Firmware::Both)
}

/// The files under `dir`, as (path on the boot partition, path here).
fn collect(dir: &Path, prefix: &str, out: &mut Vec<(String, std::path::PathBuf)>) -> Result<()> {
    let io = |e: std::io::Error| Error(format!("{}: {e}", dir.display()));
    let mut entries: Vec<_> = std::fs::read_dir(dir).map_err(io)?.collect::<std::io::Result<_>>().map_err(io)?;
    entries.sort_by_key(|e| e.file_name());
    for entry in entries {
        let name = format!("{prefix}{}", entry.file_name().to_string_lossy());
        if entry.path().is_dir() {
            collect(&entry.path(), &format!("{name}/"), out)?;
        } else {
            out.push((name, entry.path()));
        }
    }
    Ok(())
}

/// A FAT file system of `bytes` holding `files`.
fn fat_image(bytes: u64, files: &[(String, std::path::PathBuf)]) -> Result<Vec<u8>> {
    let fat = |e: std::io::Error| Error(format!("boot partition: {e}"));
    let mut volume = Cursor::new(vec![0u8; bytes as usize]);
    fatfs::format_volume(&mut volume, fatfs::FormatVolumeOptions::new().volume_label(*b"BERTH-BOOT ")).map_err(fat)?;
    {
        let fs = fatfs::FileSystem::new(&mut volume, fatfs::FsOptions::new()).map_err(fat)?;
        for (name, path) in files {
            let mut dir = fs.root_dir();
            let (dirs, file) = name.rsplit_once('/').map_or(("", name.as_str()), |(d, f)| (d, f));
            for part in dirs.split('/').filter(|p| !p.is_empty()) {
                dir = match dir.open_dir(part) {
                    Ok(d) => d,
                    Err(_) => dir.create_dir(part).map_err(fat)?,
                };
            }
            let data = std::fs::read(path).map_err(|e| Error(format!("{}: {e}", path.display())))?;
            let mut f = dir.create_file(file).map_err(fat)?;
            f.truncate().map_err(fat)?;
            f.write_all(&data).map_err(fat)?;
        }
        fs.unmount().map_err(fat)?;
    }
    Ok(volume.into_inner())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_data_disk_has_one_data_partition() {
        let out = std::env::temp_dir().join(format!("berth-data-disk-{}.img", std::process::id()));
        data_disk(&out, 3 << 20).unwrap();
        let image = std::fs::read(&out).unwrap();
        let parts = berth_gpt::read(image.len() as u64 / SECTOR, |lba, buf| {
            let at = (lba * SECTOR) as usize;
            buf.copy_from_slice(&image[at..at + SECTOR as usize]);
            true
        })
        .unwrap();
        assert_eq!(parts.len(), 1);
        assert_eq!((parts[0].kind, parts[0].sectors() * SECTOR), (berth_gpt::BERTH_DATA, 3 << 20));
        std::fs::remove_file(&out).unwrap();
    }

    #[test]
    fn the_disk_has_a_boot_partition_with_the_files_and_a_data_partition() {
        let base = std::env::temp_dir().join(format!("berth-disk-{}", std::process::id()));
        let (root, limine) = (base.join("root"), base.join("limine"));
        std::fs::create_dir_all(root.join("boot")).unwrap();
        std::fs::create_dir_all(root.join("images")).unwrap();
        std::fs::create_dir_all(&limine).unwrap();
        std::fs::write(root.join("boot/berth"), b"kernel").unwrap();
        std::fs::write(root.join("images/a.tar"), vec![7u8; 100_000]).unwrap();
        for f in LIMINE_FILES {
            std::fs::write(limine.join(f), f).unwrap();
        }
        let config = base.join("limine.cfg");
        std::fs::write(&config, "timeout: 0\n").unwrap();
        let out = base.join("disk.img");
        // No `limine` tool in that directory (and none on the PATH here): UEFI only.
        let firmware = build(&root, &config, &limine, &out, 8 << 20).unwrap();
        if limine_tool(&limine).is_none() {
            assert_eq!(firmware, Firmware::UefiOnly);
        }

        let image = std::fs::read(&out).unwrap();
        let sectors = image.len() as u64 / SECTOR;
        let parts = berth_gpt::read(sectors, |lba, buf| {
            let at = (lba * SECTOR) as usize;
            buf.copy_from_slice(&image[at..at + SECTOR as usize]);
            true
        })
        .unwrap();
        assert_eq!(parts.len(), 2);
        assert_eq!((parts[0].kind, parts[1].kind), (berth_gpt::EFI_SYSTEM, berth_gpt::BERTH_DATA));
        assert_eq!(parts[1].sectors() * SECTOR, 8 << 20);
        assert_eq!(parts[0].first % ALIGN_SECTORS, 0);

        let start = (parts[0].first * SECTOR) as usize;
        let end = ((parts[0].last + 1) * SECTOR) as usize;
        let fs = fatfs::FileSystem::new(Cursor::new(image[start..end].to_vec()), fatfs::FsOptions::new()).unwrap();
        let read = |path: &str| {
            let mut data = Vec::new();
            std::io::Read::read_to_end(&mut fs.root_dir().open_file(path).unwrap(), &mut data).unwrap();
            data
        };
        assert_eq!(read("boot/berth"), b"kernel");
        assert_eq!(read("images/a.tar"), vec![7u8; 100_000]);
        assert_eq!(read("boot/limine/limine.conf"), b"timeout: 0\n");
        assert_eq!(read("EFI/BOOT/BOOTX64.EFI"), b"BOOTX64.EFI");
        std::fs::remove_dir_all(&base).unwrap();
    }
}
