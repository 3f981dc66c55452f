//! `apply` and `status`: observe, diff, then carry out the changes — different apps in
//! parallel under the concurrency limit; within an app, the app first, then its
//! credentials (one at a time), its principal and roles, and its Pulumi Cloud writes
//! side by side.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde_json::Value;
use tokio::task::JoinSet;

use pulumi_azure_oidc::diff::{Change, DiffOptions};
use pulumi_azure_oidc::error::{Error, Result};
use pulumi_azure_oidc::plan::Plan;
use pulumi_azure_oidc::provision::order::{
    Lanes, Learned, concerns, ids_of, planned_env, summaries,
};
use pulumi_azure_oidc::provision::requests;
use pulumi_azure_oidc::provision::{ApplyReport, Prepared, Service, StatusReport, TargetHealth};
use pulumi_azure_oidc::render::EscLogin;

use super::http::in_background;
use super::observe::join_error;
use super::{Progress, Provisioner};

#[derive(Debug, Default)]
struct Written {
    esc: BTreeMap<String, String>,
    settings: BTreeMap<String, Value>,
}

impl Provisioner {
    /// Plan, observe and diff: everything `apply` needs, no writes.
    pub async fn prepare(self: &Arc<Self>, plan: Plan, prune: bool) -> Result<Prepared> {
        self.prepare_with(
            plan,
            DiffOptions {
                prune,
                take_ownership: false,
            },
        )
        .await
    }

    /// [`Provisioner::prepare`] with every diff option.
    pub async fn prepare_with(
        self: &Arc<Self>,
        plan: Plan,
        options: DiffOptions,
    ) -> Result<Prepared> {
        let live = self
            .observe(&plan)
            .await
            .map_err(|e| pulumi_azure_oidc::provision::rights::refused_read(e, "<config file>"))?;
        let diff = pulumi_azure_oidc::diff::diff(&plan, &live.state, options)?;
        Ok(Prepared { plan, live, diff })
    }

