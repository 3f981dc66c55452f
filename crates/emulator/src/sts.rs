//! The Entra token endpoint `POST /{tenant}/oauth2/v2.0/token`: client-secret grants
//! for the operator, and client-assertion grants (workload identity federation) that
//! verify the Pulumi token and require an exactly matching credential of the app or the
//! user-assigned managed identity whose client id is presented.
//!
//! Sources: MicrosoftDocs/entra-docs `docs/identity-platform/v2-oauth2-client-creds-grant-flow.md`
//! (the federated-credential request, the success body) and `reference-error-codes.md`
//! (the error envelope). The federation AADSTS texts are those captured in public
//! issues: 70021 Azure/azure-workload-identity#616, 700211 #1350, 700213 #1200,
//! 7002138 Azure/login#517, 700024 AzureAD/microsoft-authentication-library-for-java#984,
//! 7000272 Azure/azure-workload-identity#1232, 700016 vippsas/vipps-developers#244;
//! 700212 follows the wording of 700211 and 700213, which it shares in the one
//! third-party capture known.
//! Descriptions carry no JSON escapes, because azure_identity 1.0 reads
//! `error_description` as a borrowed `&str` and fails on any escape.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use jsonwebtoken::{Algorithm, Validation};
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

use crate::authz::Base;
use crate::authz::graph::token_roles;
use crate::http::{Req, plain_json};
use crate::shared::{Resource, Shared, TokenRequest, lock};

