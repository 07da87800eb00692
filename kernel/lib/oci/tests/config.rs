//! Image configuration files, `--change` instructions and how a create request merges
//! with an image's defaults.

use berth_oci::{Digest, Error, ImageConfig, RunConfig, changes};

/// A configuration as `docker save` of Debian's nginx image writes it (trimmed).
const NGINX_CONFIG: &str = r#"{"architecture":"amd64","config":{"ExposedPorts":{"80/tcp":{}},
"Env":["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin","NGINX_VERSION=1.27.3"],
"Entrypoint":["/docker-entrypoint.sh"],"Cmd":["nginx","-g","daemon off;"],"Labels":{"maintainer":"NGINX"},
"StopSignal":"SIGQUIT","ArgsEscaped":true,"OnBuild":null},"created":"2024-11-26T18:42:08Z",
"history":[{"created":"2024-11-11T00:00:00Z","created_by":"/bin/sh -c #(nop) ADD file:abc in / "},
{"created":"2024-11-11T00:00:00Z","created_by":"/bin/sh -c #(nop)  CMD [\"bash\"]","empty_layer":true}],
"os":"linux","rootfs":{"type":"layers","diff_ids":
["sha256:c0f1022b22a9ed8f4c1bfa58d6f8fbf1d8dc1e9d0f6f3cc3f4b0ca1bd7cd43b0"]}}"#;

#[test]
fn reads_a_real_configuration() {
    let config = ImageConfig::parse(NGINX_CONFIG.as_bytes()).unwrap();
    assert_eq!(config.config.cmd.as_deref().unwrap(), ["nginx", "-g", "daemon off;"]);
    assert_eq!(config.config.entrypoint.as_deref().unwrap(), ["/docker-entrypoint.sh"]);
    assert_eq!(config.config.stop_signal, "SIGQUIT");
    assert!(config.config.exposed_ports.contains_key("80/tcp"));
    assert_eq!(config.history.len(), 2);
    assert!(config.history[1].empty_layer);
    assert_eq!(config.diff_ids().unwrap().len(), 1);
}

#[test]
fn refuses_other_platforms_and_bad_layers() {
    let arm = NGINX_CONFIG.replace("\"amd64\"", "\"arm64\"");
    assert_eq!(ImageConfig::parse(arm.as_bytes()), Err(Error::Platform("linux/arm64".into())));
    let windows = NGINX_CONFIG.replace("\"linux\"", "\"windows\"");
    assert!(matches!(ImageConfig::parse(windows.as_bytes()), Err(Error::Platform(_))));
    let bad = NGINX_CONFIG.replace("sha256:c0f1", "sha256:zzzz");
    assert!(matches!(ImageConfig::parse(bad.as_bytes()), Err(Error::Format(m)) if m.contains("invalid digest")));
    assert!(matches!(ImageConfig::parse(b"{\"os\":"), Err(Error::Format(_))));
    assert!(ImageConfig::parse(&vec![b' '; 5 << 20]).is_err());
}

#[test]
fn an_imported_configuration_round_trips() {
    let layer = Digest::of(b"layer");
    let mut run = RunConfig::default();
    changes::apply(&mut run, "CMD [\"/bin/sh\"]").unwrap();
    let config = ImageConfig::imported(layer, "2026-12-07T00:00:00Z", "", run);
    let bytes = config.to_bytes();
    let back = ImageConfig::parse(&bytes).unwrap();
    assert_eq!(back, config);
    assert_eq!(back.comment, "Imported from -");
    assert_eq!(back.diff_ids().unwrap(), vec![layer]);
    // The id is the digest of the bytes, so the same config gives the same id.
    assert_eq!(Digest::of(&bytes), Digest::of(&config.to_bytes()));
}

