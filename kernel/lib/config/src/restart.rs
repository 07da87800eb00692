//! Restart policies (`docker run --restart`): when a container that ended is started
//! again, at once or when the machine boots. The rules are moby's.

use alloc::format;
use alloc::string::String;

/// When a container is started again after it ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum RestartPolicy {
    /// Never (`no`, the default).
    #[default]
    No,
    /// Whenever it ends; after `docker stop`, only at the next boot.
    Always,
    /// Whenever it ends, unless it was stopped by hand (then not even at boot).
    UnlessStopped,
    /// When it ends with a status other than 0, at most `max` times (0: no limit).
    OnFailure {
        /// Most restarts (0: no limit).
        max: u32,
    },
}

/// How a container ended, as its restart policy weighs it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ending {
    /// Its exit status (255 if the machine went down under it).
    pub code: i32,
    /// Whether someone stopped it (`docker stop`, `docker kill`).
    pub stopped_by_hand: bool,
    /// Times it was restarted so far.
    pub restarts: u32,
}

impl RestartPolicy {
    /// The policy of a Docker `RestartPolicy` (`Name`, `MaximumRetryCount`), with the
    /// errors dockerd gives.
    pub fn parse(name: &str, max: i64) -> Result<RestartPolicy, String> {
        if max < 0 {
            return Err(format!("invalid restart policy: maximum retry count cannot be negative ({max})"));
        }
        let policy = match name {
            "" | "no" => RestartPolicy::No,
            "always" => RestartPolicy::Always,
            "unless-stopped" => RestartPolicy::UnlessStopped,
            "on-failure" => RestartPolicy::OnFailure { max: u32::try_from(max).unwrap_or(u32::MAX) },
            other => {
                return Err(format!(
                    "invalid restart policy: unknown policy '{other}'; use one of 'no', 'always', 'on-failure', or 'unless-stopped'"
                ));
            }
        };
        if max > 0 && !matches!(policy, RestartPolicy::OnFailure { .. }) {
            return Err(String::from("invalid restart policy: maximum retry count can only be used with 'on-failure'"));
        }
        Ok(policy)
    }

    /// Docker's name for it.
    pub fn name(&self) -> &'static str {
        match self {
            RestartPolicy::No => "no",
            RestartPolicy::Always => "always",
            RestartPolicy::UnlessStopped => "unless-stopped",
            RestartPolicy::OnFailure { .. } => "on-failure",
        }
    }

    /// The most restarts (`MaximumRetryCount`; 0 for none or no limit).
    pub fn max_retries(&self) -> u32 {
        match self {
            RestartPolicy::OnFailure { max } => *max,
            _ => 0,
        }
    }

    /// Whether a container that just ended so is started again now.
    pub fn restarts_now(&self, ending: Ending) -> bool {
        if ending.stopped_by_hand {
            return false;
        }
        match self {
            RestartPolicy::No => false,
            RestartPolicy::Always | RestartPolicy::UnlessStopped => true,
            RestartPolicy::OnFailure { max } => ending.code != 0 && (*max == 0 || ending.restarts < *max),
        }
    }

    /// Whether a container that ended so (or was running when the machine went down:
    /// `code` 255) is started when the machine boots.
    pub fn starts_at_boot(&self, ending: Ending) -> bool {
        match self {
            RestartPolicy::No => false,
            RestartPolicy::Always => true,
            RestartPolicy::UnlessStopped => !ending.stopped_by_hand,
            RestartPolicy::OnFailure { max } => {
                ending.code != 0 && !ending.stopped_by_hand && (*max == 0 || ending.restarts < *max)
            }
        }
    }

    /// How long to wait before restart number `restarts + 1`: 100 ms, doubling, at
    /// most a minute (as dockerd backs off a container that keeps failing).
    pub fn delay_ms(restarts: u32) -> u64 {
        (100u64 << restarts.min(10)).min(60_000)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ended(code: i32, stopped_by_hand: bool, restarts: u32) -> Ending {
        Ending { code, stopped_by_hand, restarts }
    }

    #[test]
    fn parses_dockers_names_and_refuses_what_dockerd_refuses() {
        assert_eq!(RestartPolicy::parse("", 0), Ok(RestartPolicy::No));
        assert_eq!(RestartPolicy::parse("always", 0), Ok(RestartPolicy::Always));
        assert_eq!(RestartPolicy::parse("on-failure", 3), Ok(RestartPolicy::OnFailure { max: 3 }));
        assert!(RestartPolicy::parse("sometimes", 0).unwrap_err().contains("unknown policy 'sometimes'"));
        assert!(RestartPolicy::parse("always", 2).unwrap_err().contains("only be used with 'on-failure'"));
        assert!(RestartPolicy::parse("on-failure", -1).is_err());
        assert_eq!(RestartPolicy::OnFailure { max: 3 }.name(), "on-failure");
    }

    #[test]
    fn restarts_as_moby_does() {
        let on_failure = RestartPolicy::OnFailure { max: 2 };
        assert!(on_failure.restarts_now(ended(1, false, 0)));
        assert!(on_failure.restarts_now(ended(1, false, 1)));
        assert!(!on_failure.restarts_now(ended(1, false, 2)), "the third restart is one too many");
        assert!(!on_failure.restarts_now(ended(0, false, 0)));
        assert!(RestartPolicy::OnFailure { max: 0 }.restarts_now(ended(1, false, 100)));
        for policy in [RestartPolicy::Always, RestartPolicy::UnlessStopped] {
            assert!(policy.restarts_now(ended(0, false, 7)));
            assert!(!policy.restarts_now(ended(0, true, 0)), "{policy:?} after docker stop");
        }
        assert!(!RestartPolicy::No.restarts_now(ended(1, false, 0)));
    }

    #[test]
    fn boots_as_moby_does() {
        assert!(RestartPolicy::Always.starts_at_boot(ended(0, true, 0)), "always comes back even after a stop");
        assert!(!RestartPolicy::UnlessStopped.starts_at_boot(ended(0, true, 0)));
        assert!(RestartPolicy::UnlessStopped.starts_at_boot(ended(255, false, 0)));
        assert!(RestartPolicy::OnFailure { max: 1 }.starts_at_boot(ended(255, false, 0)));
        assert!(!RestartPolicy::OnFailure { max: 1 }.starts_at_boot(ended(0, false, 0)));
        assert!(!RestartPolicy::OnFailure { max: 1 }.starts_at_boot(ended(1, false, 1)), "out of retries");
        assert!(!RestartPolicy::No.starts_at_boot(ended(255, false, 0)));
    }

    #[test]
    fn backs_off() {
        assert_eq!(RestartPolicy::delay_ms(0), 100);
        assert_eq!(RestartPolicy::delay_ms(3), 800);
        assert_eq!(RestartPolicy::delay_ms(40), 60_000);
    }
}
