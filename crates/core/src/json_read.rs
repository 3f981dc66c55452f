//! A type read from a `serde_json::Value`, with serde_json's words for what is wrong.
//!
//! This is what `serde_json::from_value` does, with an error type of its own.
//! serde_json's error names a value of the wrong type through serde's `Unexpected`
//! display, which prints any float with Rust's float printer and any string with
//! Rust's `Debug` escaping: both printers and the Unicode tables behind `Debug` were in
//! the browser module for these messages alone, and with serde_json's reader of
//! values, about 7 KB of it gzipped. The browser reads all its arguments through here
//! (`Config::from_json`, the WASM face's arguments).
//!
//! The values read and the messages are serde_json's (the tests compare the two on
//! generated values), with two differences no type the faces read meets: a string
//! holding a character that Rust's `Debug` escapes but that is no control character
//! (a zero-width space, say) is shown as it is, and a map's keys are read as text
//! only, where serde_json would also read `"1"` as the number 1.

use serde::de::{self, DeserializeOwned, DeserializeSeed, Expected, IntoDeserializer, Visitor};
use serde_json::{Map, Value};
use std::fmt;

/// Why a value is not of the type asked for: serde's message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadError(String);

impl fmt::Display for ReadError {
    fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ReadError {}

impl de::Error for ReadError {
    #[cold]
    fn custom<T: fmt::Display>(msg: T) -> Self {
        ReadError(msg.to_string())
    }

    #[cold]
    fn invalid_type(unexpected: de::Unexpected, expected: &dyn Expected) -> Self {
        wrong("invalid type", &unexpected, expected)
    }

