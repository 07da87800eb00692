//! The Prometheus text exposition format (version 0.0.4), what `GET /metrics` answers:
//! for each metric family a `# HELP` and a `# TYPE` line, then its samples,
//! `name{label="value",...} number`, label values escaped.

use alloc::string::String;
use core::fmt::{Display, Write};

/// The `Content-Type` of the format.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// What a family measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// Only ever goes up (names end in `_total`).
    Counter,
    /// Goes up and down.
    Gauge,
}

/// A page of metrics being written.
#[derive(Debug, Default)]
pub struct Page {
    text: String,
}

impl Page {
    /// An empty page.
    pub fn new() -> Page {
        Page::default()
    }

    /// Starts the family `name`.
    pub fn family(&mut self, name: &str, kind: Kind, help: &str) {
        let kind = match kind {
            Kind::Counter => "counter",
            Kind::Gauge => "gauge",
        };
        let _ = write!(self.text, "# HELP {name} {}\n# TYPE {name} {kind}\n", escape(help, false));
    }

    /// One sample of the family begun last.
    pub fn sample(&mut self, name: &str, labels: &[(&str, &str)], value: impl Display) {
        self.text.push_str(name);
        if !labels.is_empty() {
            self.text.push('{');
            for (i, (key, val)) in labels.iter().enumerate() {
                let comma = if i > 0 { "," } else { "" };
                let _ = write!(self.text, "{comma}{key}=\"{}\"", escape(val, true));
            }
            self.text.push('}');
        }
        let _ = writeln!(self.text, " {value}");
    }

    /// The page's text.
    pub fn finish(self) -> String {
        self.text
    }
}

/// `text` with backslashes and line feeds escaped (and double quotes, in a label
/// value), as the format wants.
fn escape(text: &str, quotes: bool) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '"' if quotes => out.push_str("\\\""),
            c => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_and_samples_are_written_as_prometheus_reads_them() {
        let mut page = Page::new();
        page.family("berth_containers", Kind::Gauge, "Containers, by state.");
        page.sample("berth_containers", &[("state", "running")], 2);
        page.sample("berth_containers", &[("state", "exited")], 0);
        page.family("berth_syscalls_total", Kind::Counter, "System calls since boot.");
        page.sample("berth_syscalls_total", &[], 12345u64);
        assert_eq!(
            page.finish(),
            "# HELP berth_containers Containers, by state.\n# TYPE berth_containers gauge\n\
             berth_containers{state=\"running\"} 2\nberth_containers{state=\"exited\"} 0\n\
             # HELP berth_syscalls_total System calls since boot.\n# TYPE berth_syscalls_total counter\n\
             berth_syscalls_total 12345\n"
        );
    }

    #[test]
    fn label_values_are_escaped() {
        let mut page = Page::new();
        page.sample("m", &[("name", "a\"b\\c\nd"), ("id", "x")], 1.5);
        assert_eq!(page.finish(), "m{name=\"a\\\"b\\\\c\\nd\",id=\"x\"} 1.5\n");
    }
}
