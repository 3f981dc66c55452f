//! Reading what exists: the plan's apps by uniqueName, the org's other managed apps
//! by tag, their credentials, service principals and role assignments, and each
//! target's deployment settings or ESC environment.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use serde_json::Value;
use tokio::task::JoinSet;

use pulumi_azure_oidc::diff::{
    ObservedApp, ObservedDeploymentSettings, ObservedEscEnvironment, ObservedState,
};
use pulumi_azure_oidc::error::Result;
use pulumi_azure_oidc::plan::Plan;
use pulumi_azure_oidc::provision::order::{listing_scopes, org_tag};
use pulumi_azure_oidc::provision::{AppIds, Live};
use pulumi_azure_oidc::target::Target;

use super::Provisioner;

impl Provisioner {
    /// Read one app with its credentials, service principal and role assignments.
    async fn observe_app(
        &self,
        v: &Value,
        scopes: &BTreeSet<String>,
    ) -> Result<Option<ObservedApp>> {
        let Some(ids) = AppIds::of(v) else {
            return Ok(None);
        };
        let label = v["uniqueName"].as_str().unwrap_or(&ids.id).to_owned();
        let credentials = self.list_credentials(&ids, &label).await?;
        let sp = self.get_sp(&ids.app_id).await?;
        let mut role_assignments = Vec::new();
        if let Some(sp) = &sp {
            for scope in scopes {
                for ra in self.list_role_assignments(scope, sp).await? {
                    if !role_assignments.contains(&ra) {
                        role_assignments.push(ra);
                    }
                }
            }
        }
        Ok(Some(ObservedApp {
            id: ids.id,
            app_id: ids.app_id,
            unique_name: v["uniqueName"].as_str().map(str::to_owned),
            display_name: v["displayName"].as_str().unwrap_or_default().to_owned(),
            tags: v["tags"]
                .as_array()
                .map(|t| {
                    t.iter()
                        .filter_map(Value::as_str)
                        .map(str::to_owned)
                        .collect()
                })
                .unwrap_or_default(),
            federated_identity_credentials: credentials,
            service_principal_id: sp,
            role_assignments,
            identity_id: None,
        }))
    }

    /// Read one identity's credentials and role assignments.
    async fn observe_identity(
        &self,
        v: &Value,
        scopes: &BTreeSet<String>,
    ) -> Result<Option<ObservedApp>> {
        let Some(mut seen) = pulumi_azure_oidc::provision::requests::observed_identity(v) else {
            return Ok(None);
        };
        let id = seen.id.clone();
        let label = seen.unique_name.clone().unwrap_or_default();
        seen.federated_identity_credentials = self.list_identity_credentials(&id, &label).await?;
        if let Some(principal) = seen.service_principal_id.clone() {
            for scope in scopes {
                for ra in self.list_role_assignments(scope, &principal).await? {
                    if !seen.role_assignments.contains(&ra) {
                        seen.role_assignments.push(ra);
                    }
                }
            }
        }
        Ok(Some(seen))
    }

    /// The plan's identities by ARM id, and the org's other managed ones by tag, in
    /// every resource group the plan places identities in.
    async fn observe_identities(
        self: &Arc<Self>,
        plan: &Plan,
        scopes: &Arc<BTreeSet<String>>,
    ) -> Result<Vec<ObservedApp>> {
        // One list per resource group holds the plan's identities (found by id) and
        // any other the org's runs made there (found by tag).
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
        let mut tasks = JoinSet::new();
        for v in raw.into_values() {
            let me = self.clone();
            let scopes = scopes.clone();
            tasks.spawn(async move { me.observe_identity(&v, &scopes).await });
        }
        let mut out = Vec::new();
        while let Some(done) = tasks.join_next().await {
            if let Some(seen) = done.map_err(join_error)?? {
                out.push(seen);
            }
        }
        Ok(out)
    }

    /// Observe everything the plan touches, apps in parallel.
    pub async fn observe(self: &Arc<Self>, plan: &Plan) -> Result<Live> {
        let scopes = Arc::new(listing_scopes(plan));
        // Apps: the plan's by key, plus the org's other managed apps by tag.
        let mut raw: BTreeMap<String, Value> = BTreeMap::new();
        let mut tasks = JoinSet::new();
        for app in plan.apps.iter().filter(|a| a.identity.is_none()) {
            let me = self.clone();
            let name = app.unique_name.clone();
            let pinned = app.pinned_client_id.clone();
            tasks.spawn(async move {
                match pinned {
                    // An existing app a config pins is found by its client id, and
                    // known by its plan label from here on.
                    Some(client_id) => {
                        Ok(me.get_app_by_client_id(&client_id).await?.map(|mut v| {
                            v["uniqueName"] = Value::String(name);
                            v
                        }))
                    }
                    None => me.get_app(&name).await,
                }
            });
        }
        // Targets (deployment settings and ESC environments) depend on nothing the
        // apps' reads return, so they are read alongside them.
        let mut settings = Vec::new();
        let mut envs = Vec::new();
        let mut target_tasks = JoinSet::new();
        for t in plan.apps.iter().flat_map(|a| &a.targets) {
            let me = self.clone();
            let target = t.target.clone();
            target_tasks.spawn(async move { me.observe_target(target).await });
        }
        let identities = {
            let me = self.clone();
            let plan = plan.clone();
            let scopes = scopes.clone();
            tokio::spawn(async move { me.observe_identities(&plan, &scopes).await })
        };
        // A config that holds no apps reads nothing from Graph, so an operator with no
        // Graph permission at all can run it (see `permissions`).
        let tagged = if plan.apps.iter().any(|a| a.identity.is_none()) {
            self.list_apps_tagged(&org_tag(plan)).await?
        } else {
            Vec::new()
        };
        while let Some(done) = tasks.join_next().await {
            if let Some(v) = done.map_err(join_error)?? {
                raw.insert(v["id"].as_str().unwrap_or_default().to_owned(), v);
            }
        }
        for v in tagged {
            raw.entry(v["id"].as_str().unwrap_or_default().to_owned())
                .or_insert(v);
        }
        let mut tasks = JoinSet::new();
        for v in raw.into_values() {
            let me = self.clone();
            let scopes = scopes.clone();
            tasks.spawn(async move { me.observe_app(&v, &scopes).await });
        }
        let mut apps = Vec::new();
        while let Some(done) = tasks.join_next().await {
            if let Some(app) = done.map_err(join_error)?? {
                apps.push(app);
            }
        }
        apps.extend(identities.await.map_err(join_error)??);
        apps.sort_by(|a, b| a.unique_name.cmp(&b.unique_name).then(a.id.cmp(&b.id)));

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
