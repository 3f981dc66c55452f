//! The least rights an operator needs to apply, check and destroy one exact config:
//! `pulumi-azure-oidc permissions --config FILE`. Pure: computed from the plan alone.
//!
//! Sources (field-notes-2026-12.md §6):
//! - Graph: `POST /applications` needs `AppRegistration.Create` at least; an app
//!   created so is owned by its creator, and `Application.ReadWrite.OwnedBy` then
//!   manages it, its credentials and its service principal (and lists every app),
//!   never an app it does not own (microsoft-graph-docs-contrib
//!   `application-post-applications.md`, `permissions-reference.md`). An existing app a
//!   config pins is not owned by the operator: an admin adds the operator as an owner
//!   (`Application.ReadWrite.OwnedBy` cannot add owners, `application-post-owners.md`).
//! - ARM: *Role Based Access Control Administrator* (`f58310d9-…`) with a version 2.0
//!   condition limiting which role definitions it may assign or remove, and to which
//!   principal types (azure-docs `role-based-access-control/delegate-role-assignments-examples.md`,
//!   `conditions-authorization-actions-attributes.md`); *Managed Identity Contributor*
//!   (`e40ec5ca-…`) on each resource group that holds identities (azure-docs
//!   `built-in-roles/identity.md`).
//! - Pulumi Cloud: the RBAC scopes `stack_deployment_settings:read|write` on each
//!   stack and `environment:read|write` on each environment, in the default permission
//!   sets *Stack Write* and *Environment Write*; creating environments is an
//!   organization-level scope (pulumi.com `administration/reference/rbac-scopes`).

use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::Serialize;

use crate::join::Joined;
use crate::plan::Plan;
use crate::target::Target;

/// The Microsoft Graph service principal's well-known application id.
pub const GRAPH_APP_ID: &str = "00000003-0000-0000-c000-000000000000";
/// *Role Based Access Control Administrator*.
pub const RBAC_ADMINISTRATOR: &str = "f58310d9-a9f6-439a-9e8d-f62e7b41a168";
/// *Managed Identity Contributor*.
pub const MANAGED_IDENTITY_CONTRIBUTOR: &str = "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59";

/// One Graph application permission (an app role of Microsoft Graph).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GraphRight {
    pub permission: String,
    pub why: String,
}

/// An existing app the operator must own (an admin adds it as an owner).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct OwnerOf {
    pub client_id: String,
    pub why: String,
}

/// One ARM role assignment for the operator.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ArmRight {
    pub role: String,
    pub role_definition_id: String,
    pub scope: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub condition_version: Option<String>,
    pub why: String,
}

/// One Pulumi Cloud RBAC scope, on an entity or on the organization.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PulumiRight {
    pub scopes: Vec<String>,
    /// `stack ORG/PROJECT/STACK`, `environment ORG/PROJECT/ENV` or `organization ORG`.
    pub on: String,
    pub why: String,
}

/// Everything an operator needs for one config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Permissions {
    pub org: String,
    pub graph: Vec<GraphRight>,
    pub owner_of: Vec<OwnerOf>,
    pub arm: Vec<ArmRight>,
    pub pulumi: Vec<PulumiRight>,
}

/// The condition that lets a *Role Based Access Control Administrator* assign and
/// remove only `role_ids`, and only for service principals (which is what the
/// holders' principals are). Writes are judged on the request, deletes on the
/// assignment being removed.
pub fn rbac_condition(role_ids: &[String]) -> String {
    let ids = role_ids.joined(", ");
    let part = |action: &str, source: &str| {
        format!(
            "((!(ActionMatches{{'Microsoft.Authorization/roleAssignments/{action}'}})) OR \
             (@{source}[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{{ids}}} \
             AND @{source}[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {{'ServicePrincipal'}}))"
        )
    };
    format!(
        "{} AND {}",
        part("write", "Request"),
        part("delete", "Resource")
    )
}

