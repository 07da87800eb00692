//! Reading a container boot module's command line, and the environment a container's
//! program starts with.

use berth_config::{
    ContainerConfig, DEFAULT_PATH, Echo, format_cpuset, parse_cpuset, parse_module_cmdline, parse_size,
};

#[test]
fn settings_before_the_command() {
    let c = parse_module_cmdline(
        r#"container name=web memory=64m pids=100 cpus=0.5 cpu-shares=512 env=A=1 env="B=two words" workdir=/srv hostname=h timeout=30 echo=stderr publish=8080:80,53:53/udp -- /bin/busybox httpd -f -p "8 0""#,
    )
    .unwrap();
    assert_eq!(c.name.as_deref(), Some("web"));
    assert_eq!(c.limits.memory, 64 << 20);
    assert_eq!((c.limits.pids, c.limits.cpu_millis, c.limits.cpu_shares), (100, 500, 512));
    assert_eq!(c.env, ["A=1", "B=two words"]);
    assert_eq!((c.workdir.as_str(), c.hostname.as_str(), c.timeout_secs), ("/srv", "h", Some(30)));
    assert_eq!(c.echo, Echo::Stderr);
    assert_eq!(c.publish.len(), 2);
    assert_eq!(c.cmd, ["/bin/busybox", "httpd", "-f", "-p", "8 0"]);

    let plain = parse_module_cmdline("container -- /bin/true").unwrap();
    assert_eq!(plain.limits, ContainerConfig::default().limits);
    assert_eq!(plain.echo, Echo::All);
}

#[test]
fn mistakes_are_named() {
    for (line, says) in [
        ("container name=x /bin/true", "no `--`"),
        ("image x -- /bin/true", "starts with `container`"),
        ("container --", "no command"),
        ("container memory=12 -- /bin/true", "bad value for memory"),
        ("container cpus=0 -- /bin/true", "bad value for cpus"),
        ("container cpu-shares=1 -- /bin/true", "bad value for cpu-shares"),
        ("container pids=0 -- /bin/true", "bad value for pids"),
        ("container colour=red -- /bin/true", "unknown setting `colour`"),
        ("container justaword -- /bin/true", "is not key=value"),
        ("container publish=99999:80 -- /bin/true", "publish:"),
    ] {
        let e = parse_module_cmdline(line).unwrap_err();
        assert!(e.contains(says), "{line}: {e}");
    }
}

#[test]
fn sizes_and_the_starting_environment() {
    assert_eq!(parse_size("512"), Some(512));
    assert_eq!(parse_size("4k"), Some(4096));
    assert_eq!(parse_size(" 2G "), Some(2 << 30));
    assert_eq!(parse_size("10b"), Some(10));
    assert_eq!(parse_size("x"), None);
    assert_eq!(parse_size("99999999999g"), None, "overflow");

    let c = ContainerConfig { env: vec!["A=1".into()], ..ContainerConfig::default() };
    assert_eq!(c.full_env("box"), [format!("PATH={DEFAULT_PATH}"), "HOSTNAME=box".into(), "A=1".into()]);
    let own = ContainerConfig { env: vec!["PATH=/x".into(), "HOSTNAME=me".into()], ..ContainerConfig::default() };
    assert_eq!(own.full_env("box"), ["PATH=/x", "HOSTNAME=me"]);
}

#[test]
fn cpu_lists_parse_as_docker_writes_them() {
    assert_eq!(parse_cpuset("0"), Some(0b1));
    assert_eq!(parse_cpuset("0-3"), Some(0b1111));
    assert_eq!(parse_cpuset("1,4-5"), Some(0b11_0010));
    assert_eq!(parse_cpuset("63"), Some(1 << 63));
    for bad in ["", "a", "3-1", "64", "0-64", "1,,2", "-1"] {
        assert_eq!(parse_cpuset(bad), None, "{bad:?}");
    }
    for list in ["0", "0-3", "1,4-5", "0,2,4", "63", "0-63"] {
        assert_eq!(format_cpuset(parse_cpuset(list).unwrap()), list);
    }
    assert_eq!(format_cpuset(0), "");
    let c = parse_module_cmdline("container cpuset=1 -- /bin/true").unwrap();
    assert_eq!(c.limits.cpuset, 0b10);
    assert!(parse_module_cmdline("container cpuset=x -- /bin/true").is_err());
}
