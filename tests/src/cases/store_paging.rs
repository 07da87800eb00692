//! Paged trees: a volume holding more than the machine's memory, written, read back,
//! changed in place and cut short, and a container's own files more than its memory
//! limit, across a power cut.

use super::agent::CLI;
use super::store::{Disk, boot_with, expect, fresh_disk_of};
use crate::artifacts::Artifacts;
use crate::docker::Docker;
use crate::qemu::Vm;
use std::time::Duration;

/// Guest memory for the test: less than the file written.
const MEMORY_MIB: u32 = 256;
/// The file written into the volume.
const FILE_MIB: u32 = 320;
/// A container's memory limit, and the file it writes into its own files.
const CONTAINER_MIB: (u32, u32) = (64, 128);
/// How long one step may take: each moves hundreds of MiB through an emulated CPU,
/// 20-30 s alone but twice that and more beside another test's VM on two cores.
const STEP: Duration = Duration::from_secs(240);

/// `docker run ... bb sh -c SCRIPT`; its output, or the console's last lines.
fn sh(vm: &Vm, docker: &Docker, run_args: &[&str], script: &str) -> Result<String, String> {
    let args = [&["run"][..], run_args, &["bb", "/bin/busybox", "sh", "-c", script]].concat();
    docker.ok(&args, STEP).map_err(|e| vm.failure(&e))
}

/// A 320 MiB file written into a volume on a machine of 256 MiB reads back the same
/// (its md5 as it was written), in another container and after a power cut; a change
/// made in its middle with `conv=notrunc,fsync` and a cut with `truncate` survive the
/// cut too. Only the volume's tree is read at boot: its data stays on the disk until
/// read. A container limited to 64 MiB writes 128 MiB into its own files and syncs,
/// and after the power cut its next run reads them back the same.
pub fn a_volume_larger_than_memory(a: &Artifacts) -> Result<(), String> {
    let test = "store-paging";
    // The store's log has half the partition; the file is written there once, and
    // compaction may copy it once more.
    let Disk { disk, tar, agent, docker } = fresh_disk_of(a, "store-paging-disk", 2 << 30)?;
    let small = |c: &mut crate::qemu::VmConfig| c.memory_mib = MEMORY_MIB;
    let vm = boot_with(a, test, &disk, agent, None, small)?;
    docker.ok(&["import", &tar.to_string_lossy(), "bb"], CLI)?;
    docker.ok(&["volume", "create", "big"], CLI)?;
    let write = format!("dd if=/dev/urandom bs=1M count={FILE_MIB} 2>/dev/null | tee /v/big | md5sum");
    let written = sh(&vm, &docker, &["--rm", "-v", "big:/v"], &write)?;
    let md5 = written.split_whitespace().next().unwrap_or_default().to_string();
    if md5.len() != 32 {
        return Err(vm.failure(&format!("writing the file printed {written:?}")));
    }
    let size = sh(&vm, &docker, &["--rm", "-v", "big:/v"], "stat -c %s /v/big")?;
    expect(&vm, "the file's size", &size, &(u64::from(FILE_MIB) << 20).to_string())?;
    let read = sh(&vm, &docker, &["--rm", "-v", "big:/v"], "md5sum < /v/big")?;
    expect(&vm, "the file read back in another container", &read, &format!("{md5}  -"))?;
    // A change in the middle, synced; then a cut, synced by `sync`.
    let change = "printf paged | dd of=/v/big bs=1 seek=100000000 conv=notrunc,fsync 2>/dev/null \
                  && truncate -s 200000000 /v/big && sync && md5sum < /v/big";
    let changed = sh(&vm, &docker, &["--rm", "-v", "big:/v"], change)?;
    let (limit, size) = CONTAINER_MIB;
    let own = format!(
        "if [ -e /data/own ]; then md5sum < /data/own; \
         else dd if=/dev/urandom bs=1M count={size} 2>/dev/null | tee /data/own | md5sum; sync; fi"
    );
    let own_md5 = sh(&vm, &docker, &["--name", "own", "-m", &format!("{limit}m")], &own)?;
    if own_md5.trim().len() != 35 {
        return Err(vm.failure(&format!("the container writing its own files printed {own_md5:?}")));
    }
    drop(vm); // SIGKILL: the power goes

    let vm = boot_with(a, test, &disk, agent, None, small)?;
    if !vm.output().contains("1 volume(s) restored") {
        return Err(vm.failure("the second boot does not say it restored the volume"));
    }
    let check = "dd if=/v/big bs=1 skip=100000000 count=5 2>/dev/null; echo; stat -c %s /v/big; md5sum < /v/big";
    let after = sh(&vm, &docker, &["--rm", "-v", "big:/v"], check)?;
    let want = format!("paged\n200000000\n{}", changed.trim());
    expect(&vm, "the changed and cut file after the power cut", &after, &want)?;
    let again = docker.ok(&["start", "-a", "own"], STEP).map_err(|e| vm.failure(&e))?;
    expect(&vm, "the container's own files after the power cut", &again, own_md5.trim())?;
    Ok(())
}
