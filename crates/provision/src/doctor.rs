//! `doctor`: read what each target names, then let the core judge it. Reads only.

use std::sync::Arc;

use tokio::task::JoinSet;

use pulumi_azure_oidc::doctor::{self, DoctorReport, Holder, Login, Seen, TargetDoctor};
use pulumi_azure_oidc::error::Result;
use pulumi_azure_oidc::provision::AppIds;
use pulumi_azure_oidc::provision::requests;
use pulumi_azure_oidc::target::Target;
use pulumi_azure_oidc::{Error, Issuer};

use super::Provisioner;
use super::observe::join_error;

impl Provisioner {
    /// Diagnose each target's live set-up, targets in parallel. `now` is Unix seconds.
    pub async fn doctor(
        self: &Arc<Self>,
        targets: Vec<(Target, Issuer)>,
        now: i64,
    ) -> Result<DoctorReport> {
        let mut tasks = JoinSet::new();
        for (i, (target, issuer)) in targets.into_iter().enumerate() {
            let me = self.clone();
            tasks.spawn(async move { (i, me.doctor_one(target, issuer, now).await) });
        }
        let mut done: Vec<(usize, TargetDoctor)> = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let (i, result) = joined.map_err(join_error)?;
            done.push((i, result?));
        }
        done.sort_by_key(|(i, _)| *i);
        Ok(DoctorReport::new(
            done.into_iter().map(|(_, t)| t).collect(),
        ))
    }

    async fn doctor_one(&self, target: Target, issuer: Issuer, now: i64) -> Result<TargetDoctor> {
        let mut seen = Seen {
            tenant: self.tenant_id.clone().unwrap_or_default(),
            ..Seen::default()
        };
        // The login the target names; for an environment, also the subject form it
        // asks for, which decides the credential it needs.
        let target = match target {
            Target::Deployment(d) => {
                let (org, project, stack) = (d.org.as_str(), d.project.as_str(), d.stack.as_str());
                match self.get_settings(org, project, stack).await {
                    Ok(settings) => {
                        seen.target_exists = true;
                        seen.login = settings.as_ref().and_then(doctor::login_from_settings);
                    }
                    Err(e) => seen.unreadable.push(format!(
                        "the deployment settings of {org}/{project}/{stack}: {e}"
                    )),
                }
                Target::Deployment(d)
            }
            Target::Esc(e) => {
                let (org, project, env) = (
                    e.org.to_string(),
                    e.env.project.to_string(),
                    e.env.env.to_string(),
                );
                let mut target = Target::Esc(e);
                match self.get_env(&org, &project, &env).await {
                    Ok(Some((yaml, _))) => {
                        seen.target_exists = true;
                        match pulumi_azure_oidc::esc_edit::read_esc_login(
                            &yaml, &org, &project, &env,
                        ) {
                            Ok(read) => {
                                seen.login = doctor::login_from_env(read);
                                // The environment's own subject form decides the
                                // credential it needs; a config target that names
                                // the same attributes keeps its values (a user login).
                                if let Some(login) = &seen.login
                                    && !doctor::same_attributes(&target, &login.subject_attributes)
                                {
                                    match doctor::env_target(
                                        &org,
                                        &project,
                                        &env,
                                        &login.subject_attributes,
                                    ) {
                                        Ok(t) => target = t,
                                        Err(e) => seen.unreadable.push(format!(
                                            "the subject of {org}/{project}/{env} cannot be predicted from its subjectAttributes: {e}"
                                        )),
                                    }
                                }
                            }
                            Err(e) => seen
                                .unreadable
                                .push(format!("the definition of {org}/{project}/{env}: {e}")),
                        }
                    }
                    Ok(None) => {}
                    Err(e) => seen
                        .unreadable
                        .push(format!("ESC environment {org}/{project}/{env}: {e}")),
                }
                target
            }
        };
        if let Some(login) = seen.login.clone()
            && let Some(client_id) = &login.client_id
        {
            match self.doctor_holder(client_id, &login).await {
                Ok(holder) => seen.holder = holder,
                Err(e) => seen
                    .unreadable
                    .push(format!("the app with client id {client_id}: {e}")),
            }
        }
        doctor::assess(&target, &issuer, &seen, now)
    }

    /// The app a client id names (by application id, else by object id, a common
    /// mix-up), its credentials, service principal and roles in the login's
    /// subscription.
    pub(crate) async fn doctor_holder(
        &self,
        client_id: &str,
        login: &Login,
    ) -> Result<Option<Holder>> {
        let mut holder = match self.get_app_by_client_id(client_id).await? {
            Some(app) => doctor::holder_from_app(&app, false),
            None => {
                let r = requests::get_app_by_object_id(client_id);
                match requests::read_optional(self.send(&r).await?, &r) {
                    Ok(found) => found.and_then(|app| doctor::holder_from_app(&app, true)),
                    // Not an object id either (Graph refuses a malformed one with 400).
                    Err(Error::Service { status: 400, .. }) => None,
                    Err(e) => return Err(e),
                }
            }
        };
        if holder.is_none() {
            return self.doctor_identity(client_id, login).await;
        }
        let Some(h) = holder.as_mut() else {
            return Ok(None);
        };
        let ids = AppIds {
            id: h.object_id.clone(),
            app_id: h.app_id.clone(),
        };
        h.credentials = self.list_credentials(&ids, &h.app_id).await?;
        h.service_principal_id = self.get_sp(&h.app_id).await?;
        if let (Some(sp), Some(subscription)) = (&h.service_principal_id, &login.subscription_id) {
            h.role_assignments = self
                .list_role_assignments(&format!("/subscriptions/{subscription}"), sp)
                .await?;
        }
        Ok(holder)
    }

    /// A client id that names no app may name a user-assigned managed identity: its
    /// service principal says so and where the identity is, ARM holds its credentials.
    async fn doctor_identity(&self, client_id: &str, login: &Login) -> Result<Option<Holder>> {
        let r = requests::get_sp(client_id);
        let Some(sp) = requests::read_optional(self.send(&r).await?, &r)? else {
            return Ok(None);
        };
        let Some(id) = doctor::identity_of_service_principal(&sp) else {
            return Ok(None);
        };
        let Some(identity) = self.get_identity(&id).await? else {
            return Ok(None);
        };
        let Some(mut h) = doctor::holder_from_identity(&identity) else {
            return Ok(None);
        };
        h.credentials = self.list_identity_credentials(&id, client_id).await?;
        if let (Some(principal), Some(subscription)) =
            (&h.service_principal_id, &login.subscription_id)
        {
            h.role_assignments = self
                .list_role_assignments(&format!("/subscriptions/{subscription}"), principal)
                .await?;
        }
        Ok(Some(h))
    }
}
