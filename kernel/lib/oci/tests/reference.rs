//! References as `docker pull` reads them.

use berth_oci::Digest;
use berth_oci::reference::{Reference, Target};

fn tag(t: &str) -> Target {
    Target::Tag(t.to_string())
}

#[test]
fn docker_defaults_and_registries() {
    let cases = [
        ("busybox", None, "docker.io", "library/busybox", tag("latest"), "busybox:latest"),
        ("busybox:1.36", None, "docker.io", "library/busybox", tag("1.36"), "busybox:1.36"),
        ("docker.io/library/nginx", Some("1.25"), "docker.io", "library/nginx", tag("1.25"), "nginx:1.25"),
        ("team/app", Some(""), "docker.io", "team/app", tag("latest"), "team/app:latest"),
        ("10.0.2.2:5000/test/two", Some("1"), "10.0.2.2:5000", "test/two", tag("1"), "10.0.2.2:5000/test/two:1"),
        ("localhost/x:y", None, "localhost", "x", tag("y"), "localhost/x:y"),
        ("registry.example/a/b/c:v2", None, "registry.example", "a/b/c", tag("v2"), "registry.example/a/b/c:v2"),
    ];
    for (name, t, registry, repository, target, shown) in cases {
        let r = Reference::parse(name, t).unwrap();
        assert_eq!((r.registry.as_str(), r.repository.as_str(), &r.target), (registry, repository, &target), "{name}");
        assert_eq!(r.to_string(), shown);
        assert_eq!(r.tag_name().as_deref(), Some(shown));
    }
}

#[test]
fn digests_name_manifests() {
    let d = Digest::of(b"manifest");
    let by_at = Reference::parse(&format!("10.0.2.2:5000/test/two@{d}"), None).unwrap();
    assert_eq!(by_at.target, Target::Digest(d));
    assert_eq!(by_at.tag_name(), None);
    assert_eq!(by_at.target_text(), d.to_string());
    let by_param = Reference::parse("10.0.2.2:5000/test/two", Some(&d.to_string())).unwrap();
    assert_eq!(by_param, by_at);
    assert_eq!(by_at.to_string(), format!("10.0.2.2:5000/test/two@{d}"));
}

#[test]
fn bad_references_are_refused() {
    for (name, t) in [
        ("Busybox", None),
        ("busybox:bad tag", None),
        ("busybox@sha256:1234", None),
        ("a//b", None),
        ("x", Some(".hidden")),
        ("", None),
    ] {
        assert!(Reference::parse(name, t).is_err(), "{name} {t:?}");
    }
}
