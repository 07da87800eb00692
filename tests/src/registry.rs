//! A local image registry for the pull tests: Debian's `docker-registry` (the CNCF
//! distribution registry) on 127.0.0.1 with its store in a scratch directory, and a
//! pusher speaking its HTTP API (blob uploads, manifests).

use sha2::{Digest, Sha256};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running registry; stopped when dropped.
pub struct Registry {
    child: Child,
    /// Its port on 127.0.0.1 (the guest reaches it as 10.0.2.2).
    pub port: u16,
    root: PathBuf,
    client: ureq::Agent,
}

/// `sha256:<hex>` of `data`.
pub fn digest_of(data: &[u8]) -> String {
    let hash = Sha256::digest(data);
    format!("sha256:{}", hash.iter().map(|b| format!("{b:02x}")).collect::<String>())
}

impl Registry {
    /// Starts a registry storing under `dir`, and waits until it answers.
    pub fn start(dir: &Path) -> Result<Registry, String> {
        let port = crate::qemu::free_port();
        let root = dir.join("registry");
        let _ = fs::remove_dir_all(&root);
        fs::create_dir_all(&root).map_err(|e| e.to_string())?;
        let config = format!(
            "version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: {}\nhttp:\n  addr: 127.0.0.1:{port}\n  secret: berth-tests\n",
            root.join("data").display()
        );
        fs::write(root.join("config.yml"), config).map_err(|e| e.to_string())?;
        let log = fs::File::create(root.join("log")).map_err(|e| e.to_string())?;
        let child = Command::new("docker-registry")
            .arg("serve")
            .arg(root.join("config.yml"))
            .stdout(Stdio::null())
            .stderr(log)
            .spawn()
            .map_err(|e| format!("docker-registry (set-up installs it): {e}"))?;
        let client: ureq::Agent = ureq::Agent::config_builder()
            .timeout_global(Some(Duration::from_secs(30)))
            .http_status_as_error(false)
            .build()
            .into();
        let registry = Registry { child, port, root, client };
        let start = Instant::now();
        while start.elapsed() < Duration::from_secs(20) {
            if registry.client.get(&registry.url("/v2/")).call().is_ok_and(|r| r.status() == 200) {
                return Ok(registry);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err(format!(
            "the registry did not start: {}",
            fs::read_to_string(registry.root.join("log")).unwrap_or_default()
        ))
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Uploads a blob to `repository`; gives its digest.
    pub fn push_blob(&self, repository: &str, data: &[u8]) -> Result<String, String> {
        let digest = digest_of(data);
        let started = self
            .client
            .post(&self.url(&format!("/v2/{repository}/blobs/uploads/")))
            .send_empty()
            .map_err(|e| e.to_string())?;
        let location = started
            .headers()
            .get("location")
            .and_then(|l| l.to_str().ok())
            .ok_or_else(|| format!("blob upload answered {} without a Location", started.status()))?;
        let location = if location.starts_with('/') { self.url(location) } else { location.to_string() };
        let separator = if location.contains('?') { '&' } else { '?' };
        let done = self
            .client
            .put(&format!("{location}{separator}digest={digest}"))
            .header("Content-Type", "application/octet-stream")
            .send(data)
            .map_err(|e| e.to_string())?;
        if done.status() != 201 {
            return Err(format!("blob upload answered {}", done.status()));
        }
        Ok(digest)
    }

    /// Puts a manifest (or index) of `media_type` under `reference` (a tag or digest);
    /// gives its digest.
    pub fn push_manifest(
        &self,
        repository: &str,
        reference: &str,
        media_type: &str,
        body: &str,
    ) -> Result<String, String> {
        let put = self
            .client
            .put(&self.url(&format!("/v2/{repository}/manifests/{reference}")))
            .header("Content-Type", media_type)
            .send(body.as_bytes())
            .map_err(|e| e.to_string())?;
        if put.status() != 201 {
            let status = put.status();
            let text = put.into_body().read_to_string().unwrap_or_default();
            return Err(format!("manifest upload answered {status}: {text}"));
        }
        Ok(digest_of(body.as_bytes()))
    }

    /// Where the registry keeps a blob's bytes (to spoil one).
    pub fn blob_file(&self, digest: &str) -> PathBuf {
        let hex = digest.trim_start_matches("sha256:");
        self.root.join("data/docker/registry/v2/blobs/sha256").join(&hex[..2]).join(hex).join("data")
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A gate in front of a registry, as Docker Hub and cloud registries behave: it asks for
/// a bearer token (answering 401 with a challenge naming its own token endpoint), and
/// sends requests that carry the token on to the registry with a redirect.
pub struct AuthGate {
    /// Its port on 127.0.0.1.
    pub port: u16,
    /// Tokens handed out.
    pub tokens: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    /// Requests redirected.
    pub redirects: std::sync::Arc<std::sync::atomic::AtomicUsize>,
    stop: std::sync::Arc<std::sync::atomic::AtomicBool>,
}

/// The token the gate hands out and wants.
const GATE_TOKEN: &str = "berth-test-token";

impl AuthGate {
    /// A gate for the registry on `registry_port`, both reached by the guest at 10.0.2.2.
    pub fn start(registry_port: u16) -> Result<AuthGate, String> {
        use std::sync::Arc;
        use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
        let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let port = listener.local_addr().map_err(|e| e.to_string())?.port();
        let (tokens, redirects) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
        let stop = Arc::new(AtomicBool::new(false));
        let (t, r, s) = (tokens.clone(), redirects.clone(), stop.clone());
        std::thread::spawn(move || {
            for stream in listener.incoming() {
                if s.load(Ordering::Relaxed) {
                    break;
                }
                let Ok(mut stream) = stream else { continue };
                let _ = stream.set_read_timeout(Some(Duration::from_secs(10)));
                let mut head = Vec::new();
                let mut byte = [0u8; 1];
                while !head.ends_with(b"\r\n\r\n") && head.len() < 65536 {
                    match std::io::Read::read(&mut stream, &mut byte) {
                        Ok(1) => head.push(byte[0]),
                        _ => break,
                    }
                }
                let head = String::from_utf8_lossy(&head).into_owned();
                let path = head.split_whitespace().nth(1).unwrap_or("/").to_string();
                let authorized = head.lines().any(|l| {
                    l.to_ascii_lowercase().starts_with("authorization:") && l.ends_with(&format!("Bearer {GATE_TOKEN}"))
                });
                let reply = if path.starts_with("/token?") && path.contains("scope=repository%3Atest%2F") {
                    t.fetch_add(1, Ordering::Relaxed);
                    let body = format!("{{\"token\":\"{GATE_TOKEN}\",\"expires_in\":300}}");
                    format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len())
                } else if !authorized {
                    let repository = path.strip_prefix("/v2/").and_then(|p| p.rsplitn(3, '/').nth(2)).unwrap_or("");
                    let body = r#"{"errors":[{"code":"UNAUTHORIZED","message":"authentication required"}]}"#;
                    format!(
                        "HTTP/1.1 401 Unauthorized\r\nWWW-Authenticate: Bearer realm=\"http://10.0.2.2:{port}/token\",\
                         service=\"berth-test\",scope=\"repository:{repository}:pull\"\r\nContent-Length: {}\r\n\
                         Connection: close\r\n\r\n{body}",
                        body.len()
                    )
                } else {
                    r.fetch_add(1, Ordering::Relaxed);
                    format!(
                        "HTTP/1.1 307 Temporary Redirect\r\nLocation: http://10.0.2.2:{registry_port}{path}\r\n\
                         Content-Length: 0\r\nConnection: close\r\n\r\n"
                    )
                };
                let _ = std::io::Write::write_all(&mut stream, reply.as_bytes());
            }
        });
        Ok(AuthGate { port, tokens, redirects, stop })
    }
}

impl Drop for AuthGate {
    fn drop(&mut self) {
        self.stop.store(true, std::sync::atomic::Ordering::Relaxed);
        let _ = std::net::TcpStream::connect(("127.0.0.1", self.port));
    }
}
