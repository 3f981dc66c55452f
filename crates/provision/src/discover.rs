//! Filling a config's `"*"` entries from Pulumi Cloud's lists of the org's stacks and
//! ESC environments, every page, before anything is planned.

use pulumi_azure_oidc::Config;
use pulumi_azure_oidc::config::Discovered;
use pulumi_azure_oidc::error::{Error, Result};
use pulumi_azure_oidc::plan::Plan;
use pulumi_azure_oidc::provision::requests;

use super::Provisioner;

/// More pages than any org has; a service that keeps answering with new tokens past
/// this is looping.
const MAX_PAGES: usize = 10_000;

impl Provisioner {
    /// The config with what Pulumi Cloud lists added (the config itself when it has
    /// no `"*"` entry, without a request).
    pub async fn discover(&self, config: &Config) -> Result<Config> {
        if !config.needs_discovery() {
            return Ok(config.clone());
        }
        let org = config.org.to_string();
        let (stacks, envs) = config.discovery_lists();
        let mut found = Discovered::default();
        if stacks {
            found.stacks = self
                .pages(
                    |token| requests::list_stacks(&org, token),
                    |answer, request| requests::read_stacks_page(answer, request, &org),
                )
                .await?;
        }
        if envs {
            found.environments = self
                .pages(
                    |token| requests::list_envs(&org, token),
                    requests::read_envs_page,
                )
                .await?;
        }
        config.expand(&found)
    }

    /// The plan of a config, after discovery.
    pub async fn plan_config(&self, config: &Config) -> Result<Plan> {
        pulumi_azure_oidc::plan(&self.discover(config).await?)
    }

    pub(crate) async fn pages(
        &self,
        request: impl Fn(Option<&str>) -> pulumi_azure_oidc::provision::Request,
        read: impl Fn(
            pulumi_azure_oidc::provision::Answer,
            &pulumi_azure_oidc::provision::Request,
        ) -> Result<requests::NamesPage>,
    ) -> Result<Vec<(String, String)>> {
        let mut out = Vec::new();
        let mut token: Option<String> = None;
        for _ in 0..MAX_PAGES {
            let r = request(token.as_deref());
            let (items, next) = read(self.send(&r).await?, &r)?;
            out.extend(items);
            match next {
                Some(next) if Some(&next) == token.as_ref() => {
                    return Err(Error::Interrupted(format!(
                        "{}: the service answered the same continuation token twice",
                        r.operation
                    )));
                }
                Some(next) => token = Some(next),
                None => return Ok(out),
            }
        }
        Err(Error::Interrupted(format!(
            "listing stopped after {MAX_PAGES} pages without an end"
        )))
    }
}
