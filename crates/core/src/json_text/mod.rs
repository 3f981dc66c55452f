//! JSON text, compact or indented, through one serializer.
//!
//! serde_json's `to_string` and `to_string_pretty` use two formatter types, so every
//! type serialized both ways is compiled twice, and each (type, field type) pair gets
//! its own copy of the layout code. [`writer::Writer`] chooses the layout at run time
//! and keeps it out of the per-type code, and writes byte for byte what the two write
//! (checked in the tests below); the browser module is the smaller for it.

mod key;
mod writer;

use serde::Serialize;

fn write<T: Serialize + ?Sized>(value: &T, pretty: bool) -> serde_json::Result<String> {
    let mut w = writer::Writer::new(pretty);
    let written = value.serialize(&mut w);
    w.finish(written)
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

    /// Every shape of serde's data model that `Value` cannot produce.
    #[derive(Debug, Clone, Serialize)]
    enum Shape {
        Unit,
        Newtype(u8),
        Tuple(i32, String),
        Struct { a: Option<f32>, b: Vec<u16> },
        Empty {},
        NoItems(),
    }

    #[derive(Debug, Clone, Serialize, PartialEq, Eq, PartialOrd, Ord)]
    struct Name(String);

    #[derive(Debug, Clone, Serialize)]
    struct Marker;

    #[derive(Debug, Clone, Serialize)]
    struct Pair(i8, u128, char);

    #[derive(Debug, Clone)]
    struct Bytes(Vec<u8>);

    impl Serialize for Bytes {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(&self.0)
        }
    }

    #[derive(Debug, Clone, Serialize)]
    #[serde(tag = "kind", rename_all = "camelCase")]
    enum Tagged {
        First { x: i64 },
        Second(Inner),
    }

    #[derive(Debug, Clone, Serialize)]
    struct Inner {
        y: bool,
        #[serde(skip_serializing_if = "Option::is_none")]
        z: Option<String>,
    }

    #[derive(Debug, Clone, Serialize)]
    struct Model {
        b: bool,
        small: i16,
        unsigned: u32,
        big: i128,
        ubig: u128,
        single: f32,
        double: f64,
        c: char,
        s: String,
        bytes: Bytes,
        unit: (),
        marker: Marker,
        pair: Pair,
        shapes: Vec<Shape>,
        tagged: Vec<Tagged>,
        #[serde(flatten)]
        extra: std::collections::BTreeMap<String, i64>,
        by_number: std::collections::BTreeMap<i32, Shape>,
        by_flag: std::collections::BTreeMap<bool, ()>,
        by_char: std::collections::BTreeMap<char, u8>,
        by_name: std::collections::BTreeMap<Name, Option<Name>>,
        by_small: std::collections::BTreeMap<u8, i8>,
        tuple: (u64, Option<i64>, Vec<()>),
    }

    fn shape() -> impl Strategy<Value = Shape> {
        prop_oneof![
            Just(Shape::Unit),
            any::<u8>().prop_map(Shape::Newtype),
            (any::<i32>(), "\\PC{0,4}|[\\x00-\\x1f\"\\\\]{1,3}")
                .prop_map(|(i, s)| Shape::Tuple(i, s)),
            (
                any::<Option<f32>>(),
                prop::collection::vec(any::<u16>(), 0..3)
            )
                .prop_map(|(a, b)| Shape::Struct { a, b }),
            Just(Shape::Empty {}),
            Just(Shape::NoItems()),
        ]
    }

    fn model() -> impl Strategy<Value = Model> {
        let scalars = (
            any::<bool>(),
            any::<i16>(),
            any::<u32>(),
            any::<i128>(),
            any::<u128>(),
            any::<f32>(),
            any::<f64>(),
            any::<char>(),
            ".{0,6}",
            prop::collection::vec(any::<u8>(), 0..4),
            (any::<i8>(), any::<u128>(), any::<char>()),
        );
        let tagged = prop::collection::vec(
            prop_oneof![
                any::<i64>().prop_map(|x| Tagged::First { x }),
                (any::<bool>(), any::<Option<String>>())
                    .prop_map(|(y, z)| Tagged::Second(Inner { y, z })),
            ],
            0..3,
        );
        let maps = (
            prop::collection::btree_map("[a-z]{1,3}", any::<i64>(), 0..3),
            prop::collection::btree_map(any::<i32>(), shape(), 0..3),
            prop::collection::btree_map(any::<bool>(), Just(()), 0..3),
            prop::collection::btree_map(any::<char>(), any::<u8>(), 0..3),
            prop::collection::btree_map(
                ".{0,3}".prop_map(Name),
                prop::option::of(".{0,3}".prop_map(Name)),
                0..3,
            ),
            prop::collection::btree_map(any::<u8>(), any::<i8>(), 0..3),
        );
        let tuple = (
            any::<u64>(),
            any::<Option<i64>>(),
            prop::collection::vec(Just(()), 0..3),
        );
        (
            scalars,
            prop::collection::vec(shape(), 0..4),
            tagged,
            maps,
            tuple,
        )
            .prop_map(|(sc, shapes, tagged, maps, tuple)| Model {
                b: sc.0,
                small: sc.1,
                unsigned: sc.2,
                big: sc.3,
                ubig: sc.4,
                single: sc.5,
                double: sc.6,
                c: sc.7,
                s: sc.8,
                bytes: Bytes(sc.9),
                unit: (),
                marker: Marker,
                pair: Pair(sc.10.0, sc.10.1, sc.10.2),
                shapes,
                tagged,
                extra: maps.0,
                by_number: maps.1,
                by_flag: maps.2,
                by_char: maps.3,
                by_name: maps.4,
                by_small: maps.5,
                tuple,
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(1_000))]
        #[test]
        fn writes_every_shape_as_serde_json_does(m in model()) {
            prop_assert_eq!(compact(&m).unwrap(), serde_json::to_string(&m).unwrap());
            prop_assert_eq!(pretty(&m).unwrap(), serde_json::to_string_pretty(&m).unwrap());
        }
    }

    #[test]
    fn keys_serde_json_refuses_are_refused_with_its_words() {
        use std::collections::BTreeMap;
        fn same_error<T: Serialize>(value: &T) {
            let ours = compact(value).unwrap_err().to_string();
            let theirs = serde_json::to_string(value).unwrap_err().to_string();
            assert_eq!(ours, theirs);
            assert_eq!(pretty(value).unwrap_err().to_string(), theirs);
        }
        same_error(&BTreeMap::from([(vec![1], 1)]));
        same_error(&BTreeMap::from([(Some(Marker.clone()).map(|_| ()), 1)]));
        same_error(&BTreeMap::from([(None::<String>, 1)]));
        same_error(&BTreeMap::from(
            [(Pair(1, 2, 'c'), 1)].map(|(k, v)| ((k.0, k.1), v)),
        ));
        let nan: std::collections::HashMap<NotNan, i32> = [(NotNan(f64::NAN), 1)].into();
        same_error(&nan);
        // Finite floats are keys, quoted.
        let finite: std::collections::HashMap<NotNan, i32> = [(NotNan(1.5), 1)].into();
        assert_eq!(
            compact(&finite).unwrap(),
            serde_json::to_string(&finite).unwrap()
        );
    }

    /// A float map key (std's floats are not `Eq`/`Hash`).
    #[derive(Debug, PartialEq)]
    struct NotNan(f64);
    impl Eq for NotNan {}
    impl std::hash::Hash for NotNan {
        fn hash<H: std::hash::Hasher>(&self, h: &mut H) {
            self.0.to_bits().hash(h)
        }
    }
    impl Serialize for NotNan {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_f64(self.0)
        }
    }
}
