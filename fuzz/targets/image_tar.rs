//! An image archive as `docker import` uploads it: the tar parser and the image
//! builder refuse what is malformed, and an image built from it has its members
//! inside its root.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = berth_tar::entries(data, 1 << 20);
    let limits = berth_vfs::ImageLimits { max_bytes: 1 << 20, max_entries: 1000 };
    if let Ok(image) = berth_vfs::Image::from_tar(data, limits) {
        let fs = berth_vfs::Filesystem::new(&image, None, || 0).expect("a file system over an image");
        let _ = fs.entries(&fs.root());
    }
});
