//! App role assignments: granting an app role of a resource service principal (here
//! Microsoft Graph's, whose app roles are the application permissions) to a principal,
//! from either side, listing them, and revoking one.
//!
//! Sources: microsoftgraph/microsoft-graph-docs-contrib `api-reference/v1.0/api/`
//! `serviceprincipal-post-approleassignedto.md` (`POST /servicePrincipals/{resource}/appRoleAssignedTo`
//! with `principalId`, `resourceId`, `appRoleId`; 201 with the `appRoleAssignment`; its
//! sample's `id`, 43 base64url characters whose first 16 bytes are the principal's
//! GUID), `serviceprincipal-post-approleassignments.md` (the same from the principal's
//! side), `serviceprincipal-list-approleassignedto.md`,
//! `serviceprincipal-list-approleassignments.md`, `serviceprincipal-delete-approleassignedto.md`
//! (204); the permission they need is judged by `authz::graph`. A new assignment
//! reaches the principal's next token (`roles`), not the ones it holds.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use base64::Engine;
use serde_json::{Value, json};

use super::request::{Ctx, Handled, method_not_allowed};
use crate::authz::graph::denied;
use crate::authz::same_object;
use crate::http::{
    graph_bad_request, graph_error, graph_json, graph_no_content, graph_not_found, now_rfc3339,
};
use crate::state::{AppRoleAssignment, Directory, app_role_assignment_json};

/// Which side of the assignment the path's service principal is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Side {
    /// `…/appRoleAssignedTo`: the path names the resource.
    Resource,
    /// `…/appRoleAssignments`: the path names the principal.
    Principal,
}

impl Side {
    fn segment(self) -> &'static str {
        match self {
            Side::Resource => "appRoleAssignedTo",
            Side::Principal => "appRoleAssignments",
        }
    }

    fn holds(self, a: &AppRoleAssignment, sp: &str) -> bool {
        match self {
            Side::Resource => same_object(&a.resource_id, sp),
            Side::Principal => same_object(&a.principal_id, sp),
        }
    }
}

/// Routes under `/servicePrincipals/{sp}/…` for the service principal with object id
/// `sp` (already found and replicated).
pub(super) fn assignment_routes(
    ctx: &Ctx<'_>,
    dir: &mut Directory,
    sp: &str,
    tail: &[&str],
) -> Handled {
    let req = ctx.req;
    let side = match tail.first() {
        Some(&"appRoleAssignedTo") => Side::Resource,
        Some(&"appRoleAssignments") => Side::Principal,
        _ => {
            return (
                "graph.unknown",
                graph_bad_request(req, "Unsupported segment."),
            );
        }
    };
    match (&tail[1..], &req.method) {
        ([], &Method::GET) => ("graph.appRoleAssignments.list", list(ctx, dir, sp, side)),
        ([], &Method::POST) => (
            "graph.appRoleAssignments.create",
            create(ctx, dir, sp, side),
        ),
        ([id], &Method::GET) => ("graph.appRoleAssignments.get", get(ctx, dir, sp, side, id)),
        ([id], &Method::DELETE) => (
            "graph.appRoleAssignments.delete",
            delete(ctx, dir, sp, side, id),
        ),
        ([] | [_], _) => ("graph.method", method_not_allowed(req)),
        _ => (
            "graph.unknown",
            graph_bad_request(req, "Unsupported segment."),
        ),
    }
}

fn context(ctx: &Ctx<'_>, sp: &str, side: Side) -> String {
    format!(
        "{}/v1.0/$metadata#servicePrincipals('{sp}')/{}",
        ctx.base,
        side.segment()
    )
}

fn list(ctx: &Ctx<'_>, dir: &Directory, sp: &str, side: Side) -> Response {
    let value: Vec<Value> = dir
        .app_role_assignments
        .values()
        .filter(|a| side.holds(a, sp))
        .map(app_role_assignment_json)
        .collect();
    graph_json(
        ctx.req,
        StatusCode::OK,
        &json!({"@odata.context": context(ctx, sp, side), "value": value}),
    )
}

fn not_found(ctx: &Ctx<'_>, id: &str) -> Response {
    graph_not_found(ctx.req, id)
}

fn get(ctx: &Ctx<'_>, dir: &Directory, sp: &str, side: Side, id: &str) -> Response {
    match dir
        .app_role_assignments
        .get(id)
        .filter(|a| side.holds(a, sp))
    {
        Some(a) => {
            let mut body = app_role_assignment_json(a);
            body["@odata.context"] = json!(format!("{}/$entity", context(ctx, sp, side)));
            graph_json(ctx.req, StatusCode::OK, &body)
        }
        None => not_found(ctx, id),
    }
}

