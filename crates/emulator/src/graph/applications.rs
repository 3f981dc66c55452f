//! Applications: create, read, update and delete by object id, `appId` or
//! `uniqueName`, the `uniqueName` upsert, and the filtered list; each write judged by
//! the caller's app roles and, for `Application.ReadWrite.OwnedBy`, its ownership of the
//! app (`authz::graph`). Whoever creates an app becomes its owner.
//!
//! Sources: microsoftgraph/microsoft-graph-docs-contrib `api-reference/v1.0/api/`
//! `application-post-applications.md` ("The request body must contain displayName"),
//! `application-upsert.md` (201 created, 204 updated, 404 without
//! `Prefer: create-if-missing`), `application-list.md` (filterable properties; `$filter`
//! reads are eventually consistent).

use std::time::Instant;

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::credentials::{create_credential, credential_routes, list_credentials};
use super::owners::owner_routes;
use super::query::{matches, page, parse_filter, unsupported_query};
use super::request::{Ctx, Handled, check_props, method_not_allowed, parse_key, prefers_create};
use crate::authz::graph::denied;
use crate::http::{
    Req, graph_bad_request, graph_error, graph_json, graph_no_content, graph_not_found, now_rfc3339,
};
use crate::state::{Application, Directory, app_json};

#[derive(Debug)]
pub(super) enum AppKey {
    Id(String),
    AppId(String),
    UniqueName(String),
}

impl AppKey {
    fn text(&self) -> &str {
        match self {
            AppKey::Id(v) | AppKey::AppId(v) | AppKey::UniqueName(v) => v,
        }
    }
    fn find(&self, dir: &Directory) -> Option<String> {
        dir.applications
            .values()
            .find(|a| match self {
                AppKey::Id(v) => &a.id == v,
                AppKey::AppId(v) => &a.app_id == v,
                AppKey::UniqueName(v) => a.unique_name.as_deref() == Some(v.as_str()),
            })
            .map(|a| a.id.clone())
    }
}

/// The app's object id, if it exists and has replicated to the reader.
pub(super) fn resolve_app(ctx: &Ctx<'_>, dir: &Directory, key: &AppKey) -> Option<String> {
    let id = key.find(dir)?;
    let app = dir.applications.get(&id)?;
    ctx.visible(app.created).then_some(id)
}

pub(super) fn app_routes(
    ctx: &Ctx<'_>,
    dir: &mut Directory,
    key: AppKey,
    tail: &[&str],
) -> Handled {
    let req = ctx.req;
    match tail {
        [] => match req.method {
            Method::GET => match resolve_app(ctx, dir, &key) {
                Some(id) => (
                    "graph.applications.get",
                    app_response(ctx, &dir.applications[&id], StatusCode::OK),
                ),
                None => ("graph.applications.get", graph_not_found(req, key.text())),
            },
            Method::PATCH => {
                let upsert = matches!(key, AppKey::UniqueName(_));
                let kind = if upsert {
                    "graph.applications.upsert"
                } else {
                    "graph.applications.update"
                };
                (kind, patch_app(ctx, dir, &key))
            }
            Method::DELETE => match resolve_app(ctx, dir, &key) {
                Some(id) => {
                    if !may_manage(ctx, dir, &id) {
                        return ("graph.applications.delete", denied(req));
                    }
                    if let Some(app) = dir.applications.remove(&id) {
                        // The home-tenant service principal goes with its app, and with
                        // it its grants and ownerships.
                        let principals: Vec<String> = dir
                            .service_principals
                            .values()
                            .filter(|sp| sp.app_id == app.app_id && !sp.builtin)
                            .map(|sp| sp.id.clone())
                            .collect();
                        for principal in principals {
                            dir.service_principals.remove(&principal);
                            dir.forget_principal(&principal);
                        }
                    }
                    ctx.shared.mutated();
                    ("graph.applications.delete", graph_no_content(req))
                }
                None => (
                    "graph.applications.delete",
                    graph_not_found(req, key.text()),
                ),
            },
            _ => ("graph.method", method_not_allowed(req)),
        },
        ["owners", rest @ ..] => {
            let Some(app_id) = resolve_app(ctx, dir, &key) else {
                return (
                    "graph.owners.parent_missing",
                    graph_not_found(req, key.text()),
                );
            };
            owner_routes(ctx, dir, &app_id, rest)
        }
        ["federatedIdentityCredentials"] => {
            let Some(app_id) = resolve_app(ctx, dir, &key) else {
                return ("graph.fic.parent_missing", graph_not_found(req, key.text()));
            };
            if req.is_write() && !may_manage(ctx, dir, &app_id) {
                return ("graph.fic.create", denied(req));
            }
            match req.method {
                Method::GET => (
                    "graph.fic.list",
                    list_credentials(ctx, &dir.applications[&app_id]),
                ),
                Method::POST => (
                    "graph.fic.create",
                    create_credential(ctx, dir, &app_id, None),
                ),
                _ => ("graph.method", method_not_allowed(req)),
            }
        }
        [seg] if seg.starts_with("federatedIdentityCredentials(") => {
            let Some(app_id) = resolve_app(ctx, dir, &key) else {
                return ("graph.fic.parent_missing", graph_not_found(req, key.text()));
            };
            let Some((k, name)) =
                parse_key(seg, "federatedIdentityCredentials").filter(|(k, _)| k == "name")
            else {
                return (
                    "graph.bad_key",
                    graph_bad_request(req, &format!("Invalid key segment '{seg}'.")),
                );
            };
            let _ = k;
            if req.is_write() && !may_manage(ctx, dir, &app_id) {
                return ("graph.fic.write", denied(req));
            }
            credential_routes(ctx, dir, &app_id, &name, true)
        }
        ["federatedIdentityCredentials", id_or_name] => {
            let Some(app_id) = resolve_app(ctx, dir, &key) else {
                return ("graph.fic.parent_missing", graph_not_found(req, key.text()));
            };
            if req.is_write() && !may_manage(ctx, dir, &app_id) {
                return ("graph.fic.write", denied(req));
            }
            credential_routes(ctx, dir, &app_id, id_or_name, false)
        }
        _ => (
            "graph.unknown",
            graph_bad_request(req, "Unsupported segment."),
        ),
    }
}

