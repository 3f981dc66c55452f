//! The core's hash maps and sets: hashbrown's tables, with std's randomly keyed
//! SipHash. std's own `HashMap` is hashbrown compiled a second time inside std, and
//! serde_json's ordered maps (indexmap) already bring this one; with one copy of the
//! table code the browser module is smaller. The API is std's but for `default()` in
//! place of `new()`.

pub(crate) type HashMap<K, V> = hashbrown::HashMap<K, V, std::hash::RandomState>;
pub(crate) type HashSet<T> = hashbrown::HashSet<T, std::hash::RandomState>;
