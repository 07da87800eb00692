//! Tests of the JSON types: what the CLI sends, and the field names the CLI reads.

use alloc::collections::BTreeMap;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;

use serde_json::Value;

use super::*;

/// `docker create --name web -p 8080:80 -m 64m -e FOO=bar img cmd`, as the docker CLI 28
/// writes the body (written out from the Engine API's `ContainerConfig` and
/// `HostConfig`; Go writes every field, `null` for empty slices and maps).
const CLI_CREATE: &str = r#"{
  "Hostname": "", "Domainname": "", "User": "",
  "AttachStdin": false, "AttachStdout": true, "AttachStderr": true,
  "ExposedPorts": {"80/tcp": {}},
  "Tty": false, "OpenStdin": false, "StdinOnce": false,
  "Env": ["FOO=bar"],
  "Cmd": ["cmd"],
  "Image": "img",
  "Volumes": null, "WorkingDir": "", "Entrypoint": null, "OnBuild": null,
  "Labels": {},
  "HostConfig": {
    "Binds": null, "ContainerIDFile": "",
    "LogConfig": {"Type": "", "Config": null},
    "NetworkMode": "default",
    "PortBindings": {"80/tcp": [{"HostIp": "", "HostPort": "8080"}]},
    "RestartPolicy": {"Name": "no", "MaximumRetryCount": 0},
    "AutoRemove": false, "VolumeDriver": "", "VolumesFrom": null,
    "ConsoleSize": [0, 0],
    "CapAdd": null, "CapDrop": null, "CgroupnsMode": "",
    "Dns": [], "DnsOptions": [], "DnsSearch": [], "ExtraHosts": null, "GroupAdd": null,
    "IpcMode": "", "Cgroup": "", "Links": null, "OomScoreAdj": 0, "PidMode": "",
    "Privileged": false, "PublishAllPorts": false, "ReadonlyRootfs": false,
    "SecurityOpt": null, "UTSMode": "", "UsernsMode": "", "ShmSize": 0, "Isolation": "",
    "CpuShares": 0, "Memory": 67108864, "NanoCpus": 0, "CgroupParent": "",
    "BlkioWeight": 0, "BlkioWeightDevice": [], "BlkioDeviceReadBps": [],
    "BlkioDeviceWriteBps": [], "BlkioDeviceReadIOps": [], "BlkioDeviceWriteIOps": [],
    "CpuPeriod": 0, "CpuQuota": 0, "CpuRealtimePeriod": 0, "CpuRealtimeRuntime": 0,
    "CpusetCpus": "", "CpusetMems": "", "Devices": [], "DeviceCgroupRules": null,
    "DeviceRequests": null, "MemoryReservation": 0, "MemorySwap": 0,
    "MemorySwappiness": null, "OomKillDisable": false, "PidsLimit": null,
    "Ulimits": [], "CpuCount": 0, "CpuPercent": 0,
    "IOMaximumIOps": 0, "IOMaximumBandwidth": 0,
    "MaskedPaths": null, "ReadonlyPaths": null
  },
  "NetworkingConfig": {"EndpointsConfig": {}}
}"#;

fn parse(json: &str) -> ContainerCreate {
    from_json(json.as_bytes()).unwrap()
}

fn strings(items: &[&str]) -> Vec<String> {
    items.iter().map(|s| s.to_string()).collect()
}

