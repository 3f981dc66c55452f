//! Graph-, ARM- and Pulumi-Cloud-ready JSON bodies for a plan.

use crate::plan::Plan;
use crate::target::Target;
use serde_json::{Value, json};

/// Body of `POST /api/stacks/{org}/{project}/{stack}/deployments/settings`
/// (a merge patch; `pulumi-oidc-facts.md` §3.1).
pub fn deployment_settings_body(client_id: &str, tenant_id: &str, subscription_id: &str) -> Value {
    json!({
        "operationContext": {
            "oidc": {
                "azure": {
                    "clientId": client_id,
                    "tenantId": tenant_id,
                    "subscriptionId": subscription_id,
                }
            }
        }
    })
}

/// The whole plan as request bodies, app by app.
pub fn plan_json(plan: &Plan) -> Value {
    let tenant = plan
        .azure
        .tenant
        .as_ref()
        .map(|g| g.to_string())
        .unwrap_or_else(|| "<tenant-id>".into());
    let subscription = plan
        .azure
        .subscription
        .as_ref()
        .map(|g| g.to_string())
        .unwrap_or_else(|| "<subscription-id>".into());
    let apps: Vec<Value> = plan
        .apps
        .iter()
        .map(|app| {
            let client = format!("<client-id of {}>", app.unique_name);
            let deployments: Vec<Value> = app
                .targets
                .iter()
                .filter_map(|t| match &t.target {
                    Target::Deployment(d) => Some(json!({
                        "stack": format!("{}/{}/{}", d.org, d.project, d.stack),
                        "path": format!("/api/stacks/{}/{}/{}/deployments/settings", d.org, d.project, d.stack),
                        "body": deployment_settings_body(&client, &tenant, &subscription),
                    })),
                    Target::Esc(_) => None,
                })
                .collect();
            json!({
                "uniqueName": app.unique_name,
                "reason": app.reason,
                "targets": app.targets.iter().map(|t| t.label.clone()).collect::<Vec<_>>(),
                "application": {
                    "displayName": app.display_name,
                    "signInAudience": "AzureADMyOrg",
                    "tags": app.tags,
                },
                "federatedIdentityCredentials": app.credentials.iter().map(|c| c.to_graph_body()).collect::<Vec<_>>(),
                "roleAssignments": app.roles.iter().map(|g| json!({
                    "role": g.role.name,
                    "scope": g.scope.as_str(),
                    "properties": {
                        "roleDefinitionId": g.role_definition_id(),
                        "principalId": "<service principal object id>",
                        "principalType": "ServicePrincipal",
                    }
                })).collect::<Vec<_>>(),
                "deploymentSettings": deployments,
            })
        })
        .collect();
    json!({
        "org": plan.org.as_str(),
        "issuer": plan.issuer,
        "apps": apps,
        "warnings": plan.warnings,
    })
}
