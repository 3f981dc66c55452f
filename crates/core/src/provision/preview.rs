//! The requests an apply makes, before anything is written: what `render requests`,
//! the page and every face show. Ids that only Azure gives (an app's object and client
//! ids, its service principal's) are placeholders, as in the other renders.

use serde::Serialize;
use serde_json::Value;

use super::endpoints::Endpoints;
use super::order::{Lanes, ids_of, planned_env};
use super::reports::Live;
use super::request::{Body, Request};
use super::requests::{self, AppIds};
use crate::diff::{Change, DiffOptions, ObservedState};
use crate::error::Result;
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
    pub fn of(request: &Request, endpoints: &Endpoints) -> Self {
        Self {
            operation: request.operation.clone(),
            method: request.method.as_str(),
            url: request.url(endpoints),
            headers: by_name(&request.headers),
            body: request.body.as_ref().map(|b| match b {
                Body::Json(v) => v.clone(),
                Body::Yaml(text) => Value::String(text.clone()),
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

/// Ids of an app as far as they are known: from the live state, else placeholders.
struct Known {
    ids: AppIds,
    principal: String,
}

fn known(plan: &Plan, live: &Live, label: &str, client_id: Option<&str>) -> Known {
    match live.app(label) {
        Some(app) => Known {
            ids: ids_of(app),
            principal: app
                .service_principal_id
                .clone()
                .unwrap_or_else(|| format!("<service-principal-id of {label}>")),
        },
        None => Known {
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
        },
    }
}

/// The requests carrying out `change`, in order. A read an upsert may need (after
/// a 204) and an ESC environment's read before its write are left out: they depend
/// on what the service answers.
fn change_requests(
    plan: &Plan,
    live: &Live,
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
        Change::UpdateIdentity { tags, .. } => {
            let live_tags = live.app(label).map(|a| a.tags.clone()).unwrap_or_default();
            vec![requests::patch_identity_tags(&app.ids.id, &live_tags, tags)]
        }
        Change::DeleteIdentity { id, .. } => {
            let mut out = Vec::new();
            if let Some(found) = live.app(label)
                && let Some(principal) = &found.service_principal_id
            {
                for ra in found
                    .role_assignments
                    .iter()
                    .filter(|r| r.principal_id.eq_ignore_ascii_case(principal))
                {
                    out.push(requests::delete_role_assignment(
                        &ra.scope,
                        &ra.name,
                        &format!("role assignment {} from {label}", ra.name),
                    ));
                }
            }
            out.push(requests::delete_identity(id));
            out
        }
        Change::DeleteCredential { name, .. } if identity.is_some() => {
            vec![requests::delete_identity_credential(
                &app.ids.id,
                label,
                name,
            )]
        }
        Change::UpdateCredential { credential, .. }
        | Change::CreateCredential { credential, .. }
            if identity.is_some() =>
        {
            vec![requests::put_identity_credential(
                &app.ids.id,
                label,
                credential,
            )]
        }
        Change::CreateApp {
            display_name, tags, ..
        } => vec![requests::create_app(label, display_name, tags)],
        Change::UpdateApp {
            display_name, tags, ..
        } => {
            let live_tags = live.app(label).map(|a| a.tags.clone()).unwrap_or_default();
            vec![requests::update_app_fields(
                &app.ids,
                label,
                display_name,
                &live_tags,
                tags,
            )]
        }
        Change::CreateServicePrincipal { .. } => vec![requests::upsert_sp(&app.ids, label)],
        Change::DeleteCredential { name, .. } => {
            vec![requests::delete_credential(&app.ids, label, name)]
        }
        Change::UpdateCredential { credential, .. } => {
            vec![requests::update_credential_fields(
                &app.ids, label, credential,
            )]
        }
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
        Change::DeleteRoleAssignment { name, scope, .. } => vec![requests::delete_role_assignment(
            scope,
            name,
            &format!("role assignment {name} at {scope} from {label}"),
        )],
        Change::ConfigureDeploymentSettings {
            org,
            project,
            stack,
            ..
        } => {
            let azure = requests::oidc_settings(&app.ids.app_id, tenant, subscription);
            vec![requests::enable_oidc(org, project, stack, &azure)]
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
        Change::DeleteApp { .. } => match live.app(label) {
            Some(found) => {
                let mut out = Vec::new();
                if let Some(sp) = &found.service_principal_id {
                    for ra in found
                        .role_assignments
                        .iter()
                        .filter(|r| r.principal_id.eq_ignore_ascii_case(sp))
                    {
                        out.push(requests::delete_role_assignment(
                            &ra.scope,
                            &ra.name,
                            &format!("role assignment {} from {label}", ra.name),
                        ));
                    }
                    out.push(requests::delete_sp(sp, label));
                }
                out.push(requests::delete_app(&ids_of(found), label));
                out
            }
            None => Vec::new(),
        },
    })
}

/// The requests that make `live` match `plan`, app by app in the order the executor
/// writes each app (the app, its credentials, its principal and roles, then the
/// stacks and environments that use it). `client_id` stands in for a new app's
/// client id when the caller knows it.
pub fn apply_requests(
    plan: &Plan,
    live: &Live,
    tenant: &str,
    subscription: Option<&str>,
    client_id: Option<&str>,
) -> Result<Vec<Request>> {
    let diff = crate::diff::diff(plan, &live.state, DiffOptions::default())?;
    // Each app's changes, apps in the order they first appear; moved, not copied.
    let mut apps: Vec<(String, Vec<Change>)> = Vec::new();
    for c in diff.changes {
        match apps.iter_mut().find(|(label, _)| label == c.app()) {
            Some((_, changes)) => changes.push(c),
            None => apps.push((c.app().to_owned(), vec![c])),
        }
    }
    let mut out = Vec::new();
    for (label, changes) in apps {
        let label = label.as_str();
        let lanes = Lanes::of(plan, changes);
        let app = known(plan, live, label, client_id);
        let ordered = lanes
            .head
            .iter()
            .chain(&lanes.credentials)
            .chain(&lanes.principal)
            .chain(lanes.pulumi.iter().map(|(c, _)| c));
        for change in ordered {
            out.extend(change_requests(
                plan,
                live,
                change,
                &app,
                tenant,
                subscription,
            )?);
        }
    }
    Ok(out)
}

/// The requests of a first apply (nothing exists yet), as shown.
pub fn first_apply(
    plan: &Plan,
    endpoints: &Endpoints,
    tenant: &str,
    subscription: Option<&str>,
    client_id: Option<&str>,
) -> Result<Vec<ShownRequest>> {
    let live = Live {
        state: ObservedState::default(),
    };
    Ok(
        apply_requests(plan, &live, tenant, subscription, client_id)?
            .iter()
            .map(|r| ShownRequest::of(r, endpoints))
            .collect(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

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
