//! Network benchmarks: HTTP requests per second and latency against servers in berth
//! containers (1 and 16 connections, a new connection per request as the servers
//! close after each answer), and TCP bulk throughput from the host into a container.
//! The HTTP client is wrk (`cargo xtask setup` installs it), or a bounded Rust client
//! when wrk is missing; the load comes from the host, through QEMU's port forwarding.

use crate::util;
use berth_image::bundle::{self, BundleModule};
use berth_tests::qemu::{Forward, Vm, VmConfig, free_port};
use std::io::{Read, Write};
use std::net::{Shutdown, TcpStream};
use std::path::Path;
use std::time::{Duration, Instant};

/// How long each HTTP measurement runs.
const HTTP_SECONDS: u64 = 5;
/// Bytes sent in the bulk measurement.
const BULK_BYTES: usize = 64 << 20;

/// Requests per second and latency percentiles of one HTTP measurement.
pub struct HttpFigures {
    /// Requests answered per second.
    pub requests_per_second: f64,
    p50_ms: f64,
    p99_ms: f64,
    errors: usize,
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted.get(((sorted.len() as f64 * p) as usize).min(sorted.len().saturating_sub(1))).copied().unwrap_or(0.0)
}

/// A latency from wrk's report (`1.36ms`, `950.00us`, `1.02s`), in ms.
fn wrk_ms(text: &str) -> Option<f64> {
    let (number, scale) = if let Some(n) = text.strip_suffix("us") {
        (n, 0.001)
    } else if let Some(n) = text.strip_suffix("ms") {
        (n, 1.0)
    } else {
        (text.strip_suffix('s')?, 1000.0)
    };
    number.parse::<f64>().ok().map(|v| v * scale)
}

/// Runs wrk with `connections` connections for [`HTTP_SECONDS`]; None if wrk is missing
/// or says something unexpected.
pub fn wrk(url: &str, connections: usize) -> Option<HttpFigures> {
    let out = std::process::Command::new("wrk")
        .args(["-t", &connections.min(4).to_string(), "-c", &connections.to_string()])
        .args(["-d", &format!("{HTTP_SECONDS}s"), "--latency", url])
        .output()
        .ok()?;
    let text = String::from_utf8_lossy(&out.stdout);
    let field = |prefix: &str| text.lines().find_map(|l| l.trim().strip_prefix(prefix).map(str::trim));
    let errors = text
        .lines()
        .filter_map(|l| l.trim().strip_prefix("Socket errors:"))
        .flat_map(|l| l.split(',').filter_map(|p| p.split_whitespace().last()?.parse::<usize>().ok()))
        .sum::<usize>()
        + field("Non-2xx or 3xx responses:").and_then(|v| v.parse().ok()).unwrap_or(0);
    Some(HttpFigures {
        requests_per_second: field("Requests/sec:")?.parse().ok()?,
        p50_ms: wrk_ms(field("50%")?)?,
        p99_ms: wrk_ms(field("99%")?)?,
        errors,
    })
}

/// Measures `url` with `connections` connections: wrk if it is there, else the Rust
/// client.
pub fn http_load(url: &str, connections: usize) -> HttpFigures {
    wrk(url, connections).unwrap_or_else(|| rust_client(url, connections))
}

/// `connections` clients GET `url` back to back for [`HTTP_SECONDS`].
fn rust_client(url: &str, connections: usize) -> HttpFigures {
    let deadline = Instant::now() + Duration::from_secs(HTTP_SECONDS);
    let started = Instant::now();
    let results: Vec<(Vec<f64>, usize)> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..connections)
            .map(|_| {
                s.spawn(move || {
                    let (mut latencies, mut errors) = (Vec::new(), 0);
                    while Instant::now() < deadline {
                        let t = Instant::now();
                        match berth_tests::http::get(url) {
                            Ok(_) => latencies.push(t.elapsed().as_secs_f64() * 1000.0),
                            Err(_) => errors += 1,
                        }
                    }
                    (latencies, errors)
                })
            })
            .collect();
        workers.into_iter().map(|w| w.join().unwrap_or_default()).collect()
    });
    let elapsed = started.elapsed().as_secs_f64();
    let mut latencies: Vec<f64> = results.iter().flat_map(|(l, _)| l.iter().copied()).collect();
    latencies.sort_by(f64::total_cmp);
    HttpFigures {
        requests_per_second: latencies.len() as f64 / elapsed,
        p50_ms: percentile(&latencies, 0.5),
        p99_ms: percentile(&latencies, 0.99),
        errors: results.iter().map(|(_, e)| e).sum(),
    }
}

