//! The executor of `pulumi-azure-oidc`: it observes the live state, diffs it with the
//! plan, and makes Azure and Pulumi Cloud match — idempotently, through throttling and
//! replication lag — then proves it by exchanging a token, and undoes it. The core
//! decides every request, retry and order as values; this crate alone performs them.
//!
//! Every face comes in the same way: a [`RunOptions`] and a [`Call`] to [`executor`],
//! then `prepare` → `apply`, `status`, `verify` or `plan_destroy` → `destroy`, each
//! returning a typed report; or the `*_blocking` calls, which do the same on their
//! own runtime.
//!
//! Every write addresses its object by a deterministic key (uniqueName, credential
//! name, role assignment UUIDv5) with an upsert, so a retry after a lost answer, or a
//! re-run after an interrupted one, never makes a duplicate.

mod adopt;
mod api;
mod apply;
mod auth;
mod batch;
mod budget;
mod destroy;
mod discover;
mod doctor;
mod http;
mod observe;
mod ops;
mod pace;
mod rights;
mod verify;

use std::collections::HashMap;
use std::sync::Arc;

use azure_core::credentials::TokenCredential;
use pulumi_azure_oidc::error::{Error, Result};

/// The core, whose types every call takes and returns.
pub use pulumi_azure_oidc as core;
pub use pulumi_azure_oidc::provision::{
    AppSummary, ApplyReport, AuthKind, Cloud, DEFAULT_CONCURRENCY, DestroyPlan, DestroyReport,
    DestroyStep, Endpoints, Live, Prepared, RequestCounts, RetryPolicy, RunOptions, Secret,
    Service, StatusReport, TargetHealth, VerifyReport, VerifyResult,
};

pub use api::{
    adopt_blocking, apply_blocking, destroy_blocking, doctor_blocking, executor, runtime,
    status_blocking, verify_blocking, verify_request,
};
pub use auth::{AzureAuth, pulumi_credentials};
pub use pulumi_azure_oidc::provision::{Call, Needs};
pub use verify::VerifyRequest;

/// Apps in progress at once per request slot, unless a run says otherwise.
const APPS_PER_SLOT: usize = 4;

/// The executor's resolved settings: endpoints, credentials already read, and the
/// knobs tests and benchmarks turn (a request limit, one app at a time). Faces do not
/// fill this: they give a [`RunOptions`] to [`executor`], which resolves it.
#[derive(Debug, Clone)]
pub struct Options {
    pub endpoints: Endpoints,
    /// For Graph and ARM; `None` for runs that need neither (verify without Graph).
    pub azure: Option<AzureAuth>,
    /// The Pulumi access token; `None` for runs that do not touch Pulumi Cloud.
    pub pulumi_token: Option<Secret>,
    /// The tenant to write into settings and ESC when the config names none.
    pub tenant_id: Option<String>,
    /// An extra CA to trust (the emulator's), PEM.
    pub ca_pem: Option<String>,
    pub retry: RetryPolicy,
    /// Requests in flight at once, across all apps.
    pub concurrency: usize,
    /// Stop after this many requests (for interruption tests); `None` in real use.
    pub request_limit: Option<u64>,
    /// Apps written at once; `None`: four per request slot, enough to keep every slot
    /// busy, and few enough that a big org's apps do not all wait for their budget at
    /// once, each holding its batch of credential writes in memory. `Some(1)` is the
    /// one-app-at-a-time strategy the benchmarks compare against.
    pub app_parallelism: Option<usize>,
    /// The managed-identity credential write rates to keep under.
    pub identity_write_rates: pulumi_azure_oidc::provision::IdentityWriteRates,
    /// The Graph and ARM budgets to pace to; `None` sends as fast as the concurrency
    /// allows and leaves slowing down to 429s.
    pub budgets: Option<pulumi_azure_oidc::provision::Budgets>,
    /// Check the operator's rights before the first write of `apply`.
    pub check_rights: bool,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            endpoints: Endpoints::default(),
            azure: None,
            pulumi_token: None,
            tenant_id: None,
            ca_pem: None,
            retry: RetryPolicy::default(),
            concurrency: DEFAULT_CONCURRENCY,
            request_limit: None,
            app_parallelism: None,
            identity_write_rates: Default::default(),
            budgets: Some(Default::default()),
            check_rights: true,
        }
    }
}

