//! Config entries whose stacks or environments come from Pulumi Cloud.
//!
//! `stacks: "*"` in a project, `projects: "*"`, or `envs: "*"` (with `exclude:` globs)
//! stay in the config as [`Discovery`] entries until the executor has listed the org's
//! stacks and environments; [`Config::expand`] then turns what was found into targets,
//! exactly as if the config had named them.

use serde::Serialize;

use super::{ConfiguredTarget, KeyVaultSecrets, MAX_ROLE_GRANTS};
use crate::config::Config;
use crate::error::{Error, Result};
use crate::roles::RoleGrant;
use crate::spec::TargetSpec;

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum DiscoveryKind {
    #[default]
    Stacks,
    Environments,
}

/// One config entry to fill from Pulumi Cloud, with what each target it finds gets.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Discovery {
    pub kind: DiscoveryKind,
    /// Where it is in the config (`deployments[2]`), for errors.
    pub here: String,
    /// The project; `None` for every project.
    pub project: Option<String>,
    /// Globs of `PROJECT/NAME` or `NAME` to leave out.
    pub exclude: Vec<String>,
    pub operations: Option<Vec<String>>,
    pub subject_attributes: Option<Vec<String>>,
    pub user: Option<String>,
    pub root_env: Option<String>,
    pub include_yaml_subject: bool,
    pub roles: Vec<RoleGrant>,
    pub key_vault: Option<KeyVaultSecrets>,
    pub holder: Option<String>,
    pub identity: Option<super::IdentityPlacement>,
}

/// What Pulumi Cloud lists for the org: `(project, name)` pairs.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Discovered {
    pub stacks: Vec<(String, String)>,
    pub environments: Vec<(String, String)>,
}

impl Discovery {
    fn wants(&self, project: &str, name: &str) -> bool {
        if self.project.as_deref().is_some_and(|p| p != project) {
            return false;
        }
        let full = format!("{project}/{name}");
        !self
            .exclude
            .iter()
            .any(|g| glob_match::glob_match(g, &full) || glob_match::glob_match(g, name))
    }
}

impl Config {
    /// Whether some entry waits for Pulumi Cloud's lists.
    pub fn needs_discovery(&self) -> bool {
        !self.discovery.is_empty()
    }

    /// Which lists the discovery needs: (stacks, environments).
    pub fn discovery_lists(&self) -> (bool, bool) {
        let wants = |k| self.discovery.iter().any(|d| d.kind == k);
        (
            wants(DiscoveryKind::Stacks),
            wants(DiscoveryKind::Environments),
        )
    }

    /// The config with every discovered stack and environment added as a target.
    /// A target the config names itself keeps its own entry; one that two
    /// discovery entries match goes to the first.
    pub fn expand(&self, found: &Discovered) -> Result<Config> {
        let mut out = self.clone();
        out.discovery.clear();
        let mut keys: crate::hash::HashSet<String> =
            out.targets.iter().map(|t| t.target.key()).collect();
        let mut grants: usize = out.targets.iter().map(|t| t.roles.len()).sum();
        for d in &self.discovery {
            let list = match d.kind {
                DiscoveryKind::Stacks => &found.stacks,
                DiscoveryKind::Environments => &found.environments,
            };
            let mut matched: Vec<&(String, String)> =
                list.iter().filter(|(p, n)| d.wants(p, n)).collect();
            matched.sort();
            matched.dedup();
            for (project, name) in matched {
                let spec = match d.kind {
                    DiscoveryKind::Stacks => TargetSpec::Deployment {
                        org: self.org.to_string(),
                        project: project.clone(),
                        stack: name.clone(),
                        operations: d.operations.clone(),
                        issuer: None,
                    },
                    DiscoveryKind::Environments => TargetSpec::Esc {
                        org: self.org.to_string(),
                        project: project.clone(),
                        env: name.clone(),
                        subject_attributes: d.subject_attributes.clone(),
                        user: d.user.clone(),
                        root_env: d.root_env.clone(),
                        include_yaml_subject: d.include_yaml_subject,
                        issuer: None,
                    },
                };
                let target = spec
                    .build()
                    .map_err(|e| e.in_config(format!("{} ({project}/{name}, discovered)", d.here)))?
                    .0;
                if !keys.insert(target.key()) {
                    continue;
                }
                grants = grants.saturating_add(d.roles.len());
                if grants > MAX_ROLE_GRANTS {
                    return Err(Error::InvalidConfig {
                        message: format!(
                            "with what discovery found, the targets ask for more than {MAX_ROLE_GRANTS} role grants; narrow it with `exclude`"
                        ),
                        location: Some(d.here.clone()),
                    });
                }
                out.discovered.push(target.to_string());
                out.targets.push(ConfiguredTarget {
                    target,
                    roles: d.roles.clone(),
                    key_vault: d.key_vault.clone(),
                    holder: d.holder.clone(),
                    identity: d.identity.clone(),
                });
            }
        }
        if out.targets.is_empty() {
            return Err(Error::EmptyTarget(
                "discovery found no stack or environment the config's `\"*\"` entries match, and the config names none"
                    .into(),
            ));
        }
        Ok(out)
    }
}
