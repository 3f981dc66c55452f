//! The order of the work: which of an app's changes wait for which, what a run has
//! learned about each app, and what `destroy` removes and keeps. Pure.

use std::collections::{BTreeMap, BTreeSet};

use super::reports::{AppSummary, DestroyPlan, DestroyStep, Live};
use super::requests::AppIds;
use crate::config::KeyVaultSecrets;
use crate::credential::MANAGED_MARKER;
use crate::diff::{Change, ObservedApp};
use crate::join::Joined;
use crate::plan::{MANAGED_TAG, Plan, PlannedTarget};
use crate::target::{EscTarget, Target};

/// The ESC environment `org/project/env` as app `label` plans it, with its Key Vault
/// secrets, if the plan has it there.
pub fn planned_env<'a>(
    plan: &'a Plan,
    label: &str,
    org: &str,
    project: &str,
    env: &str,
) -> Option<(&'a EscTarget, Option<&'a KeyVaultSecrets>)> {
    plan.apps
        .iter()
        .filter(|a| a.unique_name == label)
        .flat_map(|a| &a.targets)
        .find_map(|t| match &t.target {
            Target::Esc(e)
                if e.org.as_str() == org
                    && e.env.project.as_str() == project
                    && e.env.env.as_str() == env =>
            {
                Some((e, t.key_vault.as_ref()))
            }
            _ => None,
        })
}

/// Where to list an app's role assignments: each subscription the plan grants roles
/// in (a list there includes assignments below it), else the scope itself.
pub fn listing_scopes(plan: &Plan) -> BTreeSet<String> {
    plan.apps
        .iter()
        .flat_map(|a| &a.roles)
        .map(|g| match g.scope.subscription() {
            Some(sub) => format!("/subscriptions/{}", sub.as_str()),
            None => g.scope.as_str().to_owned(),
        })
        .collect()
}

pub fn org_tag(plan: &Plan) -> String {
    format!("{MANAGED_TAG}:org:{}", plan.org)
}

/// Ids learned while running, per app label.
#[derive(Debug, Default, Clone)]
pub struct Learned {
    pub ids: Option<AppIds>,
    pub sp: Option<String>,
}

/// One app's changes split by what they wait for (see `apply`).
#[derive(Debug, Default)]
pub struct Lanes {
    pub head: Vec<Change>,
    pub credentials: Vec<Change>,
    pub principal: Vec<Change>,
    /// Each with how many of `credentials` must be written first: those its stack or
    /// environment presents.
    pub pulumi: Vec<(Change, usize)>,
}

impl Lanes {
    /// Each lane keeps the diff's order (deletions before creations).
    pub fn of(plan: &Plan, changes: Vec<Change>) -> Self {
        let mut pulumi = Vec::new();
        let mut lanes = Lanes::default();
        for c in changes {
            let lane = match &c {
                Change::CreateApp { .. }
                | Change::UpdateApp { .. }
                | Change::DeleteApp { .. }
                | Change::CreateIdentity { .. }
                | Change::UpdateIdentity { .. }
                | Change::DeleteIdentity { .. } => &mut lanes.head,
                Change::DeleteCredential { .. }
                | Change::UpdateCredential { .. }
                | Change::CreateCredential { .. } => &mut lanes.credentials,
                Change::CreateServicePrincipal { .. }
                | Change::CreateRoleAssignment { .. }
                | Change::DeleteRoleAssignment { .. } => &mut lanes.principal,
                Change::ConfigureDeploymentSettings { .. } | Change::WriteEscEnvironment { .. } => {
                    pulumi.push(c);
                    continue;
                }
            };
            lane.push(c);
        }
        for c in pulumi {
            let needs = presented_credentials(plan, &c);
            let after = lanes
                .credentials
                .iter()
                .rposition(|w| match w {
                    Change::CreateCredential { credential, .. }
                    | Change::UpdateCredential { credential, .. } => {
                        needs.contains(&credential.name.as_str())
                    }
                    _ => false,
                })
                .map_or(0, |i| i + 1);
            lanes.pulumi.push((c, after));
        }
        lanes
    }
}

/// The names of the credentials the stack or environment a Pulumi Cloud change
/// configures presents tokens to.
fn presented_credentials<'a>(plan: &'a Plan, change: &Change) -> Vec<&'a str> {
    let Some(app) = plan.apps.iter().find(|a| a.unique_name == change.app()) else {
        return Vec::new();
    };
    app.targets
        .iter()
        .find(|t| match (&t.target, change) {
            (
                Target::Deployment(d),
                Change::ConfigureDeploymentSettings {
                    org,
                    project,
                    stack,
                    ..
                },
            ) => {
                d.org.as_str() == org && d.project.as_str() == project && d.stack.as_str() == stack
            }
            (
                Target::Esc(e),
                Change::WriteEscEnvironment {
                    org, project, env, ..
                },
            ) => {
                e.org.as_str() == org
                    && e.env.project.as_str() == project
                    && e.env.env.as_str() == env
            }
            _ => false,
        })
        .map(|t| t.credentials.iter().map(|n| n.as_str()).collect())
        .unwrap_or_default()
}

/// Whether `change` is about target `t` (its credentials, settings or environment)
/// or about its whole app.
pub fn concerns(change: &Change, t: &PlannedTarget) -> bool {
    match change {
        Change::CreateCredential { credential, .. }
        | Change::UpdateCredential { credential, .. } => {
            t.credentials.iter().any(|n| n == &credential.name)
        }
        Change::DeleteCredential { .. } => false,
        Change::ConfigureDeploymentSettings {
            org,
            project,
            stack,
            ..
        } => {
            matches!(&t.target, Target::Deployment(d) if d.org.as_str() == org && d.project.as_str() == project && d.stack.as_str() == stack)
        }
        Change::WriteEscEnvironment {
            org, project, env, ..
        } => {
            matches!(&t.target, Target::Esc(e) if e.org.as_str() == org && e.env.project.as_str() == project && e.env.env.as_str() == env)
        }
        _ => true,
    }
}

