//! The directory objects every emulated tenant starts with: Microsoft Graph's service
//! principal, whose app roles are the application permissions an operator can be
//! granted, and one service principal per operator, which its tokens stand for (their
//! `oid`) and to which grants are made.
//!
//! Sources: microsoft-graph-docs-contrib `api-reference/v1.0/resources/serviceprincipal.md`
//! (`appRoles`, `servicePrincipalNames`, `servicePrincipalType`) and `resources/approle.md`
//! (an app role's `id`, `value`, `allowedMemberTypes`, `isEnabled`, `displayName`,
//! `description`, `origin`); Microsoft Graph's well-known application id as every
//! tenant's Graph service principal carries it.

use std::time::Instant;

use serde_json::{Map, Value, json};

use crate::authz::graph::APP_ROLES;
use crate::options::Options;
use crate::state::{Directory, ServicePrincipal};

/// Microsoft Graph's application id, the same in every tenant.
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";

/// A directory with the built-in principals of `options`' tenant.
pub(crate) fn seeded_directory(options: &Options) -> Directory {
    let mut dir = Directory::default();
    let now = Instant::now();
    let graph = graph_service_principal(now);
    dir.graph_sp_id = graph.id.clone();
    dir.service_principals.insert(graph.id.clone(), graph);
    for operator in &options.operators {
        let sp = ServicePrincipal {
            id: uuid::Uuid::new_v4().to_string(),
            app_id: operator.client_id.clone(),
            display_name: format!("pulumi-azure-oidc-emulator operator {}", operator.client_id),
            props: Map::new(),
            owners: Vec::new(),
            builtin: true,
            created: now,
        };
        dir.service_principals.insert(sp.id.clone(), sp);
    }
    dir
}

fn graph_service_principal(now: Instant) -> ServicePrincipal {
    let roles: Vec<Value> = APP_ROLES
        .iter()
        .map(|r| {
            json!({
                "allowedMemberTypes": ["Application"],
                "description": r.description,
                "displayName": r.display_name,
                "id": r.id,
                "isEnabled": true,
                "origin": "Application",
                "value": r.value,
            })
        })
        .collect();
    let mut props = Map::new();
    props.insert("appRoles".into(), Value::Array(roles));
    props.insert("appDisplayName".into(), json!("Microsoft Graph"));
    props.insert(
        "servicePrincipalNames".into(),
        json!([GRAPH_APP_ID, "https://graph.microsoft.com"]),
    );
    ServicePrincipal {
        // Random per tenant, as Graph's service principal object id is.
        id: uuid::Uuid::new_v4().to_string(),
        app_id: GRAPH_APP_ID.to_owned(),
        display_name: "Microsoft Graph".to_owned(),
        props,
        owners: Vec::new(),
        builtin: true,
        created: now,
    }
}
