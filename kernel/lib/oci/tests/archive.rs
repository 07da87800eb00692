//! What `docker save` writes reads back as the same images; OCI layouts with a nested
//! platform index, and Docker's older layout, load too.

use berth_oci::Digest;
use berth_oci::archive::{SaveImage, ToLoad, images_in, save_files};
use std::collections::BTreeMap;

fn lookup<'a>(files: &'a BTreeMap<String, Vec<u8>>) -> impl Fn(&str) -> Option<&'a [u8]> + 'a {
    |path| files.get(path).map(Vec::as_slice)
}

#[test]
fn saved_images_read_back() {
    let layer = Digest::of(b"layer one");
    let shared = Digest::of(b"layer two");
    let config_a = br#"{"architecture":"amd64","os":"linux","rootfs":{"type":"layers","diff_ids":[]}}"#;
    let config_b = br#"{"architecture":"amd64","os":"linux","config":{},"rootfs":{"type":"layers","diff_ids":[]}}"#;
    let images = [
        SaveImage {
            config: config_a,
            layers: vec![(layer, 9), (shared, 9)],
            tags: vec!["app:1".into(), "team/app:2".into()],
        },
        SaveImage { config: config_b, layers: vec![(shared, 9)], tags: vec![] },
    ];
    let files: BTreeMap<String, Vec<u8>> = save_files(&images).into_iter().collect();
    assert_eq!(files["oci-layout"], br#"{"imageLayoutVersion":"1.0.0"}"#);
    assert_eq!(files[&format!("blobs/sha256/{}", Digest::of(config_a).hex())], config_a);
    let loaded = images_in(&lookup(&files)).unwrap();
    assert_eq!(
        loaded,
        [
            ToLoad {
                config: format!("blobs/sha256/{}", Digest::of(config_a).hex()),
                layers: vec![format!("blobs/sha256/{}", layer.hex()), format!("blobs/sha256/{}", shared.hex())],
                tags: vec!["app:1".into(), "team/app:2".into()],
            },
            ToLoad {
                config: format!("blobs/sha256/{}", Digest::of(config_b).hex()),
                layers: vec![format!("blobs/sha256/{}", shared.hex())],
                tags: vec![],
            }
        ]
    );

    // Without manifest.json, the OCI index alone gives the same images and names.
    let mut oci = files.clone();
    oci.remove("manifest.json");
    let from_index = images_in(&lookup(&oci)).unwrap();
    assert_eq!(from_index.len(), 3, "one entry per name, one for the untagged image");
    assert_eq!(from_index[0].tags, ["docker.io/library/app:1"]);
    assert_eq!(from_index[1].tags, ["docker.io/team/app:2"]);
    assert_eq!(from_index[1].layers, loaded[0].layers);
    assert!(from_index[2].tags.is_empty());
}

#[test]
fn a_nested_platform_index_picks_linux_amd64() {
    let manifest = |layer: &str| {
        format!(
            r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.manifest.v1+json",
            "config":{{"mediaType":"application/vnd.oci.image.config.v1+json","digest":"sha256:{}","size":1}},
            "layers":[{{"mediaType":"application/vnd.oci.image.layer.v1.tar+gzip","digest":"sha256:{}","size":1}}]}}"#,
            Digest::of(b"config").hex(),
            Digest::of(layer.as_bytes()).hex()
        )
    };
    let arm = manifest("arm64 layer");
    let amd = manifest("amd64 layer");
    let platforms = format!(
        r#"{{"schemaVersion":2,"mediaType":"application/vnd.oci.image.index.v1+json","manifests":[
        {{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{}","size":1,"platform":{{"os":"linux","architecture":"arm64"}}}},
        {{"mediaType":"application/vnd.oci.image.manifest.v1+json","digest":"{}","size":1,"platform":{{"os":"linux","architecture":"amd64"}}}}]}}"#,
        Digest::of(arm.as_bytes()),
        Digest::of(amd.as_bytes())
    );
    let index = format!(
        r#"{{"schemaVersion":2,"manifests":[{{"mediaType":"application/vnd.oci.image.index.v1+json","digest":"{}","size":1,
        "annotations":{{"org.opencontainers.image.ref.name":"docker.io/library/nginx:1.25"}}}}]}}"#,
        Digest::of(platforms.as_bytes())
    );
    let mut files = BTreeMap::new();
    files.insert("index.json".to_string(), index.into_bytes());
    for doc in [&platforms, &arm, &amd] {
        files.insert(format!("blobs/sha256/{}", Digest::of(doc.as_bytes()).hex()), doc.clone().into_bytes());
    }
    let loaded = images_in(&lookup(&files)).unwrap();
    assert_eq!(loaded.len(), 1);
    assert_eq!(loaded[0].tags, ["docker.io/library/nginx:1.25"]);
    assert_eq!(loaded[0].layers, [format!("blobs/sha256/{}", Digest::of(b"amd64 layer").hex())]);

    files.remove(&format!("blobs/sha256/{}", Digest::of(amd.as_bytes()).hex()));
    let missing = images_in(&lookup(&files)).unwrap_err();
    assert!(matches!(missing, berth_oci::Error::Missing(_)), "{missing:?}");
}

#[test]
fn the_older_docker_layout_and_non_archives() {
    let mut files = BTreeMap::new();
    files.insert(
        "manifest.json".to_string(),
        br#"[{"Config":"abc.json","RepoTags":null,"Layers":["./l1/layer.tar","l2/layer.tar"]}]"#.to_vec(),
    );
    let loaded = images_in(&lookup(&files)).unwrap();
    assert_eq!(loaded[0].config, "abc.json");
    assert_eq!(loaded[0].layers, ["l1/layer.tar", "l2/layer.tar"]);
    assert!(loaded[0].tags.is_empty());

    files.insert("manifest.json".to_string(), b"{not json".to_vec());
    assert!(images_in(&lookup(&files)).is_err());
    let empty = BTreeMap::new();
    assert!(matches!(images_in(&lookup(&empty)), Err(berth_oci::Error::Missing(_))));
}
