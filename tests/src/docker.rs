//! Running the real `docker` CLI against berth's control agent.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// The agent token the tests boot berth with (`agent-token=`), and give the CLI.
pub const TEST_TOKEN: &str = "berth-test-token";

/// What a `docker` command did.
#[derive(Debug, Clone)]
pub struct Output {
    /// Exit status (-1 if it was killed or did not finish in time).
    pub code: i32,
    /// Standard output.
    pub stdout: String,
    /// Standard error.
    pub stderr: String,
}

impl Output {
    /// The command line and both outputs, for failure messages.
    pub fn describe(&self, args: &[&str]) -> String {
        format!("`docker {}` exited {}\nstdout: {}\nstderr: {}", args.join(" "), self.code, self.stdout, self.stderr)
    }
}

/// The docker CLI pointed at one berth machine.
#[derive(Clone)]
pub struct Docker {
    /// `tcp://127.0.0.1:PORT`.
    pub host: String,
    /// The CLI's configuration directory (holds `HttpHeaders` when a token is used).
    config_dir: PathBuf,
}

/// The docker CLI to use: `/usr/local/bin/docker` where the machine has it, else the
/// one on `PATH` (Debian's `docker.io`).
pub fn binary() -> PathBuf {
    let local = PathBuf::from("/usr/local/bin/docker");
    if local.exists() { local } else { PathBuf::from("docker") }
}

impl Docker {
    /// A CLI for the agent on host port `port`, configured in `dir`; with `token`, every
    /// request carries `Authorization: Bearer <token>` (through the config file's
    /// `HttpHeaders`, as an operator would set it).
    pub fn new(port: u16, dir: &Path, token: Option<&str>) -> Result<Docker, String> {
        std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        let config = match token {
            Some(t) => format!("{{\"HttpHeaders\": {{\"Authorization\": \"Bearer {t}\"}}}}"),
            None => String::from("{}"),
        };
        std::fs::write(dir.join("config.json"), config).map_err(|e| e.to_string())?;
        Ok(Docker { host: format!("tcp://127.0.0.1:{port}"), config_dir: dir.to_path_buf() })
    }

    /// Runs `docker ARGS` with a time limit; the outcome.
    pub fn run(&self, args: &[&str], limit: Duration) -> Result<Output, String> {
        self.run_with_input(args, &[], limit)
    }

    /// Runs `docker ARGS` with `input` on its standard input (closed after it).
    pub fn run_with_input(&self, args: &[&str], input: &[u8], limit: Duration) -> Result<Output, String> {
        let mut child = self
            .command(args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot run the docker CLI ({e}): install it (`cargo xtask setup` does)"))?;
        let mut stdin = child.stdin.take().ok_or("no stdin")?;
        let input = input.to_vec();
        std::thread::spawn(move || {
            use std::io::Write;
            let _ = stdin.write_all(&input);
        });
        let mut out = child.stdout.take().ok_or("no stdout")?;
        let mut err = child.stderr.take().ok_or("no stderr")?;
        let readers = (
            std::thread::spawn(move || {
                let mut s = String::new();
                let _ = out.read_to_string(&mut s);
                s
            }),
            std::thread::spawn(move || {
                let mut s = String::new();
                let _ = err.read_to_string(&mut s);
                s
            }),
        );
        let deadline = Instant::now() + limit;
        let code = loop {
            if let Some(status) = child.try_wait().map_err(|e| e.to_string())? {
                break status.code().unwrap_or(-1);
            }
            if Instant::now() > deadline {
                let _ = child.kill();
                let _ = child.wait();
                break -1;
            }
            std::thread::sleep(Duration::from_millis(20));
        };
        Ok(Output { code, stdout: readers.0.join().unwrap_or_default(), stderr: readers.1.join().unwrap_or_default() })
    }

    /// `docker ARGS` pointed at this machine, not yet started.
    pub fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(binary());
        command.args(args);
        self.pointed(&mut command);
        command
    }

    /// Points another Docker client (docker-py, a Compose binary) at this machine, as
    /// the CLI is: `DOCKER_HOST`, and `DOCKER_CONFIG` (which carries the token).
    pub fn pointed<'c>(&self, command: &'c mut Command) -> &'c mut Command {
        command.env("DOCKER_HOST", &self.host).env("DOCKER_CONFIG", &self.config_dir).env_remove("DOCKER_CONTEXT")
    }

    /// Runs `docker ARGS` and requires exit status 0; its standard output.
    pub fn ok(&self, args: &[&str], limit: Duration) -> Result<String, String> {
        let out = self.run(args, limit)?;
        if out.code == 0 { Ok(out.stdout) } else { Err(out.describe(args)) }
    }
}
