//! Finding what a request names.

use super::error::ApiError;
use crate::container::Container;
use crate::container::images;
use crate::container::registry;
use alloc::format;
use alloc::sync::Arc;

/// The container `key` names (name, id, or unique id prefix).
pub fn container(key: &str) -> Result<Arc<Container>, ApiError> {
    registry::find(key).map_err(|e| match e {
        registry::FindError::Ambiguous => {
            ApiError::bad_request(format!("multiple IDs found with provided prefix: {key}"))
        }
        registry::FindError::NotFound => ApiError::no_container(key),
    })
}

/// The stored image a container was made from, if it is still there.
pub fn image_of(c: &Container) -> Option<Arc<images::StoredImage>> {
    images::list().into_iter().find(|i| Arc::ptr_eq(&i.image, &c.image))
}
