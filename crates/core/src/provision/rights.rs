//! Whether the operator may make every write of a diff, judged before the first one:
//! a run that would fail halfway (an app made, its credentials refused) stops at the
//! start instead, naming the right it lacks and the `permissions` command that grants
//! it. Pure: the executor gathers what the operator holds, this judges it.
//!
//! Graph is judged by the app roles in the operator's Graph token (`roles`) and, for
//! `Application.ReadWrite.OwnedBy`, by the apps' owners; ARM by the operator's role
//! assignments, their definitions' actions and the subset of ABAC conditions that
//! `permissions` writes (role definitions and principal types). A token without
//! `roles` (a user's, whose rights come from directory roles), a user's ARM token
//! (its roles often come through groups, which assignments by principal id do not
//! show) or a condition in another form is not judged here: the service judges it.
//! Sources: field-notes-2026-12.md §6; azure-docs `role-based-access-control/role-definitions.md`
//! (actions, notActions, wildcards), `conditions-format.md`.

use std::collections::BTreeMap;

use base64::Engine;
use serde_json::Value;

use crate::diff::{Change, Diff};
use crate::error::{Error, Result};
use crate::plan::Plan;

use super::reports::Live;

/// A role the operator holds in ARM, with what its definition allows.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct HeldRole {
    pub scope: String,
    pub role_definition_id: String,
    pub actions: Vec<String>,
    pub not_actions: Vec<String>,
    pub condition: Option<String>,
}

/// What the operator holds, as far as the executor could read it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OperatorRights {
    /// The app roles of the operator's Graph token; `None` when it carries none.
    pub graph_roles: Option<Vec<String>>,
    /// The operator's object id (`oid` of its tokens).
    pub object_id: Option<String>,
    /// Owners (object ids) of the existing apps the diff changes, by plan label.
    pub owners: BTreeMap<String, Vec<String>>,
    /// Its ARM role assignments; `None` when not read (no ARM writes, or no `oid`).
    pub arm: Option<Vec<HeldRole>>,
}

/// The claims of a JWT access token, unverified (the service verified it); `None`
/// when the token is not a JWT.
pub fn token_claims(token: &str) -> Option<Value> {
    let payload = token.split('.').nth(1)?;
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload.trim_end_matches('='))
        .ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The app roles and object id in a token's claims.
pub fn roles_and_oid(claims: &Value) -> (Option<Vec<String>>, Option<String>) {
    let roles = claims["roles"].as_array().map(|a| {
        a.iter()
            .filter_map(Value::as_str)
            .map(str::to_owned)
            .collect()
    });
    (roles, claims["oid"].as_str().map(str::to_owned))
}

/// One ARM write a diff makes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArmWrite {
    pub action: &'static str,
    pub scope: String,
    /// For role assignment writes and deletes: the role definition's GUID.
    pub role: Option<String>,
    pub what: String,
}

/// Graph writes by app label: whether the diff creates the app, and what else it does.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GraphWrites {
    pub creates: bool,
    pub changes: Vec<String>,
}