pub fn summaries(plan: &Plan, live: &Live, learned: &BTreeMap<String, Learned>) -> Vec<AppSummary> {
    plan.apps
        .iter()
        .map(|a| {
            let seen = live.app(&a.unique_name);
            let got = learned.get(&a.unique_name);
            AppSummary {
                unique_name: a.unique_name.clone(),
                display_name: a.display_name.clone(),
                client_id: got
                    .and_then(|l| l.ids.as_ref().map(|i| i.app_id.clone()))
                    .or_else(|| seen.map(|s| s.app_id.clone())),
                object_id: got
                    .and_then(|l| l.ids.as_ref().map(|i| i.id.clone()))
                    .or_else(|| seen.map(|s| s.id.clone())),
                service_principal_id: got
                    .and_then(|l| l.sp.clone())
                    .or_else(|| seen.and_then(|s| s.service_principal_id.clone())),
                targets: a.targets.iter().map(|t| t.label.clone()).collect(),
                credentials: a.credentials.len(),
                roles: a
                    .roles
                    .iter()
                    .map(|g| format!("{} at {}", g.role.name, g.scope))
                    .collect(),
            }
        })
        .collect()
}

fn is_managed_app(app: &ObservedApp, org_tag: &str) -> bool {
    app.tags.iter().any(|t| t == MANAGED_TAG) && app.tags.iter().any(|t| t == org_tag)
}

/// Decide the removals from the live state. Pure.
pub fn destroy_steps(plan: &Plan, live: &Live) -> DestroyPlan {
    let tag = org_tag(plan);
    let planned_names: Vec<&str> = plan
        .apps
        .iter()
        .flat_map(|a| &a.credentials)
        .map(|c| c.name.as_str())
        .collect();
    let mut steps = Vec::new();
    let mut kept = Vec::new();
    for app in live.state.apps.iter().filter(|a| is_managed_app(a, &tag)) {
        let label = app.unique_name.clone().unwrap_or_else(|| app.id.clone());
        for s in live
            .state
            .deployment_settings
            .iter()
            .filter(|s| s.client_id.as_deref() == Some(app.app_id.as_str()))
        {
            steps.push(DestroyStep::ClearDeploymentSettings {
                app: label.clone(),
                org: s.org.clone(),
                project: s.project.clone(),
                stack: s.stack.clone(),
            });
        }
        for e in live
            .state
            .esc_environments
            .iter()
            .filter(|e| e.client_id.as_deref() == Some(app.app_id.as_str()))
        {
            steps.push(DestroyStep::RemoveEscLogin {
                app: label.clone(),
                org: e.org.clone(),
                project: e.project.clone(),
                env: e.env.clone(),
                client_id: app.app_id.clone(),
            });
        }
        if let Some(sp) = &app.service_principal_id {
            for ra in app
                .role_assignments
                .iter()
                .filter(|r| r.principal_id.eq_ignore_ascii_case(sp))
            {
                steps.push(DestroyStep::DeleteRoleAssignment {
                    app: label.clone(),
                    scope: ra.scope.clone(),
                    name: ra.name.clone(),
                });
            }
        }
        if let Some(id) = &app.identity_id {
            // Every credential in an identity this tool made is its own.
            steps.push(DestroyStep::DeleteIdentity {
                app: label.clone(),
                id: id.clone(),
                client_id: app.app_id.clone(),
            });
            continue;
        }
        let (ours, theirs): (Vec<_>, Vec<_>) =
            app.federated_identity_credentials.iter().partition(|c| {
                c.description
                    .as_deref()
                    .is_some_and(|d| d.contains(MANAGED_MARKER))
                    || planned_names.contains(&c.name.as_str())
            });
        if theirs.is_empty() {
            if let Some(sp) = &app.service_principal_id {
                steps.push(DestroyStep::DeleteServicePrincipal {
                    app: label.clone(),
                    id: sp.clone(),
                });
            }
            steps.push(DestroyStep::DeleteApp {
                app: label.clone(),
                id: app.id.clone(),
                app_id: app.app_id.clone(),
            });
        } else {
            for c in ours {
                steps.push(DestroyStep::DeleteCredential {
                    app: label.clone(),
                    name: c.name.clone(),
                });
            }
            let names: Vec<&str> = theirs.iter().map(|c| c.name.as_str()).collect();
            kept.push(format!(
                "app {label} and its service principal: they hold credentials this tool did not make ({}); delete those, then destroy again",
                names.joined(", ")
            ));
        }
    }
    for app in live.state.apps.iter().filter(|a| !is_managed_app(a, &tag)) {
        if let Some(name) = &app.unique_name {
            let kind = if app.identity_id.is_some() {
                "managed identity"
            } else {
                "app"
            };
            kept.push(format!(
                "{kind} {name} ({}): not tagged as managed by this tool for {}",
                app.display_name, plan.org
            ));
        }
    }
    DestroyPlan {
        org: plan.org.to_string(),
        steps,
        kept,
    }
}

/// The ids of an app already read.
pub fn ids_of(app: &ObservedApp) -> AppIds {
    AppIds {
        id: app.id.clone(),
        app_id: app.app_id.clone(),
    }
}
