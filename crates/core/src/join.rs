//! Joining a list of texts with a separator, in a plain loop.
//!
//! std's `[S]::join` copies through a version unrolled for each separator length up
//! to four bytes: about 900 B of the browser calculator's module for each item type
//! joined. The core joins short lists of names for messages and renders, where a loop
//! is as fast.

/// `join`, for a slice, `Vec` or array of `String`s or `&str`s.
pub(crate) trait Joined {
    fn joined(&self, separator: &str) -> String;
}

impl<S: AsRef<str>> Joined for [S] {
    fn joined(&self, separator: &str) -> String {
        let mut out = String::new();
        for (i, item) in self.iter().enumerate() {
            if i > 0 {
                out.push_str(separator);
            }
            out.push_str(item.as_ref());
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    proptest! {
        #[test]
        fn joins_as_std_joins(items in proptest::collection::vec(".{0,6}", 0..6), separator in ".{0,5}") {
            prop_assert_eq!(items.joined(&separator), items.join(separator.as_str()));
            let borrowed: Vec<&str> = items.iter().map(String::as_str).collect();
            prop_assert_eq!(borrowed.joined(&separator), borrowed.join(separator.as_str()));
        }
    }
}
