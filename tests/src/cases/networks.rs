//! User-defined networks, driven by the docker CLI: containers on one network reach
//! each other by name, alias and address; containers on another cannot reach them
//! until connected; the default bridge reaches by address.

use super::agent::{CLI, expect, with_busybox};
use crate::docker::Docker;
use crate::qemu::Vm;

/// `docker run --rm ... bb /bin/busybox sh -c SCRIPT` on `network`; its outcome.
fn sh_on(docker: &Docker, network: &str, script: &str) -> Result<crate::docker::Output, String> {
    docker.run(&["run", "--rm", "--network", network, "bb", "/bin/busybox", "sh", "-c", script], CLI)
}

/// `/hostname` from port 80 of `host` (a name or an address), fetched by a
/// container on `network` as programs do (musl's getaddrinfo, then a connection:
/// `net-probe fetch`; busybox's static glibc resolves no names without glibc's
/// libraries in the image); the page, or the failure.
fn fetch(docker: &Docker, network: &str, host: &str) -> Result<Result<String, String>, String> {
    let args = [
        "run",
        "--rm",
        "--network",
        network,
        "probe",
        crate::netprobe::PATH_IN_IMAGE,
        "fetch",
        host,
        "80",
        "/hostname",
    ];
    let out = docker.run(&args, CLI)?;
    Ok(if out.code == 0 { Ok(out.stdout) } else { Err(out.describe(&args)) })
}

/// `docker [network] inspect -f FORMAT NAME`, trimmed.
fn inspect(docker: &Docker, what: &[&str], format: &str) -> Result<String, String> {
    let (name, command) = what.split_last().ok_or("nothing to inspect")?;
    let args = [command, &["-f", format, name]].concat();
    Ok(docker.ok(&args, CLI)?.trim().to_string())
}

