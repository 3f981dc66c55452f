//! Reading what exists: the plan's apps by uniqueName, the org's other managed apps
//! by tag, their credentials, service principals and role assignments, and each
//! target's deployment settings or ESC environment.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::Value;
use tokio::task::JoinSet;

use pulumi_azure_oidc::diff::{
    ObservedApp, ObservedDeploymentSettings, ObservedEscEnvironment, ObservedRoleAssignment,
    ObservedState,
};
use pulumi_azure_oidc::error::Result;
use pulumi_azure_oidc::plan::Plan;
use pulumi_azure_oidc::provision::order::{listing_scopes, org_tag};
use pulumi_azure_oidc::provision::requests::{self, assignments_of};
use pulumi_azure_oidc::provision::{AppIds, Live};
use pulumi_azure_oidc::target::Target;

use super::Provisioner;

/// A scope listed whole: a subscription, whose one list holds every principal's
/// assignments at, above and below it. Wider scopes (a management group) would list
/// every subscription below them, so those are asked per principal instead.
fn listed_whole(scope: &str) -> bool {
    let parts: Vec<&str> = scope.trim_matches('/').split('/').collect();
    parts.len() == 2 && parts[0].eq_ignore_ascii_case("subscriptions")
}

impl Provisioner {
    /// Every role assignment at, above or below each subscription scope, whoever
    /// holds it: one list per subscription, whatever the number of apps.
    async fn list_whole_scopes(
        &self,
        scopes: &BTreeSet<String>,
    ) -> Result<Vec<ObservedRoleAssignment>> {
        let mut out = Vec::new();
        for scope in scopes.iter().filter(|s| listed_whole(s)) {
            out.extend(
                self.role_assignment_pages(requests::list_all_role_assignments(scope))
                    .await?,
            );
        }
        Ok(out)
    }

    /// A principal's assignments: from the whole-scope lists, plus one filtered list
    /// per scope that is not listed whole.
    async fn assignments_of(
        &self,
        principal: &str,
        whole: &[ObservedRoleAssignment],
        scopes: &BTreeSet<String>,
    ) -> Result<Vec<ObservedRoleAssignment>> {
        let mut held = assignments_of(whole, principal);
        for scope in scopes.iter().filter(|s| !listed_whole(s)) {
            for ra in self.list_role_assignments(scope, principal).await? {
                if !held.contains(&ra) {
                    held.push(ra);
                }
            }
        }
        Ok(held)
    }

    /// The managed identities in every resource group the plan places identities in:
    /// the plan's (by id) and the org's others (by tag).
    async fn list_org_identities(self: &Arc<Self>, plan: &Plan) -> Result<Vec<Value>> {
        let planned: BTreeSet<String> = plan
            .apps
            .iter()
            .filter_map(|a| a.identity_id())
            .map(|id| id.to_ascii_lowercase())
            .collect();
        let tag = org_tag(plan);
        let mut raw: BTreeMap<String, Value> = BTreeMap::new();
        let mut lists = JoinSet::new();
        for group in plan.identity_resource_groups() {
            let me = self.clone();
            lists.spawn(async move { me.list_identities(&group).await });
        }
        while let Some(done) = lists.join_next().await {
            for v in done.map_err(join_error)?? {
                let id = v["id"].as_str().unwrap_or_default().to_ascii_lowercase();
                let tagged = v["tags"].as_object().is_some_and(|t| {
                    t.contains_key(pulumi_azure_oidc::plan::MANAGED_TAG) && t.contains_key(&tag)
                });
                if tagged || planned.contains(&id) {
                    raw.insert(id, v);
                }
            }
        }
        Ok(raw.into_values().collect())
    }

