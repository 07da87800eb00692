//! [`TypedBox`]: a boxed value of a type fixed when it is boxed, read back as that type
//! by comparing type ids. `dyn Any::downcast_ref` asks the value's vtable for its type
//! on every read, a call that costs the system call path measurably (the scheduler
//! keeps the process layer's per-thread data in one of these, read several times per
//! call); here the id is stored beside the box.

use alloc::boxed::Box;
use core::any::{Any, TypeId};

/// A value of some `'static` type, readable as that type.
pub struct TypedBox {
    type_id: TypeId,
    value: Box<dyn Any + Send + Sync>,
}

impl TypedBox {
    /// Boxes `value`.
    pub fn new<T: Any + Send + Sync>(value: T) -> TypedBox {
        TypedBox { type_id: TypeId::of::<T>(), value: Box::new(value) }
    }

    /// The value, if it is a `T`.
    #[inline]
    pub fn get<T: Any>(&self) -> Option<&T> {
        if self.type_id != TypeId::of::<T>() {
            return None;
        }
        let value: *const (dyn Any + Send + Sync) = &*self.value;
        // SAFETY: `new` is the only way to make a TypedBox: it boxed a value of the type
        // whose id it stored in `type_id`, and neither field changes afterwards. That id
        // is `T`'s, so the box holds a `T`, and the reference lives as long as `self`.
        Some(unsafe { &*value.cast::<T>() })
    }
}
