//! ARM role assignments (`Microsoft.Authorization/roleAssignments`, api-version
//! 2022-04-01), the built-in role definitions they name (`definitions`), the tenant's
//! subscription (`subscriptions`), and user-assigned managed identities with their
//! federated credentials (`identities`). This module authenticates every ARM request,
//! charges it to ARM's documented budgets (`budget`, with `Budgets::Azure`), has
//! `authz::arm` judge it (RBAC with conditions: which action on which scope), and
//! routes it.
//!
//! Sources: Azure/azure-rest-api-specs `specification/authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/authorization-RoleAssignmentsCalls.json`
//! and its examples (201 created, 200 on the same PUT, DELETE 200/204, the `$filter`
//! forms); `RoleAssignmentExists` as captured in hashicorp/terraform-provider-azurerm#28557;
//! `PrincipalNotFound` as captured in Azure/avdaccelerator#76.

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use crate::authz::arm::{
    Access, assignment_attributes, implicit_assignments, is_at_or_above, judge,
};
use crate::authz::condition;
use crate::http::{Req, arm_error, arm_json, now_rfc3339_precise};
use crate::options::Budgets;
use crate::shared::{Grant, Resource, Shared, lock};
use crate::state::{OPTIONAL_ASSIGNMENT_PROPERTIES, RoleAssignment, role_assignment_json};

mod budget;
mod definitions;
mod identities;
mod paging;
mod subscriptions;

pub(crate) use identities::credential_write_key as identity_credential_write_key;

type Handled = (&'static str, Response);

/// The two resource types served under `providers/Microsoft.Authorization`.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Kind {
    Assignments,
    Definitions,
}

pub(crate) async fn handle(shared: &Shared, base: &str, req: &Req) -> Handled {
    let grant = match authorize(shared, req) {
        Ok(g) => g,
        Err(mut r) => {
            // Refused before it is counted: no budget to report, and no fixed value
            // pretending there is one.
            if shared.options.budgets != Budgets::Off {
                budget::clear_fixed(&mut r);
            }
            return ("arm.unauthorized", r);
        }
    };
    let metered = match budget::meter(shared, req, &grant) {
        Ok(m) => m,
        Err(r) => return ("arm.throttled", r),
    };
    let (kind, mut resp) = if identities::is_ours(req) {
        identities::handle(shared, base, req, &grant).await
    } else {
        authorization(shared, req, &grant)
    };
    budget::stamp(&mut resp, metered.as_ref());
    (kind, resp)
}

/// Subscriptions, role assignments and role definitions: answered at once.
fn authorization(shared: &Shared, req: &Req, grant: &Grant) -> Handled {
    let segs: Vec<&str> = req.segments.iter().map(String::as_str).collect();
    if req.method == Method::GET && req.query("api-version").is_some() {
        match segs.as_slice() {
            [s] if s.eq_ignore_ascii_case("subscriptions") => {
                return ("arm.subscriptions.list", subscriptions::list(shared, req));
            }
            [s, id] if s.eq_ignore_ascii_case("subscriptions") => {
                return ("arm.subscriptions.get", subscriptions::get(shared, req, id));
            }
            _ => {}
        }
    }
    let found = segs.windows(3).enumerate().find_map(|(i, w)| {
        let ours = w[0].eq_ignore_ascii_case("providers")
            && w[1].eq_ignore_ascii_case("Microsoft.Authorization");
        if !ours {
            None
        } else if w[2].eq_ignore_ascii_case("roleAssignments") {
            Some((i, Kind::Assignments))
        } else if w[2].eq_ignore_ascii_case("roleDefinitions") {
            Some((i, Kind::Definitions))
        } else {
            None
        }
    });
    let Some((at, kind)) = found else {
        return ("arm.unknown", unknown_resource_type(req));
    };
    if req.query("api-version").is_none() {
        return ("arm.missing_api_version", missing_api_version(req));
    }
    let scope = format!("/{}", segs[..at].join("/"));
    let name = segs.get(at + 3).copied();
    if segs.len() > at + 4 {
        return (
            "arm.unknown",
            arm_error(req, StatusCode::NOT_FOUND, "NotFound", "No such resource."),
        );
    }
    if let Err(denied) = authorize_request(shared, req, grant, kind, &scope, name) {
        return ("arm.forbidden", denied);
    }
    if kind == Kind::Definitions {
        return match (name, &req.method) {
            (None, &Method::GET) => ("arm.roleDefinitions.list", definitions::list(req, &scope)),
            (Some(n), &Method::GET) => {
                ("arm.roleDefinitions.get", definitions::get(req, &scope, n))
            }
            // Custom roles are not served.
            _ => ("arm.method", method_not_allowed(req)),
        };
    }
    match (name, &req.method) {
        (None, &Method::GET) => ("arm.roleAssignments.list", list(shared, req, &scope)),
        (Some(n), &Method::PUT) => ("arm.roleAssignments.create", put(shared, req, &scope, n)),
        (Some(n), &Method::GET) => ("arm.roleAssignments.get", get(shared, req, &scope, n)),
        (Some(n), &Method::DELETE) => {
            ("arm.roleAssignments.delete", delete(shared, req, &scope, n))
        }
        _ => ("arm.method", method_not_allowed(req)),
    }
}

