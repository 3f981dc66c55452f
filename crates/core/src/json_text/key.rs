//! An object key: a string, or a number or boolean written in quotes, as serde_json's
//! map-key serializer allows; anything else is an error, with serde_json's words.

use super::writer::Writer;
use serde::ser::{self, Error as _, Impossible, Serialize};

type Result<T = ()> = serde_json::Result<T>;

pub(super) struct KeyWriter<'a>(pub(super) &'a mut Writer);

fn not_a_string() -> serde_json::Error {
    serde_json::Error::custom("key must be a string")
}

impl KeyWriter<'_> {
    fn quoted<T: Serialize>(self, value: &T) -> Result {
        self.0.out.push(b'"');
        self.0.scalar(value)?;
        self.0.out.push(b'"');
        Ok(())
    }

    fn float<T: Serialize>(self, value: &T, finite: bool) -> Result {
        if !finite {
            return Err(serde_json::Error::custom(
                "float key must be finite (got NaN or +/-inf)",
            ));
        }
        self.quoted(value)
    }
}

impl ser::Serializer for KeyWriter<'_> {
    type Ok = ();
    type Error = serde_json::Error;
    type SerializeSeq = Impossible<(), serde_json::Error>;
    type SerializeTuple = Impossible<(), serde_json::Error>;
    type SerializeTupleStruct = Impossible<(), serde_json::Error>;
    type SerializeTupleVariant = Impossible<(), serde_json::Error>;
    type SerializeMap = Impossible<(), serde_json::Error>;
    type SerializeStruct = Impossible<(), serde_json::Error>;
    type SerializeStructVariant = Impossible<(), serde_json::Error>;

    fn serialize_str(self, v: &str) -> Result {
        self.0.string(v)
    }

    fn serialize_char(self, v: char) -> Result {
        self.0.string(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result {
        self.0.string(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result {
        value.serialize(self)
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
        value.serialize(self)
    }

    fn serialize_bool(self, v: bool) -> Result {
        self.quoted(&v)
    }

    fn serialize_i8(self, v: i8) -> Result {
        self.quoted(&i64::from(v))
    }

    fn serialize_i16(self, v: i16) -> Result {
        self.quoted(&i64::from(v))
    }

    fn serialize_i32(self, v: i32) -> Result {
        self.quoted(&i64::from(v))
    }

    fn serialize_i64(self, v: i64) -> Result {
        self.quoted(&v)
    }

    fn serialize_i128(self, v: i128) -> Result {
        self.quoted(&v)
    }

    fn serialize_u8(self, v: u8) -> Result {
        self.quoted(&u64::from(v))
    }

    fn serialize_u16(self, v: u16) -> Result {
        self.quoted(&u64::from(v))
    }

    fn serialize_u32(self, v: u32) -> Result {
        self.quoted(&u64::from(v))
    }

    fn serialize_u64(self, v: u64) -> Result {
        self.quoted(&v)
    }

    fn serialize_u128(self, v: u128) -> Result {
        self.quoted(&v)
    }

    fn serialize_f32(self, v: f32) -> Result {
        self.float(&v, v.is_finite())
    }

    fn serialize_f64(self, v: f64) -> Result {
        self.float(&v, v.is_finite())
    }

    fn serialize_bytes(self, _: &[u8]) -> Result {
        Err(not_a_string())
    }

    fn serialize_none(self) -> Result {
        Err(not_a_string())
    }

    fn serialize_unit(self) -> Result {
        Err(not_a_string())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result {
        Err(not_a_string())
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &T,
    ) -> Result {
        Err(not_a_string())
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq> {
        Err(not_a_string())
    }

    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple> {
        Err(not_a_string())
    }

    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct> {
        Err(not_a_string())
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant> {
        Err(not_a_string())
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap> {
        Err(not_a_string())
    }

    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct> {
        Err(not_a_string())
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant> {
        Err(not_a_string())
    }
}
