//! A serde serializer that writes JSON text the way serde_json's does.
//!
//! serde_json's serializer is generic over its output and its formatter, and every
//! field and element it writes carries its own copy of the comma, indentation, key
//! escaping and I/O-error handling: one copy per (struct, field type) pair in the
//! page's module. Here the layout is in a handful of plain methods, so what each type
//! adds is a call per field. The scalars (strings, numbers) are still written by
//! serde_json, so the text is byte for byte what `to_string` and `to_string_pretty`
//! write (tested in the module above).

use super::key::KeyWriter;
use serde::ser::{self, Serialize};

type Result<T = ()> = serde_json::Result<T>;

pub(super) struct Writer {
    pub(super) out: Vec<u8>,
    pretty: bool,
    depth: usize,
    /// Nothing written yet in the open container: no comma before the next item.
    first: bool,
    /// Something was written in the open container: its closing bracket goes on a
    /// new line when pretty.
    has_value: bool,
}

impl Writer {
    // This and `finish` are kept out of line: `json_text::write` is compiled once per
    // type the core writes, and should hold no more than the call to `serialize`.
    #[inline(never)]
    pub(super) fn new(pretty: bool) -> Self {
        Writer {
            out: Vec::with_capacity(128),
            pretty,
            depth: 0,
            first: true,
            has_value: false,
        }
    }

    /// The text written, or the error that stopped the writing.
    #[inline(never)]
    pub(super) fn finish(self, written: Result) -> Result<String> {
        written?;
        // Only serde_json's UTF-8 text and ASCII punctuation are written; the check
        // cannot fail.
        Ok(String::from_utf8(self.out).unwrap_or_default())
    }

    #[inline(never)]
    fn open(&mut self, bracket: u8) {
        self.depth += 1;
        self.first = true;
        self.has_value = false;
        self.out.push(bracket);
    }

    #[inline(never)]
    fn close(&mut self, bracket: u8) {
        self.depth -= 1;
        if self.pretty && self.has_value {
            self.new_line();
        }
        self.out.push(bracket);
        // The container just closed is a value of the one around it.
        self.first = false;
        self.has_value = true;
    }

    /// Before an array element or an object key.
    #[inline(never)]
    fn item(&mut self) {
        if !self.first {
            self.out.push(b',');
        }
        self.first = false;
        self.has_value = true;
        if self.pretty {
            self.new_line();
        }
    }

    fn new_line(&mut self) {
        self.out.push(b'\n');
        for _ in 0..self.depth {
            self.out.extend_from_slice(b"  ");
        }
    }

    /// After an object key.
    #[inline(never)]
    pub(super) fn colon(&mut self) {
        self.out
            .extend_from_slice(if self.pretty { b": " } else { b":" });
    }

    /// An object's key with its comma and colon.
    #[inline(never)]
    fn key(&mut self, key: &str) -> Result {
        self.item();
        self.string(key)?;
        self.colon();
        Ok(())
    }

    #[inline(never)]
    pub(super) fn string(&mut self, value: &str) -> Result {
        self.scalar(value)
    }

    /// A string, number or boolean, as serde_json writes it.
    pub(super) fn scalar<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        value.serialize(&mut serde_json::Serializer::new(&mut self.out))
    }

    /// `{"variant":` before an externally tagged variant's content.
    fn variant(&mut self, variant: &str) -> Result {
        self.open(b'{');
        self.key(variant)
    }
}

/// An open array or object, with the brackets its end closes.
pub(super) struct Compound<'a> {
    w: &'a mut Writer,
    closes: &'static [u8],
}

impl Compound<'_> {
    fn end(self) -> Result {
        for &bracket in self.closes {
            self.w.close(bracket);
        }
        Ok(())
    }
}

impl<'a> ser::Serializer for &'a mut Writer {
    type Ok = ();
    type Error = serde_json::Error;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    fn serialize_bool(self, v: bool) -> Result {
        self.out
            .extend_from_slice(if v { b"true" } else { b"false" });
        Ok(())
    }

    fn serialize_i8(self, v: i8) -> Result {
        self.scalar(&i64::from(v))
    }

    fn serialize_i16(self, v: i16) -> Result {
        self.scalar(&i64::from(v))
    }

    fn serialize_i32(self, v: i32) -> Result {
        self.scalar(&i64::from(v))
    }

    fn serialize_i64(self, v: i64) -> Result {
        self.scalar(&v)
    }

    fn serialize_i128(self, v: i128) -> Result {
        self.scalar(&v)
    }

    fn serialize_u8(self, v: u8) -> Result {
        self.scalar(&u64::from(v))
    }

    fn serialize_u16(self, v: u16) -> Result {
        self.scalar(&u64::from(v))
    }

    fn serialize_u32(self, v: u32) -> Result {
        self.scalar(&u64::from(v))
    }

