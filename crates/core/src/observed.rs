//! The live state as the diff reads it: plain data shaped like what the Graph, ARM and
//! Pulumi Cloud list calls return.

use crate::credential::FederatedCredential;
use serde::{Deserialize, Serialize};

/// What exists now.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ObservedState {
    pub apps: Vec<ObservedApp>,
    pub deployment_settings: Vec<ObservedDeploymentSettings>,
    pub esc_environments: Vec<ObservedEscEnvironment>,
}

/// An Entra application as Graph returns it, with what hangs off it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ObservedApp {
    /// Object id (`id` in Graph).
    pub id: String,
    /// Client id (`appId` in Graph).
    pub app_id: String,
    pub unique_name: Option<String>,
    pub display_name: String,
    pub tags: Vec<String>,
    pub federated_identity_credentials: Vec<ObservedCredential>,
    /// Object id of the app's service principal, if it has one.
    pub service_principal_id: Option<String>,
    pub role_assignments: Vec<ObservedRoleAssignment>,
    /// Set when this is a user-assigned managed identity (its ARM id) rather than an
    /// Entra app. Then `app_id` is its client id, `service_principal_id` its principal
    /// id, `unique_name` its ARM name and `tags` its ARM tag names.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity_id: Option<String>,
}

/// A federated identity credential as Graph lists it. `subject` is null for flexible
/// credentials (`claimsMatchingExpression`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ObservedCredential {
    pub id: Option<String>,
    pub name: String,
    pub issuer: String,
    pub subject: Option<String>,
    pub audiences: Vec<String>,
    pub description: Option<String>,
}

impl From<&FederatedCredential> for ObservedCredential {
    /// What Graph lists once `spec` has been created.
    fn from(spec: &FederatedCredential) -> Self {
        ObservedCredential {
            id: None,
            name: spec.name.to_string(),
            issuer: spec.issuer.clone(),
            subject: Some(spec.subject.clone()),
            audiences: vec![spec.audience.clone()],
            description: Some(spec.description.clone()),
        }
    }
}

/// A role assignment as ARM lists it (flattened from `properties`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ObservedRoleAssignment {
    /// The assignment's GUID name.
    pub name: String,
    pub scope: String,
    pub role_definition_id: String,
    pub principal_id: String,
}

/// A stack's Azure OIDC deployment settings (`operationContext.oidc.azure`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ObservedDeploymentSettings {
    pub org: String,
    pub project: String,
    pub stack: String,
    pub client_id: Option<String>,
    pub tenant_id: Option<String>,
    pub subscription_id: Option<String>,
}

/// An ESC environment's `fn::open::azure-login` values as read from its YAML.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ObservedEscEnvironment {
    pub org: String,
    pub project: String,
    pub env: String,
    pub client_id: Option<String>,
    pub tenant_id: Option<String>,
    pub subscription_id: Option<String>,
    pub oidc: Option<bool>,
    pub subject_attributes: Vec<String>,
}
