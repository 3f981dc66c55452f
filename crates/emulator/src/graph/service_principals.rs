//! Service principals: create (409 when the app has one), read, delete and upsert by
//! `appId`, and the filtered list; their app role assignments are `app_role_assignments`.
//! Creating one needs the right to manage its app (`authz::graph`), and its creator
//! owns it; the tenant's built-in principals (Microsoft Graph's, the operators') are
//! never changed or deleted.
//!
//! Sources: microsoftgraph/microsoft-graph-docs-contrib `api-reference/v1.0/api/`
//! `serviceprincipal-post-serviceprincipals.md` and `serviceprincipal-upsert.md`; the
//! duplicate's 409 body as captured in Azure/reliable-web-app-pattern-java#185; the
//! replication refusal right after the app's creation as hashicorp/terraform-provider-azuread
//! `internal/services/serviceprincipals/service_principal_resource.go` retries on it.

use std::time::Instant;

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::app_role_assignments::assignment_routes;
use super::query::{matches, page, parse_filter, unsupported_query};
use super::request::{Ctx, Handled, check_props, method_not_allowed, prefers_create};
use crate::authz::graph::denied;
use crate::http::{graph_bad_request, graph_error, graph_json, graph_no_content, graph_not_found};
use crate::state::{Directory, ServicePrincipal, sp_json};

#[derive(Debug)]
pub(super) enum SpKey {
    Id(String),
    AppId(String),
}

pub(super) fn sp_routes(ctx: &Ctx<'_>, dir: &mut Directory, key: SpKey, tail: &[&str]) -> Handled {
    let req = ctx.req;
    let text = match &key {
        SpKey::Id(v) | SpKey::AppId(v) => v.clone(),
    };
    let found = dir
        .service_principals
        .values()
        .find(|s| match &key {
            SpKey::Id(v) => &s.id == v,
            SpKey::AppId(v) => s.app_id.eq_ignore_ascii_case(v),
        })
        .map(|s| (s.id.clone(), s.replicated(ctx.lag)));
    if !tail.is_empty() {
        return match found.filter(|(_, seen)| *seen) {
            Some((id, _)) => assignment_routes(ctx, dir, &id, tail),
            None => ("graph.servicePrincipals.get", graph_not_found(req, &text)),
        };
    }
    // Changing or deleting one needs the right to manage it; the built-in ones are
    // nobody's to change.
    let may_manage = |dir: &Directory, id: &str| {
        dir.service_principals
            .get(id)
            .is_some_and(|sp| !sp.builtin && ctx.judge().may_manage_sp(sp, dir))
    };
    match req.method {
        Method::GET => match found.filter(|(_, seen)| *seen) {
            Some((id, _)) => (
                "graph.servicePrincipals.get",
                sp_response(ctx, &dir.service_principals[&id], StatusCode::OK),
            ),
            None => ("graph.servicePrincipals.get", graph_not_found(req, &text)),
        },
        Method::DELETE => match found.filter(|(_, seen)| *seen) {
            Some((id, _)) => {
                if !may_manage(dir, &id) {
                    return ("graph.servicePrincipals.delete", denied(req));
                }
                dir.service_principals.remove(&id);
                dir.forget_principal(&id);
                ctx.shared.mutated();
                ("graph.servicePrincipals.delete", graph_no_content(req))
            }
            None => (
                "graph.servicePrincipals.delete",
                graph_not_found(req, &text),
            ),
        },
        Method::PATCH => {
            let body = match req.json_body() {
                Ok(b) => b,
                Err(m) => return ("graph.servicePrincipals.upsert", graph_bad_request(req, &m)),
            };
            if let Err(r) = check_props(req, &body, SP_PROPS, "servicePrincipal") {
                return ("graph.servicePrincipals.upsert", r);
            }
            match (found, &key) {
                (Some((id, _)), _) => {
                    if !may_manage(dir, &id) {
                        return ("graph.servicePrincipals.upsert", denied(req));
                    }
                    if let Some(sp) = dir.service_principals.get_mut(&id) {
                        let mut changed = false;
                        for (k, v) in body {
                            if k != "appId" && sp.props.get(&k) != Some(&v) {
                                sp.props.insert(k, v);
                                changed = true;
                            }
                        }
                        if changed {
                            ctx.shared.mutated();
                        }
                    }
                    ("graph.servicePrincipals.upsert", graph_no_content(req))
                }
                (None, SpKey::AppId(app_id)) if prefers_create(req) => (
                    "graph.servicePrincipals.upsert",
                    insert_sp(ctx, dir, app_id, body),
                ),
                (None, _) => (
                    "graph.servicePrincipals.upsert",
                    graph_not_found(req, &text),
                ),
            }
        }
        _ => ("graph.method", method_not_allowed(req)),
    }
}

