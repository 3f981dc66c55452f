//! Reading a map by hand with serde's own errors, for the types whose derive would
//! buffer its input (internally tagged or untagged enums, `#[serde(flatten)]`).

use serde::de;

/// Keep a field's first value; a second one is serde's `duplicate field` error.
pub(crate) fn once<T, E: de::Error>(
    slot: &mut Option<T>,
    name: &'static str,
    value: T,
) -> Result<(), E> {
    if slot.is_some() {
        return Err(E::duplicate_field(name));
    }
    *slot = Some(value);
    Ok(())
}
