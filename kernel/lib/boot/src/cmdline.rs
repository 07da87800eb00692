//! The kernel command line: `key=value` settings and bare flags.

use alloc::string::String;
use alloc::vec::Vec;

/// A parsed command line. Words are separated by spaces; double quotes keep spaces
/// inside a value (`motd="hello world"`). A later setting of a key overrides an earlier.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelArgs {
    words: Vec<(String, Option<String>)>,
}

impl KernelArgs {
    /// Parses a command line. Parsing never fails: an unterminated quote runs to the end.
    pub fn parse(line: &str) -> KernelArgs {
        let mut words = Vec::new();
        for word in split_words(line) {
            match word.split_once('=') {
                Some((k, v)) => words.push((String::from(k), Some(String::from(v)))),
                None => words.push((word, None)),
            }
        }
        KernelArgs { words }
    }

    /// The value of `key=value`, if set.
    pub fn get(&self, key: &str) -> Option<&str> {
        self.words.iter().rev().find(|(k, v)| k == key && v.is_some()).and_then(|(_, v)| v.as_deref())
    }

    /// Every value of a repeatable `key=value` (`insecure-registry=a insecure-registry=b`),
    /// in order.
    pub fn get_all<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.words.iter().filter(move |(k, _)| k == key).filter_map(|(_, v)| v.as_deref())
    }

    /// Whether the bare flag `flag` (or `flag=...`) is present.
    pub fn has(&self, flag: &str) -> bool {
        self.words.iter().any(|(k, _)| k == flag)
    }

    /// The value of `key` parsed as a number, if set and valid.
    pub fn number(&self, key: &str) -> Option<u64> {
        self.get(key).and_then(|v| v.parse().ok())
    }
}

/// Splits a line into words, honouring double quotes (`"a b"` is one word).
pub fn split_words(line: &str) -> Vec<String> {
    let mut words = Vec::new();
    let mut current = String::new();
    let (mut in_quotes, mut in_word) = (false, false);
    for c in line.chars() {
        match c {
            '"' => {
                in_quotes = !in_quotes;
                in_word = true;
            }
            c if c.is_whitespace() && !in_quotes => {
                if in_word {
                    words.push(core::mem::take(&mut current));
                    in_word = false;
                }
            }
            c => {
                current.push(c);
                in_word = true;
            }
        }
    }
    if in_word {
        words.push(current);
    }
    words
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_and_flags() {
        let args = KernelArgs::parse("  log=debug test=timer quiet hz=250 log=info ");
        assert_eq!(args.get("log"), Some("info"));
        assert_eq!(args.get("test"), Some("timer"));
        assert!(args.has("quiet"));
        assert!(!args.has("loud"));
        assert_eq!(args.number("hz"), Some(250));
        assert_eq!(args.get("quiet"), None);
        assert_eq!(args.get_all("log").collect::<Vec<_>>(), ["debug", "info"]);
        assert_eq!(args.get_all("quiet").count(), 0);
    }

    #[test]
    fn quotes_keep_spaces() {
        let args = KernelArgs::parse(r#"motd="hello  world" x="""#);
        assert_eq!(args.get("motd"), Some("hello  world"));
        assert_eq!(args.get("x"), Some(""));
    }
}
