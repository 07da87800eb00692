//! Docker's rules for container names, image references and finding an object by name,
//! id or id prefix.

use alloc::string::{String, ToString};

/// What a lookup found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lookup {
    /// The item at this index.
    Found(usize),
    /// Nothing matches.
    NotFound,
    /// The key is a prefix of more than one id (the daemon answers 400, "multiple IDs
    /// found with provided prefix").
    Ambiguous,
}

/// Whether `name` is a valid container name: `/?[a-zA-Z0-9][a-zA-Z0-9_.-]+`.
pub fn valid_name(name: &str) -> bool {
    let name = name.strip_prefix('/').unwrap_or(name);
    let mut bytes = name.bytes();
    bytes.next().is_some_and(|b| b.is_ascii_alphanumeric())
        && name.len() >= 2
        && bytes.all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
}

/// The first 12 characters of an id, without an algorithm prefix (`sha256:`), as
/// Docker shows ids.
pub fn short_id(id: &str) -> &str {
    let id = id.split_once(':').map_or(id, |(_, hex)| hex);
    id.get(..12).unwrap_or(id)
}

fn is_hex(s: &str) -> bool {
    !s.is_empty() && s.bytes().all(|b| b.is_ascii_hexdigit())
}

/// Counts the items `matches` accepts: one gives its index.
fn unique<T>(items: &[T], matches: impl Fn(&T) -> bool) -> Lookup {
    let mut found = Lookup::NotFound;
    for (i, item) in items.iter().enumerate() {
        if matches(item) {
            if found != Lookup::NotFound {
                return Lookup::Ambiguous;
            }
            found = Lookup::Found(i);
        }
    }
    found
}

/// Finds a container as the Docker daemon does: by exact full id, then by exact name
/// (a leading `/` on either side is ignored), then by a unique prefix of the id.
pub fn lookup<T>(items: &[T], key: &str, id: impl Fn(&T) -> &str, name: impl Fn(&T) -> &str) -> Lookup {
    if key.is_empty() {
        return Lookup::NotFound;
    }
    if let Some(i) = items.iter().position(|item| id(item) == key) {
        return Lookup::Found(i);
    }
    let same_name = |s: &str| -> bool { s.strip_prefix('/').unwrap_or(s) == key.strip_prefix('/').unwrap_or(key) };
    if let Some(i) = items.iter().position(|item| same_name(name(item))) {
        return Lookup::Found(i);
    }
    unique(items, |item| id(item).starts_with(key))
}

/// Finds an image as the Docker daemon does: a full id (64 hex digits, with or without
/// `sha256:`) only by id; otherwise by reference against each image's tags
/// (`busybox` means `busybox:latest`, compared after [`image_ref`]), then by a unique
/// prefix of the id (again with or without `sha256:`). `id` may give ids with or
/// without `sha256:`.
pub fn lookup_image<T>(items: &[T], key: &str, id: impl Fn(&T) -> &str, tags: impl Fn(&T) -> &[String]) -> Lookup {
    let hex = hex_of(key);
    if hex.len() == 64 && is_hex(hex) {
        return unique(items, |item| hex_of(id(item)) == hex);
    }
    if !key.is_empty() {
        let wanted = image_ref(key);
        match unique(items, |item| tags(item).iter().any(|t| image_ref(t) == wanted)) {
            Lookup::NotFound => {}
            found => return found,
        }
    }
    if !is_hex(hex) {
        return Lookup::NotFound;
    }
    unique(items, |item| hex_of(id(item)).starts_with(hex))
}

/// An image id without its `sha256:` prefix.
fn hex_of(id: &str) -> &str {
    id.strip_prefix("sha256:").unwrap_or(id)
}

/// An image reference split into repository and tag, in the short form Docker shows:
/// a missing tag is `latest`; `docker.io/` and, for one-part names, `library/` are
/// dropped (`docker.io/library/busybox` is `busybox:latest`). A `:` before the last `/`
/// belongs to a registry's port (`localhost:5000/x` is `localhost:5000/x:latest`).
/// Digest references (`name@sha256:...`) are not understood.
pub fn image_ref(reference: &str) -> (String, String) {
    let slash = reference.rfind('/').map_or(0, |i| i + 1);
    let (repo, tag) = match reference[slash..].rfind(':') {
        Some(i) => (&reference[..slash + i], &reference[slash + i + 1..]),
        None => (reference, "latest"),
    };
    let repo = repo.strip_prefix("docker.io/").or_else(|| repo.strip_prefix("index.docker.io/")).unwrap_or(repo);
    let repo = match repo.strip_prefix("library/") {
        Some(name) if !name.contains('/') => name,
        _ => repo,
    };
    (repo.to_string(), tag.to_string())
}

