//! One way for every face to run the executor: options as plain data (a JSON object
//! from C, keyword arguments from Python, flags from the CLI), blocking calls that
//! build their own runtime, typed reports out. The faces only convert.

use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::{
    ApplyReport, AuthKind, AzureAuth, Cloud, DestroyReport, Endpoints, Options, Progress,
    Provisioner, Quiet, RetryPolicy, Secret, StatusReport, VerifyReport, VerifyRequest,
    pulumi_credentials,
};
use crate::config::Config;
use crate::error::{Error, Result};

/// How to reach the services and who to be there. Every field is optional; what is
/// absent comes from the environment as the Azure SDKs and the Pulumi CLI read it.
/// Secrets given here are held as [`Secret`] and never printed.
#[derive(Clone, Default, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RunOptions {
    /// `public` (default), `china` or `usgov`.
    pub cloud: Option<String>,
    /// Send every Azure and Pulumi Cloud request here (the emulator).
    pub endpoint: Option<String>,
    pub login_url: Option<String>,
    pub graph_url: Option<String>,
    pub arm_url: Option<String>,
    pub pulumi_api_url: Option<String>,
    /// An extra CA to trust: a PEM file, or the PEM text itself.
    pub ca_file: Option<String>,
    pub ca_pem: Option<String>,
    /// `auto` (default), `client-secret`, `workload-identity`, `managed-identity`, `azure-cli`.
    pub auth: Option<String>,
    /// Explicit client-secret credentials instead of `AZURE_*` variables.
    pub azure_tenant_id: Option<String>,
    pub azure_client_id: Option<String>,
    pub azure_client_secret: Option<String>,
    /// Instead of `PULUMI_ACCESS_TOKEN` / the Pulumi CLI's login.
    pub pulumi_access_token: Option<String>,
    /// Requests in flight at once (default 8).
    pub concurrency: Option<usize>,
    /// Apply: show what would change, write nothing.
    pub dry_run: bool,
    /// Apply: also delete credentials and apps this tool would otherwise keep.
    pub prune: bool,
    /// Verify: the token (else `PULUMI_OIDC_TOKEN`), the app and tenant (else
    /// `AZURE_CLIENT_ID`/`ARM_CLIENT_ID`, `AZURE_TENANT_ID`/`ARM_TENANT_ID`), and how
    /// long to retry propagation errors (default 60 s).
    pub token: Option<String>,
    pub client_id: Option<String>,
    pub tenant_id: Option<String>,
    pub wait_secs: Option<u64>,
    /// Short retry waits, for local emulators (default: on for a loopback endpoint).
    pub fast_retry: Option<bool>,
}

impl std::fmt::Debug for RunOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunOptions")
            .field("cloud", &self.cloud)
            .field("endpoint", &self.endpoint)
            .field("auth", &self.auth)
            .field("concurrency", &self.concurrency)
            .finish_non_exhaustive()
    }
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn invalid(message: String) -> Error {
    Error::InvalidConfig {
        message,
        location: None,
    }
}

