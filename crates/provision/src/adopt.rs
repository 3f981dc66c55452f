//! `adopt`: read an org's whole set-up (every stack and environment, the login each
//! names, the apps behind them), then let the core describe it as a config. Reads only.

use std::collections::BTreeMap;

use pulumi_azure_oidc::Issuer;
use pulumi_azure_oidc::adopt::{self, Adopted, Found};
use pulumi_azure_oidc::doctor::{self, Holder};
use pulumi_azure_oidc::error::Result;
use pulumi_azure_oidc::provision::requests;

use super::Provisioner;

impl Provisioner {
    /// Describe `org`'s live set-up as a config pinned to its existing apps. `now` is
    /// Unix seconds.
    pub async fn adopt(&self, org: &str, issuer: &Issuer, now: i64) -> Result<Adopted> {
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
        let tenant = self.tenant_id.clone().unwrap_or_default();
        adopt::describe(org, issuer, &tenant, &found, &holders, now)
    }
}