/// What a run reports as it goes; the CLI draws a progress bar or prints lines.
pub trait Progress: Send + Sync {
    fn start(&self, _total: usize) {}
    fn step(&self, _summary: &str) {}
    fn finish(&self) {}
}

/// Reports nothing.
#[derive(Debug, Clone, Copy, Default)]
pub struct Quiet;
impl Progress for Quiet {}

/// The executor. Cheap to share between tasks.
pub struct Provisioner {
    http: http::Http,
    endpoints: Endpoints,
    azure: Option<Arc<dyn TokenCredential>>,
    token_retry_after: auth::RetryAfterNote,
    token_gates: std::sync::Mutex<HashMap<String, Arc<tokio::sync::Mutex<()>>>>,
    /// Tokens by scope, with the instant they stop being used.
    token_cache: std::sync::Mutex<HashMap<String, (Secret, std::time::Instant)>>,
    pulumi: Option<Secret>,
    tenant_id: Option<String>,
    app_slots: Option<Arc<tokio::sync::Semaphore>>,
    pacer: pace::Pacer,
    check_rights: bool,
}

impl std::fmt::Debug for Provisioner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Provisioner")
            .field("endpoints", &self.endpoints)
            .field("tenant_id", &self.tenant_id)
            .finish_non_exhaustive()
    }
}

impl Provisioner {
    pub fn new(options: Options) -> Result<Self> {
        let http = http::Http::new(
            options.ca_pem.as_deref(),
            options.retry,
            options.concurrency,
            options.request_limit,
            options.budgets,
        )?;
        let token_retry_after = auth::RetryAfterNote::default();
        let azure = match &options.azure {
            Some(auth) => Some(auth.credential(
                &options.endpoints,
                http.client.clone(),
                &options.retry,
                &token_retry_after,
                http.counters.clone(),
            )?),
            None => None,
        };
        let tenant_id = options
            .tenant_id
            .clone()
            .or_else(|| options.azure.as_ref().and_then(AzureAuth::tenant_id));
        Ok(Self {
            http,
            endpoints: options.endpoints,
            azure,
            pulumi: options.pulumi_token,
            tenant_id,
            token_retry_after,
            token_gates: Default::default(),
            token_cache: Default::default(),
            app_slots: Some(Arc::new(tokio::sync::Semaphore::new(
                options
                    .app_parallelism
                    .unwrap_or(APPS_PER_SLOT * options.concurrency)
                    .max(1),
            ))),
            pacer: pace::Pacer::new(options.identity_write_rates),
            check_rights: options.check_rights,
        })
    }

    /// Requests sent so far, by service.
    pub fn requests(&self) -> RequestCounts {
        self.http.counters.snapshot()
    }

    pub fn endpoints(&self) -> &Endpoints {
        &self.endpoints
    }

    /// A token of `scope` acquired earlier and still good for five minutes.
    fn cached_token(&self, scope: &str) -> Option<Secret> {
        let cache = self
            .token_cache
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        cache
            .get(scope)
            .filter(|(_, until)| std::time::Instant::now() < *until)
            .map(|(token, _)| token.clone())
    }