/// Networks made, listed, inspected, joined at `run` and by `connect`, left by
/// `disconnect`, refused removal while used, removed; names resolved through
/// 127.0.0.11; a network cut off from the containers of another.
pub fn user_defined_networks(a: &crate::artifacts::Artifacts) -> Result<(), String> {
    with_busybox(a, "agent-networks", |vm, docker, _| {
        docker.ok(&["import", &a.test_image.to_string_lossy(), "probe"], CLI)?;
        docker.ok(&["network", "create", "front"], CLI)?;
        docker.ok(&["network", "create", "--label", "team=b", "back"], CLI)?;
        let names = docker.ok(&["network", "ls", "--format", "{{.Name}}"], CLI)?;
        for want in ["bridge", "host", "none", "front", "back"] {
            expect(vm, names.lines().any(|l| l == want), &format!("network ls lacks {want}:\n{names}"))?;
        }
        let labelled = docker.ok(&["network", "ls", "-q", "--filter", "label=team=b"], CLI)?;
        let back_id = inspect(docker, &["network", "inspect", "back"], "{{.Id}}")?;
        expect(vm, back_id.starts_with(labelled.trim()) && labelled.lines().count() == 1, "ls --filter label")?;
        let subnet = inspect(docker, &["network", "inspect", "front"], "{{(index .IPAM.Config 0).Subnet}}")?;
        expect(vm, subnet == "172.18.0.0/16", &format!("front's subnet: {subnet}"))?;

        let web = ["run", "-d", "--name", "web", "--network", "front", "--network-alias", "site", "bb"];
        docker.ok(&[&web[..], &["/bin/busybox", "httpd", "-f", "-p", "80", "-h", "/etc"]].concat(), CLI)?;
        let host = inspect(docker, &["inspect", "web"], "{{.Config.Hostname}}")?;
        let ip = inspect(docker, &["inspect", "web"], "{{.NetworkSettings.Networks.front.IPAddress}}")?;
        expect(vm, ip == "172.18.0.2", &format!("web's address on front: {ip:?}"))?;
        let members = inspect(
            docker,
            &["network", "inspect", "front"],
            "{{range .Containers}}{{.Name}} {{.IPv4Address}}{{end}}",
        )?;
        expect(vm, members == "web 172.18.0.2/16", &format!("front's containers: {members:?}"))?;

        // By name, alias and address from the same network.
        for name in ["web", "site", "WEB", &ip] {
            let page = fetch(docker, "front", name)?;
            expect(vm, page.as_deref().map(str::trim) == Ok(host.as_str()), &format!("{name} from front: {page:?}"))?;
        }
        let lookup = sh_on(docker, "front", "nslookup site 127.0.0.11")?;
        expect(vm, lookup.stdout.contains(&ip), &format!("nslookup site: {lookup:?}"))?;
        let resolv = sh_on(docker, "front", "head -1 /etc/resolv.conf; grep -c $(hostname) /etc/hosts")?;
        expect(vm, resolv.stdout == "nameserver 127.0.0.11\n1\n", &format!("resolv.conf and hosts: {resolv:?}"))?;

        // Not from another network, by name or by address; until connected to it.
        for name in ["web", &ip] {
            let page = fetch(docker, "back", name)?;
            expect(vm, page.is_err(), &format!("{name} answered a container on another network: {page:?}"))?;
        }
        docker.ok(&["network", "connect", "--alias", "backweb", "back", "web"], CLI)?;
        let page = fetch(docker, "back", "backweb")?;
        expect(vm, page.as_deref().map(str::trim) == Ok(host.as_str()), &format!("after connect: {page:?}"))?;
        docker.ok(&["network", "disconnect", "back", "web"], CLI)?;
        let page = fetch(docker, "back", "web")?;
        expect(vm, page.is_err(), &format!("after disconnect: {page:?}"))?;

        // The default bridge: by address.
        docker.ok(
            &["run", "-d", "--name", "plain", "bb", "/bin/busybox", "httpd", "-f", "-p", "80", "-h", "/etc"],
            CLI,
        )?;
        let plain_ip = inspect(docker, &["inspect", "plain"], "{{.NetworkSettings.IPAddress}}")?;
        expect(vm, plain_ip.starts_with("172.17.0."), &format!("plain's address: {plain_ip:?}"))?;
        let page = fetch(docker, "bridge", &plain_ip)?;
        expect(vm, page.is_ok(), &format!("the default bridge by address: {page:?}"))?;
        let page = fetch(docker, "front", &plain_ip)?;
        expect(vm, page.is_err(), &format!("the default bridge from front: {page:?}"))?;
        // Connected to a network that resolves names, a running container's
        // `/etc/resolv.conf` names the resolver, and it finds the others by name.
        docker.ok(&["network", "connect", "front", "plain"], CLI)?;
        let resolv = docker.ok(&["exec", "plain", "head", "-1", "/etc/resolv.conf"], CLI)?;
        expect(vm, resolv == "nameserver 127.0.0.11\n", &format!("plain's resolv.conf after connect: {resolv:?}"))?;
        let lookup = docker.ok(&["exec", "plain", "nslookup", "site"], CLI)?;
        expect(vm, lookup.contains(&ip), &format!("plain looks site up after connect: {lookup:?}"))?;
        docker.ok(&["network", "disconnect", "front", "plain"], CLI)?;
        let resolv = docker.ok(&["exec", "plain", "cat", "/etc/resolv.conf"], CLI)?;
        expect(vm, !resolv.contains("127.0.0.11"), &format!("plain's resolv.conf after disconnect: {resolv:?}"))?;

        // Another container's port space (`container:web`): its loopback is web's.
        let args = ["run", "--rm", "--network", "container:web", "probe", crate::netprobe::PATH_IN_IMAGE, "fetch"];
        let shared = docker.run(&[&args[..], &["127.0.0.1", "80", "/hostname"]].concat(), CLI)?;
        expect(vm, shared.code == 0 && shared.stdout.trim() == host, &format!("container:web: {shared:?}"))?;
        let published = docker.run(&["create", "--network", "container:web", "-p", "81:80", "bb", "true"], CLI)?;
        expect(vm, published.code != 0 && published.stderr.contains("conflicting options"), "container: with -p")?;

        // Removal: refused while used, then done.
        let refused = docker.run(&["network", "rm", "front"], CLI)?;
        let ok = refused.code != 0 && refused.stderr.contains("active endpoints");
        expect(vm, ok, &format!("rm of a network in use: {}", refused.describe(&["network", "rm"])))?;
        docker.ok(&["rm", "-f", "web"], CLI)?;
        docker.ok(&["network", "rm", "front"], CLI)?;
        let pruned = docker.ok(&["network", "prune", "-f"], CLI)?;
        expect(vm, pruned.contains("back"), &format!("network prune: {pruned:?}"))?;
        let names = docker.ok(&["network", "ls", "--format", "{{.Name}}"], CLI)?;
        expect(vm, !names.contains("front") && !names.contains("back"), &format!("left: {names}"))?;
        // (dockerd answers 404, which the CLI takes for a missing image: it tries a pull.)
        let missing = docker.run(&["create", "--network", "front", "bb", "true"], CLI)?;
        expect(vm, missing.code != 0, &format!("create on a removed network: {}", missing.describe(&["create"])))?;
        check_builtin(vm, docker)
    })
}

