//! Volume requests: `-v`, `--mount`, anonymous volumes, and `docker volume ls` filters,
//! with the bodies the docker CLI sends.

use super::*;
use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

fn create(body: &str) -> ContainerCreate {
    serde_json::from_str(body).unwrap()
}

fn all_mounts(req: &ContainerCreate, image_volumes: &[&str]) -> Result<RequestedMounts, String> {
    let image: Vec<String> = image_volumes.iter().map(|s| s.to_string()).collect();
    requested_mounts(&req.host_config, req.volumes.keys().chain(&image))
}

fn mounts(req: &ContainerCreate, image_volumes: &[&str]) -> Result<Vec<RequestedMount>, String> {
    all_mounts(req, image_volumes).map(|m| m.volumes)
}

fn named(source: &str, target: &str) -> RequestedMount {
    RequestedMount { source: Some(source.to_string()), target: target.to_string(), no_copy: false, read_only: false }
}

fn anonymous(target: &str) -> RequestedMount {
    RequestedMount { source: None, target: target.to_string(), no_copy: false, read_only: false }
}

#[test]
fn binds_mounts_and_anonymous_volumes() {
    // `docker run -v data:/srv/data -v /cache --mount type=volume,source=logs,target=/var/log/app/
    //  --mount type=volume,target=/scratch` on an image with `VOLUME /cache /var/lib/db`.
    let req = create(
        r#"{"Image":"busybox","Volumes":{"/cache":{}},"HostConfig":{"Binds":["data:/srv/data:rw,z"],
        "Mounts":[{"Type":"volume","Source":"logs","Target":"/var/log/app/"},
                  {"Type":"volume","Target":"/scratch"}]}}"#,
    );
    let got = mounts(&req, &["/var/lib/db", "/cache"]).unwrap();
    assert_eq!(
        got,
        vec![
            named("data", "/srv/data"),
            named("logs", "/var/log/app"),
            anonymous("/scratch"),
            anonymous("/cache"),
            anonymous("/var/lib/db"),
        ]
    );
    // A named volume on an image's VOLUME path takes its place.
    let req = create(r#"{"Image":"x","HostConfig":{"Binds":["db:/var/lib/db/"]}}"#);
    assert_eq!(mounts(&req, &["/var/lib/db"]).unwrap(), vec![named("db", "/var/lib/db")]);
    // `nocopy`, both ways.
    let req = create(
        r#"{"HostConfig":{"Binds":["a:/a:nocopy"],"Mounts":[{"Type":"volume","Source":"b","Target":"/b",
        "VolumeOptions":{"NoCopy":true}},{"Type":"volume","Source":"c","Target":"/c","VolumeOptions":null}]}}"#,
    );
    let got = mounts(&req, &[]).unwrap();
    assert_eq!(got.iter().map(|m| m.no_copy).collect::<Vec<_>>(), [true, true, false]);
    // Read-only, both ways.
    let req = create(
        r#"{"HostConfig":{"Binds":["a:/a:ro,nocopy","b:/b:rw"],"Mounts":[{"Type":"volume","Source":"c",
        "Target":"/c","ReadOnly":true}]}}"#,
    );
    let got = mounts(&req, &[]).unwrap();
    assert_eq!(
        got.iter().map(|m| (m.read_only, m.no_copy)).collect::<Vec<_>>(),
        [(true, true), (false, false), (true, false)]
    );
    // `null` everywhere, as older clients send.
    let req = create(r#"{"Image":"x","Volumes":null,"HostConfig":{"Binds":null,"Mounts":null}}"#);
    assert!(mounts(&req, &[]).unwrap().is_empty());
}

