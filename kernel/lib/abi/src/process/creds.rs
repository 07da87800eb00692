//! User and group ids of a process and Linux's rules for changing them (`setuid(2)`,
//! `setreuid(2)`, `setresuid(2)`, `setfsuid(2)`, `setgroups(2)`). A process whose
//! effective uid is 0 holds every capability, as in a container's user namespace, and
//! may set any ids; others may only move between the ids they already have.

use crate::errno::{Errno, Result};
use alloc::vec::Vec;

/// Most supplementary groups (`NGROUPS_MAX`).
pub const NGROUPS_MAX: usize = 65_536;

/// Asks to read (as `access(2)`'s `R_OK`).
pub const MAY_READ: u32 = 4;
/// Asks to write (`W_OK`).
pub const MAY_WRITE: u32 = 2;
/// Asks to execute a file or search a directory (`X_OK`).
pub const MAY_EXEC: u32 = 1;

/// The file type bits of a mode, and a directory's.
const S_IFMT: u32 = 0o170_000;
const S_IFDIR: u32 = 0o040_000;
/// The sticky bit: in a directory, only owners may remove or rename entries.
const S_ISVTX: u32 = 0o1000;

/// Linux's `generic_permission`: the owner's, group's or others' bits of `mode` (the
/// first class `uid` and `in_group` fall in) must allow `want`; failing that, root
/// (holding CAP_DAC_OVERRIDE) may read and write anything, and execute what has an
/// execute bit or is a directory.
fn permits(mode: u32, owner: u32, group: u32, want: u32, uid: u32, in_group: impl Fn(u32) -> bool) -> bool {
    let bits = if uid == owner {
        (mode >> 6) & 7
    } else if in_group(group) {
        (mode >> 3) & 7
    } else {
        mode & 7
    };
    if want & !bits == 0 {
        return true;
    }
    uid == 0 && (want & MAY_EXEC == 0 || mode & S_IFMT == S_IFDIR || mode & 0o111 != 0)
}

/// The id given as -1 in the set calls: "leave it".
const UNCHANGED: u32 = u32::MAX;

/// The real, effective, saved and file-system ids of one kind (user or group).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Ids {
    /// Real.
    pub real: u32,
    /// Effective.
    pub effective: u32,
    /// Saved set-id.
    pub saved: u32,
    /// File-system (owner of new files, checked for access).
    pub fs: u32,
}

impl Ids {
    /// All four equal to `id`.
    pub const fn all(id: u32) -> Ids {
        Ids { real: id, effective: id, saved: id, fs: id }
    }

    fn holds(&self, id: u32) -> bool {
        id == self.real || id == self.effective || id == self.saved
    }

    /// `setuid(id)`: all of them when `privileged`, else the effective (and fs) id
    /// only, to the real or saved id.
    pub fn set(&mut self, id: u32, privileged: bool) -> Result<()> {
        if id == UNCHANGED {
            return Err(Errno::EINVAL);
        }
        if privileged {
            *self = Ids::all(id);
        } else if id == self.real || id == self.saved {
            self.effective = id;
            self.fs = id;
        } else {
            return Err(Errno::EPERM);
        }
        Ok(())
    }

    /// `setreuid(real, effective)`, -1 leaving one alone. Unprivileged, the real id may
    /// become the effective one and the effective one any of real, effective, saved.
    /// When the real id is set, or the effective one to other than the old real id,
    /// the saved id becomes the new effective id.
    pub fn set_re(&mut self, real: u32, effective: u32, privileged: bool) -> Result<()> {
        let old = *self;
        if !privileged {
            if real != UNCHANGED && real != old.real && real != old.effective {
                return Err(Errno::EPERM);
            }
            if effective != UNCHANGED && !old.holds(effective) {
                return Err(Errno::EPERM);
            }
        }
        if real != UNCHANGED {
            self.real = real;
        }
        if effective != UNCHANGED {
            self.effective = effective;
        }
        if real != UNCHANGED || (effective != UNCHANGED && effective != old.real) {
            self.saved = self.effective;
        }
        self.fs = self.effective;
        Ok(())
    }

    /// `setresuid(real, effective, saved)`, -1 leaving one alone; unprivileged, each to
    /// one of the three current ids.
    pub fn set_res(&mut self, real: u32, effective: u32, saved: u32, privileged: bool) -> Result<()> {
        let allowed = |id: u32| id == UNCHANGED || privileged || self.holds(id);
        if !(allowed(real) && allowed(effective) && allowed(saved)) {
            return Err(Errno::EPERM);
        }
        if real != UNCHANGED {
            self.real = real;
        }
        if effective != UNCHANGED {
            self.effective = effective;
        }
        if saved != UNCHANGED {
            self.saved = saved;
        }
        self.fs = self.effective;
        Ok(())
    }

