//! Images as operators use them: configurations (`docker import --change`), what a
//! container of an image runs and as whom, `tag`, `history`, `image inspect`;
//! `docker save` and `docker load` of Docker's archives and OCI layouts.

use super::agent::{CLI, boot, busybox_tar, expect, save_console};
use crate::artifacts::Artifacts;
use crate::docker::{Docker, TEST_TOKEN};
use crate::qemu::free_port;
use berth_image::rootfs;
use std::fs;
use std::path::Path;
use std::process::Command;

/// The users and groups of the test image.
const PASSWD: &str = "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n";
const GROUP: &str = "root:x:0:\napp:x:1000:\nstaff:x:50:app\n";

/// What the image's command prints: who it runs as, where, with what environment,
/// and who owns a file it makes.
const REPORT: &str = "b=/bin/busybox; f=$($b mktemp); echo uid=$($b id -u) gid=$($b id -g) groups=\"$($b id -G)\" \
                      home=$HOME pwd=$(pwd) greet=$GREETING owner=$($b stat -c %u:%g $f); \
                      $b chown 0 $f 2>/dev/null && echo chown-allowed || echo chown-refused";

/// `docker import --change` sets what containers run (command, environment, working
/// directory, user, ports, labels); `docker run` options override each as Docker's;
/// the user's ids come from the image's passwd and group files and own the files it
/// makes; `tag`, `history`, `image inspect` and `rmi` of one tag; a bad change or user
/// is refused with Docker's words.
pub fn image_config(a: &Artifacts) -> Result<(), String> {
    let test = "agent-image-config";
    let agent = free_port();
    let vm = boot(a, test, "", agent, free_port())?;
    let dir = a.dir.join("test-scratch").join(test);
    let result = (|| {
        let mut root = rootfs::busybox_rootfs(&rootfs::system_busybox()).map_err(|e| e.to_string())?;
        root.file("etc/passwd", PASSWD, 0o644).file("etc/group", GROUP, 0o644).dir("tmp", 0o1777);
        root.file("etc/secret", "root only\n", 0o600).file("tmp/roots", "root's\n", 0o644);
        root.file("usr/local/bin/notexec", "#!/bin/busybox sh\necho ran\n", 0o644);
        root.dir("srv/private", 0o700).file("srv/private/data.txt", "private\n", 0o644);
        let tar = dir.join("users.tar");
        root.write(&tar).map_err(|e| e.to_string())?;
        let tar = tar.to_string_lossy().into_owned();
        let docker = Docker::new(agent, &dir.join("docker-config"), Some(TEST_TOKEN))?;
        let cmd = format!("CMD [\"/bin/busybox\", \"sh\", \"-c\", {}]", serde_json::to_string(REPORT).unwrap());
        let changes = [&cmd[..], "ENV GREETING=hi", "WORKDIR /srv/app", "USER app", "EXPOSE 8080", "LABEL team=berth"];
        let mut import = vec!["import", "-m", "made by the test"];
        for change in &changes {
            import.extend(["--change", change]);
        }
        import.extend([&tar[..], "cfg:1"]);
        docker.ok(&import, CLI)?;

        let out = docker.ok(&["run", "--rm", "cfg:1"], CLI)?;
        let want = "uid=1000 gid=1000 groups=\"1000 50\" home=/home/app pwd=/srv/app greet=hi owner=1000:1000\n\
                    chown-refused\n";
        let want = want.replace('"', "");
        expect(&vm, out == want, &format!("the image's command as app printed {out:?}, want {want:?}"))?;

        // File modes hold for app as Linux applies them; root passes (but needs an
        // execute bit to run a file).
        let modes = "b=/bin/busybox; { $b cat /etc/secret || echo secret-refused; } 2>/dev/null; \
                     { echo x >> /etc/passwd && echo wrote-passwd || echo passwd-refused; } 2>/dev/null; \
                     { $b touch /etc/new && echo made-in-etc || echo etc-refused; } 2>/dev/null; \
                     { $b rm -f /tmp/roots && echo removed-roots || echo sticky-refused; } 2>/dev/null; \
                     echo hi > /tmp/mine && $b rm /tmp/mine && echo tmp-ok; \
                     { $b chmod 777 /etc/hosts && echo chmod-ok || echo chmod-refused; } 2>/dev/null; \
                     { /usr/local/bin/notexec; echo exec=$?; } 2>/dev/null; \
                     { $b cat /srv/private/data.txt || echo search-refused; } 2>/dev/null";
        let out = docker.ok(&["run", "--rm", "cfg:1", "/bin/busybox", "sh", "-c", modes], CLI)?;
        let want = "secret-refused\npasswd-refused\netc-refused\nsticky-refused\ntmp-ok\nchmod-refused\nexec=126\n\
                    search-refused\n";
        expect(&vm, out == want, &format!("file modes as app: {out:?}, want {want:?}"))?;
        let out = docker.ok(&["run", "--rm", "-u", "0", "cfg:1", "/bin/busybox", "sh", "-c", modes], CLI)?;
        let want = "root only\nwrote-passwd\nmade-in-etc\nremoved-roots\ntmp-ok\nchmod-ok\nexec=126\nprivate\n";
        expect(&vm, out == want, &format!("file modes as root: {out:?}, want {want:?}"))?;

        let out = docker.ok(&["run", "--rm", "-u", "0", "-w", "/", "-e", "GREETING=yo", "cfg:1"], CLI)?;
        let want = "uid=0 gid=0 groups=0 home=/root pwd=/ greet=yo owner=0:0\nchown-allowed\n";
        expect(&vm, out == want, &format!("the image's command as root printed {out:?}, want {want:?}"))?;

        let out = docker.ok(&["run", "--rm", "cfg:1", "/bin/busybox", "echo", "override"], CLI)?;
        expect(&vm, out == "override\n", &format!("a command given to docker run printed {out:?}"))?;
        let out = docker.ok(&["run", "--rm", "--entrypoint", "/bin/busybox", "cfg:1", "echo", "ep"], CLI)?;
        expect(&vm, out == "ep\n", &format!("--entrypoint printed {out:?}"))?;
        let ghost = docker.run(&["run", "--rm", "-u", "ghost", "cfg:1"], CLI)?;
        expect(
            &vm,
            ghost.code != 0 && ghost.stderr.contains("unable to find user ghost"),
            &ghost.describe(&["run", "-u", "ghost"]),
        )?;

        let config = docker.ok(&["image", "inspect", "cfg:1", "--format", "{{json .Config}} {{.Comment}}"], CLI)?;
        for needle in [
            "\"User\":\"app\"",
            "\"WorkingDir\":\"/srv/app\"",
            "\"GREETING=hi\"",
            "\"8080/tcp\":{}",
            "\"team\":\"berth\"",
            "made by the test",
        ] {
            expect(&vm, config.contains(needle), &format!("image inspect lacks {needle}: {config}"))?;
        }
        let created = docker.ok(&["create", "--name", "cfgc", "cfg:1"], CLI)?;
        let inspect =
            docker.ok(&["inspect", "cfgc", "--format", "{{json .Config.ExposedPorts}} {{.Config.User}}"], CLI)?;
        expect(&vm, inspect.contains("8080/tcp") && inspect.contains("app"), &format!("container inspect: {inspect}"))?;
        docker.ok(&["rm", created.trim()], CLI)?;

        docker.ok(&["tag", "cfg:1", "registry.example:5000/team/cfg:2"], CLI)?;
        let images = docker.ok(&["images", "--format", "{{.Repository}}:{{.Tag}} {{.ID}}"], CLI)?;
        let ids: Vec<&str> = images
            .lines()
            .filter(|l| l.starts_with("cfg:1 ") || l.starts_with("registry.example:5000/team/cfg:2 "))
            .filter_map(|l| l.split_whitespace().nth(1))
            .collect();
        expect(
            &vm,
            ids.len() == 2 && ids[0] == ids[1],
            &format!("docker tag: the two names are not one image:\n{images}"),
        )?;
        let history = docker.ok(&["history", "cfg:1"], CLI)?;
        expect(&vm, history.contains("made by the test"), &format!("docker history:\n{history}"))?;
        let rmi = docker.ok(&["rmi", "cfg:1"], CLI)?;
        expect(&vm, rmi.contains("Untagged: cfg:1") && !rmi.contains("Deleted"), &format!("rmi of one tag: {rmi}"))?;
        let out =
            docker.ok(&["run", "--rm", "registry.example:5000/team/cfg:2", "/bin/busybox", "echo", "tagged"], CLI)?;
        expect(&vm, out == "tagged\n", &format!("run by the new tag printed {out:?}"))?;

        let bad = docker.run(&["import", "--change", "FROM debian", &tar, "bad"], CLI)?;
        expect(
            &vm,
            bad.code != 0 && bad.stderr.contains("FROM is not a valid change command"),
            &bad.describe(&["import", "--change", "FROM debian"]),
        )?;
        let none = docker.run(&["run", "--rm", "registry.example:5000/team/cfg:2x"], CLI)?;
        expect(&vm, none.code != 0, "a run of a missing tag succeeded")?;
        let images = docker.ok(&["images", "-q", "bad"], CLI)?;
        expect(&vm, images.trim().is_empty(), &format!("a refused import left an image: {images}"))
    })();
    save_console(a, test, &vm);
    result
}

