//! How an emulator is started: listeners, seeds, identities and the tokens it accepts.

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;

use crate::claims::PULUMI_ISSUER;
use crate::faults::{FaultOptions, Replication};

/// Default tenant of the emulated directory.
pub const DEFAULT_TENANT_ID: &str = "6f2c1d4e-8a3b-4c5d-9e0f-1a2b3c4d5e6f";
/// Default client id of the operator identity (the one the tool runs as).
pub const DEFAULT_OPERATOR_CLIENT_ID: &str = "0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f";
/// Default client secret of the operator identity. A test value, not a secret.
pub const DEFAULT_OPERATOR_SECRET: &str = "emulator-operator-secret";
/// The one subscription the emulated ARM lists (`GET /subscriptions`); role
/// assignments are accepted under any subscription scope.
pub const DEFAULT_SUBSCRIPTION_ID: &str = "00000000-0000-4000-8000-000000000001";
/// Default Pulumi access token the emulated Pulumi Cloud accepts.
pub const DEFAULT_PULUMI_TOKEN: &str = "pul-emulator-access-token";
/// Items per page of the emulator's stack, environment and managed identity lists.
/// Neither Pulumi Cloud nor the managed identity API documents a page size; this is the
/// emulator's own.
pub const DEFAULT_LIST_PAGE_SIZE: usize = 100;
/// How long a managed identity's credential write keeps the identity busy, in
/// milliseconds: long enough that two writes sent together overlap (and the second gets
/// Azure's 409), short enough that sequential writes never notice.
pub const DEFAULT_IDENTITY_CREDENTIAL_WRITE_MS: u64 = 30;

/// What an operator may do before anything is granted to it through the APIs. Each
/// operator has a service principal in the emulated directory (its `oid`); grants made
/// through Graph (app role assignments) and ARM (role assignments) add to these rights
/// whatever the kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Rights {
    /// Everything, as before rights existed: its Graph tokens carry
    /// `Application.ReadWrite.All` and `AppRoleAssignment.ReadWrite.All`, and ARM sees an
    /// implicit *Owner* assignment at `/` (listed for its principal, never stored).
    #[default]
    Full,
    /// Reads only: Graph tokens carry `Application.Read.All`, ARM an implicit *Reader* at
    /// `/`. What `--read-only-operator` starts.
    ReadOnly,
    /// Nothing but what is granted through the APIs, as a new service principal in Azure.
    /// What `--operator` starts.
    Granted,
}

/// Which of Azure's documented request budgets the emulator enforces, besides the
/// managed identity credential write rates it always meters.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Budgets {
    /// None: ARM's remaining-request headers carry a fixed value, nothing is refused for
    /// going too fast (only injected faults throttle).
    #[default]
    Off,
    /// Microsoft Graph's identity and access limits (writes per application and tenant,
    /// writes per tenant, resource units per application and tenant) and ARM's token
    /// buckets (reads, writes and deletes per subscription and principal, per
    /// subscription, per tenant and principal), at the documented sizes, refilled
    /// `Options::rate_scale` times faster. What `--budgets azure` starts.
    Azure,
}

/// An identity that may obtain Graph and ARM tokens with a client secret.
#[derive(Clone, PartialEq, Eq)]
pub struct Operator {
    pub client_id: String,
    pub client_secret: String,
    /// What it may do before any grant; see [`Rights`].
    pub rights: Rights,
}

impl std::fmt::Debug for Operator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Operator")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("rights", &self.rights)
            .finish()
    }
}

