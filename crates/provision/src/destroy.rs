//! `destroy`: remove what the tool made, and only that, in a safe order — settings
//! and ESC logins that point at the app, then role assignments (which ARM keeps after
//! their principal is gone), then credentials, the service principal and the app.
//! An app that holds a credential somebody else added is kept, with only the tool's
//! credentials removed.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::task::JoinSet;

use pulumi_azure_oidc::error::Result;
use pulumi_azure_oidc::plan::Plan;
use pulumi_azure_oidc::provision::order::{destroy_steps, ids_of};
use pulumi_azure_oidc::provision::requests;
use pulumi_azure_oidc::provision::{DestroyPlan, DestroyReport, DestroyStep, Live};

use super::observe::join_error;
use super::{Progress, Provisioner};

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
                self.expect(requests::clear_oidc(org, project, stack), &[200, 204])
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
                    let Some(stripped) =
                        pulumi_azure_oidc::esc_edit::remove_esc_login(&yaml, client_id)?
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
            DestroyStep::DeleteIdentity { id, .. } => self.delete_identity(id).await,
            DestroyStep::DeleteApp { app, .. } => {
                let Some(found) = live.app(app) else {
                    return Ok(());
                };
                self.delete_app(&ids_of(found), app).await
            }
        }
    }
}