/// The least rights for `plan`.
pub fn permissions(plan: &Plan) -> Permissions {
    let mut graph = Vec::new();
    let made_apps = plan
        .apps
        .iter()
        .filter(|a| a.identity.is_none() && a.pinned_client_id.is_none())
        .count();
    let pinned: Vec<&str> = plan
        .apps
        .iter()
        .filter_map(|a| a.pinned_client_id.as_deref())
        .collect();
    if made_apps > 0 {
        graph.push(GraphRight {
            permission: "AppRegistration.Create".into(),
            why: format!(
                "create the {made_apps} app{} this config plans; the operator becomes each one's owner",
                if made_apps == 1 { "" } else { "s" }
            ),
        });
    }
    if made_apps > 0 || !pinned.is_empty() {
        graph.push(GraphRight {
            permission: "Application.ReadWrite.OwnedBy".into(),
            why: "read every app, and manage the apps, credentials and service principals the operator owns, and no others".into(),
        });
    }
    let owner_of = pinned
        .iter()
        .map(|c| OwnerOf {
            client_id: (*c).to_owned(),
            why: "an existing app this config pins (`holder: { clientId }`): Application.ReadWrite.OwnedBy reaches it only once the operator owns it".into(),
        })
        .collect();

    // Role definitions per subscription: the executor lists each holder's assignments
    // across the subscription (to find the ones it no longer needs), so the delegated
    // administrator sits there, its condition naming exactly the config's roles.
    let mut by_subscription: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for g in plan.apps.iter().flat_map(|a| &a.roles) {
        let scope = match g.scope.subscription() {
            Some(s) => format!("/subscriptions/{}", s.as_str()),
            None => g.scope.as_str().to_owned(),
        };
        let ids = by_subscription.entry(scope).or_default();
        let id = g.role.id.to_string();
        if !ids.contains(&id) {
            ids.push(id);
        }
    }
    let mut arm: Vec<ArmRight> = by_subscription
        .into_iter()
        .map(|(scope, mut ids)| {
            ids.sort();
            ArmRight {
                role: "Role Based Access Control Administrator".into(),
                role_definition_id: RBAC_ADMINISTRATOR.into(),
                condition: Some(rbac_condition(&ids)),
                condition_version: Some("2.0".into()),
                why: format!(
                    "assign and remove only the config's role{} ({}) and only for service principals; read the holders' assignments here",
                    if ids.len() == 1 { "" } else { "s" },
                    ids.joined(", ")
                ),
                scope,
            }
        })
        .collect();
    for group in plan.identity_resource_groups() {
        arm.push(ArmRight {
            role: "Managed Identity Contributor".into(),
            role_definition_id: MANAGED_IDENTITY_CONTRIBUTOR.into(),
            scope: group,
            condition: None,
            condition_version: None,
            why: "create, tag and delete the config's managed identities and write their federated credentials".into(),
        });
    }

    let mut pulumi = Vec::new();
    let mut has_envs = false;
    for t in plan.apps.iter().flat_map(|a| &a.targets) {
        match &t.target {
            Target::Deployment(d) => pulumi.push(PulumiRight {
                scopes: vec![
                    "stack_deployment_settings:read".into(),
                    "stack_deployment_settings:write".into(),
                ],
                on: format!("stack {}/{}/{}", d.org, d.project, d.stack),
                why: "read and write the stack's Azure OIDC deployment settings (in the Stack Write permission set)".into(),
            }),
            Target::Esc(e) => {
                has_envs = true;
                pulumi.push(PulumiRight {
                    scopes: vec!["environment:read".into(), "environment:write".into()],
                    on: format!("environment {}/{}/{}", e.org, e.env.project, e.env.env),
                    why: "read the definition and merge the azure-login block into it (in the Environment Write permission set)".into(),
                });
            }
        }
    }
    if has_envs {
        pulumi.push(PulumiRight {
            scopes: vec!["environment:create".into()],
            on: format!("organization {}", plan.org),
            why: "create an environment the config names that does not exist yet (an organization-level scope)".into(),
        });
    }
    Permissions {
        org: plan.org.to_string(),
        graph,
        owner_of,
        arm,
        pulumi,
    }
}

