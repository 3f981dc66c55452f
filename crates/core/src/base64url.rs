//! base64url (RFC 4648 §5), decoding only, for the segments of a JWT.
//!
//! RFC 7515 §2 writes a JWT's segments without padding; some tools keep it, so both
//! are read, as the `base64` crate's URL-safe engine with indifferent padding reads
//! them (canonical padding or less, and no stray bits after the last byte). That
//! engine is decoded in unrolled chunks, about 2 KB of the browser calculator's
//! module gzipped for two short segments per token; this loop is a tenth of it. The
//! tests hold it to the crate on every short input over the characters that matter.

/// The bytes `text` encodes, or `None` when it is not base64url.
pub(crate) fn decode(text: &[u8]) -> Option<Vec<u8>> {
    let body = text.strip_suffix(b"==").or_else(|| text.strip_suffix(b"="));
    let (body, padding) = match body {
        Some(body) => (body, text.len() - body.len()),
        None => (text, 0),
    };
    let tail = body.len() % 4;
    // A final group of one character holds no whole byte; padding needs a short
    // group and may not be longer than the group's canonical padding.
    if tail == 1 || (padding > 0 && (tail == 0 || padding > 4 - tail)) {
        return None;
    }
    let mut bytes = Vec::with_capacity(body.len() / 4 * 3 + 2);
    let mut bits: u32 = 0;
    for (i, &c) in body.iter().enumerate() {
        let value = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'-' => 62,
            b'_' => 63,
            _ => return None,
        };
        bits = bits << 6 | u32::from(value);
        if i % 4 == 3 {
            bytes.extend_from_slice(&bits.to_be_bytes()[1..]);
            bits = 0;
        }
    }
    match tail {
        2 if bits & 0xf == 0 => bytes.push((bits >> 4) as u8),
        3 if bits & 0x3 == 0 => bytes.extend_from_slice(&(bits >> 2).to_be_bytes()[2..]),
        0 => {}
        _ => return None,
    }
    Some(bytes)
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine;
    use base64::engine::{
        DecodePaddingMode, GeneralPurposeConfig, general_purpose::GeneralPurpose,
    };
    use proptest::prelude::*;

    const REFERENCE: GeneralPurpose = GeneralPurpose::new(
        &base64::alphabet::URL_SAFE,
        GeneralPurposeConfig::new().with_decode_padding_mode(DecodePaddingMode::Indifferent),
    );

    fn reference(text: &[u8]) -> Option<Vec<u8>> {
        REFERENCE.decode(text).ok()
    }

    #[test]
    fn every_short_text_over_the_edge_characters_reads_as_the_crate_reads_it() {
        // Characters with no stray low bits, with some, the two URL-safe ones, the
        // standard alphabet's two, padding and a space: every text up to six long.
        let alphabet = b"AQgw_-=+/ ";
        let mut texts: Vec<Vec<u8>> = vec![Vec::new()];
        let mut checked = 0;
        for _ in 0..6 {
            texts = texts
                .iter()
                .flat_map(|t| {
                    alphabet.iter().map(move |&c| {
                        let mut longer = t.clone();
                        longer.push(c);
                        longer
                    })
                })
                .collect();
            for text in &texts {
                assert_eq!(
                    decode(text),
                    reference(text),
                    "{:?}",
                    String::from_utf8_lossy(text)
                );
                checked += 1;
            }
        }
        assert_eq!(checked, 1_111_110);
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]
        #[test]
        fn any_bytes_round_trip_with_or_without_padding(
            bytes in proptest::collection::vec(any::<u8>(), 0..300),
        ) {
            let padded = base64::engine::general_purpose::URL_SAFE.encode(&bytes);
            let bare = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(&bytes);
            prop_assert_eq!(decode(padded.as_bytes()), Some(bytes.clone()));
            prop_assert_eq!(decode(bare.as_bytes()), Some(bytes));
        }

        #[test]
        fn any_text_reads_as_the_crate_reads_it(text in "[A-Za-z0-9_=+/-]{0,40}") {
            prop_assert_eq!(decode(text.as_bytes()), reference(text.as_bytes()));
        }
    }
}
