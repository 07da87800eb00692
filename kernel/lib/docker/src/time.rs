//! Times as the Docker Engine API writes them: RFC 3339 timestamps, and the human
//! durations of the `Status` column (`Up 5 seconds`, `Exited (0) 3 minutes ago`).

use alloc::format;
use alloc::string::String;

const SECOND: u64 = 1_000_000_000;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;

/// Docker's zero time, written for a moment that never happened (a container not yet
/// started has `"StartedAt": "0001-01-01T00:00:00Z"`).
pub const ZERO_TIME: &str = "0001-01-01T00:00:00Z";

/// The UTC time `unix_ns` nanoseconds after 1970 in RFC 3339 as Go writes it
/// (`RFC3339Nano`): `2026-11-23T10:00:00.123456789Z`, trailing zeros of the fraction
/// dropped (`...T10:00:00.5Z`, `...T10:00:00Z`). 0 gives Docker's zero time,
/// [`ZERO_TIME`].
pub fn rfc3339(unix_ns: u64) -> String {
    if unix_ns == 0 {
        return String::from(ZERO_TIME);
    }
    let secs = unix_ns / SECOND;
    let (days, in_day) = (secs / 86_400, secs % 86_400);
    let (year, month, day) = civil_from_days(days);
    let (h, m, s) = (in_day / 3600, in_day / 60 % 60, in_day % 60);
    let mut text = format!("{year:04}-{month:02}-{day:02}T{h:02}:{m:02}:{s:02}");
    let fraction = unix_ns % SECOND;
    if fraction != 0 {
        let digits = format!("{fraction:09}");
        text.push('.');
        text.push_str(digits.trim_end_matches('0'));
    }
    text.push('Z');
    text
}

/// Reads an RFC 3339 time (`2024-11-26T18:42:08.123Z`, `...+02:00`) as ns after 1970;
/// `None` for anything else or a time before 1970.
pub fn parse_rfc3339(text: &str) -> Option<u64> {
    let b = text.as_bytes();
    let digits = |from: usize, len: usize| -> Option<u64> {
        let part = b.get(from..from + len)?;
        part.iter().all(u8::is_ascii_digit).then(|| part.iter().fold(0, |n, d| n * 10 + u64::from(d - b'0')))
    };
    let (year, month, day) = (digits(0, 4)?, digits(5, 2)?, digits(8, 2)?);
    let (h, m, s) = (digits(11, 2)?, digits(14, 2)?, digits(17, 2)?);
    if b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') || !matches!(b.get(10), Some(b'T' | b't' | b' ')) {
        return None;
    }
    if b.get(13) != Some(&b':') || b.get(16) != Some(&b':') || !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    if h > 23 || m > 59 || s > 60 {
        return None;
    }
    let mut at = 19;
    let mut fraction = 0;
    if b.get(at) == Some(&b'.') {
        at += 1;
        let start = at;
        while b.get(at).is_some_and(u8::is_ascii_digit) {
            at += 1;
        }
        if at == start {
            return None;
        }
        let used = (at - start).min(9);
        fraction = digits(start, used)? * 10u64.pow(9 - used as u32);
    }
    let offset: i64 = match b.get(at)? {
        b'Z' | b'z' if at + 1 == b.len() => 0,
        sign @ (b'+' | b'-') if at + 6 == b.len() && b[at + 3] == b':' => {
            let minutes = (digits(at + 1, 2)? * 60 + digits(at + 4, 2)?) as i64;
            if *sign == b'+' { minutes * 60 } else { -minutes * 60 }
        }
        _ => return None,
    };
    let days = days_from_civil(year, month, day)?;
    let secs = (days * 86_400 + h * 3600 + m * 60 + s) as i64 - offset;
    u64::try_from(secs).ok()?.checked_mul(SECOND)?.checked_add(fraction)
}

/// Days from 1970-01-01 to a date on or after it (the inverse of `civil_from_days`).
fn days_from_civil(year: u64, month: u64, day: u64) -> Option<u64> {
    let y = if month <= 2 { year.checked_sub(1)? } else { year };
    let era = y / 400;
    let yoe = y % 400;
    let mp = if month > 2 { month - 3 } else { month + 9 };
    let doy = (153 * mp + 2) / 5 + day - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    (era * 146_097 + doe).checked_sub(719_468)
}

/// The proleptic Gregorian date `days` days after 1970-01-01 (Howard Hinnant's
/// `civil_from_days`, for days on or after the epoch).
fn civil_from_days(days: u64) -> (u64, u64, u64) {
    let z = days + 719_468;
    let era = z / 146_097;
    let doe = z % 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + u64::from(month <= 2);
    (year, month, day)
}

