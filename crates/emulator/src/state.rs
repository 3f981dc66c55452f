//! What the emulated services hold, in memory.

use std::collections::{BTreeMap, HashMap};
use std::time::Instant;

use serde_json::{Map, Value, json};

#[derive(Debug, Clone)]
pub(crate) struct Application {
    pub(crate) id: String,
    pub(crate) app_id: String,
    pub(crate) unique_name: Option<String>,
    pub(crate) created_at: String,
    /// Properties a client may set (displayName, tags, notes, …).
    pub(crate) props: Map<String, Value>,
    pub(crate) credentials: Vec<Credential>,
    /// Object ids of its owners (service principals here): its creator, and whoever
    /// `POST …/owners/$ref` adds.
    pub(crate) owners: Vec<String>,
    pub(crate) created: Instant,
}

#[derive(Debug, Clone)]
pub(crate) struct Credential {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) issuer: String,
    pub(crate) subject: String,
    pub(crate) audiences: Vec<String>,
    pub(crate) description: Option<String>,
    pub(crate) created: Instant,
}

#[derive(Debug, Clone)]
pub(crate) struct ServicePrincipal {
    pub(crate) id: String,
    pub(crate) app_id: String,
    pub(crate) display_name: String,
    pub(crate) props: Map<String, Value>,
    /// Object ids of its owners: the caller that created it.
    pub(crate) owners: Vec<String>,
    /// One the tenant has from the start (Microsoft Graph's, the operators'): always
    /// replicated, never deleted, and kept apart in `/_emulator/state`.
    pub(crate) builtin: bool,
    pub(crate) created: Instant,
}

impl ServicePrincipal {
    /// Whether a reader sees it yet, `lag` after its creation.
    pub(crate) fn replicated(&self, lag: std::time::Duration) -> bool {
        self.builtin || self.created.elapsed() >= lag
    }
}

/// An app role of a resource service principal granted to a principal (Graph
/// `appRoleAssignment`).
#[derive(Debug, Clone)]
pub(crate) struct AppRoleAssignment {
    pub(crate) id: String,
    pub(crate) app_role_id: String,
    pub(crate) principal_id: String,
    pub(crate) principal_display_name: String,
    pub(crate) resource_id: String,
    pub(crate) resource_display_name: String,
    pub(crate) created_date_time: String,
}

#[derive(Debug, Clone)]
pub(crate) struct RoleAssignment {
    pub(crate) id: String,
    pub(crate) name: String,
    pub(crate) scope: String,
    pub(crate) role_definition_id: String,
    pub(crate) principal_id: String,
    pub(crate) principal_type: String,
    /// `description`, `condition`, `conditionVersion` and
    /// `delegatedManagedIdentityResourceId` as the client sent them (`null` if not).
    pub(crate) optional: Map<String, Value>,
    pub(crate) created_on: String,
    pub(crate) updated_on: String,
}

/// A user-assigned managed identity (ARM `Microsoft.ManagedIdentity/userAssignedIdentities`)
/// with its federated credentials. Its service principal lives among the directory's.
#[derive(Debug, Clone)]
pub(crate) struct Identity {
    /// `/subscriptions/{sub}/resourcegroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}`,
    /// with the names as first created.
    pub(crate) id: String,
    pub(crate) subscription: String,
    pub(crate) resource_group: String,
    pub(crate) name: String,
    pub(crate) location: String,
    pub(crate) tags: Map<String, Value>,
    pub(crate) client_id: String,
    /// The object id of its service principal.
    pub(crate) principal_id: String,
    /// `None` or `Regional` (api-versions 2024-11-30 and later).
    pub(crate) isolation_scope: String,
    /// `assignmentRestrictions` as sent (api-version 2025-05-31-preview).
    pub(crate) assignment_restrictions: Option<Value>,
    /// Its federated credentials; `description` is always `None` (ARM has none).
    pub(crate) credentials: Vec<Credential>,
    pub(crate) created: Instant,
}

#[derive(Debug, Clone)]
pub(crate) struct Environment {
    /// The environment's UUID (`EnvironmentMetadata.id`, `OrgEnvironment.id`).
    pub(crate) id: String,
    pub(crate) yaml: String,
    pub(crate) revision: u64,
    pub(crate) created: String,
    pub(crate) modified: String,
}