/// Whether `reference` is a valid `[registry[:port]/]path[:tag]` as `docker import` and
/// `docker tag` accept: lowercase path components of letters and digits joined by `.`,
/// `_`, `__` or dashes; a tag of up to 128 `[A-Za-z0-9_.-]` not starting with `.` or `-`.
pub fn valid_image_ref(reference: &str) -> bool {
    let slash = reference.rfind('/').map_or(0, |i| i + 1);
    let (name, tag) = match reference[slash..].rfind(':') {
        Some(i) => (&reference[..slash + i], Some(&reference[slash + i + 1..])),
        None => (reference, None),
    };
    let tag_ok = tag.is_none_or(|t| {
        t.len() <= 128
            && t.bytes().next().is_some_and(|b| b.is_ascii_alphanumeric() || b == b'_')
            && t.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'_' | b'.' | b'-'))
    });
    let mut parts = name.split('/').peekable();
    let first = parts.peek().copied().unwrap_or("");
    let has_domain = name.contains('/') && (first.contains(['.', ':']) || first == "localhost");
    if has_domain {
        parts.next();
        if !valid_domain(first) {
            return false;
        }
    }
    tag_ok && name.len() <= 255 && parts.all(valid_component)
}

/// A registry host with an optional port.
fn valid_domain(domain: &str) -> bool {
    let (host, port) = domain.split_once(':').map_or((domain, None), |(h, p)| (h, Some(p)));
    let port_ok = port.is_none_or(|p| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()));
    port_ok
        && host.split('.').all(|label| {
            let b = label.as_bytes();
            !b.is_empty()
                && b[0].is_ascii_alphanumeric()
                && b[b.len() - 1].is_ascii_alphanumeric()
                && b.iter().all(|c| c.is_ascii_alphanumeric() || *c == b'-')
        })
}

/// A path component: `[a-z0-9]+` runs joined by `.`, `_`, `__` or one or more `-`.
fn valid_component(component: &str) -> bool {
    let alnum = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let bytes = component.as_bytes();
    if bytes.is_empty() || !alnum(bytes[0]) || !alnum(bytes[bytes.len() - 1]) {
        return false;
    }
    component
        .split(|c: char| c.is_ascii_lowercase() || c.is_ascii_digit())
        .all(|sep| sep.is_empty() || sep == "." || sep == "_" || sep == "__" || sep.bytes().all(|b| b == b'-'))
}

/// Whether the image tag `tag` (`repo:tag`) matches a `docker images` reference filter
/// (`busybox`, `busybox:1`, `team/*`, `*:latest`): the pattern is matched against the
/// whole tag and against its repository, `*` matching any run of characters but `/`.
pub fn reference_matches(pattern: &str, tag: &str) -> bool {
    let (repo, _) = image_ref(tag);
    glob(pattern.as_bytes(), tag.as_bytes()) || glob(pattern.as_bytes(), repo.as_bytes())
}

