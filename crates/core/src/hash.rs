//! The core's hash maps and sets: hashbrown's tables, with std's randomly keyed
//! SipHash. std's own `HashMap` is hashbrown compiled a second time inside std, and
//! serde_json's ordered maps (indexmap) already bring this one; with one copy of the
//! table code the browser module is smaller. The API is std's but for `default()` in
//! place of `new()`.

pub(crate) type HashMap<K, V> = hashbrown::HashMap<K, V, std::hash::RandomState>;
pub(crate) type HashSet<T> = hashbrown::HashSet<T, std::hash::RandomState>;

/// Texts numbered in the order first met. The core's text-keyed tables all map a
/// `String` to a `usize` (sets and groupings too, through this), because each element
/// type of a hash table is another copy of the table code in the browser module.
#[derive(Default)]
pub(crate) struct TextNumbers(HashMap<String, usize>);

impl TextNumbers {
    /// The number of `text`, and whether it was new (then it gets the next number).
    pub(crate) fn number(&mut self, text: &str) -> (usize, bool) {
        if let Some(&n) = self.0.get(text) {
            return (n, false);
        }
        let n = self.0.len();
        self.0.insert(text.to_owned(), n);
        (n, true)
    }

    /// Whether `text` is met for the first time.
    pub(crate) fn is_new(&mut self, text: &str) -> bool {
        self.number(text).1
    }

    /// The number of `text`, if it was met.
    pub(crate) fn get(&self, text: &str) -> Option<usize> {
        self.0.get(text).copied()
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
