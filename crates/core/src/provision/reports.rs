//! What each executor call returns, as plain serialisable data: the faces print or
//! convert these and nothing else.

use std::collections::BTreeMap;

use serde::Serialize;
use serde_json::Value;

use super::request::RequestCounts;
use crate::diagnose::jwt::TokenClaims;
use crate::diagnose::{ErrorDiagnosis, TokenDiagnosis};
use crate::diff::{Change, Diff, ObservedApp, ObservedState, UnmanagedCredential};
use crate::plan::Plan;

/// The live state as the diff sees it. (ESC definitions are read again, with their
/// ETag, right before each write.)
#[derive(Debug, Clone, Default)]
pub struct Live {
    pub state: ObservedState,
}

impl Live {
    pub fn app(&self, unique_name: &str) -> Option<&ObservedApp> {
        self.state
            .apps
            .iter()
            .find(|a| a.unique_name.as_deref() == Some(unique_name) || a.id == unique_name)
    }
}

/// A plan with the live state it was diffed against: what `apply` will do.
#[derive(Debug, Clone)]
pub struct Prepared {
    pub plan: Plan,
    pub live: Live,
    pub diff: Diff,
}

/// One app after the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppSummary {
    pub unique_name: String,
    pub display_name: String,
    /// The client id to configure (`appId`); `None` only in a dry run of a new app.
    pub client_id: Option<String>,
    pub object_id: Option<String>,
    pub service_principal_id: Option<String>,
    pub targets: Vec<String>,
    pub credentials: usize,
    pub roles: Vec<String>,
}

/// What `apply` did.
#[derive(Debug, Clone, Serialize)]
pub struct ApplyReport {
    pub org: String,
    pub dry_run: bool,
    /// The changes, in order, as one line each.
    pub changes: Vec<String>,
    pub changes_detail: Vec<Change>,
    /// How many were carried out (all of them unless the run failed).
    pub applied: usize,
    pub apps: Vec<AppSummary>,
    pub unmanaged: Vec<UnmanagedCredential>,
    pub notes: Vec<String>,
    pub warnings: Vec<String>,
    /// ESC environments written: `org/project/env` → the definition now stored.
    pub esc_environments: BTreeMap<String, String>,
    /// Deployment settings written: `org/project/stack` → the OIDC block sent.
    pub deployment_settings: BTreeMap<String, Value>,
    pub requests: RequestCounts,
}

/// One target's health.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TargetHealth {
    pub target: String,
    pub app: String,
    pub ok: bool,
    pub problems: Vec<String>,
}

/// What `status` found: the live diff and each target's health; no writes.
#[derive(Debug, Clone, Serialize)]
pub struct StatusReport {
    pub org: String,
    pub converged: bool,
    pub changes: Vec<String>,
    pub targets: Vec<TargetHealth>,
    pub apps: Vec<AppSummary>,
    pub unmanaged: Vec<UnmanagedCredential>,
    pub notes: Vec<String>,
    pub requests: RequestCounts,
}

/// One removal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum DestroyStep {
    ClearDeploymentSettings {
        app: String,
        org: String,
        project: String,
        stack: String,
    },
    RemoveEscLogin {
        app: String,
        org: String,
        project: String,
        env: String,
        client_id: String,
    },
    DeleteRoleAssignment {
        app: String,
        scope: String,
        name: String,
    },
    DeleteCredential {
        app: String,
        name: String,
    },
    DeleteServicePrincipal {
        app: String,
        id: String,
    },
    DeleteApp {
        app: String,
        id: String,
        app_id: String,
    },
    /// A managed identity; its credentials go with it.
    DeleteIdentity {
        app: String,
        id: String,
        client_id: String,
    },
}

impl DestroyStep {
    pub fn app(&self) -> &str {
        match self {
            Self::ClearDeploymentSettings { app, .. }
            | Self::RemoveEscLogin { app, .. }
            | Self::DeleteRoleAssignment { app, .. }
            | Self::DeleteCredential { app, .. }
            | Self::DeleteServicePrincipal { app, .. }
            | Self::DeleteApp { app, .. }
            | Self::DeleteIdentity { app, .. } => app,
        }
    }

    pub fn summary(&self) -> String {
        match self {
            Self::ClearDeploymentSettings {
                org,
                project,
                stack,
                ..
            } => format!("- Azure OIDC settings of stack {org}/{project}/{stack}"),
            Self::RemoveEscLogin {
                org, project, env, ..
            } => format!("- azure-login block of ESC environment {org}/{project}/{env}"),
            Self::DeleteRoleAssignment { app, scope, name } => {
                format!("- role assignment {name} at {scope} of {app}")
            }
            Self::DeleteCredential { app, name } => format!("- credential {name} in {app}"),
            Self::DeleteServicePrincipal { app, .. } => format!("- service principal of {app}"),
            Self::DeleteApp { app, app_id, .. } => format!("- app {app} (client id {app_id})"),
            Self::DeleteIdentity { app, client_id, .. } => {
                format!("- managed identity {app} (client id {client_id}) and its credentials")
            }
        }
    }
}

/// What `destroy` will remove and what it keeps.
#[derive(Debug, Clone, Serialize)]
pub struct DestroyPlan {
    pub org: String,
    pub steps: Vec<DestroyStep>,
    pub kept: Vec<String>,
}

/// What `destroy` removed.
#[derive(Debug, Clone, Serialize)]
pub struct DestroyReport {
    pub org: String,
    pub removed: Vec<String>,
    pub kept: Vec<String>,
    pub requests: RequestCounts,
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