fn delete(ctx: &Ctx<'_>, dir: &mut Directory, sp: &str, side: Side, id: &str) -> Response {
    if !ctx.judge().may_assign_app_roles() {
        return denied(ctx.req);
    }
    if !dir
        .app_role_assignments
        .get(id)
        .is_some_and(|a| side.holds(a, sp))
    {
        return not_found(ctx, id);
    }
    dir.app_role_assignments.remove(id);
    ctx.shared.mutated();
    graph_no_content(ctx.req)
}

/// The id Graph gives an assignment: the principal's GUID in its binary (.NET) byte
/// order and 16 bytes more, base64url without padding, as the documented sample is.
fn assignment_id(principal: &uuid::Uuid) -> String {
    let mut bytes = principal.to_bytes_le().to_vec();
    bytes.extend_from_slice(uuid::Uuid::new_v4().as_bytes());
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(bytes)
}

fn create(ctx: &Ctx<'_>, dir: &mut Directory, sp: &str, side: Side) -> Response {
    let req = ctx.req;
    if !ctx.judge().may_assign_app_roles() {
        return denied(req);
    }
    let body = match req.json_body() {
        Ok(b) => b,
        Err(m) => return graph_bad_request(req, &m),
    };
    let field = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .and_then(|v| uuid::Uuid::parse_str(v).ok())
    };
    let (Some(principal_id), Some(resource_id), Some(app_role_id)) = (
        field("principalId"),
        field("resourceId"),
        field("appRoleId"),
    ) else {
        // ASSUMPTION: the wording; the three ids are required (the docs' request body).
        return graph_bad_request(
            req,
            "The request body must contain principalId, resourceId and appRoleId as GUIDs.",
        );
    };
    let on_path = match side {
        Side::Resource => resource_id,
        Side::Principal => principal_id,
    };
    if !same_object(&on_path.to_string(), sp) {
        // ASSUMPTION: the wording of a body that names another object than the path.
        return graph_bad_request(
            req,
            &format!(
                "The {} in the request body does not match the service principal in the URL.",
                match side {
                    Side::Resource => "resourceId",
                    Side::Principal => "principalId",
                }
            ),
        );
    }
    let find = |id: &uuid::Uuid| {
        dir.service_principals
            .values()
            .find(|s| same_object(&s.id, &id.to_string()) && s.replicated(ctx.lag))
    };
    let Some(principal) = find(&principal_id) else {
        return graph_not_found(req, &principal_id.to_string());
    };
    let Some(resource) = find(&resource_id) else {
        return graph_not_found(req, &resource_id.to_string());
    };
    let defines_role = resource
        .props
        .get("appRoles")
        .and_then(Value::as_array)
        .is_some_and(|roles| {
            roles.iter().any(|r| {
                r["id"]
                    .as_str()
                    .and_then(|id| uuid::Uuid::parse_str(id).ok())
                    == Some(app_role_id)
            })
        });
    if !defines_role {
        // Partly captured: "Permission being assigned was not found on application …"
        // (quoted in public scripts that look a role id up again after it).
        return graph_bad_request(
            req,
            &format!(
                "Permission being assigned was not found on application '{}'.",
                resource.app_id
            ),
        );
    }
    let duplicate = dir.app_role_assignments.values().any(|a| {
        same_object(&a.principal_id, &principal.id)
            && same_object(&a.resource_id, &resource.id)
            && same_object(&a.app_role_id, &app_role_id.to_string())
    });
    if duplicate {
        // ASSUMPTION: status, code and wording of a repeated grant.
        return graph_error(
            req,
            StatusCode::CONFLICT,
            "Request_MultipleObjectsWithSameKeyValue",
            "Permission being assigned already exists on the object",
        );
    }
    let assignment = AppRoleAssignment {
        id: assignment_id(&principal_id),
        app_role_id: app_role_id.to_string(),
        principal_id: principal.id.clone(),
        principal_display_name: principal.display_name.clone(),
        resource_id: resource.id.clone(),
        resource_display_name: resource.display_name.clone(),
        created_date_time: now_rfc3339(),
    };
    let mut out = app_role_assignment_json(&assignment);
    out["@odata.context"] = json!(format!("{}/$entity", context(ctx, sp, side)));
    dir.app_role_assignments
        .insert(assignment.id.clone(), assignment);
    ctx.shared.mutated();
    graph_json(req, StatusCode::CREATED, &out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_start_with_the_principal() {
        // The documented sample: principal 33ad69f9-da99-4bed-acd0-3f24235cb296, id
        // "-WmtM5na7Uus0D8kI1yylpU9Mdo0Pb9OoBJvd3T5eKc".
        let principal = uuid::Uuid::parse_str("33ad69f9-da99-4bed-acd0-3f24235cb296").unwrap();
        let id = assignment_id(&principal);
        assert_eq!(id.len(), 43);
        assert!(id.starts_with("-WmtM5na7Uus0D8kI1yyl"), "{id}");
    }
}
