//! Registry error bodies and layer media types.

use berth_oci::registry::{error_message, layer_is_gzip};

#[test]
fn registry_errors_read_as_sentences() {
    let body = br#"{"errors":[{"code":"MANIFEST_UNKNOWN","message":"manifest unknown","detail":{"Tag":"9"}}]}"#;
    assert_eq!(error_message(body), "manifest unknown (MANIFEST_UNKNOWN)");
    assert_eq!(error_message(b"<html>bad gateway</html>\n"), "<html>bad gateway</html>");
    assert_eq!(error_message(br#"{"errors":[]}"#), r#"{"errors":[]}"#);
}

#[test]
fn layer_media_types() {
    assert_eq!(layer_is_gzip("application/vnd.oci.image.layer.v1.tar+gzip"), Some(true));
    assert_eq!(layer_is_gzip("application/vnd.docker.image.rootfs.diff.tar.gzip"), Some(true));
    assert_eq!(layer_is_gzip("application/vnd.oci.image.layer.v1.tar"), Some(false));
    assert_eq!(layer_is_gzip("application/vnd.oci.image.layer.v1.tar+zstd"), None);
    assert_eq!(layer_is_gzip("application/vnd.docker.image.rootfs.foreign.diff.tar.gzip"), None);
}

use berth_oci::registry::{BearerChallenge, HttpUrl, token_from};

#[test]
fn urls_and_redirects() {
    let base = HttpUrl::parse("http://10.0.2.2:5000/v2/a/blobs/x", None).unwrap();
    assert_eq!(base, HttpUrl { host: "10.0.2.2:5000".into(), path: "/v2/a/blobs/x".into() });
    assert_eq!(HttpUrl::parse("/elsewhere?x=1", Some(&base)).unwrap().path, "/elsewhere?x=1");
    assert_eq!(HttpUrl::parse("/elsewhere", Some(&base)).unwrap().host, "10.0.2.2:5000");
    assert_eq!(
        HttpUrl::parse("http://10.0.0.9", None).unwrap(),
        HttpUrl { host: "10.0.0.9:80".into(), path: "/".into() }
    );
    assert_eq!(HttpUrl::parse("http://h:1?q", None).unwrap().path, "/?q");
    let https = HttpUrl::parse("https://s3.example/blob", None).unwrap_err();
    assert!(https.to_string().contains("no TLS"), "{https}");
    assert!(HttpUrl::parse("ftp://x/y", None).is_err());
    assert!(HttpUrl::parse("http:///y", None).is_err());
}

#[test]
fn bearer_challenges_and_tokens() {
    let c = BearerChallenge::parse(
        r#"Bearer realm="http://10.0.2.2:9/token",service="test registry",scope="repository:test/two:pull""#,
    )
    .unwrap();
    assert_eq!(c.realm, "http://10.0.2.2:9/token");
    assert_eq!(c.service.as_deref(), Some("test registry"));
    assert_eq!(c.token_url(), "http://10.0.2.2:9/token?service=test%20registry&scope=repository%3Atest%2Ftwo%3Apull");
    let bare = BearerChallenge::parse("bearer realm=http://t/x?a=1").unwrap();
    assert_eq!(bare.token_url(), "http://t/x?a=1");
    assert_eq!(BearerChallenge::parse(r#"Basic realm="x""#), None);
    assert_eq!(BearerChallenge::parse(r#"Bearer service="x""#), None);
    assert_eq!(token_from(br#"{"token":"abc","expires_in":60}"#).as_deref(), Some("abc"));
    assert_eq!(token_from(br#"{"access_token":"def"}"#).as_deref(), Some("def"));
    assert_eq!(token_from(br#"{"token":""}"#), None);
    assert_eq!(token_from(b"nope"), None);
}