    /// `setfsuid(id)`: returns the old fs id; changes it when privileged or to one of
    /// real, effective, saved, fs (never an error, as on Linux).
    pub fn set_fs(&mut self, id: u32, privileged: bool) -> u32 {
        let old = self.fs;
        if id != UNCHANGED && (privileged || self.holds(id) || id == self.fs) {
            self.fs = id;
        }
        old
    }
}

/// A process's credentials.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Credentials {
    /// User ids.
    pub uid: Ids,
    /// Group ids.
    pub gid: Ids,
    /// Supplementary groups.
    pub groups: Vec<u32>,
}

impl Credentials {
    /// Root: every id 0, no supplementary groups.
    pub fn root() -> Credentials {
        Credentials::of(0, 0, Vec::new())
    }

    /// A process started as user `uid` with group `gid` and `groups`.
    pub fn of(uid: u32, gid: u32, groups: Vec<u32>) -> Credentials {
        Credentials { uid: Ids::all(uid), gid: Ids::all(gid), groups }
    }

    /// Whether it may do what needs a capability (its effective uid is 0).
    pub fn privileged(&self) -> bool {
        self.uid.effective == 0
    }

    /// Whether it is in group `gid` (effective or supplementary).
    pub fn in_group(&self, gid: u32) -> bool {
        self.gid.effective == gid || self.groups.contains(&gid)
    }

    /// `setgroups`: only when privileged.
    pub fn set_groups(&mut self, groups: Vec<u32>) -> Result<()> {
        if !self.privileged() {
            return Err(Errno::EPERM);
        }
        if groups.len() > NGROUPS_MAX {
            return Err(Errno::EINVAL);
        }
        self.groups = groups;
        Ok(())
    }

    /// Whether the process may `want` ([`MAY_READ`] | [`MAY_WRITE`] | [`MAY_EXEC`]) a
    /// file of `mode` owned by `owner:group`, by its file-system ids.
    pub fn may_access(&self, mode: u32, owner: u32, group: u32, want: u32) -> bool {
        permits(mode, owner, group, want, self.uid.fs, |g| g == self.gid.fs || self.groups.contains(&g))
    }

    /// [`Self::may_access`] by the real ids, as `access(2)` asks.
    pub fn may_access_real(&self, mode: u32, owner: u32, group: u32, want: u32) -> bool {
        permits(mode, owner, group, want, self.uid.real, |g| g == self.gid.real || self.groups.contains(&g))
    }

    /// Whether the process may remove or rename an entry owned by `entry_owner` from a
    /// directory of `dir_mode` owned by `dir_owner` (it needs write and search
    /// permission on the directory too): in a sticky directory (`/tmp`) only the
    /// entry's or the directory's owner, or root, may.
    pub fn may_remove(&self, dir_mode: u32, dir_owner: u32, entry_owner: u32) -> bool {
        let uid = self.uid.fs;
        dir_mode & S_ISVTX == 0 || uid == 0 || uid == entry_owner || uid == dir_owner
    }

    /// Whether the process may change the mode or set the times of a file owned by
    /// `owner`: its owner, or root.
    pub fn owns_or_root(&self, owner: u32) -> bool {
        self.uid.fs == 0 || self.uid.fs == owner
    }

