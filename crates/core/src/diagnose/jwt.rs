//! Decoding a compact JWT without trusting it.
//!
//! No signature is checked: the point is to show what the token claims, so the
//! result is always labelled unverified. A JWT library would verify, and pulls in a
//! crypto backend that does not build for the browser; decoding is two base64url
//! segments and JSON. The token text itself is never kept or echoed.

use crate::error::{Error, Result};
use serde::Serialize;
use serde_json::{Map, Value};

/// The claims of a token, as it states them.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct TokenClaims {
    pub issuer: Option<String>,
    pub subject: Option<String>,
    /// `aud` as a list, whether the token carries a string or an array.
    pub audiences: Vec<String>,
    pub expires_at: Option<i64>,
    pub not_before: Option<i64>,
    pub issued_at: Option<i64>,
    /// Header `alg` and `kid`.
    pub algorithm: Option<String>,
    pub key_id: Option<String>,
    /// The other claims (Pulumi's `org`, `project`, `stack`, `operation`, `current_env`, …),
    /// by name.
    pub other: Map<String, Value>,
}

fn segment(part: &str, what: &str) -> Result<Map<String, Value>> {
    let bytes = crate::base64url::decode(part.as_bytes())
        .ok_or_else(|| Error::MalformedToken(format!("the {what} is not base64url")))?;
    // Read as text: the page's module then carries one JSON reader (serde_json's
    // `StrRead`) instead of a second one for bytes; invalid UTF-8 fails either way.
    let parsed = std::str::from_utf8(&bytes).map(serde_json::from_str::<Value>);
    match parsed {
        Ok(Ok(Value::Object(map))) => Ok(map),
        _ => Err(Error::MalformedToken(format!(
            "the {what} is not a JSON object"
        ))),
    }
}

fn string(map: &Map<String, Value>, key: &str) -> Option<String> {
    map.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn number(map: &Map<String, Value>, key: &str) -> Option<i64> {
    map.get(key)
        .and_then(|v| v.as_i64().or_else(|| v.as_f64().map(|f| f as i64)))
}

/// Decode a compact JWS (`header.payload.signature`), unverified.
pub fn decode(token: &str) -> Result<TokenClaims> {
    // Pulumi's tokens are about a kilobyte; anything near this cap is not one.
    const MAX: usize = 64 * 1024;
    if token.len() > MAX {
        return Err(Error::InputTooLarge {
            what: "the token",
            len: token.len(),
            max: MAX,
        });
    }
    let token = token.trim();
    let token = token.strip_prefix("Bearer ").unwrap_or(token).trim();
    if token.is_empty() {
        return Err(Error::MalformedToken("the token is empty".into()));
    }
    let parts: Vec<&str> = token.split('.').collect();
    match parts.len() {
        3 => {}
        5 => {
            return Err(Error::MalformedToken(
                "this is an encrypted token (JWE, five segments); Pulumi issues signed tokens (three segments)".into(),
            ))
        }
        n => {
            return Err(Error::MalformedToken(format!(
                "expected three dot-separated segments (header.payload.signature), found {n}"
            )))
        }
    }
    let header = segment(parts[0], "header")?;
    let payload = segment(parts[1], "payload")?;
    let audiences = match payload.get("aud") {
        Some(Value::String(s)) => vec![s.clone()],
        Some(Value::Array(items)) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    };
    let mut claims = TokenClaims {
        issuer: string(&payload, "iss"),
        subject: string(&payload, "sub"),
        audiences,
        expires_at: number(&payload, "exp"),
        not_before: number(&payload, "nbf"),
        issued_at: number(&payload, "iat"),
        algorithm: string(&header, "alg"),
        key_id: string(&header, "kid"),
        other: Map::new(),
    };
    // By name, so that the same token always shows its claims in the same order. The
    // names are a map's keys, so unique, and the unstable sort (a small heapsort in the
    // browser's size-optimised std) gives the stable one's order.
    let standard = ["iss", "sub", "aud", "exp", "nbf", "iat"];
    let mut other: Vec<(String, Value)> = payload
        .into_iter()
        .filter(|(name, _)| !standard.contains(&name.as_str()))
        .collect();
    other.sort_unstable_by(|a, b| a.0.cmp(&b.0));
    claims.other = other.into_iter().collect();
    Ok(claims)
}

/// Build an unsigned compact token from claims: for tests, examples and the demo.
/// The signature segment is a fixed placeholder, so the result never verifies.
pub fn encode_unsigned(claims: &Value) -> String {
    let header = serde_json::json!({"alg": "RS256", "typ": "JWT", "kid": "example"});
    use base64::Engine;
    let enc = |v: &Value| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v.to_string());
    format!("{}.{}.c2lnbmF0dXJl", enc(&header), enc(claims))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_string_and_array_audiences() {
        let t =
            encode_unsigned(&serde_json::json!({"iss": "i", "sub": "s", "aud": "a", "exp": 10}));
        let c = decode(&t).unwrap();
        assert_eq!(c.audiences, ["a"]);
        assert_eq!(c.expires_at, Some(10));
        let t = encode_unsigned(&serde_json::json!({"aud": ["a", "b"], "org": "contoso"}));
        let c = decode(&t).unwrap();
        assert_eq!(c.audiences, ["a", "b"]);
        assert_eq!(c.other["org"], "contoso");
    }

    #[test]
    fn malformed_tokens_are_described_without_echoing_them() {
        for bad in [
            "",
            "abc",
            "a.b",
            "!!!.e30.x",
            "e30.!!!.x",
            "a.b.c.d.e",
            "WzFd.WzFd.x",
        ] {
            let err = decode(bad).unwrap_err();
            assert_eq!(err.code(), crate::ErrorCode::MalformedToken);
            if bad.len() > 3 {
                assert!(!err.to_string().contains(bad), "{err}");
            }
        }
    }
}
