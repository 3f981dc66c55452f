//! The Entra token endpoint: a federated token exchange.

use serde_json::Value;

use crate::provision::request::{Answer, Body, Method, Request, Service};

/// The client assertion type of a federated token exchange (RFC 7523).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// AADSTS codes a correct set-up also answers while a new credential or app
/// propagates (azure-facts.md §5.3): a verify retries them within its wait.
pub const PROPAGATION_CODES: [u32; 5] = [70021, 700211, 700212, 700213, 700016];

/// Exchange a Pulumi OIDC token for an access token of `scope`, as Pulumi Deployments
/// and ESC do (azure-facts.md §6). Read with [`read_exchange`].
pub fn exchange_token(tenant: &str, client_id: &str, assertion: &str, scope: &str) -> Request {
    let mut r = Request::new(
        Service::Entra,
        format!("exchange the token for app {client_id}"),
        Method::Post,
        format!("{tenant}/oauth2/v2.0/token"),
    );
    r.body = Some(Body::Form(vec![
        ("client_id", client_id.to_owned()),
        ("client_assertion_type", JWT_BEARER.to_owned()),
        ("client_assertion", assertion.to_owned()),
        ("grant_type", "client_credentials".to_owned()),
        ("scope", scope.to_owned()),
    ]));
    r
}

/// A refused exchange: its AADSTS code and description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub aadsts: Option<u32>,
    pub description: String,
    pub error_code: String,
}

impl Refusal {
    /// Whether a correct set-up also answers this while it propagates.
    pub fn may_be_propagation(&self) -> bool {
        self.aadsts.is_some_and(|c| PROPAGATION_CODES.contains(&c))
    }
}

/// `Ok(())` when the exchange succeeded (the access token is dropped unread).
pub fn read_exchange(answer: &Answer) -> std::result::Result<(), Refusal> {
    if answer.ok() {
        return Ok(());
    }
    let v = answer.json();
    Err(Refusal {
        status: answer.status,
        aadsts: v["error_codes"]
            .as_array()
            .and_then(|a| a.first())
            .and_then(Value::as_u64)
            .and_then(|c| u32::try_from(c).ok()),
        description: v["error_description"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        error_code: answer.error_code(),
    })
}