impl RunOptions {
    /// Parse the JSON object a face passes; unknown keys are refused by name.
    pub fn from_json(text: &str) -> Result<Self> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        let value: serde_json::Value =
            serde_json::from_str(text).map_err(|e| invalid(format!("invalid options: {e}")))?;
        // serde would also read a struct from an array, field by field; only an object
        // names its options.
        if !value.is_object() {
            return Err(invalid(
                "invalid options: expected a JSON object such as {\"dry_run\": true}".into(),
            ));
        }
        serde_json::from_value(value).map_err(|e| invalid(format!("invalid options: {e}")))
    }

    pub fn endpoints(&self) -> Result<Endpoints> {
        let cloud = match self.cloud.as_deref() {
            None => Cloud::Public,
            Some(c) => Cloud::parse(c).ok_or_else(|| {
                invalid(format!(
                    "unknown cloud `{c}`: expected public, china or usgov"
                ))
            })?,
        };
        let mut e = Endpoints::for_cloud(cloud);
        if let Some(base) = &self.endpoint {
            e = e.all_at(base);
        }
        for (slot, value) in [
            (&mut e.login, &self.login_url),
            (&mut e.graph, &self.graph_url),
            (&mut e.arm, &self.arm_url),
        ] {
            if let Some(v) = value {
                *slot = v.trim_end_matches('/').to_owned();
            }
        }
        Ok(e)
    }

    fn auth(&self) -> Result<AzureAuth> {
        if let (Some(tenant), Some(client), Some(secret)) = (
            &self.azure_tenant_id,
            &self.azure_client_id,
            &self.azure_client_secret,
        ) {
            return Ok(AzureAuth::ClientSecret {
                tenant_id: tenant.clone(),
                client_id: client.clone(),
                secret: Secret::new(secret.clone()),
            });
        }
        let kind = match self.auth.as_deref() {
            None => AuthKind::Auto,
            Some(a) => AuthKind::parse(a).ok_or_else(|| {
                invalid(format!("unknown auth `{a}`: expected auto, client-secret, workload-identity, managed-identity or azure-cli"))
            })?,
        };
        AzureAuth::from_env(kind)
    }

    fn is_local(&self) -> bool {
        self.endpoint.as_deref().is_some_and(|u| {
            let host = u.split("://").nth(1).unwrap_or(u);
            host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]")
        })
    }

    /// The executor, with Azure and Pulumi credentials when the command needs them.
    pub fn provisioner(&self, azure: bool, pulumi: bool) -> Result<Arc<Provisioner>> {
        let mut endpoints = self.endpoints()?;
        let pulumi_token = if pulumi {
            let api = self
                .pulumi_api_url
                .clone()
                .or_else(|| self.endpoint.clone());
            match &self.pulumi_access_token {
                Some(t) => {
                    if let Some(api) = api {
                        endpoints.pulumi_api = api.trim_end_matches('/').to_owned();
                    }
                    Some(Secret::new(t.clone()))
                }
                None => {
                    let (api, token) = pulumi_credentials(api.as_deref())?;
                    endpoints.pulumi_api = api;
                    Some(token)
                }
            }
        } else {
            None
        };
        let azure = if azure { Some(self.auth()?) } else { None };
        let ca_pem = match (&self.ca_pem, &self.ca_file) {
            (Some(pem), _) => Some(pem.clone()),
            (None, Some(path)) => {
                Some(
                    std::fs::read_to_string(path).map_err(|e| Error::UnreadableInput {
                        what: format!("CA certificate `{path}`"),
                        reason: e.to_string(),
                    })?,
                )
            }
            (None, None) => None,
        };
        let retry = if self.fast_retry.unwrap_or_else(|| self.is_local()) {
            RetryPolicy::fast()
        } else {
            RetryPolicy::default()
        };
        Ok(Arc::new(Provisioner::new(Options {
            endpoints,
            azure,
            pulumi_token,
            tenant_id: None,
            ca_pem,
            retry,
            concurrency: self
                .concurrency
                .unwrap_or(super::DEFAULT_CONCURRENCY)
                .clamp(1, 64),
            request_limit: None,
            app_parallelism: None,
        })?))
    }

    /// The verify request these options describe.
    pub fn verify_request(&self, plan: Option<crate::plan::Plan>) -> Result<VerifyRequest> {
        let token = self
            .token
            .clone()
            .or_else(|| env("PULUMI_OIDC_TOKEN"))
            .ok_or_else(|| {
                Error::MissingCredentials("no token: pass one, or set PULUMI_OIDC_TOKEN".into())
            })?;
        Ok(VerifyRequest {
            token: Secret::new(token.trim().to_owned()),
            client_id: self
                .client_id
                .clone()
                .or_else(|| env("AZURE_CLIENT_ID"))
                .or_else(|| env("ARM_CLIENT_ID")),
            tenant_id: self
                .tenant_id
                .clone()
                .or_else(|| env("AZURE_TENANT_ID"))
                .or_else(|| env("ARM_TENANT_ID")),
            plan,
            wait: Duration::from_secs(self.wait_secs.unwrap_or(60)),
        })
    }
}

fn runtime() -> Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .map_err(|e| Error::Interrupted(format!("cannot start the async runtime: {e}")))
}

/// `apply`, blocking: plan, observe, diff, and (unless `dry_run`) write.
pub fn apply_blocking(
    config: &Config,
    options: &RunOptions,
    progress: &dyn Progress,
) -> Result<ApplyReport> {
    let plan = crate::plan::plan(config)?;
    let p = options.provisioner(true, true)?;
    runtime()?.block_on(async {
        let prepared = p.prepare(plan, options.prune).await?;
        if options.dry_run || prepared.diff.is_converged() {
            return Ok(p.dry_run_report(&prepared));
        }
        p.apply(&prepared, progress).await
    })
}

/// `status`, blocking.
pub fn status_blocking(config: &Config, options: &RunOptions) -> Result<StatusReport> {
    let plan = crate::plan::plan(config)?;
    let p = options.provisioner(true, true)?;
    runtime()?.block_on(p.status(plan))
}

/// `verify`, blocking. With a config, Graph is read to find the apps; without, Azure
/// credentials are used only when given, to improve the diagnosis.
pub fn verify_blocking(config: Option<&Config>, options: &RunOptions) -> Result<VerifyReport> {
    let plan = config.map(crate::plan::plan).transpose()?;
    let azure = plan.is_some()
        || options.azure_client_secret.is_some()
        || env("AZURE_CLIENT_SECRET").is_some();
    let p = options.provisioner(azure, false)?;
    let request = options.verify_request(plan)?;
    runtime()?.block_on(p.verify(request))
}

/// `destroy`, blocking: remove what the tool made for `config`.
pub fn destroy_blocking(config: &Config, options: &RunOptions) -> Result<DestroyReport> {
    let plan = crate::plan::plan(config)?;
    let p = options.provisioner(true, true)?;
    runtime()?.block_on(async {
        let (steps, live) = p.plan_destroy(&plan).await?;
        p.destroy(&steps, &live, &Quiet).await
    })
}
