//! `adopt`: read an org's whole set-up (every stack and environment, the login each
//! names, the apps behind them), then let the core describe it as a config. Reads only.

use std::collections::BTreeMap;
use std::sync::Arc;

use tokio::task::JoinSet;

use pulumi_azure_oidc::Issuer;
use pulumi_azure_oidc::adopt::{self, Adopted, Found, Stray};
use pulumi_azure_oidc::doctor::{self, Holder};
use pulumi_azure_oidc::error::Result;
use pulumi_azure_oidc::provision::{AppIds, requests};

use super::Provisioner;
use super::observe::join_error;

impl Provisioner {
    /// Describe `org`'s live set-up as a config pinned to its existing apps. `now` is
    /// Unix seconds.
    pub async fn adopt(self: &Arc<Self>, org: &str, issuer: &Issuer, now: i64) -> Result<Adopted> {
        let stacks = self
            .pages(
                |token| requests::list_stacks(org, token),
                |answer, request| requests::read_stacks_page(answer, request, org),
            )
            .await?;
        let envs = self
            .pages(
                |token| requests::list_envs(org, token),
                requests::read_envs_page,
            )
            .await?;
        let mut found = Vec::with_capacity(stacks.len() + envs.len());
        for (project, stack) in stacks {
            let login = self
                .get_settings(org, &project, &stack)
                .await?
                .as_ref()
                .and_then(doctor::login_from_settings);
            found.push(Found {
                stack: true,
                project,
                name: stack,
                login,
            });
        }
        for (project, env) in envs {
            let login = match self.get_env(org, &project, &env).await? {
                Some((yaml, _)) => {
                    pulumi_azure_oidc::esc_edit::read_esc_login(&yaml, org, &project, &env)
                        .ok()
                        .and_then(doctor::login_from_env)
                }
                None => None,
            };
            found.push(Found {
                stack: false,
                project,
                name: env,
                login,
            });
        }
        // Each app once, with the roles in the subscription its first login names.
        let mut holders: BTreeMap<String, Holder> = BTreeMap::new();
        for f in &found {
            let Some(login) = &f.login else { continue };
            let Some(client_id) = &login.client_id else {
                continue;
            };
            if holders.contains_key(client_id) {
                continue;
            }
            if let Some(h) = self.doctor_holder(client_id, login).await? {
                holders.insert(client_id.clone(), h);
            }
        }
        let strays = self.strays(org, issuer, &holders).await?;
        let tenant = self.tenant_id.clone().unwrap_or_default();
        adopt::describe(org, issuer, &tenant, &found, &holders, &strays, now)
    }

    /// The tenant's other apps that trust `issuer` with one of `org`'s subjects: every
    /// app's credentials are read (Graph lists an app's credentials only one app at a
    /// time), as many at once as the executor allows.
    async fn strays(
        self: &Arc<Self>,
        org: &str,
        issuer: &Issuer,
        holders: &BTreeMap<String, Holder>,
    ) -> Result<Vec<Stray>> {
        let mut next = Some(requests::list_apps());
        let mut apps = Vec::new();
        while let Some(r) = next {
            let (items, more) =
                requests::read_page(self.send(&r).await?, &r, &self.endpoints.graph)?;
            apps.extend(items);
            next = more;
        }
        let known: std::collections::HashSet<&str> =
            holders.values().map(|h| h.app_id.as_str()).collect();
        let mut tasks = JoinSet::new();
        for (i, v) in apps.iter().enumerate() {
            let Some(ids) = AppIds::of(v) else { continue };
            if known.contains(ids.app_id.as_str()) {
                continue;
            }
            let name = v["displayName"].as_str().unwrap_or_default().to_owned();
            let me = self.clone();
            tasks.spawn(async move {
                let creds = me.list_credentials(&ids, &ids.app_id).await;
                (i, ids, name, creds)
            });
        }
        let ours = |s: &str| {
            s.starts_with(&format!("pulumi:deploy:org:{org}:"))
                || s.starts_with(&format!("pulumi:environments:org:{org}:"))
                || s.contains(&format!("pulumi.organization.login:{org}"))
        };
        let mut strays = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let (i, ids, name, creds) = joined.map_err(join_error)?;
            let subjects: Vec<String> = creds?
                .into_iter()
                .filter(|c| c.issuer == issuer.as_str())
                .filter_map(|c| c.subject)
                .filter(|s| ours(s))
                .collect();
            if !subjects.is_empty() {
                strays.push((
                    i,
                    Stray {
                        app_id: ids.app_id,
                        display_name: name,
                        subjects,
                    },
                ));
            }
        }
        strays.sort_by_key(|(i, _)| *i);
        Ok(strays.into_iter().map(|(_, s)| s).collect())
    }
}
