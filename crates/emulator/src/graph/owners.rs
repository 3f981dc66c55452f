//! An application's owners: list them, add one by reference, remove one. Owners here
//! are service principals (the directory holds no users or groups).
//!
//! Sources: microsoftgraph/microsoft-graph-docs-contrib `api-reference/v1.0/api/`
//! `application-list-owners.md` (`GET /applications/{id}/owners`, a collection of
//! `directoryObject`s, OData query parameters), `application-post-owners.md`
//! (`POST …/owners/$ref` with `{"@odata.id": "https://graph.microsoft.com/v1.0/directoryObjects/{id}"}`,
//! 204; `Application.ReadWrite.OwnedBy` is not enough), `application-delete-owners.md`
//! (`DELETE …/owners/{id}/$ref`, 204; `Application.ReadWrite.OwnedBy` suffices, on an app
//! the caller owns). msgraph-sdk's `owners.ref.delete` sends the other form,
//! `…/owners/$ref?$id=<directoryObject URL>` (its `applications/item/owners/ref`
//! request builder). What the Azure CLI sends: `application_owner_list`,
//! `application_owner_add`, `application_owner_remove` and `_build_directory_object_json`
//! in Azure/azure-cli `src/azure-cli/azure/cli/command_modules/role/` (`_msgrpah/_graph_client.py`,
//! `custom.py`), whose comment also records Graph's answer to an owner added twice:
//! "One or more added object references already exist for the following modified
//! properties: 'owners'".

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::request::{Ctx, Handled, method_not_allowed};
use crate::authz::graph::denied;
use crate::authz::same_object;
use crate::http::{graph_bad_request, graph_json, graph_no_content, graph_not_found};
use crate::state::{Directory, sp_json};

pub(super) fn owner_routes(
    ctx: &Ctx<'_>,
    dir: &mut Directory,
    app_id: &str,
    rest: &[&str],
) -> Handled {
    let req = ctx.req;
    match (rest, &req.method) {
        ([], &Method::GET) => ("graph.owners.list", list(ctx, dir, app_id)),
        (["$ref"], &Method::POST) => ("graph.owners.add", add(ctx, dir, app_id)),
        ([owner, "$ref"], &Method::DELETE) => {
            ("graph.owners.remove", remove(ctx, dir, app_id, owner))
        }
        // The other documented form: `DELETE …/owners/$ref?$id=<directoryObject URL>`.
        (["$ref"], &Method::DELETE) => {
            match req.query("$id").and_then(referenced_id).map(str::to_owned) {
                Some(owner) => ("graph.owners.remove", remove(ctx, dir, app_id, &owner)),
                None => (
                    "graph.owners.remove",
                    graph_bad_request(
                        req,
                        "The '$id' query parameter must name a directory object.",
                    ),
                ),
            }
        }
        ([] | ["$ref"] | [_, "$ref"], _) => ("graph.method", method_not_allowed(req)),
        _ => (
            "graph.unknown",
            graph_bad_request(req, "Unsupported segment."),
        ),
    }
}

/// The owners as `directoryObject`s with their type; `$select` keeps the named
/// properties (and the type annotation, which Graph always writes for a derived type).
fn list(ctx: &Ctx<'_>, dir: &Directory, app_id: &str) -> Response {
    let Some(app) = dir.applications.get(app_id) else {
        return graph_not_found(ctx.req, app_id);
    };
    let select: Option<Vec<String>> = ctx.req.query("$select").map(|s| {
        s.split(',')
            .map(|p| p.trim().to_owned())
            .filter(|p| !p.is_empty())
            .collect()
    });
    let value: Vec<Value> = app
        .owners
        .iter()
        .filter_map(|owner| {
            dir.service_principals
                .values()
                .find(|sp| same_object(&sp.id, owner))
        })
        .map(|sp| {
            let mut full = sp_json(sp);
            full["@odata.type"] = json!("#microsoft.graph.servicePrincipal");
            match (&select, full) {
                (Some(keep), Value::Object(all)) => Value::Object(
                    all.into_iter()
                        .filter(|(k, _)| k == "@odata.type" || keep.iter().any(|s| s == k))
                        .collect::<Map<String, Value>>(),
                ),
                (_, full) => full,
            }
        })
        .collect();
    let body = json!({
        "@odata.context": format!("{}/v1.0/$metadata#directoryObjects", ctx.base),
        "value": value,
    });
    graph_json(ctx.req, StatusCode::OK, &body)
}

/// The object id an `@odata.id` reference names: its last path segment, whatever host
/// it was written with (the Azure CLI writes the cloud's Graph endpoint).
fn referenced_id(reference: &str) -> Option<&str> {
    let path = reference.split(['?', '#']).next()?;
    let (before, id) = path.trim_end_matches('/').rsplit_once('/')?;
    before
        .to_ascii_lowercase()
        .ends_with("/directoryobjects")
        .then_some(id)
        .filter(|id| !id.is_empty())
}

fn add(ctx: &Ctx<'_>, dir: &mut Directory, app_id: &str) -> Response {
    let req = ctx.req;
    if !ctx.judge().may_add_owners() {
        return denied(req);
    }
    let body = match req.json_body() {
        Ok(b) => b,
        Err(m) => return graph_bad_request(req, &m),
    };
    let Some(owner) = body
        .get("@odata.id")
        .and_then(Value::as_str)
        .and_then(referenced_id)
        .map(str::to_owned)
    else {
        // ASSUMPTION: the wording; a reference is required.
        return graph_bad_request(
            req,
            "The request body must contain an '@odata.id' naming a directory object.",
        );
    };
    let Some(found) = dir
        .service_principals
        .values()
        .find(|sp| same_object(&sp.id, &owner))
        .map(|sp| sp.id.clone())
    else {
        return graph_not_found(req, &owner);
    };
    let Some(app) = dir.applications.get_mut(app_id) else {
        return graph_not_found(req, app_id);
    };
    if app.owners.iter().any(|o| same_object(o, &found)) {
        return graph_bad_request(
            req,
            "One or more added object references already exist for the following modified properties: 'owners'.",
        );
    }
    app.owners.push(found);
    ctx.shared.mutated();
    graph_no_content(req)
}

fn remove(ctx: &Ctx<'_>, dir: &mut Directory, app_id: &str, owner: &str) -> Response {
    let req = ctx.req;
    let Some(app) = dir.applications.get_mut(app_id) else {
        return graph_not_found(req, app_id);
    };
    // Unlike adding one, removing an owner is within `Application.ReadWrite.OwnedBy`'s
    // reach on an app the caller owns (application-delete-owners.md).
    if !ctx.judge().may_manage_app(app) {
        return denied(req);
    }
    let before = app.owners.len();
    app.owners.retain(|o| !same_object(o, owner));
    if app.owners.len() == before {
        return graph_not_found(req, owner);
    }
    ctx.shared.mutated();
    graph_no_content(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn references_name_their_object() {
        assert_eq!(
            referenced_id("https://graph.microsoft.com/v1.0/directoryObjects/abc"),
            Some("abc")
        );
        assert_eq!(
            referenced_id("https://127.0.0.1:9/v1.0/directoryObjects/abc/"),
            Some("abc")
        );
        assert_eq!(
            referenced_id("https://graph.microsoft.com/v1.0/users/abc"),
            None
        );
        assert_eq!(referenced_id("abc"), None);
    }
}
