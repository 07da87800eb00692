//! `docker import --change` and `docker commit --change`: Dockerfile instructions that
//! set an image's [`RunConfig`] (CMD, ENTRYPOINT, ENV, EXPOSE, LABEL, USER, VOLUME,
//! WORKDIR), as the Docker daemon applies them.

use crate::config::{Empty, RunConfig};
use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

/// Why a change was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChangeError(pub String);

impl fmt::Display for ChangeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Applies one instruction, `CMD ["nginx", "-g", "daemon off;"]` say, to `config`.
pub fn apply(config: &mut RunConfig, change: &str) -> Result<(), ChangeError> {
    let change = change.trim();
    let (word, rest) = change.split_once(char::is_whitespace).unwrap_or((change, ""));
    let rest = rest.trim();
    let instruction = word.to_ascii_uppercase();
    let missing = || ChangeError(format!("{instruction} requires at least one argument"));
    match instruction.as_str() {
        "CMD" => config.cmd = Some(command(rest)?),
        "ENTRYPOINT" => config.entrypoint = Some(command(rest)?),
        "ENV" => {
            for (key, value) in pairs(rest, &instruction)? {
                // Replaced where it stands, as the Docker builder does.
                let entry = format!("{key}={value}");
                match config.env.iter_mut().find(|e| e.split_once('=').map_or(e.as_str(), |(k, _)| k) == key) {
                    Some(old) => *old = entry,
                    None => config.env.push(entry),
                }
            }
        }
        "LABEL" => {
            for (key, value) in pairs(rest, &instruction)? {
                config.labels.insert(key, value);
            }
        }
        "EXPOSE" => {
            let ports = words(rest)?;
            if ports.is_empty() {
                return Err(missing());
            }
            for port in ports {
                config.exposed_ports.insert(port_key(&port)?, Empty {});
            }
        }
        "USER" => {
            if rest.is_empty() {
                return Err(missing());
            }
            config.user = rest.to_string();
        }
        "WORKDIR" => {
            if rest.is_empty() {
                return Err(missing());
            }
            config.working_dir = if rest.starts_with('/') {
                rest.to_string()
            } else {
                let base = if config.working_dir.is_empty() { "/" } else { config.working_dir.as_str() };
                format!("{}/{rest}", base.trim_end_matches('/'))
            };
        }
        "VOLUME" => {
            let paths = match json_array(rest) {
                Some(list) => list,
                None => words(rest)?,
            };
            if paths.is_empty() {
                return Err(missing());
            }
            for path in paths {
                config.volumes.insert(path, Empty {});
            }
        }
        "" => return Err(ChangeError(String::from("an empty change"))),
        _ => return Err(ChangeError(format!("{word} is not a valid change command"))),
    }
    Ok(())
}

/// A CMD or ENTRYPOINT: the JSON (exec) form as it is, else the shell form run by
/// `/bin/sh -c`.
fn command(rest: &str) -> Result<Vec<String>, ChangeError> {
    if let Some(list) = json_array(rest) {
        return Ok(list);
    }
    Ok(vec![String::from("/bin/sh"), String::from("-c"), rest.to_string()])
}

/// `["a", "b"]`, if `text` is a JSON array of strings.
fn json_array(text: &str) -> Option<Vec<String>> {
    if !text.starts_with('[') {
        return None;
    }
    serde_json::from_str::<Vec<String>>(text).ok()
}

/// Words split at unquoted white space, with `"..."` and `'...'` quoting and `\`
/// escaping the next character (outside single quotes).
fn words(text: &str) -> Result<Vec<String>, ChangeError> {
    let mut out = Vec::new();
    let mut word = String::new();
    let mut in_word = false;
    let mut quote: Option<char> = None;
    let mut chars = text.chars();
    while let Some(c) = chars.next() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some('\''), c) => word.push(c),
            (_, '\\') => {
                let next = chars.next().ok_or_else(|| ChangeError(String::from("a trailing backslash")))?;
                word.push(next);
                in_word = true;
            }
            (Some(_), c) => word.push(c),
            (None, '"' | '\'') => {
                quote = Some(c);
                in_word = true;
            }
            (None, c) if c.is_whitespace() => {
                if in_word {
                    out.push(core::mem::take(&mut word));
                    in_word = false;
                }
            }
            (None, c) => {
                word.push(c);
                in_word = true;
            }
        }
    }
    if quote.is_some() {
        return Err(ChangeError(format!("unmatched quote in `{text}`")));
    }
    if in_word {
        out.push(word);
    }
    Ok(out)
}

/// ENV and LABEL arguments: `K=V K2="v 2"`, or the old form `K the value`.
fn pairs(rest: &str, instruction: &str) -> Result<Vec<(String, String)>, ChangeError> {
    let list = words(rest)?;
    if list.is_empty() {
        return Err(ChangeError(format!("{instruction} requires at least one argument")));
    }
    if !list[0].contains('=') {
        // `ENV KEY value with spaces`
        let (key, value) = rest.split_once(char::is_whitespace).unwrap_or((rest, ""));
        if value.trim().is_empty() {
            return Err(ChangeError(format!("{instruction} names must be followed by =VALUE (or a value)")));
        }
        return Ok(vec![(key.to_string(), words(value)?.join(" "))]);
    }
    list.into_iter()
        .map(|pair| match pair.split_once('=') {
            Some((k, v)) if !k.is_empty() => Ok((k.to_string(), v.to_string())),
            _ => Err(ChangeError(format!("{instruction}: `{pair}` is not KEY=VALUE"))),
        })
        .collect()
}

/// `80` → `80/tcp`; `53/udp` stays; a range or a bad number is refused.
fn port_key(port: &str) -> Result<String, ChangeError> {
    let (number, proto) = port.split_once('/').unwrap_or((port, "tcp"));
    let proto = proto.to_ascii_lowercase();
    let valid = !number.is_empty()
        && number.bytes().all(|b| b.is_ascii_digit())
        && number.parse::<u16>().is_ok_and(|p| p != 0)
        && matches!(proto.as_str(), "tcp" | "udp" | "sctp");
    if !valid {
        return Err(ChangeError(format!("invalid port `{port}` in EXPOSE")));
    }
    Ok(format!("{number}/{proto}"))
}
