//! The options of an executor call, as plain data: filled the same way by the CLI's
//! flags, Python's keyword arguments and C's JSON object, and checked here, so every
//! face accepts and refuses the same values.

use serde::Deserialize;

use super::endpoints::{Cloud, Endpoints};
use crate::error::{Error, Result};
use crate::join::Joined;

/// Where a Pulumi Deployments run finds its OIDC token (pulumi-oidc-facts.md §2.2).
pub const DEPLOYMENTS_TOKEN_FILE: &str = "/mnt/pulumi/pulumi.oidc";

/// Requests in flight at once unless asked otherwise. Graph meters apps by resource
/// units per 10 s and writes per 150 s, not by requests in flight (azure-facts.md
/// §5.1), so the limit exists to be polite and to bound memory; 32 keeps 20 apps'
/// write chains (a 100-stack org) moving at once, and 429s are honoured regardless.
pub const DEFAULT_CONCURRENCY: usize = 32;

/// The most requests in flight a run may ask for.
pub const MAX_CONCURRENCY: usize = 64;

/// How long `verify` keeps retrying propagation errors unless told otherwise.
pub const DEFAULT_VERIFY_WAIT_SECS: u64 = 60;

/// Which Azure credential to use; `--auth` on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthKind {
    /// A client secret if `AZURE_CLIENT_SECRET` is set, else a workload identity token
    /// file if `AZURE_FEDERATED_TOKEN_FILE` is set, else a managed identity if the
    /// environment offers one, else the Azure CLI / azd login.
    Auto,
    ClientSecret,
    WorkloadIdentity,
    ManagedIdentity,
    AzureCli,
}

impl AuthKind {
    pub fn parse(value: &str) -> Option<Self> {
        match value {
            "auto" => Some(Self::Auto),
            "client-secret" | "secret" => Some(Self::ClientSecret),
            "workload-identity" => Some(Self::WorkloadIdentity),
            "managed-identity" => Some(Self::ManagedIdentity),
            "azure-cli" | "cli" => Some(Self::AzureCli),
            _ => None,
        }
    }
}

impl AuthKind {
    /// The names `parse` accepts, as the faces list them.
    pub const NAMES: [&str; 5] = [
        "auto",
        "client-secret",
        "workload-identity",
        "managed-identity",
        "azure-cli",
    ];
}

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
    /// Requests in flight at once (default [`DEFAULT_CONCURRENCY`], at most [`MAX_CONCURRENCY`]).
    pub concurrency: Option<usize>,
    /// Apply: show what would change, write nothing.
    pub dry_run: bool,
    /// Apply: also delete credentials and apps this tool would otherwise keep.
    pub prune: bool,
    /// Apply: mark the existing apps a config pins (`holder:`), and the credentials in
    /// them the config uses, as this tool's, so that `destroy` may remove them later.
    pub take_ownership: bool,
    /// Verify: the token (else `PULUMI_OIDC_TOKEN`), the app and tenant (else
    /// `AZURE_CLIENT_ID`/`ARM_CLIENT_ID`, `AZURE_TENANT_ID`/`ARM_TENANT_ID`), and how
    /// long to retry propagation errors (default 60 s).
    pub token: Option<String>,
    pub client_id: Option<String>,
    pub tenant_id: Option<String>,
    pub wait_secs: Option<u64>,
    /// Short retry waits, for local emulators (default: on for a loopback endpoint).
    pub fast_retry: Option<bool>,
    /// Azure's documented request budgets (Graph and ARM) and managed-identity write
    /// rates, refilled this factor faster (default 1): only for an emulator started
    /// with the same `--rate-scale`.
    pub rate_scale: Option<f64>,
    /// Apply: do not check the operator's rights before the first write (the services
    /// still refuse what it may not do).
    pub skip_rights_check: bool,
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

fn invalid(message: String) -> Error {
    Error::InvalidConfig {
        message,
        location: None,
    }
}

/// The executor calls, as far as what they need from outside is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Call {
    Apply,
    Status,
    Destroy,
    /// Reads Pulumi Cloud for the login, Graph and ARM for what it names; no writes.
    Doctor,
    /// Lists the org's stacks and environments for a config's `"*"` entries.
    Discover,
    /// Reads the whole org (Pulumi Cloud) and the apps it names (Graph, ARM).
    Adopt,
    /// With a config, Graph is read to find the apps.
    Verify {
        with_config: bool,
    },
}

