//! File system checks: read/write, metadata, directories, links and a 1 MiB file.

use std::collections::BTreeSet;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::fs::{FileExt, MetadataExt, PermissionsExt, symlink};
use std::time::{Duration, SystemTime};

use super::{FNV_START, XorShift, fnv1a, scratch};
use crate::report::{Context, Outcome, ensure};

/// Write, read back, append, seek and read, positional read and write.
pub fn read_write() -> Outcome {
    let path = scratch("rw")?.join("data.txt");
    fs::write(&path, "hello\n").ctx("write")?;
    let text = fs::read_to_string(&path).ctx("read")?;
    ensure!(text == "hello\n", "read back {text:?}, wrote \"hello\\n\"");

    OpenOptions::new().append(true).open(&path).ctx("open for append")?.write_all(b"world\n").ctx("append")?;
    let text = fs::read_to_string(&path).ctx("read after append")?;
    ensure!(text == "hello\nworld\n", "after append read {text:?}");

    let mut file = File::open(&path).ctx("open")?;
    let at = file.seek(SeekFrom::Start(6)).ctx("seek to 6")?;
    ensure!(at == 6, "seek to 6 returned {at}");
    let mut rest = String::new();
    file.read_to_string(&mut rest).ctx("read after seek")?;
    ensure!(rest == "world\n", "read after seek to 6 gave {rest:?}");
    let at = file.seek(SeekFrom::End(-3)).ctx("seek from end")?;
    ensure!(at == 9, "seek to end-3 returned {at}, want 9");
    let at = file.seek(SeekFrom::Current(-2)).ctx("seek from current")?;
    ensure!(at == 7, "seek current-2 returned {at}, want 7");
    let mut two = [0; 2];
    file.read_exact(&mut two).ctx("read after relative seek")?;
    ensure!(&two == b"or", "read at 7 gave {two:?}");

    let file = OpenOptions::new().read(true).write(true).open(&path).ctx("open read-write")?;
    file.write_all_at(b"HELLO", 0).ctx("pwrite")?;
    let mut five = [0; 5];
    file.read_exact_at(&mut five, 6).ctx("pread")?;
    ensure!(&five == b"world", "pread at 6 gave {five:?}");
    let text = fs::read_to_string(&path).ctx("read after pwrite")?;
    ensure!(text == "HELLO\nworld\n", "after pwrite read {text:?}");
    fs::remove_file(&path).ctx("remove")?;
    ensure!(!path.exists(), "file still exists after remove");
    Ok(())
}

/// Length, kind, permissions and modification time.
pub fn metadata() -> Outcome {
    let dir = scratch("meta")?;
    let path = dir.join("data.txt");
    let before = SystemTime::now();
    fs::write(&path, [7u8; 1234]).ctx("write")?;
    let after = SystemTime::now();
    let meta = fs::metadata(&path).ctx("metadata")?;
    ensure!(meta.len() == 1234, "len {} after writing 1234 bytes", meta.len());
    ensure!(meta.is_file() && !meta.is_dir() && !meta.is_symlink(), "a regular file has type {:?}", meta.file_type());
    let file_meta = File::open(&path).ctx("open")?.metadata().ctx("fstat")?;
    ensure!(file_meta.ino() == meta.ino() && file_meta.len() == 1234, "fstat and stat disagree");

    let slack = Duration::from_secs(2);
    let modified = meta.modified().ctx("modified time")?;
    ensure!(
        modified + slack >= before && modified <= after + slack,
        "mtime {modified:?} is not between {before:?} and {after:?}"
    );

    fs::set_permissions(&path, fs::Permissions::from_mode(0o640)).ctx("chmod")?;
    let mode = fs::metadata(&path).ctx("metadata after chmod")?.permissions().mode();
    ensure!(mode & 0o7777 == 0o640, "mode {mode:o} after chmod 640");
    ensure!(mode & 0o170000 == 0o100000, "mode {mode:o} is not a regular file's");
    let dir_meta = fs::metadata(&dir).ctx("metadata of dir")?;
    ensure!(dir_meta.is_dir() && !dir_meta.is_file(), "a directory has type {:?}", dir_meta.file_type());
    Ok(())
}

