//! In-memory file systems for berth's containers.
//!
//! An [`Image`] is an immutable directory tree built from a tar archive (the format
//! `docker import` uses) and stored once, however many containers use it. Each
//! container gets a [`Filesystem`]: its own tree of [`Inode`]s that starts out as a
//! view of the image and copies things up as they change. Directories are filled in
//! from the image only when first looked into, and file contents stay shared with the
//! image until the first write, so a hundred containers of one image cost little more
//! than one. A container's writes live in its `Filesystem` and vanish with it, unless
//! the kernel writes them out: the whole tree as a tar (`Filesystem::archive`, a
//! volume's contents) or its changes to the image as a layer
//! (`Filesystem::changes_archive`, a container's writable layer).
//!
//! A tree can be mounted into another (`Filesystem::mount_tree`): a volume, its own
//! space of inode numbers and memory budget, shared by the containers that mount it.
//!
//! A tree may be paged (`Filesystem::paged`): its own files' data is written out an
//! extent at a time through the kernel's [`Pager`] (`Filesystem::write_out`, with a
//! manifest of the tree), and what was written may leave memory and come back when
//! read, so the tree may hold more than its memory budget (see `blocks.rs` and
//! `writeout.rs`).
//!
//! Everything here is plain data behind spin locks, never held while the pager reads
//! a disk; the kernel provides the clock, the memory budget a container's writes are
//! charged to, the pager, and synthetic directories such as `/proc`.

#![no_std]

extern crate alloc;

mod archive;
mod blocks;
mod copy;
mod error;
mod fs;
mod image;
mod inode;
mod layer;
mod path;
mod space;
mod writeout;

pub use blocks::{DirtyExtent, EXTENT, EXTENT_BLOCKS, FileSnapshot, PageIn};
pub use error::FsError;
pub use fs::{Filesystem, MAX_SYMLINKS};
pub use image::PagedFile;
pub use image::{Image, ImageBody, ImageBuilder, ImageLimits, ImageNode};
pub use inode::{Budget, DirEntry, FileType, Inode, Metadata, SpecialDir};
pub use layer::PathChange;
pub use path::{MAX_NAME, MAX_PATH, normalize_archive_path};
pub use space::{Pager, Paging};
pub use writeout::WriteOut;

/// Result type of this crate.
pub type Result<T> = core::result::Result<T, FsError>;
