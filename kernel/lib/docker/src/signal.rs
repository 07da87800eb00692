//! Signal names and numbers as `docker kill --signal` and `docker stop --signal` give
//! them (Linux x86_64 numbering).

use alloc::string::String;

/// The standard signals by number (1-31) and their names without `SIG`.
const NAMES: [(&str, i32); 31] = [
    ("HUP", 1),
    ("INT", 2),
    ("QUIT", 3),
    ("ILL", 4),
    ("TRAP", 5),
    ("ABRT", 6),
    ("BUS", 7),
    ("FPE", 8),
    ("KILL", 9),
    ("USR1", 10),
    ("SEGV", 11),
    ("USR2", 12),
    ("PIPE", 13),
    ("ALRM", 14),
    ("TERM", 15),
    ("STKFLT", 16),
    ("CHLD", 17),
    ("CONT", 18),
    ("STOP", 19),
    ("TSTP", 20),
    ("TTIN", 21),
    ("TTOU", 22),
    ("URG", 23),
    ("XCPU", 24),
    ("XFSZ", 25),
    ("VTALRM", 26),
    ("PROF", 27),
    ("WINCH", 28),
    ("IO", 29),
    ("PWR", 30),
    ("SYS", 31),
];

/// Other names Linux gives the same numbers.
const ALIASES: [(&str, i32); 4] = [("IOT", 6), ("CLD", 17), ("POLL", 29), ("UNUSED", 31)];

/// The first and last real-time signals as the C library numbers them.
const RTMIN: i32 = 34;
const RTMAX: i32 = 64;

/// The number of a signal given as a name (`TERM`, `SIGTERM`, `sigterm`, `RTMIN+3`,
/// `SIGRTMAX-1`) or a number (1-31, 34-64); `None` for anything else.
pub fn parse(s: &str) -> Option<i32> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        let n: i32 = s.parse().ok()?;
        return ((1..=31).contains(&n) || (RTMIN..=RTMAX).contains(&n)).then_some(n);
    }
    let upper = String::from(s).to_ascii_uppercase();
    let name = upper.strip_prefix("SIG").unwrap_or(&upper);
    if let Some(&(_, n)) = NAMES.iter().chain(ALIASES.iter()).find(|(known, _)| *known == name) {
        return Some(n);
    }
    let offset = |digits: &str| -> Option<i32> {
        (!digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit())).then(|| digits.parse().ok()).flatten()
    };
    let n = match name {
        "RTMIN" => RTMIN,
        "RTMAX" => RTMAX,
        _ => match (name.strip_prefix("RTMIN+"), name.strip_prefix("RTMAX-")) {
            (Some(d), _) => RTMIN + offset(d).filter(|&k| k <= RTMAX - RTMIN)?,
            (_, Some(d)) => RTMAX - offset(d).filter(|&k| k <= RTMAX - RTMIN)?,
            _ => return None,
        },
    };
    Some(n)
}

/// The name of signal `n` without `SIG` (`TERM`; `RTMIN+3` for real-time ones).
pub fn name(n: i32) -> Option<String> {
    if let Some((name, _)) = NAMES.iter().find(|(_, k)| *k == n) {
        return Some(String::from(*name));
    }
    match n {
        RTMIN => Some(String::from("RTMIN")),
        RTMAX => Some(String::from("RTMAX")),
        _ if (RTMIN..RTMAX).contains(&n) => Some(alloc::format!("RTMIN+{}", n - RTMIN)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn term_every_way() {
        for s in ["TERM", "SIGTERM", "sigterm", "Term", "sigTERM", "15"] {
            assert_eq!(parse(s), Some(15), "{s}");
        }
    }

    #[test]
    fn all_standard_names() {
        for (i, (name, n)) in NAMES.iter().enumerate() {
            assert_eq!(*n, i as i32 + 1);
            assert_eq!(parse(name), Some(*n));
            assert_eq!(parse(&alloc::format!("SIG{name}")), Some(*n));
            assert_eq!(parse(&name.to_ascii_lowercase()), Some(*n));
            assert_eq!(super::name(*n).as_deref(), Some(*name));
        }
        assert_eq!(parse("KILL"), Some(9));
        assert_eq!(parse("HUP"), Some(1));
        assert_eq!(parse("USR1"), Some(10));
        assert_eq!(parse("WINCH"), Some(28));
        assert_eq!(parse("SIGIOT"), Some(6));
        assert_eq!(parse("cld"), Some(17));
        assert_eq!(parse("POLL"), Some(29));
    }

    #[test]
    fn numbers() {
        for n in (1..=31).chain(34..=64) {
            assert_eq!(parse(&alloc::format!("{n}")), Some(n));
            assert!(name(n).is_some_and(|s| parse(&s) == Some(n)), "{n}");
        }
        for bad in ["0", "32", "33", "65", "-1", "+9", " 9", "9 ", "99999999999", "1.5"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
        assert_eq!(name(0), None);
        assert_eq!(name(32), None);
    }

    #[test]
    fn real_time() {
        assert_eq!(parse("RTMIN"), Some(34));
        assert_eq!(parse("SIGRTMIN+1"), Some(35));
        assert_eq!(parse("rtmin+30"), Some(64));
        assert_eq!(parse("RTMAX"), Some(64));
        assert_eq!(parse("SIGRTMAX-1"), Some(63));
        assert_eq!(parse("RTMAX-30"), Some(34));
        assert_eq!(name(64).as_deref(), Some("RTMAX"));
        assert_eq!(name(40).as_deref(), Some("RTMIN+6"));
        for bad in ["RTMIN+31", "RTMAX-31", "RTMIN+", "RTMIN-1", "RTMAX+1", "RTMIN+x"] {
            assert_eq!(parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn unknown() {
        for bad in ["", "SIG", "sig", "TERMINATE", "SIGSIGTERM", "STOPP", "EMT", "INFO", "LOST"] {
            assert_eq!(parse(bad), None, "{bad:?}");
        }
    }
}
