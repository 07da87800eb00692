//! Detach keys: the key sequence that, typed into an attached stream (`docker attach`,
//! `docker exec -it`), ends the client's attachment and leaves the program running.
//! Docker's default is `ctrl-p,ctrl-q`; clients may name others (`--detach-keys`, the
//! `detachKeys` config entry): a comma-separated list of single characters and
//! `ctrl-X` for X in `a`-`z`, `@`, `[`, `\`, `]`, `^` and `_`.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

/// Docker's default sequence.
pub const DEFAULT: &str = "ctrl-p,ctrl-q";

/// The bytes of a detach-key specification (`ctrl-p,ctrl-q`); empty means the default.
pub fn parse(spec: &str) -> Result<Vec<u8>, String> {
    let spec = if spec.is_empty() { DEFAULT } else { spec };
    spec.split(',')
        .map(|key| {
            let bad = || format!("Invalid detach keys ({spec}) provided");
            match key.strip_prefix("ctrl-") {
                Some(c) if c.len() == 1 => {
                    let c = c.as_bytes()[0].to_ascii_lowercase();
                    match c {
                        b'a'..=b'z' => Ok(c - b'a' + 1),
                        b'@' => Ok(0),
                        b'[' | b'\\' | b']' | b'^' | b'_' => Ok(c - b'@'),
                        _ => Err(bad()),
                    }
                }
                Some(_) => Err(bad()),
                None if key.len() == 1 => Ok(key.as_bytes()[0]),
                None => Err(bad()),
            }
        })
        .collect()
}

/// Watches a client's input for the detach keys, which may arrive split across reads.
#[derive(Debug, Clone)]
pub struct Detacher {
    keys: Vec<u8>,
    /// How many of the keys the input ends with so far (held back, not forwarded).
    matched: usize,
}

/// What a piece of input comes to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fed {
    /// Bytes to pass on to the program.
    pub forward: Vec<u8>,
    /// The keys were typed: end the attachment.
    pub detach: bool,
}

impl Detacher {
    /// A watcher for `keys` (from [`parse`]).
    pub fn new(keys: Vec<u8>) -> Detacher {
        Detacher { keys, matched: 0 }
    }

    /// Takes the next piece of input. A key that starts the sequence is held back
    /// until the sequence is complete (detach) or broken (then it is passed on).
    pub fn feed(&mut self, data: &[u8]) -> Fed {
        let mut forward = Vec::with_capacity(data.len());
        for &b in data {
            if self.keys.is_empty() {
                forward.push(b);
                continue;
            }
            if b == self.keys[self.matched] {
                self.matched += 1;
                if self.matched == self.keys.len() {
                    self.matched = 0;
                    return Fed { forward, detach: true };
                }
                continue;
            }
            // A broken sequence: what was held back goes on, and this byte may start anew.
            forward.extend_from_slice(&self.keys[..self.matched]);
            self.matched = usize::from(b == self.keys[0]);
            if self.matched == 0 {
                forward.push(b);
            }
        }
        Fed { forward, detach: false }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn specifications_read_as_docker_reads_them() {
        assert_eq!(parse(""), Ok(alloc::vec![0x10, 0x11]));
        assert_eq!(parse("ctrl-p,ctrl-q"), Ok(alloc::vec![0x10, 0x11]));
        assert_eq!(parse("ctrl-@,ctrl-[,a"), Ok(alloc::vec![0, 0x1b, b'a']));
        assert!(parse("ctrl-1").is_err());
        assert!(parse("ctrl-pq").is_err());
        assert!(parse("ab").is_err());
    }

    #[test]
    fn the_keys_detach_and_are_not_passed_on() {
        let mut d = Detacher::new(parse("").unwrap());
        assert_eq!(d.feed(b"hello\n"), Fed { forward: b"hello\n".to_vec(), detach: false });
        assert_eq!(d.feed(b"x\x10\x11y"), Fed { forward: b"x".to_vec(), detach: true });
    }

    #[test]
    fn keys_split_across_reads_still_detach() {
        let mut d = Detacher::new(parse("").unwrap());
        assert_eq!(d.feed(b"ab\x10"), Fed { forward: b"ab".to_vec(), detach: false });
        assert_eq!(d.feed(b"\x11"), Fed { forward: Vec::new(), detach: true });
    }

    #[test]
    fn a_broken_sequence_passes_its_keys_on() {
        let mut d = Detacher::new(parse("").unwrap());
        assert_eq!(d.feed(b"\x10z"), Fed { forward: b"\x10z".to_vec(), detach: false });
        // A repeated first key: the earlier one goes on, the later may still start it.
        assert_eq!(d.feed(b"\x10\x10"), Fed { forward: b"\x10".to_vec(), detach: false });
        assert_eq!(d.feed(b"\x11"), Fed { forward: Vec::new(), detach: true });
    }
}