    async fn bearer(&self, scope: &str) -> Result<Secret> {
        let Some(cred) = &self.azure else {
            return Err(Error::MissingCredentials(
                "this command needs an Azure credential (see --auth)".into(),
            ));
        };
        // Every request asks for its token; only the first of a scope (or one after the
        // token nears its expiry) goes further, so the hot path takes no lock but the
        // map's and no request slot.
        if let Some(token) = self.cached_token(scope) {
            return Ok(token);
        }
        // One acquisition per scope at a time: the tasks that need the same token wait
        // for the first one's instead of sending the same request again, maybe while
        // the endpoint has asked us to wait.
        let gate = {
            let mut gates = self
                .token_gates
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            gates.entry(scope.to_owned()).or_default().clone()
        };
        let _one_at_a_time = gate.lock().await;
        if let Some(token) = self.cached_token(scope) {
            return Ok(token);
        }
        // The SDK retries a token request a few times itself (bounded by our policy);
        // a token endpoint that keeps throttling or failing is retried here, under the
        // same budget as every other request, never before its last `Retry-After`.
        let started = std::time::Instant::now();
        let mut attempt = 0;
        loop {
            let told = self.token_retry_after.remaining();
            if !told.is_zero() {
                tokio::time::sleep(told).await;
            }
            let result = {
                // Token requests count against the concurrency limit too: the limit is
                // what the services see from us, whoever sends the request.
                let _permit = self.http.permit().await?;
                cred.get_token(&[scope], None).await
            };
            let e = match result {
                Ok(token) => {
                    tracing::debug!(scope, "access token acquired");
                    let secret = Secret::new(token.token.secret().to_owned());
                    // Used until five minutes before it expires, as the SDK would.
                    let left = token.expires_on
                        - time::OffsetDateTime::now_utc()
                        - time::Duration::minutes(5);
                    let left = std::time::Duration::try_from(left).unwrap_or_default();
                    self.token_cache
                        .lock()
                        .unwrap_or_else(std::sync::PoisonError::into_inner)
                        .insert(
                            scope.to_owned(),
                            (secret.clone(), std::time::Instant::now() + left),
                        );
                    return Ok(secret);
                }
                Err(e) => e,
            };
            let (error, transient) = self.token_error(scope, &e);
            attempt += 1;
            let wait = self.http.policy.backoff(attempt, http::jitter());
            let policy = &self.http.policy;
            if !transient {
                return Err(error);
            }
            if attempt >= policy.max_attempts || started.elapsed() + wait > policy.max_elapsed {
                return Err(match error {
                    Error::RetriesExhausted {
                        operation, last, ..
                    } => Error::RetriesExhausted {
                        operation,
                        attempts: attempt,
                        seconds: started.elapsed().as_secs(),
                        last,
                    },
                    other => other,
                });
            }
            tokio::time::sleep(wait).await;
        }
    }

    /// Tell "the login endpoint cannot be reached" and "it is throttling or failing
    /// for now" (transient: retried) from "it refused us": the SDK reports all three
    /// as a credential error.
    fn token_error(&self, scope: &str, e: &azure_core::Error) -> (Error, bool) {
        use azure_core::error::ErrorKind;
        let mut unreachable = false;
        let mut transient = false;
        let mut source: Option<&dyn std::error::Error> = Some(e);
        while let Some(s) = source {
            if let Some(inner) = s.downcast_ref::<azure_core::Error>() {
                match inner.kind() {
                    ErrorKind::Io | ErrorKind::Connection => unreachable = true,
                    ErrorKind::HttpResponse { status, .. } => {
                        transient |=
                            matches!(u16::from(*status), 408 | 429 | 500 | 502 | 503 | 504);
                    }
                    _ => {}
                }
            }
            if let Some(r) = s.downcast_ref::<reqwest::Error>() {
                unreachable |= r.is_connect() || r.is_timeout();
            }
            unreachable |= s.downcast_ref::<std::io::Error>().is_some();
            source = s.source();
        }
        let text = e.to_string();
        let first_line = text.lines().next().unwrap_or("").to_owned();
        let unreachable = unreachable || (!transient && text.contains("retry policy expired"));
        // An endpoint that has answered this run is there: a dropped connection now is
        // a transient fault, retried like a 5xx. One that never answered fails fast.
        let answered = self.token_retry_after.answered();
        let transient = transient || (unreachable && answered);
        let unreachable = unreachable && !answered;
        if unreachable {
            let error = Error::Unreachable {
                url: self.endpoints.login.clone(),
                reason: format!("no answer to the token request for {scope}: {first_line}"),
            };
            return (error, false);
        }
        if transient {
            let error = Error::RetriesExhausted {
                operation: format!("get a token for {scope} from {}", self.endpoints.login),
                attempts: 0,
                seconds: 0,
                last: first_line,
            };
            return (error, true);
        }
        (
            Error::AuthenticationFailed(format!("cannot get a token for {scope}: {e}")),
            false,
        )
    }

    fn pulumi_token(&self) -> Result<&Secret> {
        self.pulumi.as_ref().ok_or_else(|| {
            Error::MissingCredentials(
                "this command needs a Pulumi access token: set PULUMI_ACCESS_TOKEN or run `pulumi login`".into(),
            )
        })
    }
}