/// Create, rename, list and remove entries and directories.
pub fn directories() -> Outcome {
    let dir = scratch("dir")?;
    let sub = dir.join("sub");
    fs::create_dir(&sub).ctx("mkdir")?;
    let exists = fs::create_dir(&sub).map_err(|e| e.kind());
    ensure!(exists == Err(io::ErrorKind::AlreadyExists), "mkdir of an existing dir gave {exists:?}");
    for name in ["a", "b", "c"] {
        fs::write(sub.join(name), name).ctx("write")?;
    }
    fs::rename(sub.join("a"), sub.join("d")).ctx("rename")?;
    ensure!(fs::read_to_string(sub.join("d")).ctx("read renamed")? == "a", "renamed file lost its contents");
    ensure!(!sub.join("a").exists(), "old name still exists after rename");

    let mut names = BTreeSet::new();
    for entry in fs::read_dir(&sub).ctx("read_dir")? {
        let entry = entry.ctx("read_dir entry")?;
        ensure!(entry.file_type().ctx("entry type")?.is_file(), "entry {:?} is not a file", entry.file_name());
        names.insert(entry.file_name().into_string().map_err(|name| format!("entry name {name:?}"))?);
    }
    let want: BTreeSet<String> = ["b", "c", "d"].map(String::from).into();
    ensure!(names == want, "read_dir listed {names:?}, want {want:?}");

    fs::rename(sub.join("b"), dir.join("b")).ctx("rename into parent dir")?;
    let not_empty = fs::remove_dir(&sub).map_err(|e| e.kind());
    ensure!(not_empty == Err(io::ErrorKind::DirectoryNotEmpty), "rmdir of a non-empty dir gave {not_empty:?}");
    for path in [sub.join("c"), sub.join("d"), dir.join("b")] {
        fs::remove_file(&path).ctx("remove file")?;
    }
    fs::remove_dir(&sub).ctx("rmdir")?;
    let gone = fs::metadata(&sub).map_err(|e| e.kind());
    ensure!(matches!(gone, Err(io::ErrorKind::NotFound)), "stat after rmdir gave {:?}", gone.map(|_| ()));
    fs::remove_dir(&dir).ctx("rmdir scratch")?;
    Ok(())
}

/// Hard links and symbolic links.
pub fn links() -> Outcome {
    let dir = scratch("links")?;
    let target = dir.join("target.txt");
    fs::write(&target, "linked\n").ctx("write")?;

    let hard = dir.join("hard.txt");
    fs::hard_link(&target, &hard).ctx("link")?;
    let (a, b) = (fs::metadata(&target).ctx("stat")?, fs::metadata(&hard).ctx("stat link")?);
    ensure!(a.ino() == b.ino() && a.dev() == b.dev(), "hard link has a different inode");
    ensure!(a.nlink() == 2, "nlink {} after one hard link", a.nlink());
    fs::write(&hard, "changed\n").ctx("write through hard link")?;
    ensure!(fs::read_to_string(&target).ctx("read")? == "changed\n", "write through hard link not seen");

    let soft = dir.join("soft.txt");
    symlink("target.txt", &soft).ctx("symlink")?;
    let points_to = fs::read_link(&soft).ctx("readlink")?;
    ensure!(points_to.as_os_str() == "target.txt", "readlink gave {points_to:?}");
    ensure!(fs::symlink_metadata(&soft).ctx("lstat")?.is_symlink(), "lstat of a symlink is not a symlink");
    ensure!(fs::metadata(&soft).ctx("stat through symlink")?.is_file(), "stat through symlink is not a file");
    ensure!(fs::read_to_string(&soft).ctx("read through symlink")? == "changed\n", "symlink reads other data");
    let (real_soft, real_target) =
        (fs::canonicalize(&soft).ctx("canonicalize symlink")?, fs::canonicalize(&target).ctx("canonicalize")?);
    ensure!(real_soft == real_target, "symlink resolves to {real_soft:?}, target is {real_target:?}");

    fs::remove_file(&soft).ctx("remove symlink")?;
    fs::remove_file(&target).ctx("remove target")?;
    ensure!(fs::metadata(&hard).ctx("stat link after unlink")?.nlink() == 1, "nlink not 1 after removing a name");
    ensure!(fs::read_to_string(&hard).ctx("read link")? == "changed\n", "data lost after removing a name");
    fs::remove_file(&hard).ctx("remove hard link")?;
    fs::remove_dir(&dir).ctx("rmdir")?;
    Ok(())
}

/// A 1 MiB file written in 64 KiB chunks and read back in odd-sized reads.
pub fn big_file() -> Outcome {
    const SIZE: usize = 1 << 20;
    let path = scratch("big")?.join("big.bin");
    let mut rng = XorShift(0x9e37_79b9_7f4a_7c15);
    let mut written = FNV_START;
    let mut file = File::create(&path).ctx("create")?;
    let mut chunk = vec![0u8; 64 * 1024];
    for _ in 0..SIZE / chunk.len() {
        chunk.iter_mut().for_each(|byte| *byte = rng.next() as u8);
        written = fnv1a(written, &chunk);
        file.write_all(&chunk).ctx("write chunk")?;
    }
    file.sync_all().ctx("fsync")?;
    drop(file);

    let len = fs::metadata(&path).ctx("stat")?.len();
    ensure!(len == SIZE as u64, "file is {len} bytes, wrote {SIZE}");
    let mut file = File::open(&path).ctx("open")?;
    let (mut read, mut total, mut buf) = (FNV_START, 0, vec![0u8; 10_000]);
    loop {
        let n = file.read(&mut buf).ctx("read")?;
        if n == 0 {
            break;
        }
        read = fnv1a(read, &buf[..n]);
        total += n;
    }
    ensure!(total == SIZE, "read {total} bytes back, wrote {SIZE}");
    ensure!(read == written, "checksum {read:#x} read back, {written:#x} written");
    fs::remove_file(&path).ctx("remove")?;
    Ok(())
}