type Handled = (&'static str, Response);

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";
const DOCS: &str = "https://learn.microsoft.com/entra/workload-id/workload-identity-federation";

pub(crate) fn handle(shared: &Shared, base: &str, req: &Req) -> Handled {
    let tenant = req.segments[0].clone();
    if req.segments.len() == 4
        && req.segments[1] == "v2.0"
        && req.segments[2] == ".well-known"
        && req.segments[3] == "openid-configuration"
        && req.method == Method::GET
    {
        return ("sts.discovery", discovery(shared, base, &tenant));
    }
    if req.segments.len() == 4
        && req.segments[1] == "discovery"
        && req.segments[2] == "v2.0"
        && req.segments[3] == "keys"
        && req.method == Method::GET
    {
        return ("sts.keys", keys(shared, &tenant));
    }
    let path_ok =
        req.segments.len() == 4 && req.segments[2] == "v2.0" && req.segments[3] == "token";
    if !path_ok || req.method != Method::POST {
        return (
            "sts.unknown",
            plain_json(StatusCode::NOT_FOUND, &json!({"error": "not_found"})),
        );
    }
    let form: Vec<(String, String)> = form_urlencoded::parse(&req.body)
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect();
    let field = |k: &str| form.iter().find(|(n, _)| n == k).map(|(_, v)| v.as_str());
    let sts = Sts {
        shared,
        tenant: &tenant,
    };
    if tenant != shared.options.tenant_id && tenant != "organizations" {
        return ("sts.error", sts.error(StatusCode::BAD_REQUEST, "invalid_request", 90002, &format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud.")));
    }
    let Some(client_id) = field("client_id") else {
        return (
            "sts.error",
            sts.error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                900144,
                "The request body must contain the following parameter: 'client_id'.",
            ),
        );
    };
    if field("grant_type") != Some("client_credentials") {
        let got = field("grant_type").unwrap_or("");
        return (
            "sts.error",
            sts.error(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                70003,
                &format!("The app requested an unsupported grant type '{got}'."),
            ),
        );
    }
    let scope = field("scope").unwrap_or("");
    let Some(resource) = shared.resource_of_scope(scope) else {
        return ("sts.error", sts.error(StatusCode::BAD_REQUEST, "invalid_scope", 70011, &format!("The provided value for the input parameter 'scope' is not valid. The scope {scope} is not valid.")));
    };
    // The token's `aud`: the resource as the scope names it (`…/.default` stripped).
    let audience = scope.strip_suffix("/.default").unwrap_or(scope);
    match (field("client_secret"), field("client_assertion")) {
        (Some(secret), None) => ("sts.client_secret", sts.secret_grant(client_id, secret, resource, audience)),
        (None, Some(assertion)) => {
            if field("client_assertion_type") != Some(JWT_BEARER) {
                return ("sts.error", sts.error(StatusCode::BAD_REQUEST, "invalid_request", 700029, "The client_assertion_type parameter must be 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer'."));
            }
            ("sts.client_assertion", sts.assertion_grant(client_id, assertion, resource, audience))
        }
        _ => ("sts.error", sts.error(StatusCode::UNAUTHORIZED, "invalid_client", 7000216, "'client_assertion', 'client_secret' or 'request' is required for the 'client_credentials' grant type.")),
    }
}

struct Sts<'a> {
    shared: &'a Shared,
    tenant: &'a str,
}

#[derive(Debug, serde::Deserialize)]
struct Claims {
    iss: Option<String>,
    sub: Option<String>,
    aud: Option<Value>,
    exp: Option<i64>,
    nbf: Option<i64>,
}

fn stamp(t: OffsetDateTime) -> String {
    t.replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

impl Sts<'_> {
    /// Entra's error envelope: `error`, `error_description` (AADSTS text, trace and
    /// correlation ids, timestamp, space-separated as in 2024+ captures), `error_codes`,
    /// `timestamp`, `trace_id`, `correlation_id`, `error_uri`.
    fn error(&self, status: StatusCode, error: &str, code: u32, text: &str) -> Response {
        let trace = uuid::Uuid::new_v4().to_string();
        let correlation = uuid::Uuid::new_v4().to_string();
        let now = OffsetDateTime::now_utc();
        let timestamp = format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}Z",
            now.year(),
            u8::from(now.month()),
            now.day(),
            now.hour(),
            now.minute(),
            now.second()
        );
        let description = format!(
            "AADSTS{code}: {text} Trace ID: {trace} Correlation ID: {correlation} Timestamp: {timestamp}"
        );
        plain_json(
            status,
            &json!({
                "error": error,
                "error_description": description,
                "error_codes": [code],
                "timestamp": timestamp,
                "trace_id": trace,
                "correlation_id": correlation,
                "error_uri": format!("https://login.microsoftonline.com/error?code={code}"),
            }),
        )
    }

    /// Issue the token. `audience` is the scope's resource; `roles` the Graph app roles
    /// of the holder at this moment (ignored for ARM).
    fn success(&self, request: TokenRequest<'_>) -> Response {
        match self.shared.issue_token(request) {
            Ok(token) => plain_json(
                StatusCode::OK,
                &json!({"token_type": "Bearer", "expires_in": 3599, "ext_expires_in": 3599, "access_token": token}),
            ),
            Err(e) => plain_json(
                StatusCode::INTERNAL_SERVER_ERROR,
                &json!({"error": "server_error", "error_description": format!("The emulator could not sign the token: {e}")}),
            ),
        }
    }

    fn app_not_found(&self, client_id: &str) -> Response {
        self.error(
            StatusCode::BAD_REQUEST,
            "unauthorized_client",
            700016,
            &format!("Application with identifier '{client_id}' was not found in the directory '{}'. This can happen if the application has not been installed by the administrator of the tenant or consented to by any user in the tenant. You may have sent your authentication request to the wrong tenant.", self.tenant),
        )
    }

    fn secret_grant(
        &self,
        client_id: &str,
        secret: &str,
        resource: Resource,
        audience: &str,
    ) -> Response {
        let operator = self
            .shared
            .options
            .operators
            .iter()
            .find(|o| o.client_id == client_id);
        match operator {
            Some(o) if o.client_secret == secret => {
                let base = Base::from(o.rights);
                let found = {
                    let dir = lock(&self.shared.dir);
                    dir.sp_by_app_id(client_id)
                        .map(|sp| (sp.id.clone(), token_roles(&dir, base, &sp.id)))
                };
                let Some((object_id, roles)) = found else {
                    return self.app_not_found(client_id);
                };
                self.success(TokenRequest {
                    resource,
                    audience,
                    client_id,
                    object_id: &object_id,
                    base,
                    roles,
                })
            }
            Some(_) => self.error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000215,
                &format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."),
            ),
            // Apps and managed identities are known to the directory but hold no secret
            // the emulator would accept.
            None if lock(&self.shared.dir).holds_client(client_id) => self.error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                7000215,
                &format!("Invalid client secret provided. Ensure the secret being sent in the request is the client secret value, not the client secret ID, for a secret added to app '{client_id}'."),
            ),
            None => self.app_not_found(client_id),
        }
    }

    /// The order of checks: the credential holder (an app, or a user-assigned managed
    /// identity, by client id), the token's form, its issuer against the holder's
    /// credentials, the signature against the issuer's keys, its lifetime, then an exact
    /// match of subject and audience, then the credential's propagation. A managed
    /// identity's credentials are matched exactly as an app's: Entra documents one
    /// exchange for both (MicrosoftDocs/entra-docs
    /// `docs/workload-id/workload-identity-federation-considerations.md`, "Applies to:
    /// applications and user-assigned managed identities").
    fn assertion_grant(
        &self,
        client_id: &str,
        assertion: &str,
        resource: Resource,
        audience: &str,
    ) -> Response {
        let lag = self.shared.replication().lag();
        let propagation = self.shared.replication().fic_propagation();
        let dir = lock(&self.shared.dir);
        let holder = match dir.app_by_app_id(client_id) {
            Some(app) => Some((app.credentials.as_slice(), app.created)),
            None => dir
                .identity_by_client_id(client_id)
                .map(|i| (i.credentials.as_slice(), i.created)),
        };
        // A fresh app is unknown to the token service for a while (AADSTS700016, which
        // vippsas/vipps-developers#244 also saw right after creation); so is a fresh
        // identity.
        let Some((credentials, _)) = holder.filter(|(_, created)| created.elapsed() >= lag) else {
            return self.app_not_found(client_id);
        };
        let Some(principal) = dir.sp_by_app_id(client_id) else {
            // ASSUMPTION: wording of Entra's "no service principal" refusal.
            return self.error(StatusCode::UNAUTHORIZED, "invalid_client", 7000229, &format!("The client application {client_id} is missing service principal in the tenant {}.", self.tenant));
        };
        let Ok(header) = jsonwebtoken::decode_header(assertion) else {
            return self.error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                50027,
                "JWT token is invalid or malformed.",
            );
        };
        let Some(claims) = unverified_claims(assertion) else {
            return self.error(
                StatusCode::BAD_REQUEST,
                "invalid_request",
                50027,
                "JWT token is invalid or malformed.",
            );
        };
        let iss = claims.iss.clone().unwrap_or_default();
        let sub = claims.sub.clone().unwrap_or_default();
        let aud = match &claims.aud {
            Some(Value::String(a)) => vec![a.clone()],
            Some(Value::Array(a)) => a
                .iter()
                .filter_map(Value::as_str)
                .map(str::to_owned)
                .collect(),
            _ => Vec::new(),
        };
        let with_issuer: Vec<_> = credentials.iter().filter(|c| c.issuer == iss).collect();
        if with_issuer.is_empty() {
            return self.error(StatusCode::UNAUTHORIZED, "invalid_client", 700211, &format!("No matching federated identity record found for presented assertion issuer '{iss}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. {DOCS}"));
        }
        // Only RS256 issuers are supported (see `keys`); the emulator publishes one key for
        // every issuer it impersonates.
        let kid = header.kid.clone().unwrap_or_default();
        let trusted = self.shared.trusted_issuers().contains(&iss);
        let key = self
            .shared
            .keys
            .key(&kid)
            .filter(|_| trusted && header.alg == Algorithm::RS256);
        let Some(key) = key else {
            return self.error(StatusCode::UNAUTHORIZED, "invalid_client", 7000272, &format!("The certificate with identifier {kid} used to sign the federated credential could not be found in the metadata of identity provider {iss}. Please validate that your Identity Provider's metadata exposes the key used to sign the incoming token."));
        };
        let mut validation = Validation::new(Algorithm::RS256);
        validation.validate_exp = false;
        validation.validate_nbf = false;
        validation.validate_aud = false;
        validation.required_spec_claims.clear();
        if jsonwebtoken::decode::<Value>(assertion, &key.decoding, &validation).is_err() {
            return self.error(
                StatusCode::UNAUTHORIZED,
                "invalid_client",
                700027,
                "Client assertion failed signature validation.",
            );
        }
        let now = OffsetDateTime::now_utc();
        let at =
            |t: i64| OffsetDateTime::from_unix_timestamp(t).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let exp = claims.exp.map(at);
        let nbf = claims.nbf.map(at).unwrap_or(OffsetDateTime::UNIX_EPOCH);
        // Five minutes of clock skew, as Entra allows.
        let skew = time::Duration::minutes(5);
        if exp.is_none_or(|e| e + skew < now) || nbf - skew > now {
            return self.error(StatusCode::UNAUTHORIZED, "invalid_client", 700024, &format!(
                "Client assertion is not within its valid time range. Current time: {}, assertion valid from {}, expiry time of assertion {}. Review the documentation at https://learn.microsoft.com/entra/identity-platform/certificate-credentials .",
                stamp(now), stamp(nbf), exp.map(stamp).unwrap_or_default()
            ));
        }
        let aud_ok = |c: &crate::state::Credential| c.audiences.iter().any(|a| aud.contains(a));
        if let Some(cred) = with_issuer.iter().find(|c| c.subject == sub && aud_ok(c)) {
            if cred.created.elapsed() < propagation {
                // A new credential has not reached the token service yet: "A token request
                // made several minutes after configuring the federated identity credential
                // may fail" (MicrosoftDocs/entra-docs
                // `docs/workload-id/workload-identity-federation-considerations.md`).
                return self.error(StatusCode::UNAUTHORIZED, "invalid_client", 70021, &format!("No matching federated identity record found for presented assertion. Assertion Issuer: '{iss}'. Assertion Subject: '{sub}'. Assertion Audience: '{}'. {DOCS}", aud.join(",")));
            }
            // The token stands for the holder's service principal (its `oid`); the lock
            // is let go before issuing, which reads the directory again.
            let object_id = principal.id.clone();
            let roles = token_roles(&dir, Base::Federated, &object_id);
            drop(dir);
            return self.success(TokenRequest {
                resource,
                audience,
                client_id,
                object_id: &object_id,
                base: Base::Federated,
                roles,
            });
        }
        if with_issuer.iter().any(|c| c.subject == sub) {
            return self.error(StatusCode::UNAUTHORIZED, "invalid_client", 700212, &format!("No matching federated identity record found for presented assertion audience '{}'. Please check your federated identity credential Subject, Audience and Issuer against the presented assertion. {DOCS}", aud.join(",")));
        }
        if with_issuer
            .iter()
            .any(|c| c.subject.eq_ignore_ascii_case(&sub) && aud_ok(c))
        {
            return self.error(StatusCode::UNAUTHORIZED, "invalid_client", 7002138, &format!("No matching federated identity record found for presented assertion subject '{sub}'. The subject matches with case-insensitive comparison, but not with case-sensitive comparison."));
        }
        if with_issuer.iter().any(|c| aud_ok(c)) {
            return self.error(StatusCode::UNAUTHORIZED, "invalid_client", 700213, &format!("No matching federated identity record found for presented assertion subject '{sub}'. Check your federated identity credential Subject, Audience and Issuer against the presented assertion. {DOCS}"));
        }
        self.error(StatusCode::UNAUTHORIZED, "invalid_client", 70021, &format!("No matching federated identity record found for presented assertion. Assertion Issuer: '{iss}'. Assertion Subject: '{sub}'. Assertion Audience: '{}'. {DOCS}", aud.join(",")))
    }
}