/// The Graph and ARM writes of `diff`.
pub fn writes(
    plan: &Plan,
    live: &Live,
    diff: &Diff,
) -> (BTreeMap<String, GraphWrites>, Vec<ArmWrite>) {
    let mut graph: BTreeMap<String, GraphWrites> = BTreeMap::new();
    let mut arm = Vec::new();
    let identity_of = |label: &str| plan.holder(label).and_then(|a| a.identity_id());
    let guid = |id: &str| {
        id.rsplit('/')
            .next()
            .unwrap_or_default()
            .to_ascii_lowercase()
    };
    let role_deletes = |label: &str, arm: &mut Vec<ArmWrite>| {
        if let Some(seen) = live.app(label)
            && let Some(principal) = &seen.service_principal_id
        {
            for ra in seen
                .role_assignments
                .iter()
                .filter(|r| r.principal_id.eq_ignore_ascii_case(principal))
            {
                arm.push(ArmWrite {
                    action: "Microsoft.Authorization/roleAssignments/delete",
                    scope: ra.scope.clone(),
                    role: Some(guid(&ra.role_definition_id)),
                    what: format!("remove role assignment {} of {label}", ra.name),
                });
            }
        }
    };
    for change in &diff.changes {
        let label = change.app();
        let identity = identity_of(label);
        match change {
            Change::CreateApp { .. } => graph.entry(label.to_owned()).or_default().creates = true,
            Change::UpdateApp { .. }
            | Change::CreateServicePrincipal { .. }
            | Change::DeleteApp { .. } => {
                graph
                    .entry(label.to_owned())
                    .or_default()
                    .changes
                    .push(change.summary());
                if matches!(change, Change::DeleteApp { .. }) {
                    role_deletes(label, &mut arm);
                }
            }
            Change::CreateCredential { .. }
            | Change::UpdateCredential { .. }
            | Change::DeleteCredential { .. } => match &identity {
                Some(id) => arm.push(ArmWrite {
                    action: if matches!(change, Change::DeleteCredential { .. }) {
                        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/delete"
                    } else {
                        "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials/write"
                    },
                    scope: id.clone(),
                    role: None,
                    what: change.summary(),
                }),
                None => graph
                    .entry(label.to_owned())
                    .or_default()
                    .changes
                    .push(change.summary()),
            },
            Change::CreateIdentity { .. } | Change::UpdateIdentity { .. } => arm.push(ArmWrite {
                action: "Microsoft.ManagedIdentity/userAssignedIdentities/write",
                scope: identity.unwrap_or_default(),
                role: None,
                what: change.summary(),
            }),
            Change::DeleteIdentity { id, .. } => {
                role_deletes(label, &mut arm);
                arm.push(ArmWrite {
                    action: "Microsoft.ManagedIdentity/userAssignedIdentities/delete",
                    scope: id.clone(),
                    role: None,
                    what: change.summary(),
                });
            }
            Change::CreateRoleAssignment {
                scope,
                role_definition_id,
                ..
            } => arm.push(ArmWrite {
                action: "Microsoft.Authorization/roleAssignments/write",
                scope: scope.clone(),
                role: Some(guid(role_definition_id)),
                what: change.summary(),
            }),
            Change::DeleteRoleAssignment {
                scope,
                role_definition_id,
                ..
            } => arm.push(ArmWrite {
                action: "Microsoft.Authorization/roleAssignments/delete",
                scope: scope.clone(),
                role: Some(guid(role_definition_id)),
                what: change.summary(),
            }),
            Change::ConfigureDeploymentSettings { .. } | Change::WriteEscEnvironment { .. } => {}
        }
    }
    (graph, arm)
}

/// Azure's action match: `*` stands for any run of characters, case is ignored.
fn action_matches(pattern: &str, action: &str) -> bool {
    let p = pattern.to_ascii_lowercase();
    let a = action.to_ascii_lowercase();
    let parts: Vec<&str> = p.split('*').collect();
    if parts.len() == 1 {
        return p == a;
    }
    let mut rest = a.as_str();
    for (i, part) in parts.iter().enumerate() {
        if i == 0 {
            let Some(r) = rest.strip_prefix(part) else {
                return false;
            };
            rest = r;
        } else if i == parts.len() - 1 {
            return rest.ends_with(part);
        } else if let Some(at) = rest.find(part) {
            rest = &rest[at + part.len()..];
        } else {
            return false;
        }
    }
    true
}

/// Whether `scope` is at or below `held`.
fn covers(held: &str, scope: &str) -> bool {
    let h = held.trim_end_matches('/').to_ascii_lowercase();
    let s = scope.trim_end_matches('/').to_ascii_lowercase();
    h.is_empty() || s == h || s.starts_with(&format!("{h}/"))
}

/// The values inside the braces that follow `marker` in `text`.
fn set_after(text: &str, marker: &str) -> Option<Vec<String>> {
    let at = text.find(marker)? + marker.len();
    let open = text[at..].find('{')? + at + 1;
    let close = text[open..].find('}')? + open;
    Some(
        text[open..close]
            .split(',')
            .map(|v| v.trim().trim_matches('\'').to_ascii_lowercase())
            .filter(|v| !v.is_empty())
            .collect(),
    )
}

/// What a condition of the form `permissions` writes allows for one role assignment
/// write or delete: `Some(true/false)`, or `None` when it says nothing this judges.
fn condition_allows(condition: &str, write: &ArmWrite) -> Option<bool> {
    let verb = write.action.rsplit('/').next().unwrap_or_default();
    let marker = format!("Microsoft.Authorization/roleAssignments/{verb}'}}");
    let at = condition.find(&marker)?;
    // The clause about this action runs to the next `ActionMatches`.
    let clause = &condition[at..];
    let clause = match clause[marker.len()..].find("ActionMatches") {
        Some(end) => &clause[..marker.len() + end],
        None => clause,
    };
    let roles = set_after(clause, "RoleDefinitionId] ForAnyOfAnyValues:GuidEquals");
    let types = set_after(
        clause,
        "PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase",
    );
    if roles.is_none() && types.is_none() {
        return None;
    }
    let role_ok = match (&roles, &write.role) {
        (Some(allowed), Some(r)) => allowed.contains(r),
        _ => true,
    };
    let type_ok = types.is_none_or(|t| t.iter().any(|v| v == "serviceprincipal"));
    Some(role_ok && type_ok)
}

