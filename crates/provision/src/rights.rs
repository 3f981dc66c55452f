//! Reading what the operator holds, for the check `apply` makes before its first
//! write (the judging is the core's, `provision::rights`): its tokens' app roles and
//! object id, the owners of the apps it would change, and its role assignments where
//! it would write, with their definitions.

use std::collections::{BTreeMap, BTreeSet};

use pulumi_azure_oidc::error::Result;
use pulumi_azure_oidc::provision::requests;
use pulumi_azure_oidc::provision::rights::{
    HeldRole, OperatorRights, roles_and_oid, token_claims, writes,
};
use pulumi_azure_oidc::provision::{AppIds, Prepared};

use super::Provisioner;

/// The scope to list the operator's assignments at for a write at `scope`: an
/// identity's resource group (a list there includes assignments above it), else the
/// scope itself.
fn listing_scope(scope: &str) -> String {
    match scope
        .to_ascii_lowercase()
        .find("/providers/microsoft.managedidentity/")
    {
        Some(i) => scope[..i].to_owned(),
        None => scope.to_owned(),
    }
}

impl Provisioner {
    pub(crate) async fn operator_rights(&self, prepared: &Prepared) -> Result<OperatorRights> {
        let (graph, arm) = writes(&prepared.plan, &prepared.live, &prepared.diff);
        let mut rights = OperatorRights::default();
        if !graph.is_empty() {
            let scope = self.endpoints.graph_scope.clone();
            let token = self.bearer(&scope).await?;
            if let Some(claims) = token_claims(token.expose()) {
                let (roles, oid) = roles_and_oid(&claims);
                rights.graph_roles = roles;
                rights.object_id = oid;
            }
            let reaches_all = rights.graph_roles.as_ref().is_some_and(|r| {
                r.iter()
                    .any(|x| x.eq_ignore_ascii_case("Application.ReadWrite.All"))
            });
            if rights.graph_roles.is_some() && !reaches_all {
                for (label, _) in graph.iter().filter(|(_, w)| !w.creates) {
                    let Some(app) = prepared.live.app(label) else {
                        continue;
                    };
                    let ids = AppIds {
                        id: app.id.clone(),
                        app_id: app.app_id.clone(),
                    };
                    let mut next = Some(requests::list_app_owners(&ids, label));
                    let mut owners = Vec::new();
                    while let Some(r) = next {
                        let (items, more) =
                            requests::read_page(self.send(&r).await?, &r, &self.endpoints.graph)?;
                        owners.extend(
                            items
                                .iter()
                                .filter_map(|v| v["id"].as_str().map(str::to_owned)),
                        );
                        next = more;
                    }
                    rights.owners.insert(label.clone(), owners);
                }
            }
        }
        if !arm.is_empty() {
            let scope = self.endpoints.arm_scope.clone();
            let token = self.bearer(&scope).await?;
            // Judged for an application's own token only: a user's (it has `scp`) often
            // holds its roles through groups, which its assignments by principal id
            // do not show.
            let oid = token_claims(token.expose())
                .filter(|c| c.get("scp").is_none())
                .and_then(|c| roles_and_oid(&c).1);
            if let Some(oid) = oid {
                rights.object_id.get_or_insert(oid.clone());
                let scopes: BTreeSet<String> =
                    arm.iter().map(|w| listing_scope(&w.scope)).collect();
                let mut held: Vec<(String, String, Option<String>)> = Vec::new();
                for scope in scopes {
                    let mut next = Some(requests::list_role_assignments(&scope, &oid));
                    while let Some(r) = next {
                        let answer = self.send(&r).await?;
                        // Unable to read its own assignments there, it holds none that
                        // would let it write there either.
                        if answer.status == 403 {
                            break;
                        }
                        let (items, more) =
                            requests::read_arm_page(answer, &r, &self.endpoints.arm)?;
                        for h in requests::read_held_assignments(&items) {
                            if !held.contains(&h) {
                                held.push(h);
                            }
                        }
                        next = more;
                    }
                }
                // Each definition is read at the scope of an assignment of it: the
                // operator can read there, maybe nowhere above (a role on a resource
                // group only).
                let mut definitions: BTreeMap<String, (Vec<String>, Vec<String>)> = BTreeMap::new();
                for (scope, id, _) in &held {
                    if definitions.contains_key(id) {
                        continue;
                    }
                    let guid = id.rsplit('/').next().unwrap_or_default();
                    let at = format!(
                        "{}/providers/Microsoft.Authorization/roleDefinitions/{guid}",
                        scope.trim_end_matches('/')
                    );
                    let r = requests::get_role_definition(&at);
                    let answer = self.send(&r).await?;
                    // Unreadable, it grants nothing this check can count on.
                    let perms = if answer.status == 403 {
                        Default::default()
                    } else {
                        requests::read_optional(answer, &r)?
                            .as_ref()
                            .map(requests::read_role_permissions)
                            .unwrap_or_default()
                    };
                    definitions.insert(id.clone(), perms);
                }
                rights.arm = Some(
                    held.into_iter()
                        .map(|(scope, id, condition)| {
                            let (actions, not_actions) =
                                definitions.get(&id).cloned().unwrap_or_default();
                            HeldRole {
                                scope,
                                role_definition_id: id,
                                actions,
                                not_actions,
                                condition,
                            }
                        })
                        .collect(),
                );
            }
        }
        Ok(rights)
    }
}