/// `bridge`, `host` and `none` cannot be removed.
fn check_builtin(vm: &Vm, docker: &Docker) -> Result<(), String> {
    let out = docker.run(&["network", "rm", "bridge"], CLI)?;
    expect(vm, out.code != 0 && out.stderr.contains("pre-defined"), &format!("rm bridge: {}", out.describe(&["rm"])))
}

/// Networks and containers' places on them are in the store: after a power cut the
/// networks come back with their subnets, a container its policy starts again keeps
/// its addresses, and is found by its aliases on each of its networks.
pub fn networks_survive_a_power_cut(a: &crate::artifacts::Artifacts) -> Result<(), String> {
    let test = "store-networks";
    // Not the test's own scratch directory: each boot starts that afresh.
    let dir = a.scratch("store-networks-disk");
    std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
    let disk = dir.join("disk.img");
    berth_image::disk::data_disk(&disk, 64 << 20).map_err(|e| e.to_string())?;
    let agent = crate::qemu::free_port();
    let docker = Docker::new(agent, &dir.join("docker-config"), Some(crate::docker::TEST_TOKEN))?;
    let boot = || super::store::boot_with(a, test, &disk, agent, None, |_| {});

    let vm = boot()?;
    docker.ok(&["import", &super::agent::busybox_tar(&dir)?.to_string_lossy(), "bb"], CLI)?;
    docker.ok(&["import", &a.test_image.to_string_lossy(), "probe"], CLI)?;
    docker.ok(&["network", "create", "--subnet", "10.77.0.0/16", "front"], CLI)?;
    docker.ok(&["network", "create", "back"], CLI)?;
    let web = ["run", "-d", "--name", "web", "--restart", "always", "--network", "front", "--network-alias", "site"];
    docker.ok(&[&web[..], &["bb", "/bin/busybox", "httpd", "-f", "-p", "80", "-h", "/etc"]].concat(), CLI)?;
    docker.ok(&["network", "connect", "--alias", "bweb", "--ip", "172.18.0.9", "back", "web"], CLI)?;
    let addresses = "{{range $n, $e := .NetworkSettings.Networks}}{{$n}}={{$e.IPAddress}} {{end}}";
    let before = inspect(&docker, &["inspect", "web"], addresses)?;
    expect(&vm, before == "back=172.18.0.9 front=10.77.0.2", &format!("web's addresses: {before:?}"))?;
    drop(vm); // SIGKILL: the power goes

    let vm = boot()?;
    let subnet = inspect(&docker, &["network", "inspect", "front"], "{{(index .IPAM.Config 0).Subnet}}")?;
    expect(&vm, subnet == "10.77.0.0/16", &format!("front's subnet after the cut: {subnet:?}"))?;
    let after = inspect(&docker, &["inspect", "web"], addresses)?;
    expect(&vm, after == before, &format!("web's addresses after the cut: {after:?}"))?;
    let host = inspect(&docker, &["inspect", "web"], "{{.Config.Hostname}}")?;
    for (network, name) in [("front", "site"), ("back", "bweb")] {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            let page = fetch(&docker, network, name)?;
            if page.as_deref().map(str::trim) == Ok(host.as_str()) {
                break;
            }
            let late = std::time::Instant::now() > deadline;
            expect(&vm, !late, &format!("{name} on {network} after the cut: {page:?}"))?;
            std::thread::sleep(std::time::Duration::from_millis(300));
        }
    }
    let refused = docker.run(&["network", "rm", "front"], CLI)?;
    expect(&vm, refused.code != 0, "front, still used, was removed after the cut")?;
    let _ = std::fs::write(dir.join("console.log"), vm.output());
    Ok(())
}
