//! One way in for every face: options as plain data (flags from the CLI, keyword
//! arguments from Python, a JSON object from C), one rule for which credentials a
//! call needs, the executor built from them, and blocking calls that build their own
//! runtime. The faces convert types and print; they decide nothing here.

use std::sync::Arc;

use pulumi_azure_oidc::config::Config;
use pulumi_azure_oidc::error::{Error, Result};
use pulumi_azure_oidc::plan::{Plan, plan};
use pulumi_azure_oidc::provision::{
    ApplyReport, Call, DEPLOYMENTS_TOKEN_FILE, DestroyReport, Needs, RetryPolicy, RunOptions,
    Secret, StatusReport, VerifyReport,
};

use super::{AzureAuth, Options, Progress, Provisioner, Quiet, VerifyRequest, pulumi_credentials};

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// The Azure credential the options name: explicit client-secret fields, else the
/// kind asked for, resolved from the environment as the Azure SDKs read it.
fn azure_auth(options: &RunOptions) -> Result<AzureAuth> {
    if let (Some(tenant), Some(client), Some(secret)) = (
        &options.azure_tenant_id,
        &options.azure_client_id,
        &options.azure_client_secret,
    ) {
        return Ok(AzureAuth::ClientSecret {
            tenant_id: tenant.clone(),
            client_id: client.clone(),
            secret: Secret::new(secret.clone()),
        });
    }
    AzureAuth::from_env(options.auth_kind()?)
}

/// The executor for `call`, holding the Azure and Pulumi credentials it needs and no
/// others (see [`Call::needs`]).
pub fn executor(options: &RunOptions, call: Call) -> Result<Arc<Provisioner>> {
    let secret_at_hand =
        options.azure_client_secret.is_some() || env("AZURE_CLIENT_SECRET").is_some();
    let Needs { azure, pulumi } = call.needs(secret_at_hand);
    let mut endpoints = options.endpoints()?;
    let pulumi_token = if pulumi {
        let api = options
            .pulumi_api_url
            .clone()
            .or_else(|| options.endpoint.clone());
        match &options.pulumi_access_token {
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
    let azure = if azure {
        Some(azure_auth(options)?)
    } else {
        None
    };
    let ca_pem = match (&options.ca_pem, &options.ca_file) {
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
    let retry = if options.fast_retry.unwrap_or_else(|| options.is_local()) {
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
        concurrency: options.concurrency(),
        request_limit: None,
        app_parallelism: None,
        identity_write_rates: options.identity_write_rates(),
        budgets: Some(options.budgets()),
        check_rights: !options.skip_rights_check,
    })?))
}

/// The verify request the options describe. The token is the one given, else
/// `PULUMI_OIDC_TOKEN`, else the file Pulumi Deployments mounts in every run; the app
/// and tenant are the ones given, else the variables Azure's SDKs and Deployments set.
pub fn verify_request(options: &RunOptions, plan: Option<Plan>) -> Result<VerifyRequest> {
    let token = match options.token.clone().or_else(|| env("PULUMI_OIDC_TOKEN")) {
        Some(token) => token,
        None => std::fs::read_to_string(DEPLOYMENTS_TOKEN_FILE).map_err(|_| {
            Error::MissingCredentials(format!(
                "no token: give one (--token, or the token option), set PULUMI_OIDC_TOKEN, or run inside Pulumi Deployments ({DEPLOYMENTS_TOKEN_FILE})"
            ))
        })?,
    };
    Ok(VerifyRequest {
        token: Secret::new(token.trim().to_owned()),
        client_id: options
            .client_id
            .clone()
            .or_else(|| env("AZURE_CLIENT_ID"))
            .or_else(|| env("ARM_CLIENT_ID")),
        tenant_id: options
            .tenant_id
            .clone()
            .or_else(|| env("AZURE_TENANT_ID"))
            .or_else(|| env("ARM_TENANT_ID")),
        plan,
        wait: options.verify_wait(),
    })
}

/// The runtime a blocking call runs on.
pub fn runtime() -> Result<tokio::runtime::Runtime> {
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
    let p = executor(options, Call::Apply)?;
    runtime()?.block_on(async {
        let plan = p.plan_config(config).await?;
        let prepared = p
            .prepare_with(
                plan,
                pulumi_azure_oidc::diff::DiffOptions {
                    prune: options.prune,
                    take_ownership: options.take_ownership,
                },
            )
            .await?;
        if options.dry_run || prepared.diff.is_converged() {
            return Ok(p.dry_run_report(&prepared));
        }
        p.apply(&prepared, progress).await
    })
}

/// `doctor`, blocking: each target's live set-up judged; reads only. `now` is Unix
/// seconds, default the clock's.
/// The targets are a config's (after discovery), or one `stack` (`ORG/PROJECT/STACK`)
/// or `env` (`ORG/PROJECT/ENV`).
pub fn doctor_blocking(
    config: Option<&Config>,
    stack: Option<&str>,
    env: Option<&str>,
    options: &RunOptions,
    now: Option<i64>,
) -> Result<pulumi_azure_oidc::doctor::DoctorReport> {
    // Refuse a malformed target before anything is resolved or sent.
    pulumi_azure_oidc::doctor::targets(config, stack, env)?;
    let now = now.unwrap_or_else(|| time::OffsetDateTime::now_utc().unix_timestamp());
    let p = executor(options, Call::Doctor)?;
    runtime()?.block_on(async {
        let config = match config {
            Some(c) => Some(p.discover(c).await?),
            None => None,
        };
        let targets = pulumi_azure_oidc::doctor::targets(config.as_ref(), stack, env)?;
        p.doctor(targets, now).await
    })
}

/// `adopt`, blocking: the org's live set-up described as a config pinned to its
/// existing apps; reads only. `issuer` defaults to Pulumi Cloud's; `now` to the clock.
pub fn adopt_blocking(
    org: &str,
    issuer: Option<&str>,
    options: &RunOptions,
    now: Option<i64>,
) -> Result<pulumi_azure_oidc::adopt::Adopted> {
    let org = pulumi_azure_oidc::names::OrgName::new(org)?;
    let issuer = match issuer {
        Some(i) => pulumi_azure_oidc::Issuer::new(i)?,
        None => pulumi_azure_oidc::Issuer::default(),
    };
    let now = now.unwrap_or_else(|| time::OffsetDateTime::now_utc().unix_timestamp());
    let p = executor(options, Call::Adopt)?;
    runtime()?.block_on(p.adopt(org.as_str(), &issuer, now))
}

/// `status`, blocking.
pub fn status_blocking(config: &Config, options: &RunOptions) -> Result<StatusReport> {
    let p = executor(options, Call::Status)?;
    runtime()?.block_on(async { p.status(p.plan_config(config).await?).await })
}

/// `verify`, blocking.
pub fn verify_blocking(config: Option<&Config>, options: &RunOptions) -> Result<VerifyReport> {
    let plan = config.map(plan).transpose()?;
    let p = executor(
        options,
        Call::Verify {
            with_config: plan.is_some(),
        },
    )?;
    let request = verify_request(options, plan)?;
    runtime()?.block_on(p.verify(request))
}

/// `destroy`, blocking: remove what the tool made for `config`.
pub fn destroy_blocking(config: &Config, options: &RunOptions) -> Result<DestroyReport> {
    let p = executor(options, Call::Destroy)?;
    runtime()?.block_on(async {
        let plan = p.plan_config(config).await?;
        let (steps, live) = p.plan_destroy(&plan).await?;
        p.destroy(&steps, &live, &Quiet).await
    })
}