/// An opened environment: its key (`org/project/env`) and the values it resolved to.
#[derive(Debug, Clone)]
pub(crate) struct OpenSession {
    pub(crate) environment: String,
    pub(crate) properties: Value,
}

impl Environment {
    pub(crate) fn etag(&self) -> String {
        format!("\"{}-{:016x}\"", self.revision, fnv(self.yaml.as_bytes()))
    }
}

fn fnv(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3)
    })
}

#[derive(Debug, Default)]
pub(crate) struct Directory {
    pub(crate) applications: BTreeMap<String, Application>,
    pub(crate) service_principals: BTreeMap<String, ServicePrincipal>,
    pub(crate) role_assignments: BTreeMap<String, RoleAssignment>,
    /// Managed identities by lower-case resource id.
    pub(crate) identities: BTreeMap<String, Identity>,
    pub(crate) deployment_settings: BTreeMap<String, Value>,
    /// Stacks made with `POST /api/stacks/{org}/{project}`, as `org/project/stack`
    /// (a stack with deployment settings exists too).
    pub(crate) stacks: std::collections::BTreeSet<String>,
    pub(crate) environments: BTreeMap<String, Environment>,
    pub(crate) open_sessions: BTreeMap<String, OpenSession>,
    /// App role assignments by id.
    pub(crate) app_role_assignments: BTreeMap<String, AppRoleAssignment>,
    /// The object id of Microsoft Graph's service principal in this tenant.
    pub(crate) graph_sp_id: String,
}

impl Directory {
    pub(crate) fn app_by_app_id(&self, app_id: &str) -> Option<&Application> {
        self.applications.values().find(|a| a.app_id == app_id)
    }

    /// Whether `client_id` is an app's or a managed identity's: a client the directory
    /// knows, though not one that signs in with a secret here.
    pub(crate) fn holds_client(&self, client_id: &str) -> bool {
        self.app_by_app_id(client_id).is_some() || self.identity_by_client_id(client_id).is_some()
    }

    pub(crate) fn identity_by_client_id(&self, client_id: &str) -> Option<&Identity> {
        self.identities.values().find(|i| i.client_id == client_id)
    }

    pub(crate) fn sp_by_app_id(&self, app_id: &str) -> Option<&ServicePrincipal> {
        self.service_principals
            .values()
            .find(|s| s.app_id.eq_ignore_ascii_case(app_id))
    }

    /// A directory object that is gone takes its grants and its ownerships with it.
    pub(crate) fn forget_principal(&mut self, id: &str) {
        let gone = |other: &str| crate::authz::same_object(other, id);
        self.app_role_assignments
            .retain(|_, a| !gone(&a.principal_id) && !gone(&a.resource_id));
        for app in self.applications.values_mut() {
            app.owners.retain(|o| !gone(o));
        }
        for sp in self.service_principals.values_mut() {
            sp.owners.retain(|o| !gone(o));
        }
    }

    /// Everything, for tests and the demo to assert on (`GET /_emulator/state`).
    pub(crate) fn snapshot(&self) -> Value {
        let apps: Vec<Value> = self
            .applications
            .values()
            .map(|a| {
                let mut v = app_json(a);
                v["federatedIdentityCredentials"] =
                    Value::Array(a.credentials.iter().map(credential_json).collect());
                v
            })
            .collect();
        // The principals every tenant starts with are listed apart, so counts of
        // `servicePrincipals` are of the ones clients made.
        let (builtin, made): (Vec<&ServicePrincipal>, Vec<&ServicePrincipal>) =
            self.service_principals.values().partition(|s| s.builtin);
        json!({
            "applications": apps,
            "servicePrincipals": made.into_iter().map(sp_json).collect::<Vec<_>>(),
            "builtInServicePrincipals": builtin.into_iter().map(sp_json).collect::<Vec<_>>(),
            "appRoleAssignments": self.app_role_assignments.values().map(app_role_assignment_json).collect::<Vec<_>>(),
            "roleAssignments": self.role_assignments.values().map(role_assignment_json).collect::<Vec<_>>(),
            "managedIdentities": self.identities.values().map(identity_snapshot).collect::<Vec<_>>(),
            "deploymentSettings": self.deployment_settings,
            "environments": self.environments.iter().map(|(k, e)| (k.clone(), json!({"yaml": e.yaml, "revision": e.revision}))).collect::<Map<_, _>>(),
        })
    }
}

