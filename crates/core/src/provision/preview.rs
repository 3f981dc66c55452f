//! The requests an apply makes, before anything is written: what `render requests`,
//! the page and every face show. Ids that only Azure gives (an app's object and client
//! ids, its service principal's) are placeholders, as in the other renders.

use serde::Serialize;
use serde_json::Value;

use super::endpoints::Endpoints;
use super::order::{Lanes, planned_env};
use super::request::{Body, Request};
use super::requests::{self, AppIds};
use crate::diff::Change;
use crate::error::{Error, Result};
use crate::plan::Plan;
use crate::render::esc::{EscLogin, esc_environment_yaml};

/// One request as shown: where it goes and what it carries.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ShownRequest {
    pub operation: String,
    pub method: &'static str,
    pub url: String,
    /// By name, each once (a later value wins), shown as a JSON object.
    #[serde(skip_serializing_if = "Vec::is_empty", serialize_with = "as_map")]
    pub headers: Vec<(&'static str, String)>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<Value>,
}

impl ShownRequest {
    pub fn of(request: Request, endpoints: &Endpoints) -> Self {
        Self {
            url: request.url(endpoints),
            method: request.method.as_str(),
            headers: by_name(&request.headers),
            operation: request.operation,
            body: request.body.map(|b| match b {
                Body::Json(v) => v,
                Body::Yaml(text) => Value::String(text),
                // Forms carry secrets; only their field names are shown.
                Body::Form(pairs) => {
                    Value::Array(pairs.iter().map(|(k, _)| Value::from(*k)).collect())
                }
            }),
        }
    }
}

