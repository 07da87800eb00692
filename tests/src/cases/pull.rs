//! `docker pull` from a registry on the host (Debian's docker-registry, which the
//! guest reaches as 10.0.2.2): images pushed to it by the test, gzip and plain layers,
//! a multi-platform index, layers shared with what is already stored, a gate that
//! wants a bearer token and redirects, and a registry that serves spoiled or short blobs.

use super::agent::{CLI, boot, busybox_tar, expect, save_console};
use crate::artifacts::Artifacts;
use crate::docker::{Docker, TEST_TOKEN};
use crate::qemu::free_port;
use crate::registry::{AuthGate, Registry, digest_of};
use berth_image::rootfs;
use std::process::Command;
use std::sync::atomic::Ordering;

const OCI_MANIFEST: &str = "application/vnd.oci.image.manifest.v1+json";
const OCI_INDEX: &str = "application/vnd.oci.image.index.v1+json";
const DOCKER_MANIFEST: &str = "application/vnd.docker.distribution.manifest.v2+json";
const GZIP_LAYER: &str = "application/vnd.oci.image.layer.v1.tar+gzip";
const TAR_LAYER: &str = "application/vnd.docker.image.rootfs.diff.tar";

/// A layer as pushed: its blob, the blob's media type, and its diff id.
struct Layer {
    blob: Vec<u8>,
    media_type: &'static str,
    diff_id: String,
}

