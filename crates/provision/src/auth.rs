//! Who the executor is: an Azure credential from `azure_identity` for Graph and ARM,
//! and a Pulumi access token for Pulumi Cloud (DESIGN §6).

use std::path::PathBuf;
use std::sync::Arc;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::TokenCredential;
use azure_core::http::policies::{Policy, PolicyResult};
use azure_core::http::{
    AsyncRawResponse, ClientOptions, Context, ExponentialRetryOptions, Request, RetryOptions,
    Transport, headers,
};
use azure_identity::{
    ClientSecretCredential, ClientSecretCredentialOptions, DeveloperToolsCredential,
    ManagedIdentityCredential, ManagedIdentityCredentialOptions, UserAssignedId,
    WorkloadIdentityCredential, WorkloadIdentityCredentialOptions,
};

use pulumi_azure_oidc::error::{Error, Result};
use pulumi_azure_oidc::provision::{AuthKind, Endpoints, RetryPolicy, Secret};

/// When the token endpoint last said to come back, as `Retry-After` (see
/// [`RetryAfterPolicy`]); shared with the executor, which retries the token request
/// itself once the SDK's own retries are spent.
#[derive(Debug, Clone, Default)]
pub(crate) struct RetryAfterNote(
    Arc<std::sync::Mutex<Option<std::time::Instant>>>,
    Arc<std::sync::atomic::AtomicBool>,
);

impl RetryAfterNote {
    /// Whether the token endpoint has answered at all, with any status.
    pub(crate) fn answered(&self) -> bool {
        self.1.load(std::sync::atomic::Ordering::SeqCst)
    }

    fn set(&self, wait: std::time::Duration) {
        let until = std::time::Instant::now() + wait;
        let mut slot = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        *slot = Some(slot.map_or(until, |t| t.max(until)));
    }

    /// How long is left of the last `Retry-After`.
    pub(crate) fn remaining(&self) -> std::time::Duration {
        let slot = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        slot.map(|t| t.saturating_duration_since(std::time::Instant::now()))
            .unwrap_or_default()
    }
}

/// Makes the SDK's token requests wait as told. Entra and Graph send fractional
/// `Retry-After` seconds (`2.128`, azure-facts.md §5.1); the SDK's retry policy reads
/// only whole seconds from that header and otherwise falls back to its own backoff,
/// so it retried a throttled token request early. This per-try policy restates the
/// value as `retry-after-ms`, which the SDK reads first, and notes it for the
/// executor's own retries. It also counts each token request sent, as Entra requests.
#[derive(Debug)]
struct RetryAfterPolicy(RetryAfterNote, Arc<super::http::Counters>);

#[async_trait::async_trait]
impl Policy for RetryAfterPolicy {
    async fn send(
        &self,
        ctx: &Context,
        request: &mut Request,
        next: &[Arc<dyn Policy>],
    ) -> PolicyResult {
        let Some((first, rest)) = next.split_first() else {
            return Err(azure_core::Error::with_message(
                azure_core::error::ErrorKind::Other,
                "no transport after the Retry-After policy",
            ));
        };
        self.1
            .entra
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let response = first.send(ctx, request, rest).await?;
        (self.0).1.store(true, std::sync::atomic::Ordering::SeqCst);
        let secs = response
            .headers()
            .get_optional_str(&headers::RETRY_AFTER)
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| s.min(3600.0));
        let Some(secs) = secs else {
            return Ok(response);
        };
        self.0.set(std::time::Duration::from_secs_f64(secs));
        if secs.fract() == 0.0 {
            return Ok(response);
        }
        let (status, mut headers, body) = response.deconstruct();
        let millis = (secs * 1000.0).ceil() as u64;
        headers.insert(headers::RETRY_AFTER_MS, millis.to_string());
        Ok(AsyncRawResponse::from_bytes(
            status,
            headers,
            body.collect().await?,
        ))
    }
}

/// A resolved Azure credential source.
#[derive(Debug, Clone)]
pub enum AzureAuth {
    ClientSecret {
        tenant_id: String,
        client_id: String,
        secret: Secret,
    },
    /// `AZURE_TENANT_ID`, `AZURE_CLIENT_ID`, `AZURE_FEDERATED_TOKEN_FILE`.
    WorkloadIdentity,
    ManagedIdentity {
        client_id: Option<String>,
    },
    AzureCli,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

impl AzureAuth {
    /// Resolve `kind` from the environment variables the Azure SDKs read.
    pub fn from_env(kind: AuthKind) -> Result<Self> {
        let secret = || -> Result<Self> {
            let missing = |what: &str| {
                Error::MissingCredentials(format!(
                    "client secret authentication needs {what}; set AZURE_TENANT_ID, AZURE_CLIENT_ID and AZURE_CLIENT_SECRET"
                ))
            };
            Ok(Self::ClientSecret {
                tenant_id: env("AZURE_TENANT_ID").ok_or_else(|| missing("AZURE_TENANT_ID"))?,
                client_id: env("AZURE_CLIENT_ID").ok_or_else(|| missing("AZURE_CLIENT_ID"))?,
                secret: Secret::new(
                    env("AZURE_CLIENT_SECRET").ok_or_else(|| missing("AZURE_CLIENT_SECRET"))?,
                ),
            })
        };
        match kind {
            AuthKind::ClientSecret => secret(),
            AuthKind::WorkloadIdentity => Ok(Self::WorkloadIdentity),
            AuthKind::ManagedIdentity => Ok(Self::ManagedIdentity {
                client_id: env("AZURE_CLIENT_ID"),
            }),
            AuthKind::AzureCli => Ok(Self::AzureCli),
            AuthKind::Auto => {
                if env("AZURE_CLIENT_SECRET").is_some() {
                    secret()
                } else if env("AZURE_FEDERATED_TOKEN_FILE").is_some() {
                    Ok(Self::WorkloadIdentity)
                } else if env("IDENTITY_ENDPOINT").is_some() || env("MSI_ENDPOINT").is_some() {
                    Ok(Self::ManagedIdentity {
                        client_id: env("AZURE_CLIENT_ID"),
                    })
                } else {
                    Ok(Self::AzureCli)
                }
            }
        }
    }

