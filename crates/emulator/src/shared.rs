//! The state every emulated service reads and writes, behind one handle: the
//! directory, the access tokens issued, the fault engine, the counters and the
//! issuer's keys. Services depend on this module; it depends on none of them.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use serde_json::{Map, Value, json};

use crate::access_token;
use crate::authz::Base;
use crate::busy::Busy;
use crate::faults::{FaultEngine, Replication};
use crate::http::Req;
use crate::keys::IssuerKeys;
use crate::options::Options;
use crate::state::{Directory, Stats};
use crate::throttle::Buckets;

tokio::task_local! {
    /// Set while a request is handled whose answer the fault injection will drop.
    static ANSWER_DROPPED: bool;
}

/// Which API an access token was issued for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Resource {
    Graph,
    Arm,
}

impl Resource {
    pub(crate) fn name(self) -> &'static str {
        match self {
            Self::Graph => "graph",
            Self::Arm => "arm",
        }
    }

    /// The resource of a `.default` scope, for all three clouds (the resource id stays
    /// the cloud's own even when the endpoint is overridden).
    pub(crate) fn from_scope(scope: &str) -> Option<Self> {
        let resource = scope.strip_suffix("/.default")?.trim_end_matches('/');
        match resource {
            "https://graph.microsoft.com"
            | "https://microsoftgraph.chinacloudapi.cn"
            | "https://graph.microsoft.us" => Some(Self::Graph),
            "https://management.azure.com"
            | "https://management.core.windows.net"
            | "https://management.chinacloudapi.cn"
            | "https://management.usgovcloudapi.net" => Some(Self::Arm),
            _ => None,
        }
    }
}

/// An access token the emulated token endpoint issued: what the registry knows of it,
/// and what authorizes a request that presents it.
#[derive(Debug, Clone)]
pub(crate) struct Grant {
    pub(crate) resource: Resource,
    pub(crate) client_id: String,
    /// The service principal the token stands for (its `oid`): an operator's, a
    /// federated app's or a managed identity's.
    pub(crate) object_id: String,
    /// What its holder may do without grants.
    pub(crate) base: Base,
    /// The Graph app roles the token carries (its `roles`), fixed when it was issued.
    pub(crate) roles: Vec<String>,
    pub(crate) expires: Instant,
}

/// What the token endpoint asks to be issued.
#[derive(Debug)]
pub(crate) struct TokenRequest<'a> {
    pub(crate) resource: Resource,
    /// The scope's resource (`https://graph.microsoft.com`, …), the token's `aud`.
    pub(crate) audience: &'a str,
    pub(crate) client_id: &'a str,
    pub(crate) object_id: &'a str,
    pub(crate) base: Base,
    pub(crate) roles: Vec<String>,
}

pub(crate) struct Shared {
    pub(crate) options: Options,
    pub(crate) dir: Mutex<Directory>,
    pub(crate) grants: Mutex<HashMap<String, Grant>>,
    pub(crate) faults: Mutex<FaultEngine>,
    pub(crate) replication: Mutex<Replication>,
    pub(crate) stats: Mutex<Stats>,
    /// Managed identities with a credential write in flight.
    pub(crate) busy: Busy,
    /// The metered request budgets (managed identity credential writes).
    pub(crate) throttle: Mutex<Buckets>,
    pub(crate) keys: Arc<IssuerKeys>,
    pub(crate) http_url: String,
    pub(crate) https_url: String,
    /// When the emulator started, in ARM's time format: the `createdOn` of the
    /// operators' implicit role assignments.
    pub(crate) started_on: String,
}