/// Sends [`BULK_BYTES`] to the sink server on `port` and returns MiB/s, checked against
/// the count the server reports.
fn bulk(port: u16) -> Result<f64, String> {
    let mut stream = TcpStream::connect(("127.0.0.1", port)).map_err(|e| format!("sink: {e}"))?;
    let chunk = vec![0x5a; 256 * 1024];
    let started = Instant::now();
    let mut sent = 0;
    while sent < BULK_BYTES {
        stream.write_all(&chunk).map_err(|e| format!("sink: {e}"))?;
        sent += chunk.len();
    }
    stream.shutdown(Shutdown::Write).map_err(|e| format!("sink: {e}"))?;
    let mut answer = String::new();
    stream.read_to_string(&mut answer).map_err(|e| format!("sink: {e}"))?;
    let seconds = started.elapsed().as_secs_f64();
    if answer.trim() != sent.to_string() {
        return Err(format!("the sink counted {answer:?}, {sent} were sent"));
    }
    Ok(sent as f64 / seconds / (1 << 20) as f64)
}

/// Runs the network benchmarks; returns (what, figure) rows for the summary.
pub fn run(kernel: &Path, image: &Path) -> Result<Vec<(String, String)>, String> {
    println!("==> network: HTTP servers and a sink in containers, clients on the host");
    let (busybox, rust, sink) = (free_port(), free_port(), free_port());
    let containers = [
        ("httpd", "publish=8080:80", "/bin/busybox httpd -f -p 80 -h /data"),
        ("rust", "publish=8081:80", "/usr/bin/rust-probe http-server 80"),
        ("sink", "publish=8082:9000", "/usr/bin/rust-probe sink-server 9000"),
    ];
    let modules: Vec<BundleModule> = containers
        .iter()
        .enumerate()
        .map(|(i, (name, settings, cmd))| BundleModule {
            name: format!("images/{i}.tar"),
            cmdline: format!("container name={name} {settings} -- {cmd}"),
            file: image.to_path_buf(),
        })
        .collect();
    let initrd = util::out_dir().join("bench-net.tar");
    bundle::write(&modules, &initrd).map_err(|e| e.to_string())?;
    let mut config = VmConfig::new(kernel.to_path_buf());
    config.initrd = Some(initrd);
    config.network = Some(vec![
        Forward { host: busybox, guest: 8080 },
        Forward { host: rust, guest: 8081 },
        Forward { host: sink, guest: 8082 },
    ]);
    let mut vm = Vm::start(&config)?;
    vm.expect("berth: ready", Duration::from_secs(60))?;
    let servers = [
        ("busybox httpd", format!("http://127.0.0.1:{busybox}/hello.txt")),
        ("Rust std server", format!("http://127.0.0.1:{rust}/")),
    ];
    for (_, url) in &servers {
        let deadline = Instant::now() + Duration::from_secs(60);
        while berth_tests::http::get(url).is_err() {
            if Instant::now() > deadline {
                return Err(vm.failure(&format!("{url} never answered")));
            }
            std::thread::sleep(Duration::from_millis(200));
        }
    }
    let client = if wrk(&servers[0].1, 1).is_some() { "wrk" } else { "the built-in Rust client (no wrk)" };
    println!("    HTTP client: {client}, {HTTP_SECONDS} s per measurement");
    let mut rows = Vec::new();
    for (what, url) in &servers {
        for connections in [1, 16] {
            let f = http_load(url, connections);
            let row = format!(
                "{:.0} req/s, p50 {:.2} ms, p99 {:.2} ms{}",
                f.requests_per_second,
                f.p50_ms,
                f.p99_ms,
                if f.errors > 0 { format!(", {} errors", f.errors) } else { String::new() }
            );
            println!("    {what}, {connections} connection(s): {row}");
            rows.push((format!("HTTP {what}, {connections} conn."), row));
        }
    }
    let rate = bulk(sink)?;
    println!("    TCP bulk host -> container: {rate:.1} MiB/s ({} MiB)", BULK_BYTES >> 20);
    rows.push(("TCP bulk, host -> container".to_string(), format!("{rate:.1} MiB/s")));
    Ok(rows)
}
