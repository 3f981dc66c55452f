//! The input budget of a config: its size, its nesting, and how many values it may
//! hold once YAML aliases are expanded, checked before or while it is read, so a
//! hostile file costs bounded memory and time.

use crate::error::{Error, Result};
use serde::de;
use std::cell::Cell;

/// The largest config accepted; real ones are a few kilobytes.
pub const MAX_CONFIG_BYTES: usize = 1 << 20;
/// The deepest nesting of collections accepted; a config nests four deep
/// (`esc[0].keyVault.secrets[0]`).
pub const MAX_NESTING: usize = 32;
/// The fewest values (scalars and collections) a YAML config may always hold,
/// counting a value reached through an alias each time the alias is used. A config
/// may hold one value per byte of its text when that is more: text without aliases
/// never holds that many (a 10,000-stack config: about 12,000 values in 600 kB),
/// while alias expansion, whose memory and time this bounds, is refused early.
pub const MAX_CONFIG_VALUES: usize = 10_000;

/// The value budget of a config of `len` bytes (see [`MAX_CONFIG_VALUES`]).
pub fn config_value_limit(len: usize) -> usize {
    MAX_CONFIG_VALUES.max(len)
}
/// The most role grants a config may ask for in all (each target times its roles):
/// every target keeps its own list, so a long `stacks` list times a long `roles` list
/// would otherwise multiply in memory.
/// 50,000 is five roles for each of 10,000 stacks.
pub const MAX_ROLE_GRANTS: usize = 50_000;

/// Walks a document without keeping it, spending one unit of `left` per value and
/// refusing nesting deeper than [`MAX_NESTING`].
pub(super) struct Budget<'a> {
    left: &'a Cell<usize>,
    limit: usize,
    depth: usize,
}

/// Walk `text` without keeping it, refusing it once it holds more values than its
/// size allows (see [`MAX_CONFIG_VALUES`]) or nests too deep.
pub(super) fn walk<'de, D: de::Deserializer<'de>>(
    limit: usize,
    document: D,
) -> std::result::Result<(), D::Error> {
    use de::DeserializeSeed;
    Budget {
        left: &Cell::new(limit),
        limit,
        depth: 0,
    }
    .deserialize(document)
}

impl Budget<'_> {
    fn spend<E: de::Error>(&self) -> std::result::Result<(), E> {
        let left = self.left.get();
        if left == 0 {
            return Err(E::custom(format!(
                "the config holds more than {} values (each use of a YAML alias counts its values again); a config never needs that many",
                self.limit
            )));
        }
        self.left.set(left - 1);
        Ok(())
    }

    fn inner<E: de::Error>(&self) -> std::result::Result<Self, E> {
        if self.depth >= MAX_NESTING {
            return Err(E::custom(format!(
                "values nest more than {MAX_NESTING} deep; a config never needs more"
            )));
        }
        Ok(Budget {
            left: self.left,
            limit: self.limit,
            depth: self.depth + 1,
        })
    }
}

impl<'de> de::DeserializeSeed<'de> for Budget<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

macro_rules! spend_on {
    ($($name:ident($ty:ty)),*) => {$(
        fn $name<E: de::Error>(self, _: $ty) -> std::result::Result<(), E> {
            self.spend()
        }
    )*};
}

impl<'de> de::Visitor<'de> for Budget<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a config")
    }

    spend_on!(
        visit_bool(bool),
        visit_i64(i64),
        visit_u64(u64),
        visit_i128(i128),
        visit_u128(u128),
        visit_f64(f64),
        visit_str(&str),
        visit_bytes(&[u8])
    );

    fn visit_unit<E: de::Error>(self) -> std::result::Result<(), E> {
        self.spend()
    }

    fn visit_none<E: de::Error>(self) -> std::result::Result<(), E> {
        self.spend()
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(self)
    }

    fn visit_newtype_struct<D: de::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<(), D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        self.spend()?;
        while seq.next_element_seed(self.inner()?)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        self.spend()?;
        while map.next_key_seed(self.inner()?)?.is_some() {
            map.next_value_seed(self.inner()?)?;
        }
        Ok(())
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> std::result::Result<(), A::Error> {
        use de::VariantAccess;
        let ((), variant) = data.variant_seed(self.inner()?)?;
        variant.newtype_variant_seed(self.inner()?)
    }
}

/// Refuse what no config looks like before the YAML parser sees it: a huge text, or
/// collections nested deeper than any config needs (the parser slows down sharply
/// and holds hundreds of bytes per level on pathological nesting). Nesting that gets
/// past this (by indentation) is refused by the counting walk in `from_yaml`.
pub(super) fn check_shape(text: &str) -> Result<()> {
    if text.len() > MAX_CONFIG_BYTES {
        return Err(Error::InputTooLarge {
            what: "the config",
            len: text.len(),
            max: MAX_CONFIG_BYTES,
        });
    }
    // Block collections nest by indentation, which costs a line per level, except in
    // the compact forms `- - - x` and `? ? x`: count those per line.
    let compact = text
        .lines()
        .map(|line| {
            let mut rest = line.trim_start_matches(' ');
            let mut n = 0usize;
            while let Some(r) = rest.strip_prefix("- ").or_else(|| rest.strip_prefix("? ")) {
                n += 1;
                rest = r.trim_start_matches(' ');
            }
            n
        })
        .max()
        .unwrap_or(0);
    if compact > MAX_NESTING {
        return Err(Error::InvalidConfig {
            message: format!(
                "block collections nest {compact} deep on one line; a config never needs more than {MAX_NESTING}"
            ),
            location: None,
        });
    }
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            // Comments and apostrophes make quote tracking approximate; a line end
            // resets it, which is all a depth check needs.
            (_, '\n') => quote = None,
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '{') => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            (None, ']' | '}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if deepest > MAX_NESTING {
        return Err(Error::InvalidConfig {
            message: format!(
                "brackets nest {deepest} deep; a config never needs more than {MAX_NESTING}"
            ),
            location: None,
        });
    }
    Ok(())
}
