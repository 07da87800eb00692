//! `GET /events` (`docker events`): what happened, as one JSON object per line, and
//! which events a request wants.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

/// `Actor` of an [`EventMessage`]: the object and its attributes.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct EventActor {
    /// Its id (a volume's name).
    #[serde(rename = "ID")]
    pub id: String,
    /// `name`, `image`, labels, `exitCode`...
    pub attributes: BTreeMap<String, String>,
}

/// One event, as dockerd sends it (with the old `status`/`id`/`from` fields too).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EventMessage {
    /// The action, for old clients.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub status: String,
    /// The object's id, for old clients.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub id: String,
    /// A container's image, for old clients.
    #[serde(skip_serializing_if = "String::is_empty")]
    pub from: String,
    /// `container`, `volume`, `image`...
    #[serde(rename = "Type")]
    pub kind: String,
    /// `create`, `start`, `die`...
    #[serde(rename = "Action")]
    pub action: String,
    /// What it happened to.
    #[serde(rename = "Actor")]
    pub actor: EventActor,
    /// `local`.
    pub scope: String,
    /// Seconds since the epoch.
    pub time: i64,
    /// Nanoseconds since the epoch.
    #[serde(rename = "timeNano")]
    pub time_nano: i64,
}

/// What a `docker events --filter` asks for: values of one filter are alternatives,
/// different filters must all hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct EventFilter {
    /// Object types.
    pub types: Vec<String>,
    /// Actions (`event=die`).
    pub actions: Vec<String>,
    /// Containers, by id, id prefix or name.
    pub containers: Vec<String>,
    /// Images, by the name a container was created with.
    pub images: Vec<String>,
    /// Volumes, by name.
    pub volumes: Vec<String>,
    /// `KEY` or `KEY=VALUE` of the actor's attributes (its labels).
    pub labels: Vec<String>,
}

impl EventFilter {
    /// Parses the `filters` parameter; filters berth does not evaluate are refused.
    pub fn parse(filters: &str) -> Result<EventFilter, String> {
        let mut out = EventFilter::default();
        for (name, values) in super::filter_args(filters)? {
            match name.as_str() {
                "type" => out.types = values,
                "event" => out.actions = values,
                "container" => out.containers = values,
                "image" => out.images = values,
                "volume" => out.volumes = values,
                "label" => out.labels = values,
                other => return Err(format!("berth does not filter events by {other}")),
            }
        }
        Ok(out)
    }

    /// Whether `e` passes.
    pub fn matches(&self, e: &EventMessage) -> bool {
        let any = |wanted: &[String], test: &dyn Fn(&str) -> bool| wanted.is_empty() || wanted.iter().any(|w| test(w));
        let attr = |k: &str| e.actor.attributes.get(k).map(String::as_str);
        let is = |kind: &str| e.kind == kind;
        // An action filter matches `exec_start` given `exec_start: sh` too.
        let action = e.action.split(':').next().unwrap_or(&e.action);
        any(&self.types, &|w| w == e.kind)
            && any(&self.actions, &|w| w == action || w == e.action)
            && (self.containers.is_empty()
                || is("container")
                    && self.containers.iter().any(|w| e.actor.id.starts_with(w.as_str()) || attr("name") == Some(w)))
            && (self.images.is_empty() || attr("image").is_some_and(|i| self.images.iter().any(|w| w == i)))
            && (self.volumes.is_empty() || is("volume") && self.volumes.contains(&e.actor.id))
            && super::labels_match(&self.labels, attr)
    }
}

/// A `since`/`until` parameter: seconds since the epoch (`1700000000`, or with a
/// fraction), as nanoseconds.
pub fn event_time(text: &str) -> Option<u64> {
    let (secs, frac) = text.split_once('.').unwrap_or((text, ""));
    let secs: u64 = secs.parse().ok()?;
    let mut nanos = 0u64;
    for (i, digit) in frac.chars().take(9).enumerate() {
        nanos += u64::from(digit.to_digit(10)?) * 10u64.pow(8 - i as u32);
    }
    secs.checked_mul(1_000_000_000)?.checked_add(nanos)
}

#[cfg(test)]
mod tests {
    use super::*;
    use alloc::string::ToString;

    fn event(kind: &str, action: &str, id: &str, attrs: &[(&str, &str)]) -> EventMessage {
        EventMessage {
            kind: kind.to_string(),
            action: action.to_string(),
            actor: EventActor {
                id: id.to_string(),
                attributes: attrs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            },
            ..EventMessage::default()
        }
    }

    #[test]
    fn filters_as_the_cli_and_compose_send_them() {
        let die = event("container", "die", "4e1c7b3b", &[("name", "web"), ("image", "bb"), ("app", "shop")]);
        let exec = event("container", "exec_start: sh -c true", "4e1c7b3b", &[("name", "web")]);
        let volume = event("volume", "create", "data", &[]);
        let pass = |f: &str, e: &EventMessage| EventFilter::parse(f).unwrap().matches(e);
        assert!(pass(r#"{"type":{"container":true},"event":{"die":true}}"#, &die));
        assert!(!pass(r#"{"event":{"start":true}}"#, &die));
        assert!(pass(r#"{"event":{"exec_start":true}}"#, &exec));
        assert!(pass(r#"{"container":{"web":true}}"#, &die) && pass(r#"{"container":{"4e1c":true}}"#, &die));
        assert!(!pass(r#"{"container":{"db":true}}"#, &die) && !pass(r#"{"container":{"data":true}}"#, &volume));
        assert!(pass(r#"{"image":{"bb":true}}"#, &die) && !pass(r#"{"image":{"bb":true}}"#, &volume));
        assert!(pass(r#"{"label":{"app=shop":true}}"#, &die) && !pass(r#"{"label":{"app=x":true}}"#, &die));
        assert!(pass(r#"{"volume":{"data":true}}"#, &volume) && !pass(r#"{"volume":{"data":true}}"#, &die));
        assert!(EventFilter::parse(r#"{"network":{"n":true}}"#).is_err());
    }

    #[test]
    fn times_and_the_json() {
        assert_eq!(event_time("1700000000"), Some(1_700_000_000_000_000_000));
        assert_eq!(event_time("1700000000.5"), Some(1_700_000_000_500_000_000));
        assert_eq!(event_time("1700000000.000000001"), Some(1_700_000_000_000_000_001));
        assert_eq!(event_time("soon"), None);
        let json = serde_json::to_value(event("container", "start", "abc", &[("name", "web")])).unwrap();
        assert_eq!(json["Actor"]["ID"], "abc");
        assert_eq!(json["Actor"]["Attributes"]["name"], "web");
        assert_eq!(json["Type"], "container");
        assert!(json.get("timeNano").is_some() && json.get("time").is_some());
    }
}