/// A duration as Docker's `units.HumanDuration` words it: `Less than a second`,
/// `1 second`, `N seconds`, `About a minute`, `N minutes`, `About an hour`, `N hours`
/// (hours rounded, up to 47), `N days` (under 2 weeks), `N weeks` (under 60 days),
/// `N months` (30 days each, under 2 years), `N years`.
pub fn human_duration(ns: u64) -> String {
    let seconds = ns / SECOND;
    let minutes = ns / MINUTE;
    // Go rounds to the nearest hour here: int(d.Hours() + 0.5).
    let hours = ns.saturating_add(HOUR / 2) / HOUR;
    match () {
        _ if seconds < 1 => String::from("Less than a second"),
        _ if seconds == 1 => String::from("1 second"),
        _ if seconds < 60 => format!("{seconds} seconds"),
        _ if minutes == 1 => String::from("About a minute"),
        _ if minutes < 60 => format!("{minutes} minutes"),
        _ if hours == 1 => String::from("About an hour"),
        _ if hours < 48 => format!("{hours} hours"),
        _ if hours < 24 * 7 * 2 => format!("{} days", hours / 24),
        _ if hours < 24 * 30 * 2 => format!("{} weeks", hours / 24 / 7),
        _ if hours < 24 * 365 * 2 => format!("{} months", hours / 24 / 30),
        // Years count whole hours, not rounded ones.
        _ => format!("{} years", ns / HOUR / 24 / 365),
    }
}

/// A container's `Status` column as the Docker daemon writes it: `Up 5 seconds` while
/// it runs, `Created` if it never started, else `Exited (CODE) 3 minutes ago`.
/// `started_ago_ns` and `finished_ago_ns` are how long ago it started and ended.
pub fn status_text(
    running: bool,
    started_ago_ns: u64,
    exit_code: i64,
    finished_ago_ns: u64,
    created_only: bool,
) -> String {
    if running {
        format!("Up {}", human_duration(started_ago_ns))
    } else if created_only {
        String::from("Created")
    } else {
        format!("Exited ({exit_code}) {} ago", human_duration(finished_ago_ns))
    }
}

/// A CPU time as `ps` shows it in its `TIME` column: `HH:MM:SS` (hours may exceed 24).
pub fn ps_time(ns: u64) -> String {
    let secs = ns / SECOND;
    format!("{:02}:{:02}:{:02}", secs / 3600, secs / 60 % 60, secs % 60)
}

/// A start time as `ps` shows it in its `STIME` column (the UTC time of day `HH:MM`).
pub fn ps_start(unix_ns: u64) -> String {
    let in_day = unix_ns / SECOND % 86_400;
    format!("{:02}:{:02}", in_day / 3600, in_day / 60 % 60)
}

#[cfg(test)]
mod tests {
    use super::*;

    const S: u64 = SECOND;
    const MIN: u64 = MINUTE;
    const H: u64 = HOUR;
    const DAY: u64 = 24 * H;

    #[test]
    fn timestamps() {
        assert_eq!(rfc3339(0), "0001-01-01T00:00:00Z");
        assert_eq!(rfc3339(1), "1970-01-01T00:00:00.000000001Z");
        assert_eq!(rfc3339(S), "1970-01-01T00:00:01Z");
        assert_eq!(rfc3339(1_795_428_000 * S + 123_456_789), "2026-11-23T10:00:00.123456789Z");
        assert_eq!(rfc3339(1_795_428_000 * S + 500_000_000), "2026-11-23T10:00:00.5Z");
        assert_eq!(rfc3339(1_795_428_000 * S + 120_000), "2026-11-23T10:00:00.00012Z");
        assert_eq!(rfc3339(1_795_428_000 * S), "2026-11-23T10:00:00Z");
        assert_eq!(rfc3339(946_684_799 * S), "1999-12-31T23:59:59Z");
        assert_eq!(rfc3339(946_684_800 * S), "2000-01-01T00:00:00Z");
        for ns in [1, S, 1_795_428_000 * S + 123_456_789, 946_684_799 * S, 951_782_400 * S, 4_102_444_800 * S] {
            assert_eq!(parse_rfc3339(&rfc3339(ns)), Some(ns), "{}", rfc3339(ns));
        }
        assert_eq!(parse_rfc3339("2026-11-23T12:00:00+02:00"), Some(1_795_428_000 * S));
        assert_eq!(parse_rfc3339("2026-11-23T05:30:00.5-04:30"), Some(1_795_428_000 * S + S / 2));
        for bad in [
            "",
            "2026-11-23",
            "2026-13-01T00:00:00Z",
            "2026-11-23T10:00:00",
            "1969-12-31T23:59:59Z",
            "2026-11-23T10:00:00.Z",
            "2026-11-23T10:00:00Zjunk",
            "9999-12-31T23:59:59Z", // past what u64 nanoseconds hold
        ] {
            assert_eq!(parse_rfc3339(bad), None, "{bad}");
        }
        assert_eq!(rfc3339(951_782_400 * S), "2000-02-29T00:00:00Z");
        assert_eq!(rfc3339(951_868_800 * S), "2000-03-01T00:00:00Z");
        assert_eq!(rfc3339(4_107_542_399 * S), "2100-02-28T23:59:59Z");
        assert_eq!(rfc3339(4_107_542_400 * S), "2100-03-01T00:00:00Z");
        assert_eq!(rfc3339(1_735_689_599 * S + 999_999_999), "2024-12-31T23:59:59.999999999Z");
        assert_eq!(rfc3339(1_735_689_600 * S), "2025-01-01T00:00:00Z");
        assert_eq!(rfc3339(u64::MAX), "2554-07-21T23:34:33.709551615Z");
    }