    /// Carry out `prepared.diff`. Apps run in parallel, each app's changes in lanes (see
    /// [`Lanes`]); when one app or lane fails the others still finish, and the first
    /// error is returned.
    pub async fn apply(
        self: &Arc<Self>,
        prepared: &Prepared,
        progress: &dyn Progress,
    ) -> Result<ApplyReport> {
        if self.check_rights && !prepared.diff.changes.is_empty() {
            let rights = self.operator_rights(prepared).await?;
            pulumi_azure_oidc::provision::rights::check(
                &prepared.plan,
                &prepared.live,
                &prepared.diff,
                &rights,
                "<config file>",
            )?;
        }
        let mut by_app: BTreeMap<String, Vec<Change>> = BTreeMap::new();
        let mut order: Vec<String> = Vec::new();
        for c in &prepared.diff.changes {
            let label = c.app().to_owned();
            if !by_app.contains_key(&label) {
                order.push(label.clone());
            }
            by_app.entry(label).or_default().push(c.clone());
        }
        progress.start(prepared.diff.changes.len());
        let progress_lines = Arc::new(Mutex::new(Vec::<String>::new()));
        let written = Arc::new(Mutex::new(Written::default()));
        let shared = Arc::new(prepared.clone());
        let mut tasks = JoinSet::new();
        for label in order {
            let changes = by_app.remove(&label).unwrap_or_default();
            let me = self.clone();
            let prepared = shared.clone();
            let lines = progress_lines.clone();
            let written = written.clone();
            let slots = self.app_slots.clone();
            tasks.spawn(async move {
                let _slot = match &slots {
                    Some(s) => s.clone().acquire_owned().await.ok(),
                    None => None,
                };
                let mut learned = Learned::default();
                if let Some(app) = prepared.live.app(&label) {
                    learned.ids = Some(ids_of(app));
                    learned.sp = app.service_principal_id.clone();
                }
                let lanes = Lanes::of(&prepared.plan, changes);
                // The app itself first: every other change needs its ids.
                // Each write's future is boxed while it runs: thousands of apps and
                // gated writes wait at once, and each would otherwise carry the full
                // size of a request in flight from the start.
                for change in &lanes.head {
                    if let Err(e) =
                        Box::pin(me.apply_one(&prepared, &label, change, &mut learned, &written))
                            .await
                    {
                        return (label, learned, Err(e));
                    }
                    lock(&lines).push(change.summary());
                }
                // Then three lanes side by side. Credentials stay one at a time (Entra
                // refuses concurrent credential writes to one identity, azure-facts.md
                // §3); the service principal precedes its role assignments; a stack's
                // settings or an environment's login are written as soon as the
                // credentials they present to exist, never before, so no stack is
                // pointed at an identity that cannot yet accept its token. That leaves
                // the credential chain as the app's critical path, so the others run
                // as background and take only the request slots it leaves free.
                let (written_tx, written_rx) = tokio::sync::watch::channel(0usize);
                let lane =
                    |changes: Vec<Change>,
                     mut learned: Learned,
                     progress: Option<tokio::sync::watch::Sender<usize>>| {
                        let me = me.clone();
                        let prepared = prepared.clone();
                        let label = label.clone();
                        let lines = lines.clone();
                        let written = written.clone();
                        async move {
                            for (i, change) in changes.iter().enumerate() {
                                Box::pin(me.apply_one(
                                    &prepared,
                                    &label,
                                    change,
                                    &mut learned,
                                    &written,
                                ))
                                .await?;
                                lock(&lines).push(change.summary());
                                if let Some(p) = &progress {
                                    p.send_replace(i + 1);
                                }
                            }
                            Ok::<Learned, Error>(learned)
                        }
                    };
                let mut pulumi = JoinSet::new();
                for (change, after) in lanes.pulumi {
                    let mut credentials_done = written_rx.clone();
                    let write = lane(vec![change], learned.clone(), None);
                    let gated = async move {
                        // The credentials lane stopping early (an error it reports
                        // itself) drops the sender: then this write is not made.
                        let ready = credentials_done.wait_for(|n| *n >= after).await.is_ok();
                        if ready {
                            write.await.map(|_| ())
                        } else {
                            Ok(())
                        }
                    };
                    pulumi.spawn(in_background(gated));
                }
                let has_chain = !lanes.credentials.is_empty();
                let held_by_identity = prepared
                    .plan
                    .holder(&label)
                    .is_some_and(|a| a.identity.is_some());
                // An app's credentials go in chained batches, twenty writes a round
                // trip; an identity's through ARM, which has no batch, one by one.
                let credentials_lane: std::pin::Pin<
                    Box<dyn std::future::Future<Output = Result<Learned>> + Send>,
                > = if held_by_identity {
                    Box::pin(lane(lanes.credentials, learned.clone(), Some(written_tx)))
                } else {
                    let (me, label, lines) = (me.clone(), label.clone(), lines.clone());
                    let (changes, learned) = (lanes.credentials, learned.clone());
                    Box::pin(async move {
                        if changes.is_empty() {
                            return Ok(learned);
                        }
                        let ids = learned.ids.clone().ok_or_else(|| {
                            Error::Interrupted(format!(
                                "app {label} is not known yet; re-run apply"
                            ))
                        })?;
                        let writes: Vec<_> = changes
                            .iter()
                            .filter_map(|c| requests::credential_write(c, &ids, &label))
                            .collect();
                        me.graph_chain(&writes, |i| {
                            lock(&lines).push(changes[i].summary());
                            written_tx.send_replace(i + 1);
                        })
                        .await?;
                        Ok(learned)
                    })
                };
                let chain = me.clone();
                let (credentials, principal) = tokio::join!(
                    // The credential chain keeps its request slot from one write to
                    // the next.
                    async move {
                        if has_chain {
                            chain
                                .http
                                .holding_a_slot(credentials_lane)
                                .await
                                .and_then(|d| d)
                        } else {
                            credentials_lane.await
                        }
                    },
                    in_background(lane(lanes.principal, learned.clone(), None)),
                );
                let mut outcome = credentials.map(|_| ());
                match principal {
                    Ok(l) => learned.sp = l.sp,
                    Err(e) => outcome = outcome.and(Err(e)),
                }
                while let Some(done) = pulumi.join_next().await {
                    outcome = outcome.and(done.map_err(join_error).and_then(|r| r));
                }
                (label, learned, outcome)
            });
        }
        let mut learned_all: BTreeMap<String, Learned> = BTreeMap::new();
        let mut first_error = None;
        let mut reported = 0;
        while let Some(done) = tasks.join_next().await {
            let (label, learned, result) = done.map_err(join_error)?;
            learned_all.insert(label, learned);
            for line in lock(&progress_lines).drain(..) {
                progress.step(&line);
                reported += 1;
            }
            if let Err(e) = result {
                first_error.get_or_insert(e);
            }
        }
        progress.finish();
        if let Some(e) = first_error {
            return Err(e);
        }
        let written = std::mem::take(&mut *lock(&written));
        Ok(ApplyReport {
            org: prepared.plan.org.to_string(),
            dry_run: false,
            changes: prepared.diff.changes.iter().map(Change::summary).collect(),
            changes_detail: prepared.diff.changes.clone(),
            applied: reported,
            apps: summaries(&prepared.plan, &prepared.live, &learned_all),
            unmanaged: prepared.diff.unmanaged.clone(),
            notes: prepared.diff.notes.clone(),
            warnings: prepared.plan.warnings.clone(),
            esc_environments: written.esc,
            deployment_settings: written.settings,
            requests: self.requests(),
        })
    }