/// Whether the caller may change or delete the app with object id `id`.
fn may_manage(ctx: &Ctx<'_>, dir: &Directory, id: &str) -> bool {
    dir.applications
        .get(id)
        .is_some_and(|app| ctx.judge().may_manage_app(app))
}

fn app_response(ctx: &Ctx<'_>, app: &Application, status: StatusCode) -> Response {
    let mut body = app_json(app);
    body["@odata.context"] = json!(format!("{}/v1.0/$metadata#applications/$entity", ctx.base));
    graph_json(ctx.req, status, &body)
}

/// Properties a client may send for an application; Graph refuses undeclared ones.
const APP_PROPS: &[&str] = &[
    "displayName",
    "uniqueName",
    "signInAudience",
    "tags",
    "notes",
    "description",
    "identifierUris",
    "web",
    "api",
    "requiredResourceAccess",
    "serviceManagementReference",
    // The Azure CLI sends `"keyCredentials": []` with every `az ad app create` (Azure/azure-cli
    // `src/azure-cli/azure/cli/command_modules/role/tests/latest/recordings/test_app_federated_credential.yaml`),
    // and Graph takes it: `keyCredentials` is a declared property of the application
    // (microsoft-graph-docs-contrib `api-reference/v1.0/resources/application.md`).
    "keyCredentials",
];
const SIGN_IN_AUDIENCES: &[&str] = &[
    "AzureADMyOrg",
    "AzureADMultipleOrgs",
    "AzureADandPersonalMicrosoftAccount",
    "PersonalMicrosoftAccount",
];

fn check_app_body(req: &Req, body: &Map<String, Value>) -> Result<(), Response> {
    check_props(req, body, APP_PROPS, "application")?;
    if let Some(v) = body.get("displayName")
        && (!v.is_string()
            || v.as_str()
                .is_some_and(|s| s.trim().is_empty() || s.chars().count() > 256))
    {
        return Err(graph_bad_request(
            req,
            "Invalid value specified for property 'displayName' of resource 'Application'.",
        ));
    }
    if let Some(v) = body.get("signInAudience")
        && !v.as_str().is_some_and(|s| SIGN_IN_AUDIENCES.contains(&s))
    {
        return Err(graph_bad_request(
            req,
            "Invalid value specified for property 'signInAudience' of resource 'Application'.",
        ));
    }
    if let Some(v) = body.get("tags") {
        let ok = v
            .as_array()
            .is_some_and(|a| a.iter().all(|t| t.as_str().is_some_and(|s| s.len() <= 256)));
        if !ok {
            return Err(graph_bad_request(
                req,
                "Invalid value specified for property 'tags' of resource 'Application'.",
            ));
        }
    }
    if let Some(v) = body.get("keyCredentials")
        && !v.is_array()
    {
        return Err(graph_bad_request(
            req,
            "Invalid value specified for property 'keyCredentials' of resource 'Application'.",
        ));
    }
    if let Some(v) = body.get("notes")
        && !(v.is_null() || v.as_str().is_some_and(|s| s.len() <= 1024))
    {
        return Err(graph_bad_request(
            req,
            "Invalid value specified for property 'notes' of resource 'Application'.",
        ));
    }
    if let Some(v) = body.get("uniqueName")
        && !v.as_str().is_some_and(|s| !s.is_empty() && s.len() <= 128)
    {
        return Err(graph_bad_request(
            req,
            "Invalid value specified for property 'uniqueName' of resource 'Application'.",
        ));
    }
    Ok(())
}

