//! `verify`: exchange a Pulumi OIDC token at the Entra token endpoint, as Pulumi
//! Deployments and ESC will, and on failure say exactly why (azure-facts.md §6).
//!
//! The exchange is made with our own client, not azure_identity, which cannot parse
//! AADSTS bodies whose description contains JSON escapes (§7).

use std::sync::Arc;
use std::time::{Duration, Instant};

use pulumi_azure_oidc::diagnose::{diagnose_error, diagnose_token, jwt};
use pulumi_azure_oidc::diff::ObservedCredential;
use pulumi_azure_oidc::error::{Error, Result, status_line};
use pulumi_azure_oidc::plan::Plan;
use pulumi_azure_oidc::provision::requests::{self, Refusal};
use pulumi_azure_oidc::provision::{AppIds, Secret, VerifyReport, VerifyResult};

use super::Provisioner;

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
        let claims = jwt::decode(request.token.expose())?;
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
                    let client_id = match app.identity_id() {
                        Some(id) => self
                            .get_identity(&id)
                            .await?
                            .and_then(|v| v["properties"]["clientId"].as_str().map(str::to_owned)),
                        None => self
                            .get_app(&app.unique_name)
                            .await?
                            .and_then(|v| v["appId"].as_str().map(str::to_owned)),
                    };
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
                let diagnosis = diagnose_token(request.token.expose(), Some(&all), now())?;
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
        let mut attempts = 0;
        loop {
            attempts += 1;
            let r = requests::exchange_token(
                tenant,
                client_id,
                request.token.expose(),
                &self.endpoints.arm_scope,
            );
            let answer = self.send(&r).await?;
            let refusal: Refusal = match requests::read_exchange(&answer) {
                // The access token proves the set-up; it is dropped unread.
                Ok(()) => {
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
                Err(refusal) => refusal,
            };
            let wait = self
                .http
                .policy
                .base
                .max(Duration::from_millis(200))
                .saturating_mul(attempts.min(10));
            if refusal.may_be_propagation() && started.elapsed() + wait < request.wait {
                tokio::time::sleep(wait).await;
                continue;
            }
            let diagnosis = diagnose_error(&refusal.description).ok();
            let credentials = match planned.clone() {
                Some(p) => Some(p),
                None => self.credentials_of_client(client_id).await,
            };
            let token_diagnosis =
                diagnose_token(request.token.expose(), credentials.as_deref(), now()).ok();
            let error = match (&refusal.aadsts, &diagnosis) {
                (Some(c), Some(d)) => format!("AADSTS{c}: {}", d.title),
                (Some(c), None) => format!("AADSTS{c}"),
                _ => status_line(refusal.status, &refusal.error_code),
            };
            return Ok(VerifyResult {
                client_id: Some(client_id.to_owned()),
                app,
                ok: false,
                attempts,
                aadsts: refusal.aadsts,
                error: Some(error),
                diagnosis,
                token_diagnosis,
            });
        }
    }

    /// The app's credentials, if this run can read Graph; `None` otherwise.
    async fn credentials_of_client(&self, client_id: &str) -> Option<Vec<ObservedCredential>> {
        self.azure.as_ref()?;
        let app = self.get_app_by_client_id(client_id).await.ok()??;
        let ids = AppIds::of(&app)?;
        self.list_credentials(&ids, client_id).await.ok()
    }
}
