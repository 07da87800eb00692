//! Which user a container's first process runs as: the image's or the creator's `User`
//! (`name`, `uid`, `name:group`, `uid:gid`) looked up in the container's own
//! `/etc/passwd` and `/etc/group`, as runc does.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

/// The ids and home directory a `User` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecUser {
    /// User id.
    pub uid: u32,
    /// Primary group id.
    pub gid: u32,
    /// Supplementary groups: those of `/etc/group` that list the user by name.
    pub groups: Vec<u32>,
    /// Home directory (`/` when the user has no passwd entry).
    pub home: String,
}

/// One line of `/etc/passwd`: name, uid, gid and home.
fn passwd_entries(passwd: &str) -> impl Iterator<Item = (&str, u32, u32, &str)> {
    passwd.lines().filter_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() < 6 || line.starts_with('#') {
            return None;
        }
        Some((f[0], f[2].parse().ok()?, f[3].parse().ok()?, f[5]))
    })
}

/// One line of `/etc/group`: name, gid and members.
fn group_entries(group: &str) -> impl Iterator<Item = (&str, u32, Vec<&str>)> {
    group.lines().filter_map(|line| {
        let f: Vec<&str> = line.split(':').collect();
        if f.len() < 3 || line.starts_with('#') {
            return None;
        }
        let members = f.get(3).map_or(Vec::new(), |m| m.split(',').filter(|s| !s.is_empty()).collect());
        Some((f[0], f[2].parse().ok()?, members))
    })
}

/// Resolves `spec` against the container's `passwd` and `group` files (`None` when
/// the image has none). Empty means root.
pub fn resolve(spec: &str, passwd: Option<&str>, group: Option<&str>) -> Result<ExecUser, String> {
    let (user, grp) = match spec.split_once(':') {
        Some((u, g)) => (u, Some(g)),
        None => (spec, None),
    };
    let user = if user.is_empty() { "0" } else { user };
    let numeric = |s: &str| s.bytes().all(|b| b.is_ascii_digit()).then(|| s.parse::<u32>().ok()).flatten();
    let entry =
        passwd.and_then(|p| passwd_entries(p).find(|(name, uid, _, _)| *name == user || numeric(user) == Some(*uid)));
    let (name, uid, mut gid, home) = match (entry, numeric(user)) {
        (Some((name, uid, gid, home)), _) => (Some(name), uid, gid, home.to_string()),
        (None, Some(uid)) => (None, uid, 0, String::from("/")),
        (None, None) => {
            return Err(format!("unable to find user {user}: no matching entries in passwd file"));
        }
    };
    if let Some(grp) = grp.filter(|g| !g.is_empty()) {
        let found = group.and_then(|g| group_entries(g).find(|(n, id, _)| *n == grp || numeric(grp) == Some(*id)));
        gid = match (found, numeric(grp)) {
            (Some((_, id, _)), _) => id,
            (None, Some(id)) => id,
            (None, None) => return Err(format!("unable to find group {grp}: no matching entries in group file")),
        };
    }
    let mut groups: Vec<u32> = match (name, grp) {
        // An explicit group replaces the supplementary ones, as in runc.
        (Some(name), None) => group
            .map(|g| group_entries(g).filter(|(_, _, members)| members.contains(&name)).map(|(_, id, _)| id).collect())
            .unwrap_or_default(),
        _ => Vec::new(),
    };
    groups.dedup();
    Ok(ExecUser { uid, gid, groups, home })
}

/// Adds the groups `extra` names (`--group-add`: numbers, or names of the group file)
/// to `user`'s supplementary groups, as runc does; a name the file lacks is an error.
pub fn add_groups(user: &mut ExecUser, extra: &[String], group: Option<&str>) -> Result<(), String> {
    for name in extra {
        let id = match name.parse::<u32>() {
            Ok(id) => id,
            Err(_) => group
                .and_then(|g| group_entries(g).find(|(n, _, _)| n == name))
                .map(|(_, id, _)| id)
                .ok_or_else(|| format!("unable to find group {name}: no matching entries in group file"))?,
        };
        user.groups.push(id);
    }
    user.groups.sort_unstable();
    user.groups.dedup();
    Ok(())
}