/// RBAC's verdict on a role assignment or definition request: read, write or delete,
/// on the collection's scope or the named object's id, with the attributes a condition
/// may test (`@Request[…]` from a write's body, `@Resource[…]` from the assignment a
/// delete removes).
fn authorize_request(
    shared: &Shared,
    req: &Req,
    grant: &Grant,
    kind: Kind,
    scope: &str,
    name: Option<&str>,
) -> Result<(), Response> {
    let (kind_path, type_name) = match kind {
        Kind::Assignments => ("roleAssignments", "Microsoft.Authorization/roleAssignments"),
        Kind::Definitions => ("roleDefinitions", "Microsoft.Authorization/roleDefinitions"),
    };
    let verb = match req.method {
        Method::GET => "read",
        Method::PUT | Method::PATCH => "write",
        Method::DELETE => "delete",
        // Anything else is answered 405 by the routes.
        _ => return Ok(()),
    };
    let target = match name {
        Some(n) => format!(
            "{}/providers/Microsoft.Authorization/{kind_path}/{n}",
            scope.trim_end_matches('/')
        ),
        None => scope.to_owned(),
    };
    let mut access = Access::new(format!("{type_name}/{verb}"), target);
    let dir = lock(&shared.dir);
    if kind == Kind::Assignments && verb == "write" {
        let body = req.json_body().ok();
        let props = body
            .as_ref()
            .and_then(|b| b.get("properties"))
            .and_then(Value::as_object);
        let field = |k: &str| props.and_then(|p| p.get(k)).and_then(Value::as_str);
        access.request = assignment_attributes(
            field("roleDefinitionId"),
            field("principalId"),
            // ARM's default when a body names none (see `put`).
            Some(field("principalType").unwrap_or("User")),
        );
    }
    if kind == Kind::Assignments && verb == "delete" {
        match name.and_then(|n| {
            dir.role_assignments
                .get(&id_of(scope, n).to_ascii_lowercase())
        }) {
            Some(existing) => {
                access.resource = assignment_attributes(
                    Some(&existing.role_definition_id),
                    Some(&existing.principal_id),
                    Some(&existing.principal_type),
                );
            }
            None => access.conditions_apply = false,
        }
    }
    judge(shared, &dir, req, grant, &access)
}

fn unknown_resource_type(req: &Req) -> Response {
    arm_error(
        req,
        StatusCode::NOT_FOUND,
        "InvalidResourceType",
        "The resource type could not be found in the namespace for this api version.",
    )
}