/// The sha256 of a file, in hex (`sha256sum`).
fn sha256_of(path: &Path) -> Result<String, String> {
    let out = Command::new("sha256sum").arg(path).output().map_err(|e| format!("sha256sum: {e}"))?;
    let text = String::from_utf8_lossy(&out.stdout);
    text.split_whitespace().next().map(String::from).ok_or_else(|| format!("sha256sum {}: {text}", path.display()))
}

/// Writes `data` to the blob store of the OCI layout at `layout`; gives its digest.
fn blob(layout: &Path, data: &[u8]) -> Result<String, String> {
    let tmp = layout.join("tmp-blob");
    fs::write(&tmp, data).map_err(|e| e.to_string())?;
    let hex = sha256_of(&tmp)?;
    fs::rename(&tmp, layout.join("blobs/sha256").join(&hex)).map_err(|e| e.to_string())?;
    Ok(format!("sha256:{hex}"))
}

/// An OCI image layout, as `skopeo` or BuildKit write it, of two gzip layers (busybox,
/// then a layer that adds /etc/motd and whites out /data/hello.txt) named `name`, in a
/// tar at `out`. `swap` names the layers in the config in the wrong order.
fn oci_layout(dir: &Path, name: &str, out: &Path, swap: bool) -> Result<(), String> {
    let layout = dir.join("oci-layout-dir");
    let _ = fs::remove_dir_all(&layout);
    fs::create_dir_all(layout.join("blobs/sha256")).map_err(|e| e.to_string())?;
    let mut top = rootfs::Rootfs::new();
    top.file("etc/motd", "from the second layer\n", 0o644).file("data/.wh.hello.txt", "", 0o644);
    let mut layers = Vec::new();
    for (i, tar) in [busybox_tar(dir)?, {
        top.write(&dir.join("top.tar")).map_err(|e| e.to_string())?;
        dir.join("top.tar")
    }]
    .iter()
    .enumerate()
    {
        let diff_id = format!("sha256:{}", sha256_of(tar)?);
        let gz = Command::new("gzip").args(["-n", "-c"]).arg(tar).output().map_err(|e| format!("gzip: {e}"))?;
        let digest = blob(&layout, &gz.stdout)?;
        layers.push((diff_id, digest, gz.stdout.len(), i));
    }
    let mut diff_ids: Vec<String> = layers.iter().map(|l| l.0.clone()).collect();
    if swap {
        diff_ids.swap(0, 1);
    }
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux", "created": "2026-01-02T03:04:05Z",
        "config": {"Cmd": ["/bin/busybox", "sh", "-c", "cat /etc/motd; test -e /data/hello.txt && echo hello-still-there || echo hello-gone"]},
        "rootfs": {"type": "layers", "diff_ids": diff_ids},
        "history": [{"created_by": "busybox"}, {"created_by": "motd and a whiteout"}],
    })
    .to_string();
    let config_digest = blob(&layout, config.as_bytes())?;
    let manifest = serde_json::json!({
        "schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
        "config": {"mediaType": "application/vnd.oci.image.config.v1+json", "digest": config_digest, "size": config.len()},
        "layers": layers.iter().map(|(_, digest, size, _)| serde_json::json!({
            "mediaType": "application/vnd.oci.image.layer.v1.tar+gzip", "digest": digest, "size": size,
        })).collect::<Vec<_>>(),
    })
    .to_string();
    let manifest_digest = blob(&layout, manifest.as_bytes())?;
    let index = serde_json::json!({
        "schemaVersion": 2,
        "manifests": [{"mediaType": "application/vnd.oci.image.manifest.v1+json", "digest": manifest_digest,
                       "size": manifest.len(), "annotations": {"org.opencontainers.image.ref.name": name}}],
    });
    fs::write(layout.join("index.json"), index.to_string()).map_err(|e| e.to_string())?;
    fs::write(layout.join("oci-layout"), r#"{"imageLayoutVersion":"1.0.0"}"#).map_err(|e| e.to_string())?;
    let status = Command::new("tar").arg("-cf").arg(out).arg("-C").arg(&layout).arg(".").status();
    if !status.as_ref().is_ok_and(|s| s.success()) {
        return Err(format!("tar of the OCI layout failed: {status:?}"));
    }
    Ok(())
}