#[test]
fn create_as_the_cli_sends_it() {
    let c = parse(CLI_CREATE);
    assert_eq!(c.image, "img");
    assert_eq!(c.cmd, Some(strings(&["cmd"])));
    assert_eq!(c.entrypoint, None);
    assert_eq!(c.env, strings(&["FOO=bar"]));
    assert!(!c.tty && !c.open_stdin && !c.attach_stdin && c.attach_stdout && c.attach_stderr);
    assert_eq!(c.exposed_ports.keys().collect::<Vec<_>>(), ["80/tcp"]);
    assert!(c.labels.is_empty());
    let h = &c.host_config;
    assert_eq!(h.memory, 64 * 1024 * 1024);
    assert_eq!((h.nano_cpus, h.cpu_quota, h.cpu_period, h.pids_limit), (0, 0, 0, None));
    assert!(!h.auto_remove && !h.publish_all_ports);
    assert_eq!(h.network_mode, "default");
    assert_eq!(h.restart_policy.name, "no");
    assert_eq!(
        h.port_bindings["80/tcp"],
        Some(vec![PortBinding { host_ip: String::new(), host_port: "8080".to_string() }])
    );
    assert_eq!(published_ports(h), Ok(vec![(8080, 80, "tcp")]));
    // Written back and read again, nothing changes.
    let again: ContainerCreate = from_json(&to_json(&c)).unwrap();
    assert_eq!(again, c);
}

