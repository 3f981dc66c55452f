//! The issuer's public face under `/oidc`: the OpenID discovery document and the
//! JWKS that Entra reads to verify a presented token's signature.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use crate::http::{Req, plain_json};
use crate::shared::Shared;

pub(crate) fn handle(shared: &Shared, base: &str, req: &Req) -> Response {
    let rest: Vec<&str> = req.segments.iter().skip(1).map(String::as_str).collect();
    let issuer = format!("{base}/oidc");
    match rest.as_slice() {
        [".well-known", "openid-configuration"] => plain_json(StatusCode::OK, &discovery(&issuer)),
        [".well-known", "jwks"] => plain_json(StatusCode::OK, &shared.keys.jwks()),
        _ => plain_json(StatusCode::NOT_FOUND, &json!({"error": "not found"})),
    }
}

fn discovery(issuer: &str) -> Value {
    json!({
        "issuer": issuer,
        "jwks_uri": format!("{issuer}/.well-known/jwks"),
        "response_types_supported": ["id_token"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["RS256"],
        "claims_supported": ["iss", "sub", "aud", "iat", "nbf", "exp", "jti"],
    })
}
