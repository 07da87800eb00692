//! Directory entries as `getdents64` (and the older `getdents`) return them.

abi_consts! {
    DIRENT_CONSTS: Libc;
    /// `d_type`: unknown; the caller must `stat`.
    pub const DT_UNKNOWN: u8 = 0;
    /// `d_type`: FIFO.
    pub const DT_FIFO: u8 = 1;
    /// `d_type`: character device.
    pub const DT_CHR: u8 = 2;
    /// `d_type`: directory.
    pub const DT_DIR: u8 = 4;
    /// `d_type`: block device.
    pub const DT_BLK: u8 = 6;
    /// `d_type`: regular file.
    pub const DT_REG: u8 = 8;
    /// `d_type`: symbolic link.
    pub const DT_LNK: u8 = 10;
    /// `d_type`: socket.
    pub const DT_SOCK: u8 = 12;
    /// Offset of `d_name` in a `struct linux_dirent64` record (after `d_ino`, `d_off`,
    /// `d_reclen` and `d_type`).
    pub const DIRENT64_NAME_OFFSET: usize = 19 => "offsetof(struct dirent64, d_name)";
}

/// The `d_type` of a mode's file type (`IFTODT`: the type bits shifted down by 12).
pub const fn mode_to_dtype(mode: u32) -> u8 {
    ((mode & super::S_IFMT) >> 12) as u8
}

const fn align8(n: usize) -> usize {
    (n + 7) & !7
}

/// Appends one `struct linux_dirent64` to `buf` at `off`; returns its length (`d_reclen`),
/// or `None` if it does not fit, in which case `buf` is unchanged.
///
/// The record is `d_ino: u64, d_off: i64, d_reclen: u16, d_type: u8`, the name and a NUL,
/// zero-padded to a multiple of 8. `next_off` is the directory offset a later `lseek`
/// resumes at: the position *after* this entry. `name` must not contain NUL.
pub fn push_dirent64(buf: &mut [u8], off: usize, ino: u64, next_off: i64, d_type: u8, name: &str) -> Option<usize> {
    let reclen = align8(DIRENT64_NAME_OFFSET + name.len() + 1);
    let rec = buf.get_mut(off..off.checked_add(reclen)?)?;
    let reclen16 = u16::try_from(reclen).ok()?;
    rec[0..8].copy_from_slice(&ino.to_ne_bytes());
    rec[8..16].copy_from_slice(&next_off.to_ne_bytes());
    rec[16..18].copy_from_slice(&reclen16.to_ne_bytes());
    rec[18] = d_type;
    let (name_out, pad) = rec[DIRENT64_NAME_OFFSET..].split_at_mut(name.len());
    name_out.copy_from_slice(name.as_bytes());
    pad.fill(0);
    Some(reclen)
}

/// Appends one old-style `struct linux_dirent` (for syscall 78, `getdents`) to `buf` at
/// `off`; returns its length, or `None` if it does not fit.
///
/// The record is `d_ino: u64, d_off: i64, d_reclen: u16`, the name and a NUL, padding, and
/// `d_type` in the record's last byte.
pub fn push_dirent(buf: &mut [u8], off: usize, ino: u64, next_off: i64, d_type: u8, name: &str) -> Option<usize> {
    const NAME: usize = 18;
    let reclen = align8(NAME + name.len() + 2);
    let rec = buf.get_mut(off..off.checked_add(reclen)?)?;
    let reclen16 = u16::try_from(reclen).ok()?;
    rec[0..8].copy_from_slice(&ino.to_ne_bytes());
    rec[8..16].copy_from_slice(&next_off.to_ne_bytes());
    rec[16..18].copy_from_slice(&reclen16.to_ne_bytes());
    let (name_out, pad) = rec[NAME..].split_at_mut(name.len());
    name_out.copy_from_slice(name.as_bytes());
    pad.fill(0);
    rec[reclen - 1] = d_type;
    Some(reclen)
}