fn arm_allows(held: &[HeldRole], write: &ArmWrite) -> bool {
    held.iter().any(|h| {
        covers(&h.scope, &write.scope)
            && h.actions.iter().any(|a| action_matches(a, write.action))
            && !h
                .not_actions
                .iter()
                .any(|a| action_matches(a, write.action))
            && h.condition
                .as_deref()
                .is_none_or(|c| condition_allows(c, write).unwrap_or(true))
    })
}

/// A read refused while observing (403 from Graph or ARM) as the right it shows to be
/// missing, so the run stops saying what to grant rather than with a bare 403.
pub fn refused_read(error: Error, config_hint: &str) -> Error {
    let Error::Service {
        service,
        operation,
        status: 403,
        code,
        message,
    } = &error
    else {
        return error;
    };
    let right = if *service == super::Service::Graph.name() {
        "a Graph application permission that reads apps: Application.ReadWrite.OwnedBy (which this tool's runs need anyway) or Application.Read.All".to_owned()
    } else if *service == super::Service::Arm.name() {
        "read access where the config places holders or grants roles (Role Based Access Control Administrator or Managed Identity Contributor there, as `permissions` prints)".to_owned()
    } else {
        return error;
    };
    Error::InsufficientRights {
        right,
        detail: format!("{operation} was refused ({code}: {message})"),
        fix: format!(
            "`pulumi-azure-oidc permissions --config {config_hint}` prints the least rights this config needs, and `--output az --operator <client id>` the commands that grant them"
        ),
    }
}

