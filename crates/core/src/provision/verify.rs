//! `verify`: exchange a Pulumi OIDC token at the Entra token endpoint, as Pulumi
//! Deployments and ESC will, and on failure say exactly why (azure-facts.md §6).
//!
//! The exchange is made with our own client, not azure_identity, which cannot parse
//! AADSTS bodies whose description contains JSON escapes (§7).

use std::sync::Arc;
use std::time::{Duration, Instant};

use reqwest::Method;
use serde::Serialize;

use super::http::{Auth, Body, Call, Service, never};
use super::{Provisioner, Secret};
use crate::diagnose::ErrorDiagnosis;
use crate::diagnose::TokenDiagnosis;
use crate::diagnose::jwt::TokenClaims;
use crate::diff::ObservedCredential;
use crate::error::{Error, Result};
use crate::plan::Plan;

const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// AADSTS codes a correct set-up also answers while a new credential or app
/// propagates (§5.3): retried within the wait.
const PROPAGATION_CODES: [u32; 5] = [70021, 700211, 700212, 700213, 700016];

/// What to verify.
#[derive(Debug, Clone)]
pub struct VerifyRequest {
    pub token: Secret,
    /// With a plan, every app whose credentials accept the token is tried.
    pub plan: Option<Plan>,
    /// Without a plan: the app (`AZURE_CLIENT_ID`) and tenant to exchange against.
    pub client_id: Option<String>,
    pub tenant_id: Option<String>,
    /// How long to keep retrying propagation errors.
    pub wait: Duration,
}

/// The outcome for one app.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyResult {
    pub client_id: Option<String>,
    pub app: Option<String>,
    pub ok: bool,
    pub attempts: u32,
    pub aadsts: Option<u32>,
    pub error: Option<String>,
    /// The core's reading of the AADSTS error.
    pub diagnosis: Option<ErrorDiagnosis>,
    /// The token against the app's credentials, when they could be read.
    pub token_diagnosis: Option<TokenDiagnosis>,
}

/// What `verify` found. The token itself is never included, only its claims.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyReport {
    pub ok: bool,
    pub claims: TokenClaims,
    pub results: Vec<VerifyResult>,
}

/// An app to try: its client id (if it exists), its plan label, its planned credentials.
type Candidate = (
    Option<String>,
    Option<String>,
    Option<Vec<ObservedCredential>>,
);

fn now() -> i64 {
    time::OffsetDateTime::now_utc().unix_timestamp()
}

impl Provisioner {
    pub async fn verify(self: &Arc<Self>, request: VerifyRequest) -> Result<VerifyReport> {
        let claims = crate::diagnose::jwt::decode(request.token.expose())?;
        let mut targets: Vec<Candidate> = Vec::new();
        let tenant = request
            .tenant_id
            .clone()
            .or_else(|| request.plan.as_ref().and_then(|p| p.azure.tenant.as_ref().map(|g| g.as_str().to_owned())))
            .or_else(|| self.tenant_id.clone())
            .ok_or_else(|| Error::MissingCredentials("the tenant id is unknown: give --tenant or set AZURE_TENANT_ID (or azure.tenant in the config)".into()))?;
        if let Some(plan) = &request.plan {
            let iss = claims.issuer.clone().unwrap_or_default();
            let sub = claims.subject.clone().unwrap_or_default();
            for app in &plan.apps {
                if app
                    .credentials
                    .iter()
                    .any(|c| c.accepts(&iss, &sub, &claims.audiences))
                {
                    let planned: Vec<ObservedCredential> = app
                        .credentials
                        .iter()
                        .map(ObservedCredential::from)
                        .collect();
                    let client_id = self
                        .get_app(&app.unique_name)
                        .await?
                        .and_then(|v| v["appId"].as_str().map(str::to_owned));
                    targets.push((client_id, Some(app.unique_name.clone()), Some(planned)));
                }
            }
            if targets.is_empty() {
                // No app in the plan trusts this token: say which credential comes closest.
                let all: Vec<ObservedCredential> = plan
                    .apps
                    .iter()
                    .flat_map(|a| &a.credentials)
                    .map(ObservedCredential::from)
                    .collect();
                let diagnosis =
                    crate::diagnose::diagnose_token(request.token.expose(), Some(&all), now())?;
                return Ok(VerifyReport {
                    ok: false,
                    claims,
                    results: vec![VerifyResult {
                        client_id: None,
                        app: None,
                        ok: false,
                        attempts: 0,
                        aadsts: diagnosis.aadsts,
                        error: Some(format!(
                            "no app in the plan trusts this token: {}",
                            diagnosis.verdict
                        )),
                        diagnosis: None,
                        token_diagnosis: Some(diagnosis),
                    }],
                });
            }
        } else {
            let client_id = request.client_id.clone().ok_or_else(|| {
                Error::MissingCredentials("the app to verify is unknown: give --client-id or set AZURE_CLIENT_ID (Pulumi Deployments sets ARM_CLIENT_ID)".into())
            })?;
            targets.push((Some(client_id), None, None));
        }
        let mut results = Vec::new();
        for (client_id, app, planned) in targets {
            let Some(client_id) = client_id else {
                results.push(VerifyResult {
                    client_id: None,
                    app: app.clone(),
                    ok: false,
                    attempts: 0,
                    aadsts: None,
                    error: Some(format!(
                        "app {} does not exist yet; run apply",
                        app.unwrap_or_default()
                    )),
                    diagnosis: None,
                    token_diagnosis: None,
                });
                continue;
            };
            results.push(
                self.exchange(&request, &tenant, &client_id, app, planned)
                    .await?,
            );
        }
        Ok(VerifyReport {
            ok: results.iter().all(|r| r.ok),
            claims,
            results,
        })
    }

