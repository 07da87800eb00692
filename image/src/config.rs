//! A reader for Limine's configuration format (Limine 8 and later).
//!
//! ```text
//! # comment
//! timeout: 0              <- global `key: value`
//! /berth                  <- an entry (more slashes: a sub-entry)
//!     protocol: limine
//!     kernel_path: boot():/boot/berth
//!     cmdline: log=info
//!     module_path: boot():/images/hello.tar
//!     module_cmdline: container name=hello -- /bin/busybox echo hello
//! ```
//!
//! Keys are case-insensitive. `module_cmdline` (alias `module_string`) applies to the
//! module named by the last `module_path`; `kernel_path` and `kernel_cmdline` are
//! aliases of `path` and `cmdline`. Macros (`${NAME}`) are not supported and are
//! reported as errors rather than passed through.

use crate::{Error, Result};

/// A boot module: a file the loader places in memory, with its own command line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleSpec {
    /// Its URI (`boot():/...`).
    pub path: String,
    /// Its command line (empty if none).
    pub cmdline: String,
}

/// One boot menu entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Entry {
    /// The entry's name.
    pub name: String,
    /// Nesting depth: 1 for `/name`, 2 for `//name`.
    pub depth: usize,
    /// `protocol:`.
    pub protocol: Option<String>,
    /// `path:` (the kernel).
    pub path: Option<String>,
    /// `cmdline:`.
    pub cmdline: String,
    /// Modules in order.
    pub modules: Vec<ModuleSpec>,
    /// Other `key: value` settings of the entry, keys lower-cased.
    pub other: Vec<(String, String)>,
}

/// A parsed configuration file.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BootConfig {
    /// Settings before the first entry, keys lower-cased.
    pub globals: Vec<(String, String)>,
    /// Entries in file order.
    pub entries: Vec<Entry>,
}

impl BootConfig {
    /// Parses configuration text; errors name the line.
    pub fn parse(text: &str) -> Result<BootConfig> {
        let mut config = BootConfig::default();
        for (number, raw) in text.lines().enumerate() {
            let line = raw.trim();
            let err = |msg: &str| Error(format!("limine.cfg line {}: {msg}", number + 1));
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            if line.contains("${") {
                return Err(err("macros (${...}) are not supported"));
            }
            if let Some(name) = line.strip_prefix('/') {
                let depth = 1 + name.chars().take_while(|&c| c == '/').count();
                let name = name.trim_start_matches('/').trim_start_matches('+').trim();
                if name.is_empty() {
                    return Err(err("an entry needs a name"));
                }
                config.entries.push(Entry { name: name.to_string(), depth, ..Entry::default() });
                continue;
            }
            let (key, value) = line.split_once(':').ok_or_else(|| err("expected `key: value` or `/entry`"))?;
            let key = key.trim().to_ascii_lowercase();
            if key.is_empty() || key.contains(char::is_whitespace) {
                return Err(err("bad key"));
            }
            let value = value.trim().to_string();
            let Some(entry) = config.entries.last_mut() else {
                config.globals.push((key, value));
                continue;
            };
            match key.as_str() {
                "protocol" => entry.protocol = Some(value),
                "path" | "kernel_path" => entry.path = Some(value),
                "cmdline" | "kernel_cmdline" => entry.cmdline = value,
                "module_path" => entry.modules.push(ModuleSpec { path: value, cmdline: String::new() }),
                "module_cmdline" | "module_string" => {
                    let module =
                        entry.modules.last_mut().ok_or_else(|| err("module_cmdline before any module_path"))?;
                    module.cmdline = value;
                }
                _ => entry.other.push((key, value)),
            }
        }
        Ok(config)
    }

    /// The entry named `name`, or the first bootable entry if `None`.
    pub fn entry(&self, name: Option<&str>) -> Result<&Entry> {
        match name {
            Some(n) => self.entries.iter().find(|e| e.name == n).ok_or_else(|| Error(format!("no boot entry `{n}`"))),
            None => self
                .entries
                .iter()
                .find(|e| e.path.is_some())
                .ok_or_else(|| Error("limine.cfg has no entry with a kernel path".into())),
        }
    }

    /// A global setting.
    pub fn global(&self, key: &str) -> Option<&str> {
        self.globals.iter().find(|(k, _)| k == key).map(|(_, v)| v.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "
# berth
timeout: 0
SERIAL: yes

/berth
    protocol: limine
    path: boot():/boot/berth
    cmdline: log=info agent.port=2375
    module_path: boot():/images/a.tar
    module_cmdline: container name=a -- /bin/a x
    module_path: boot():/images/b.tar
    kaslr: no

/other
    kernel_path: boot():/boot/other
";

    #[test]
    fn parses_entries_modules_and_globals() {
        let c = BootConfig::parse(SAMPLE).unwrap();
        assert_eq!(c.global("timeout"), Some("0"));
        assert_eq!(c.global("serial"), Some("yes"));
        let e = c.entry(None).unwrap();
        assert_eq!(e.name, "berth");
        assert_eq!(e.protocol.as_deref(), Some("limine"));
        assert_eq!(e.path.as_deref(), Some("boot():/boot/berth"));
        assert_eq!(e.cmdline, "log=info agent.port=2375");
        assert_eq!(
            e.modules,
            [
                ModuleSpec { path: "boot():/images/a.tar".into(), cmdline: "container name=a -- /bin/a x".into() },
                ModuleSpec { path: "boot():/images/b.tar".into(), cmdline: String::new() },
            ]
        );
        assert_eq!(e.other, [("kaslr".to_string(), "no".to_string())]);
        assert_eq!(c.entry(Some("other")).unwrap().path.as_deref(), Some("boot():/boot/other"));
        assert!(c.entry(Some("missing")).is_err());
    }

    #[test]
    fn errors_name_the_line() {
        let err = BootConfig::parse("/x\n  module_cmdline: a\n").unwrap_err();
        assert!(err.0.contains("line 2"), "{err}");
        let err = BootConfig::parse("timeout 0\n").unwrap_err();
        assert!(err.0.contains("line 1"), "{err}");
        assert!(BootConfig::parse("cmdline: ${X}\n").is_err());
    }

    #[test]
    fn the_repository_config_parses() {
        let text = include_str!("../../limine.cfg");
        let c = BootConfig::parse(text).unwrap();
        let e = c.entry(None).unwrap();
        assert_eq!(e.protocol.as_deref(), Some("limine"));
        assert!(e.path.is_some());
        // Limine 8 does not know `path:` (it boots nothing); 8 and later know `kernel_path:`.
        assert!(text.lines().all(|l| !l.trim_start().starts_with("path:")), "limine.cfg uses `path:`");
    }
}