pub(crate) fn app_json(a: &Application) -> Value {
    let mut v = Map::new();
    v.insert("id".into(), json!(a.id));
    v.insert("appId".into(), json!(a.app_id));
    v.insert("createdDateTime".into(), json!(a.created_at));
    v.insert("uniqueName".into(), json!(a.unique_name));
    v.insert("displayName".into(), Value::Null);
    v.insert("signInAudience".into(), json!("AzureADMyOrg"));
    v.insert("tags".into(), json!([]));
    v.insert("notes".into(), Value::Null);
    v.insert("description".into(), Value::Null);
    // As in every application Graph returns (Azure/azure-cli recording
    // `role/tests/latest/recordings/test_app_federated_credential.yaml`).
    v.insert("keyCredentials".into(), json!([]));
    v.insert("passwordCredentials".into(), json!([]));
    for (k, val) in &a.props {
        v.insert(k.clone(), val.clone());
    }
    Value::Object(v)
}

/// A managed identity as `/_emulator/state` shows it: ARM's fields, flattened, with its
/// credentials in Graph's shape (name, issuer, subject, audiences).
fn identity_snapshot(i: &Identity) -> Value {
    json!({
        "id": i.id,
        "name": i.name,
        "subscriptionId": i.subscription,
        "resourceGroup": i.resource_group,
        "location": i.location,
        "tags": i.tags,
        "clientId": i.client_id,
        "principalId": i.principal_id,
        "federatedIdentityCredentials": i.credentials.iter().map(|c| json!({
            "name": c.name,
            "issuer": c.issuer,
            "subject": c.subject,
            "audiences": c.audiences,
        })).collect::<Vec<_>>(),
    })
}

pub(crate) fn credential_json(c: &Credential) -> Value {
    json!({
        "id": c.id,
        "name": c.name,
        "issuer": c.issuer,
        "subject": c.subject,
        "audiences": c.audiences,
        "description": c.description,
    })
}

pub(crate) fn sp_json(s: &ServicePrincipal) -> Value {
    let mut v = Map::new();
    v.insert("id".into(), json!(s.id));
    v.insert("appId".into(), json!(s.app_id));
    v.insert("displayName".into(), json!(s.display_name));
    v.insert("servicePrincipalNames".into(), json!([s.app_id]));
    v.insert("accountEnabled".into(), json!(true));
    v.insert("servicePrincipalType".into(), json!("Application"));
    v.insert("tags".into(), json!([]));
    for (k, val) in &s.props {
        v.insert(k.clone(), val.clone());
    }
    Value::Object(v)
}

/// An `appRoleAssignment` as Graph returns it (microsoft-graph-docs-contrib
/// `api-reference/v1.0/api/serviceprincipal-post-approleassignedto.md`, the response).
pub(crate) fn app_role_assignment_json(a: &AppRoleAssignment) -> Value {
    json!({
        "id": a.id,
        "deletedDateTime": null,
        "appRoleId": a.app_role_id,
        "createdDateTime": a.created_date_time,
        "principalDisplayName": a.principal_display_name,
        "principalId": a.principal_id,
        "principalType": "ServicePrincipal",
        "resourceDisplayName": a.resource_display_name,
        "resourceId": a.resource_id,
    })
}

pub(crate) fn role_assignment_json(r: &RoleAssignment) -> Value {
    // The properties a real answer carries, as recorded in Azure/azure-cli
    // `src/azure-cli/azure/cli/command_modules/role/tests/latest/recordings/test_role_assignment_create_update.yaml`:
    // the definition id in the form it was sent (the 2022-04-01 examples in
    // Azure/azure-rest-api-specs show the tenant-level form, but the recorded answers
    // echo the subscription form the client sent), the optional properties echoed, and
    // the creation and update times. Who created it is not tracked (`null`).
    let mut properties = Map::new();
    properties.insert("roleDefinitionId".into(), json!(r.role_definition_id));
    properties.insert("principalId".into(), json!(r.principal_id));
    properties.insert("principalType".into(), json!(r.principal_type));
    properties.insert("scope".into(), json!(r.scope));
    for key in OPTIONAL_ASSIGNMENT_PROPERTIES {
        let value = r.optional.get(*key).cloned().unwrap_or(Value::Null);
        properties.insert((*key).into(), value);
    }
    properties.insert("createdOn".into(), json!(r.created_on));
    properties.insert("updatedOn".into(), json!(r.updated_on));
    properties.insert("createdBy".into(), Value::Null);
    properties.insert("updatedBy".into(), Value::Null);
    json!({
        "properties": properties,
        "id": r.id,
        "type": "Microsoft.Authorization/roleAssignments",
        "name": r.name,
    })
}

