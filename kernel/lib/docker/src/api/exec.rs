//! `docker exec`: `POST /containers/{id}/exec`, `POST /exec/{id}/start`, `GET
//! /exec/{id}/json`.

use alloc::string::String;
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use berth_json::{null_default, string_or_list};

/// The body of `POST /containers/{id}/exec`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExecCreate {
    /// Give the process a standard input the client writes (`-i`).
    pub attach_stdin: bool,
    /// Stream its standard output.
    pub attach_stdout: bool,
    /// Stream its standard error.
    pub attach_stderr: bool,
    /// It asked for a terminal (`-t`): output is sent unframed.
    pub tty: bool,
    /// `KEY=value` additions to the container's environment (`-e`).
    #[serde(deserialize_with = "null_default")]
    pub env: Vec<String>,
    /// The command. A JSON string is one element.
    #[serde(deserialize_with = "string_or_list")]
    pub cmd: Option<Vec<String>>,
    /// The user to run as (`-u`); empty means the container's.
    pub user: String,
    /// The working directory (`-w`); empty means the container's.
    pub working_dir: String,
    /// `--privileged` (refused: berth has no privileges to give).
    pub privileged: bool,
    /// The keys that end a terminal's attachment (`--detach-keys`); empty: Docker's.
    /// (docker-py spells it `detachKeys`: Go's JSON decoding ignores case.)
    #[serde(deserialize_with = "null_default", alias = "detachKeys")]
    pub detach_keys: String,
}

/// The body of `POST /exec/{id}/start`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExecStart {
    /// Start it and answer at once (`-d`).
    pub detach: bool,
    /// It asked for a terminal.
    pub tty: bool,
}

/// `ProcessConfig` of an [`ExecInspect`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ExecProcessConfig {
    /// The program.
    pub entrypoint: String,
    /// Its arguments.
    pub arguments: Vec<String>,
    /// Whether it asked for a terminal.
    pub tty: bool,
    /// The user it runs as.
    pub user: String,
    /// Always false.
    pub privileged: bool,
}

/// `GET /exec/{id}/json`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct ExecInspect {
    /// The exec's id.
    #[serde(rename = "ID")]
    pub id: String,
    /// The container's id.
    #[serde(rename = "ContainerID")]
    pub container_id: String,
    /// Whether its process runs.
    pub running: bool,
    /// Its exit code once it has exited (`null` before).
    pub exit_code: Option<i64>,
    /// Its process id in the container (0 when not running).
    pub pid: i64,
    /// Whether it has a standard input the client writes.
    pub open_stdin: bool,
    /// Whether its standard output is streamed.
    pub open_stdout: bool,
    /// Whether its standard error is streamed.
    pub open_stderr: bool,
    /// Whether it may be removed (it has ended).
    pub can_remove: bool,
    /// What it runs.
    pub process_config: ExecProcessConfig,
}

/// `GET /containers/{id}/top` (`docker top`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct TopResponse {
    /// The column titles.
    pub titles: Vec<String>,
    /// One row per process.
    pub processes: Vec<Vec<String>>,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bodies_the_cli_sends() {
        // `docker exec -i -e A=1 -w /tmp -u nobody box sh -c 'echo hi'`
        let req: ExecCreate = serde_json::from_str(
            r#"{"User":"nobody","Privileged":false,"Tty":false,"ConsoleSize":[0,0],"AttachStdin":true,
            "AttachStderr":true,"AttachStdout":true,"Detach":false,"DetachKeys":"","Env":["A=1"],
            "WorkingDir":"/tmp","Cmd":["sh","-c","echo hi"]}"#,
        )
        .unwrap();
        assert_eq!(req.cmd.as_deref(), Some(&["sh".into(), "-c".into(), "echo hi".into()][..]));
        assert!(req.attach_stdin && !req.tty);
        assert_eq!(
            (req.user.as_str(), req.working_dir.as_str(), &req.env[..]),
            ("nobody", "/tmp", &["A=1".into()][..])
        );
        let start: ExecStart = serde_json::from_str(r#"{"Detach":true,"Tty":false,"ConsoleSize":null}"#).unwrap();
        assert!(start.detach);
        let shown = serde_json::to_value(ExecInspect::default()).unwrap();
        assert!(shown["ExitCode"].is_null() && shown.get("ID").is_some() && shown.get("ContainerID").is_some());
        assert!(shown["ProcessConfig"].get("entrypoint").is_some());
    }
}
