//! `/proc/sys` inside a container: the tunables programs read (nginx its accept queue,
//! redis the overcommit policy, runtimes the pid and descriptor limits), each giving
//! berth's own value; and `/sys`, where programs count CPUs (glibc's `get_nprocs`,
//! and so Python's `os.cpu_count()`, read `devices/system/cpu/online`), which lists
//! the CPUs the container may use. They are read-only: a container cannot change the
//! machine.

use crate::sandbox::Sandbox;
use alloc::collections::BTreeSet;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use berth_vfs::{DirEntry, FileType, Inode, SpecialDir};

/// Which tree a directory belongs to.
#[derive(Clone, Copy)]
enum Tree {
    /// `/proc/sys`.
    ProcSys,
    /// `/sys`.
    Sys,
}

impl Tree {
    /// Every file of the tree, by path, with its value.
    fn files(self, sandbox: &Sandbox) -> Vec<(&'static str, String)> {
        match self {
            Tree::ProcSys => proc_sys_files(sandbox),
            Tree::Sys => sys_files(sandbox),
        }
    }

    /// The inode number of the entry at `path` (`net/core`, `` for the directory
    /// itself): the tree's tag and an FNV-1a hash of the path, the same wherever asked.
    fn ino(self, path: &str) -> u64 {
        let hash =
            path.bytes().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3));
        let tag = match self {
            Tree::ProcSys => 0x7100_0000_0000_0000,
            Tree::Sys => 0x7200_0000_0000_0000,
        };
        tag | (hash & 0x00ff_ffff_ffff_ffff)
    }
}

/// Every file under `/sys`: the CPUs the container may use.
fn sys_files(sandbox: &Sandbox) -> Vec<(&'static str, String)> {
    let cpus = berth_config::format_cpuset(sandbox.sched_group.cpus());
    Vec::from([
        ("devices/system/cpu/online", cpus.clone()),
        ("devices/system/cpu/possible", cpus.clone()),
        ("devices/system/cpu/present", cpus),
    ])
}

/// Every file under `/proc/sys`, by path, with its value.
fn proc_sys_files(sandbox: &Sandbox) -> Vec<(&'static str, String)> {
    let (low, high) = (berth_net::ports::EPHEMERAL.start(), berth_net::ports::EPHEMERAL.end());
    Vec::from([
        ("fs/file-max", String::from("9223372036854775807")),
        ("fs/nr_open", crate::fs::MAX_FDS.to_string()),
        ("kernel/hostname", sandbox.hostname.clone()),
        ("kernel/ngroups_max", berth_abi::process::creds::NGROUPS_MAX.to_string()),
        ("kernel/osrelease", String::from(crate::LINUX_RELEASE)),
        ("kernel/ostype", String::from("Linux")),
        ("kernel/pid_max", crate::sandbox::PID_MAX.to_string()),
        ("net/core/somaxconn", crate::net::MAX_BACKLOG.to_string()),
        ("net/ipv4/ip_local_port_range", format!("{low}\t{high}")),
        ("vm/max_map_count", crate::mm::MAX_REGIONS.to_string()),
        // Memory is charged as it is touched, not when it is mapped: Linux's heuristic.
        ("vm/overcommit_memory", String::from("0")),
    ])
}

/// The `/proc/sys` directory of `container`.
pub fn root(sandbox: &Arc<Sandbox>) -> Arc<Inode> {
    dir(Tree::ProcSys, sandbox, "")
}

/// The `/sys` directory of `container`.
pub fn sys_root(sandbox: &Arc<Sandbox>) -> Arc<Inode> {
    dir(Tree::Sys, sandbox, "")
}

fn dir(tree: Tree, sandbox: &Arc<Sandbox>, prefix: &str) -> Arc<Inode> {
    let dir = SysDir { tree, sandbox: Arc::downgrade(sandbox), prefix: String::from(prefix) };
    Inode::synthetic_dir(tree.ino(prefix.trim_end_matches('/')), Arc::new(dir), crate::time::realtime_ns())
}

/// One directory of `/proc/sys` or `/sys`: the entries under `prefix`.
struct SysDir {
    tree: Tree,
    sandbox: Weak<Sandbox>,
    /// `net/core/`, or empty for `/proc/sys` itself.
    prefix: String,
}

impl SysDir {
    /// The names directly inside, each with whether it is a directory.
    fn children(&self, sandbox: &Sandbox) -> BTreeSet<(String, bool)> {
        self.tree
            .files(sandbox)
            .iter()
            .filter_map(|(path, _)| path.strip_prefix(self.prefix.as_str()))
            .map(|rest| match rest.split_once('/') {
                Some((dir, _)) => (String::from(dir), true),
                None => (String::from(rest), false),
            })
            .collect()
    }
}

impl SpecialDir for SysDir {
    fn lookup(&self, name: &str) -> Option<Arc<Inode>> {
        let sandbox = self.sandbox.upgrade()?;
        let path = format!("{}{name}", self.prefix);
        let all = self.tree.files(&sandbox);
        if let Some((_, value)) = all.iter().find(|(p, _)| *p == path) {
            let value = format!("{value}\n");
            let ino = self.tree.ino(&path);
            return Some(Inode::synthetic_file(ino, 0o444, value.into_bytes(), crate::time::realtime_ns()));
        }
        let sub = format!("{path}/");
        all.iter().any(|(p, _)| p.starts_with(&sub)).then(|| dir(self.tree, &sandbox, &sub))
    }

    fn entries(&self) -> Vec<DirEntry> {
        let Some(sandbox) = self.sandbox.upgrade() else { return Vec::new() };
        self.children(&sandbox)
            .into_iter()
            .map(|(name, is_dir)| DirEntry {
                ino: self.tree.ino(&format!("{}{name}", self.prefix)),
                name,
                kind: if is_dir { FileType::Directory } else { FileType::Regular },
            })
            .collect()
    }
}
