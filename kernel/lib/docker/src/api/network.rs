//! `/networks`: what `docker network`, Compose and docker-py send and read.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use berth_json::null_default;

/// A network, as `GET /networks/{id}` and the list show it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct Network {
    /// Its name.
    pub name: String,
    /// Its id (64 hex digits).
    pub id: String,
    /// Creation time, RFC 3339.
    pub created: String,
    /// `local`.
    pub scope: String,
    /// `bridge`, `host` or `null`.
    pub driver: String,
    /// Whether it has IPv6 addresses (never).
    #[serde(rename = "EnableIPv6")]
    pub enable_ipv6: bool,
    /// Its addresses.
    #[serde(rename = "IPAM")]
    pub ipam: Ipam,
    /// Whether its containers are cut off from the outside.
    pub internal: bool,
    /// Whether containers may be attached by hand (always).
    pub attachable: bool,
    /// Swarm's routing mesh (never).
    pub ingress: bool,
    /// Its containers, by id.
    pub containers: BTreeMap<String, NetworkContainer>,
    /// Driver options.
    pub options: BTreeMap<String, String>,
    /// Labels.
    pub labels: BTreeMap<String, String>,
}

/// `IPAM` of a [`Network`] or of a [`NetworkCreate`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct Ipam {
    /// `default`.
    pub driver: String,
    /// Its subnets (one).
    #[serde(deserialize_with = "null_default")]
    pub config: Vec<IpamConfig>,
    /// Driver options (left out when there are none, as dockerd's `null`).
    #[serde(deserialize_with = "null_default", skip_serializing_if = "BTreeMap::is_empty")]
    pub options: BTreeMap<String, String>,
}

/// One subnet of an [`Ipam`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct IpamConfig {
    /// `a.b.c.d/len`.
    #[serde(deserialize_with = "null_default")]
    pub subnet: String,
    /// The gateway's address.
    #[serde(skip_serializing_if = "String::is_empty", deserialize_with = "null_default")]
    pub gateway: String,
    /// The part of the subnet containers get addresses from (berth: all of it).
    #[serde(rename = "IPRange", skip_serializing_if = "String::is_empty", deserialize_with = "null_default")]
    pub ip_range: String,
}

/// One container of a [`Network`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkContainer {
    /// The container's name.
    pub name: String,
    /// The endpoint's id.
    #[serde(rename = "EndpointID")]
    pub endpoint_id: String,
    /// Its MAC address (none: berth has no Ethernet between containers).
    pub mac_address: String,
    /// `a.b.c.d/len`.
    #[serde(rename = "IPv4Address")]
    pub ipv4_address: String,
    /// Empty.
    #[serde(rename = "IPv6Address")]
    pub ipv6_address: String,
}

/// The body of `POST /networks/create`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkCreate {
    /// The name.
    pub name: String,
    /// The driver; empty or `bridge`.
    pub driver: String,
    /// Cut its containers off from the outside (`--internal`).
    pub internal: bool,
    /// Its subnet, if the client chose one (`--subnet`).
    #[serde(rename = "IPAM", deserialize_with = "null_default")]
    pub ipam: Ipam,
    /// IPv6 (refused).
    #[serde(rename = "EnableIPv6")]
    pub enable_ipv6: Option<bool>,
    /// Driver options (`--opt`).
    #[serde(deserialize_with = "null_default")]
    pub options: BTreeMap<String, String>,
    /// Labels (`--label`).
    #[serde(deserialize_with = "null_default")]
    pub labels: BTreeMap<String, String>,
}

/// The answer to `POST /networks/create`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkCreateResponse {
    /// The new network's id.
    pub id: String,
    /// Warnings (none).
    pub warning: String,
}

/// The body of `POST /networks/{id}/connect`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkConnect {
    /// The container (id or name).
    pub container: String,
    /// Its aliases and address there.
    #[serde(deserialize_with = "null_default")]
    pub endpoint_config: super::EndpointSettings,
}

/// The body of `POST /networks/{id}/disconnect`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct NetworkDisconnect {
    /// The container (id or name).
    pub container: String,
    /// Disconnect even if it is not running (it always may here).
    pub force: bool,
}

/// `POST /networks/prune`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NetworkPruneReport {
    /// The names of the networks removed.
    pub networks_deleted: Vec<String>,
}

/// What `docker network ls --filter` or `prune --filter` asks for: values of one
/// filter are alternatives, different filters must all hold.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NetworkFilter {
    /// Names (substrings, as Docker matches them).
    pub names: Vec<String>,
    /// Id prefixes.
    pub ids: Vec<String>,
    /// `label=KEY` or `label=KEY=VALUE`; all must match.
    pub labels: Vec<String>,
    /// Drivers.
    pub drivers: Vec<String>,
    /// `type=custom` or `type=builtin`.
    pub custom: Option<bool>,
    /// `dangling=true`: only networks no container is on.
    pub dangling: Option<bool>,
}

/// What a [`NetworkFilter`] looks at.
#[derive(Debug, Clone, Copy)]
pub struct NetworkFacts<'a> {
    /// Its name.
    pub name: &'a str,
    /// Its id.
    pub id: &'a str,
    /// Its driver.
    pub driver: &'a str,
    /// Its labels.
    pub labels: &'a BTreeMap<String, String>,
    /// Made by a user (not `bridge`, `host` or `none`).
    pub custom: bool,
    /// Whether containers are on it.
    pub used: bool,
}