/// The role assignment properties a client may set besides the definition, the
/// principal and its type (`RoleAssignmentProperties` in the 2022-04-01 spec).
pub(crate) const OPTIONAL_ASSIGNMENT_PROPERTIES: &[&str] = &[
    "description",
    "condition",
    "conditionVersion",
    "delegatedManagedIdentityResourceId",
];

/// The requests refused with 429 by each of the documented budgets.
#[derive(Debug, Default, Clone, Copy)]
pub(crate) struct BudgetThrottles {
    /// Graph: writes per application and tenant.
    pub(crate) graph_app_writes: u64,
    /// Graph: writes per tenant, all applications together.
    pub(crate) graph_tenant_writes: u64,
    /// Graph: resource units per application and tenant.
    pub(crate) graph_resource_units: u64,
    /// ARM: reads, at the subscription or tenant level.
    pub(crate) arm_reads: u64,
    /// ARM: writes (PUT, PATCH, POST).
    pub(crate) arm_writes: u64,
    /// ARM: deletes.
    pub(crate) arm_deletes: u64,
}

impl BudgetThrottles {
    fn to_json(self) -> Value {
        json!({
            "graph_app_writes": self.graph_app_writes,
            "graph_tenant_writes": self.graph_tenant_writes,
            "graph_resource_units": self.graph_resource_units,
            "arm_reads": self.arm_reads,
            "arm_writes": self.arm_writes,
            "arm_deletes": self.arm_deletes,
        })
    }
}

/// Counters for `GET /_emulator/stats`: what clients asked, what was injected.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) by_kind: BTreeMap<String, u64>,
    pub(crate) faults: BTreeMap<String, u64>,
    pub(crate) requests: u64,
    /// Service writes (POST, PUT, PATCH, DELETE; not token requests), each write inside
    /// a Graph `$batch` counted on its own and the batch's own POST not at all.
    pub(crate) write_requests: u64,
    pub(crate) mutations: u64,
    pub(crate) in_flight: u64,
    pub(crate) max_in_flight: u64,
    pub(crate) app_writes_in_flight: HashMap<String, u64>,
    pub(crate) max_app_writes_in_flight: u64,
    /// Credential writes to one managed identity at once, keyed by the identity's
    /// lower-case resource id: a client that writes them one at a time keeps this at 1.
    pub(crate) identity_writes_in_flight: HashMap<String, u64>,
    pub(crate) max_identity_writes_in_flight: u64,
    /// Credential writes refused with 409 because another was in flight.
    pub(crate) concurrent_write_conflicts: u64,
    /// Requests answered 429 by a metered (documented) budget, not by fault injection.
    pub(crate) metered_throttles: u64,
    /// Of those, the ones refused by Graph's and ARM's budgets (`Budgets::Azure`), by
    /// the limit that refused them.
    pub(crate) budget_throttles: BudgetThrottles,
    /// Access tokens issued, by resource (`graph`, `arm`).
    pub(crate) tokens_issued: BTreeMap<String, u64>,
    /// For each request answered 429, when its `Retry-After` ends, keyed by method,
    /// path, query and body: the same request again before then is an early retry.
    pub(crate) retry_not_before: HashMap<String, std::time::Instant>,
    pub(crate) early_retries: u64,
    /// The first few early retries: method, path and how early.
    pub(crate) early_retry_examples: Vec<String>,
    pub(crate) honoured_retries: u64,
}

impl Stats {
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "requests": self.requests,
            "write_requests": self.write_requests,
            "mutations": self.mutations,
            "max_in_flight": self.max_in_flight,
            "max_app_writes_in_flight": self.max_app_writes_in_flight,
            "max_identity_writes_in_flight": self.max_identity_writes_in_flight,
            "concurrent_write_conflicts": self.concurrent_write_conflicts,
            "metered_throttles": self.metered_throttles,
            "budget_throttles": self.budget_throttles.to_json(),
            "by_kind": self.by_kind,
            "faults": self.faults,
            "tokens_issued": self.tokens_issued,
            "early_retries": self.early_retries,
            "early_retry_examples": self.early_retry_examples,
            "honoured_retries": self.honoured_retries,
        })
    }
}
