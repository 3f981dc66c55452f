//! The core's hash maps and sets: hashbrown's tables, with std's randomly keyed
//! SipHash. std's own `HashMap` is hashbrown compiled a second time inside std, and
//! serde_json's ordered maps (indexmap) already bring this one; with one copy of the
//! table code the browser module is smaller. The API is std's but for `default()` in
//! place of `new()`.

pub(crate) type HashMap<K, V> = hashbrown::HashMap<K, V, std::hash::RandomState>;
pub(crate) type HashSet<T> = hashbrown::HashSet<T, std::hash::RandomState>;

/// Texts numbered in the order first met. The core's text-keyed tables all number
/// texts (sets and groupings too, through this), because each element type of a hash
/// table is another copy of the table code in the browser module. The table is the
/// one serde_json's ordered maps use, text to JSON value (the value unused, the number
/// a text's index), so that the module holds that code once.
#[derive(Default)]
pub(crate) struct TextNumbers(indexmap::IndexMap<String, serde_json::Value>);

impl TextNumbers {
    /// The number of `text`, and whether it was new (then it gets the next number).
    pub(crate) fn number(&mut self, text: &str) -> (usize, bool) {
        if let Some(n) = self.0.get_index_of(text) {
            return (n, false);
        }
        let (n, _) = self.0.insert_full(text.to_owned(), serde_json::Value::Null);
        (n, true)
    }

    /// Whether `text` is met for the first time.
    pub(crate) fn is_new(&mut self, text: &str) -> bool {
        self.number(text).1
    }

    /// The number of `text`, if it was met.
    pub(crate) fn get(&self, text: &str) -> Option<usize> {
        self.0.get_index_of(text)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn texts_are_numbered_in_the_order_first_met() {
        let mut numbers = TextNumbers::default();
        assert_eq!(numbers.number("b"), (0, true));
        assert_eq!(numbers.number("a"), (1, true));
        assert_eq!(numbers.number("b"), (0, false));
        assert!(!numbers.is_new("a"));
        assert!(numbers.is_new("c"));
        assert_eq!(numbers.get("c"), Some(2));
        assert_eq!(numbers.get("d"), None);
    }
}
