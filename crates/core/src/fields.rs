//! Reading a map by hand with serde's own errors: for the types whose derive would
//! buffer its input (internally tagged or untagged enums, `#[serde(flatten)]`), and
//! for the config's plain structs, through [`map_struct!`].

use serde::de::{self, DeserializeSeed, Deserializer, Visitor};
use std::fmt;

/// Read the value of the key just read into its field's slot; a second value is
/// serde's `duplicate field` error. Out of line, so that the fields of one type share
/// it instead of each holding a copy of the reading, the check and the store.
#[inline(never)]
pub(crate) fn read_once<'de, T: de::Deserialize<'de>, A: de::MapAccess<'de>>(
    slot: &mut Option<T>,
    name: &'static str,
    map: &mut A,
) -> Result<(), A::Error> {
    if slot.is_some() {
        return Err(de::Error::duplicate_field(name));
    }
    *slot = Some(map.next_value()?);
    Ok(())
}

/// A map key read as the derive reads a field's name: through
/// `deserialize_identifier`, and refused as `unknown field` while it is read, so that
/// a reader that marks errors with their place (serde_norway) marks the key. One
/// reader for every struct, where the derive writes one per struct. It gives the key's
/// position in the list, so that a struct matches numbers rather than texts again.
#[derive(Clone, Copy)]
pub(crate) struct FieldOf(pub(crate) &'static [&'static str]);

impl<'de> DeserializeSeed<'de> for FieldOf {
    type Value = usize;
    fn deserialize<D: Deserializer<'de>>(self, d: D) -> Result<usize, D::Error> {
        d.deserialize_identifier(self)
    }
}

impl Visitor<'_> for FieldOf {
    type Value = usize;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("field identifier")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<usize, E> {
        self.0
            .iter()
            .position(|f| *f == v)
            .ok_or_else(|| E::unknown_field(v, self.0))
    }
}

/// `Deserialize` for a struct of named fields, as `#[derive(Deserialize)]` with
/// `deny_unknown_fields` reads it from a map: the same errors, raised at the same
/// point of the input. Each field is `required` (its absence is `missing field`) or
/// `default` (absent is `Default::default()`, which is also how the derive treats an
/// absent `Option`). What the derive adds and no config needs is left out: the
/// reading of a struct from a sequence, and the field-name readers for bytes and
/// indexes. Each struct's derive cost the page's module about 3 KB.
macro_rules! map_struct {
    ($ty:ident, $expecting:literal, { $($field:ident: $key:literal $kind:ident),* $(,)? }) => {
        impl<'de> serde::Deserialize<'de> for $ty {
            fn deserialize<D: serde::Deserializer<'de>>(
                d: D,
            ) -> std::result::Result<Self, D::Error> {
                struct Visit;
                impl<'de> serde::de::Visitor<'de> for Visit {
                    type Value = $ty;
                    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                        f.write_str($expecting)
                    }
                    fn visit_map<A: serde::de::MapAccess<'de>>(
                        self,
                        mut map: A,
                    ) -> std::result::Result<$ty, A::Error> {
                        const FIELDS: &[&str] = &[$($key),*];
                        // The fields' positions in `FIELDS`.
                        #[allow(non_camel_case_types)]
                        enum Field { $($field),* }
                        $(let mut $field = None;)*
                        let names = $crate::fields::FieldOf(FIELDS);
                        while let Some(key) = map.next_key_seed(names)? {
                            match key {
                                $(k if k == Field::$field as usize => {
                                    $crate::fields::read_once(&mut $field, $key, &mut map)?
                                })*
                                // `names` only gives back one of `FIELDS`.
                                _ => {}
                            }
                        }
                        Ok($ty {
                            $($field: $crate::fields::map_struct!(@take $kind, $field, $key),)*
                        })
                    }
                }
                d.deserialize_map(Visit)
            }
        }
    };
    (@take required, $field:ident, $key:literal) => {
        $field.ok_or_else(|| serde::de::Error::missing_field($key))?
    };
    (@take default, $field:ident, $key:literal) => {
        $field.unwrap_or_default()
    };
}

pub(crate) use map_struct;