    /// The report of a dry run: what `apply` would do.
    pub fn dry_run_report(&self, prepared: &Prepared) -> ApplyReport {
        ApplyReport {
            org: prepared.plan.org.to_string(),
            dry_run: true,
            changes: prepared.diff.changes.iter().map(Change::summary).collect(),
            changes_detail: prepared.diff.changes.clone(),
            applied: 0,
            apps: summaries(&prepared.plan, &prepared.live, &BTreeMap::new()),
            unmanaged: prepared.diff.unmanaged.clone(),
            notes: prepared.diff.notes.clone(),
            warnings: prepared.plan.warnings.clone(),
            esc_environments: BTreeMap::new(),
            deployment_settings: BTreeMap::new(),
            requests: self.requests(),
        }
    }

    /// The live diff and each target's health.
    pub async fn status(self: &Arc<Self>, plan: Plan) -> Result<StatusReport> {
        let prepared = self.prepare(plan, false).await?;
        let mut targets = Vec::new();
        for app in &prepared.plan.apps {
            for t in &app.targets {
                let problems: Vec<String> = prepared
                    .diff
                    .changes
                    .iter()
                    .filter(|c| c.app() == app.unique_name)
                    .filter(|c| concerns(c, t))
                    .map(Change::summary)
                    .collect();
                targets.push(TargetHealth {
                    target: t.label.clone(),
                    app: app.unique_name.clone(),
                    ok: problems.is_empty(),
                    problems,
                });
            }
        }
        Ok(StatusReport {
            org: prepared.plan.org.to_string(),
            converged: prepared.diff.is_converged(),
            changes: prepared.diff.changes.iter().map(Change::summary).collect(),
            targets,
            apps: summaries(&prepared.plan, &prepared.live, &BTreeMap::new()),
            unmanaged: prepared.diff.unmanaged.clone(),
            notes: prepared.diff.notes.clone(),
            requests: self.requests(),
        })
    }

    fn tenant(&self, plan: &Plan) -> Result<String> {
        plan.azure
            .tenant
            .as_ref()
            .map(|g| g.as_str().to_owned())
            .or_else(|| self.tenant_id.clone())
            .ok_or_else(|| {
                Error::MissingCredentials(
                    "the tenant id is unknown: set azure.tenant in the config, --tenant, or AZURE_TENANT_ID".into(),
                )
            })
    }