impl NetworkFilter {
    /// Parses `{"name":{"x":true},"label":{"k=v":true}}` (or the older list form);
    /// unknown filters are refused rather than ignored.
    pub fn parse(filters: &str) -> Result<NetworkFilter, String> {
        let mut out = NetworkFilter::default();
        for (name, values) in super::filter_args(filters)? {
            match name.as_str() {
                "name" => out.names.extend(values),
                "id" => out.ids.extend(values),
                "label" => out.labels.extend(values),
                "driver" => out.drivers.extend(values),
                "type" => {
                    for v in &values {
                        out.custom = Some(match v.as_str() {
                            "custom" => true,
                            "builtin" => false,
                            other => return Err(format!("invalid filter: 'type'='{other}'")),
                        });
                    }
                }
                "dangling" => out.dangling = super::filter_flag(&name, &values)?.or(out.dangling),
                // Networks are always local here.
                "scope" if values.iter().all(|v| v == "local") => {}
                other => return Err(format!("invalid filter '{other}'")),
            }
        }
        Ok(out)
    }

    /// Whether a network passes.
    pub fn matches(&self, n: &NetworkFacts<'_>) -> bool {
        (self.names.is_empty() || self.names.iter().any(|x| n.name.contains(x.as_str())))
            && (self.ids.is_empty() || self.ids.iter().any(|x| n.id.starts_with(x.as_str())))
            && (self.drivers.is_empty() || self.drivers.iter().any(|d| d == n.driver))
            && super::labels_match(&self.labels, |k| n.labels.get(k).map(String::as_str))
            && self.custom.is_none_or(|c| c == n.custom)
            && self.dangling.is_none_or(|d| d != n.used)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cli_s_create_body_reads() {
        let body = r#"{"Name":"front","CheckDuplicate":true,"Driver":"bridge","Scope":"","EnableIPv6":null,
            "IPAM":{"Driver":"default","Options":{},"Config":[{"Subnet":"10.5.0.0/16","Gateway":"10.5.0.1"}]},
            "Internal":false,"Attachable":false,"Ingress":false,"ConfigOnly":false,"ConfigFrom":null,
            "Options":{},"Labels":{"com.docker.compose.network":"default"}}"#;
        let c: NetworkCreate = serde_json::from_str(body).unwrap();
        assert_eq!(c.name, "front");
        assert_eq!(c.ipam.config[0].subnet, "10.5.0.0/16");
        assert_eq!(c.labels["com.docker.compose.network"], "default");
        let bare: NetworkCreate = serde_json::from_str(r#"{"Name":"x","IPAM":null,"Labels":null}"#).unwrap();
        assert!(bare.ipam.config.is_empty());
    }

    #[test]
    fn a_network_shows_as_dockerd_shows_it() {
        let mut n = Network { name: "front".into(), id: "ab".into(), driver: "bridge".into(), ..Default::default() };
        n.ipam.config.push(IpamConfig {
            subnet: "172.18.0.0/16".into(),
            gateway: "172.18.0.1".into(),
            ..Default::default()
        });
        let json: serde_json::Value = serde_json::from_str(&serde_json::to_string(&n).unwrap()).unwrap();
        for key in
            ["Name", "Id", "Created", "Scope", "Driver", "EnableIPv6", "IPAM", "Internal", "Containers", "Labels"]
        {
            assert!(json.get(key).is_some(), "{key}");
        }
        assert_eq!(json["IPAM"]["Config"][0]["Subnet"], "172.18.0.0/16");
        assert!(json["IPAM"]["Config"][0].get("IPRange").is_none(), "empty fields are left out");
    }

    #[test]
    fn filters_select_as_compose_and_the_cli_ask() {
        let labels: BTreeMap<String, String> = [("com.docker.compose.project".into(), "demo".into())].into();
        let none = BTreeMap::new();
        let front = NetworkFacts {
            name: "demo_default",
            id: "abc1",
            driver: "bridge",
            labels: &labels,
            custom: true,
            used: true,
        };
        let bridge =
            NetworkFacts { name: "bridge", id: "def2", driver: "bridge", labels: &none, custom: false, used: false };
        let by_label = NetworkFilter::parse(r#"{"label":{"com.docker.compose.project=demo":true}}"#).unwrap();
        assert!(by_label.matches(&front) && !by_label.matches(&bridge));
        let by_name = NetworkFilter::parse(r#"{"name":["demo"]}"#).unwrap();
        assert!(by_name.matches(&front) && !by_name.matches(&bridge));
        let by_id = NetworkFilter::parse(r#"{"id":{"def":true}}"#).unwrap();
        assert!(!by_id.matches(&front) && by_id.matches(&bridge));
        let custom = NetworkFilter::parse(r#"{"type":{"custom":true},"dangling":{"true":true}}"#).unwrap();
        assert!(!custom.matches(&front), "in use");
        assert!(!custom.matches(&bridge), "built in");
        assert!(NetworkFilter::parse(r#"{"colour":{"red":true}}"#).is_err());
        assert!(NetworkFilter::parse(r#"{"type":{"odd":true}}"#).is_err());
    }
}