const SP_PROPS: &[&str] = &[
    "appId",
    "tags",
    "notes",
    "description",
    "accountEnabled",
    "appRoleAssignmentRequired",
];

fn sp_response(ctx: &Ctx<'_>, sp: &ServicePrincipal, status: StatusCode) -> Response {
    let mut body = sp_json(sp);
    body["@odata.context"] = json!(format!(
        "{}/v1.0/$metadata#servicePrincipals/$entity",
        ctx.base
    ));
    graph_json(ctx.req, status, &body)
}

pub(super) fn create_sp(ctx: &Ctx<'_>, dir: &mut Directory) -> Response {
    let req = ctx.req;
    let body = match req.json_body() {
        Ok(b) => b,
        Err(m) => return graph_bad_request(req, &m),
    };
    if let Err(r) = check_props(req, &body, SP_PROPS, "servicePrincipal") {
        return r;
    }
    let Some(app_id) = body.get("appId").and_then(Value::as_str).map(str::to_owned) else {
        return graph_bad_request(req, "Property 'appId' is required.");
    };
    if let Some(app) = dir.app_by_app_id(&app_id)
        && !ctx.judge().may_create_sp_for(app)
    {
        return denied(req);
    }
    if dir.sp_by_app_id(&app_id).is_some() {
        // The body captured in Azure/reliable-web-app-pattern-java#185.
        return graph_error(
            req,
            StatusCode::CONFLICT,
            "Request_MultipleObjectsWithSameKeyValue",
            &format!(
                "The service principal cannot be created, updated, or restored because the service principal name {app_id} is already in use."
            ),
        );
    }
    insert_sp(ctx, dir, &app_id, body)
}

fn insert_sp(
    ctx: &Ctx<'_>,
    dir: &mut Directory,
    app_id: &str,
    mut body: Map<String, Value>,
) -> Response {
    let req = ctx.req;
    // Right after the app is created, the service principal's write does not see it
    // yet: the replication error Terraform's azuread provider retries on.
    let Some(app) = dir.app_by_app_id(app_id).filter(|a| ctx.visible(a.created)) else {
        return graph_bad_request(
            req,
            &format!(
                "The appId '{app_id}' of the service principal does not reference a valid application object."
            ),
        );
    };
    if !ctx.judge().may_create_sp_for(app) {
        return denied(req);
    }
    body.remove("appId");
    let sp = ServicePrincipal {
        id: uuid::Uuid::new_v4().to_string(),
        app_id: app_id.to_owned(),
        display_name: app
            .props
            .get("displayName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        props: body,
        // "the caller also owns the new principal" (permissions-reference.md: OwnedBy
        // manages the service principals it creates).
        owners: vec![ctx.grant.object_id.clone()],
        builtin: false,
        created: Instant::now(),
    };
    let resp = sp_response(ctx, &sp, StatusCode::CREATED);
    dir.service_principals.insert(sp.id.clone(), sp);
    ctx.shared.mutated();
    resp
}

pub(super) fn list_sps(ctx: &Ctx<'_>, dir: &Directory) -> Response {
    let clauses = match ctx.req.query("$filter") {
        None => Vec::new(),
        // `servicePrincipalNames/any(c:c eq '…')` is how the Azure CLI resolves
        // `az ad sp show/delete --id` (`_resolve_service_principal` in Azure/azure-cli
        // `src/azure-cli/azure/cli/command_modules/role/custom.py`); the property supports
        // `$filter` with `any` (microsoft-graph-docs-contrib
        // `api-reference/v1.0/resources/serviceprincipal.md`).
        Some(f) => {
            match parse_filter(f, &["appId", "displayName", "id", "servicePrincipalNames"]) {
                Some(c) => c,
                None => return unsupported_query(ctx.req),
            }
        }
    };
    let items = dir
        .service_principals
        .values()
        .filter(|s| clauses.is_empty() || s.replicated(ctx.lag))
        .map(sp_json)
        .filter(|v| matches(&clauses, v))
        .collect();
    page(ctx, "servicePrincipals", items)
}