#[test]
fn digests_read_and_write() {
    let d = Digest::of(b"abc");
    assert_eq!(d.to_string(), "sha256:ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    assert_eq!(Digest::parse(&d.to_string()).unwrap(), d);
    assert!(Digest::parse("sha256:BA7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad").is_err());
    assert!(Digest::parse("md5:abc").is_err());
    assert!(Digest::parse("sha256:abc").is_err());
}

fn run_of(lines: &[&str]) -> RunConfig {
    let mut run = RunConfig::default();
    for line in lines {
        changes::apply(&mut run, line).unwrap();
    }
    run
}

#[test]
fn changes_as_docker_applies_them() {
    let run = run_of(&[
        "CMD [\"nginx\", \"-g\", \"daemon off;\"]",
        "ENTRYPOINT /entry.sh --flag",
        "ENV A=1 B=\"two words\"",
        "ENV C the rest of it",
        "ENV A=3",
        "EXPOSE 80 53/udp",
        "LABEL org.example=yes \"quoted key\"=v",
        "USER www-data:www-data",
        "WORKDIR /srv",
        "WORKDIR app",
        "VOLUME [\"/data\"]",
    ]);
    assert_eq!(run.cmd.as_deref().unwrap(), ["nginx", "-g", "daemon off;"]);
    assert_eq!(run.entrypoint.as_deref().unwrap(), ["/bin/sh", "-c", "/entry.sh --flag"]);
    assert_eq!(run.env, ["A=3", "B=two words", "C=the rest of it"]);
    assert_eq!(run.exposed_ports.keys().collect::<Vec<_>>(), ["53/udp", "80/tcp"]);
    assert_eq!(run.labels["org.example"], "yes");
    assert_eq!(run.labels["quoted key"], "v");
    assert_eq!(run.user, "www-data:www-data");
    assert_eq!(run.working_dir, "/srv/app");
    assert!(run.volumes.contains_key("/data"));
}

#[test]
fn bad_changes_are_refused_with_a_reason() {
    let mut run = RunConfig::default();
    for (line, why) in [
        ("FROM debian", "FROM is not a valid change command"),
        ("EXPOSE 0", "invalid port"),
        ("EXPOSE 80-90", "invalid port"),
        ("ENV", "requires at least one argument"),
        ("ENV A", "followed by"),
        ("LABEL =x", "not KEY=VALUE"),
        ("ENV A=\"open", "unmatched quote"),
        ("USER", "requires"),
        ("", "empty"),
    ] {
        let err = changes::apply(&mut run, line).unwrap_err();
        assert!(err.0.contains(why), "{line:?}: {err}");
    }
    assert_eq!(run, RunConfig::default(), "a refused change changes nothing");
}

#[test]
fn a_request_merges_with_the_image_as_docker_merges_it() {
    let image = run_of(&[
        "ENTRYPOINT [\"/entry\"]",
        "CMD [\"serve\"]",
        "ENV PATH=/image/bin KEEP=1",
        "WORKDIR /w",
        "USER app",
        "EXPOSE 80",
        "LABEL a=image b=image",
    ]);
    // Nothing asked: the image's everything.
    let merged = image.merged_with(&RunConfig::default());
    assert_eq!(merged.argv(), ["/entry", "serve"]);
    assert_eq!(merged.working_dir, "/w");
    assert_eq!(merged.user, "app");
    // A command: the image's entrypoint with it.
    let merged = image.merged_with(&run_of(&["CMD [\"check\"]", "ENV PATH=/mine", "LABEL b=mine", "USER 0"]));
    assert_eq!(merged.argv(), ["/entry", "check"]);
    assert_eq!(merged.env, ["PATH=/mine", "KEEP=1"]);
    assert_eq!(merged.labels["a"], "image");
    assert_eq!(merged.labels["b"], "mine");
    assert_eq!(merged.user, "0");
    // An entrypoint: the image's command is dropped.
    let merged = image.merged_with(&run_of(&["ENTRYPOINT [\"/bin/sh\"]"]));
    assert_eq!(merged.argv(), ["/bin/sh"]);
    // `--entrypoint ""` with a command: just the command.
    let user =
        RunConfig { entrypoint: Some(vec![String::new()]), cmd: Some(vec!["ls".into()]), ..RunConfig::default() };
    assert_eq!(image.merged_with(&user).argv(), ["ls"]);
    // An empty image and an empty request: nothing to run.
    assert!(RunConfig::default().merged_with(&RunConfig::default()).argv().is_empty());
}

/// A config nested deeper than any image needs is refused before serde recurses into
/// it (a kernel thread's stack is small).
#[test]
fn deeply_nested_json_is_refused() {
    let deep = format!(
        r#"{{"architecture":"amd64","os":"linux","config":{{"Cmd":{}"x"{}}},"rootfs":{{"type":"layers","diff_ids":[]}}}}"#,
        "[".repeat(100),
        "]".repeat(100)
    );
    let e = berth_oci::ImageConfig::parse(deep.as_bytes()).unwrap_err();
    assert!(e.to_string().contains("nests more than 32 levels"), "{e}");
    // Brackets inside strings do not count.
    let quoted = format!(
        r#"{{"architecture":"amd64","os":"linux","config":{{"Cmd":["{}\"{}"]}},"rootfs":{{"type":"layers","diff_ids":[]}}}}"#,
        "[".repeat(100),
        "{".repeat(100)
    );
    assert!(berth_oci::ImageConfig::parse(quoted.as_bytes()).is_ok());
}