    /// The tenant this credential signs in to, when it says.
    pub fn tenant_id(&self) -> Option<String> {
        match self {
            Self::ClientSecret { tenant_id, .. } => Some(tenant_id.clone()),
            _ => env("AZURE_TENANT_ID"),
        }
    }

    pub fn describe(&self) -> String {
        match self {
            Self::ClientSecret { client_id, .. } => format!("client secret of {client_id}"),
            Self::WorkloadIdentity => "workload identity token file".into(),
            Self::ManagedIdentity { .. } => "managed identity".into(),
            Self::AzureCli => "Azure CLI / azd login".into(),
        }
    }

    /// An `azure_identity` credential that sends its requests through `client` (which
    /// trusts any extra CA) to `endpoints.login`.
    pub(crate) fn credential(
        &self,
        endpoints: &Endpoints,
        client: reqwest::Client,
        policy: &RetryPolicy,
        retry_after: &RetryAfterNote,
        counters: Arc<super::http::Counters>,
    ) -> Result<Arc<dyn TokenCredential>> {
        // The SDK retries token requests itself; bound it by our policy, so an
        // unreachable login endpoint fails as fast as any other service does.
        let ms = |d: std::time::Duration| {
            time::Duration::milliseconds(i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        };
        let retry = RetryOptions::exponential(ExponentialRetryOptions {
            initial_delay: ms(policy.base),
            max_retries: 4,
            max_total_elapsed: ms(policy.max_elapsed.min(std::time::Duration::from_secs(60))),
            max_delay: ms(policy.cap),
        });
        let mut options = ClientOptions {
            transport: Some(Transport::new(Arc::new(client))),
            retry,
            per_try_policies: vec![Arc::new(RetryAfterPolicy(retry_after.clone(), counters))],
            ..ClientOptions::default()
        };
        let mut custom = CustomConfiguration::default();
        custom.authority_host = endpoints.login.clone();
        options.cloud = Some(Arc::new(CloudConfiguration::from(custom)));
        let fail = |e: azure_core::Error| {
            Error::AuthenticationFailed(format!("cannot set up {}: {e}", self.describe()))
        };
        Ok(match self {
            Self::ClientSecret {
                tenant_id,
                client_id,
                secret,
            } => ClientSecretCredential::new(
                tenant_id,
                client_id.clone(),
                azure_core::credentials::Secret::new(secret.expose().to_owned()),
                Some(ClientSecretCredentialOptions {
                    client_options: options,
                }),
            )
            .map_err(fail)?,
            Self::WorkloadIdentity => {
                let mut o = WorkloadIdentityCredentialOptions::default();
                o.credential_options.client_options = options;
                WorkloadIdentityCredential::new(Some(o)).map_err(fail)?
            }
            Self::ManagedIdentity { client_id } => {
                ManagedIdentityCredential::new(Some(ManagedIdentityCredentialOptions {
                    user_assigned_id: client_id.clone().map(UserAssignedId::ClientId),
                    client_options: options,
                }))
                .map_err(fail)?
            }
            Self::AzureCli => DeveloperToolsCredential::new(None).map_err(fail)?,
        })
    }
}

/// The Pulumi Cloud API and access token: the token from `PULUMI_ACCESS_TOKEN` or
/// the Pulumi CLI's `credentials.json`; the API from `api` (a flag),
/// `PULUMI_BACKEND_URL`, the CLI's current backend, or `https://api.pulumi.com`.
pub fn pulumi_credentials(api: Option<&str>) -> Result<(String, Secret)> {
    let file = pulumi_credentials_file();
    let stored: Option<serde_json::Value> = file
        .as_ref()
        .and_then(|p| std::fs::read_to_string(p).ok())
        .and_then(|t| serde_json::from_str(&t).ok());
    let api = api
        .map(str::to_owned)
        .or_else(|| env("PULUMI_BACKEND_URL").filter(|u| u.starts_with("http")))
        .or_else(|| {
            stored
                .as_ref()
                .and_then(|s| s.get("current"))
                .and_then(|c| c.as_str())
                .filter(|u| u.starts_with("http"))
                .map(str::to_owned)
        })
        .unwrap_or_else(|| "https://api.pulumi.com".into())
        .trim_end_matches('/')
        .to_owned();
    // The CLI stores the console-style URL for the default backend.
    let token = env("PULUMI_ACCESS_TOKEN").or_else(|| {
        let tokens = stored.as_ref()?.get("accessTokens")?;
        tokens
            .get(&api)
            .or_else(|| tokens.get(format!("{api}/")))
            .and_then(|t| t.as_str())
            .map(str::to_owned)
    });
    match token {
        Some(t) => Ok((api, Secret::new(t))),
        None => Err(Error::MissingCredentials(format!(
            "no Pulumi access token for {api}: set PULUMI_ACCESS_TOKEN or run `pulumi login`"
        ))),
    }
}

fn pulumi_credentials_file() -> Option<PathBuf> {
    let home = env("PULUMI_HOME")
        .map(PathBuf::from)
        .or_else(|| env("HOME").map(|h| PathBuf::from(h).join(".pulumi")))?;
    Some(home.join("credentials.json"))
}
