//! The persistent store on a virtio disk: what the agent was given survives a power
//! cut (QEMU killed with SIGKILL).

use super::agent::{CLI, busybox_tar};
use super::run::start;
use crate::artifacts::Artifacts;
use crate::docker::{Docker, TEST_TOKEN};
use crate::qemu::{Forward, Vm, VmConfig, free_port};
use crate::runner::seconds;
use std::path::Path;

/// Boots with `disk` attached, the agent on host port `agent` and, if given, host port
/// `web` forwarded to guest port 8080.
fn boot(a: &Artifacts, test: &str, disk: &Path, agent: u16, web: Option<u16>) -> Result<Vm, String> {
    boot_with(a, test, disk, agent, web, |_| {})
}

/// As [`boot`], with the VM's configuration changed by `configure` too.
pub(super) fn boot_with(
    a: &Artifacts,
    test: &str,
    disk: &Path,
    agent: u16,
    web: Option<u16>,
    configure: impl FnOnce(&mut VmConfig),
) -> Result<Vm, String> {
    let cmdline = format!("agent-token={TEST_TOKEN}");
    let disk = disk.to_path_buf();
    let mut forwards = vec![Forward { host: agent, guest: 2375 }];
    forwards.extend(web.map(|host| Forward { host, guest: 8080 }));
    let mut vm = start(a, test, &[], &cmdline, |c| {
        c.network = Some(forwards);
        c.disk = Some(disk);
        configure(c);
    })?;
    vm.expect("agent: Docker Engine API", seconds(60))?;
    Ok(vm)
}

/// Images imported and tagged through the agent are on the disk once the agent has
/// answered: after a power cut the next boot brings them back with their ids and tags,
/// containers run from them, and one removed before the cut stays removed. A blank
/// data partition is formatted on the first boot.
pub fn images_survive_a_power_cut(a: &Artifacts) -> Result<(), String> {
    let test = "store-images";
    // Not the test's own scratch directory, which each boot starts afresh.
    let dir = a.scratch("store-images-disk");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let disk = dir.join("disk.img");
    berth_image::disk::data_disk(&disk, 64 << 20).map_err(|e| e.to_string())?;
    let tar = busybox_tar(&dir)?;
    let tar = tar.to_string_lossy().into_owned();
    let agent = free_port();
    let docker = Docker::new(agent, &dir.join("docker-config"), Some(TEST_TOKEN))?;

    let vm = boot(a, test, &disk, agent, None)?;
    if !vm.output().contains("formatted") {
        return Err(vm.failure("the blank data partition was not formatted"));
    }
    let id = docker.ok(&["import", &tar, "bb:persist"], CLI)?;
    let id = id.trim().trim_start_matches("sha256:").to_string();
    docker.ok(&["tag", "bb:persist", "bb:second"], CLI)?;
    docker.ok(&["import", &tar, "bb:gone"], CLI)?;
    docker.ok(&["rmi", "bb:gone"], CLI)?;
    drop(vm); // SIGKILL: the power goes

    let vm = boot(a, test, &disk, agent, None)?;
    for needle in ["store: disk at", "generation", "1 image(s) restored"] {
        if !vm.output().contains(needle) {
            return Err(vm.failure(&format!("the second boot does not say {needle:?}")));
        }
    }
    let images = docker.ok(&["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"], CLI)?;
    let short = &id[..12];
    for tag in ["bb:persist", "bb:second"] {
        if !images.lines().any(|l| l == format!("{tag} {short}")) {
            return Err(vm.failure(&format!("after the power cut `docker images` lacks {tag} {short}:\n{images}")));
        }
    }
    if images.contains("bb:gone") {
        return Err(vm.failure(&format!("an image removed before the cut came back:\n{images}")));
    }
    let out = docker.ok(&["run", "--rm", "bb:second", "/bin/busybox", "echo", "restored"], CLI)?;
    if out.trim() != "restored" {
        return Err(vm.failure(&format!("a container from the restored image printed {out:?}")));
    }
    drop(vm);

    // Power cuts while an import is on its way to the disk: each boot after finds the
    // store whole, with the earlier image, and the new one either whole or absent.
    for (round, delay_ms) in [150u64, 400, 800].into_iter().enumerate() {
        let tag = format!("bb:cut{round}");
        let vm = boot(a, test, &disk, agent, None)?;
        let importing = {
            let (docker, tar, tag) = (docker.clone(), tar.clone(), tag.clone());
            std::thread::spawn(move || docker.run(&["import", &tar, &tag], CLI))
        };
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        drop(vm);
        let _ = importing.join();
        let vm = boot(a, test, &disk, agent, None)?;
        let out = vm.output();
        if out.contains("damaged") || out.contains("not used") || !out.contains("image(s) restored") {
            return Err(vm.failure(&format!("after a cut {delay_ms} ms into an import the store is not whole")));
        }
        let images = docker.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"], CLI)?;
        if !images.lines().any(|l| l == "bb:persist") {
            return Err(vm.failure(&format!("a cut during an import lost an earlier image:\n{images}")));
        }
        if images.lines().any(|l| l == tag) {
            let out = docker.ok(&["run", "--rm", &tag, "/bin/busybox", "echo", "whole"], CLI)?;
            if out.trim() != "whole" {
                return Err(vm.failure(&format!("the image imported as the power went is not whole: {out:?}")));
            }
        }
    }
    Ok(())
}