    #[cold]
    fn invalid_value(unexpected: de::Unexpected, expected: &dyn Expected) -> Self {
        wrong("invalid value", &unexpected, expected)
    }
}

type Result<T> = std::result::Result<T, ReadError>;

/// What `serde_json::from_value` gives, its error's message aside.
pub fn from_value<T: DeserializeOwned>(value: Value) -> Result<T> {
    T::deserialize(Reader(value))
}

/// `invalid type: string "x", expected a sequence`, as serde_json words it.
#[inline(never)]
fn wrong(what: &str, unexpected: &de::Unexpected, expected: &dyn Expected) -> ReadError {
    use de::Unexpected as U;
    let shown = match *unexpected {
        U::Bool(b) => format!("boolean `{b}`"),
        U::Unsigned(n) => format!("integer `{n}`"),
        U::Signed(n) => format!("integer `{n}`"),
        U::Float(n) => format!("floating point `{}`", zmij::Buffer::new().format(n)),
        U::Char(c) => format!("character `{c}`"),
        U::Str(s) => format!("string {}", quoted(s)),
        U::Bytes(_) => "byte array".to_owned(),
        // serde_json's word for JSON's `null`.
        U::Unit => "null".to_owned(),
        U::Option => "Option value".to_owned(),
        U::NewtypeStruct => "newtype struct".to_owned(),
        U::Seq => "sequence".to_owned(),
        U::Map => "map".to_owned(),
        U::Enum => "enum".to_owned(),
        U::UnitVariant => "unit variant".to_owned(),
        U::NewtypeVariant => "newtype variant".to_owned(),
        U::TupleVariant => "tuple variant".to_owned(),
        U::StructVariant => "struct variant".to_owned(),
        U::Other(other) => other.to_owned(),
    };
    ReadError(format!("{what}: {shown}, expected {expected}"))
}

/// A string in double quotes, as Rust's `Debug` writes it, but for the characters
/// `Debug` escapes by Unicode's tables, which are written as they are: the usual
/// escapes, and `\u{…}` for the other control characters.
fn quoted(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() => {
                out.push_str(&format!("\\u{{{:x}}}", u32::from(c)));
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

struct Reader(Value);

/// The value as serde names it in a type error.
fn unexpected(value: &Value) -> de::Unexpected<'_> {
    match value {
        Value::Null => de::Unexpected::Unit,
        Value::Bool(b) => de::Unexpected::Bool(*b),
        Value::Number(n) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => de::Unexpected::Unsigned(u),
            (None, Some(i)) => de::Unexpected::Signed(i),
            _ => de::Unexpected::Float(n.as_f64().unwrap_or_default()),
        },
        Value::String(s) => de::Unexpected::Str(s),
        Value::Array(_) => de::Unexpected::Seq,
        Value::Object(_) => de::Unexpected::Map,
    }
}

#[inline(never)]
fn wrong_type(value: &Value, expected: &dyn Expected) -> ReadError {
    de::Error::invalid_type(unexpected(value), expected)
}

/// A number, as the visitor's `visit_u64`, `visit_i64` or `visit_f64`.
fn number<'de, V: Visitor<'de>>(n: &serde_json::Number, visitor: V) -> Result<V::Value> {
    match (n.as_u64(), n.as_i64()) {
        (Some(u), _) => visitor.visit_u64(u),
        (None, Some(i)) => visitor.visit_i64(i),
        _ => visitor.visit_f64(n.as_f64().unwrap_or_default()),
    }
}

/// An array's elements, one by one.
struct Elements {
    items: std::vec::IntoIter<Value>,
    len: usize,
}

impl Elements {
    /// serde_json's check that the visitor took every element.
    fn finish(&self) -> Result<()> {
        match self.items.len() {
            0 => Ok(()),
            _ => Err(de::Error::invalid_length(
                self.len,
                &"fewer elements in array",
            )),
        }
    }
}

/// A map's entries, one by one: the key given, then its value.
struct Entries {
    entries: serde_json::map::IntoIter,
    len: usize,
    value: Option<Value>,
}

impl Entries {
    /// serde_json's check that the visitor took every entry.
    fn finish(&self) -> Result<()> {
        match self.entries.len() {
            0 => Ok(()),
            _ => Err(de::Error::invalid_length(
                self.len,
                &"fewer elements in map",
            )),
        }
    }
}

fn visit_array<'de, V: Visitor<'de>>(items: Vec<Value>, visitor: V) -> Result<V::Value> {
    let len = items.len();
    let mut elements = Elements {
        items: items.into_iter(),
        len,
    };
    let value = visitor.visit_seq(&mut elements)?;
    elements.finish()?;
    Ok(value)
}

fn visit_object<'de, V: Visitor<'de>>(map: Map<String, Value>, visitor: V) -> Result<V::Value> {
    let len = map.len();
    let mut entries = Entries {
        entries: map.into_iter(),
        len,
        value: None,
    };
    let value = visitor.visit_map(&mut entries)?;
    entries.finish()?;
    Ok(value)
}

impl<'de> de::SeqAccess<'de> for Elements {
    type Error = ReadError;

    fn next_element_seed<T: DeserializeSeed<'de>>(&mut self, seed: T) -> Result<Option<T::Value>> {
        match self.items.next() {
            Some(value) => seed.deserialize(Reader(value)).map(Some),
            None => Ok(None),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.items.len())
    }
}

impl<'de> de::MapAccess<'de> for Entries {
    type Error = ReadError;

    fn next_key_seed<K: DeserializeSeed<'de>>(&mut self, seed: K) -> Result<Option<K::Value>> {
        match self.entries.next() {
            Some((key, value)) => {
                self.value = Some(value);
                seed.deserialize(IntoDeserializer::<ReadError>::into_deserializer(key))
                    .map(Some)
            }
            None => Ok(None),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value> {
        match self.value.take() {
            Some(value) => seed.deserialize(Reader(value)),
            None => Err(de::Error::custom("value is missing")),
        }
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.entries.len())
    }
}