fn q(value: &str) -> String {
    shlex::try_quote(value)
        .map(|c| c.into_owned())
        .unwrap_or_else(|_| "''".to_owned())
}

impl Permissions {
    /// For people: each right with why it is needed.
    pub fn text(&self) -> String {
        let mut o = format!(
            "Least rights for the operator of organization {}:\n",
            self.org
        );
        o.push_str("\nMicrosoft Graph (application permissions):\n");
        if self.graph.is_empty() {
            o.push_str("  none: this config holds its credentials in managed identities only\n");
        }
        for g in &self.graph {
            let _ = writeln!(o, "  {}: {}", g.permission, g.why);
        }
        for a in &self.owner_of {
            let _ = writeln!(o, "  owner of app {}: {}", a.client_id, a.why);
        }
        o.push_str("\nAzure RBAC:\n");
        if self.arm.is_empty() {
            o.push_str("  none: this config assigns no roles and holds no managed identities\n");
        }
        for a in &self.arm {
            let _ = writeln!(o, "  {} at {}: {}", a.role, a.scope, a.why);
            if let Some(c) = &a.condition {
                let _ = write!(
                    o,
                    "    condition (version {}):\n      {c}\n",
                    a.condition_version.as_deref().unwrap_or("2.0")
                );
            }
        }
        o.push_str("\nPulumi Cloud (RBAC scopes of the access token's role):\n");
        for p in &self.pulumi {
            let _ = writeln!(o, "  {} on {}: {}", p.scopes.joined(", "), p.on, p.why);
        }
        o
    }

