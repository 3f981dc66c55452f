//! JSON values built from their parts, for request bodies and renders.
//!
//! serde_json's `json!` passes every value it is given through `to_value`, that is
//! through serde_json's value serializer: a deep copy for a `Value`, and that
//! serializer compiled again for each type it meets. These move the parts in
//! instead, and give the same values (keys in the order written, as serde_json's
//! ordered map keeps them).

use serde_json::{Map, Value};

/// `{"name": value, …}`, in the order given.
pub(crate) fn object(entries: Vec<(&str, Value)>) -> Value {
    Value::Object(
        entries
            .into_iter()
            .map(|(name, value)| (name.to_owned(), value))
            .collect::<Map<String, Value>>(),
    )
}

/// `["a", "b", …]`.
pub(crate) fn strings(items: &[String]) -> Value {
    Value::Array(items.iter().map(|s| Value::from(s.as_str())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn the_same_values_as_json_macro() {
        let tags = vec!["b".to_owned(), "a".to_owned()];
        assert_eq!(
            object(vec![
                ("z", Value::from("1")),
                ("a", strings(&tags)),
                ("m", object(vec![("k", Value::Null)])),
            ]),
            json!({"z": "1", "a": ["b", "a"], "m": {"k": null}})
        );
        let keys: Vec<String> = object(vec![("z", Value::Null), ("a", Value::Null)])
            .as_object()
            .map(|m| m.keys().cloned().collect())
            .unwrap_or_default();
        assert_eq!(keys, ["z", "a"]);
    }
}