fn missing_api_version(req: &Req) -> Response {
    arm_error(
        req,
        StatusCode::BAD_REQUEST,
        "MissingApiVersionParameter",
        "The api-version query parameter (?api-version=) is required for all requests.",
    )
}

fn method_not_allowed(req: &Req) -> Response {
    arm_error(
        req,
        StatusCode::METHOD_NOT_ALLOWED,
        "MethodNotAllowed",
        "The requested method is not allowed.",
    )
}

/// ARM's answers to a missing or misdirected token (the widely seen messages; the
/// audience list is ARM's own).
fn authorize(shared: &Shared, req: &Req) -> Result<Grant, Response> {
    let Some(token) = req.bearer() else {
        return Err(arm_error(
            req,
            StatusCode::UNAUTHORIZED,
            "AuthenticationFailed",
            "Authentication failed. The 'Authorization' header is missing.",
        ));
    };
    let Some(grant) = shared.grant(token) else {
        return Err(arm_error(
            req,
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            "The access token is invalid.",
        ));
    };
    if grant.resource != Resource::Arm {
        return Err(arm_error(
            req,
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationTokenAudience",
            "The access token has been obtained for wrong audience or resource 'https://graph.microsoft.com'. It should exactly match with one of the allowed audiences 'https://management.core.windows.net/','https://management.core.windows.net','https://management.azure.com/','https://management.azure.com'.",
        ));
    }
    Ok(grant)
}

fn id_of(scope: &str, name: &str) -> String {
    let scope = scope.trim_end_matches('/');
    format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}")
}

fn same_guid_tail(a: &str, b: &str) -> bool {
    let tail = |s: &str| s.rsplit('/').next().unwrap_or(s).to_ascii_lowercase();
    tail(a) == tail(b)
}

fn normalize_principal(id: &str) -> String {
    id.replace('-', "").to_ascii_lowercase()
}