/// Each of these takes the one kind of value it names, or is a type error.
macro_rules! only {
    ($($method:ident: $pattern:pat => $visit:expr;)*) => {
        $(
            fn $method<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
                #[allow(clippy::redundant_closure_call)]
                match self.0 {
                    $pattern => ($visit)(visitor),
                    other => Err(wrong_type(&other, &visitor)),
                }
            }
        )*
    };
}

impl<'de> de::Deserializer<'de> for Reader {
    type Error = ReadError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0 {
            Value::Null => visitor.visit_unit(),
            Value::Bool(b) => visitor.visit_bool(b),
            Value::Number(n) => number(&n, visitor),
            Value::String(s) => visitor.visit_string(s),
            Value::Array(items) => visit_array(items, visitor),
            Value::Object(map) => visit_object(map, visitor),
        }
    }

    fn deserialize_option<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0 {
            Value::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_unit_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_unit(visitor)
    }

    fn deserialize_tuple<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_tuple_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: usize,
        visitor: V,
    ) -> Result<V::Value> {
        self.deserialize_seq(visitor)
    }

    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.0 {
            Value::Array(items) => visit_array(items, visitor),
            Value::Object(map) => visit_object(map, visitor),
            other => Err(wrong_type(&other, &visitor)),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        let (variant, value) = match self.0 {
            Value::String(variant) => (variant, None),
            Value::Object(map) => {
                let mut entries = map.into_iter();
                match (entries.next(), entries.next()) {
                    (Some((variant, value)), None) => (variant, Some(value)),
                    _ => {
                        return Err(de::Error::invalid_value(
                            de::Unexpected::Map,
                            &"map with a single key",
                        ));
                    }
                }
            }
            other => return Err(wrong_type(&other, &"string or map")),
        };
        visitor.visit_enum(Variant { variant, value })
    }

    fn deserialize_ignored_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        visitor.visit_unit()
    }

    fn deserialize_identifier<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_string(visitor)
    }

    fn deserialize_char<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_string(visitor)
    }

    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_string(visitor)
    }

    fn deserialize_bytes<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        self.deserialize_byte_buf(visitor)
    }

    fn deserialize_byte_buf<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value> {
        match self.0 {
            Value::String(s) => visitor.visit_string(s),
            Value::Array(items) => visit_array(items, visitor),
            other => Err(wrong_type(&other, &visitor)),
        }
    }

    only! {
        deserialize_bool: Value::Bool(b) => |v: V| v.visit_bool(b);
        deserialize_unit: Value::Null => |v: V| v.visit_unit();
        deserialize_string: Value::String(s) => |v: V| v.visit_string(s);
        deserialize_seq: Value::Array(items) => |v: V| visit_array(items, v);
        deserialize_map: Value::Object(map) => |v: V| visit_object(map, v);
        deserialize_i8: Value::Number(n) => |v: V| number(&n, v);
        deserialize_i16: Value::Number(n) => |v: V| number(&n, v);
        deserialize_i32: Value::Number(n) => |v: V| number(&n, v);
        deserialize_i64: Value::Number(n) => |v: V| number(&n, v);
        deserialize_i128: Value::Number(n) => |v: V| number(&n, v);
        deserialize_u8: Value::Number(n) => |v: V| number(&n, v);
        deserialize_u16: Value::Number(n) => |v: V| number(&n, v);
        deserialize_u32: Value::Number(n) => |v: V| number(&n, v);
        deserialize_u64: Value::Number(n) => |v: V| number(&n, v);
        deserialize_u128: Value::Number(n) => |v: V| number(&n, v);
        deserialize_f32: Value::Number(n) => |v: V| number(&n, v);
        deserialize_f64: Value::Number(n) => |v: V| number(&n, v);
    }
}

/// An externally tagged variant: its name, and its content unless it is a bare name.
struct Variant {
    variant: String,
    value: Option<Value>,
}

impl<'de> de::EnumAccess<'de> for Variant {
    type Error = ReadError;
    type Variant = Content;

