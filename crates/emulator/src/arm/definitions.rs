//! ARM role definitions (`Microsoft.Authorization/roleDefinitions`): the built-in roles
//! the tool assigns, listed at a scope (with `$filter=roleName eq '…'` or
//! `type eq '…'`) and read by name. Custom roles are not served.
//!
//! Sources: Azure/azure-rest-api-specs `specification/authorization/resource-manager/Microsoft.Authorization/stable/2022-04-01/authorization-RoleDefinitionsCalls.json`
//! (`RoleDefinitions_List`, `RoleDefinitions_Get`, `RoleDefinitionFilter` with `roleName`
//! and `type`); the list answer as recorded in Azure/azure-cli
//! `src/azure-cli/azure/cli/command_modules/role/tests/latest/recordings/test_role_assignment_create_update.yaml`
//! (`$filter=roleName eq 'reader'` at a resource-group scope finds "Reader": the name
//! compares without regard to case, and the id comes back in the subscription's form);
//! the roles themselves are `authz::roles`, which ARM's authorization reads too.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use crate::authz::roles::{BUILT_IN, BuiltIn};
use crate::http::{Req, arm_error, arm_json};

/// The definition id as ARM writes it at `scope`: under the scope's subscription when
/// there is one (as the recording shows for a resource-group scope), else at the
/// tenant root.
fn definition_id(scope: &str, guid: &str) -> String {
    let segments: Vec<&str> = scope.split('/').filter(|s| !s.is_empty()).collect();
    match segments.as_slice() {
        [first, sub, ..] if first.eq_ignore_ascii_case("subscriptions") => {
            format!("/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{guid}")
        }
        _ => format!("/providers/Microsoft.Authorization/roleDefinitions/{guid}"),
    }
}

fn definition_json(scope: &str, role: &BuiltIn) -> Value {
    json!({
        "properties": {
            "roleName": role.name,
            "type": "BuiltInRole",
            "description": role.description,
            "assignableScopes": ["/"],
            "permissions": [{
                "actions": role.actions,
                "notActions": role.not_actions,
                "dataActions": role.data_actions,
                "notDataActions": [],
            }],
        },
        "id": definition_id(scope, role.guid),
        "type": "Microsoft.Authorization/roleDefinitions",
        "name": role.guid,
    })
}

/// The one clause of a `$filter`: `roleName eq '…'` or `type eq '…'`; `atScopeAndBelow()`
/// adds nothing here, every built-in role being assignable everywhere.
enum Filter {
    All,
    RoleName(String),
    Type(String),
}

fn parse_filter(filter: Option<&str>) -> Option<Filter> {
    let Some(f) = filter.map(str::trim).filter(|f| !f.is_empty()) else {
        return Some(Filter::All);
    };
    if f == "atScopeAndBelow()" {
        return Some(Filter::All);
    }
    let (prop, value) = f.split_once(" eq ")?;
    let value = value
        .trim()
        .strip_prefix('\'')?
        .strip_suffix('\'')?
        .replace("''", "'");
    match prop.trim() {
        "roleName" => Some(Filter::RoleName(value)),
        "type" => Some(Filter::Type(value)),
        _ => None,
    }
}

pub(super) fn list(req: &Req, scope: &str) -> Response {
    let Some(filter) = parse_filter(req.query("$filter")) else {
        // ASSUMPTION: the code and wording for a filter ARM does not support.
        return arm_error(
            req,
            StatusCode::BAD_REQUEST,
            "UnsupportedQuery",
            &format!(
                "The filter '{}' is not supported.",
                req.query("$filter").unwrap_or_default()
            ),
        );
    };
    let value: Vec<Value> = BUILT_IN
        .iter()
        .filter(|r| match &filter {
            Filter::All => true,
            Filter::RoleName(n) => r.name.eq_ignore_ascii_case(n),
            Filter::Type(t) => t.eq_ignore_ascii_case("BuiltInRole"),
        })
        .map(|r| definition_json(scope, r))
        .collect();
    arm_json(req, StatusCode::OK, &json!({"value": value}))
}

pub(super) fn get(req: &Req, scope: &str, guid: &str) -> Response {
    match crate::authz::roles::find(guid) {
        Some(role) => arm_json(req, StatusCode::OK, &definition_json(scope, role)),
        None => not_found(req, guid),
    }
}

/// The answer to a definition that does not exist (the code and message the
/// emulator also gives a role assignment naming a malformed one).
fn not_found(req: &Req, guid: &str) -> Response {
    arm_error(
        req,
        StatusCode::NOT_FOUND,
        "RoleDefinitionDoesNotExist",
        &format!("The specified role definition with ID '{guid}' does not exist."),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_follow_the_scope() {
        assert_eq!(
            definition_id("/subscriptions/s/resourceGroups/rg", "g"),
            "/subscriptions/s/providers/Microsoft.Authorization/roleDefinitions/g"
        );
        assert_eq!(
            definition_id("/providers/Microsoft.Management/managementGroups/m", "g"),
            "/providers/Microsoft.Authorization/roleDefinitions/g"
        );
        assert_eq!(
            definition_id("/", "g"),
            "/providers/Microsoft.Authorization/roleDefinitions/g"
        );
    }

    #[test]
    fn filters_parse() {
        assert!(matches!(parse_filter(None), Some(Filter::All)));
        assert!(
            matches!(parse_filter(Some("roleName eq 'Reader'")), Some(Filter::RoleName(n)) if n == "Reader")
        );
        assert!(matches!(
            parse_filter(Some("type eq 'BuiltInRole'")),
            Some(Filter::Type(_))
        ));
        assert!(parse_filter(Some("roleName eq Reader")).is_none());
        assert!(parse_filter(Some("description eq 'x'")).is_none());
    }
}