/// `docker save` writes an archive `docker load` takes back as the same image (same
/// id, same files, same command), byte for byte the same each time; an OCI layout with
/// gzip layers and a whiteout loads and runs; an archive with a corrupt blob, cut
/// short, or whose config names other layers is refused with a reason and adds nothing.
pub fn save_load(a: &Artifacts) -> Result<(), String> {
    let test = "agent-save-load";
    let agent = free_port();
    let vm = boot(a, test, "", agent, free_port())?;
    let dir = a.dir.join("test-scratch").join(test);
    let result = (|| {
        let docker = Docker::new(agent, &dir.join("docker-config"), Some(TEST_TOKEN))?;
        let tar = busybox_tar(&dir)?.to_string_lossy().into_owned();
        let cmd = "CMD [\"/bin/busybox\", \"cat\", \"/data/hello.txt\"]";
        docker.ok(&["import", "--change", cmd, &tar, "bb:1"], CLI)?;
        let id = |name: &str| docker.ok(&["image", "inspect", name, "--format", "{{.Id}}"], CLI);
        let before = id("bb:1")?;

        let saved = dir.join("saved.tar");
        let saved_s = saved.to_string_lossy().into_owned();
        docker.ok(&["save", "-o", &saved_s, "bb:1"], CLI)?;
        let again = dir.join("again.tar");
        docker.ok(&["save", "-o", &again.to_string_lossy(), "bb:1"], CLI)?;
        let bytes = fs::read(&saved).map_err(|e| e.to_string())?;
        expect(&vm, bytes == fs::read(&again).map_err(|e| e.to_string())?, "two saves of one image differ")?;
        let listing = Command::new("tar").arg("-tf").arg(&saved).output().map_err(|e| e.to_string())?;
        let listing = String::from_utf8_lossy(&listing.stdout).into_owned();
        for member in ["oci-layout", "index.json", "manifest.json", "blobs/sha256/"] {
            expect(&vm, listing.lines().any(|l| l == member), &format!("the archive lacks {member}:\n{listing}"))?;
        }

        docker.ok(&["rmi", "bb:1"], CLI)?;
        let loaded = docker.ok(&["load", "-i", &saved_s], CLI)?;
        expect(&vm, loaded.contains("Loaded image: bb:1"), &format!("docker load said {loaded:?}"))?;
        let after = id("bb:1")?;
        expect(&vm, after == before, &format!("the image id changed from {before} to {after}"))?;
        let out = docker.ok(&["run", "--rm", "bb:1"], CLI)?;
        expect(&vm, out == rootfs::HELLO, &format!("the loaded image's command printed {out:?}"))?;

        // An OCI layout made elsewhere: gzip layers, a whiteout in the second.
        let oci = dir.join("oci.tar");
        oci_layout(&dir, "oci/two:1", &oci, false)?;
        let loaded = docker.ok(&["load", "-i", &oci.to_string_lossy()], CLI)?;
        expect(&vm, loaded.contains("Loaded image: oci/two:1"), &format!("docker load of a layout said {loaded:?}"))?;
        let out = docker.ok(&["run", "--rm", "oci/two:1"], CLI)?;
        expect(&vm, out == "from the second layer\nhello-gone\n", &format!("the two-layer image printed {out:?}"))?;
        let history = docker.ok(&["history", "oci/two:1"], CLI)?;
        expect(&vm, history.contains("motd and a whiteout"), &format!("history:\n{history}"))?;
        // Saved again, its layers are the tars the gzip blobs held: the id stays.
        let oci_id = id("oci/two:1")?;
        let resaved = dir.join("resaved.tar");
        docker.ok(&["save", "-o", &resaved.to_string_lossy(), "oci/two:1"], CLI)?;
        docker.ok(&["rmi", "oci/two:1"], CLI)?;
        docker.ok(&["load", "-i", &resaved.to_string_lossy()], CLI)?;
        let reloaded = id("oci/two:1")?;
        expect(&vm, reloaded == oci_id, &format!("the layout's image id changed from {oci_id} to {reloaded}"))?;

        // Bad archives: each refused with its reason, and nothing added.
        let images_before = docker.ok(&["images", "-q", "--no-trunc"], CLI)?;
        let hello = rootfs::HELLO.as_bytes();
        let at = bytes.windows(hello.len()).position(|w| w == hello).ok_or("the saved archive lacks hello.txt")?;
        let mut corrupt = bytes.clone();
        corrupt[at] ^= 0x20;
        let cut = &bytes[..bytes.len() * 3 / 5];
        let swapped = dir.join("swapped.tar");
        oci_layout(&dir, "oci/swapped:1", &swapped, true)?;
        let swapped = fs::read(&swapped).map_err(|e| e.to_string())?;
        let rootfs_tar = fs::read(&tar).map_err(|e| e.to_string())?;
        for (what, archive, reason) in [
            ("a corrupt layer", &corrupt[..], "content has digest"),
            ("a truncated archive", cut, "truncated"),
            ("layers in the wrong order", &swapped[..], "is not the one it names"),
            ("a root file system tar", &rootfs_tar[..], "manifest.json or index.json"),
            ("not a tar", b"{\"hello\": 1}", "truncated"),
        ] {
            let path = dir.join("bad.tar");
            fs::write(&path, archive).map_err(|e| e.to_string())?;
            let out = docker.run(&["load", "-i", &path.to_string_lossy()], CLI)?;
            expect(
                &vm,
                out.code != 0 && out.stderr.contains(reason),
                &format!("{what}: want an error with {reason:?}; {}", out.describe(&["load"])),
            )?;
        }
        let images_after = docker.ok(&["images", "-q", "--no-trunc"], CLI)?;
        expect(&vm, images_after == images_before, &format!("refused loads changed the images:\n{images_after}"))?;
        let out = docker.ok(&["run", "--rm", "bb:1"], CLI)?;
        expect(&vm, out == rootfs::HELLO, &format!("after the refused loads bb:1 printed {out:?}"))
    })();
    save_console(a, test, &vm);
    result
}