    fn serialize_u64(self, v: u64) -> Result {
        self.scalar(&v)
    }

    fn serialize_u128(self, v: u128) -> Result {
        self.scalar(&v)
    }

    fn serialize_f32(self, v: f32) -> Result {
        self.scalar(&v)
    }

    fn serialize_f64(self, v: f64) -> Result {
        self.scalar(&v)
    }

    fn serialize_char(self, v: char) -> Result {
        self.string(v.encode_utf8(&mut [0; 4]))
    }

    fn serialize_str(self, v: &str) -> Result {
        self.string(v)
    }

    fn serialize_bytes(self, v: &[u8]) -> Result {
        self.open(b'[');
        for byte in v {
            self.item();
            self.scalar(&u64::from(*byte))?;
        }
        self.close(b']');
        Ok(())
    }

    fn serialize_none(self) -> Result {
        self.serialize_unit()
    }

    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result {
        value.serialize(self)
    }

    fn serialize_unit(self) -> Result {
        self.out.extend_from_slice(b"null");
        Ok(())
    }

    fn serialize_unit_struct(self, _: &'static str) -> Result {
        self.serialize_unit()
    }

    fn serialize_unit_variant(self, _: &'static str, _: u32, variant: &'static str) -> Result {
        self.string(variant)
    }

    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result {
        value.serialize(self)
    }

    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result {
        self.variant(variant)?;
        value.serialize(&mut *self)?;
        self.close(b'}');
        Ok(())
    }

    // serde's own `collect_seq` and `collect_map` go through `size_hint` and
    // `try_for_each`: about 180 bytes per element type in the page's module, against a
    // plain loop's third of that.
    fn collect_seq<I>(self, items: I) -> Result
    where
        I: IntoIterator,
        I::Item: Serialize,
    {
        self.open(b'[');
        for item in items {
            self.item();
            item.serialize(&mut *self)?;
        }
        self.close(b']');
        Ok(())
    }

    fn collect_map<K, V, I>(self, entries: I) -> Result
    where
        K: Serialize,
        V: Serialize,
        I: IntoIterator<Item = (K, V)>,
    {
        self.open(b'{');
        for (key, value) in entries {
            self.item();
            key.serialize(KeyWriter(&mut *self))?;
            self.colon();
            value.serialize(&mut *self)?;
        }
        self.close(b'}');
        Ok(())
    }

    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>> {
        self.open(b'[');
        Ok(Compound {
            w: self,
            closes: b"]",
        })
    }

    fn serialize_tuple(self, len: usize) -> Result<Compound<'a>> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_struct(self, _: &'static str, len: usize) -> Result<Compound<'a>> {
        self.serialize_seq(Some(len))
    }

    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>> {
        self.variant(variant)?;
        self.open(b'[');
        Ok(Compound {
            w: self,
            closes: b"]}",
        })
    }

    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a>> {
        self.open(b'{');
        Ok(Compound {
            w: self,
            closes: b"}",
        })
    }

    fn serialize_struct(self, _: &'static str, len: usize) -> Result<Compound<'a>> {
        self.serialize_map(Some(len))
    }

    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>> {
        self.variant(variant)?;
        self.open(b'{');
        Ok(Compound {
            w: self,
            closes: b"}}",
        })
    }
}

impl ser::SerializeSeq for Compound<'_> {
    type Ok = ();
    type Error = serde_json::Error;

    fn serialize_element<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        self.w.item();
        value.serialize(&mut *self.w)
    }

    fn end(self) -> Result {
        Compound::end(self)
    }
}

/// The tuple forms write as sequences do.
macro_rules! as_sequence {
    ($($trait:ident::$method:ident),*) => {
        $(
            impl ser::$trait for Compound<'_> {
                type Ok = ();
                type Error = serde_json::Error;

                fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
                    ser::SerializeSeq::serialize_element(self, value)
                }

                fn end(self) -> Result {
                    Compound::end(self)
                }
            }
        )*
    };
}

as_sequence!(
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = serde_json::Error;

    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result {
        self.w.item();
        key.serialize(KeyWriter(&mut *self.w))?;
        self.w.colon();
        Ok(())
    }

    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result {
        value.serialize(&mut *self.w)
    }

    fn end(self) -> Result {
        Compound::end(self)
    }
}

impl ser::SerializeStruct for Compound<'_> {
    type Ok = ();
    type Error = serde_json::Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result {
        self.w.key(key)?;
        value.serialize(&mut *self.w)
    }

    fn end(self) -> Result {
        Compound::end(self)
    }
}

impl ser::SerializeStructVariant for Compound<'_> {
    type Ok = ();
    type Error = serde_json::Error;

    fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result {
        ser::SerializeStruct::serialize_field(self, key, value)
    }

    fn end(self) -> Result {
        Compound::end(self)
    }
}
