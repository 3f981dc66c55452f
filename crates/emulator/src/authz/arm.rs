//! ARM's authorization: Azure RBAC with ABAC conditions. A request is allowed when a
//! role assignment of the caller's principal at or above the request's scope names a
//! role whose `actions` match the request's action and whose `notActions` do not, and
//! the assignment's condition, if any, holds.
//!
//! Sources, MicrosoftDocs/azure-docs `articles/role-based-access-control/`:
//! `role-definitions.md` (actions and notActions, `*` wildcards, case-insensitive),
//! `scope-overview.md` (an assignment applies at its scope and below),
//! `conditions-format.md` and `delegate-role-assignments-examples.md` (conditions, see
//! `condition`), `troubleshooting.md` (the refusals: "The client '{clientName}' with
//! object id '{objectId}' does not have authorization or an ABAC condition not
//! fulfilled to perform action 'Microsoft.Authorization/roleAssignments/write' over scope
//! '…/roleAssignments/{roleAssignmentId}' or the scope is invalid. If access was
//! recently granted, please refresh your credentials." — and the same without "or an
//! ABAC condition not fulfilled" when no assignment grants the action at all, as
//! captured in pulumi/pulumi-azure#595; both with code `AuthorizationFailed` and status
//! 403, as public captures quote them, e.g. an autorest error `Status=403
//! Code="AuthorizationFailed"` with the ABAC wording kept in a public Terraform
//! configuration's comments).
//!
//! ARM judges assignments as they are now (Azure caches them for up to ten minutes,
//! `troubleshooting.md`; the emulator does not).

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, json};

use super::condition::{self, Attributes, Facts};
use super::{Base, roles, same_object};
use crate::http::{Req, arm_error};
use crate::shared::{Grant, Shared};
use crate::state::{Directory, RoleAssignment};

/// One request as RBAC sees it.
#[derive(Debug, Default)]
pub(crate) struct Access {
    /// `Microsoft.Authorization/roleAssignments/write`, …
    pub(crate) action: String,
    /// The id of what the action is on; assignments at or above it count.
    pub(crate) scope: String,
    /// `@Request[…]` attributes (a role assignment write's body).
    pub(crate) request: Attributes,
    /// `@Resource[…]` attributes (the role assignment a delete removes).
    pub(crate) resource: Attributes,
    /// Whether conditions are evaluated. Deleting a role assignment that does not exist
    /// removes nothing a condition could protect, so only the action is checked
    /// (ASSUMPTION: Azure's behaviour there is not documented).
    pub(crate) conditions_apply: bool,
}

impl Access {
    /// An action on `scope` with no attributes.
    pub(crate) fn new(action: impl Into<String>, scope: impl Into<String>) -> Self {
        Self {
            action: action.into(),
            scope: scope.into(),
            conditions_apply: true,
            ..Self::default()
        }
    }
}

/// The attribute names a role assignment offers conditions
/// (`conditions-authorization-actions-attributes.md`), lower case as `condition` keys them.
pub(crate) const ROLE_DEFINITION_ID: &str =
    "microsoft.authorization/roleassignments:roledefinitionid";
pub(crate) const PRINCIPAL_ID: &str = "microsoft.authorization/roleassignments:principalid";
pub(crate) const PRINCIPAL_TYPE: &str = "microsoft.authorization/roleassignments:principaltype";

/// The attributes of a role assignment: its role definition's GUID (the attribute is
/// the GUID, while assignments carry the definition's resource id), its principal and
/// the principal's type.
pub(crate) fn assignment_attributes(
    role_definition_id: Option<&str>,
    principal_id: Option<&str>,
    principal_type: Option<&str>,
) -> Attributes {
    let mut a = Attributes::new();
    let mut put = |name: &str, value: Option<&str>| {
        if let Some(v) = value.filter(|v| !v.is_empty()) {
            a.insert(name.to_owned(), vec![v.to_owned()]);
        }
    };
    put(ROLE_DEFINITION_ID, role_definition_id.map(guid_tail));
    put(PRINCIPAL_ID, principal_id);
    put(PRINCIPAL_TYPE, principal_type);
    a
}