    async fn apply_one(
        &self,
        prepared: &Prepared,
        label: &str,
        change: &Change,
        learned: &mut Learned,
        written: &Mutex<Written>,
    ) -> Result<()> {
        let need_ids = |learned: &Learned| {
            learned.ids.clone().ok_or_else(|| {
                Error::Interrupted(format!("app {label} is not known yet; re-run apply"))
            })
        };
        // A managed identity's id is its ARM id; its credentials are written through ARM,
        // in turn under Azure's rates.
        let identity = prepared
            .plan
            .holder(label)
            .and_then(|a| a.identity.as_ref().map(|p| (a, p)));
        match change {
            Change::CreateIdentity { location, tags, .. } => {
                let Some((app, _)) = identity else {
                    return Err(Error::Interrupted(format!(
                        "{label} is not a planned identity"
                    )));
                };
                let id = app.identity_id().unwrap_or_default();
                let (ids, principal) = self.put_identity(&id, location, tags).await?;
                learned.ids = Some(ids);
                learned.sp = Some(principal);
            }
            Change::UpdateIdentity { tags, .. } => {
                let ids = need_ids(learned)?;
                let live_tags = prepared
                    .live
                    .app(label)
                    .map(|a| a.tags.clone())
                    .unwrap_or_default();
                self.expect(
                    requests::patch_identity_tags(&ids.id, &live_tags, tags),
                    &[200],
                )
                .await?;
            }
            Change::DeleteIdentity { id, .. } => {
                if let Some(seen) = prepared.live.app(label)
                    && let Some(principal) = &seen.service_principal_id
                {
                    for ra in seen
                        .role_assignments
                        .iter()
                        .filter(|r| r.principal_id.eq_ignore_ascii_case(principal))
                    {
                        self.delete_role_assignment(
                            &ra.scope,
                            &ra.name,
                            &format!("role assignment {} from {label}", ra.name),
                        )
                        .await?;
                    }
                }
                self.delete_identity(id).await?;
            }
            Change::DeleteCredential { name, .. } if identity.is_some() => {
                let id = need_ids(learned)?.id;
                let r = requests::delete_identity_credential(&id, label, name);
                self.identity_credential_write(&id, r, &[200, 204, 404])
                    .await?;
            }
            Change::UpdateCredential { credential, .. }
            | Change::CreateCredential { credential, .. }
                if identity.is_some() =>
            {
                let id = need_ids(learned)?.id;
                let r = requests::put_identity_credential(&id, label, credential);
                self.identity_credential_write(&id, r, &[200, 201]).await?;
            }
            Change::CreateApp {
                display_name, tags, ..
            } => {
                let r = requests::create_app(label, display_name, tags);
                learned.ids = Some(self.upsert_app(label, r).await?);
            }
            Change::UpdateApp {
                display_name, tags, ..
            } => {
                let ids = need_ids(learned)?;
                let live_tags = prepared
                    .live
                    .app(label)
                    .map(|a| a.tags.clone())
                    .unwrap_or_default();
                let r = requests::update_app_fields(&ids, label, display_name, &live_tags, tags);
                self.expect(r, &[204, 200]).await?;
            }
            Change::CreateServicePrincipal { .. } => {
                let ids = need_ids(learned)?;
                learned.sp = Some(self.upsert_sp(&ids, label).await?);
            }
            Change::DeleteCredential { .. }
            | Change::UpdateCredential { .. }
            | Change::CreateCredential { .. } => {
                if let Some((r, ok)) =
                    requests::credential_write(change, &need_ids(learned)?, label)
                {
                    self.expect(r, ok).await?;
                }
            }
            Change::CreateRoleAssignment {
                role,
                scope,
                role_definition_id,
                ..
            } => {
                let sp = learned.sp.clone().ok_or_else(|| {
                    Error::Interrupted(format!(
                        "the service principal of {label} is not known yet; re-run apply"
                    ))
                })?;
                let r = requests::assign_role(
                    scope,
                    role_definition_id,
                    &sp,
                    &format!("{role} at {scope} to {label}"),
                );
                requests::read_role_assignment_created(self.send(&r).await?, &r)?;
            }
            Change::DeleteRoleAssignment { name, scope, .. } => {
                self.delete_role_assignment(
                    scope,
                    name,
                    &format!("role assignment {name} at {scope} from {label}"),
                )
                .await?;
            }
            Change::ConfigureDeploymentSettings {
                org,
                project,
                stack,
                ..
            } => {
                let ids = need_ids(learned)?;
                let azure = requests::oidc_settings(
                    &ids.app_id,
                    &self.tenant(&prepared.plan)?,
                    prepared
                        .plan
                        .azure
                        .subscription
                        .as_ref()
                        .map(|s| s.as_str()),
                );
                self.expect(
                    requests::enable_oidc(org, project, stack, azure.clone()),
                    &[200, 204],
                )
                .await?;
                lock(written)
                    .settings
                    .insert(format!("{org}/{project}/{stack}"), azure);
            }
            Change::WriteEscEnvironment {
                org, project, env, ..
            } => {
                let ids = need_ids(learned)?;
                let yaml = self
                    .write_env(prepared, label, org, project, env, &ids.app_id)
                    .await?;
                lock(written)
                    .esc
                    .insert(format!("{org}/{project}/{env}"), yaml);
            }
            Change::DeleteApp { .. } => {
                let Some(app) = prepared.live.app(label) else {
                    return Ok(());
                };
                if let Some(sp) = &app.service_principal_id {
                    // Assignments outlive their principal in ARM; remove them first.
                    for ra in app
                        .role_assignments
                        .iter()
                        .filter(|r| r.principal_id.eq_ignore_ascii_case(sp))
                    {
                        self.delete_role_assignment(
                            &ra.scope,
                            &ra.name,
                            &format!("role assignment {} from {label}", ra.name),
                        )
                        .await?;
                    }
                    self.delete_sp(sp, label).await?;
                }
                self.delete_app(&ids_of(app), label).await?;
            }
        }
        Ok(())
    }

