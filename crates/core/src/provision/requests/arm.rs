//! ARM role assignments.

use crate::json_value::object;
use serde_json::Value;

use super::{enc, expect, quote};
use crate::diff::ObservedRoleAssignment;
use crate::error::Result;
use crate::provision::request::{Answer, Method, Request, Service, WaitOut};

/// The ARM api-version of role assignments (azure-facts.md §4).
pub const ROLE_ASSIGNMENTS_API_VERSION: &str = "2022-04-01";

fn role_assignments(scope: &str, tail: &str) -> String {
    format!(
        "{}/providers/Microsoft.Authorization/roleAssignments{tail}",
        scope.trim_end_matches('/')
    )
}

/// The principal's assignments at, above or below `scope` (read with
/// [`read_role_assignments`]).
pub fn list_role_assignments(scope: &str, principal_id: &str) -> Request {
    let filter = format!("principalId eq '{}'", quote(principal_id));
    Request::new(
        Service::Arm,
        format!("list role assignments of {principal_id} at {scope}"),
        Method::Get,
        format!(
            "{}?api-version={ROLE_ASSIGNMENTS_API_VERSION}&$filter={}",
            role_assignments(scope, ""),
            enc(&filter)
        ),
    )
}

/// Every assignment at, above or below `scope`, whoever holds it (read with
/// [`read_role_assignments_page`]): one list serves all of a subscription's
/// principals, where a `principalId` filter costs a request per principal.
pub fn list_all_role_assignments(scope: &str) -> Request {
    Request::new(
        Service::Arm,
        format!("list role assignments at {scope}"),
        Method::Get,
        format!(
            "{}?api-version={ROLE_ASSIGNMENTS_API_VERSION}",
            role_assignments(scope, "")
        ),
    )
}

/// Of `all` (lists of whole scopes), the assignments `principal_id` holds, each once.
pub fn assignments_of(
    all: &[ObservedRoleAssignment],
    principal_id: &str,
) -> Vec<ObservedRoleAssignment> {
    let mut out: Vec<ObservedRoleAssignment> = Vec::new();
    for ra in all {
        if ra.principal_id.eq_ignore_ascii_case(principal_id) && !out.contains(ra) {
            out.push(ra.clone());
        }
    }
    out
}

pub fn read_role_assignments(
    answer: Answer,
    request: &Request,
) -> Result<Vec<ObservedRoleAssignment>> {
    if !answer.ok() {
        return Err(answer.into_error(request.service, &request.operation));
    }
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    Ok(answer.json()["value"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| ObservedRoleAssignment {
                    name: text(&v["name"]),
                    scope: text(&v["properties"]["scope"]),
                    role_definition_id: text(&v["properties"]["roleDefinitionId"]),
                    principal_id: text(&v["properties"]["principalId"]),
                })
                .collect()
        })
        .unwrap_or_default())
}

/// One page of role assignments, and the request for the next page when ARM sends a
/// `nextLink` (an absolute URL at `arm_base`; the ARM list envelope, azure-rest-api-specs
/// `authorization` RoleAssignments_ListForScope).
pub fn read_role_assignments_page(
    answer: Answer,
    request: &Request,
    arm_base: &str,
) -> Result<(Vec<ObservedRoleAssignment>, Option<Request>)> {
    let next = answer.json()["nextLink"].as_str().map(|link| Request {
        path: below_host(link, arm_base),
        ..request.clone()
    });
    Ok((read_role_assignments(answer, request)?, next))
}

/// One page of any ARM list: its `value` items, and the request for the next page
/// when ARM sends a `nextLink`.
pub fn read_arm_page(
    answer: Answer,
    request: &Request,
    arm_base: &str,
) -> Result<(Vec<Value>, Option<Request>)> {
    if !answer.ok() {
        return Err(answer.into_error(request.service, &request.operation));
    }
    let v = answer.json();
    let next = v["nextLink"].as_str().map(|link| Request {
        path: below_host(link, arm_base),
        ..request.clone()
    });
    Ok((v["value"].as_array().cloned().unwrap_or_default(), next))
}