/// `headers` sorted by name, the last of each name kept. A handful per request: a
/// sorted list, where a map would copy a B-tree into the page's module.
fn by_name(headers: &[(&'static str, String)]) -> Vec<(&'static str, String)> {
    let mut out: Vec<(&'static str, String)> = Vec::with_capacity(headers.len());
    for (name, value) in headers {
        match out.binary_search_by(|(n, _)| n.cmp(name)) {
            Ok(i) => out[i].1.clone_from(value),
            Err(i) => out.insert(i, (name, value.clone())),
        }
    }
    out
}

fn as_map<S: serde::Serializer>(
    headers: &[(&'static str, String)],
    s: S,
) -> std::result::Result<S::Ok, S::Error> {
    s.collect_map(headers.iter().map(|(n, v)| (n, v)))
}

/// Ids of an app that does not exist yet: placeholders, or the client id the caller
/// knows.
struct Known {
    ids: AppIds,
    principal: String,
}

fn known(plan: &Plan, label: &str, client_id: Option<&str>) -> Known {
    Known {
        ids: AppIds {
            id: plan
                .holder(label)
                .and_then(|a| a.identity_id())
                .unwrap_or_else(|| format!("<object-id of {label}>")),
            app_id: client_id
                .map(str::to_owned)
                .unwrap_or_else(|| format!("<client-id of {label}>")),
        },
        principal: format!("<service-principal-id of {label}>"),
    }
}

/// The requests carrying out `change` in a first apply, in order. A read an upsert
/// may need (after a 204) and an ESC environment's read before its write are left
/// out: they depend on what the service answers. A first apply only creates
/// (`diff::first_changes`), so the preview carries no code for updates and
/// deletions, which the executor alone runs.
fn change_requests(
    plan: &Plan,
    change: &Change,
    app: &Known,
    tenant: &str,
    subscription: Option<&str>,
) -> Result<Vec<Request>> {
    let label = change.app();
    let identity = plan.holder(label).and_then(|a| a.identity.as_ref());
    Ok(match change {
        Change::CreateIdentity { location, tags, .. } => {
            vec![requests::put_identity(&app.ids.id, location, tags)]
        }
        Change::CreateCredential { credential, .. } if identity.is_some() => {
            vec![requests::put_identity_credential(
                &app.ids.id,
                label,
                credential,
            )]
        }
        Change::CreateApp {
            display_name, tags, ..
        } => vec![requests::create_app(label, display_name, tags)],
        Change::CreateServicePrincipal { .. } => vec![requests::upsert_sp(&app.ids, label)],
        Change::CreateCredential { credential, .. } => {
            vec![requests::create_credential(&app.ids, label, credential)]
        }
        Change::CreateRoleAssignment {
            role,
            scope,
            role_definition_id,
            ..
        } => vec![requests::assign_role(
            scope,
            role_definition_id,
            &app.principal,
            &format!("{role} at {scope} to {label}"),
        )],
        Change::ConfigureDeploymentSettings {
            org,
            project,
            stack,
            ..
        } => {
            let azure = requests::oidc_settings(&app.ids.app_id, tenant, subscription);
            vec![requests::enable_oidc(org, project, stack, azure)]
        }
        Change::WriteEscEnvironment {
            org, project, env, ..
        } => {
            let planned = planned_env(plan, label, org, project, env);
            let mut out = vec![requests::create_env(org, project, env)];
            if let Some((target, key_vault)) = planned {
                let login = EscLogin {
                    client_id: &app.ids.app_id,
                    tenant_id: tenant,
                    subscription_id: subscription,
                };
                // A new environment's definition. The executor merges the same block into
                // whatever the environment holds by then; here nothing exists yet, and
                // leaving the YAML parser out keeps it out of the browser build.
                let yaml = esc_environment_yaml(target, &login, key_vault);
                out.push(requests::put_env(org, project, env, yaml, None));
            }
            out
        }
        Change::UpdateApp { .. }
        | Change::UpdateIdentity { .. }
        | Change::UpdateCredential { .. }
        | Change::DeleteCredential { .. }
        | Change::DeleteRoleAssignment { .. }
        | Change::DeleteIdentity { .. }
        | Change::DeleteApp { .. } => {
            return Err(Error::InvalidConfig {
                message: format!(
                    "app {label}: a first apply only creates, and this change is not a creation"
                ),
                location: None,
            });
        }
    })
}

/// The requests of a first apply (nothing exists yet), as shown: app by app in the
/// order the executor writes each app (the app, its credentials, its principal and
/// roles, then the stacks and environments that use it). `client_id` stands in for a
/// new app's client id when the caller knows it.
pub fn first_apply(
    plan: &Plan,
    endpoints: &Endpoints,
    tenant: &str,
    subscription: Option<&str>,
    client_id: Option<&str>,
) -> Result<Vec<ShownRequest>> {
    // Each app's changes, apps in the order they first appear; moved, not copied.
    let mut apps: Vec<(String, Vec<Change>)> = Vec::new();
    for c in crate::diff::first_changes(plan)? {
        match apps.iter_mut().find(|(label, _)| label == c.app()) {
            Some((_, changes)) => changes.push(c),
            None => apps.push((c.app().to_owned(), vec![c])),
        }
    }
    let mut out = Vec::new();
    for (label, changes) in apps {
        let lanes = Lanes::of(plan, changes);
        let app = known(plan, &label, client_id);
        let ordered = lanes
            .head
            .iter()
            .chain(&lanes.credentials)
            .chain(&lanes.principal)
            .chain(lanes.pulumi.iter().map(|(c, _)| c));
        for change in ordered {
            for request in change_requests(plan, change, &app, tenant, subscription)? {
                out.push(ShownRequest::of(request, endpoints));
            }
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    #[test]
    fn a_first_apply_of_identities_roles_and_environments_shows_only_creations() {
        let config = Config::from_yaml(
            "org: contoso\n\
             azure: { subscription: 0b1f6471-1bf0-4dda-aec3-cb9272f09590 }\n\
             holder: managedIdentity\n\
             managedIdentity: { resourceGroup: rg, location: westeurope }\n\
             deployments:\n  - project: core\n    stacks: [dev, prod]\n    \
             roles: [{ role: Contributor, scope: /subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590 }]\n\
             esc:\n  - project: azure\n    env: prod\n    holder: application\n    \
             keyVault: { vault: kv-contoso, secrets: [db] }\n",
        )
        .expect("config");
        let plan = crate::plan::plan(&config).expect("plan");
        let shown =
            first_apply(&plan, &Endpoints::default(), "<tenant-id>", None, None).expect("requests");
        let methods: Vec<&str> = shown.iter().map(|r| r.method).collect();
        assert!(
            methods
                .iter()
                .all(|m| matches!(*m, "PUT" | "PATCH" | "POST")),
            "{shown:#?}"
        );
        assert!(
            shown
                .iter()
                .any(|r| r.url.contains("userAssignedIdentities"))
        );
        assert!(shown.iter().any(|r| r.url.contains("roleAssignments")));
        assert!(shown.iter().any(|r| r.url.contains("/environments/")));
    }

    #[test]
    fn a_first_apply_writes_the_app_then_its_credentials_then_the_stack() {
        let config =
            Config::from_yaml("org: contoso\ndeployments:\n  - project: core\n    stacks: [dev]\n")
                .expect("config");
        let plan = crate::plan::plan(&config).expect("plan");
        let shown =
            first_apply(&plan, &Endpoints::default(), "<tenant-id>", None, None).expect("requests");
        let methods: Vec<(&str, &str)> = shown
            .iter()
            .map(|r| (r.method, r.operation.split(' ').next().unwrap_or("")))
            .collect();
        assert_eq!(methods[0], ("PATCH", "create"), "{shown:#?}");
        assert!(
            shown[0]
                .url
                .starts_with("https://graph.microsoft.com/v1.0/applications(uniqueName='")
        );
        assert_eq!(
            shown
                .iter()
                .filter(|r| r.url.contains("federatedIdentityCredentials"))
                .count(),
            4
        );
        let last = shown.last().expect("a request");
        assert_eq!(
            last.url,
            "https://api.pulumi.com/api/stacks/contoso/core/dev/deployments/settings"
        );
        assert_eq!(
            last.body
                .as_ref()
                .map(|b| b["operationContext"]["oidc"]["azure"]["tenantId"].clone()),
            Some(Value::from("<tenant-id>"))
        );
    }
}