/// How to start an emulator.
#[derive(Debug, Clone)]
pub struct Options {
    pub bind: IpAddr,
    /// 0 picks a free port.
    pub http_port: u16,
    pub https_port: u16,
    pub seed: u64,
    pub faults: FaultOptions,
    pub replication: Replication,
    pub tenant_id: String,
    pub operators: Vec<Operator>,
    pub pulumi_token: String,
    /// Issuers whose tokens the emulator signs and the token endpoint trusts, besides
    /// its own `<url>/oidc`. The first is the default issuer of minted tokens.
    pub issuers: Vec<String>,
    /// Organizations without a Deployments subscription: settings writes get 402.
    pub free_orgs: Vec<String>,
    /// `org/project/stack` names that do not exist: their settings get 404.
    pub missing_stacks: Vec<String>,
    /// Items per page of the stack and environment lists (a client's smaller
    /// `maxResults` wins) and of the managed identity and identity credential lists (a
    /// smaller `$top` wins), so tests can page with a handful of objects.
    pub list_page_size: usize,
    /// Speeds up the documented request rates the emulator meters (the managed identity
    /// credential writes: 0.25/s per identity, 2/s per subscription, 10/s per tenant; and
    /// with [`Budgets::Azure`], Graph's and ARM's budgets). 1.0 is the documented rate;
    /// 50.0 refills fifty times faster, so a test of the throttle runs in milliseconds.
    /// Bucket sizes stay as documented. Must be finite and above zero.
    pub rate_scale: f64,
    /// Whether Graph's and ARM's documented request budgets are enforced.
    pub budgets: Budgets,
    /// How long each credential write to a managed identity takes, in milliseconds;
    /// another credential write to the same identity meanwhile gets 409.
    pub identity_credential_write_ms: u64,
    /// Where to write the CA certificate; default: a file in the temp directory.
    pub ca_file: Option<PathBuf>,
    /// Enables the App Service style managed identity endpoint `/msi/token`, which
    /// requires this value in `x-identity-header`.
    pub managed_identity_header: Option<String>,
    /// Put into every access token issued, so a test can prove none is ever printed: at
    /// most 64 of `A-Z a-z 0-9 - _` (base64url's alphabet, so the token stays a JWT).
    pub token_marker: String,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            bind: IpAddr::V4(Ipv4Addr::LOCALHOST),
            http_port: 0,
            https_port: 0,
            seed: 0,
            faults: FaultOptions::default(),
            replication: Replication::default(),
            tenant_id: DEFAULT_TENANT_ID.into(),
            operators: vec![Operator {
                client_id: DEFAULT_OPERATOR_CLIENT_ID.into(),
                client_secret: DEFAULT_OPERATOR_SECRET.into(),
                rights: Rights::Full,
            }],
            pulumi_token: DEFAULT_PULUMI_TOKEN.into(),
            issuers: vec![PULUMI_ISSUER.into()],
            free_orgs: Vec::new(),
            missing_stacks: Vec::new(),
            list_page_size: DEFAULT_LIST_PAGE_SIZE,
            rate_scale: 1.0,
            budgets: Budgets::Off,
            identity_credential_write_ms: DEFAULT_IDENTITY_CREDENTIAL_WRITE_MS,
            ca_file: None,
            managed_identity_header: None,
            token_marker: String::new(),
        }
    }
}

impl Options {
    /// Refuse settings the emulator cannot run with.
    pub(crate) fn validate(&self) -> Result<(), String> {
        self.faults.validate()?;
        if !(self.rate_scale.is_finite() && self.rate_scale > 0.0) {
            return Err(format!(
                "rate_scale must be a finite number above zero, got {}",
                self.rate_scale
            ));
        }
        // The marker goes into the token's signature segment, which must stay base64url.
        if self.token_marker.len() > 64
            || !self
                .token_marker
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return Err("token_marker must be at most 64 of A-Z, a-z, 0-9, '-' and '_'".to_owned());
        }
        let mut seen = std::collections::BTreeSet::new();
        for o in &self.operators {
            if !seen.insert(o.client_id.to_ascii_lowercase()) {
                return Err(format!("operator client id {} is given twice", o.client_id));
            }
            if o.client_id
                .eq_ignore_ascii_case(crate::builtin::GRAPH_APP_ID)
            {
                return Err("an operator cannot use Microsoft Graph's application id".to_owned());
            }
        }
        Ok(())
    }
}
