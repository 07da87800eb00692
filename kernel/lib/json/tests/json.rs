//! Go's loose JSON forms, and the nesting guard.

use berth_json::{Empty, depth_ok, null_default, string_or_list};
use serde::Deserialize;
use std::collections::BTreeMap;

#[derive(Deserialize, Debug, PartialEq)]
struct Doc {
    #[serde(default, deserialize_with = "string_or_list")]
    cmd: Option<Vec<String>>,
    #[serde(default, deserialize_with = "null_default")]
    env: Vec<String>,
    #[serde(default, deserialize_with = "null_default")]
    ports: BTreeMap<String, Empty>,
}

#[test]
fn go_forms_read_as_rust_values() {
    let d: Doc = serde_json::from_str(r#"{"cmd":"echo hi","env":null,"ports":{"80/tcp":{}}}"#).unwrap();
    assert_eq!(d.cmd, Some(vec!["echo hi".to_string()]), "one string is one element, not split");
    assert!(d.env.is_empty());
    assert_eq!(d.ports.keys().collect::<Vec<_>>(), ["80/tcp"]);
    let d: Doc = serde_json::from_str(r#"{"cmd":["a","b"],"ports":{"53/udp":{"ignored":[1]}}}"#).unwrap();
    assert_eq!(d.cmd, Some(vec!["a".to_string(), "b".to_string()]));
    let d: Doc = serde_json::from_str(r#"{"cmd":null}"#).unwrap();
    assert_eq!(d.cmd, None);
    assert!(serde_json::from_str::<Doc>(r#"{"cmd":[["nested"]]}"#).is_err());
}

#[test]
fn nesting_is_bounded_but_strings_do_not_count() {
    let deep = |n: usize| format!("{}{}", "[".repeat(n), "]".repeat(n));
    assert!(depth_ok(deep(32).as_bytes()));
    assert!(!depth_ok(deep(33).as_bytes()));
    assert!(depth_ok(format!(r#"["{}\"{}"]"#, "[".repeat(100), "{".repeat(100)).as_bytes()));
    assert!(depth_ok(br#"{"a":{"b":[1,2,{"c":"]]]]"}]}}"#));
}
