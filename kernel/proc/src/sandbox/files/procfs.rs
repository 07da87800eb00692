//! `/proc` inside a container: the container's own processes, a few files about the
//! machine, and `/proc/sys` (`procfs_sys.rs`).

use crate::fs::Fd;
use crate::proc::Process;
use crate::proc::UserPart;
use crate::sandbox::Sandbox;
use alloc::format;
use alloc::string::{String, ToString};
use alloc::sync::{Arc, Weak};
use alloc::vec::Vec;
use berth_vfs::{DirEntry, FileType, Inode, SpecialDir};

/// Inode numbers of synthetic files: a high tag, the pid, the entry.
fn ino(pid: u32, entry: u32) -> u64 {
    0x7000_0000_0000_0000 | (u64::from(pid) << 16) | u64::from(entry)
}

fn now() -> u64 {
    crate::time::realtime_ns()
}

/// The `/proc` directory of `container`.
pub fn root(sandbox: &Arc<Sandbox>) -> Arc<Inode> {
    Inode::synthetic_dir(ino(0, 0), Arc::new(ProcRoot { sandbox: Arc::downgrade(sandbox) }), now())
}

struct ProcRoot {
    sandbox: Weak<Sandbox>,
}

const ROOT_FILES: [&str; 7] = ["cpuinfo", "meminfo", "uptime", "version", "mounts", "loadavg", "stat"];

impl SpecialDir for ProcRoot {
    fn lookup(&self, name: &str) -> Option<Arc<Inode>> {
        let sandbox = self.sandbox.upgrade()?;
        if name == "self" {
            let me = crate::sched::current();
            let pid = me.user()?.process.pid;
            return Some(Inode::synthetic_symlink(ino(0, 1), pid.to_string(), now()));
        }
        if name == "sys" {
            return Some(super::procfs_sys::root(&sandbox));
        }
        if name == "thread-self" {
            let me = crate::sched::current();
            let user = me.user()?;
            return Some(Inode::synthetic_symlink(ino(0, 2), format!("{}/task/{}", user.process.pid, user.tid), now()));
        }
        if let Ok(pid) = name.parse::<u32>() {
            let process = sandbox.process(pid)?;
            return Some(Inode::synthetic_dir(
                ino(pid, 0),
                Arc::new(PidDir { process: Arc::downgrade(&process) }),
                now(),
            ));
        }
        let i = ROOT_FILES.iter().position(|&f| f == name)? as u32;
        Some(Inode::synthetic_file(ino(0, 10 + i), 0o444, machine_file(&sandbox, name).into_bytes(), now()))
    }

    fn entries(&self) -> Vec<DirEntry> {
        let mut out = Vec::from([
            DirEntry { name: "self".into(), ino: ino(0, 1), kind: FileType::Symlink },
            DirEntry { name: "thread-self".into(), ino: ino(0, 2), kind: FileType::Symlink },
            DirEntry { name: "sys".into(), ino: ino(0, 3), kind: FileType::Directory },
        ]);
        for (i, f) in ROOT_FILES.iter().enumerate() {
            out.push(DirEntry { name: (*f).into(), ino: ino(0, 10 + i as u32), kind: FileType::Regular });
        }
        if let Some(c) = self.sandbox.upgrade() {
            for p in c.processes() {
                out.push(DirEntry { name: p.pid.to_string(), ino: ino(p.pid, 0), kind: FileType::Directory });
            }
        }
        out
    }
}

fn machine_file(sandbox: &Sandbox, name: &str) -> String {
    let uptime = crate::time::now_ns();
    match name {
        // One entry per CPU the container may use.
        "cpuinfo" => {
            let cpus = sandbox.sched_group.cpus();
            (0..64).filter(|c| cpus & (1 << c) != 0).fold(String::new(), |text, c| {
                text + &format!(
                    "processor\t: {c}\nvendor_id\t: berth\nmodel name\t: berth virtual CPU\ncpu MHz\t\t: {}\nflags\t\t: fpu sse sse2\n\n",
                    berth_hal::time::tsc_hz() / 1_000_000
                )
            })
        }
        "meminfo" => {
            let limit = sandbox.memory.limit();
            let total = if limit == u64::MAX { crate::mm::container_memory().1 } else { limit };
            let free = total.saturating_sub(sandbox.memory.used());
            format!(
                "MemTotal:       {} kB\nMemFree:        {} kB\nMemAvailable:   {} kB\nBuffers:               0 kB\nCached:                0 kB\nSwapTotal:             0 kB\nSwapFree:              0 kB\n",
                total / 1024,
                free / 1024,
                free / 1024
            )
        }
        "uptime" => format!("{}.{:02} 0.00\n", uptime / 1_000_000_000, uptime / 10_000_000 % 100),
        "version" => format!("Linux version {} (berth {})\n", crate::LINUX_RELEASE, crate::VERSION),
        "mounts" => String::from("overlay / overlay rw 0 0\nproc /proc proc rw 0 0\ntmpfs /dev tmpfs rw 0 0\n"),
        "loadavg" => format!("0.00 0.00 0.00 1/{} 1\n", sandbox.task_count()),
        "stat" => format!(
            "cpu  {} 0 0 0 0 0 0 0 0 0\nbtime {}\n",
            sandbox.cpu_ns() / 10_000_000,
            crate::time::realtime_ns() / 1_000_000_000 - uptime / 1_000_000_000
        ),
        _ => String::new(),
    }
}