/// A store too small for a second image: the import that does not fit is refused with
/// HTTP 507 and a message saying so (the image holds in memory until the next boot),
/// the first image stays stored, and the next boot opens the store cleanly with just
/// the image that fit.
pub fn a_full_store_refuses_and_keeps_the_rest(a: &Artifacts) -> Result<(), String> {
    let test = "store-full";
    let dir = a.scratch("store-full-disk");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let disk = dir.join("disk.img");
    let tar = busybox_tar(&dir)?;
    // Room for one busybox layer (about 2 MiB), not two different ones: the log has
    // half the partition.
    let size = std::fs::metadata(&tar).map_err(|e| e.to_string())?.len();
    berth_image::disk::data_disk(&disk, 3 * size).map_err(|e| e.to_string())?;
    let tar = tar.to_string_lossy().into_owned();
    let agent = free_port();
    let docker = Docker::new(agent, &dir.join("docker-config"), Some(TEST_TOKEN))?;

    let vm = boot(a, test, &disk, agent, None)?;
    docker.ok(&["import", &tar, "bb:first"], CLI)?;
    // A second, different layer: busybox with one more file.
    let second = dir.join("second.tar");
    let mut rootfs =
        berth_image::rootfs::busybox_rootfs(&berth_image::rootfs::system_busybox()).map_err(|e| e.to_string())?;
    rootfs.file("extra.txt", "more\n", 0o644).write(&second).map_err(|e| e.to_string())?;
    let refused = docker.run(&["import", &second.to_string_lossy(), "bb:second"], CLI)?;
    if refused.code == 0 || !refused.stderr.contains("the store is full") {
        let what = refused.describe(&["import"]);
        return Err(vm.failure(&format!("an import past the store's room was not refused:\n{what}")));
    }
    // A volume written past the store's room: `fsync` fails with ENOSPC, which `dd`
    // reports.
    let script = "dd if=/dev/zero of=/v/big bs=64k count=64 conv=fsync 2>&1; echo status $?";
    let out = docker.ok(&["run", "--rm", "-v", "big:/v", "bb:first", "/bin/busybox", "sh", "-c", script], CLI)?;
    if !out.contains("No space left on device") || out.contains("status 0") {
        return Err(vm.failure(&format!("fsync of a volume the store has no room for:\n{out}")));
    }
    drop(vm);

    let vm = boot(a, test, &disk, agent, None)?;
    let images = docker.ok(&["images", "--format", "{{.Repository}}:{{.Tag}}"], CLI)?;
    if !images.lines().any(|l| l == "bb:first") || images.contains("bb:second") {
        return Err(vm.failure(&format!("after a refused import the next boot lists:\n{images}")));
    }
    Ok(())
}

