//! `destroy`: remove what the tool made, and only that, in a safe order — settings
//! and ESC logins that point at the app, then role assignments (which ARM keeps after
//! their principal is gone), then credentials, the service principal and the app.
//! An app that holds a credential somebody else added is kept, with only the tool's
//! credentials removed.

use std::collections::BTreeMap;
use std::sync::Arc;

use serde::Serialize;
use serde_json::json;
use tokio::task::JoinSet;

use super::observe::{ids_of, join_error, org_tag};
use super::{Live, Progress, Provisioner, RequestCounts};
use crate::credential::MANAGED_MARKER;
use crate::error::Result;
use crate::plan::{MANAGED_TAG, Plan};

/// One removal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum DestroyStep {
    ClearDeploymentSettings {
        app: String,
        org: String,
        project: String,
        stack: String,
    },
    RemoveEscLogin {
        app: String,
        org: String,
        project: String,
        env: String,
        client_id: String,
    },
    DeleteRoleAssignment {
        app: String,
        scope: String,
        name: String,
    },
    DeleteCredential {
        app: String,
        name: String,
    },
    DeleteServicePrincipal {
        app: String,
        id: String,
    },
    DeleteApp {
        app: String,
        id: String,
        app_id: String,
    },
}

impl DestroyStep {
    pub fn app(&self) -> &str {
        match self {
            Self::ClearDeploymentSettings { app, .. }
            | Self::RemoveEscLogin { app, .. }
            | Self::DeleteRoleAssignment { app, .. }
            | Self::DeleteCredential { app, .. }
            | Self::DeleteServicePrincipal { app, .. }
            | Self::DeleteApp { app, .. } => app,
        }
    }

    pub fn summary(&self) -> String {
        match self {
            Self::ClearDeploymentSettings {
                org,
                project,
                stack,
                ..
            } => format!("- Azure OIDC settings of stack {org}/{project}/{stack}"),
            Self::RemoveEscLogin {
                org, project, env, ..
            } => format!("- azure-login block of ESC environment {org}/{project}/{env}"),
            Self::DeleteRoleAssignment { app, scope, name } => {
                format!("- role assignment {name} at {scope} of {app}")
            }
            Self::DeleteCredential { app, name } => format!("- credential {name} in {app}"),
            Self::DeleteServicePrincipal { app, .. } => format!("- service principal of {app}"),
            Self::DeleteApp { app, app_id, .. } => format!("- app {app} (client id {app_id})"),
        }
    }
}

/// What `destroy` will remove and what it keeps.
#[derive(Debug, Clone, Serialize)]
pub struct DestroyPlan {
    pub org: String,
    pub steps: Vec<DestroyStep>,
    pub kept: Vec<String>,
}

/// What `destroy` removed.
#[derive(Debug, Clone, Serialize)]
pub struct DestroyReport {
    pub org: String,
    pub removed: Vec<String>,
    pub kept: Vec<String>,
    pub requests: RequestCounts,
}

fn is_managed_app(app: &crate::diff::ObservedApp, org_tag: &str) -> bool {
    app.tags.iter().any(|t| t == MANAGED_TAG) && app.tags.iter().any(|t| t == org_tag)
}

/// Decide the removals from the live state. Pure.
pub(crate) fn destroy_steps(plan: &Plan, live: &Live) -> DestroyPlan {
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
                names.join(", ")
            ));
        }
    }
    for app in live.state.apps.iter().filter(|a| !is_managed_app(a, &tag)) {
        if let Some(name) = &app.unique_name {
            kept.push(format!(
                "app {name} ({}): not tagged as managed by this tool for {}",
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

impl Provisioner {
    /// Observe and decide what `destroy` would remove; no writes.
    pub async fn plan_destroy(self: &Arc<Self>, plan: &Plan) -> Result<(DestroyPlan, Live)> {
        let live = self.observe(plan).await?;
        Ok((destroy_steps(plan, &live), live))
    }

    /// Carry out `steps`: each app's steps in order, apps in parallel.
    pub async fn destroy(
        self: &Arc<Self>,
        steps: &DestroyPlan,
        live: &Live,
        progress: &dyn Progress,
    ) -> Result<DestroyReport> {
        let mut by_app: BTreeMap<String, Vec<DestroyStep>> = BTreeMap::new();
        for s in &steps.steps {
            by_app
                .entry(s.app().to_owned())
                .or_default()
                .push(s.clone());
        }
        progress.start(steps.steps.len());
        let live = Arc::new(live.clone());
        let mut tasks = JoinSet::new();
        for (_, list) in by_app {
            let me = self.clone();
            let live = live.clone();
            tasks.spawn(async move {
                let mut done = Vec::new();
                for step in list {
                    if let Err(e) = me.destroy_one(&step, &live).await {
                        return (done, Err(e));
                    }
                    done.push(step.summary());
                }
                (done, Ok(()))
            });
        }
        let mut removed = Vec::new();
        let mut first_error = None;
        while let Some(joined) = tasks.join_next().await {
            let (done, result) = joined.map_err(join_error)?;
            for line in &done {
                progress.step(line);
            }
            removed.extend(done);
            if let Err(e) = result {
                first_error.get_or_insert(e);
            }
        }
        progress.finish();
        if let Some(e) = first_error {
            return Err(e);
        }
        Ok(DestroyReport {
            org: steps.org.clone(),
            removed,
            kept: steps.kept.clone(),
            requests: self.requests(),
        })
    }

    async fn destroy_one(&self, step: &DestroyStep, live: &Live) -> Result<()> {
        match step {
            DestroyStep::ClearDeploymentSettings {
                org,
                project,
                stack,
                ..
            } => {
                // The CLI's own way to clear it (pulumi-oidc-facts.md §3.1).
                self.patch_settings(
                    org,
                    project,
                    stack,
                    json!({"operationContext": {"oidc": {"azure": null}}}),
                )
                .await
            }
            DestroyStep::RemoveEscLogin {
                org,
                project,
                env,
                client_id,
                ..
            } => {
                for _ in 0..5 {
                    let Some((yaml, etag)) = self.get_env(org, project, env).await? else {
                        return Ok(());
                    };
                    let Some(stripped) = crate::esc_edit::remove_esc_login(&yaml, client_id)?
                    else {
                        return Ok(());
                    };
                    if self
                        .put_env(org, project, env, stripped, etag.as_deref())
                        .await?
                    {
                        return Ok(());
                    }
                }
                Ok(())
            }
            DestroyStep::DeleteRoleAssignment { scope, name, app } => {
                self.delete_role_assignment(
                    scope,
                    name,
                    &format!("role assignment {name} at {scope} of {app}"),
                )
                .await
            }
            DestroyStep::DeleteCredential { app, name } => {
                let Some(found) = live.app(app) else {
                    return Ok(());
                };
                self.delete_credential(&ids_of(found), app, name).await
            }
            DestroyStep::DeleteServicePrincipal { app, id } => self.delete_sp(id, app).await,
            DestroyStep::DeleteApp { app, .. } => {
                let Some(found) = live.app(app) else {
                    return Ok(());
                };
                self.delete_app(&ids_of(found), app).await
            }
        }
    }
}
