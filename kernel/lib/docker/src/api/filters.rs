//! The `filters` query parameter of list endpoints, in both forms clients send:
//! `{"label":{"k=v":true}}` (current) and `{"label":["k=v"]}` (older), and the
//! container list's filters.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// Each filter's values, by filter name.
pub fn filter_args(filters: &str) -> Result<BTreeMap<String, Vec<String>>, String> {
    let parsed: BTreeMap<String, serde_json::Value> =
        serde_json::from_str(filters).map_err(|e| format!("invalid filters: {e}"))?;
    let mut out = BTreeMap::new();
    for (name, values) in parsed {
        let values: Vec<String> = match values {
            serde_json::Value::Object(map) => map.into_iter().map(|(k, _)| k).collect(),
            serde_json::Value::Array(list) => list.into_iter().filter_map(|v| v.as_str().map(String::from)).collect(),
            _ => return Err(format!("invalid filters: {name}")),
        };
        out.insert(name, values);
    }
    Ok(out)
}

/// The last of a boolean filter's `values` (`true`/`1`, `false`/`0`), for filter
/// `name`.
pub fn filter_flag(name: &str, values: &[String]) -> Result<Option<bool>, String> {
    let mut out = None;
    for v in values {
        out = Some(match v.as_str() {
            "true" | "1" => true,
            "false" | "0" => false,
            other => return Err(format!("invalid filter '{name}={other}'")),
        });
    }
    Ok(out)
}

/// Whether `labels` has each of `wanted` (`KEY`, or `KEY=VALUE`).
pub fn labels_match<'a>(wanted: &[String], mut label: impl FnMut(&str) -> Option<&'a str>) -> bool {
    wanted.iter().all(|want| match want.split_once('=') {
        Some((k, v)) => label(k) == Some(v),
        None => label(want).is_some(),
    })
}

/// What `GET /containers/json?filters=...` asks for (`docker ps --filter`): values of
/// one filter are alternatives, different filters must all hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ContainerFilter {
    /// Id prefixes.
    pub ids: Vec<String>,
    /// Parts of names.
    pub names: Vec<String>,
    /// `KEY` or `KEY=VALUE`; all must match.
    pub labels: Vec<String>,
    /// `created`, `running`, `exited`...
    pub statuses: Vec<String>,
    /// Exit codes.
    pub exited: Vec<i64>,
    /// Volume names or mount destinations.
    pub volumes: Vec<String>,
    /// Image names (as given at create) or image id prefixes.
    pub ancestors: Vec<String>,
}

/// What a container filter looks at.
pub struct ContainerFacts<'a> {
    /// Its id.
    pub id: &'a str,
    /// Its name (without the leading `/`).
    pub name: &'a str,
    /// Its labels.
    pub labels: &'a [(String, String)],
    /// `created`, `running` or `exited`.
    pub state: &'a str,
    /// Its exit code, once it has exited.
    pub exit_code: Option<i64>,
    /// The image name it was created from.
    pub image: &'a str,
    /// That image's id (hex, without `sha256:`), if known.
    pub image_id: &'a str,
    /// Its volumes: (name, destination).
    pub mounts: &'a [(String, String)],
}

impl ContainerFilter {
    /// Parses the `filters` parameter; filters berth does not evaluate are refused
    /// rather than ignored.
    pub fn parse(filters: &str) -> Result<ContainerFilter, String> {
        let mut out = ContainerFilter::default();
        for (name, values) in filter_args(filters)? {
            match name.as_str() {
                "id" => out.ids = values,
                "name" => out.names = values.into_iter().map(|n| String::from(n.trim_start_matches('/'))).collect(),
                "label" => out.labels = values,
                "status" => {
                    for s in &values {
                        if !matches!(
                            s.as_str(),
                            "created" | "restarting" | "running" | "removing" | "paused" | "exited" | "dead"
                        ) {
                            return Err(format!("invalid filter 'status={s}'"));
                        }
                    }
                    out.statuses = values;
                }
                "exited" => {
                    out.exited = values
                        .iter()
                        .map(|v| v.parse().map_err(|_| format!("invalid filter 'exited={v}'")))
                        .collect::<Result<_, _>>()?;
                }
                "volume" => out.volumes = values,
                "ancestor" => out.ancestors = values,
                other => return Err(format!("berth does not filter containers by {other}")),
            }
        }
        Ok(out)
    }