    /// Merge the login block into the environment, ETag-safe: on a concurrent change,
    /// read again and merge again (a few times), never overwrite blindly.
    async fn write_env(
        &self,
        prepared: &Prepared,
        label: &str,
        org: &str,
        project: &str,
        env: &str,
        client_id: &str,
    ) -> Result<String> {
        let planned = planned_env(&prepared.plan, label, org, project, env)
            .map(|(e, kv)| (e.clone(), kv.cloned()))
            .ok_or_else(|| {
                Error::Interrupted(format!(
                    "ESC environment {org}/{project}/{env} is not in the plan"
                ))
            })?;
        let tenant = self.tenant(&prepared.plan)?;
        let subscription = prepared
            .plan
            .azure
            .subscription
            .as_ref()
            .map(|g| g.as_str().to_owned());
        let login = EscLogin {
            client_id,
            tenant_id: &tenant,
            subscription_id: subscription.as_deref(),
        };
        for _ in 0..5 {
            let (current, etag) = match self.get_env(org, project, env).await? {
                Some(found) => found,
                None => {
                    self.create_env(org, project, env).await?;
                    match self.get_env(org, project, env).await? {
                        Some(found) => found,
                        None => continue,
                    }
                }
            };
            let merged = pulumi_azure_oidc::esc_edit::merge_esc_login(
                &current,
                &planned.0,
                &login,
                planned.1.as_ref(),
            )?;
            if merged == current {
                return Ok(merged);
            }
            if self
                .put_env(org, project, env, merged.clone(), etag.as_deref())
                .await?
            {
                return Ok(merged);
            }
        }
        Err(Error::Service {
            service: Service::Pulumi.name(),
            operation: format!("write ESC environment {org}/{project}/{env}"),
            status: 409,
            code: "409".into(),
            message: "the environment kept changing while it was being written; re-run apply"
                .into(),
        })
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}