/// Polls `docker inspect -f FORMAT NAME` until it prints `want` (30 s at most).
fn wait_inspect(docker: &Docker, vm: &Vm, name: &str, format: &str, want: &str) -> Result<(), String> {
    let deadline = std::time::Instant::now() + seconds(30);
    loop {
        let got = docker.ok(&["inspect", "-f", format, name], CLI)?;
        if got.trim() == want {
            return Ok(());
        }
        if std::time::Instant::now() > deadline {
            return Err(vm.failure(&format!("{name}: {format} stayed {:?}, not {want:?}", got.trim())));
        }
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// Containers the agent created come back after a power cut as they stood, and restart
/// policies act as dockerd's: `always` restarts a web server at boot (it serves again),
/// `on-failure:2` restarts a failing program twice and then leaves it exited,
/// `unless-stopped` stays stopped after `docker stop`, and created and exited
/// containers are listed as such; one removed stays removed. `docker start`,
/// `docker restart` and `docker update --restart` work, and the update outlives the
/// next power cut.
pub fn containers_survive_a_power_cut(a: &Artifacts) -> Result<(), String> {
    let test = "store-containers";
    let dir = a.scratch("store-containers-disk");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let disk = dir.join("disk.img");
    berth_image::disk::data_disk(&disk, 64 << 20).map_err(|e| e.to_string())?;
    let tar = busybox_tar(&dir)?;
    let (agent, web) = (free_port(), free_port());
    let docker = Docker::new(agent, &dir.join("docker-config"), Some(TEST_TOKEN))?;
    let boot = |a: &Artifacts| boot(a, test, &disk, agent, Some(web));
    let serving = || crate::http::get(&format!("http://127.0.0.1:{web}/hello.txt")).is_ok();
    let wait_serving = |vm: &Vm| -> Result<(), String> {
        let deadline = std::time::Instant::now() + seconds(30);
        while !serving() {
            if std::time::Instant::now() > deadline {
                return Err(vm.failure("the web container does not serve"));
            }
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        Ok(())
    };

    let vm = boot(a)?;
    docker.ok(&["import", &tar.to_string_lossy(), "bb"], CLI)?;
    let httpd = ["/bin/busybox", "httpd", "-f", "-p", "80", "-h", "/data"];
    docker.ok(
        &[&["run", "-d", "--name", "web", "--restart", "always", "-p", "8080:80", "bb"][..], &httpd].concat(),
        CLI,
    )?;
    wait_serving(&vm)?;
    docker.ok(&["create", "--name", "idle", "bb", "/bin/busybox", "true"], CLI)?;
    docker.ok(&["create", "--name", "gone", "bb", "/bin/busybox", "true"], CLI)?;
    docker.ok(&["run", "--name", "done", "bb", "/bin/busybox", "true"], CLI)?;
    let finished = docker.ok(&["inspect", "-f", "{{.State.FinishedAt}}", "done"], CLI)?;
    let flaky = ["run", "-d", "--name", "flaky", "--restart", "on-failure:2", "bb", "/bin/sh", "-c", "exit 3"];
    docker.ok(&flaky, CLI)?;
    wait_inspect(&docker, &vm, "flaky", "{{.RestartCount}} {{.State.Status}} {{.State.ExitCode}}", "2 exited 3")?;
    let halted =
        ["run", "-d", "--name", "halted", "--restart", "unless-stopped", "bb", "/bin/busybox", "sleep", "1000"];
    docker.ok(&halted, CLI)?;
    docker.ok(&["stop", "-t", "1", "halted"], CLI)?;
    docker.ok(&["rm", "gone"], CLI)?;
    // `docker stop` of a container its policy keeps starting again stops the restarts.
    docker.ok(&["run", "-d", "--name", "loop", "--restart", "always", "bb", "/bin/busybox", "false"], CLI)?;
    wait_inspect(&docker, &vm, "loop", "{{gt .RestartCount 1}}", "true")?;
    docker.ok(&["stop", "loop"], CLI)?;
    let count = docker.ok(&["inspect", "-f", "{{.RestartCount}}", "loop"], CLI)?;
    std::thread::sleep(std::time::Duration::from_millis(1500));
    wait_inspect(&docker, &vm, "loop", "{{.RestartCount}} {{.State.Status}}", &format!("{} exited", count.trim()))?;
    let refused = docker.run(&["run", "--rm", "--restart", "always", "bb", "/bin/busybox", "true"], CLI)?;
    if refused.code == 0 || !refused.stderr.contains("conflicting options") {
        return Err(vm.failure(&format!("--rm with --restart was not refused:\n{}", refused.describe(&["run"]))));
    }
    // The watchdog writes states every 50 ms; the agent before it answers.
    std::thread::sleep(std::time::Duration::from_millis(300));
    drop(vm); // SIGKILL: the power goes

    let vm = boot(a)?;
    wait_serving(&vm)?;
    let ps = docker.ok(&["ps", "-a", "--format", "{{.Names}} {{.Status}}"], CLI)?;
    let status = |name: &str| ps.lines().find_map(|l| l.strip_prefix(&format!("{name} "))).unwrap_or("").to_string();
    let expected =
        [("web", "Up"), ("idle", "Created"), ("done", "Exited (0)"), ("flaky", "Exited (3)"), ("halted", "Exited")];
    for (name, want) in expected {
        if !status(name).starts_with(want) {
            return Err(vm.failure(&format!("after the power cut {name} is {:?}, not {want}...:\n{ps}", status(name))));
        }
    }
    if ps.lines().any(|l| l.starts_with("gone ")) {
        return Err(vm.failure(&format!("a removed container came back:\n{ps}")));
    }
    wait_inspect(&docker, &vm, "flaky", "{{.RestartCount}} {{.HostConfig.RestartPolicy.Name}}", "2 on-failure")?;
    // An ended container keeps the time it ended.
    wait_inspect(&docker, &vm, "done", "{{.State.FinishedAt}}", finished.trim())?;
    // An ended container starts again by hand; a running one restarts and serves.
    docker.ok(&["start", "done"], CLI)?;
    wait_inspect(&docker, &vm, "done", "{{.State.Status}} {{.State.ExitCode}}", "exited 0")?;
    docker.ok(&["restart", "-t", "1", "web"], CLI)?;
    wait_serving(&vm)?;
    // `docker update --restart` changes the policy, and the change is kept: `always`
    // brings the stopped container back at the next boot.
    docker.ok(&["update", "--restart", "always", "halted"], CLI)?;
    wait_inspect(&docker, &vm, "halted", "{{.HostConfig.RestartPolicy.Name}}", "always")?;
    let refused = docker.run(&["update", "--memory", "64m", "halted"], CLI)?;
    if refused.code == 0 || !refused.stderr.contains("only the restart policy") {
        return Err(vm.failure(&format!("a memory update was not refused:\n{}", refused.describe(&["update"]))));
    }
    drop(vm);

    let vm = boot(a)?;
    wait_serving(&vm)?;
    wait_inspect(&docker, &vm, "halted", "{{.State.Status}} {{.HostConfig.RestartPolicy.Name}}", "running always")?;
    Ok(())
}

/// A test's own blank 64 MiB data disk, the busybox image beside it, and the docker
/// CLI for an agent on a free host port.
pub(super) struct Disk {
    pub disk: std::path::PathBuf,
    pub tar: std::path::PathBuf,
    pub agent: u16,
    pub docker: Docker,
}

fn fresh_disk(a: &Artifacts, name: &str) -> Result<Disk, String> {
    fresh_disk_of(a, name, 64 << 20)
}

/// As [`fresh_disk`], of `bytes` (sparse).
pub(super) fn fresh_disk_of(a: &Artifacts, name: &str, bytes: u64) -> Result<Disk, String> {
    let dir = a.scratch(name);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let disk = dir.join("disk.img");
    berth_image::disk::data_disk(&disk, bytes).map_err(|e| e.to_string())?;
    let tar = busybox_tar(&dir)?;
    let agent = free_port();
    let docker = Docker::new(agent, &dir.join("docker-config"), Some(TEST_TOKEN))?;
    Ok(Disk { disk, tar, agent, docker })
}

/// `Ok` if `got` (trimmed) is `want`, else the failure with the console.
pub(super) fn expect(vm: &Vm, what: &str, got: &str, want: &str) -> Result<(), String> {
    if got.trim() == want { Ok(()) } else { Err(vm.failure(&format!("{what}: got {got:?}, want {want:?}"))) }
}

/// `docker run ... bb sh -c SCRIPT` with the given extra `run` arguments; its output.
pub(super) fn sh(docker: &Docker, run_args: &[&str], script: &str) -> Result<String, String> {
    docker.ok(&[&["run"][..], run_args, &["bb", "/bin/busybox", "sh", "-c", script]].concat(), CLI)
}

/// Volumes: created by `docker volume create` or on first use (filled from the image
/// unless `nocopy`), shared by containers, read-only where mounted `:ro`,
/// `..` leading back into each container, moves into them copying (EXDEV), in use
/// refused removal; what was synced (`sync`, `dd conv=fsync`) or left for the
/// write-back survives a power cut, and so does a volume under a storm of writes
/// (whole, at some point of the storm); `docker rename` too; `docker rm -v`, `volume
/// rm` and `volume prune` remove them for good.
pub fn volumes_survive_a_power_cut(a: &Artifacts) -> Result<(), String> {
    let test = "store-volumes";
    let Disk { disk, tar, agent, docker } = fresh_disk(a, "store-volumes-disk")?;

    let vm = boot(a, test, &disk, agent, None)?;
    docker.ok(&["import", &tar.to_string_lossy(), "bb"], CLI)?;
    let made = docker.ok(&["volume", "create", "--label", "team=a", "data"], CLI)?;
    expect(&vm, "volume create", &made, "data")?;
    let listed = docker.ok(&["volume", "ls", "-q", "--filter", "label=team=a"], CLI)?;
    expect(&vm, "volume ls --filter label=team=a", &listed, "data")?;
    // A volume's size limit holds (its files live in memory); unknown options are refused.
    docker.ok(&["volume", "create", "--opt", "size=256k", "small"], CLI)?;
    let script = "dd if=/dev/zero of=/s/f bs=64k count=8 2>&1 | grep -c 'No space left'";
    expect(&vm, "writing past a volume's size", &sh(&docker, &["--rm", "-v", "small:/s"], script)?, "1")?;
    let nfs = docker.run(&["volume", "create", "--driver", "nfs", "remote"], CLI)?;
    if nfs.code == 0 || !nfs.stderr.contains("plugin \"nfs\" not found") {
        return Err(vm.failure(&format!("an unknown volume driver: {}", nfs.describe(&["volume", "create"]))));
    }
    let bad = docker.run(&["volume", "create", "--opt", "colour=blue", "odd"], CLI)?;
    if bad.code == 0 || !bad.stderr.contains("invalid option for the local driver: colour") {
        return Err(vm.failure(&format!("an unknown volume option: {}", bad.describe(&["volume", "create"]))));
    }
    let script = "echo hello > /srv/data/greeting && mkdir /srv/data/sub && echo deep > /srv/data/sub/f \
                  && chmod 700 /srv/data/sub && sync";
    sh(&docker, &["--name", "writer", "-v", "data:/srv/data"], script)?;
    // Another container sees the same files; `..` of the mount leads to its own root;
    // `mv` into the volume copies; `dd conv=fsync` syncs.
    let script = "cat /d/greeting; ls -d /d/../bin/busybox; cd /d/sub && busybox pwd; echo moved > /tmp/x; \
                  mv /tmp/x /d/x && cat /d/x; dd if=/dev/zero of=/d/blob bs=1k count=64 conv=fsync 2>/dev/null; \
                  wc -c < /d/blob";
    let out = sh(&docker, &["--rm", "-v", "data:/d"], script)?;
    expect(&vm, "a second container of the volume", &out, "hello\n/d/../bin/busybox\n/d/sub\nmoved\n65536")?;
    // An empty volume mounted over a directory of the image is filled from it first,
    // unless the mount says `nocopy`.
    let out = sh(&docker, &["--rm", "-v", "filled:/data"], "cat /data/hello.txt")?;
    expect(&vm, "a volume filled from the image", &out, "hello from a berth container image")?;
    let out = sh(&docker, &["--rm", "-v", "bare:/data:nocopy"], "ls -A /data | wc -l")?;
    expect(&vm, "a nocopy volume", &out, "0")?;
    // Read-only: every change in the volume fails with EROFS; the rest of the
    // container is writable; inspect says so.
    let script = "touch /d/x 2>&1; { echo > /d/greeting; } 2>&1; rm /d/greeting 2>&1; mkdir /d/y 2>&1; \
                  chmod 777 /d/sub 2>&1; mv /d/sub /d/sub2 2>&1; echo ok > /tmp/ok; cat /tmp/ok /d/greeting";
    let out = sh(&docker, &["--name", "reader", "-v", "data:/d:ro"], script)?;
    let refused = out.lines().filter(|l| l.contains("Read-only file system")).count();
    if refused != 6 || !out.ends_with("ok\nhello\n") {
        return Err(vm.failure(&format!("changes in a read-only volume: {refused} refused of 6:\n{out}")));
    }
    let rw = docker.ok(&["inspect", "-f", "{{range .Mounts}}{{.RW}} {{.Mode}}{{end}}", "reader"], CLI)?;
    expect(&vm, "a read-only mount's RW and Mode", &rw, "false ro")?;
    docker.ok(&["rm", "reader"], CLI)?;
    sh(&docker, &["--name", "anon", "-v", "/scratch"], "echo anon > /scratch/f")?;
    let anon = docker.ok(&["inspect", "-f", "{{range .Mounts}}{{.Name}}{{end}}", "anon"], CLI)?;
    let anon = anon.trim().to_string();
    if anon.len() != 64 || !anon.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(vm.failure(&format!("an anonymous volume is named {anon:?}")));
    }
    // In use: refused, even with -f (as dockerd); -f makes a missing volume no error.
    for args in [&["volume", "rm", "data"][..], &["volume", "rm", "-f", "data"]] {
        let refused = docker.run(args, CLI)?;
        if refused.code == 0 || !refused.stderr.contains("volume is in use") {
            return Err(vm.failure(&format!("removing a volume in use: {}", refused.describe(args))));
        }
    }
    docker.ok(&["volume", "rm", "-f", "no-such-volume"], CLI)?;
    docker.ok(&["rename", "writer", "renamed"], CLI)?;
    // Left for the write-back (no sync), in a volume no other container touches.
    sh(&docker, &["--rm", "-v", "other:/o"], "echo lazy > /o/lazy")?;
    std::thread::sleep(seconds(7));
    // A storm of writes, each made durable, cut short by the power cut.
    let storm = "i=0; while true; do i=$((i+1)); echo $i > /srv/data/n.tmp; mv /srv/data/n.tmp /srv/data/n; \
                 sync; done";
    sh(&docker, &["-d", "--name", "storm", "-v", "data:/srv/data"], storm)?;
    std::thread::sleep(seconds(3));
    drop(vm);

    let vm = boot(a, test, &disk, agent, None)?;
    if !vm.output().contains("volume(s) restored") {
        return Err(vm.failure("the second boot does not say it restored volumes"));
    }
    let names = docker.ok(&["volume", "ls", "-q"], CLI)?;
    for want in ["data", "other", "filled", "bare", "small", anon.as_str()] {
        if !names.lines().any(|l| l == want) {
            return Err(vm.failure(&format!("after the power cut `docker volume ls` lacks {want}:\n{names}")));
        }
    }
    expect(&vm, "the label", &docker.ok(&["volume", "inspect", "-f", "{{.Labels.team}}", "data"], CLI)?, "a")?;
    let script = "cat /srv/data/greeting /srv/data/sub/f /o/lazy; stat -c %a /srv/data/sub; wc -c < /srv/data/blob; \
                  cat /srv/data/n";
    let out = sh(&docker, &["--rm", "-v", "data:/srv/data", "-v", "other:/o"], script)?;
    let (head, n) = out.trim().rsplit_once('\n').unwrap_or_default();
    expect(&vm, "the volumes after the power cut", head, "hello\ndeep\nlazy\n700\n65536")?;
    if n.parse::<u64>().map_or(true, |n| n == 0) {
        return Err(vm.failure(&format!("the storm's counter came back as {n:?}")));
    }
    let names = docker.ok(&["ps", "-a", "--format", "{{.Names}}"], CLI)?;
    if !names.lines().any(|l| l == "renamed") || names.lines().any(|l| l == "writer") {
        return Err(vm.failure(&format!("after the cut, a renamed container is listed as:\n{names}")));
    }
    let mounts = docker.ok(&["inspect", "-f", "{{range .Mounts}}{{.Name}}:{{.Destination}}{{end}}", "renamed"], CLI)?;
    expect(&vm, "the renamed container's mounts", &mounts, "data:/srv/data")?;
    docker.ok(&["rm", "-v", "anon"], CLI)?;
    docker.ok(&["rm", "-f", "storm", "renamed"], CLI)?;
    docker.ok(&["volume", "rm", "data"], CLI)?;
    let gone = docker.run(&["volume", "inspect", "data"], CLI)?;
    if gone.code == 0 || !gone.stderr.contains("no such volume") {
        return Err(vm.failure(&format!("a removed volume: {}", gone.describe(&["volume", "inspect", "data"]))));
    }
    docker.ok(&["volume", "prune", "-a", "-f"], CLI)?;
    drop(vm);

    let vm = boot(a, test, &disk, agent, None)?;
    let names = docker.ok(&["volume", "ls", "-q"], CLI)?;
    if !names.trim().is_empty() {
        return Err(vm.failure(&format!("removed volumes came back:\n{names}")));
    }
    Ok(())
}

/// A container's writable layer: kept when it runs again (`docker start`), written to
/// the store when it ends and when a program in it syncs, and brought back after a
/// power cut, removals (whiteouts) included; a tmpfs is not part of it, and is empty
/// at each start.
pub fn writable_layers_survive_a_power_cut(a: &Artifacts) -> Result<(), String> {
    let test = "store-layers";
    let Disk { disk, tar, agent, docker } = fresh_disk(a, "store-layers-disk")?;
    // Counts its runs in a file of its own, and removes a file of the image once.
    let counter = "echo x >> /count; wc -l < /count; \
                   if [ -e /etc/group ]; then echo group; rm /etc/group; else echo nogroup; fi";
    let syncer = "cat /etc/s 2>/dev/null || echo none; echo synced > /etc/s; sync; echo ready; sleep 1000";

    let vm = boot(a, test, &disk, agent, None)?;
    docker.ok(&["import", &tar.to_string_lossy(), "bb"], CLI)?;
    let out = sh(&docker, &["--name", "counter"], counter)?;
    expect(&vm, "the first run", &out, "1\ngroup")?;
    let out = docker.ok(&["start", "-a", "counter"], CLI).map_err(|e| vm.failure(&e))?;
    expect(&vm, "docker start of the ended container", &out, "2\nnogroup")?;
    // `docker start -a` exits as the new run does, not as the last one did.
    let flip =
        docker.run(&["run", "--name", "flip", "bb", "sh", "-c", "[ -e /flag ] && exit 0; touch /flag; exit 3"], CLI)?;
    let again = docker.run(&["start", "-a", "flip"], CLI)?;
    if (flip.code, again.code) != (3, 0) {
        return Err(
            vm.failure(&format!("exit codes of a run and its restart: {} and {}, want 3 and 0", flip.code, again.code))
        );
    }
    // A tmpfs: empty at each start, its size limit holds, and it is not part of the
    // writable layer.
    let script = "ls -A /run/cache | wc -l; stat -c %a /run/cache; echo x > /run/cache/f; \
                  dd if=/dev/zero of=/run/cache/big bs=64k count=32 2>&1 | grep -c 'No space left'";
    let out = sh(&docker, &["--name", "tmp", "--tmpfs", "/run/cache:size=1m,mode=1770"], script)?;
    expect(&vm, "a tmpfs", &out, "0\n1770\n1")?;
    let out = docker.ok(&["start", "-a", "tmp"], CLI).map_err(|e| vm.failure(&e))?;
    expect(&vm, "a tmpfs at the next start", &out, "0\n1770\n1")?;
    let mounts = docker.ok(&["inspect", "-f", "{{range .Mounts}}{{.Type}}:{{.Destination}}{{end}}", "tmp"], CLI)?;
    expect(&vm, "a tmpfs in inspect", &mounts, "tmpfs:/run/cache")?;
    sh(&docker, &["-d", "--name", "syncer"], syncer)?;
    let deadline = std::time::Instant::now() + seconds(30);
    while !docker.ok(&["logs", "syncer"], CLI)?.contains("ready") {
        if std::time::Instant::now() > deadline {
            return Err(vm.failure("the syncing container did not get ready"));
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    drop(vm); // the power goes while `syncer` runs

    let vm = boot(a, test, &disk, agent, None)?;
    let out = docker.ok(&["start", "-a", "counter"], CLI).map_err(|e| vm.failure(&e))?;
    expect(&vm, "the run after the power cut", &out, "3\nnogroup")?;
    docker.ok(&["start", "syncer"], CLI)?;
    let deadline = std::time::Instant::now() + seconds(30);
    loop {
        let logs = docker.ok(&["logs", "syncer"], CLI)?;
        if logs.contains("ready") {
            expect(&vm, "what the running container had synced", logs.lines().next().unwrap_or(""), "synced")?;
            break;
        }
        if std::time::Instant::now() > deadline {
            return Err(vm.failure("the syncing container did not start again"));
        }
        std::thread::sleep(std::time::Duration::from_millis(100));
    }
    // `docker ps` filters, and `container prune` by label.
    let listed = docker.ok(&["ps", "--filter", "status=exited", "--format", "{{.Names}}"], CLI)?;
    if !listed.lines().any(|l| l == "tmp") || listed.lines().any(|l| l == "syncer") {
        return Err(vm.failure(&format!("`docker ps --filter status=exited` lists:\n{listed}")));
    }
    expect(
        &vm,
        "ps --filter name",
        &docker.ok(&["ps", "-a", "--filter", "name=count", "--format", "{{.Names}}"], CLI)?,
        "counter",
    )?;
    docker.ok(&["create", "--label", "app=x", "--name", "labelled", "bb", "/bin/busybox", "true"], CLI)?;
    let id = docker.ok(&["ps", "-aq", "--no-trunc", "--filter", "label=app=x"], CLI)?;
    let pruned = docker.ok(&["container", "prune", "-f", "--filter", "label=app=x"], CLI)?;
    if id.trim().len() != 64 || !pruned.contains(id.trim()) {
        return Err(vm.failure(&format!("prune by label: listed {id:?}, pruned:\n{pruned}")));
    }
    expect(&vm, "after prune", &docker.ok(&["ps", "-aq", "--filter", "label=app=x"], CLI)?, "")?;
    // Removed, its layer goes with it: a new container of the name starts afresh.
    docker.ok(&["rm", "-f", "counter"], CLI)?;
    let out = sh(&docker, &["--name", "counter"], counter)?;
    expect(&vm, "a new container of a removed one's name", &out, "1\ngroup")?;
    Ok(())
}