struct PidDir {
    process: Weak<Process>,
}

const PID_FILES: [&str; 8] = ["exe", "cwd", "cmdline", "comm", "stat", "status", "maps", "fd"];

impl SpecialDir for PidDir {
    fn lookup(&self, name: &str) -> Option<Arc<Inode>> {
        let p = self.process.upgrade()?;
        let i = PID_FILES.iter().position(|&f| f == name)? as u32;
        let id = ino(p.pid, 1 + i);
        let file = |text: String| Some(Inode::synthetic_file(id, 0o444, text.into_bytes(), now()));
        match name {
            "exe" => Some(Inode::synthetic_symlink(id, p.info.lock().exe.clone(), now())),
            "cwd" => {
                let cwd = p.cwd.lock().clone();
                Some(Inode::synthetic_symlink(id, p.sandbox.fs.path_of(&cwd).unwrap_or_default(), now()))
            }
            "cmdline" => {
                let mut bytes = Vec::new();
                for a in &p.info.lock().argv {
                    bytes.extend_from_slice(a);
                    bytes.push(0);
                }
                Some(Inode::synthetic_file(id, 0o444, bytes, now()))
            }
            "comm" => file(format!("{}\n", p.info.lock().name)),
            "stat" => file(stat_line(&p)),
            "status" => file(status_text(&p)),
            "maps" => file(maps_text(&p)),
            "fd" => Some(Inode::synthetic_dir(id, Arc::new(FdDir { process: self.process.clone() }), now())),
            _ => None,
        }
    }

    fn entries(&self) -> Vec<DirEntry> {
        let pid = self.process.upgrade().map_or(0, |p| p.pid);
        PID_FILES
            .iter()
            .enumerate()
            .map(|(i, &name)| {
                let kind = match name {
                    "exe" | "cwd" => FileType::Symlink,
                    "fd" => FileType::Directory,
                    _ => FileType::Regular,
                };
                DirEntry { name: name.into(), ino: ino(pid, 1 + i as u32), kind }
            })
            .collect()
    }
}

fn stat_line(p: &Process) -> String {
    let state = if p.exit_status().is_some() { 'Z' } else { 'R' };
    let ticks = p.cpu_ns() / 10_000_000;
    let start = p.start_ns / 10_000_000;
    format!(
        "{} ({}) {state} {} {} {} 0 -1 0 0 0 0 0 {ticks} 0 0 0 20 0 {} 0 {start} 0 0\n",
        p.pid,
        p.info.lock().name,
        p.ppid(),
        p.pgid.load(core::sync::atomic::Ordering::Relaxed),
        p.sid.load(core::sync::atomic::Ordering::Relaxed),
        p.threads().len()
    )
}

fn status_text(p: &Process) -> String {
    let rss = p.vm_arc().map_or(0, |vm| vm.space.lock().resident_pages() * 4);
    let creds = p.creds.lock().clone();
    let ids = |i: berth_abi::process::creds::Ids| format!("{}\t{}\t{}\t{}", i.real, i.effective, i.saved, i.fs);
    let groups: alloc::vec::Vec<String> = creds.groups.iter().map(|g| format!("{g}")).collect();
    format!(
        "Name:\t{}\nState:\t{}\nTgid:\t{}\nPid:\t{}\nPPid:\t{}\nUid:\t{}\nGid:\t{}\nGroups:\t{}\nThreads:\t{}\nVmRSS:\t{rss} kB\n",
        p.info.lock().name,
        if p.exit_status().is_some() { "Z (zombie)" } else { "R (running)" },
        p.pid,
        p.pid,
        p.ppid(),
        ids(creds.uid),
        ids(creds.gid),
        groups.join(" "),
        p.threads().len()
    )
}

fn maps_text(p: &Process) -> String {
    let Some(vm) = p.vm_arc() else { return String::new() };
    let space = vm.space.lock();
    let mut out = String::new();
    for v in space.vmas() {
        let perms = format!(
            "{}{}{}{}",
            if v.prot.read { 'r' } else { '-' },
            if v.prot.write { 'w' } else { '-' },
            if v.prot.exec { 'x' } else { '-' },
            if v.shared { 's' } else { 'p' }
        );
        out += &format!("{:08x}-{:08x} {perms} 00000000 00:00 0 {}\n", v.start, v.end, v.name);
    }
    out
}

struct FdDir {
    process: Weak<Process>,
}

impl SpecialDir for FdDir {
    fn lookup(&self, name: &str) -> Option<Arc<Inode>> {
        let p = self.process.upgrade()?;
        let fd: i32 = name.parse().ok()?;
        let file = p.fd_table().lock().get(Fd::new(fd)).ok()?;
        let target = match file.ops.inode() {
            Some(_) if !file.path.is_empty() => file.path.clone(),
            _ => file.ops.describe(),
        };
        Some(Inode::synthetic_symlink(ino(p.pid, 0x1000 + fd as u32), target, now()))
    }

    fn entries(&self) -> Vec<DirEntry> {
        let Some(p) = self.process.upgrade() else { return Vec::new() };
        let table = p.fd_table();
        let table = table.lock();
        table
            .iter()
            .map(|(fd, _)| DirEntry {
                name: fd.number().to_string(),
                ino: ino(p.pid, 0x1000 + fd.number() as u32),
                kind: FileType::Symlink,
            })
            .collect()
    }
}