fn put(shared: &Shared, req: &Req, scope: &str, name: &str) -> Response {
    if uuid::Uuid::parse_str(name).is_err() {
        return arm_error(
            req,
            StatusCode::BAD_REQUEST,
            "InvalidRoleAssignmentId",
            &format!(
                "The role assignment ID '{name}' is not valid. The role assignment ID must be a GUID."
            ),
        );
    }
    let body = match req.json_body() {
        Ok(b) => b,
        Err(m) => return arm_error(req, StatusCode::BAD_REQUEST, "InvalidRequestContent", &m),
    };
    let props = body.get("properties").and_then(Value::as_object);
    let field = |k: &str| {
        props
            .and_then(|p| p.get(k))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let (Some(role_definition_id), Some(principal_id)) =
        (field("roleDefinitionId"), field("principalId"))
    else {
        return arm_error(
            req,
            StatusCode::BAD_REQUEST,
            "InvalidRequestContent",
            "The request content must contain properties.roleDefinitionId and properties.principalId.",
        );
    };
    let role_guid = role_definition_id.rsplit('/').next().unwrap_or("");
    if !role_definition_id.contains("/providers/Microsoft.Authorization/roleDefinitions/")
        || uuid::Uuid::parse_str(role_guid).is_err()
    {
        return arm_error(
            req,
            StatusCode::BAD_REQUEST,
            "RoleDefinitionDoesNotExist",
            &format!("The specified role definition with ID '{role_guid}' does not exist."),
        );
    }
    if let Err(refused) = check_condition(req, props) {
        return refused;
    }
    let principal_type = field("principalType").unwrap_or_else(|| "User".into());
    if ![
        "User",
        "Group",
        "ServicePrincipal",
        "ForeignGroup",
        "Device",
    ]
    .contains(&principal_type.as_str())
    {
        return arm_error(
            req,
            StatusCode::BAD_REQUEST,
            "InvalidPrincipalType",
            &format!("The principal type '{principal_type}' is not valid."),
        );
    }
    let lag = shared.replication().lag();
    let mut dir = lock(&shared.dir);
    // A principal the directory has not replicated to ARM yet is "not found", whether
    // or not principalType is set; Azure mostly avoids this with principalType, the
    // emulator is stricter so the retry path is always exercised.
    let principal = dir
        .service_principals
        .values()
        .find(|s| normalize_principal(&s.id) == normalize_principal(&principal_id));
    if principal.is_none_or(|p| p.created.elapsed() < lag) {
        let tenant = &shared.options.tenant_id;
        return arm_error(
            req,
            StatusCode::BAD_REQUEST,
            "PrincipalNotFound",
            &format!(
                "Principal {} does not exist in the directory {tenant}. Check that you have the correct principal ID. If you are creating this principal and then immediately assigning a role, this error might be related to a replication delay. In this case, set the role assignment principalType property to a value, such as ServicePrincipal, User, or Group.  See https://aka.ms/docs-principaltype",
                normalize_principal(&principal_id)
            ),
        );
    }
    let mut optional = serde_json::Map::new();
    for key in OPTIONAL_ASSIGNMENT_PROPERTIES {
        if let Some(v) = props.and_then(|p| p.get(*key)).filter(|v| !v.is_null()) {
            optional.insert((*key).into(), v.clone());
        }
    }
    let id = id_of(scope, name);
    let same_assignment = |r: &RoleAssignment| {
        r.scope.eq_ignore_ascii_case(scope)
            && same_guid_tail(&r.role_definition_id, &role_definition_id)
            && normalize_principal(&r.principal_id) == normalize_principal(&principal_id)
    };
    if let Some(existing) = dir.role_assignments.get_mut(&id.to_ascii_lowercase()) {
        if same_assignment(existing) {
            // The same assignment again: its description and condition may change
            // (what `az role assignment update` sends); the rest may not.
            if existing.optional != optional {
                existing.optional = optional;
                existing.updated_on = now_rfc3339_precise();
                shared.mutated();
            }
            return arm_json(req, StatusCode::OK, &role_assignment_json(existing));
        }
        // Changing an assignment in place: "ARM template role assignment returns
        // BadRequest status" with "Tenant ID, application ID, principal ID, and scope are
        // not allowed to be updated. (code: RoleAssignmentUpdateNotPermitted)"
        // (MicrosoftDocs/azure-docs `articles/role-based-access-control/troubleshooting.md`).
        return arm_error(
            req,
            StatusCode::BAD_REQUEST,
            "RoleAssignmentUpdateNotPermitted",
            "Tenant ID, application ID, principal ID, and scope are not allowed to be updated.",
        );
    }
    if dir.role_assignments.values().any(same_assignment) {
        return arm_error(
            req,
            StatusCode::CONFLICT,
            "RoleAssignmentExists",
            "The role assignment already exists.",
        );
    }
    let now = now_rfc3339_precise();
    let ra = RoleAssignment {
        id: id.clone(),
        name: name.to_owned(),
        scope: scope.to_owned(),
        role_definition_id,
        principal_id,
        principal_type,
        optional,
        created_on: now.clone(),
        updated_on: now,
    };
    let out = role_assignment_json(&ra);
    dir.role_assignments.insert(id.to_ascii_lowercase(), ra);
    shared.mutated();
    arm_json(req, StatusCode::CREATED, &out)
}

/// A condition must parse (version 2.0 syntax) when an assignment is written: 400
/// `InvalidRoleAssignmentCondition` "The given role assignment condition is invalid."
/// otherwise, and for a `conditionVersion` other than 2.0 (the message as azure-docs
/// `role-based-access-control/conditions-troubleshoot.md` quotes it, also for version
/// 1.0 per MicrosoftDocs/azure-docs#119449, status 400 as in Azure/azure-cli#15683; the
/// code as public deployment notes quote it, no capture of the body is known).
fn check_condition(
    req: &Req,
    props: Option<&serde_json::Map<String, Value>>,
) -> Result<(), Response> {
    let invalid = || {
        arm_error(
            req,
            StatusCode::BAD_REQUEST,
            "InvalidRoleAssignmentCondition",
            "The given role assignment condition is invalid.",
        )
    };
    let condition = match props.and_then(|p| p.get("condition")) {
        None | Some(Value::Null) => return Ok(()),
        Some(Value::String(c)) => c,
        Some(_) => return Err(invalid()),
    };
    match props.and_then(|p| p.get("conditionVersion")) {
        None | Some(Value::Null) => {}
        Some(Value::String(v)) if v == "2.0" => {}
        Some(_) => return Err(invalid()),
    }
    condition::parse(condition)
        .map(|_| ())
        .map_err(|_| invalid())
}

fn get(shared: &Shared, req: &Req, scope: &str, name: &str) -> Response {
    let dir = lock(&shared.dir);
    let key = id_of(scope, name).to_ascii_lowercase();
    let implicit = implicit_assignments(shared, &dir);
    let found = dir
        .role_assignments
        .get(&key)
        .or_else(|| implicit.iter().find(|r| r.id.to_ascii_lowercase() == key));
    match found {
        Some(ra) => arm_json(req, StatusCode::OK, &role_assignment_json(ra)),
        None => arm_error(
            req,
            StatusCode::NOT_FOUND,
            "RoleAssignmentNotFound",
            &format!("The role assignment '{name}' is not found."),
        ),
    }
}

fn delete(shared: &Shared, req: &Req, scope: &str, name: &str) -> Response {
    let mut dir = lock(&shared.dir);
    match dir
        .role_assignments
        .remove(&id_of(scope, name).to_ascii_lowercase())
    {
        Some(ra) => {
            shared.mutated();
            arm_json(req, StatusCode::OK, &role_assignment_json(&ra))
        }
        // "204: already deleted or does not exist".
        None => {
            let mut r = arm_json(req, StatusCode::NO_CONTENT, &Value::Null);
            *r.body_mut() = axum::body::Body::empty();
            r
        }
    }
}

/// `$filter=principalId eq '…'` returns the principal's assignments at, above or
/// below the scope; `atScope()` those at or above; no filter, all of them.
fn list(shared: &Shared, req: &Req, scope: &str) -> Response {
    let filter = req.query("$filter").map(str::trim);
    let principal = match filter {
        None | Some("atScope()") => None,
        // The docs write `principalId eq {id}`, the Azure CLI sends the id quoted;
        // ARM takes both.
        Some(f) => match f.strip_prefix("principalId eq ").map(|v| {
            let v = v.trim();
            v.strip_prefix('\'')
                .and_then(|v| v.strip_suffix('\''))
                .unwrap_or(v)
        }) {
            Some(p) if !p.is_empty() && !p.contains(|c: char| c.is_whitespace() || c == '\'') => {
                Some(normalize_principal(p))
            }
            _ => {
                return arm_error(
                    req,
                    StatusCode::BAD_REQUEST,
                    "UnsupportedQuery",
                    &format!("The filter '{f}' is not supported."),
                );
            }
        },
    };
    let dir = lock(&shared.dir);
    // The operators' implicit assignments are listed with the stored ones (first, as
    // assignments above the scope would be), never stored.
    let implicit = implicit_assignments(shared, &dir);
    let value: Vec<Value> = implicit
        .iter()
        .chain(dir.role_assignments.values())
        .filter(|r| match &principal {
            Some(p) => {
                normalize_principal(&r.principal_id) == *p
                    && (is_at_or_above(&r.scope, scope) || is_at_or_above(scope, &r.scope))
            }
            None if filter == Some("atScope()") => is_at_or_above(&r.scope, scope),
            None => is_at_or_above(&r.scope, scope) || is_at_or_above(scope, &r.scope),
        })
        .map(role_assignment_json)
        .collect();
    arm_json(req, StatusCode::OK, &json!({"value": value}))
}