    async fn exchange(
        &self,
        request: &VerifyRequest,
        tenant: &str,
        client_id: &str,
        app: Option<String>,
        planned: Option<Vec<ObservedCredential>>,
    ) -> Result<VerifyResult> {
        let started = Instant::now();
        let url = format!(
            "{}/{tenant}/oauth2/v2.0/token",
            self.endpoints.login.trim_end_matches('/')
        );
        let mut attempts = 0;
        loop {
            attempts += 1;
            let form = vec![
                ("client_id", client_id.to_owned()),
                ("client_assertion_type", JWT_BEARER.to_owned()),
                ("client_assertion", request.token.expose().to_owned()),
                ("grant_type", "client_credentials".to_owned()),
                ("scope", self.endpoints.arm_scope.clone()),
            ];
            let r = self
                .http
                .send(Call {
                    service: Service::Entra,
                    operation: format!("exchange the token for app {client_id}"),
                    method: Method::POST,
                    url: url.clone(),
                    auth: Auth::None,
                    body: Some(Body::Form(form)),
                    headers: Vec::new(),
                    transient: never,
                })
                .await?;
            if r.ok() {
                // The access token proves the set-up; it is dropped unread.
                return Ok(VerifyResult {
                    client_id: Some(client_id.to_owned()),
                    app,
                    ok: true,
                    attempts,
                    aadsts: None,
                    error: None,
                    diagnosis: None,
                    token_diagnosis: None,
                });
            }
            let v = r.json();
            let code = v["error_codes"]
                .as_array()
                .and_then(|a| a.first())
                .and_then(|c| c.as_u64())
                .map(|c| c as u32);
            let description = v["error_description"]
                .as_str()
                .unwrap_or_default()
                .to_owned();
            let retry = code.is_some_and(|c| PROPAGATION_CODES.contains(&c));
            let wait = self
                .http
                .policy
                .base
                .max(Duration::from_millis(200))
                .saturating_mul(attempts.min(10));
            if retry && started.elapsed() + wait < request.wait {
                tokio::time::sleep(wait).await;
                continue;
            }
            let diagnosis = crate::diagnose::diagnose_error(&description).ok();
            let credentials = match planned.clone() {
                Some(p) => Some(p),
                None => self.credentials_of_client(client_id).await,
            };
            let token_diagnosis = crate::diagnose::diagnose_token(
                request.token.expose(),
                credentials.as_deref(),
                now(),
            )
            .ok();
            let error = match (&code, &diagnosis) {
                (Some(c), Some(d)) => format!("AADSTS{c}: {}", d.title),
                (Some(c), None) => format!("AADSTS{c}"),
                _ => crate::error::status_line(r.status, &r.error_code()),
            };
            return Ok(VerifyResult {
                client_id: Some(client_id.to_owned()),
                app,
                ok: false,
                attempts,
                aadsts: code,
                error: Some(error),
                diagnosis,
                token_diagnosis,
            });
        }
    }

    /// The app's credentials, if this run can read Graph; `None` otherwise.
    async fn credentials_of_client(&self, client_id: &str) -> Option<Vec<ObservedCredential>> {
        self.azure.as_ref()?;
        let op = format!("read app {client_id}");
        let token = self
            .bearer(&self.endpoints.graph_scope.clone())
            .await
            .ok()?;
        let url = format!(
            "{}/v1.0/applications(appId='{}')",
            self.endpoints.graph.trim_end_matches('/'),
            super::ops::quote(client_id)
        );
        let r = self
            .http
            .send(Call {
                service: Service::Graph,
                operation: op,
                method: Method::GET,
                url,
                auth: Auth::Bearer(&token),
                body: None,
                headers: vec![],
                transient: never,
            })
            .await
            .ok()?;
        let ids = super::ops::app_ids(&r.json())?;
        self.list_credentials(&ids, client_id).await.ok()
    }
}