/// `*` (any run without `/`), `?` (one character but `/`), others literal.
fn glob(pattern: &[u8], text: &[u8]) -> bool {
    match pattern.split_first() {
        None => text.is_empty(),
        Some((b'*', rest)) => {
            (0..=text.len()).take_while(|&i| i == 0 || text[i - 1] != b'/').any(|i| glob(rest, &text[i..]))
        }
        Some((b'?', rest)) => text.first().is_some_and(|&c| c != b'/') && glob(rest, &text[1..]),
        Some((c, rest)) => text.first() == Some(c) && glob(rest, &text[1..]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::vec;
    use alloc::vec::Vec;

    #[test]
    fn container_names() {
        for good in ["web", "/web", "a1", "my_app.v2-test", "0x", "W-E.B_"] {
            assert!(valid_name(good), "{good}");
        }
        for bad in ["", "/", "a", "/a", "_web", ".web", "-web", "we b", "web/1", "//web", "wéb", "web!", "a:b"] {
            assert!(!valid_name(bad), "{bad}");
        }
    }

    struct C {
        id: &'static str,
        name: &'static str,
    }

    const A: &str = "4e1c7b3b2a5f0d9e8c7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d";
    const B: &str = "4e1d000000000000000000000000000000000000000000000000000000000000";
    const C2: &str = "9abc000000000000000000000000000000000000000000000000000000000000";

    fn containers() -> Vec<C> {
        vec![C { id: A, name: "/web" }, C { id: B, name: "db" }, C { id: C2, name: "/4e1d" }]
    }

    fn find(key: &str) -> Lookup {
        lookup(&containers(), key, |c| c.id, |c| c.name)
    }

    #[test]
    fn containers_by_name_id_and_prefix() {
        assert_eq!(find("web"), Lookup::Found(0));
        assert_eq!(find("/web"), Lookup::Found(0));
        assert_eq!(find("db"), Lookup::Found(1));
        assert_eq!(find("/db"), Lookup::Found(1));
        assert_eq!(find(A), Lookup::Found(0));
        assert_eq!(find(B), Lookup::Found(1));
        assert_eq!(find(&A[..12]), Lookup::Found(0));
        assert_eq!(find("4e1c"), Lookup::Found(0));
        assert_eq!(find("9"), Lookup::Found(2));
        assert_eq!(find("4e1"), Lookup::Ambiguous);
        assert_eq!(find("4"), Lookup::Ambiguous);
        // A name wins over an id prefix.
        assert_eq!(find("4e1d"), Lookup::Found(2));
        // Only an exact name or an id (prefix) names a container: nothing close to one.
        for missing in [
            "",
            "/",
            "nope",
            "Web",
            "4e1c7b3b2a5fx",
            "ffff",
            "we",
            "web\0",
            "web ",
            " web",
            "web/..",
            "//web",
            "%2Fweb",
            "*",
            "web*",
        ] {
            assert_eq!(find(missing), Lookup::NotFound, "{missing:?}");
        }
        assert_eq!(lookup(&[] as &[C], "web", |c| c.id, |c| c.name), Lookup::NotFound);
    }

    #[test]
    fn a_full_id_wins_over_a_name() {
        let items = [C { id: A, name: B }, C { id: B, name: "x" }];
        assert_eq!(lookup(&items, B, |c| c.id, |c| c.name), Lookup::Found(1));
    }

    #[test]
    fn short_ids() {
        assert_eq!(short_id(A), "4e1c7b3b2a5f");
        assert_eq!(short_id(&alloc::format!("sha256:{A}")), "4e1c7b3b2a5f");
        assert_eq!(short_id("abc"), "abc");
    }

    #[test]
    fn image_references() {
        let r = |s: &str| {
            let (repo, tag) = image_ref(s);
            alloc::format!("{repo}:{tag}")
        };
        assert_eq!(r("busybox"), "busybox:latest");
        assert_eq!(r("busybox:1.36"), "busybox:1.36");
        assert_eq!(r("library/busybox:latest"), "busybox:latest");
        assert_eq!(r("docker.io/library/busybox"), "busybox:latest");
        assert_eq!(r("index.docker.io/library/busybox:x"), "busybox:x");
        assert_eq!(r("docker.io/team/app:2"), "team/app:2");
        assert_eq!(r("library/team/app"), "library/team/app:latest");
        assert_eq!(r("localhost:5000/x"), "localhost:5000/x:latest");
        assert_eq!(r("localhost:5000/x:y"), "localhost:5000/x:y");
        assert_eq!(r("registry.example.com:443/a/b:c"), "registry.example.com:443/a/b:c");
        assert_eq!(r("img:tag"), "img:tag");
    }

    #[test]
    fn image_reference_syntax() {
        for good in [
            "busybox",
            "busybox:latest",
            "img:tag",
            "library/busybox:1.36.1",
            "team/my-app__x.y:v1_2-3",
            "a--b",
            "localhost/x",
            "localhost:5000/x:y",
            "registry.example.com/a/b",
            "My.Registry:443/a",
            "x:_tag",
        ] {
            assert!(valid_image_ref(good), "{good}");
        }
        let long_tag = alloc::format!("x:{}", "t".repeat(129));
        for bad in [
            "",
            "Busybox",
            "busybox:",
            "busybox:-x",
            "busybox:.x",
            ":tag",
            "a/",
            "/a",
            "a//b",
            "a_",
            "_a",
            "a___b",
            "a._b",
            "a..b",
            "ab:c/d",
            "localhost:/x",
            "localhost:50a0/x",
            "-reg.com/x",
            "a b",
            "x@sha256:abc",
            long_tag.as_str(),
        ] {
            assert!(!valid_image_ref(bad), "{bad:?}");
        }
    }

    struct I {
        id: &'static str,
        tags: Vec<String>,
    }

    const IMG1: &str = "sha256:5a3f0c9e8d7b6a5f4e3d2c1b0a9f8e7d6c5b4a3f2e1d0c9b8a7f6e5d4c3b2a10";
    const IMG2: &str = "sha256:5a40000000000000000000000000000000000000000000000000000000000000";

    fn images() -> Vec<I> {
        vec![
            I { id: IMG1, tags: vec!["busybox:latest".to_string(), "img:tag".to_string()] },
            I { id: IMG2, tags: vec!["localhost:5000/x:latest".to_string()] },
        ]
    }

    fn find_image(key: &str) -> Lookup {
        lookup_image(&images(), key, |i| i.id, |i| &i.tags)
    }

    #[test]
    fn images_by_tag_id_and_prefix() {
        for key in ["busybox", "busybox:latest", "library/busybox", "docker.io/library/busybox:latest", "img:tag"] {
            assert_eq!(find_image(key), Lookup::Found(0), "{key}");
        }
        assert_eq!(find_image("localhost:5000/x"), Lookup::Found(1));
        assert_eq!(find_image(IMG1), Lookup::Found(0));
        assert_eq!(find_image(&IMG1[7..]), Lookup::Found(0));
        assert_eq!(find_image(IMG2), Lookup::Found(1));
        assert_eq!(find_image("5a3f"), Lookup::Found(0));
        assert_eq!(find_image("sha256:5a3f0c"), Lookup::Found(0));
        assert_eq!(find_image("5a4"), Lookup::Found(1));
        assert_eq!(find_image("5a"), Lookup::Ambiguous);
        assert_eq!(find_image("sha256:5"), Lookup::Ambiguous);
        for missing in ["", "img", "img:other", "busybox:1", "x", "sha256:", "ffff", "5a3g", "sha256:6a3f"] {
            assert_eq!(find_image(missing), Lookup::NotFound, "{missing:?}");
        }
        // A full id that matches no image is not tried as a tag or prefix.
        let full_other = alloc::format!("{}f", &IMG1[7..70]);
        assert_eq!(find_image(&full_other), Lookup::NotFound);
        // A tag that looks like hex is a tag first.
        let items = [I { id: IMG1, tags: vec![] }, I { id: IMG2, tags: vec!["5a3f:latest".to_string()] }];
        assert_eq!(lookup_image(&items, "5a3f", |i| i.id, |i| &i.tags), Lookup::Found(1));
        // Ids stored without the algorithm prefix work too.
        let bare = [I { id: &IMG1[7..], tags: vec![] }];
        assert_eq!(lookup_image(&bare, IMG1, |i| i.id, |i| &i.tags), Lookup::Found(0));
        assert_eq!(lookup_image(&bare, "sha256:5a3f", |i| i.id, |i| &i.tags), Lookup::Found(0));
    }

    #[test]
    fn reference_filters() {
        assert!(reference_matches("busybox", "busybox:latest"));
        assert!(reference_matches("busybox:latest", "busybox:latest"));
        assert!(!reference_matches("busybox:1", "busybox:latest"));
        assert!(!reference_matches("bad", "badger:latest"));
        assert!(reference_matches("team/*", "team/app:2"));
        assert!(!reference_matches("*", "team/app:2"));
        assert!(reference_matches("*:latest", "busybox:latest"));
        assert!(reference_matches("localhost:5000/app", "localhost:5000/app:1"));
    }
}
