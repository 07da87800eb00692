//! Networking: servers in containers reached through published ports under load, port
//! spaces kept apart, connections out to the host, socket errno values, the legacy
//! virtio transport and a static address.

use super::run::{Boot, finish, start};
use crate::artifacts::Artifacts;
use crate::http::get;
use crate::netprobe::{GUEST_HOST, net_probe_command, verdict};
use crate::netserver::NetServer;
use crate::qemu::{Forward, Vm, free_port};
use crate::runner::seconds;
use berth_image::rootfs::{self, Rootfs};
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::{Duration, Instant};

/// Sequential requests in a load test.
const SEQUENTIAL: usize = 1000;
/// Concurrent clients in a load test.
const CLIENTS: usize = 16;
/// Requests each concurrent client makes.
const PER_CLIENT: usize = 25;

/// Page contents the web servers answer with: small, and several segments long.
struct Pages {
    a: Vec<u8>,
    b: Vec<u8>,
    big: Vec<u8>,
}

fn pages() -> Pages {
    let big = crate::http::sample_page(96 * 1024);
    Pages { a: b"<h1>site A</h1>\n".to_vec(), b: b"<h1>site B</h1>\n".to_vec(), big }
}

/// The test image plus web roots `/www/a` (index.html "site A", big.bin) and `/www/b`.
fn web_image(a: &Artifacts, test: &str) -> Result<PathBuf, String> {
    let p = pages();
    let mut image: Rootfs = rootfs::busybox_rootfs(&rootfs::system_busybox()).map_err(|e| e.to_string())?;
    image.copy("usr/bin/rust-probe", &a.dir.join("userland/rust-probe"), 0o755).map_err(|e| e.to_string())?;
    image.dir("www", 0o755).dir("www/a", 0o755).dir("www/b", 0o755);
    image.file("www/a/index.html", p.a, 0o644).file("www/a/big.bin", p.big, 0o644);
    image.file("www/b/index.html", p.b, 0o644);
    let path = a.dir.join("test-scratch").join(format!("{test}-web.tar"));
    image.write(&path).map_err(|e| e.to_string())?;
    Ok(path)
}