    #[test]
    fn every_day_of_four_centuries_is_consecutive() {
        let mut last = (1969, 12, 31);
        for days in 0..146_097 * 2 {
            let (y, m, d) = civil_from_days(days);
            let next = match last {
                (y0, 12, 31) => (y0 + 1, 1, 1),
                (y0, m0, _) if d == 1 => (y0, m0 + 1, 1),
                (y0, m0, d0) => (y0, m0, d0 + 1),
            };
            assert_eq!((y, m, d), next, "day {days}");
            let leap = y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
            let month_len = [31, if leap { 29 } else { 28 }, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
            assert!(d <= month_len[m as usize - 1]);
            last = (y, m, d);
        }
    }

    #[test]
    fn human_durations_at_their_boundaries() {
        let cases = [
            (0, "Less than a second"),
            (S - 1, "Less than a second"),
            (S, "1 second"),
            (2 * S - 1, "1 second"),
            (2 * S, "2 seconds"),
            (59 * S + S - 1, "59 seconds"),
            (60 * S, "About a minute"),
            (2 * MIN - 1, "About a minute"),
            (2 * MIN, "2 minutes"),
            (59 * MIN + 59 * S, "59 minutes"),
            (60 * MIN, "About an hour"),
            (90 * MIN - 1, "About an hour"),
            (90 * MIN, "2 hours"),
            (47 * H + 30 * MIN - 1, "47 hours"),
            (47 * H + 30 * MIN, "2 days"),
            (13 * DAY + 23 * H + 29 * MIN, "13 days"),
            (13 * DAY + 23 * H + 30 * MIN, "2 weeks"),
            (59 * DAY + 23 * H + 29 * MIN, "8 weeks"),
            (59 * DAY + 23 * H + 30 * MIN, "2 months"),
            (729 * DAY + 23 * H + 29 * MIN, "24 months"),
            (729 * DAY + 23 * H + 30 * MIN, "1 years"),
            (730 * DAY, "2 years"),
            (3650 * DAY, "10 years"),
            (u64::MAX, "584 years"),
        ];
        for (ns, want) in cases {
            assert_eq!(human_duration(ns), want, "{ns} ns");
        }
    }

    #[test]
    fn status_column() {
        assert_eq!(status_text(true, 5 * S, 0, 0, false), "Up 5 seconds");
        assert_eq!(status_text(true, 0, 0, 0, false), "Up Less than a second");
        assert_eq!(status_text(true, 3 * H, 0, 0, false), "Up 3 hours");
        assert_eq!(status_text(false, 10 * MIN, 0, 3 * MIN, false), "Exited (0) 3 minutes ago");
        assert_eq!(status_text(false, 10 * MIN, 137, 70 * S, false), "Exited (137) About a minute ago");
        assert_eq!(status_text(false, 0, 0, 0, true), "Created");
    }

    #[test]
    fn ps_columns() {
        assert_eq!(ps_time(0), "00:00:00");
        assert_eq!(ps_time(3_723 * SECOND + 999), "01:02:03");
        assert_eq!(ps_time(100 * HOUR), "100:00:00");
        assert_eq!(ps_start(1_700_000_000 * SECOND), "22:13");
    }
}
