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
//! names, descriptions and permissions from MicrosoftDocs/azure-docs
//! `articles/role-based-access-control/built-in-roles/{general,privileged,security,storage}.md`.

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use crate::http::{Req, arm_error, arm_json};

/// One built-in role: GUID, name, description, actions, notActions, dataActions.
struct BuiltIn {
    guid: &'static str,
    name: &'static str,
    description: &'static str,
    actions: &'static [&'static str],
    not_actions: &'static [&'static str],
    data_actions: &'static [&'static str],
}

const KEY_VAULT_READS: &[&str] = &[
    "Microsoft.Authorization/*/read",
    "Microsoft.Insights/alertRules/*",
    "Microsoft.Resources/deployments/*",
    "Microsoft.Resources/subscriptions/resourceGroups/read",
    "Microsoft.Support/*",
    "Microsoft.KeyVault/checkNameAvailability/read",
    "Microsoft.KeyVault/deletedVaults/read",
    "Microsoft.KeyVault/locations/*/read",
    "Microsoft.KeyVault/vaults/*/read",
    "Microsoft.KeyVault/operations/read",
];

const BUILT_IN: &[BuiltIn] = &[
    BuiltIn {
        guid: "8e3af657-a8ff-443c-a75c-2fe8c4bcb635",
        name: "Owner",
        description: "Grants full access to manage all resources, including the ability to assign roles in Azure RBAC.",
        actions: &["*"],
        not_actions: &[],
        data_actions: &[],
    },
    BuiltIn {
        guid: "b24988ac-6180-42a0-ab88-20f7382dd24c",
        name: "Contributor",
        description: "Grants full access to manage all resources, but does not allow you to assign roles in Azure RBAC, manage assignments in Azure Blueprints, or share image galleries.",
        actions: &["*"],
        not_actions: &[
            "Microsoft.Authorization/*/Delete",
            "Microsoft.Authorization/*/Write",
            "Microsoft.Authorization/elevateAccess/Action",
            "Microsoft.Blueprint/blueprintAssignments/write",
            "Microsoft.Blueprint/blueprintAssignments/delete",
            "Microsoft.Compute/galleries/share/action",
            "Microsoft.Purview/consents/write",
            "Microsoft.Purview/consents/delete",
            "Microsoft.Resources/deploymentStacks/manageDenySetting/action",
            "Microsoft.Subscription/cancel/action",
            "Microsoft.Subscription/enable/action",
        ],
        data_actions: &[],
    },
    BuiltIn {
        guid: "acdd72a7-3385-48ef-bd42-f606fba81ae7",
        name: "Reader",
        description: "View all resources, but does not allow you to make any changes.",
        actions: &["*/read"],
        not_actions: &[],
        data_actions: &[],
    },
    BuiltIn {
        guid: "18d7d88d-d35e-4fb5-a5c3-7773c20a72d9",
        name: "User Access Administrator",
        description: "Lets you manage user access to Azure resources.",
        actions: &["*/read", "Microsoft.Authorization/*", "Microsoft.Support/*"],
        not_actions: &[],
        data_actions: &[],
    },
    BuiltIn {
        guid: "f58310d9-a9f6-439a-9e8d-f62e7b41a168",
        name: "Role Based Access Control Administrator",
        description: "Manage access to Azure resources by assigning roles using Azure RBAC. This role does not allow you to manage access using other ways, such as Azure Policy.",
        actions: &[
            "Microsoft.Authorization/roleAssignments/write",
            "Microsoft.Authorization/roleAssignments/delete",
            "*/read",
            "Microsoft.Support/*",
        ],
        not_actions: &[],
        data_actions: &[],
    },
    BuiltIn {
        guid: "4633458b-17de-408a-b874-0445c86b69e6",
        name: "Key Vault Secrets User",
        description: "Read secret contents. Only works for key vaults that use the 'Azure role-based access control' permission model.",
        actions: &[],
        not_actions: &[],
        data_actions: &[
            "Microsoft.KeyVault/vaults/secrets/getSecret/action",
            "Microsoft.KeyVault/vaults/secrets/readMetadata/action",
        ],
    },
    BuiltIn {
        guid: "b86a8fe4-44ce-4948-aee5-eccb2c155cd7",
        name: "Key Vault Secrets Officer",
        description: "Perform any action on the secrets of a key vault, except manage permissions. Only works for key vaults that use the 'Azure role-based access control' permission model.",
        actions: KEY_VAULT_READS,
        not_actions: &[],
        data_actions: &["Microsoft.KeyVault/vaults/secrets/*"],
    },
    BuiltIn {
        guid: "00482a5a-887f-4fb3-b363-3b7fe8e74483",
        name: "Key Vault Administrator",
        description: "Perform all data plane operations on a key vault and all objects in it, including certificates, keys, and secrets. Cannot manage key vault resources or manage role assignments. Only works for key vaults that use the 'Azure role-based access control' permission model.",
        actions: KEY_VAULT_READS,
        not_actions: &[],
        data_actions: &["Microsoft.KeyVault/vaults/*"],
    },
    BuiltIn {
        guid: "ba92f5b4-2d11-453d-a403-e96b0029c9fe",
        name: "Storage Blob Data Contributor",
        description: "Allows for read, write and delete access to Azure Storage blob containers and data",
        actions: &[
            "Microsoft.Storage/storageAccounts/blobServices/containers/delete",
            "Microsoft.Storage/storageAccounts/blobServices/containers/read",
            "Microsoft.Storage/storageAccounts/blobServices/containers/write",
            "Microsoft.Storage/storageAccounts/blobServices/generateUserDelegationKey/action",
        ],
        not_actions: &[],
        data_actions: &[
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/delete",
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/read",
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/write",
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/move/action",
            "Microsoft.Storage/storageAccounts/blobServices/containers/blobs/add/action",
        ],
    },
];

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
    match BUILT_IN.iter().find(|r| r.guid.eq_ignore_ascii_case(guid)) {
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