/// Which credentials a call needs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    pub azure: bool,
    pub pulumi: bool,
}

impl Call {
    /// The one rule for every face. Apply, status and destroy read and write Graph,
    /// ARM and Pulumi Cloud. Verify exchanges a token at the Entra endpoint, which
    /// needs no credential of ours; it reads Graph only to find a config's apps, or,
    /// without a config, to read the app's credentials for a better diagnosis when a
    /// client secret is at hand (`secret_at_hand`), never prompting for a login.
    pub fn needs(self, secret_at_hand: bool) -> Needs {
        match self {
            Call::Apply | Call::Status | Call::Destroy | Call::Doctor | Call::Adopt => Needs {
                azure: true,
                pulumi: true,
            },
            Call::Discover => Needs {
                azure: false,
                pulumi: true,
            },
            Call::Verify { with_config } => Needs {
                azure: with_config || secret_at_hand,
                pulumi: false,
            },
        }
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
        let options: Self =
            serde_json::from_value(value).map_err(|e| invalid(format!("invalid options: {e}")))?;
        options.check()?;
        Ok(options)
    }

    /// Refuse values no call could use, naming the value and the rule.
    pub fn check(&self) -> Result<()> {
        self.endpoints()?;
        if let Some(f) = self.rate_scale
            && !(f.is_finite() && (1.0..=10_000.0).contains(&f))
        {
            return Err(invalid(format!(
                "rate_scale {f}: a factor from 1 (Azure's documented rates) to 10000"
            )));
        }
        self.auth_kind()?;
        Ok(())
    }

    /// The endpoints: the cloud's, then the overrides.
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

    pub fn auth_kind(&self) -> Result<AuthKind> {
        match self.auth.as_deref() {
            None => Ok(AuthKind::Auto),
            Some(a) => AuthKind::parse(a).ok_or_else(|| {
                invalid(format!(
                    "unknown auth `{a}`: expected {}",
                    AuthKind::NAMES.joined(", ")
                ))
            }),
        }
    }

    /// Whether every request goes to this machine (the emulator): short retry waits
    /// then, unless `fast_retry` says otherwise.
    pub fn is_local(&self) -> bool {
        self.endpoint.as_deref().is_some_and(|u| {
            let host = u.split("://").nth(1).unwrap_or(u);
            host.starts_with("127.") || host.starts_with("localhost") || host.starts_with("[::1]")
        })
    }

    /// Requests in flight at once.
    pub fn concurrency(&self) -> usize {
        self.concurrency
            .unwrap_or(DEFAULT_CONCURRENCY)
            .clamp(1, MAX_CONCURRENCY)
    }

    /// The managed-identity write rates to keep under.
    pub fn identity_write_rates(&self) -> super::IdentityWriteRates {
        super::DOCUMENTED_IDENTITY_WRITE_RATES.scaled(self.rate_scale.unwrap_or(1.0))
    }

    /// The Graph and ARM budgets to pace to.
    pub fn budgets(&self) -> super::Budgets {
        super::DOCUMENTED_BUDGETS.scaled(self.rate_scale.unwrap_or(1.0))
    }

    pub fn verify_wait(&self) -> std::time::Duration {
        std::time::Duration::from_secs(self.wait_secs.unwrap_or(DEFAULT_VERIFY_WAIT_SECS))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_keys_and_values_are_refused_by_name() {
        let e = RunOptions::from_json(r#"{"dryrun": true}"#).expect_err("unknown key");
        assert!(e.to_string().contains("dryrun"), "{e}");
        let e = RunOptions::from_json(r#"{"cloud": "mars"}"#).expect_err("unknown cloud");
        assert!(e.to_string().contains("mars"), "{e}");
        let e = RunOptions::from_json(r#"{"auth": "magic"}"#).expect_err("unknown auth");
        assert!(e.to_string().contains("magic"), "{e}");
        let e = RunOptions::from_json("[]").expect_err("an array");
        assert!(e.to_string().contains("JSON object"), "{e}");
    }

    #[test]
    fn verify_reads_graph_only_when_it_must() {
        assert_eq!(
            Call::Verify { with_config: false }.needs(false),
            Needs {
                azure: false,
                pulumi: false
            }
        );
        assert!(Call::Verify { with_config: true }.needs(false).azure);
        assert!(Call::Verify { with_config: false }.needs(true).azure);
        assert!(Call::Apply.needs(false).pulumi);
    }
}
