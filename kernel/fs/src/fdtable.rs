//! A process's file descriptor table.
//!
//! Each open descriptor is charged to the container (its slot, and a share of the open
//! file and the object behind it), so a container that opens files by the thousand in
//! thousands of processes pays for them.

use super::OpenFile;
use crate::mm::MemoryCounter;
use alloc::sync::Arc;
use alloc::vec::Vec;
use berth_abi::Errno;

pub use crate::param::MAX_FDS;

/// A file descriptor as a program names it: any number may be named, and only a table
/// says whether it is open.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Fd(i32);

impl Fd {
    /// The working directory, for the `*at` calls' directory argument.
    pub const AT_FDCWD: Fd = Fd(berth_abi::fs::AT_FDCWD);

    /// Descriptor `number`.
    pub const fn new(number: i32) -> Fd {
        Fd(number)
    }

    /// Its number, as the program sees it.
    pub fn number(self) -> i32 {
        self.0
    }

    /// Its slot in a table; `None` for negative numbers, which no table has.
    fn index(self) -> Option<usize> {
        usize::try_from(self.0).ok()
    }
}

impl From<Fd> for isize {
    /// The descriptor as a system call returns it.
    fn from(fd: Fd) -> isize {
        fd.0 as isize
    }
}

#[derive(Clone)]
struct Slot {
    file: Arc<OpenFile>,
    cloexec: bool,
}

/// Descriptor numbers to open files.
pub struct FdTable {
    slots: Vec<Option<Slot>>,
    /// What open descriptors are charged to (none for the kernel's own tables).
    counter: Option<Arc<MemoryCounter>>,
    /// Open descriptors, each charged [`crate::param::FD_COST`].
    open: usize,
}

impl FdTable {
    /// An empty table charging its descriptors to `counter`.
    pub fn new(counter: Option<Arc<MemoryCounter>>) -> FdTable {
        FdTable { slots: Vec::new(), counter, open: 0 }
    }

    /// A copy for a `fork` child, charged like the original; ENOMEM if it cannot be.
    pub fn try_clone(&self) -> Result<FdTable, Errno> {
        if let Some(c) = &self.counter
            && !c.try_charge(self.open as u64 * crate::param::FD_COST)
        {
            return Err(Errno::ENOMEM);
        }
        Ok(FdTable { slots: self.slots.clone(), counter: self.counter.clone(), open: self.open })
    }

    /// Charges one more open descriptor.
    fn charge_one(&mut self) -> Result<(), Errno> {
        if let Some(c) = &self.counter
            && !c.try_charge(crate::param::FD_COST)
        {
            return Err(Errno::ENOMEM);
        }
        self.open += 1;
        Ok(())
    }

    /// Gives back the charge of `n` closed descriptors.
    fn uncharge(&mut self, n: usize) {
        self.open -= n;
        if let Some(c) = &self.counter {
            c.uncharge(n as u64 * crate::param::FD_COST);
        }
    }

    /// The open file behind `fd`.
    pub fn get(&self, fd: Fd) -> Result<Arc<OpenFile>, Errno> {
        self.slot(fd).map(|s| s.file.clone())
    }

    fn slot(&self, fd: Fd) -> Result<&Slot, Errno> {
        fd.index().and_then(|i| self.slots.get(i)).and_then(Option::as_ref).ok_or(Errno::EBADF)
    }

    /// Installs `file` at the lowest free descriptor at or above `min`.
    pub fn insert_from(&mut self, min: usize, file: Arc<OpenFile>, cloexec: bool) -> Result<Fd, Errno> {
        if min >= crate::param::MAX_FDS {
            return Err(Errno::EINVAL);
        }
        let free = (min..crate::param::MAX_FDS)
            .find(|&i| self.slots.get(i).is_none_or(Option::is_none))
            .ok_or(Errno::EMFILE)?;
        self.charge_one()?;
        self.place(free, file, cloexec);
        Ok(Fd(free as i32))
    }

    /// Installs `file` at the lowest free descriptor.
    pub fn insert(&mut self, file: Arc<OpenFile>, cloexec: bool) -> Result<Fd, Errno> {
        self.insert_from(0, file, cloexec)
    }

    /// Installs `file` at exactly `fd`, closing what was there; returns the old file.
    pub fn insert_at(&mut self, fd: Fd, file: Arc<OpenFile>, cloexec: bool) -> Result<Option<Arc<OpenFile>>, Errno> {
        let i = fd.index().filter(|&i| i < crate::param::MAX_FDS).ok_or(Errno::EBADF)?;
        if self.slots.get(i).is_none_or(Option::is_none) {
            self.charge_one()?;
        }
        let old = self.slots.get_mut(i).and_then(Option::take).map(|s| s.file);
        self.place(i, file, cloexec);
        Ok(old)
    }

    fn place(&mut self, i: usize, file: Arc<OpenFile>, cloexec: bool) {
        if self.slots.len() <= i {
            self.slots.resize(i + 1, None);
        }
        self.slots[i] = Some(Slot { file, cloexec });
    }

    /// Closes `fd`; returns its file (dropped by the caller, outside any lock).
    pub fn remove(&mut self, fd: Fd) -> Result<Arc<OpenFile>, Errno> {
        let i = fd.index().ok_or(Errno::EBADF)?;
        let file = self.slots.get_mut(i).and_then(Option::take).map(|s| s.file).ok_or(Errno::EBADF)?;
        self.uncharge(1);
        Ok(file)
    }

    /// The close-on-exec flag of `fd`.
    pub fn cloexec(&self, fd: Fd) -> Result<bool, Errno> {
        self.slot(fd).map(|s| s.cloexec)
    }

    /// Sets the close-on-exec flag of `fd`.
    pub fn set_cloexec(&mut self, fd: Fd, cloexec: bool) -> Result<(), Errno> {
        let i = fd.index().ok_or(Errno::EBADF)?;
        match self.slots.get_mut(i) {
            Some(Some(slot)) => {
                slot.cloexec = cloexec;
                Ok(())
            }
            _ => Err(Errno::EBADF),
        }
    }

    /// Closes every close-on-exec descriptor (at `execve`); returns the closed files.
    pub fn close_on_exec(&mut self) -> Vec<Arc<OpenFile>> {
        let mut closed = Vec::new();
        for slot in &mut self.slots {
            if slot.as_ref().is_some_and(|s| s.cloexec) {
                closed.extend(slot.take().map(|s| s.file));
            }
        }
        self.uncharge(closed.len());
        closed
    }

    /// Closes everything (at exit); returns the files.
    pub fn close_all(&mut self) -> Vec<Arc<OpenFile>> {
        let closed: Vec<Arc<OpenFile>> =
            core::mem::take(&mut self.slots).into_iter().flatten().map(|s| s.file).collect();
        self.uncharge(closed.len());
        closed
    }

    /// Open descriptors and their files, in order.
    pub fn iter(&self) -> impl Iterator<Item = (Fd, &Arc<OpenFile>)> {
        self.slots.iter().enumerate().filter_map(|(i, s)| s.as_ref().map(|s| (Fd(i as i32), &s.file)))
    }
}

impl Drop for FdTable {
    fn drop(&mut self) {
        self.uncharge(self.open);
    }
}
