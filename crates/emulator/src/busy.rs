//! Which objects have a write in flight. A service that refuses concurrent writes to
//! one object (Azure's managed identities refuse a second credential write with 409)
//! marks the object for as long as a write runs; the mark goes when the write ends,
//! however it ends — a client that hangs up mid-request drops its future, and with it
//! the mark.

use std::collections::HashSet;
use std::sync::Mutex;

use crate::shared::lock;

/// The keys (lower-case resource ids) with a write in flight.
#[derive(Debug, Default)]
pub(crate) struct Busy {
    keys: Mutex<HashSet<String>>,
}

impl Busy {
    /// Mark `key` busy, unless it already is.
    pub(crate) fn hold(&self, key: &str) -> Option<Held<'_>> {
        let key = key.to_ascii_lowercase();
        // Decide under the lock, make the mark after it: a mark dropped while the lock is
        // held would wait for itself.
        let inserted = lock(&self.keys).insert(key.clone());
        if inserted {
            Some(Held { busy: self, key })
        } else {
            None
        }
    }
}

/// A write in flight; dropping it ends the write.
#[derive(Debug)]
pub(crate) struct Held<'a> {
    busy: &'a Busy,
    key: String,
}

impl Drop for Held<'_> {
    fn drop(&mut self) {
        lock(&self.busy.keys).remove(&self.key);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_holder_at_a_time_and_released_on_drop() {
        let busy = Busy::default();
        let first = busy.hold("/Subscriptions/A/x");
        assert!(first.is_some());
        assert!(busy.hold("/subscriptions/a/X").is_none());
        assert!(busy.hold("/subscriptions/a/y").is_some());
        drop(first);
        assert!(busy.hold("/subscriptions/a/x").is_some());
    }
}