    fn variant_seed<V: DeserializeSeed<'de>>(self, seed: V) -> Result<(V::Value, Content)> {
        let name = seed.deserialize(IntoDeserializer::<ReadError>::into_deserializer(
            self.variant,
        ))?;
        Ok((name, Content(self.value)))
    }
}

struct Content(Option<Value>);

impl<'de> de::VariantAccess<'de> for Content {
    type Error = ReadError;

    fn unit_variant(self) -> Result<()> {
        match self.0 {
            Some(value) => de::Deserialize::deserialize(Reader(value)),
            None => Ok(()),
        }
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value> {
        match self.0 {
            Some(value) => seed.deserialize(Reader(value)),
            None => Err(de::Error::invalid_type(
                de::Unexpected::UnitVariant,
                &"newtype variant",
            )),
        }
    }

    fn tuple_variant<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value> {
        match self.0 {
            Some(Value::Array(items)) => visit_array(items, visitor),
            Some(other) => Err(wrong_type(&other, &"tuple variant")),
            None => Err(de::Error::invalid_type(
                de::Unexpected::UnitVariant,
                &"tuple variant",
            )),
        }
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value> {
        match self.0 {
            Some(Value::Object(map)) => visit_object(map, visitor),
            Some(other) => Err(wrong_type(&other, &"struct variant")),
            None => Err(de::Error::invalid_type(
                de::Unexpected::UnitVariant,
                &"struct variant",
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde::Deserialize;
    use std::collections::BTreeMap;
    use std::fmt::Debug;

    /// The same value or the same message as serde_json's reader.
    fn reads_as_serde_json<T: DeserializeOwned + Debug>(value: &Value) {
        let ours = from_value::<T>(value.clone()).map_err(|e| e.to_string());
        let theirs = serde_json::from_value::<T>(value.clone()).map_err(|e| e.to_string());
        assert_eq!(format!("{ours:?}"), format!("{theirs:?}"), "{value}");
    }

    /// JSON values whose object keys come from `keys`, so that generated values reach
    /// a type's fields; strings hold ASCII, controls and printable letters beyond ASCII.
    fn values(keys: &'static [&'static str]) -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<u64>().prop_map(Value::from),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            "[ -~\\x00-\\x1f\u{7f}é日ß]{0,6}".prop_map(Value::String),
            prop::sample::select(keys).prop_map(Value::from),
        ];
        leaf.prop_recursive(4, 40, 6, move |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
                prop::collection::vec((prop::sample::select(keys), inner), 0..6).prop_map(
                    |entries| {
                        Value::Object(
                            entries
                                .into_iter()
                                .map(|(k, v)| (k.to_owned(), v))
                                .collect::<Map<_, _>>(),
                        )
                    }
                ),
            ]
        })
    }

    #[derive(Debug, Deserialize)]
    #[allow(dead_code)]
    enum Shape {
        Unit,
        Newtype(u8),
        Tuple(i32, String),
        Struct { a: Option<f32>, b: Vec<u16> },
    }

    #[derive(Debug, Deserialize)]
    #[serde(deny_unknown_fields)]
    #[allow(dead_code)]
    struct Model {
        flag: Option<bool>,
        small: Option<u8>,
        signed: Option<i64>,
        float: Option<f64>,
        letter: Option<char>,
        text: Option<String>,
        list: Option<Vec<String>>,
        shape: Option<Shape>,
        shapes: Option<Vec<Shape>>,
        pair: Option<(u32, bool)>,
        named: Option<BTreeMap<String, i16>>,
        unit: Option<()>,
        #[serde(default)]
        nested: Option<Box<Model>>,
    }

    const MODEL_KEYS: &[&str] = &[
        "flag", "small", "signed", "float", "letter", "text", "list", "shape", "shapes", "pair",
        "named", "unit", "nested", "Unit", "Newtype", "Tuple", "Struct", "a", "b", "other",
    ];

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(3_000))]
        #[test]
        fn reads_serde_data_model_as_serde_json_does(v in values(MODEL_KEYS)) {
            reads_as_serde_json::<Model>(&v);
            reads_as_serde_json::<Vec<Shape>>(&v);
            reads_as_serde_json::<Option<String>>(&v);
        }

        #[test]
        fn reads_target_descriptions_as_serde_json_does(v in values(&[
            "kind", "deployment", "esc", "org", "project", "stack", "env", "operations",
            "subjectAttributes", "user", "rootEnv", "includeYamlSubject", "issuer", "x",
        ])) {
            reads_as_serde_json::<crate::TargetSpec>(&v);
        }

        #[test]
        fn reads_render_options_as_serde_json_does(v in values(&[
            "clientId", "tenantId", "subscriptionId", "client_id",
        ])) {
            reads_as_serde_json::<crate::kit::RenderInput>(&v);
        }
    }

    #[test]
    fn each_kind_of_wrong_value_is_named_as_serde_json_names_it() {
        for text in [
            "null",
            "true",
            "3",
            "-3",
            "1.5",
            "1e300",
            "-0.0",
            r#""x""#,
            r#""a\"b\\c\n\r\t\u0000\u0001\u001f\u007f é""#,
            "[1]",
            "{}",
            r#"{"Unit": 1}"#,
            r#"{"Newtype": null}"#,
            r#"{"Tuple": [1]}"#,
            r#"{"Tuple": [1, "a", 2]}"#,
            r#"{"Struct": 1}"#,
            r#"{"a": 1, "b": 2}"#,
            r#""Newtype""#,
            r#""Struct""#,
            r#""Nothing""#,
        ] {
            let v: Value = serde_json::from_str(text).unwrap();
            reads_as_serde_json::<Shape>(&v);
            reads_as_serde_json::<Model>(&v);
            reads_as_serde_json::<(u8, char)>(&v);
            reads_as_serde_json::<u8>(&v);
            reads_as_serde_json::<char>(&v);
        }
    }

    #[test]
    fn whole_values_read_as_serde_json_reads_them() {
        for text in [
            r#"{"kind": "deployment", "org": "contoso", "project": "core", "stack": "dev", "operations": ["update"]}"#,
            r#"{"kind": "esc", "org": "contoso", "project": "azure", "env": "prod", "includeYamlSubject": true}"#,
        ] {
            let v: Value = serde_json::from_str(text).unwrap();
            assert!(from_value::<crate::TargetSpec>(v.clone()).is_ok(), "{text}");
            reads_as_serde_json::<crate::TargetSpec>(&v);
        }
        let v = serde_json::json!({"clientId": "c", "tenantId": null});
        assert!(from_value::<crate::kit::RenderInput>(v.clone()).is_ok());
        reads_as_serde_json::<crate::kit::RenderInput>(&v);
        let v = serde_json::json!({
            "flag": true, "small": 7, "signed": -3, "float": 1.5, "letter": "x", "text": "t",
            "list": ["a"], "shape": {"Struct": {"a": 1.0, "b": [1]}}, "pair": [1, false],
            "shapes": ["Unit", {"Newtype": 1}, {"Tuple": [1, "a"]}], "named": {"k": 1},
            "unit": null, "nested": {"text": "n"}
        });
        assert!(from_value::<Model>(v.clone()).is_ok());
        reads_as_serde_json::<Model>(&v);
    }

    #[test]
    fn strings_are_quoted_as_rust_debug_quotes_them_but_for_unprintable_letters() {
        for s in [
            "",
            "plain",
            "a\"b",
            "back\\slash",
            "\n\r\t\0",
            "\u{1}\u{1f}\u{7f}\u{85}",
            "é日ß 'q'",
        ] {
            assert_eq!(quoted(s), format!("{s:?}"));
        }
        // Rust's `Debug` escapes a zero-width space; JSON text shows it as it is.
        assert_eq!(quoted("a\u{200b}b"), "\"a\u{200b}b\"");
    }
}
