//! Resolving a container's `User` against its passwd and group files, as runc does.

use berth_oci::user::{ExecUser, add_groups, resolve};

const PASSWD: &str = "root:x:0:0:root:/root:/bin/bash\nwww-data:x:33:33:www-data:/var/www:/usr/sbin/nologin\n\
                      app:x:1000:1000::/home/app:/bin/sh\n";
const GROUP: &str = "root:x:0:\nwww-data:x:33:\napp:x:1000:\nadm:x:4:app,other\nstaff:x:50:app\n";

fn user(uid: u32, gid: u32, groups: &[u32], home: &str) -> ExecUser {
    ExecUser { uid, gid, groups: groups.to_vec(), home: home.into() }
}

#[test]
fn names_and_numbers() {
    let r = |spec| resolve(spec, Some(PASSWD), Some(GROUP));
    assert_eq!(r(""), Ok(user(0, 0, &[], "/root")));
    assert_eq!(r("www-data"), Ok(user(33, 33, &[], "/var/www")));
    assert_eq!(r("app"), Ok(user(1000, 1000, &[4, 50], "/home/app")));
    assert_eq!(r("1000"), Ok(user(1000, 1000, &[4, 50], "/home/app")));
    assert_eq!(r("app:adm"), Ok(user(1000, 4, &[], "/home/app")));
    assert_eq!(r("33:50"), Ok(user(33, 50, &[], "/var/www")));
    // A number nobody has is used as it is, with group 0 and home /.
    assert_eq!(r("4242"), Ok(user(4242, 0, &[], "/")));
    assert_eq!(r("4242:4343"), Ok(user(4242, 4343, &[], "/")));
    assert_eq!(resolve("7", None, None), Ok(user(7, 0, &[], "/")));
}

#[test]
fn unknown_names_are_errors() {
    assert_eq!(
        resolve("nobody", Some(PASSWD), Some(GROUP)),
        Err("unable to find user nobody: no matching entries in passwd file".into())
    );
    assert_eq!(
        resolve("app:wheel", Some(PASSWD), Some(GROUP)),
        Err("unable to find group wheel: no matching entries in group file".into())
    );
    assert!(resolve("app", None, None).is_err());
}

#[test]
fn group_add_takes_numbers_and_names() {
    let mut u = resolve("app", Some(PASSWD), Some(GROUP)).unwrap();
    let extra = ["2000".to_string(), "www-data".to_string(), "adm".to_string()];
    add_groups(&mut u, &extra, Some(GROUP)).unwrap();
    assert_eq!(u.groups, [4, 33, 50, 2000]);
    let err = add_groups(&mut u, &["nosuch".to_string()], Some(GROUP)).unwrap_err();
    assert_eq!(err, "unable to find group nosuch: no matching entries in group file");
    let mut root = resolve("", None, None).unwrap();
    add_groups(&mut root, &["7".to_string()], None).unwrap();
    assert_eq!(root.groups, [7]);
}
