//! Parsing JSON from outside (image configs, manifests, registry replies) behind
//! `berth-json`'s nesting guard.

use crate::Error;
use alloc::format;

pub use berth_json::MAX_DEPTH;

/// Checks that `bytes` nests arrays and objects at most [`MAX_DEPTH`] deep (brackets
/// inside strings do not count); `what` names the document in the error.
pub fn check_depth(bytes: &[u8], what: &str) -> Result<(), Error> {
    if berth_json::depth_ok(bytes) {
        Ok(())
    } else {
        Err(Error::Format(format!("{what} nests more than {MAX_DEPTH} levels deep")))
    }
}

/// Parses `bytes` as `T` after [`check_depth`].
pub fn parse<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8], what: &str) -> Result<T, Error> {
    check_depth(bytes, what)?;
    serde_json::from_slice(bytes).map_err(|e| Error::Format(format!("{what} is not valid: {e}")))
}