/// The last segment of a definition id: its GUID.
pub(crate) fn guid_tail(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

/// Whether an assignment at `assignment_scope` applies at `scope`: the same scope or one
/// below it (`/` is above everything). Scopes compare without regard to case.
pub(crate) fn is_at_or_above(assignment_scope: &str, scope: &str) -> bool {
    let a = assignment_scope.trim_end_matches('/').to_ascii_lowercase();
    let s = scope.trim_end_matches('/').to_ascii_lowercase();
    a.is_empty() || s == a || s.starts_with(&format!("{a}/"))
}

/// The assignments operators have without a grant: a full operator's *Owner* and a
/// read-only operator's *Reader*, both at `/`. Listed and read like stored ones, never
/// stored (so `/_emulator/state` counts only what clients made) and never deleted.
pub(crate) fn implicit_assignments(shared: &Shared, dir: &Directory) -> Vec<RoleAssignment> {
    shared
        .options
        .operators
        .iter()
        .filter_map(|operator| {
            let role = match Base::from(operator.rights) {
                Base::Full => roles::OWNER,
                Base::ReadOnly => roles::READER,
                Base::Granted | Base::Federated => return None,
            };
            let sp = dir.sp_by_app_id(&operator.client_id)?;
            let name = uuid::Uuid::new_v5(
                &uuid::Uuid::NAMESPACE_URL,
                format!("pulumi-azure-oidc-emulator:implicit:{}", operator.client_id).as_bytes(),
            )
            .to_string();
            let mut optional = Map::new();
            optional.insert(
                "description".into(),
                json!("The emulator's implicit assignment of this operator's rights (not stored)."),
            );
            Some(RoleAssignment {
                id: format!("/providers/Microsoft.Authorization/roleAssignments/{name}"),
                name,
                scope: "/".into(),
                role_definition_id: format!(
                    "/providers/Microsoft.Authorization/roleDefinitions/{role}"
                ),
                principal_id: sp.id.clone(),
                principal_type: "ServicePrincipal".into(),
                optional,
                created_on: shared.started_on.clone(),
                updated_on: shared.started_on.clone(),
            })
        })
        .collect()
}

/// What RBAC concludes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    Allowed,
    /// No assignment grants the action; `condition_failed` when one would have, but its
    /// condition did not hold.
    Denied {
        condition_failed: bool,
    },
}

fn verdict(grant: &Grant, access: &Access, assignments: &[&RoleAssignment]) -> Verdict {
    // Federated principals read without a grant (see `Base::Federated`).
    if grant.base == Base::Federated && access.action.to_ascii_lowercase().ends_with("/read") {
        return Verdict::Allowed;
    }
    let mut condition_failed = false;
    for assignment in assignments {
        if !same_object(&assignment.principal_id, &grant.object_id)
            || !is_at_or_above(&assignment.scope, &access.scope)
        {
            continue;
        }
        let Some(role) = roles::find(guid_tail(&assignment.role_definition_id)) else {
            continue;
        };
        let matches = |patterns: &[&str]| {
            patterns
                .iter()
                .any(|p| condition::wildcard(p, &access.action, true))
        };
        if !matches(role.actions) || matches(role.not_actions) {
            continue;
        }
        let text = assignment
            .optional
            .get("condition")
            .and_then(serde_json::Value::as_str)
            .filter(|c| !c.trim().is_empty());
        let Some(text) = text.filter(|_| access.conditions_apply) else {
            return Verdict::Allowed;
        };
        let facts = Facts {
            action: &access.action,
            request: access.request.clone(),
            resource: access.resource.clone(),
        };
        // A stored condition parsed when it was written; one that no longer does
        // grants nothing.
        match condition::parse(text) {
            Ok(expr) if expr.eval(&facts) => return Verdict::Allowed,
            _ => condition_failed = true,
        }
    }
    Verdict::Denied { condition_failed }
}

/// Allow the request, or answer it with ARM's refusal.
pub(crate) fn judge(
    shared: &Shared,
    dir: &Directory,
    req: &Req,
    grant: &Grant,
    access: &Access,
) -> Result<(), Response> {
    let implicit = implicit_assignments(shared, dir);
    let all: Vec<&RoleAssignment> = implicit
        .iter()
        .chain(dir.role_assignments.values())
        .collect();
    match verdict(grant, access, &all) {
        Verdict::Allowed => Ok(()),
        Verdict::Denied { condition_failed } => Err(refusal(
            req,
            grant,
            &access.action,
            &access.scope,
            condition_failed,
        )),
    }
}