    /// Whether a status or exit-code filter is given: it lists ended containers
    /// without `all`, as Docker does.
    pub fn lists_ended(&self) -> bool {
        !self.statuses.is_empty() || !self.exited.is_empty()
    }

    /// Whether the container described by `c` passes.
    pub fn matches(&self, c: &ContainerFacts<'_>) -> bool {
        let any = |wanted: &[String], test: &dyn Fn(&str) -> bool| wanted.is_empty() || wanted.iter().any(|w| test(w));
        any(&self.ids, &|w| c.id.starts_with(w))
            && any(&self.names, &|w| c.name.contains(w))
            && labels_match(&self.labels, |k| c.labels.iter().find(|(lk, _)| lk == k).map(|(_, v)| v.as_str()))
            && any(&self.statuses, &|w| w == c.state)
            && (self.exited.is_empty() || c.exit_code.is_some_and(|code| self.exited.contains(&code)))
            && any(&self.volumes, &|w| c.mounts.iter().any(|(name, dest)| name == w || dest == w))
            && any(&self.ancestors, &|w| {
                c.image == w || (!c.image_id.is_empty() && c.image_id.starts_with(w.trim_start_matches("sha256:")))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;
    use alloc::vec;

    fn facts<'a>(labels: &'a [(String, String)], mounts: &'a [(String, String)], state: &'a str) -> ContainerFacts<'a> {
        ContainerFacts {
            id: "4e1c7b3b2a5f0000",
            name: "shop-web-1",
            labels,
            state,
            exit_code: (state == "exited").then_some(3),
            image: "nginx:1",
            image_id: "abcdef0123",
            mounts,
        }
    }

    #[test]
    fn container_filters_as_compose_and_the_cli_send_them() {
        let labels = vec![
            ("com.docker.compose.project".to_string(), "shop".to_string()),
            ("com.docker.compose.service".to_string(), "web".to_string()),
        ];
        let mounts = vec![("data".to_string(), "/srv".to_string())];
        let running = facts(&labels, &mounts, "running");
        let exited = facts(&labels, &mounts, "exited");
        let pass = |f: &str, c: &ContainerFacts<'_>| ContainerFilter::parse(f).unwrap().matches(c);
        assert!(pass(
            r#"{"label":{"com.docker.compose.project=shop":true,"com.docker.compose.service":true}}"#,
            &running
        ));
        assert!(!pass(r#"{"label":{"com.docker.compose.project=other":true}}"#, &running));
        assert!(pass(r#"{"label":["com.docker.compose.project=shop"]}"#, &running));
        assert!(pass(r#"{"name":{"web":true}}"#, &running) && pass(r#"{"name":{"/shop-web-1":true}}"#, &running));
        assert!(!pass(r#"{"name":{"db":true}}"#, &running));
        assert!(pass(r#"{"id":{"4e1c":true,"ffff":true}}"#, &running));
        assert!(pass(r#"{"status":{"exited":true}}"#, &exited) && !pass(r#"{"status":{"exited":true}}"#, &running));
        assert!(pass(r#"{"exited":{"3":true}}"#, &exited) && !pass(r#"{"exited":{"0":true}}"#, &exited));
        assert!(pass(r#"{"volume":{"data":true}}"#, &running) && pass(r#"{"volume":{"/srv":true}}"#, &running));
        assert!(
            pass(r#"{"ancestor":{"nginx:1":true}}"#, &running)
                && pass(r#"{"ancestor":{"sha256:abcd":true}}"#, &running)
        );
        assert!(!pass(r#"{"ancestor":{"busybox":true}}"#, &running));
        assert!(ContainerFilter::parse(r#"{"status":{"exited":true}}"#).unwrap().lists_ended());
        assert!(!ContainerFilter::parse(r#"{"label":{"a":true}}"#).unwrap().lists_ended());
        for bad in [r#"{"status":{"sleeping":true}}"#, r#"{"exited":{"x":true}}"#, r#"{"network":{"n":true}}"#, "[]"] {
            assert!(ContainerFilter::parse(bad).is_err(), "{bad}");
        }
    }
}