/// The tenant's OpenID configuration, which MSAL-based clients (Python
/// `azure-identity`'s ClientSecretCredential, with `disable_instance_discovery=True`)
/// read before their first token request. The fields are those of Entra's public v2.0
/// discovery document; only the endpoints MSAL reads are served (the token endpoint).
/// An unknown tenant gets Entra's 400 with AADSTS90002.
fn discovery(shared: &Shared, base: &str, tenant: &str) -> Response {
    if tenant != shared.options.tenant_id && tenant != "organizations" {
        let sts = Sts { shared, tenant };
        return sts.error(StatusCode::BAD_REQUEST, "invalid_tenant", 90002, &format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."));
    }
    let id = &shared.options.tenant_id;
    plain_json(
        StatusCode::OK,
        &json!({
            "token_endpoint": format!("{base}/{id}/oauth2/v2.0/token"),
            "token_endpoint_auth_methods_supported": ["client_secret_post", "private_key_jwt", "client_secret_basic"],
            "jwks_uri": format!("{base}/{id}/discovery/v2.0/keys"),
            "response_modes_supported": ["query", "fragment", "form_post"],
            "subject_types_supported": ["pairwise"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "response_types_supported": ["code", "id_token", "code id_token", "id_token token"],
            "scopes_supported": ["openid", "profile", "email", "offline_access"],
            "issuer": format!("{base}/{id}/v2.0"),
            "authorization_endpoint": format!("{base}/{id}/oauth2/v2.0/authorize"),
            "device_authorization_endpoint": format!("{base}/{id}/oauth2/v2.0/devicecode"),
            "tenant_region_scope": null,
            "cloud_instance_name": "microsoftonline.com",
        }),
    )
}

/// The tenant's signing keys (the discovery document's `jwks_uri`): the key the
/// emulator signs access tokens with (see `access_token`). Same refusal of another
/// tenant as the discovery document.
fn keys(shared: &Shared, tenant: &str) -> Response {
    if tenant != shared.options.tenant_id && tenant != "organizations" {
        let sts = Sts { shared, tenant };
        return sts.error(StatusCode::BAD_REQUEST, "invalid_tenant", 90002, &format!("Tenant '{tenant}' not found. Check to make sure you have the correct tenant ID and are signing into the correct cloud."));
    }
    plain_json(StatusCode::OK, &shared.keys.jwks())
}

fn unverified_claims(token: &str) -> Option<Claims> {
    use base64::Engine;
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The App Service flavour of the managed identity endpoint: `GET /msi/token` with
/// `x-identity-header`, answering for the first operator.
pub(crate) fn managed_identity(shared: &Shared, req: &Req) -> Handled {
    let Some(expected) = &shared.options.managed_identity_header else {
        return (
            "msi.disabled",
            plain_json(
                StatusCode::NOT_FOUND,
                &json!({"error": "managed identity is not enabled on this emulator"}),
            ),
        );
    };
    if req.header("x-identity-header") != Some(expected.as_str()) {
        return (
            "msi.error",
            plain_json(
                StatusCode::UNAUTHORIZED,
                &json!({"error": "invalid_request", "error_description": "The x-identity-header is missing or wrong."}),
            ),
        );
    }
    let resource = req.query("resource").unwrap_or("");
    let Some(kind) = Resource::from_scope(&format!("{}/.default", resource.trim_end_matches('/')))
    else {
        return (
            "msi.error",
            plain_json(
                StatusCode::BAD_REQUEST,
                &json!({"error": "invalid_resource", "error_description": format!("The resource '{resource}' is not known.")}),
            ),
        );
    };
    let Some(op) = shared.options.operators.first() else {
        return (
            "msi.error",
            plain_json(
                StatusCode::BAD_REQUEST,
                &json!({"error": "invalid_request"}),
            ),
        );
    };
    let base = Base::from(op.rights);
    let found = {
        let dir = lock(&shared.dir);
        dir.sp_by_app_id(&op.client_id)
            .map(|sp| (sp.id.clone(), token_roles(&dir, base, &sp.id)))
    };
    let issued = found
        .ok_or_else(|| "the operator has no service principal".to_owned())
        .and_then(|(object_id, roles)| {
            shared.issue_token(TokenRequest {
                resource: kind,
                audience: resource,
                client_id: &op.client_id,
                object_id: &object_id,
                base,
                roles,
            })
        });
    let token = match issued {
        Ok(t) => t,
        Err(e) => {
            return (
                "msi.error",
                plain_json(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    &json!({"error": "server_error", "error_description": e}),
                ),
            );
        }
    };
    let expires = OffsetDateTime::now_utc().unix_timestamp() + 3599;
    (
        "msi.token",
        plain_json(
            StatusCode::OK,
            &json!({"access_token": token, "expires_on": expires.to_string(), "token_type": "Bearer", "resource": resource}),
        ),
    )
}
