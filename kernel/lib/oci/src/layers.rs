//! Stacking layers into the tree a container sees, as overlay file systems do: each
//! layer's entries replace the ones below; a whiteout `.wh.NAME` removes `NAME` from the
//! layers below, and an opaque marker `.wh..wh..opq` in a directory hides everything
//! the layers below had in it. Subtrees a layer does not touch are shared with the
//! layer below, and file bytes always are, so stacking costs directory entries only.

use alloc::collections::BTreeMap;
use alloc::string::String;
use alloc::sync::Arc;
use berth_vfs::{Image, ImageBody, ImageNode};

/// The prefix of a whiteout's name.
const WHITEOUT: &str = ".wh.";
/// The name of the opaque-directory marker.
const OPAQUE: &str = ".wh..wh..opq";

/// The tree of `layers` stacked bottom first.
pub fn stack<'a>(layers: impl IntoIterator<Item = &'a Image>) -> Image {
    let mut root: Option<Arc<ImageNode>> = None;
    for layer in layers {
        root = Some(apply(root.as_ref(), layer.root()));
    }
    match root {
        Some(root) => Image::from_root(root),
        None => Image::empty(),
    }
}

/// `upper` over `lower`: the upper node, and for two directories their merged entries.
fn apply(lower: Option<&Arc<ImageNode>>, upper: &Arc<ImageNode>) -> Arc<ImageNode> {
    let ImageBody::Dir(upper_entries) = &upper.body else { return upper.clone() };
    let lower_dir = lower.filter(|l| matches!(l.body, ImageBody::Dir(_)));
    if lower_dir.is_none() && !has_whiteouts(upper) {
        return upper.clone();
    }
    let mut entries: BTreeMap<String, Arc<ImageNode>> = match lower_dir.map(|l| &l.body) {
        Some(ImageBody::Dir(lower_entries)) if !upper_entries.contains_key(OPAQUE) => lower_entries.clone(),
        _ => BTreeMap::new(),
    };
    for (name, child) in upper_entries {
        if name == OPAQUE {
            continue;
        }
        if let Some(hidden) = name.strip_prefix(WHITEOUT) {
            entries.remove(hidden);
            continue;
        }
        let merged = apply(entries.get(name), child);
        entries.insert(name.clone(), merged);
    }
    Arc::new(ImageNode {
        mode: upper.mode,
        uid: upper.uid,
        gid: upper.gid,
        mtime: upper.mtime,
        body: ImageBody::Dir(entries),
    })
}

/// Whether any directory under `node` holds a whiteout or opaque marker.
fn has_whiteouts(node: &ImageNode) -> bool {
    match &node.body {
        ImageBody::Dir(entries) => {
            entries.iter().any(|(name, child)| name.starts_with(WHITEOUT) || has_whiteouts(child))
        }
        _ => false,
    }
}
