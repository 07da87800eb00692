//! The reader against tables written by the `gpt` crate (as the disk image builder
//! writes them), and against damaged ones.

use berth_gpt::{BERTH_DATA, EFI_SYSTEM, GptError, SECTOR, read};
use gpt::partition_types::{OperatingSystem, Type};
use std::io::Cursor;

const DISK_SECTORS: u64 = 8 * 2048; // 8 MiB

fn type_of(guid: berth_gpt::Guid) -> Type {
    Type { guid: uuid::Uuid::from_bytes(guid.0), os: OperatingSystem::None }
}

/// An 8 MiB disk with an EFI system partition and a berth data partition.
fn disk() -> Vec<u8> {
    let mut device = Cursor::new(vec![0u8; DISK_SECTORS as usize * SECTOR]);
    gpt::mbr::ProtectiveMBR::with_lb_size((DISK_SECTORS - 1) as u32).overwrite_lba0(&mut device).unwrap();
    let mut table = gpt::GptConfig::new().writable(true).create_from_device(device, None).unwrap();
    table.add_partition("berth-boot", 2 << 20, type_of(EFI_SYSTEM), 0, None).unwrap();
    table.add_partition("berth-data", 4 << 20, type_of(BERTH_DATA), 0, None).unwrap();
    table.write().unwrap().into_inner()
}

fn sectors(image: &[u8]) -> impl FnMut(u64, &mut [u8; SECTOR]) -> bool + '_ {
    move |lba, buf| {
        let at = lba as usize * SECTOR;
        match image.get(at..at + SECTOR) {
            Some(s) => {
                buf.copy_from_slice(s);
                true
            }
            None => false,
        }
    }
}

#[test]
fn finds_both_partitions_with_their_types_and_extents() {
    let image = disk();
    let parts = read(DISK_SECTORS, sectors(&image)).unwrap();
    assert_eq!(parts.len(), 2);
    assert_eq!((parts[0].kind, parts[0].name.as_str()), (EFI_SYSTEM, "berth-boot"));
    assert_eq!((parts[1].kind, parts[1].name.as_str()), (BERTH_DATA, "berth-data"));
    assert_eq!(parts[0].sectors(), (2 << 20) / SECTOR as u64);
    assert_eq!(parts[1].sectors(), (4 << 20) / SECTOR as u64);
    assert!(parts[1].first > parts[0].last && parts[1].last < DISK_SECTORS);
}

#[test]
fn guids_print_as_written() {
    assert_eq!(BERTH_DATA.to_string(), "4711ee13-ab83-4107-8d54-308a1335eae9");
    assert_eq!(EFI_SYSTEM.to_string(), "c12a7328-f81f-11d2-ba4b-00a0c93ec93b");
}

#[test]
fn damaged_tables_are_errors() {
    let blank = vec![0u8; DISK_SECTORS as usize * SECTOR];
    assert_eq!(read(DISK_SECTORS, sectors(&blank)), Err(GptError::NotGpt));

    let mut image = disk();
    image[SECTOR + 40] ^= 1; // first usable LBA, under the header's checksum
    assert_eq!(read(DISK_SECTORS, sectors(&image)), Err(GptError::BadHeaderCrc));

    let mut image = disk();
    image[2 * SECTOR + 32] ^= 1; // the first entry's first sector
    assert_eq!(read(DISK_SECTORS, sectors(&image)), Err(GptError::BadEntriesCrc));

    // A disk smaller than the table says: the usable range runs off its end.
    let image = disk();
    assert_eq!(read(DISK_SECTORS / 2, sectors(&image)), Err(GptError::Bad("usable range")));

    // A device that cannot read.
    assert_eq!(read(DISK_SECTORS, |_, _| false), Err(GptError::Read(1)));
}

#[test]
fn arbitrary_sectors_never_panic() {
    // Every byte of the header and the first entry sector flipped in turn.
    let mut image = disk();
    for at in SECTOR..3 * SECTOR {
        image[at] ^= 0xff;
        let _ = read(DISK_SECTORS, sectors(&image));
        image[at] ^= 0xff;
    }
}