    /// Whether `chown` of a file owned by `owner:group` to `uid:gid` (-1 leaving one
    /// alone) is allowed: privileged, or the owner giving the file to a group it is in
    /// without changing the owner.
    pub fn may_chown(&self, owner: u32, uid: u32, gid: u32) -> bool {
        self.privileged()
            || (self.uid.fs == owner && (uid == UNCHANGED || uid == owner) && (gid == UNCHANGED || self.in_group(gid)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_modes_as_linux_reads_them() {
        let app = Credentials::of(1000, 1000, alloc::vec![50]);
        let file = |mode: u32| S_IFMT & 0o100_000 | mode;
        // Owner, group (supplementary too), others.
        assert!(app.may_access(file(0o600), 1000, 0, MAY_READ | MAY_WRITE));
        assert!(!app.may_access(file(0o600), 0, 0, MAY_READ));
        assert!(app.may_access(file(0o640), 0, 50, MAY_READ));
        assert!(!app.may_access(file(0o640), 0, 50, MAY_WRITE));
        assert!(app.may_access(file(0o644), 0, 0, MAY_READ));
        assert!(!app.may_access(file(0o644), 0, 0, MAY_WRITE));
        // The first class that matches decides: an owner without a bit is refused even
        // where others have it.
        assert!(!app.may_access(file(0o066), 1000, 0, MAY_READ));
        assert!(!app.may_access(file(0o644), 0, 0, MAY_EXEC));
        // Directories: write and search to create in them.
        assert!(!app.may_access(S_IFDIR | 0o755, 0, 0, MAY_WRITE | MAY_EXEC));
        assert!(app.may_access(S_IFDIR | 0o1777, 0, 0, MAY_WRITE | MAY_EXEC));

        let root = Credentials::root();
        assert!(root.may_access(file(0o000), 1000, 1000, MAY_READ | MAY_WRITE));
        assert!(!root.may_access(file(0o644), 1000, 1000, MAY_EXEC), "root needs some execute bit");
        assert!(root.may_access(file(0o100), 1000, 1000, MAY_EXEC));
        assert!(root.may_access(S_IFDIR, 1000, 1000, MAY_EXEC), "root searches any directory");

        // access(2) asks by the real ids: a setuid-root program run by app is app there.
        let mut setuid = Credentials::of(1000, 1000, alloc::vec![]);
        setuid.uid.effective = 0;
        setuid.uid.fs = 0;
        assert!(setuid.may_access(file(0o600), 0, 0, MAY_READ));
        assert!(!setuid.may_access_real(file(0o600), 0, 0, MAY_READ));
    }

    #[test]
    fn sticky_directories_and_owners() {
        let app = Credentials::of(1000, 1000, alloc::vec![]);
        assert!(app.may_remove(S_IFDIR | 0o1777, 0, 1000), "its own file in /tmp");
        assert!(!app.may_remove(S_IFDIR | 0o1777, 0, 1001), "another's file in /tmp");
        assert!(app.may_remove(S_IFDIR | 0o1777, 1000, 1001), "in its own sticky directory");
        assert!(app.may_remove(S_IFDIR | 0o777, 0, 1001), "no sticky bit");
        assert!(Credentials::root().may_remove(S_IFDIR | 0o1777, 5, 6));
        assert!(app.owns_or_root(1000) && !app.owns_or_root(0) && Credentials::root().owns_or_root(7));
    }

    #[test]
    fn root_drops_to_a_user_for_good_with_setuid() {
        let mut c = Credentials::root();
        let privileged = c.privileged();
        c.uid.set(33, privileged).unwrap();
        assert_eq!(c.uid, Ids::all(33));
        assert!(!c.privileged());
        assert_eq!(c.uid.set(0, false), Err(Errno::EPERM));
        assert_eq!(c.set_groups(alloc::vec![1]), Err(Errno::EPERM));
    }

    #[test]
    fn a_saved_id_lets_a_process_switch_back() {
        let mut uid = Ids::all(0);
        // Drop the effective id only (seteuid(1000) is setresuid(-1, 1000, -1)).
        uid.set_res(UNCHANGED, 1000, UNCHANGED, true).unwrap();
        assert_eq!(uid, Ids { real: 0, effective: 1000, saved: 0, fs: 1000 });
        // Unprivileged now, but 0 is still the real and saved id.
        uid.set_res(UNCHANGED, 0, UNCHANGED, false).unwrap();
        assert_eq!(uid.effective, 0);
        assert_eq!(uid.set_res(5, UNCHANGED, UNCHANGED, false), Err(Errno::EPERM));
    }

    #[test]
    fn setreuid_updates_the_saved_id_as_linux_does() {
        let mut uid = Ids { real: 1000, effective: 0, saved: 0, fs: 0 };
        uid.set_re(UNCHANGED, 1000, true).unwrap();
        // Effective set to the old real id: saved unchanged.
        assert_eq!(uid, Ids { real: 1000, effective: 1000, saved: 0, fs: 1000 });
        uid.set_re(UNCHANGED, 0, false).unwrap();
        assert_eq!(uid.effective, 0);
        // Swapping real and effective (unprivileged is allowed) sets saved.
        let mut swap = Ids { real: 1000, effective: 2000, saved: 2000, fs: 2000 };
        swap.set_re(2000, 1000, false).unwrap();
        assert_eq!(swap, Ids { real: 2000, effective: 1000, saved: 1000, fs: 1000 });
        assert_eq!(swap.set_re(3000, UNCHANGED, false), Err(Errno::EPERM));
    }

    #[test]
    fn setfsuid_never_fails_and_returns_the_old_id() {
        let mut uid = Ids::all(1000);
        assert_eq!(uid.set_fs(0, false), 1000);
        assert_eq!(uid.fs, 1000, "not allowed: unchanged");
        assert_eq!(uid.set_fs(UNCHANGED, false), 1000);
        assert_eq!(uid.set_fs(7, true), 1000);
        assert_eq!(uid.fs, 7);
    }

    #[test]
    fn chown_rules() {
        let user = Credentials::of(1000, 1000, alloc::vec![50]);
        assert!(user.may_chown(1000, UNCHANGED, 50));
        assert!(user.may_chown(1000, 1000, 1000));
        assert!(!user.may_chown(1000, 0, UNCHANGED), "giving a file away");
        assert!(!user.may_chown(0, UNCHANGED, 50), "not its file");
        assert!(!user.may_chown(1000, UNCHANGED, 4), "not its group");
        assert!(Credentials::root().may_chown(5, 6, 7));
    }
}