    /// A bash script of `az` commands granting exactly these rights to the operator
    /// whose client id is `operator` (its service principal receives them). Pulumi
    /// Cloud roles have no `az` command; they are listed as comments.
    pub fn az_commands(&self, operator: &str) -> String {
        let mut o = String::new();
        let mut line = |s: String| {
            o.push_str(&s);
            o.push('\n');
        };
        line("#!/usr/bin/env bash".into());
        line(format!(
            "# The least rights for the operator {operator} of Pulumi organization {}, generated by pulumi-azure-oidc {}.",
            self.org,
            env!("CARGO_PKG_VERSION")
        ));
        line(
            "# Run as an admin who may grant Graph application permissions and assign roles."
                .into(),
        );
        line("set -euo pipefail".into());
        line(
            "GRAPH_RESOURCE=\"${GRAPH_RESOURCE:-$(az cloud show --query endpoints.microsoftGraphResourceId -o tsv)}\"".into(),
        );
        line("GRAPH=\"${GRAPH_URL:-${GRAPH_RESOURCE%/}/v1.0}\"".into());
        line(format!(
            "OPERATOR_SP=$(az ad sp show --id {} --query id -o tsv)",
            q(operator)
        ));
        if !self.graph.is_empty() {
            line(format!(
                "GRAPH_SP=$(az ad sp show --id {GRAPH_APP_ID} --query id -o tsv)"
            ));
        }
        for g in &self.graph {
            line(format!("# {}", g.why));
            line(format!(
                "ROLE_ID=$(az ad sp show --id {GRAPH_APP_ID} --query \"appRoles[?value=='{}'].id | [0]\" -o tsv)",
                g.permission
            ));
            // Graph refuses a second identical grant (400), so the script looks first
            // and is safe to re-run.
            line(format!(
                "[ \"$(az rest --method get --url \"$GRAPH/servicePrincipals/$OPERATOR_SP/appRoleAssignments\" --resource \"$GRAPH_RESOURCE\" --query \"length(value[?appRoleId=='$ROLE_ID'])\" -o tsv)\" != 0 ] \\\n  || az rest --method post --url \"$GRAPH/servicePrincipals/$GRAPH_SP/appRoleAssignedTo\" --resource \"$GRAPH_RESOURCE\" --headers Content-Type=application/json \\\n  --body \"{{\\\"principalId\\\": \\\"$OPERATOR_SP\\\", \\\"resourceId\\\": \\\"$GRAPH_SP\\\", \\\"appRoleId\\\": \\\"$ROLE_ID\\\"}}\" >/dev/null  # {}",
                g.permission
            ));
        }
        for a in &self.owner_of {
            line(format!("# {}", a.why));
            line(format!(
                "[ \"$(az ad app owner list --id {id} --query \"length([?id=='$OPERATOR_SP'])\" -o tsv)\" != 0 ] \\\n  || az ad app owner add --id {id} --owner-object-id \"$OPERATOR_SP\"",
                id = q(&a.client_id)
            ));
        }
        for a in &self.arm {
            line(format!("# {}: {}", a.role, a.why));
            let mut cmd = format!(
                "az role assignment create --assignee-object-id \"$OPERATOR_SP\" --assignee-principal-type ServicePrincipal --role {} --scope {}",
                q(&a.role_definition_id),
                q(&a.scope)
            );
            if let (Some(c), Some(v)) = (&a.condition, &a.condition_version) {
                let _ = write!(
                    cmd,
                    " \\\n  --condition {} --condition-version {}",
                    q(c),
                    q(v)
                );
            }
            cmd.push_str(" >/dev/null");
            line(cmd);
        }
        line(
            "# Pulumi Cloud: give the access token's team or role these scopes (Settings > Roles):"
                .into(),
        );
        for p in &self.pulumi {
            line(format!("#   {} on {}", p.scopes.joined(", "), p.on));
        }
        o
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::Config;

    const SUB: &str = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";

    #[test]
    fn an_identities_only_config_needs_nothing_from_graph() {
        let c = Config::from_yaml(&format!(
            "org: contoso\nholder: {{ managedIdentity: {{ subscription: {SUB}, resourceGroup: rg-oidc, location: westeurope }} }}\n\
             deployments:\n  - project: core\n    stack: dev\n    roles: [{{ role: Reader, scope: /subscriptions/{SUB}/resourceGroups/app }}]\n"
        ))
        .unwrap();
        let p = permissions(&crate::plan::plan(&c).unwrap());
        assert!(p.graph.is_empty());
        assert_eq!(p.arm.len(), 2);
        let rbac = &p.arm[0];
        assert_eq!(rbac.scope, format!("/subscriptions/{SUB}"));
        let cond = rbac.condition.as_deref().unwrap();
        assert!(
            cond.contains("GuidEquals {acdd72a7-3385-48ef-bd42-f606fba81ae7}"),
            "{cond}"
        );
        assert!(cond.contains("{'ServicePrincipal'}"), "{cond}");
        assert_eq!(p.arm[1].role, "Managed Identity Contributor");
        assert!(
            p.text()
                .contains("none: this config holds its credentials in managed identities only")
        );
        let az = p.az_commands("0c9d8e7f-6a5b-4c3d-8e2f-1a0b9c8d7e6f");
        assert!(az.contains("--condition-version 2.0"), "{az}");
        assert!(!az.contains("appRoleAssignedTo"), "{az}");
    }

    #[test]
    fn apps_need_create_and_owned_by_and_pinned_apps_an_owner() {
        let c = Config::from_yaml(
            "org: contoso\ndeployments:\n  - project: core\n    stack: dev\nesc:\n  - project: a\n    env: b\n    holder: { clientId: 11111111-2222-3333-4444-555555555555 }\n",
        )
        .unwrap();
        let p = permissions(&crate::plan::plan(&c).unwrap());
        let names: Vec<&str> = p.graph.iter().map(|g| g.permission.as_str()).collect();
        assert_eq!(
            names,
            ["AppRegistration.Create", "Application.ReadWrite.OwnedBy"]
        );
        assert_eq!(
            p.owner_of[0].client_id,
            "11111111-2222-3333-4444-555555555555"
        );
        assert!(p.arm.is_empty());
        assert!(p.pulumi.iter().any(|r| r.scopes == ["environment:create"]));
        let az = p.az_commands("op");
        assert!(
            az.contains("az ad app owner add --id 11111111-2222-3333-4444-555555555555"),
            "{az}"
        );
    }
}
