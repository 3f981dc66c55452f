//! JSON text, compact or indented, through one serializer type.
//!
//! serde_json's `to_string` and `to_string_pretty` use two formatter types, so every
//! type serialized both ways is compiled twice. `Layout` chooses at run time and
//! writes byte for byte what the two write (checked in the tests below), so each type
//! is compiled once; the browser module is the smaller for it.

use serde::Serialize;
use serde_json::ser::{Formatter, Serializer};
use std::io::{self, Write};

/// Compact (`{"a":[1,2]}`) or indented by two spaces, as serde_json's pretty printer.
struct Layout {
    pretty: bool,
    depth: usize,
    has_value: bool,
}

impl Layout {
    fn open<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth += 1;
        self.has_value = false;
        w.write_all(bracket)
    }

    fn close<W: ?Sized + Write>(&mut self, w: &mut W, bracket: &[u8]) -> io::Result<()> {
        self.depth -= 1;
        if self.pretty && self.has_value {
            self.new_line(w)?;
        }
        w.write_all(bracket)
    }

    fn item<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        if !first {
            w.write_all(b",")?;
        }
        if self.pretty {
            self.new_line(w)?;
        }
        Ok(())
    }

    fn new_line<W: ?Sized + Write>(&self, w: &mut W) -> io::Result<()> {
        w.write_all(b"\n")?;
        for _ in 0..self.depth {
            w.write_all(b"  ")?;
        }
        Ok(())
    }
}

impl Formatter for Layout {
    fn begin_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"[")
    }

    fn end_array<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"]")
    }

    fn begin_array_value<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.item(w, first)
    }

    fn end_array_value<W: ?Sized + Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }

    fn begin_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.open(w, b"{")
    }

    fn end_object<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        self.close(w, b"}")
    }

    fn begin_object_key<W: ?Sized + Write>(&mut self, w: &mut W, first: bool) -> io::Result<()> {
        self.item(w, first)
    }

    fn begin_object_value<W: ?Sized + Write>(&mut self, w: &mut W) -> io::Result<()> {
        w.write_all(if self.pretty { b": " } else { b":" })
    }

    fn end_object_value<W: ?Sized + Write>(&mut self, _: &mut W) -> io::Result<()> {
        self.has_value = true;
        Ok(())
    }
}

fn write<T: Serialize + ?Sized>(value: &T, pretty: bool) -> serde_json::Result<String> {
    let mut out = Vec::with_capacity(128);
    let layout = Layout {
        pretty,
        depth: 0,
        has_value: false,
    };
    value.serialize(&mut Serializer::with_formatter(&mut out, layout))?;
    // serde_json writes only UTF-8; the check cannot fail.
    Ok(String::from_utf8(out).unwrap_or_default())
}

/// What `serde_json::to_string` writes.
pub fn compact<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    write(value, false)
}

/// What `serde_json::to_string_pretty` writes.
pub fn pretty<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<String> {
    write(value, true)
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use serde_json::{Map, Value};

    fn value() -> impl Strategy<Value = Value> {
        let leaf = prop_oneof![
            Just(Value::Null),
            any::<bool>().prop_map(Value::Bool),
            any::<i64>().prop_map(Value::from),
            any::<f64>().prop_map(Value::from),
            ".{0,8}".prop_map(Value::String),
        ];
        leaf.prop_recursive(4, 48, 6, |inner| {
            prop_oneof![
                prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
                prop::collection::vec((".{0,6}", inner), 0..6)
                    .prop_map(|entries| Value::Object(entries.into_iter().collect::<Map<_, _>>())),
            ]
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]
        #[test]
        fn writes_what_serde_json_writes(v in value()) {
            prop_assert_eq!(compact(&v).unwrap(), serde_json::to_string(&v).unwrap());
            prop_assert_eq!(pretty(&v).unwrap(), serde_json::to_string_pretty(&v).unwrap());
        }
    }

    #[test]
    fn empty_and_nested_containers_close_as_serde_json_closes_them() {
        let v: Value =
            serde_json::from_str(r#"{"a":[],"b":{},"c":[[],{}],"d":[{"e":[1]}]}"#).unwrap();
        assert_eq!(
            pretty(&v).unwrap(),
            serde_json::to_string_pretty(&v).unwrap()
        );
        assert_eq!(compact(&v).unwrap(), serde_json::to_string(&v).unwrap());
    }
}
