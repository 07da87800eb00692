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