#[test]
fn what_berth_cannot_mount_is_refused_with_a_reason() {
    for (body, says) in [
        (r#"{"HostConfig":{"Binds":["/etc:/host-etc"]}}"#, "no host file system"),
        (r#"{"HostConfig":{"Binds":["./dir:/x"]}}"#, "no host file system"),
        (r#"{"HostConfig":{"Binds":["data:/x:bogus"]}}"#, "invalid mode: bogus"),
        (r#"{"HostConfig":{"Binds":["data"]}}"#, "invalid volume specification"),
        (r#"{"HostConfig":{"Binds":["data:relative"]}}"#, "must be absolute"),
        (r#"{"HostConfig":{"Binds":["data:/"]}}"#, "can't be '/'"),
        (r#"{"HostConfig":{"Binds":["data:/a/../b"]}}"#, "'..'"),
        (r#"{"HostConfig":{"Binds":["a:/x","b:/x/"]}}"#, "Duplicate mount point: /x"),
        (r#"{"HostConfig":{"Binds":["a:/x","a:/y"]}}"#, "volume a is mounted twice"),
        (r#"{"HostConfig":{"Mounts":[{"Type":"bind","Source":"/tmp","Target":"/x"}]}}"#, "type=volume"),
        (r#"{"HostConfig":{"Mounts":[{"Type":"npipe","Target":"/x"}]}}"#, "type npipe"),
        (r#"{"HostConfig":{"Tmpfs":{"/x":"size=lots"}}}"#, "invalid tmpfs size"),
        (r#"{"HostConfig":{"Tmpfs":{"/x":"mode=999"}}}"#, "invalid tmpfs mode"),
        (r#"{"HostConfig":{"Tmpfs":{"/x":"uid=0"}}}"#, "invalid tmpfs option: uid"),
        (r#"{"HostConfig":{"Tmpfs":{"/x":""},"Binds":["v:/x"]}}"#, "Duplicate mount point: /x"),
    ] {
        let err = mounts(&create(body), &[]).unwrap_err();
        assert!(err.contains(says), "{body}: {err}");
    }
}

#[test]
fn tmpfs_mounts() {
    // `docker run --tmpfs /run --tmpfs /cache:rw,noexec,size=64m,mode=1770
    //  --mount type=tmpfs,target=/scratch,tmpfs-size=1048576,tmpfs-mode=0700`
    let req = create(
        r#"{"Volumes":{"/run":{}},"HostConfig":{"Tmpfs":{"/run":"","/cache":"rw,noexec,size=64m,mode=1770"},
        "Mounts":[{"Type":"tmpfs","Target":"/scratch","TmpfsOptions":{"SizeBytes":1048576,"Mode":448}}]}}"#,
    );
    let got = all_mounts(&req, &[]).unwrap();
    let tmpfs: Vec<(&str, u64, u32, bool)> =
        got.tmpfs.iter().map(|t| (t.target.as_str(), t.size, t.mode, t.read_only)).collect();
    assert_eq!(
        tmpfs,
        [("/cache", 64 << 20, 0o1770, false), ("/run", 0, 0o1777, false), ("/scratch", 1 << 20, 0o700, false)]
    );
    // A tmpfs takes the place of the anonymous volume at its path.
    assert!(got.volumes.is_empty());
    let ro = all_mounts(&create(r#"{"HostConfig":{"Tmpfs":{"/ro":"ro"}}}"#), &[]).unwrap();
    assert!(ro.tmpfs[0].read_only);
}

#[test]
fn volume_filters() {
    let labels: BTreeMap<String, String> =
        [("com.docker.compose.project".to_string(), "shop".to_string())].into_iter().collect();
    let none = BTreeMap::new();
    let f = VolumeFilter::parse(r#"{"label":{"com.docker.compose.project=shop":true}}"#).unwrap();
    assert!(f.matches("shop_db", &labels, false));
    assert!(!f.matches("other", &none, false));
    let f = VolumeFilter::parse(r#"{"label":["com.docker.compose.project"],"name":["db"]}"#).unwrap();
    assert!(f.matches("shop_db", &labels, true));
    assert!(!f.matches("shop_web", &labels, true));
    let f = VolumeFilter::parse(r#"{"dangling":{"true":true}}"#).unwrap();
    assert!(f.matches("a", &none, false) && !f.matches("a", &none, true));
    assert!(VolumeFilter::parse(r#"{"all":{"true":true}}"#).unwrap().all);
    assert!(VolumeFilter::parse(r#"{"driver":{"local":true}}"#).is_ok());
    assert!(VolumeFilter::parse(r#"{"dangling":{"maybe":true}}"#).is_err());
    assert!(VolumeFilter::parse(r#"{"driver":{"nfs":true}}"#).is_err());
    assert!(VolumeFilter::parse("not json").is_err());
}

#[test]
fn volume_create_bodies() {
    // `docker volume create --label a=b --opt size=10m data`
    let req: VolumeCreate =
        serde_json::from_str(r#"{"Driver":"local","DriverOpts":{"size":"10m"},"Labels":{"a":"b"},"Name":"data"}"#)
            .unwrap();
    assert_eq!((req.name.as_str(), req.driver_opts["size"].as_str(), req.labels["a"].as_str()), ("data", "10m", "b"));
    let req: VolumeCreate = serde_json::from_str(r#"{"DriverOpts":null,"Labels":null}"#).unwrap();
    assert!(req.name.is_empty() && req.labels.is_empty());
    let shown = serde_json::to_value(Volume { name: "data".into(), ..Volume::default() }).unwrap();
    for key in ["Name", "Driver", "Mountpoint", "CreatedAt", "Labels", "Scope", "Options"] {
        assert!(shown.get(key).is_some(), "{key}");
    }
}