/// ARM's 403 for an action the caller may not perform (wording: see the module's
/// sources).
pub(crate) fn refusal(
    req: &Req,
    grant: &Grant,
    action: &str,
    scope: &str,
    condition_failed: bool,
) -> Response {
    let why = if condition_failed {
        "does not have authorization or an ABAC condition not fulfilled"
    } else {
        "does not have authorization"
    };
    arm_error(
        req,
        StatusCode::FORBIDDEN,
        "AuthorizationFailed",
        &format!(
            "The client '{}' with object id '{}' {why} to perform action '{action}' over scope '{scope}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
            grant.client_id, grant.object_id
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const RBAC_ADMIN: &str = "f58310d9-a9f6-439a-9e8d-f62e7b41a168";

    fn grant() -> Grant {
        Grant {
            resource: crate::shared::Resource::Arm,
            client_id: "c".into(),
            object_id: "11111111-1111-4111-8111-111111111111".into(),
            base: Base::Granted,
            roles: Vec::new(),
            expires: std::time::Instant::now(),
        }
    }

    fn assignment(scope: &str, role: &str, condition: Option<&str>) -> RoleAssignment {
        let mut optional = Map::new();
        if let Some(c) = condition {
            optional.insert("condition".into(), json!(c));
        }
        RoleAssignment {
            id: String::new(),
            name: String::new(),
            scope: scope.into(),
            role_definition_id: format!(
                "{scope}/providers/Microsoft.Authorization/roleDefinitions/{role}"
            ),
            principal_id: "11111111111141118111111111111111".into(),
            principal_type: "ServicePrincipal".into(),
            optional,
            created_on: String::new(),
            updated_on: String::new(),
        }
    }

    #[test]
    fn actions_scopes_and_conditions() {
        let g = grant();
        let admin = assignment(
            "/subscriptions/s",
            RBAC_ADMIN,
            Some(
                "((!(ActionMatches{'Microsoft.Authorization/roleAssignments/write'})) OR (@Request[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {'ServicePrincipal'}))",
            ),
        );
        let all = [&admin];
        let mut write = Access::new(
            "Microsoft.Authorization/roleAssignments/write",
            "/subscriptions/S/resourceGroups/rg/providers/Microsoft.Authorization/roleAssignments/x",
        );
        write.request = assignment_attributes(
            Some("/x/acdd72a7-3385-48ef-bd42-f606fba81ae7"),
            None,
            Some("ServicePrincipal"),
        );
        assert_eq!(verdict(&g, &write, &all), Verdict::Allowed);
        write.request = assignment_attributes(None, None, Some("User"));
        assert_eq!(
            verdict(&g, &write, &all),
            Verdict::Denied {
                condition_failed: true
            }
        );
        // Above the assignment's scope, nothing applies.
        let mut above = Access::new(
            "Microsoft.Authorization/roleAssignments/write",
            "/subscriptions",
        );
        above.request = assignment_attributes(None, None, Some("ServicePrincipal"));
        assert_eq!(
            verdict(&g, &above, &all),
            Verdict::Denied {
                condition_failed: false
            }
        );
        // Reads match `*/read`; identities are not this role's.
        assert_eq!(
            verdict(
                &g,
                &Access::new(
                    "Microsoft.ManagedIdentity/userAssignedIdentities/read",
                    "/subscriptions/s/resourceGroups/rg"
                ),
                &all
            ),
            Verdict::Allowed
        );
        assert_eq!(
            verdict(
                &g,
                &Access::new(
                    "Microsoft.ManagedIdentity/userAssignedIdentities/write",
                    "/subscriptions/s/resourceGroups/rg"
                ),
                &all
            ),
            Verdict::Denied {
                condition_failed: false
            }
        );
        // Contributor's notActions keep it from role assignments.
        let contributor = assignment(
            "/subscriptions/s",
            "b24988ac-6180-42a0-ab88-20f7382dd24c",
            None,
        );
        assert_eq!(
            verdict(
                &g,
                &Access::new(
                    "Microsoft.Authorization/roleAssignments/write",
                    "/subscriptions/s"
                ),
                &[&contributor]
            ),
            Verdict::Denied {
                condition_failed: false
            }
        );
        assert_eq!(
            verdict(
                &g,
                &Access::new(
                    "Microsoft.ManagedIdentity/userAssignedIdentities/write",
                    "/subscriptions/s/x"
                ),
                &[&contributor]
            ),
            Verdict::Allowed
        );
    }

    #[test]
    fn scope_containment() {
        assert!(is_at_or_above(
            "/subscriptions/a",
            "/subscriptions/a/resourceGroups/rg"
        ));
        assert!(is_at_or_above("/subscriptions/A", "/subscriptions/a"));
        assert!(is_at_or_above("/", "/subscriptions/a"));
        assert!(!is_at_or_above(
            "/subscriptions/a/resourceGroups/rg",
            "/subscriptions/a"
        ));
        assert!(!is_at_or_above("/subscriptions/ab", "/subscriptions/a"));
    }
}
