//! The access tokens the emulated token endpoint issues: JWTs with the claims Entra's
//! app-only (client credentials) tokens carry, signed RS256.
//!
//! Claims, from MicrosoftDocs/entra-docs `docs/identity-platform/access-token-claims-reference.md`
//! (`aud`, `iss` of a v1.0 token, `iat`/`nbf`/`exp`, `appid`, `azp`, `oid`, `sub`, `tid`,
//! `roles` "the set of permissions exposed by your application that the requesting
//! application has been given permission to call", `ver`) and
//! `optional-claims-reference.md` (`idtyp` is `app` "when the token is an app-only
//! token"). The issuer is Entra's v1.0 form, `https://sts.windows.net/{tenant}/`, which
//! Graph and ARM tokens for `.default` scopes carry. Whoever reads these tokens reads
//! the payload only: the emulator still authorizes a request by the token's entry in
//! its registry, as a resource server that trusts nothing a client could forge.
//!
//! Signed with the key the emulator publishes (`keys`), served for the tenant at
//! `/{tenant}/discovery/v2.0/keys` too: one key for every issuer it impersonates,
//! because making an RSA key is most of an emulator's start-up and tests start many.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use crate::keys::SigningKey;

/// Seconds an access token lives, as the token endpoint's `expires_in` says.
pub(crate) const LIFETIME_SECS: i64 = 3599;

/// Who a token is for and what it says about its holder.
#[derive(Debug)]
pub(crate) struct Claims<'a> {
    pub(crate) tenant: &'a str,
    /// The resource, as the scope named it without `/.default`.
    pub(crate) audience: &'a str,
    pub(crate) client_id: &'a str,
    /// The holder's service principal.
    pub(crate) object_id: &'a str,
    /// Graph app roles; the claim is left out when there are none, as Entra does.
    pub(crate) roles: &'a [String],
}

/// The token's text: `header.payload.signature`, with `marker` (base64url characters
/// only, checked by `Options::validate`) written literally at the start of the
/// signature segment. There it keeps the token three segments whose header and
/// payload decode as ever, so any reader of the claims sees a normal token, while a
/// test can still find the marker in anything the token leaked into. Only the
/// signature changes, which nobody but the emulator (which does not check it) would
/// verify; without a marker the signature verifies against the published key.
pub(crate) fn issue(key: &SigningKey, claims: &Claims<'_>, marker: &str) -> Result<String, String> {
    let now = time::OffsetDateTime::now_utc().unix_timestamp();
    let mut payload = Map::new();
    payload.insert("aud".into(), json!(claims.audience));
    payload.insert(
        "iss".into(),
        json!(format!("https://sts.windows.net/{}/", claims.tenant)),
    );
    payload.insert("iat".into(), json!(now));
    payload.insert("nbf".into(), json!(now));
    payload.insert("exp".into(), json!(now + LIFETIME_SECS));
    payload.insert("appid".into(), json!(claims.client_id));
    payload.insert("azp".into(), json!(claims.client_id));
    payload.insert("idtyp".into(), json!("app"));
    payload.insert("oid".into(), json!(claims.object_id));
    if !claims.roles.is_empty() {
        payload.insert("roles".into(), json!(claims.roles));
    }
    payload.insert("sub".into(), json!(claims.object_id));
    payload.insert("tid".into(), json!(claims.tenant));
    // A unique token id, so two tokens issued in the same second differ.
    payload.insert(
        "uti".into(),
        json!(URL_SAFE_NO_PAD.encode(uuid::Uuid::new_v4().as_bytes())),
    );
    payload.insert("ver".into(), json!("1.0"));
    let signed = key.sign(&Value::Object(payload))?;
    if marker.is_empty() {
        return Ok(signed);
    }
    match signed.rsplit_once('.') {
        Some((content, signature)) => Ok(format!("{content}.{marker}{signature}")),
        None => Err("the signed token has no signature segment".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::keys::IssuerKeys;

    fn payload(token: &str) -> Value {
        let part = token.split('.').nth(1).unwrap();
        serde_json::from_slice(&URL_SAFE_NO_PAD.decode(part).unwrap()).unwrap()
    }

    #[test]
    fn claims_and_marker() {
        let keys = IssuerKeys::shared().unwrap();
        let roles = vec!["Application.ReadWrite.OwnedBy".to_owned()];
        let claims = Claims {
            tenant: "t",
            audience: "https://graph.microsoft.com",
            client_id: "c",
            object_id: "o",
            roles: &roles,
        };
        let plain = issue(&keys.published, &claims, "").unwrap();
        let p = payload(&plain);
        assert_eq!(p["iss"], "https://sts.windows.net/t/");
        assert_eq!(
            (&p["appid"], &p["azp"], &p["oid"], &p["sub"]),
            (&json!("c"), &json!("c"), &json!("o"), &json!("o"))
        );
        assert_eq!(p["idtyp"], "app");
        assert_eq!(p["roles"], json!(["Application.ReadWrite.OwnedBy"]));
        let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
        validation.set_audience(&["https://graph.microsoft.com"]);
        assert!(
            jsonwebtoken::decode::<Value>(&plain, &keys.published.decoding, &validation).is_ok()
        );

        let none = Claims {
            roles: &[],
            ..claims
        };
        let marked = issue(&keys.published, &none, "MARKER-x_1").unwrap();
        assert_eq!(marked.split('.').count(), 3);
        assert!(marked.split('.').nth(2).unwrap().starts_with("MARKER-x_1"));
        assert!(payload(&marked).get("roles").is_none());
    }
}