    /// The org's apps: every tagged one from one list, and the plan's apps that list
    /// did not return (it may lag behind a fresh app) read by key, batched. A pinned
    /// app is known by its plan label from here on.
    async fn find_apps(self: &Arc<Self>, plan: &Plan) -> Result<Vec<Value>> {
        let planned: Vec<_> = plan.apps.iter().filter(|a| a.identity.is_none()).collect();
        // A config that holds no apps reads nothing from Graph, so an operator with no
        // Graph permission at all can run it (see `permissions`).
        if planned.is_empty() {
            return Ok(Vec::new());
        }
        let mut found: BTreeMap<String, Value> = BTreeMap::new();
        for v in self.list_apps_tagged(&org_tag(plan)).await? {
            found.insert(v["id"].as_str().unwrap_or_default().to_owned(), v);
        }
        let text = |v: &Value, k: &str| v[k].as_str().unwrap_or_default().to_owned();
        let mut reads = Vec::new();
        let mut labels = Vec::new();
        for app in planned {
            let name = app.unique_name.clone();
            let seen = found.values_mut().find(|v| match &app.pinned_client_id {
                Some(client_id) => text(v, "appId").eq_ignore_ascii_case(client_id),
                None => text(v, "uniqueName").eq_ignore_ascii_case(&name),
            });
            match (seen, &app.pinned_client_id) {
                (Some(v), Some(_)) => v["uniqueName"] = Value::String(name),
                (Some(_), None) => {}
                (None, Some(client_id)) => {
                    reads.push(requests::get_app_by_client_id(client_id));
                    labels.push(Some(name));
                }
                (None, None) => {
                    reads.push(requests::get_app(&name));
                    labels.push(None);
                }
            }
        }
        let answers = self.graph_batch(reads.clone()).await?;
        for ((r, answer), label) in reads.iter().zip(answers).zip(labels) {
            if let Some(mut v) = requests::read_optional(answer, r)? {
                if let Some(name) = label {
                    v["uniqueName"] = Value::String(name);
                }
                found.insert(v["id"].as_str().unwrap_or_default().to_owned(), v);
            }
        }
        Ok(found.into_values().collect())
    }

    /// Each app's credentials and service principal, two requests per app, batched.
    async fn read_apps(
        self: &Arc<Self>,
        raw: Vec<Value>,
        whole: &[ObservedRoleAssignment],
        scopes: &BTreeSet<String>,
    ) -> Result<Vec<ObservedApp>> {
        let mut apps = Vec::new();
        let mut reads = Vec::new();
        for v in &raw {
            let (Some(ids), Some(seen)) = (AppIds::of(v), requests::observed_app(v)) else {
                continue;
            };
            let label = v["uniqueName"].as_str().unwrap_or(&ids.id).to_owned();
            reads.push(requests::list_credentials(&ids, &label));
            reads.push(requests::get_sp(&ids.app_id));
            apps.push(seen);
        }
        let answers = self.graph_batch(reads.clone()).await?;
        let mut answers = reads.iter().zip(answers);
        for app in &mut apps {
            let (Some((list, credentials)), Some((get, sp))) = (answers.next(), answers.next())
            else {
                break;
            };
            app.federated_identity_credentials = requests::read_credentials(credentials, list)?;
            app.service_principal_id = requests::read_sp_id(sp, get)?;
            if let Some(sp) = &app.service_principal_id {
                app.role_assignments = self.assignments_of(sp, whole, scopes).await?;
            }
        }
        Ok(apps)
    }

    /// Each identity's credentials (ARM has no batch: one list each, concurrently) and
    /// role assignments.
    async fn read_identities(
        self: &Arc<Self>,
        raw: Vec<Value>,
        whole: Arc<Vec<ObservedRoleAssignment>>,
        scopes: Arc<BTreeSet<String>>,
    ) -> Result<Vec<ObservedApp>> {
        let mut tasks = JoinSet::new();
        for v in raw {
            let Some(mut seen) = requests::observed_identity(&v) else {
                continue;
            };
            let me = self.clone();
            let whole = whole.clone();
            let scopes = scopes.clone();
            tasks.spawn(async move {
                let label = seen.unique_name.clone().unwrap_or_default();
                seen.federated_identity_credentials =
                    me.list_identity_credentials(&seen.id, &label).await?;
                if let Some(principal) = seen.service_principal_id.clone() {
                    seen.role_assignments = me.assignments_of(&principal, &whole, &scopes).await?;
                }
                Ok::<_, pulumi_azure_oidc::Error>(seen)
            });
        }
        let mut out = Vec::new();
        while let Some(done) = tasks.join_next().await {
            out.push(done.map_err(join_error)??);
        }
        Ok(out)
    }