/// Waits until `url` answers (the server may still be starting).
fn wait_for(vm: &Vm, url: &str, timeout: Duration) -> Result<(), String> {
    let deadline = Instant::now() + timeout;
    loop {
        match get(url) {
            Ok(_) => return Ok(()),
            Err(e) if Instant::now() >= deadline => return Err(vm.failure(&format!("{url} never answered: {e}"))),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// `SEQUENTIAL` requests one after another, then `CLIENTS` clients at once; every
/// body must be `expected`. Run twice by each load test (see `serve_under_load`).
fn load(vm: &Vm, url: &str, expected: &[u8]) -> Result<(), String> {
    let check = |body: Vec<u8>, what: &str| {
        if body == expected {
            Ok(())
        } else {
            Err(vm.failure(&format!(
                "{what}: got {} bytes that differ from the {} expected",
                body.len(),
                expected.len()
            )))
        }
    };
    for i in 0..SEQUENTIAL {
        check(get(url).map_err(|e| vm.failure(&format!("sequential request {i}: {e}")))?, "sequential")?;
    }
    let results: Vec<Result<(), String>> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..CLIENTS)
            .map(|c| {
                s.spawn(move || {
                    for i in 0..PER_CLIENT {
                        let body = get(url).map_err(|e| format!("client {c} request {i}: {e}"))?;
                        if body != expected {
                            return Err(format!("client {c} request {i}: {} bytes that differ", body.len()));
                        }
                    }
                    Ok(())
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or_else(|_| Err("client panicked".into()))).collect()
    });
    match results.into_iter().find(Result::is_err) {
        Some(Err(e)) => Err(vm.failure(&format!("concurrent clients: {e}"))),
        _ => Ok(()),
    }
}

/// The kernel's counts once no connection is still closing.
fn settled_stats(vm: &mut Vm) -> Result<HashMap<String, u64>, String> {
    let deadline = Instant::now() + seconds(20);
    loop {
        let stats = vm.stats(seconds(10))?;
        if stats.get("orphans") == Some(&0) || Instant::now() >= deadline {
            return Ok(stats);
        }
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// Kernel counts after a load, once closing connections are gone, compared with the
/// counts before: sockets, ports and memory must be back where they were.
fn expect_no_leak(vm: &mut Vm, before: &HashMap<String, u64>) -> Result<(), String> {
    let deadline = Instant::now() + seconds(20);
    loop {
        let after = vm.stats(seconds(10))?;
        let n = |m: &HashMap<String, u64>, k: &str| m.get(k).copied().unwrap_or(u64::MAX);
        let same = ["sockets", "listeners", "listener_sockets", "tcp_ports", "udp_ports", "orphans"]
            .iter()
            .all(|k| n(&after, k) == n(before, k));
        let heap_growth = n(&after, "heap_bytes").saturating_sub(n(before, "heap_bytes"));
        // Frames the kernel uses for itself: not caches (stacks kept for reuse, empty
        // heap pages, shared image pages) and not the containers' memory (which their
        // programs' own caches, such as a C library's cache of thread stacks, grow).
        let in_use = |m: &HashMap<String, u64>| {
            n(m, "frames_used")
                .saturating_sub(n(m, "frames_cached"))
                .saturating_sub(n(m, "page_cache_pages"))
                .saturating_sub(n(m, "container_bytes") / 4096)
        };
        let frame_growth = in_use(&after).saturating_sub(in_use(before));
        // Tables that grow to their high-water mark (the socket set, maps, the page
        // tables of the kernel's heap and stack windows) may still settle a little
        // higher; a leak of 48 bytes or one frame per request over the 1,400 requests
        // would not fit in this.
        if same && heap_growth <= 64 * 1024 && frame_growth <= 32 {
            return Ok(());
        }
        if Instant::now() >= deadline {
            // What is left, on the console for the failure report: the sockets and
            // what each CPU runs.
            for command in ["sockets", "sched", "ps", "ps web"] {
                let _ = vm.send_line(command);
            }
            std::thread::sleep(Duration::from_secs(1));
            return Err(vm.failure(&format!(
                "kernel counts did not return to where they were: before {before:?}\nafter {after:?} (heap +{heap_growth} bytes, +{frame_growth} frames)"
            )));
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

/// A VM with a network device and `forwards` whose containers are `containers`;
/// waits for `ready`.
fn start_net(
    a: &Artifacts,
    test: &str,
    containers: &[Boot],
    cmdline: &str,
    forwards: Vec<Forward>,
    legacy: bool,
    memory_mib: u32,
) -> Result<Vm, String> {
    let vm = start(a, test, containers, cmdline, |c| {
        c.network = Some(forwards);
        c.legacy_virtio = legacy;
        c.memory_mib = memory_mib;
    })?;
    vm.wait_printed("berth: ready", seconds(60))?;
    Ok(vm)
}

fn save_console(a: &Artifacts, test: &str, vm: &Vm) {
    let _ = std::fs::write(a.dir.join("test-scratch").join(test).join("console.log"), vm.output());
}

/// How the VM of [`serve_image_under_load`] boots.
pub struct ServerVm<'a> {
    /// Guest memory.
    pub memory_mib: u32,
    /// Kernel command line.
    pub cmdline: &'a str,
}

/// A server in a container under load through its published port; no sockets or
/// memory leak in the kernel afterwards.
fn serve_under_load(a: &Artifacts, test: &str, command: &str, path: &str, expected: &[u8]) -> Result<(), String> {
    let image = web_image(a, test)?;
    serve_image_under_load(a, test, &image, ServerVm { memory_mib: 512, cmdline: "" }, command, path, expected)
}

/// [`serve_under_load`] with a server from `image` in a VM of `memory_mib`.
pub fn serve_image_under_load(
    a: &Artifacts,
    test: &str,
    image: &std::path::Path,
    vm: ServerVm,
    command: &str,
    path: &str,
    expected: &[u8],
) -> Result<(), String> {
    let ServerVm { memory_mib, cmdline } = vm;
    let host = free_port();
    let web = Boot::new(image, "web", "publish=8080:80", command);
    let mut vm = start_net(a, test, &[web], cmdline, vec![Forward { host, guest: 8080 }], false, memory_mib)?;
    let result = (|| {
        let url = format!("http://127.0.0.1:{host}{path}");
        wait_for(&vm, &url, seconds(60))?;
        // The first load fills the kernel's caches and high-water marks (thread
        // stacks, heap, socket table); a second, identical load must leave the
        // counts where the first left them, or something leaks per request.
        load(&vm, &url, expected)?;
        let before = settled_stats(&mut vm)?;
        load(&vm, &url, expected)?;
        expect_no_leak(&mut vm, &before)
    })();
    save_console(a, test, &vm);
    result
}

/// Debian's `busybox httpd` serves a file to a real HTTP client: 1000 sequential
/// requests and 16 concurrent clients.
pub fn busybox_httpd(a: &Artifacts) -> Result<(), String> {
    let expected = pages().big;
    serve_under_load(a, "net-busybox-httpd", "/bin/busybox httpd -f -p 80 -h /www/a", "/big.bin", &expected)
}

/// The Rust std HTTP server under the same load.
pub fn rust_server(a: &Artifacts) -> Result<(), String> {
    serve_under_load(a, "net-rust-server", "/usr/bin/rust-probe http-server 80", "/", b"hello from rust-probe\n")
}

/// The Rust server under the same load with 2 CPUs, the server on CPU 1 and
/// the network thread on CPU 0: every answer whole. (Before kernel unmappings shot
/// down the other CPU's TLB, a server could read a request through a stale translation
/// as zeros and answer `400 Bad Request`; that showed under a loaded full run, and this
/// test alone did not catch it in two tries with the shootdown disabled.)
pub fn rust_server_smp(a: &Artifacts) -> Result<(), String> {
    let test = "net-rust-server-smp";
    let image = web_image(a, test)?;
    let host = free_port();
    let web = Boot::new(&image, "web", "publish=8080:80", "/usr/bin/rust-probe http-server 80");
    let mut vm = start(a, test, &[web], "", |c| {
        c.network = Some(vec![Forward { host, guest: 8080 }]);
        c.cpus = 2;
    })?;
    let result = (|| {
        vm.expect("scheduler: 2 CPU(s)", seconds(60))?;
        let url = format!("http://127.0.0.1:{host}/");
        wait_for(&vm, &url, seconds(60))?;
        load(&vm, &url, b"hello from rust-probe\n")
    })();
    save_console(a, test, &vm);
    result
}

/// Two containers listen on port 80, published on different machine ports; each
/// answers with its own page. 127.0.0.1 inside a container reaches its own listeners
/// and no one else's.
pub fn two_on_port_80(a: &Artifacts) -> Result<(), String> {
    let test = "net-two-on-port-80";
    let image = web_image(a, test)?;
    let p = pages();
    let (host_a, host_b) = (free_port(), free_port());
    let containers = [
        Boot::new(&image, "site-a", "publish=8081:80", "/bin/busybox httpd -f -p 80 -h /www/a"),
        Boot::new(&image, "site-b", "publish=8082:80", "/bin/busybox httpd -f -p 80 -h /www/b"),
        // Its own server on 127.0.0.1:8000 answers; port 80 is another container's.
        Boot::new(
            &image,
            "loopback",
            "",
            "/bin/sh -c \"httpd -p 127.0.0.1:8000 -h /www/b && sleep 1 && wget -q -O - http://127.0.0.1:8000/ && \
             if wget -q -O - http://127.0.0.1:80/; then echo REACHED-OTHER; else echo refused; fi\"",
        ),
    ];
    let forwards = vec![Forward { host: host_a, guest: 8081 }, Forward { host: host_b, guest: 8082 }];
    let mut vm = start_net(a, test, &containers, "", forwards, false, 512)?;
    let result = (|| {
        let (url_a, url_b) = (format!("http://127.0.0.1:{host_a}/"), format!("http://127.0.0.1:{host_b}/"));
        wait_for(&vm, &url_a, seconds(60))?;
        wait_for(&vm, &url_b, seconds(60))?;
        for _ in 0..20 {
            if get(&url_a)? != p.a || get(&url_b)? != p.b {
                return Err(vm.failure("a published port answered with the other container's page"));
            }
        }
        vm.expect("[loopback] refused", seconds(60))?;
        let said: Vec<String> =
            vm.output().lines().filter_map(|l| Some(l.split_once("[loopback] ")?.1.to_string())).collect();
        if !said.iter().any(|l| l == "<h1>site B</h1>") || said.iter().any(|l| l.contains("REACHED-OTHER")) {
            return Err(vm.failure("127.0.0.1 in a container did not reach (only) its own listener"));
        }
        vm.send_line("halt")
    })();
    save_console(a, test, &vm);
    result
}

/// The socket errno checks (`net-probe`) against a server on the host's loopback,
/// which the container reaches through QEMU's host alias; its `echo-1mib` check
/// exchanges a mebibyte both ways.
pub fn errnos_and_outgoing(a: &Artifacts) -> Result<(), String> {
    let test = "net-errnos-and-outgoing";
    let server = NetServer::start()?;
    let probe = Boot::new(&a.test_image, "np", "", &net_probe_command(GUEST_HOST, server.port(), server.closed_port()));
    let vm = start(a, test, &[probe], "halt-when-done", |c| c.network = Some(Vec::new()))?;
    let out = finish(a, test, vm, seconds(240))?;
    verdict(&out.output("np")).map_err(|e| out.vm.failure(&format!("net-probe: {e}")))?;
    out.expect_status("np", 0)
}

/// The legacy virtio transport with a static address from the command line; the DNS
/// server reaches containers' `/etc/resolv.conf`.
pub fn legacy_static(a: &Artifacts) -> Result<(), String> {
    let test = "net-legacy-static";
    let image = web_image(a, test)?;
    let host = free_port();
    let web = Boot::new(&image, "web", "publish=8080:80", "/bin/busybox httpd -f -p 80 -h /www/a");
    let resolv = Boot::new(&image, "resolv", "", "/bin/busybox cat /etc/resolv.conf");
    let cmdline = "ip=10.0.2.15/24 gateway=10.0.2.2 dns=10.0.2.3";
    let mut vm = start_net(a, test, &[web, resolv], cmdline, vec![Forward { host, guest: 8080 }], true, 512)?;
    let result = (|| {
        vm.expect("[resolv] nameserver 10.0.2.3", seconds(30))?;
        for needle in ["virtio-net (legacy)", "address 10.0.2.15/24, gateway 10.0.2.2, DNS 10.0.2.3"] {
            if !vm.output().contains(needle) {
                return Err(vm.failure(&format!("the console never said {needle:?}")));
            }
        }
        let url = format!("http://127.0.0.1:{host}/big.bin");
        wait_for(&vm, &url, seconds(60))?;
        for _ in 0..20 {
            if get(&url)? != pages().big {
                return Err(vm.failure("the page came back different"));
            }
        }
        vm.send_line("halt")
    })();
    save_console(a, test, &vm);
    result
}

/// Two berth machines on one Ethernet segment (a QEMU socket network) with static
/// addresses ping each other: each resolves the other's address (ARP) and answers its
/// echo requests. A third ping goes to QEMU's user-network gateway.
pub fn ping(a: &Artifacts) -> Result<(), String> {
    let test = "net-ping";
    let _ = a.scratch(test);
    let port = free_port();
    let machine = |ip: &str, listen: bool, mac: &str| {
        let mut config = crate::qemu::VmConfig::new(a.kernel.clone());
        config.cmdline = format!("ip={ip}/24");
        config.link = Some(crate::qemu::SocketLink { port, listen, mac: mac.to_string() });
        config
    };
    let mut first = Vm::start(&machine("10.0.9.1", true, "52:54:00:00:09:01"))?;
    first.wait_printed("berth: ready", seconds(60))?;
    let mut second = Vm::start(&machine("10.0.9.2", false, "52:54:00:00:09:02"))?;
    second.wait_printed("berth: ready", seconds(60))?;
    let result = (|| {
        second.send_line("ping 10.0.9.1")?;
        second.expect("ping: reply from 10.0.9.1", seconds(20))?;
        first.send_line("ping 10.0.9.2")?;
        first.expect("ping: reply from 10.0.9.2", seconds(20))?;
        first.send_line("ping 10.0.9.77")?;
        first.expect("ping: 10.0.9.77: no reply", seconds(20))?;
        Ok::<(), String>(())
    })();
    let _ = std::fs::write(a.dir.join("test-scratch").join(test).join("console.log"), first.output());
    let _ = std::fs::write(a.dir.join("test-scratch").join(test).join("console-2.log"), second.output());
    result?;
    let mut gateway = start_net(a, test, &[], "", Vec::new(), false, 512)?;
    gateway.send_line("ping 10.0.2.2")?;
    gateway.expect("ping: reply from 10.0.2.2", seconds(20)).map(drop)
}

/// Connections opened at once to the flood.
const FLOOD: usize = 200;

/// A flood of connections to a container that never accepts them fills its queue and
/// no more; a container beside it keeps serving, and when the flooded one ends, its
/// sockets are all freed.
pub fn connection_flood(a: &Artifacts) -> Result<(), String> {
    let test = "net-connection-flood";
    let (victim, bystander) = (free_port(), free_port());
    let containers = [
        Boot::new(
            &a.test_image,
            "victim",
            "publish=8080:80 memory=32m timeout=10",
            "/usr/bin/rust-probe listen-only 80",
        ),
        Boot::new(&a.test_image, "bystander", "publish=8081:80", "/usr/bin/rust-probe http-server 80"),
    ];
    let forwards = vec![Forward { host: victim, guest: 8080 }, Forward { host: bystander, guest: 8081 }];
    let mut vm = start_net(a, test, &containers, "agent=off", forwards, false, 512)?;
    let result = (|| {
        let url = format!("http://127.0.0.1:{bystander}/");
        wait_for(&vm, &url, seconds(60))?;
        vm.expect("[victim] rust-probe: listen-only", seconds(30))?;
        let release = std::sync::Barrier::new(FLOOD + 1);
        let connected = std::sync::atomic::AtomicUsize::new(0);
        std::thread::scope(|s| -> Result<(), String> {
            for _ in 0..FLOOD {
                s.spawn(|| {
                    let to = std::net::SocketAddr::from(([127, 0, 0, 1], victim));
                    let stream = std::net::TcpStream::connect_timeout(&to, Duration::from_secs(3));
                    if stream.is_ok() {
                        connected.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
                    }
                    release.wait();
                    drop(stream);
                });
            }
            // While the flood holds its connections, the other container answers.
            std::thread::sleep(Duration::from_secs(1));
            let served = (0..20).try_for_each(|_| {
                if get(&url)? == b"hello from rust-probe\n" { Ok(()) } else { Err("wrong page".to_string()) }
            });
            release.wait();
            served.map_err(|e| vm.failure(&format!("the bystander stopped serving during the flood: {e}")))
        })?;
        let during = vm.stats(seconds(10))?;
        // Held connections: at most the victim's accept queue and its listening sockets.
        let sockets = during.get("sockets").copied().unwrap_or(u64::MAX);
        if sockets > 32 + 128 + 16 {
            return Err(vm.failure(&format!("{sockets} sockets during the flood: the queue is not bounded")));
        }
        vm.expect("container victim exited", seconds(60))?;
        // Its listener and queue are gone with it, and its published port is free again;
        // the bystander's listener and port remain.
        let deadline = Instant::now() + seconds(20);
        loop {
            let after = vm.stats(seconds(10))?;
            let freed = after.get("sockets") == Some(&16) && after.get("tcp_ports") == Some(&1);
            if freed && after.get("orphans") == Some(&0) {
                break;
            }
            if Instant::now() > deadline {
                return Err(vm.failure(&format!("sockets not freed after the flooded container ended: {after:?}")));
            }
            std::thread::sleep(Duration::from_millis(500));
        }
        let n = connected.load(std::sync::atomic::Ordering::Relaxed);
        println!("    flood: {n} of {FLOOD} connections completed their handshake");
        check_page(&vm, &url)
    })();
    save_console(a, test, &vm);
    result
}

fn check_page(vm: &Vm, url: &str) -> Result<(), String> {
    match get(url) {
        Ok(body) if body == b"hello from rust-probe\n" => Ok(()),
        other => Err(vm.failure(&format!("the bystander answered {other:?} after the flood"))),
    }
}