/// A poisoned lock means a handler panicked mid-update; the data is still the best
/// there is, and an emulator must keep answering.
pub(crate) fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Shared {
    pub(crate) fn mutated(&self) {
        lock(&self.stats).mutations += 1;
    }

    /// The resource a token request's scope names: one of Azure's, or this cloud's own
    /// Graph resource id, its base URL (what `GET /metadata/endpoints` publishes as
    /// `microsoftGraphResourceId`).
    pub(crate) fn resource_of_scope(&self, scope: &str) -> Option<Resource> {
        Resource::from_scope(scope).or_else(|| {
            let resource = scope.strip_suffix("/.default")?.trim_end_matches('/');
            (resource == self.https_url || resource == self.http_url).then_some(Resource::Graph)
        })
    }

    pub(crate) fn replication(&self) -> Replication {
        lock(&self.replication).clone()
    }

    /// Every issuer the token endpoint trusts, all signed by the published key.
    pub(crate) fn trusted_issuers(&self) -> Vec<String> {
        let mut all = self.options.issuers.clone();
        all.push(format!("{}/oidc", self.https_url));
        all.push(format!("{}/oidc", self.http_url));
        all
    }

    pub(crate) fn default_issuer(&self) -> String {
        self.trusted_issuers().remove(0)
    }

    /// Issue an access token (a signed JWT, see `access_token`) and remember what it
    /// grants. Only Graph tokens carry `roles`: ARM has no app roles of its own.
    pub(crate) fn issue_token(&self, request: TokenRequest<'_>) -> Result<String, String> {
        let roles = match request.resource {
            Resource::Graph => request.roles,
            Resource::Arm => Vec::new(),
        };
        let claims = access_token::Claims {
            tenant: &self.options.tenant_id,
            audience: request.audience,
            client_id: request.client_id,
            object_id: request.object_id,
            roles: &roles,
        };
        let token = access_token::issue(&self.keys.published, &claims, &self.options.token_marker)?;
        lock(&self.grants).insert(
            token.clone(),
            Grant {
                resource: request.resource,
                client_id: request.client_id.to_owned(),
                object_id: request.object_id.to_owned(),
                base: request.base,
                roles,
                expires: Instant::now()
                    + Duration::from_secs(access_token::LIFETIME_SECS.unsigned_abs()),
            },
        );
        *lock(&self.stats)
            .tokens_issued
            .entry(request.resource.name().to_owned())
            .or_default() += 1;
        Ok(token)
    }

    /// Run `work`, whose answer will be dropped, so that no 429 it answers inside (a
    /// request of a batch, a metered budget) is expected to be waited out.
    pub(crate) async fn answer_dropped<F: std::future::Future>(work: F) -> F::Output {
        ANSWER_DROPPED.scope(true, work).await
    }

    /// Note that `req` was told to come back after `wait`: the same request again before
    /// then counts as an early retry in the stats. A millisecond of slack covers the
    /// header's rounding and the clocks' granularity.
    pub(crate) fn expect_retry_after(&self, req: &Req, wait: Duration) {
        // An answer the client never receives told it nothing: its retry after a lost
        // connection is no early one.
        if ANSWER_DROPPED.try_with(|d| *d).unwrap_or(false) {
            return;
        }
        let not_before = Instant::now() + wait.saturating_sub(Duration::from_millis(1));
        lock(&self.stats)
            .retry_not_before
            .insert(req.retry_key(), not_before);
    }

    /// Whether `req` repeats a request that was answered 429: counted as honoured when
    /// it waited as long as it was told, as early (with an example) when it did not.
    pub(crate) fn note_retry(&self, req: &Req) {
        let mut stats = lock(&self.stats);
        let Some(not_before) = stats.retry_not_before.remove(&req.retry_key()) else {
            return;
        };
        let now = Instant::now();
        if now < not_before {
            stats.early_retries += 1;
            if stats.early_retry_examples.len() < 10 {
                let early = not_before - now;
                let example = format!(
                    "{} /{} {:.1} ms early",
                    req.method,
                    req.segments.join("/"),
                    early.as_secs_f64() * 1e3
                );
                stats.early_retry_examples.push(example);
            }
        } else {
            stats.honoured_retries += 1;
        }
    }

    pub(crate) fn grant(&self, token: &str) -> Option<Grant> {
        lock(&self.grants)
            .get(token)
            .filter(|g| g.expires > Instant::now())
            .cloned()
    }

    /// Each operator's client id and the object id of its service principal.
    pub(crate) fn operator_object_ids(&self) -> Map<String, Value> {
        let dir = lock(&self.dir);
        self.options
            .operators
            .iter()
            .filter_map(|o| {
                let sp = dir.sp_by_app_id(&o.client_id)?;
                Some((o.client_id.clone(), Value::String(sp.id.clone())))
            })
            .collect()
    }

    /// Where everything is, for `GET /_emulator/info`.
    pub(crate) fn info(&self) -> Value {
        json!({
            "http_url": self.http_url,
            "https_url": self.https_url,
            "tenant_id": self.options.tenant_id,
            "operator_client_id": self.options.operators.first().map(|o| o.client_id.clone()),
            "operator_object_ids": self.operator_object_ids(),
            "graph_service_principal_id": lock(&self.dir).graph_sp_id.clone(),
            "issuer": self.default_issuer(),
            "trusted_issuers": self.trusted_issuers(),
            "graph_url": format!("{}/v1.0", self.https_url),
            "arm_url": self.https_url,
            "login_url": self.https_url,
            "pulumi_api_url": self.https_url,
        })
    }
}