    /// Observe everything the plan touches in three rounds of requests, whatever its
    /// size: the lists (tagged apps, identities, each subscription's role assignments)
    /// beside every target's read; the plan's apps the tag list missed; then every
    /// app's credentials and service principal, batched twenty to a request.
    pub async fn observe(self: &Arc<Self>, plan: &Plan) -> Result<Live> {
        let scopes = Arc::new(listing_scopes(plan));
        // Targets (deployment settings and ESC environments) depend on nothing the
        // other reads return, so they are read alongside them all; in the background,
        // so the three rounds of Graph reads, each waiting on the one before, never
        // queue for a request slot behind a thousand of them.
        let mut target_tasks = JoinSet::new();
        for t in plan.apps.iter().flat_map(|a| &a.targets) {
            let me = self.clone();
            let target = t.target.clone();
            target_tasks.spawn(super::http::in_background(async move {
                me.observe_target(target).await
            }));
        }
        let whole = {
            let me = self.clone();
            let scopes = scopes.clone();
            tokio::spawn(async move { me.list_whole_scopes(&scopes).await })
        };
        let identities = {
            let me = self.clone();
            let plan = plan.clone();
            tokio::spawn(async move { me.list_org_identities(&plan).await })
        };
        let raw_apps = self.find_apps(plan).await?;
        let whole = Arc::new(whole.await.map_err(join_error)??);
        let identities = {
            let me = self.clone();
            let raw = identities.await.map_err(join_error)??;
            let (whole, scopes) = (whole.clone(), scopes.clone());
            tokio::spawn(async move { me.read_identities(raw, whole, scopes).await })
        };
        let mut apps = self.read_apps(raw_apps, &whole, &scopes).await?;
        apps.extend(identities.await.map_err(join_error)??);
        apps.sort_by(|a, b| a.unique_name.cmp(&b.unique_name).then(a.id.cmp(&b.id)));

        let mut settings = Vec::new();
        let mut envs = Vec::new();
        while let Some(done) = target_tasks.join_next().await {
            match done.map_err(join_error)?? {
                Observed::Settings(s) => settings.push(s),
                Observed::Env(e) => envs.push(e),
                Observed::Nothing => {}
            }
        }
        settings
            .sort_by(|a, b| (&a.org, &a.project, &a.stack).cmp(&(&b.org, &b.project, &b.stack)));
        envs.sort_by(|a, b| (&a.org, &a.project, &a.env).cmp(&(&b.org, &b.project, &b.env)));
        Ok(Live {
            state: ObservedState {
                apps,
                deployment_settings: settings,
                esc_environments: envs,
            },
        })
    }

    async fn observe_target(&self, target: Target) -> Result<Observed> {
        match target {
            Target::Deployment(d) => {
                let (org, project, stack) = (
                    d.org.to_string(),
                    d.project.to_string(),
                    d.stack.to_string(),
                );
                Ok(match self.get_settings(&org, &project, &stack).await? {
                    Some(v) => {
                        let azure = &v["operationContext"]["oidc"]["azure"];
                        let text = |k: &str| azure[k].as_str().map(str::to_owned);
                        Observed::Settings(ObservedDeploymentSettings {
                            client_id: text("clientId"),
                            tenant_id: text("tenantId"),
                            subscription_id: text("subscriptionId"),
                            org,
                            project,
                            stack,
                        })
                    }
                    None => Observed::Nothing,
                })
            }
            Target::Esc(e) => {
                let (org, project, env) = (
                    e.org.to_string(),
                    e.env.project.to_string(),
                    e.env.env.to_string(),
                );
                Ok(match self.get_env(&org, &project, &env).await? {
                    Some((yaml, _etag)) => {
                        // A definition we cannot read is one we must rewrite: observe
                        // it as holding no login.
                        let seen = pulumi_azure_oidc::esc_edit::read_esc_login(
                            &yaml, &org, &project, &env,
                        )
                        .unwrap_or(ObservedEscEnvironment {
                            org: org.clone(),
                            project: project.clone(),
                            env: env.clone(),
                            ..ObservedEscEnvironment::default()
                        });
                        Observed::Env(seen)
                    }
                    None => Observed::Nothing,
                })
            }
        }
    }
}

enum Observed {
    Settings(ObservedDeploymentSettings),
    Env(ObservedEscEnvironment),
    Nothing,
}

pub(crate) fn join_error(e: tokio::task::JoinError) -> pulumi_azure_oidc::Error {
    pulumi_azure_oidc::Error::Interrupted(format!("a task stopped: {e}"))
}