/// The path and query of `link`, relative to `base` when it is below it, else to its
/// own host (a next link names the host it was served from).
fn below_host(link: &str, base: &str) -> String {
    if let Some(rest) = link.strip_prefix(base.trim_end_matches('/')) {
        return rest.to_owned();
    }
    match link.split_once("://") {
        Some((_, after)) => after
            .find('/')
            .map_or(String::new(), |i| after[i..].to_owned()),
        None => link.to_owned(),
    }
}

/// The principal's assignments with their conditions, as the rights check reads them:
/// `(scope, roleDefinitionId, condition)`.
pub fn read_held_assignments(items: &[Value]) -> Vec<(String, String, Option<String>)> {
    items
        .iter()
        .map(|v| {
            let p = &v["properties"];
            (
                p["scope"].as_str().unwrap_or_default().to_owned(),
                p["roleDefinitionId"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                p["condition"].as_str().map(str::to_owned),
            )
        })
        .collect()
}

/// A role definition by its full id (`RoleDefinitions_GetById`), read with
/// [`read_role_permissions`].
pub fn get_role_definition(id: &str) -> Request {
    Request::new(
        Service::Arm,
        format!(
            "read role definition {}",
            id.rsplit('/').next().unwrap_or(id)
        ),
        Method::Get,
        format!("{id}?api-version={ROLE_ASSIGNMENTS_API_VERSION}"),
    )
}

/// A role definition's `actions` and `notActions`, over all its permission blocks.
pub fn read_role_permissions(v: &Value) -> (Vec<String>, Vec<String>) {
    let mut actions = Vec::new();
    let mut not_actions = Vec::new();
    for p in v["properties"]["permissions"]
        .as_array()
        .into_iter()
        .flatten()
    {
        for (key, out) in [("actions", &mut actions), ("notActions", &mut not_actions)] {
            out.extend(
                p[key]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(Value::as_str)
                    .map(str::to_owned),
            );
        }
    }
    (actions, not_actions)
}

/// PUT with the deterministic name, waiting out a fresh principal's replication.
/// Read with [`read_role_assignment_created`].
pub fn create_role_assignment(
    scope: &str,
    name: &str,
    role_definition_id: &str,
    principal_id: &str,
    what: &str,
) -> Request {
    Request::new(
        Service::Arm,
        format!("assign {what}"),
        Method::Put,
        format!(
            "{}?api-version={ROLE_ASSIGNMENTS_API_VERSION}",
            role_assignments(scope, &format!("/{name}"))
        ),
    )
    .json(object(vec![(
        "properties",
        object(vec![
            ("roleDefinitionId", role_definition_id.into()),
            ("principalId", principal_id.into()),
            ("principalType", "ServicePrincipal".into()),
        ]),
    )]))
    .wait_out(WaitOut::PrincipalReplication)
}

/// Grant `role_definition_id` at `scope` to the service principal `principal_id`,
/// under the deterministic name of that triple (see
/// [`role_assignment_name`](crate::roles::role_assignment_name)).
pub fn assign_role(
    scope: &str,
    role_definition_id: &str,
    principal_id: &str,
    what: &str,
) -> Request {
    let guid = role_definition_id.rsplit('/').next().unwrap_or_default();
    let name = crate::roles::role_assignment_name(scope, guid, principal_id);
    create_role_assignment(scope, &name, role_definition_id, principal_id, what)
}

/// `RoleAssignmentExists` means another name holds the same grant, which satisfies
/// the plan (azure-facts.md §4).
pub fn read_role_assignment_created(answer: Answer, request: &Request) -> Result<()> {
    if answer.status == 409 && answer.error_code() == "RoleAssignmentExists" {
        return Ok(());
    }
    expect(answer, request, &[200, 201])
}

/// Read with [`expect`] and `[200, 204, 404]`.
pub fn delete_role_assignment(scope: &str, name: &str, what: &str) -> Request {
    Request::new(
        Service::Arm,
        format!("remove {what}"),
        Method::Delete,
        format!(
            "{}?api-version={ROLE_ASSIGNMENTS_API_VERSION}",
            role_assignments(scope, &format!("/{name}"))
        ),
    )
}
