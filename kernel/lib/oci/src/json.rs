//! A guard for JSON from outside: serde's deserializers recurse once per level of
//! nesting, and a kernel thread's stack is small, so documents nested deeper than any
//! image format needs are refused before they are parsed.

use crate::Error;
use alloc::format;

/// The deepest nesting of arrays and objects accepted (image configs need about 5).
pub const MAX_DEPTH: usize = 32;

/// Checks that `bytes` nests arrays and objects at most [`MAX_DEPTH`] deep (brackets
/// inside strings do not count); `what` names the document in the error.
pub fn check_depth(bytes: &[u8], what: &str) -> Result<(), Error> {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &b in bytes {
        if in_string {
            match b {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth > MAX_DEPTH {
                    return Err(Error::Format(format!("{what} nests more than {MAX_DEPTH} levels deep")));
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    Ok(())
}

/// Parses `bytes` as `T` after [`check_depth`].
pub fn parse<'a, T: serde::Deserialize<'a>>(bytes: &'a [u8], what: &str) -> Result<T, Error> {
    check_depth(bytes, what)?;
    serde_json::from_slice(bytes).map_err(|e| Error::Format(format!("{what} is not valid: {e}")))
}