/// Refuse the run when the operator lacks a right one of `diff`'s writes needs.
/// `config_hint` is how the user named the config, for the fix.
pub fn check(
    plan: &Plan,
    live: &Live,
    diff: &Diff,
    rights: &OperatorRights,
    config_hint: &str,
) -> Result<()> {
    let fix = format!(
        "`pulumi-azure-oidc permissions --config {config_hint}` prints the least rights this config needs, and `--output az --operator <client id>` the commands that grant them; a right held only through a group is not seen by this check, and `--skip-rights-check` leaves the judging to Azure"
    );
    let (graph, arm) = writes(plan, live, diff);
    if let Some(roles) = &rights.graph_roles {
        let has = |r: &str| roles.iter().any(|x| x.eq_ignore_ascii_case(r));
        let all = has("Application.ReadWrite.All");
        let owned_by = has("Application.ReadWrite.OwnedBy");
        for (label, w) in &graph {
            if w.creates && !(all || owned_by || has("AppRegistration.Create")) {
                return Err(Error::InsufficientRights {
                    right: "the Graph application permission AppRegistration.Create".into(),
                    detail: format!("it would create app {label}"),
                    fix,
                });
            }
            if all || (w.changes.is_empty() && !w.creates) {
                continue;
            }
            // What the operator creates it owns; anything more on it needs OwnedBy.
            if !owned_by {
                return Err(Error::InsufficientRights {
                    right: "the Graph application permission Application.ReadWrite.OwnedBy".into(),
                    detail: format!(
                        "it would then change app {label} ({})",
                        w.changes
                            .first()
                            .cloned()
                            .unwrap_or_else(|| "its credentials".into())
                    ),
                    fix,
                });
            }
            if w.creates {
                continue;
            }
            let owns = match (&rights.object_id, rights.owners.get(label)) {
                (Some(me), Some(owners)) => owners.iter().any(|o| o.eq_ignore_ascii_case(me)),
                _ => true,
            };
            if !owns {
                let client = live
                    .app(label)
                    .map(|a| a.app_id.clone())
                    .unwrap_or_default();
                return Err(Error::InsufficientRights {
                    right: format!("ownership of app {label} (client id {client})"),
                    detail: format!(
                        "Application.ReadWrite.OwnedBy reaches only the apps it owns, and it would change this one ({})",
                        w.changes.first().cloned().unwrap_or_default()
                    ),
                    fix: format!(
                        "an admin runs `az ad app owner add --id {client} --owner-object-id {}`; {fix}",
                        rights
                            .object_id
                            .as_deref()
                            .unwrap_or("<operator object id>")
                    ),
                });
            }
        }
    }
    if let Some(held) = &rights.arm {
        for w in &arm {
            if !arm_allows(held, w) {
                let right = match w.action {
                    a if a.starts_with("Microsoft.Authorization/") => format!(
                        "Role Based Access Control Administrator (or another role allowing {a}) at {}{}",
                        w.scope,
                        w.role
                            .as_deref()
                            .map(|r| format!(", with a condition that allows role {r}"))
                            .unwrap_or_default()
                    ),
                    a => format!(
                        "Managed Identity Contributor (or another role allowing {a}) on {}",
                        w.scope.split("/providers/").next().unwrap_or(&w.scope)
                    ),
                };
                return Err(Error::InsufficientRights {
                    right,
                    detail: format!(
                        "it would {}",
                        w.what.trim_start_matches(['+', '-', '~', ' '])
                    ),
                    fix,
                });
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;
    use crate::diff::{DiffOptions, ObservedState, diff};

    const SUB: &str = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";

    fn setup() -> (Plan, Live, Diff) {
        let c = Config::from_yaml(&format!(
            "org: contoso\nmanagedIdentity: {{ subscription: {SUB}, resourceGroup: rg, location: westeurope }}\n\
             deployments:\n  - project: core\n    stack: dev\n    roles: [{{ role: Reader, scope: /subscriptions/{SUB} }}]\n  - project: web\n    stack: dev\n    holder: managedIdentity\n"
        ))
        .unwrap();
        let plan = crate::plan::plan(&c).unwrap();
        let live = Live {
            state: ObservedState::default(),
        };
        let d = diff(&plan, &live.state, DiffOptions::default()).unwrap();
        (plan, live, d)
    }

    fn rbac(roles: &[&str]) -> HeldRole {
        HeldRole {
            scope: format!("/subscriptions/{SUB}"),
            role_definition_id: "f58310d9-a9f6-439a-9e8d-f62e7b41a168".into(),
            actions: vec![
                "Microsoft.Authorization/roleAssignments/write".into(),
                "Microsoft.Authorization/roleAssignments/delete".into(),
                "*/read".into(),
            ],
            not_actions: vec![],
            condition: Some(crate::permissions::rbac_condition(
                &roles.iter().map(|r| (*r).to_owned()).collect::<Vec<_>>(),
            )),
        }
    }

    fn mi_contributor() -> HeldRole {
        HeldRole {
            scope: format!("/subscriptions/{SUB}/resourceGroups/rg"),
            actions: vec!["Microsoft.ManagedIdentity/userAssignedIdentities/*".into()],
            ..HeldRole::default()
        }
    }

    #[test]
    fn least_rights_pass_and_each_missing_one_is_named() {
        let (plan, live, d) = setup();
        let reader = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
        let ok = OperatorRights {
            graph_roles: Some(vec![
                "AppRegistration.Create".into(),
                "Application.ReadWrite.OwnedBy".into(),
            ]),
            object_id: Some("op".into()),
            owners: BTreeMap::new(),
            arm: Some(vec![rbac(&[reader]), mi_contributor()]),
        };
        check(&plan, &live, &d, &ok, "c.yaml").unwrap();

        let no_owned_by = OperatorRights {
            graph_roles: Some(vec!["AppRegistration.Create".into()]),
            ..ok.clone()
        };
        let e = check(&plan, &live, &d, &no_owned_by, "c.yaml").unwrap_err();
        assert!(
            e.to_string().contains("Application.ReadWrite.OwnedBy"),
            "{e}"
        );
        assert!(e.to_string().contains("permissions --config c.yaml"), "{e}");

        let wrong_role = OperatorRights {
            arm: Some(vec![
                rbac(&["b24988ac-6180-42a0-ab88-20f7382dd24c"]),
                mi_contributor(),
            ]),
            ..ok.clone()
        };
        let e = check(&plan, &live, &d, &wrong_role, "c.yaml").unwrap_err();
        assert!(
            e.to_string().contains(&format!("allows role {reader}")),
            "{e}"
        );

        let no_identity_rights = OperatorRights {
            arm: Some(vec![rbac(&[reader])]),
            ..ok.clone()
        };
        let e = check(&plan, &live, &d, &no_identity_rights, "c.yaml").unwrap_err();
        assert!(
            e.to_string().contains("Managed Identity Contributor"),
            "{e}"
        );
        assert!(e.to_string().contains("resourceGroups/rg"), "{e}");
    }

    #[test]
    fn actions_and_tokens() {
        assert!(action_matches(
            "*",
            "Microsoft.Authorization/roleAssignments/write"
        ));
        assert!(action_matches(
            "Microsoft.Authorization/*",
            "microsoft.authorization/roleAssignments/write"
        ));
        assert!(!action_matches(
            "*/read",
            "Microsoft.Authorization/roleAssignments/write"
        ));
        assert!(covers("/", "/subscriptions/x"));
        assert!(!covers(
            "/subscriptions/x/resourceGroups/a",
            "/subscriptions/x/resourceGroups/ab"
        ));
        let payload = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .encode(br#"{"roles":["Application.ReadWrite.OwnedBy"],"oid":"o"}"#);
        let claims = token_claims(&format!("h.{payload}.s")).unwrap();
        assert_eq!(
            roles_and_oid(&claims),
            (
                Some(vec!["Application.ReadWrite.OwnedBy".to_owned()]),
                Some("o".to_owned())
            )
        );
        assert!(token_claims("opaque-token").is_none());
    }
}