#[test]
fn cmd_and_entrypoint_as_string_or_list() {
    let c = parse(r#"{"Image":"img","Cmd":"echo hi","Entrypoint":"/bin/sh"}"#);
    assert_eq!(c.cmd, Some(strings(&["echo hi"])));
    assert_eq!(c.entrypoint, Some(strings(&["/bin/sh"])));
    let c = parse(r#"{"Image":"img","Cmd":["/bin/sh","-c","echo hi"],"Entrypoint":[""]}"#);
    assert_eq!(c.cmd, Some(strings(&["/bin/sh", "-c", "echo hi"])));
    assert_eq!(c.entrypoint, Some(strings(&[""])));
    let c = parse(r#"{"Image":"img","Cmd":null,"Entrypoint":[]}"#);
    assert_eq!((c.cmd, c.entrypoint), (None, Some(Vec::new())));
    let c = parse(r#"{"Image":"img"}"#);
    assert_eq!((c.cmd, c.entrypoint), (None, None));
    // A string Cmd written back is a list.
    let c = parse(r#"{"Image":"img","Cmd":"top"}"#);
    assert!(String::from_utf8(to_json(&c)).unwrap().contains(r#""Cmd":["top"]"#));
}

#[test]
fn nulls_and_missing_fields_default() {
    let c = parse(
        r#"{"Image":"img","Env":null,"Labels":null,"ExposedPorts":null,
            "HostConfig":{"PortBindings":null,"Binds":null}}"#,
    );
    assert!(c.env.is_empty() && c.labels.is_empty() && c.exposed_ports.is_empty());
    assert!(c.host_config.port_bindings.is_empty());
    assert_eq!(parse(r#"{"Image":"img","HostConfig":null}"#).host_config, HostConfig::default());
    assert_eq!(parse("{}"), ContainerCreate::default());
    let c = parse(r#"{"Image":"x","ExposedPorts":{"80/tcp":null,"53/udp":{"junk":1}},"Unknown":{"a":[1]}}"#);
    assert_eq!(c.exposed_ports.len(), 2);
    let c = parse(
        r#"{"HostConfig":{"PidsLimit":100,"NanoCpus":500000000,"CpuShares":512,"AutoRemove":true,"ConsoleSize":[24,80]}}"#,
    );
    assert_eq!(c.host_config.pids_limit, Some(100));
    assert_eq!(c.host_config.nano_cpus, 500_000_000);
    assert_eq!(c.host_config.cpu_shares, 512);
    assert!(c.host_config.auto_remove);
    assert_eq!(c.host_config.console_size, [24, 80]);
    let c = parse(r#"{"Labels":{"a":"b"},"StopSignal":"SIGINT","StopTimeout":3,"WorkingDir":"/w","User":"1:1"}"#);
    assert_eq!(c.labels["a"], "b");
    assert_eq!((c.stop_signal.as_str(), c.stop_timeout), ("SIGINT", Some(3)));
    assert_eq!((c.working_dir.as_str(), c.user.as_str()), ("/w", "1:1"));
}

#[test]
fn bad_create_bodies() {
    for (body, wanted) in [
        (r#"{"Image":5}"#, "invalid type: integer `5`, expected a string"),
        (r#"{"Cmd":[1]}"#, "invalid type: integer `1`, expected a string"),
        (r#"{"Cmd":{}}"#, "expected a string or a list of strings"),
        (r#"{"Env":"A=1"}"#, "expected a sequence"),
        (r#"{"HostConfig":{"Memory":"64m"}}"#, "expected i64"),
        (r#"{"Image":"img""#, "EOF while parsing"),
        ("", "EOF while parsing"),
        ("5", "expected struct ContainerCreate"),
    ] {
        let err = from_json::<ContainerCreate>(body.as_bytes()).unwrap_err();
        assert!(err.starts_with("invalid JSON: ") && err.contains(wanted), "{body}: {err}");
    }
}

#[test]
fn port_keys() {
    assert_eq!(port_key(80, "tcp"), "80/tcp");
    assert_eq!(port_key(53, "udp"), "53/udp");
    assert_eq!(parse_port_key("80/tcp"), Some((80, "tcp")));
    assert_eq!(parse_port_key("53/udp"), Some((53, "udp")));
    assert_eq!(parse_port_key("132/sctp"), Some((132, "sctp")));
    assert_eq!(parse_port_key("8080"), Some((8080, "tcp")));
    assert_eq!(parse_port_key("65535/tcp"), Some((65535, "tcp")));
    for bad in ["", "/tcp", "0/tcp", "65536/tcp", "80/TCP", "80/icmp", "8000-8010/tcp", "+80/tcp", "80/", "x/tcp"] {
        assert_eq!(parse_port_key(bad), None, "{bad:?}");
    }
}

/// Port bindings as written in tests: each port key with `(HostIp, HostPort)` pairs.
type Bindings<'a> = &'a [(&'a str, Option<&'a [(&'a str, &'a str)]>)];

fn host_with(bindings: Bindings) -> HostConfig {
    let port_bindings = bindings
        .iter()
        .map(|(key, list)| {
            let list = list.map(|l| {
                l.iter()
                    .map(|(ip, port)| PortBinding { host_ip: ip.to_string(), host_port: port.to_string() })
                    .collect()
            });
            (key.to_string(), list)
        })
        .collect();
    HostConfig { port_bindings, ..Default::default() }
}

#[test]
fn published_port_lists() {
    let h = host_with(&[
        ("80/tcp", Some(&[("", "8080"), ("0.0.0.0", "8081")])),
        ("53/udp", Some(&[("::", "5353")])),
        ("53/tcp", Some(&[("", "5353")])),
        ("443/tcp", None),
        ("22/tcp", Some(&[])),
    ]);
    assert_eq!(
        published_ports(&h),
        Ok(vec![(5353, 53, "tcp"), (5353, 53, "udp"), (8080, 80, "tcp"), (8081, 80, "tcp")])
    );
    assert_eq!(published_ports(&HostConfig::default()), Ok(vec![]));
}

#[test]
fn published_port_errors() {
    let cases: &[(Bindings, &str)] = &[
        (&[("80/tcp", Some(&[("", "")]))], "HostPort must be given for 80/tcp"),
        (&[("80/tcp", Some(&[("", "x")]))], "invalid host port `x` for 80/tcp"),
        (&[("80/tcp", Some(&[("", "0")]))], "invalid host port `0`"),
        (&[("80/tcp", Some(&[("", "65536")]))], "invalid host port `65536`"),
        (&[("80/tcp", Some(&[("", "8080-8081")]))], "invalid host port `8080-8081`"),
        (&[("80/tcp", Some(&[("127.0.0.1", "8080")]))], "publishing on the address 127.0.0.1 is not supported"),
        (&[("80/sctp", Some(&[("", "8080")]))], "protocol sctp is not supported"),
        (&[("80-81/tcp", Some(&[("", "8080")]))], "invalid container port `80-81/tcp`"),
        (
            &[("80/tcp", Some(&[("", "8080")])), ("81/tcp", Some(&[("", "8080")]))],
            "host port 8080/tcp is published twice",
        ),
    ];
    for (bindings, wanted) in cases {
        let err = published_ports(&host_with(bindings)).unwrap_err();
        assert!(err.contains(wanted), "{err}");
    }
    let all = HostConfig { publish_all_ports: true, ..Default::default() };
    assert!(published_ports(&all).unwrap_err().contains("-P"));
}

/// `value` as JSON, compared with `expected` as parsed (so key order does not matter).
fn same_json<T: serde::Serialize>(value: &T, expected: &str) {
    let got: Value = serde_json::from_slice(&to_json(value)).unwrap();
    let want: Value = serde_json::from_str(expected).unwrap();
    assert_eq!(got, want);
}

#[test]
fn small_answers() {
    same_json(&CreateResponse { id: "abc".to_string(), warnings: vec![] }, r#"{"Id":"abc","Warnings":[]}"#);
    same_json(&ErrorResponse::new("No such container: web"), r#"{"message":"No such container: web"}"#);
    same_json(&WaitResponse { status_code: 3, error: None }, r#"{"StatusCode":3}"#);
    same_json(
        &WaitResponse { status_code: -1, error: Some(WaitError { message: "gone".to_string() }) },
        r#"{"StatusCode":-1,"Error":{"Message":"gone"}}"#,
    );
    same_json(&JsonMessage::status("sha256:0123"), r#"{"status":"sha256:0123"}"#);
    same_json(&JsonMessage::stream("Loaded image: img:tag\n"), r#"{"stream":"Loaded image: img:tag\n"}"#);
    same_json(&JsonMessage::error("bad tar"), r#"{"errorDetail":{"message":"bad tar"},"error":"bad tar"}"#);
    same_json(
        &[ImageDeleteItem::untagged("img:tag"), ImageDeleteItem::deleted("sha256:0123")],
        r#"[{"Untagged":"img:tag"},{"Deleted":"sha256:0123"}]"#,
    );
    assert_eq!(json_line(&JsonMessage::status("x")), b"{\"status\":\"x\"}\n");
}

#[test]
fn container_summary_names() {
    let mut networks = BTreeMap::new();
    networks
        .insert("bridge".to_string(), EndpointSettings { ip_address: "10.0.2.15".to_string(), ..Default::default() });
    let s = ContainerSummary {
        id: "4e1c".to_string(),
        names: strings(&["/web"]),
        image: "img:tag".to_string(),
        image_id: "sha256:5a3f".to_string(),
        command: "httpd -f".to_string(),
        created: 1_795_428_000,
        ports: vec![
            Port {
                ip: Some("0.0.0.0".to_string()),
                private_port: 80,
                public_port: Some(8080),
                kind: "tcp".to_string(),
            },
            Port { ip: None, private_port: 53, public_port: None, kind: "udp".to_string() },
        ],
        size_rw: None,
        size_root_fs: None,
        labels: BTreeMap::new(),
        state: "running".to_string(),
        status: "Up 5 seconds".to_string(),
        host_config: SummaryHostConfig { network_mode: "default".to_string() },
        network_settings: SummaryNetworkSettings { networks },
        mounts: vec![],
    };
    same_json(
        &s,
        r#"{"Id":"4e1c","Names":["/web"],"Image":"img:tag","ImageID":"sha256:5a3f","Command":"httpd -f",
            "Created":1795428000,
            "Ports":[{"IP":"0.0.0.0","PrivatePort":80,"PublicPort":8080,"Type":"tcp"},{"PrivatePort":53,"Type":"udp"}],
            "Labels":{},"State":"running","Status":"Up 5 seconds","HostConfig":{"NetworkMode":"default"},
            "NetworkSettings":{"Networks":{"bridge":{"IPAMConfig":null,"Aliases":[],"DriverOpts":{},"DNSNames":[],"NetworkID":"","EndpointID":"","Gateway":"",
              "IPAddress":"10.0.2.15","IPPrefixLen":0,"MacAddress":""}}},
            "Mounts":[]}"#,
    );
    let with_size = ContainerSummary { size_rw: Some(12), ..s };
    let json: Value = serde_json::from_slice(&to_json(&with_size)).unwrap();
    assert_eq!(json["SizeRw"], 12);
}

#[test]
fn container_inspect_names() {
    let create = parse(CLI_CREATE);
    let mut ports = BTreeMap::new();
    ports.insert(
        "80/tcp".to_string(),
        Some(vec![PortBinding { host_ip: "0.0.0.0".to_string(), host_port: "8080".to_string() }]),
    );
    ports.insert("81/tcp".to_string(), None);
    let inspect = ContainerInspect {
        id: "4e1c".to_string(),
        created: "2026-11-23T10:00:00.5Z".to_string(),
        path: "cmd".to_string(),
        state: ContainerState {
            status: "exited".to_string(),
            oom_killed: true,
            exit_code: 137,
            started_at: "2026-11-23T10:00:01Z".to_string(),
            finished_at: "0001-01-01T00:00:00Z".to_string(),
            ..Default::default()
        },
        name: "/web".to_string(),
        host_config: create.host_config.clone(),
        config: create.config(),
        network_settings: NetworkSettings { ports, ..Default::default() },
        ..Default::default()
    };
    let json: Value = serde_json::from_slice(&to_json(&inspect)).unwrap();
    for key in [
        "Id",
        "Created",
        "Path",
        "Args",
        "State",
        "Image",
        "ResolvConfPath",
        "HostnamePath",
        "HostsPath",
        "LogPath",
        "Name",
        "RestartCount",
        "Driver",
        "Platform",
        "MountLabel",
        "ProcessLabel",
        "AppArmorProfile",
        "ExecIDs",
        "HostConfig",
        "Mounts",
        "Config",
        "NetworkSettings",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
    let state: Value = serde_json::from_str(
        r#"{"Status":"exited","Running":false,"Paused":false,"Restarting":false,"OOMKilled":true,"Dead":false,
            "Pid":0,"ExitCode":137,"Error":"","StartedAt":"2026-11-23T10:00:01Z","FinishedAt":"0001-01-01T00:00:00Z"}"#,
    )
    .unwrap();
    assert_eq!(json["State"], state);
    assert_eq!(json["Config"]["Tty"], false);
    assert_eq!(json["Config"]["Cmd"], serde_json::json!(["cmd"]));
    assert_eq!(json["Config"]["Entrypoint"], Value::Null);
    assert_eq!(json["Config"]["Env"], serde_json::json!(["FOO=bar"]));
    assert_eq!(json["Config"]["ExposedPorts"], serde_json::json!({"80/tcp": {}}));
    assert_eq!(json["Config"]["AttachStdout"], true);
    assert!(json["Config"].get("StopSignal").is_none());
    assert_eq!(json["HostConfig"]["Memory"], 67_108_864);
    assert_eq!(json["HostConfig"]["PidsLimit"], Value::Null);
    assert_eq!(json["HostConfig"]["PortBindings"]["80/tcp"][0]["HostPort"], "8080");
    assert_eq!(
        json["NetworkSettings"]["Ports"],
        serde_json::json!({"80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}], "81/tcp": null})
    );
    for key in ["IPAddress", "IPPrefixLen", "Gateway", "MacAddress", "Networks", "SandboxID", "Bridge"] {
        assert!(json["NetworkSettings"].get(key).is_some(), "{key}");
    }
    let back: ContainerInspect = from_json(&to_json(&inspect)).unwrap();
    assert_eq!(back, inspect);
}

#[test]
fn image_names() {
    let summary = ImageSummary {
        id: "sha256:5a3f".to_string(),
        repo_tags: strings(&["img:tag"]),
        created: 1_795_428_000,
        size: 1024,
        shared_size: -1,
        containers: -1,
        ..Default::default()
    };
    same_json(
        &summary,
        r#"{"Id":"sha256:5a3f","ParentId":"","RepoTags":["img:tag"],"RepoDigests":[],"Created":1795428000,
            "Size":1024,"SharedSize":-1,"Labels":{},"Containers":-1}"#,
    );
    let json: Value = serde_json::from_slice(&to_json(&ImageSummary { virtual_size: Some(1024), ..summary })).unwrap();
    assert_eq!(json["VirtualSize"], 1024);
    let inspect = ImageInspect {
        id: "sha256:5a3f".to_string(),
        created: "2026-11-23T10:00:00Z".to_string(),
        architecture: "amd64".to_string(),
        os: "linux".to_string(),
        config: ImageConfig { cmd: Some(strings(&["sh"])), ..Default::default() },
        root_fs: RootFs { kind: "layers".to_string(), layers: strings(&["sha256:77aa"]) },
        ..Default::default()
    };
    same_json(
        &inspect,
        r#"{"Id":"sha256:5a3f","RepoTags":[],"RepoDigests":[],"Parent":"","Comment":"","Created":"2026-11-23T10:00:00Z",
            "Author":"","Config":{"Cmd":["sh"],"Env":[],"WorkingDir":"","Entrypoint":null,"User":"","Labels":{}},
            "Architecture":"amd64","Os":"linux","Size":0,"RootFS":{"Type":"layers","Layers":["sha256:77aa"]}}"#,
    );
}

#[test]
fn version_names() {
    let v = Version {
        platform: Platform { name: "berth".to_string() },
        version: "0.1.0".to_string(),
        api_version: "1.50".to_string(),
        min_api_version: "1.30".to_string(),
        os: "linux".to_string(),
        arch: "amd64".to_string(),
        ..Default::default()
    }
    .with_engine_component();
    let json: Value = serde_json::from_slice(&to_json(&v)).unwrap();
    for key in [
        "Version",
        "ApiVersion",
        "MinAPIVersion",
        "GitCommit",
        "GoVersion",
        "Os",
        "Arch",
        "KernelVersion",
        "BuildTime",
        "Experimental",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
    assert_eq!(json["Platform"]["Name"], "berth");
    assert_eq!(json["Components"][0]["Name"], "Engine");
    assert_eq!(json["Components"][0]["Version"], "0.1.0");
    assert_eq!(json["Components"][0]["Details"]["ApiVersion"], "1.50");
    assert_eq!(json["Components"][0]["Details"]["MinAPIVersion"], "1.30");
    assert_eq!(json["Components"][0]["Details"]["Os"], "linux");
    assert_eq!(json["Components"][0]["Details"]["Experimental"], "false");
}

#[test]
fn info_names() {
    let json: Value =
        serde_json::from_slice(&to_json(&Info { ncpu: 1, mem_total: 1 << 30, ..Default::default() })).unwrap();
    for key in [
        "ID",
        "Containers",
        "ContainersRunning",
        "ContainersPaused",
        "ContainersStopped",
        "Images",
        "Driver",
        "DriverStatus",
        "Plugins",
        "MemoryLimit",
        "SwapLimit",
        "CpuCfsPeriod",
        "CpuCfsQuota",
        "CPUShares",
        "CPUSet",
        "PidsLimit",
        "OomKillDisable",
        "IPv4Forwarding",
        "Debug",
        "NFd",
        "NGoroutines",
        "SystemTime",
        "LoggingDriver",
        "CgroupDriver",
        "CgroupVersion",
        "NEventsListener",
        "KernelVersion",
        "OperatingSystem",
        "OSVersion",
        "OSType",
        "Architecture",
        "IndexServerAddress",
        "NCPU",
        "MemTotal",
        "DockerRootDir",
        "HttpProxy",
        "HttpsProxy",
        "NoProxy",
        "Name",
        "Labels",
        "ExperimentalBuild",
        "ServerVersion",
        "Runtimes",
        "DefaultRuntime",
        "Swarm",
        "LiveRestoreEnabled",
        "Isolation",
        "InitBinary",
        "ContainerdCommit",
        "RuncCommit",
        "InitCommit",
        "SecurityOptions",
        "Warnings",
    ] {
        assert!(json.get(key).is_some(), "{key}");
    }
    assert_eq!(json["NCPU"], 1);
    assert_eq!(json["Swarm"]["LocalNodeState"], "inactive");
    assert_eq!(json["Swarm"]["NodeID"], "");
    assert_eq!(json["ContainerdCommit"], serde_json::json!({"ID": ""}));
    assert_eq!(json["Plugins"], serde_json::json!({"Volume": [], "Network": [], "Authorization": [], "Log": []}));
}

#[test]
fn stats_names() {
    let mut networks = BTreeMap::new();
    networks.insert(
        "eth0".to_string(),
        NetworkStats { rx_bytes: 1, tx_bytes: 2, rx_packets: 3, tx_packets: 4, ..Default::default() },
    );
    let stats = Stats {
        read: "2026-11-23T10:00:01Z".to_string(),
        preread: "2026-11-23T10:00:00Z".to_string(),
        pids_stats: PidsStats { current: 3, limit: None },
        cpu_stats: CpuStats {
            cpu_usage: CpuUsage { total_usage: 10, usage_in_kernelmode: 4, usage_in_usermode: 6 },
            system_cpu_usage: 100,
            online_cpus: 1,
            ..Default::default()
        },
        memory_stats: MemoryStats { usage: 5, limit: 64, ..Default::default() },
        name: "/web".to_string(),
        id: "4e1c".to_string(),
        networks,
        ..Default::default()
    };
    same_json(
        &stats,
        r#"{"read":"2026-11-23T10:00:01Z","preread":"2026-11-23T10:00:00Z","pids_stats":{"current":3},
            "blkio_stats":{"io_service_bytes_recursive":null},"num_procs":0,"storage_stats":{},
            "cpu_stats":{"cpu_usage":{"total_usage":10,"usage_in_kernelmode":4,"usage_in_usermode":6},
              "system_cpu_usage":100,"online_cpus":1,
              "throttling_data":{"periods":0,"throttled_periods":0,"throttled_time":0}},
            "precpu_stats":{"cpu_usage":{"total_usage":0,"usage_in_kernelmode":0,"usage_in_usermode":0},
              "system_cpu_usage":0,"online_cpus":0,
              "throttling_data":{"periods":0,"throttled_periods":0,"throttled_time":0}},
            "memory_stats":{"usage":5,"stats":{},"limit":64},
            "name":"/web","id":"4e1c",
            "networks":{"eth0":{"rx_bytes":1,"rx_packets":3,"rx_errors":0,"rx_dropped":0,
              "tx_bytes":2,"tx_packets":4,"tx_errors":0,"tx_dropped":0}}}"#,
    );
}

#[test]
fn bodies_nested_too_deep_are_refused_before_parsing() {
    let deep = alloc::format!(r#"{{"Image":"x","Foo":{}{}}}"#, "[".repeat(100), "]".repeat(100));
    let e = from_json::<ContainerCreate>(deep.as_bytes()).unwrap_err();
    assert!(e.contains("nested more than 32 levels"), "{e}");
    assert!(from_json::<ContainerCreate>(br#"{"Image":"x","Foo":[[1]]}"#).is_ok());
}