fn layer(tar: &[u8], gzip: bool) -> Result<Layer, String> {
    let diff_id = digest_of(tar);
    if !gzip {
        return Ok(Layer { blob: tar.to_vec(), media_type: TAR_LAYER, diff_id });
    }
    let mut child = Command::new("gzip")
        .args(["-n", "-c"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .map_err(|e| format!("gzip: {e}"))?;
    let mut stdin = child.stdin.take().ok_or("gzip stdin")?;
    let input = tar.to_vec();
    let writer = std::thread::spawn(move || std::io::Write::write_all(&mut stdin, &input));
    let out = child.wait_with_output().map_err(|e| e.to_string())?;
    writer.join().map_err(|_| "gzip writer")?.map_err(|e| e.to_string())?;
    Ok(Layer { blob: out.stdout, media_type: GZIP_LAYER, diff_id })
}

/// Pushes an image of `layers` running `cmd` as `repository:tag` (with a manifest of
/// `manifest_type`); gives the manifest's digest and body.
fn push_image(
    registry: &Registry,
    repository: &str,
    tag: &str,
    layers: &[&Layer],
    cmd: &str,
    manifest_type: &str,
) -> Result<(String, String), String> {
    let config = serde_json::json!({
        "architecture": "amd64", "os": "linux", "created": "2026-03-04T05:06:07Z",
        "config": {"Cmd": ["/bin/busybox", "sh", "-c", cmd], "Env": ["PATH=/bin"]},
        "rootfs": {"type": "layers", "diff_ids": layers.iter().map(|l| l.diff_id.clone()).collect::<Vec<_>>()},
    })
    .to_string();
    let config_digest = registry.push_blob(repository, config.as_bytes())?;
    let mut descriptors = Vec::new();
    for l in layers {
        let digest = registry.push_blob(repository, &l.blob)?;
        descriptors.push(serde_json::json!({"mediaType": l.media_type, "digest": digest, "size": l.blob.len()}));
    }
    let config_type = if manifest_type == DOCKER_MANIFEST {
        "application/vnd.docker.container.image.v1+json"
    } else {
        "application/vnd.oci.image.config.v1+json"
    };
    let manifest = serde_json::json!({
        "schemaVersion": 2, "mediaType": manifest_type,
        "config": {"mediaType": config_type, "digest": config_digest, "size": config.len()},
        "layers": descriptors,
    })
    .to_string();
    let digest = registry.push_manifest(repository, tag, manifest_type, &manifest)?;
    Ok((digest, manifest))
}

fn tar_of(root: &rootfs::Rootfs) -> Result<Vec<u8>, String> {
    root.to_tar().map_err(|e| e.to_string())
}

/// Pulls by tag, digest and index, and through a token-and-redirect gate; a second pull
/// is up to date; layers already stored are not fetched again; a missing tag, a
/// registry not named on the command line, and a blob that does not match its digest or
/// is cut short are errors that add no image.
pub fn pull(a: &Artifacts) -> Result<(), String> {
    let test = "agent-pull";
    let dir = a.dir.join("test-scratch").join(test);
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    // Booting clears the test's scratch directory: the registry keeps its store beside it.
    let registry = Registry::start(&a.dir.join("test-scratch").join(format!("{test}-registry")))?;
    let busybox = std::fs::read(busybox_tar(&dir)?).map_err(|e| e.to_string())?;
    let mut top = rootfs::Rootfs::new();
    top.file("etc/motd", "pulled from a registry\n", 0o644).file("data/.wh.hello.txt", "", 0o644);
    let base = layer(&busybox, true)?;
    let top_gz = layer(&tar_of(&top)?, true)?;
    let top_tar = layer(&tar_of(&top)?, false)?;
    let report = "cat /etc/motd; test -e /data/hello.txt && echo hello-still-there || echo hello-gone";
    let (two_digest, _) = push_image(&registry, "test/two", "1", &[&base, &top_gz], report, OCI_MANIFEST)?;

    // A multi-platform index: an arm64 image berth must pass over, and the amd64 one
    // (a Docker v2 manifest with an uncompressed layer).
    let (amd64, amd64_body) =
        push_image(&registry, "test/multi", "amd64", &[&base, &top_tar], "echo multi; cat /etc/motd", DOCKER_MANIFEST)?;
    let (arm64, arm64_body) = push_image(&registry, "test/multi", "arm64", &[&base], "echo wrong", OCI_MANIFEST)?;
    let index = serde_json::json!({
        "schemaVersion": 2, "mediaType": OCI_INDEX,
        "manifests": [
            {"mediaType": OCI_MANIFEST, "digest": arm64, "size": arm64_body.len(),
             "platform": {"architecture": "arm64", "os": "linux"}},
            {"mediaType": DOCKER_MANIFEST, "digest": amd64, "size": amd64_body.len(),
             "platform": {"architecture": "amd64", "os": "linux"}},
        ],
    })
    .to_string();
    registry.push_manifest("test/multi", "latest", OCI_INDEX, &index)?;

    // An image whose layer the registry will serve spoiled.
    let mut bad = rootfs::Rootfs::new();
    bad.file("bad.txt", vec![b'b'; 20_000], 0o644);
    let bad_layer = layer(&tar_of(&bad)?, false)?;
    push_image(&registry, "test/bad", "1", &[&base, &bad_layer], "true", OCI_MANIFEST)?;
    let spoiled = registry.blob_file(&digest_of(&bad_layer.blob));
    let mut bytes = std::fs::read(&spoiled).map_err(|e| format!("{}: {e}", spoiled.display()))?;
    bytes[5000] ^= 1; // inside bad.txt's data: the tar still reads, the digest does not match
    std::fs::write(&spoiled, bytes).map_err(|e| e.to_string())?;

    // An image whose layer the registry will serve cut short.
    let mut short = rootfs::Rootfs::new();
    short.file("short.txt", vec![b's'; 20_000], 0o644);
    let short_layer = layer(&tar_of(&short)?, false)?;
    push_image(&registry, "test/short", "1", &[&base, &short_layer], "true", OCI_MANIFEST)?;
    let cut = registry.blob_file(&digest_of(&short_layer.blob));
    let bytes = std::fs::read(&cut).map_err(|e| format!("{}: {e}", cut.display()))?;
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).map_err(|e| e.to_string())?;

    // The same registry behind a gate that wants a bearer token and redirects.
    let gate = AuthGate::start(registry.port)?;

    let agent = free_port();
    let cmdline = format!("insecure-registry=10.0.2.2:{} insecure-registry=10.0.2.2:{}", registry.port, gate.port);
    let vm = boot(a, test, &cmdline, agent, free_port())?;
    let result = (|| {
        let docker = Docker::new(agent, &dir.join("docker-config"), Some(TEST_TOKEN))?;
        let host = format!("10.0.2.2:{}", registry.port);
        let two = format!("{host}/test/two:1");
        let out = docker.ok(&["pull", &two], CLI)?;
        expect(
            &vm,
            out.contains("Pull complete") && out.contains(&format!("Status: Downloaded newer image for {two}")),
            &format!("docker pull said:\n{out}"),
        )?;
        let ran = docker.ok(&["run", "--rm", &two], CLI)?;
        expect(&vm, ran == "pulled from a registry\nhello-gone\n", &format!("the pulled image printed {ran:?}"))?;
        let digests = docker.ok(&["image", "inspect", &two, "--format", "{{json .RepoDigests}}"], CLI)?;
        expect(&vm, digests.contains(&format!("{host}/test/two@{two_digest}")), &format!("RepoDigests: {digests}"))?;
        let again = docker.ok(&["pull", &two], CLI)?;
        expect(&vm, again.contains("Image is up to date"), &format!("a second pull said:\n{again}"))?;
        let by_digest = format!("{host}/test/two@{two_digest}");
        docker.ok(&["pull", &by_digest], CLI)?;
        let ran = docker.ok(&["run", "--rm", &by_digest], CLI)?;
        expect(&vm, ran.starts_with("pulled from a registry"), &format!("the image pulled by digest printed {ran:?}"))?;

        let multi = format!("{host}/test/multi");
        let out = docker.ok(&["pull", &multi], CLI)?;
        expect(&vm, out.contains("Already exists"), &format!("the busybox layer was fetched again:\n{out}"))?;
        let ran = docker.ok(&["run", "--rm", &multi], CLI)?;
        expect(&vm, ran == "multi\npulled from a registry\n", &format!("the index's amd64 image printed {ran:?}"))?;

        // Through the gate: a token fetched, every request redirected to the registry.
        let gated = format!("10.0.2.2:{}/test/two:1", gate.port);
        docker.ok(&["rmi", &two, &multi], CLI)?;
        let out = docker.ok(&["pull", &gated], CLI)?;
        expect(&vm, out.contains("Downloaded newer image"), &format!("a pull through the gate said:\n{out}"))?;
        let (tokens, redirects) = (gate.tokens.load(Ordering::Relaxed), gate.redirects.load(Ordering::Relaxed));
        expect(&vm, tokens >= 1 && redirects >= 3, &format!("the gate gave {tokens} tokens, redirected {redirects}"))?;
        let ran = docker.ok(&["run", "--rm", &gated], CLI)?;
        expect(&vm, ran.starts_with("pulled from a registry"), &format!("the gated image printed {ran:?}"))?;

        let images_before = docker.ok(&["images", "-q", "--no-trunc"], CLI)?;
        for (what, name, reason) in [
            ("a missing tag", format!("{host}/test/two:9"), "manifest unknown"),
            ("a registry not named", "10.0.2.2:1/test/two:1".to_string(), "insecure-registry"),
            ("a spoiled blob", format!("{host}/test/bad:1"), "content has digest"),
            ("a blob cut short", format!("{host}/test/short:1"), "is truncated"),
        ] {
            let out = docker.run(&["pull", &name], CLI)?;
            expect(
                &vm,
                out.code != 0 && out.stderr.contains(reason),
                &format!("{what}: want an error with {reason:?}; {}", out.describe(&["pull", &name])),
            )?;
        }
        let images_after = docker.ok(&["images", "-q", "--no-trunc"], CLI)?;
        expect(&vm, images_after == images_before, &format!("failed pulls changed the images:\n{images_after}"))
    })();
    save_console(a, test, &vm);
    result
}