pub(super) fn create_app(
    ctx: &Ctx<'_>,
    dir: &mut Directory,
    unique_name: Option<String>,
) -> Response {
    let req = ctx.req;
    if !ctx.judge().may_create_app() {
        return denied(req);
    }
    let mut body = match req.json_body() {
        Ok(b) => b,
        Err(m) => return graph_bad_request(req, &m),
    };
    if let Err(r) = check_app_body(req, &body) {
        return r;
    }
    // "The request body must contain displayName".
    if !body.contains_key("displayName") {
        return graph_bad_request(req, "Property 'displayName' is required.");
    }
    let unique = match (unique_name, body.remove("uniqueName")) {
        (Some(key), Some(v)) if v.as_str() != Some(key.as_str()) => {
            return graph_bad_request(req, "The uniqueName in the body does not match the key.");
        }
        (Some(key), _) => Some(key),
        (None, Some(v)) => v.as_str().map(str::to_owned),
        (None, None) => None,
    };
    if let Some(u) = &unique
        && dir
            .applications
            .values()
            .any(|a| a.unique_name.as_deref() == Some(u))
    {
        return graph_error(
            req,
            StatusCode::CONFLICT,
            "Request_MultipleObjectsWithSameKeyValue",
            &format!(
                "Another object with the same value for property uniqueName already exists: '{u}'."
            ),
        );
    }
    let app = Application {
        id: uuid::Uuid::new_v4().to_string(),
        app_id: uuid::Uuid::new_v4().to_string(),
        unique_name: unique,
        created_at: now_rfc3339(),
        props: body,
        credentials: Vec::new(),
        // An app created by an app-only caller is owned by the caller's service
        // principal (permissions-reference.md: `Application.ReadWrite.OwnedBy` "manage[s]
        // apps that this app creates or owns").
        owners: vec![ctx.grant.object_id.clone()],
        created: Instant::now(),
    };
    let resp = app_response(ctx, &app, StatusCode::CREATED);
    dir.applications.insert(app.id.clone(), app);
    ctx.shared.mutated();
    resp
}

/// `PATCH /applications/{id}` updates; `PATCH /applications(uniqueName='…')` with
/// `Prefer: create-if-missing` is the documented upsert.
fn patch_app(ctx: &Ctx<'_>, dir: &mut Directory, key: &AppKey) -> Response {
    let req = ctx.req;
    let create_if_missing = prefers_create(req);
    // Writes by alternate key are strongly consistent: an upsert never creates a
    // second app with the same uniqueName, however fresh the first one is.
    let existing = match key {
        AppKey::UniqueName(_) => key.find(dir),
        _ => resolve_app(ctx, dir, key),
    };
    let Some(id) = existing else {
        return match (key, create_if_missing) {
            (AppKey::UniqueName(u), true) => create_app(ctx, dir, Some(u.clone())),
            _ => graph_not_found(req, key.text()),
        };
    };
    if !may_manage(ctx, dir, &id) {
        return denied(req);
    }
    let body = match req.json_body() {
        Ok(b) => b,
        Err(m) => return graph_bad_request(req, &m),
    };
    if let Err(r) = check_app_body(req, &body) {
        return r;
    }
    let Some(app) = dir.applications.get_mut(&id) else {
        return graph_not_found(req, key.text());
    };
    if let Some(u) = body.get("uniqueName")
        && u.as_str() != app.unique_name.as_deref()
    {
        return graph_bad_request(
            req,
            "Property 'uniqueName' is read-only and cannot be changed.",
        );
    }
    let mut changed = false;
    for (k, v) in body {
        if k == "uniqueName" || k.starts_with("@odata.") {
            continue;
        }
        if app.props.get(&k) != Some(&v) {
            app.props.insert(k, v);
            changed = true;
        }
    }
    if changed {
        ctx.shared.mutated();
    }
    graph_no_content(req)
}

pub(super) fn list_apps(ctx: &Ctx<'_>, dir: &Directory) -> Response {
    let clauses = match ctx.req.query("$filter") {
        None => Vec::new(),
        Some(f) => match parse_filter(
            f,
            &[
                "displayName",
                "appId",
                "uniqueName",
                "signInAudience",
                "id",
                "tags",
            ],
        ) {
            Some(c) => c,
            None => return unsupported_query(ctx.req),
        },
    };
    // $filter reads are eventually consistent: a fresh app is missing.
    let items = dir
        .applications
        .values()
        .filter(|a| clauses.is_empty() || ctx.visible(a.created))
        .map(app_json)
        .filter(|v| matches(&clauses, v))
        .collect();
    page(ctx, "applications", items)
}
