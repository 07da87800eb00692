//! JSON as Docker's and the OCI's Go code writes it, read safely: Go's looser forms
//! (`null` for an empty list or map, one string for a one-element list, `{}` as a set's
//! values), and a guard against documents nested deeper than any of these formats
//! needs, checked before serde (which recurses once per level) sees them, since a
//! kernel thread's stack is small.

#![no_std]
#![forbid(unsafe_code)]

extern crate alloc;

use alloc::string::String;
use alloc::vec;
use alloc::vec::Vec;
use core::fmt;

use serde::Serialize;
use serde::de::{self, Deserialize, Deserializer, SeqAccess, Visitor};

/// The deepest nesting of arrays and objects accepted (Docker's and OCI's documents
/// need about 5).
pub const MAX_DEPTH: usize = 32;

/// Whether `bytes` nests arrays and objects at most [`MAX_DEPTH`] deep (brackets inside
/// strings do not count).
pub fn depth_ok(bytes: &[u8]) -> bool {
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
                    return false;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    true
}

/// An empty JSON object, `{}` (the value type of `ExposedPorts` and `Volumes`). Reading
/// accepts any value and ignores it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Empty {}

impl<'de> Deserialize<'de> for Empty {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        de::IgnoredAny::deserialize(d)?;
        Ok(Empty {})
    }
}

/// A field that may be `null`: `null` reads as the type's default (Go writes an empty
/// slice or map as `null`).
pub fn null_default<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

/// Docker's `StrSlice` (`Cmd`, `Entrypoint`): a list of strings, or one string that
/// is one element (not split into words), or `null`.
pub fn string_or_list<'de, D>(d: D) -> Result<Option<Vec<String>>, D::Error>
where
    D: Deserializer<'de>,
{
    struct StrSlice;

    impl<'de> Visitor<'de> for StrSlice {
        type Value = Option<Vec<String>>;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a string or a list of strings")
        }

        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }

        fn visit_some<D2: Deserializer<'de>>(self, d: D2) -> Result<Self::Value, D2::Error> {
            d.deserialize_any(StrSlice)
        }

        fn visit_str<E: de::Error>(self, s: &str) -> Result<Self::Value, E> {
            Ok(Some(vec![String::from(s)]))
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut list = Vec::new();
            while let Some(item) = seq.next_element::<String>()? {
                list.push(item);
            }
            Ok(Some(list))
        }
    }

    d.deserialize_any(StrSlice)
}
