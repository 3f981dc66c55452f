//! Name-based UUIDs (version 5, RFC 9562 §5.5): the first 128 bits of the SHA-1 of
//! a namespace followed by a name, with the version and variant bits set.
//!
//! The `uuid` crate computes the same with `sha1_smol`, whose SHA-1 is unrolled for
//! speed: about 5 KB of the browser calculator's module for a few hashes per plan.
//! The rolled loop below (FIPS 180-4 §6.1.2) is a tenth of that. `uuid` still lays
//! out the result (`Builder::from_sha1_bytes`) and is the reference in the tests.
//! The UUIDs are written out here too, and GUIDs checked in `roles`, for the same
//! reason: `uuid`'s parser and formatters are another 2 KB of the module.

use uuid::Uuid;

/// The version 5 UUID of `name` in `namespace`.
pub(crate) fn v5(namespace: &Uuid, name: &[u8]) -> Uuid {
    let digest = sha1(namespace.as_bytes(), name);
    let mut first = [0u8; 16];
    first.copy_from_slice(&digest[..16]);
    uuid::Builder::from_sha1_bytes(first).into_uuid()
}

/// `id` as text, lower case, hyphenated as 8-4-4-4-12 digits or as 32 plain ones;
/// what `uuid`'s `hyphenated()` and `simple()` write, without their formatting code.
pub(crate) fn text(id: &Uuid, hyphenated: bool) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(36);
    for (i, byte) in id.as_bytes().iter().enumerate() {
        if hyphenated && matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push(char::from(DIGITS[usize::from(byte >> 4)]));
        out.push(char::from(DIGITS[usize::from(byte & 0xf)]));
    }
    out
}

/// SHA-1 of `prefix` followed by `rest`.
fn sha1(prefix: &[u8], rest: &[u8]) -> [u8; 20] {
    let len = prefix.len() + rest.len();
    // The message, a 1 bit, zeros to 56 bytes mod 64, and its length in bits (§5.1.1).
    let zeros = (119 - len % 64) % 64;
    let length = (len as u64).wrapping_mul(8).to_be_bytes();
    let padded = prefix
        .iter()
        .chain(rest)
        .copied()
        .chain(std::iter::once(0x80))
        .chain(std::iter::repeat_n(0, zeros))
        .chain(length);

    let mut state: [u32; 5] = [
        0x6745_2301,
        0xefcd_ab89,
        0x98ba_dcfe,
        0x1032_5476,
        0xc3d2_e1f0,
    ];
    let mut w = [0u32; 80];
    for (i, byte) in padded.enumerate() {
        let t = i % 64 / 4;
        w[t] = w[t] << 8 | u32::from(byte);
        if i % 64 == 63 {
            compress(&mut state, &mut w);
        }
    }
    let mut digest = [0u8; 20];
    for (out, s) in digest.chunks_exact_mut(4).zip(state) {
        out.copy_from_slice(&s.to_be_bytes());
    }
    digest
}

/// One block, its 16 words in `w[..16]` (FIPS 180-4 §6.1.2).
fn compress(state: &mut [u32; 5], w: &mut [u32; 80]) {
    for t in 16..80 {
        w[t] = (w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16]).rotate_left(1);
    }
    let [mut a, mut b, mut c, mut d, mut e] = *state;
    for (t, word) in w.iter().enumerate() {
        let (f, k) = match t / 20 {
            0 => ((b & c) | (!b & d), 0x5a82_7999),
            1 => (b ^ c ^ d, 0x6ed9_eba1),
            2 => ((b & c) | (b & d) | (c & d), 0x8f1b_bcdc),
            _ => (b ^ c ^ d, 0xca62_c1d6),
        };
        let next = a
            .rotate_left(5)
            .wrapping_add(f)
            .wrapping_add(e)
            .wrapping_add(k)
            .wrapping_add(*word);
        (e, d, c, b, a) = (d, c, b.rotate_left(30), a, next);
    }
    for (s, v) in state.iter_mut().zip([a, b, c, d, e]) {
        *s = s.wrapping_add(v);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn hex(bytes: &[u8]) -> String {
        bytes.iter().map(|b| format!("{b:02x}")).collect()
    }

    #[test]
    fn sha1_matches_the_standards_examples() {
        // FIPS 180-4's examples (NIST CSRC "SHA1.pdf"), and the empty message.
        assert_eq!(
            hex(&sha1(b"", b"")),
            "da39a3ee5e6b4b0d3255bfef95601890afd80709"
        );
        assert_eq!(
            hex(&sha1(b"ab", b"c")),
            "a9993e364706816aba3e25717850c26c9cd0d89d"
        );
        assert_eq!(
            hex(&sha1(
                b"abcdbcdecdefdefgefghfghighijhijk",
                b"ijkljklmklmnlmnomnopnopq"
            )),
            "84983e441c3bd26ebaae4aa1f95129e5e54670f1"
        );
    }

    #[test]
    fn every_length_across_three_blocks_matches_uuid() {
        // Each padding case: the length field in the same block, or pushed to the next.
        let name: Vec<u8> = (0..=200u8).collect();
        for len in 0..name.len() {
            assert_eq!(
                v5(&crate::NAMESPACE, &name[..len]),
                Uuid::new_v5(&crate::NAMESPACE, &name[..len]),
                "name of {len} bytes"
            );
        }
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(2_000))]
        #[test]
        fn any_name_in_any_namespace_matches_uuid(
            namespace in any::<u128>(),
            name in proptest::collection::vec(any::<u8>(), 0..400),
        ) {
            let namespace = Uuid::from_u128(namespace);
            let id = v5(&namespace, &name);
            prop_assert_eq!(id, Uuid::new_v5(&namespace, &name));
            prop_assert_eq!(text(&id, true), id.hyphenated().to_string());
            prop_assert_eq!(text(&id, false), id.simple().to_string());
        }
    }
}
