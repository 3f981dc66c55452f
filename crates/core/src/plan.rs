//! The planner: config → apps, each holding at most 20 credentials.
//!
//! Rules (DESIGN §4): all credentials of one target live in one app, because the
//! target is configured with one client id; targets share an app only when they ask
//! for the same role assignments, because the app's service principal holds the union
//! of its targets' roles. Within a role set, targets are packed first-fit in config
//! order, so appending a target never moves an existing one to another app.

use crate::config::{AzureSettings, Config, ConfiguredTarget, KeyVaultSecrets};
use crate::credential::{FederatedCredential, with_hash_suffix};
use crate::error::{Error, Result};
use crate::names::{CredentialName, OrgName};
use crate::roles::RoleGrant;
use crate::target::Target;
use serde::Serialize;
use std::collections::{BTreeMap, HashMap, HashSet};

/// Azure's limit of federated identity credentials per application
/// (Entra "federated-credential-configuration-considerations"; Azure/azure-workload-identity#575).
pub const MAX_CREDENTIALS_PER_APP: usize = 20;

/// Tag every managed app carries; `destroy` and prune touch only apps with it.
pub const MANAGED_TAG: &str = "pulumi-azure-oidc";

/// A target as placed in an app.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlannedTarget {
    #[serde(flatten)]
    pub target: Target,
    /// Display form, such as `stack contoso/core/dev`.
    pub label: String,
    /// Names of this target's credentials in the app.
    pub credentials: Vec<CredentialName>,
    pub key_vault: Option<KeyVaultSecrets>,
}

/// One Entra application with its service principal, credentials and roles.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AppPlan {
    /// The Graph alternate key used to upsert the app (`PATCH /applications(uniqueName='…')`).
    pub unique_name: String,
    pub display_name: String,
    /// Tags that mark the app as managed, and by which organization.
    pub tags: Vec<String>,
    /// Why these targets share this app.
    pub reason: String,
    pub targets: Vec<PlannedTarget>,
    /// Deduplicated credentials (the `<yaml>` one can be shared), in a stable order.
    pub credentials: Vec<FederatedCredential>,
    pub roles: Vec<RoleGrant>,
}

/// The whole desired state.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    pub org: OrgName,
    pub issuer: String,
    pub azure: AzureSettings,
    pub apps: Vec<AppPlan>,
    pub warnings: Vec<String>,
}

impl Plan {
    /// Total number of credentials across apps.
    pub fn credential_count(&self) -> usize {
        self.apps.iter().map(|a| a.credentials.len()).sum()
    }

    /// The app that holds the target with `key` (see [`Target::key`]).
    pub fn app_for(&self, key: &str) -> Option<&AppPlan> {
        self.apps
            .iter()
            .find(|a| a.targets.iter().any(|t| t.target.key() == key))
    }
}

struct Building<'a> {
    targets: Vec<(&'a ConfiguredTarget, Vec<FederatedCredential>)>,
    /// issuer+subject → index into `credentials`, to share identical credentials.
    subjects: HashSet<(String, String)>,
    count: usize,
}

impl Building<'_> {
    fn room_for(&self, creds: &[FederatedCredential]) -> bool {
        let new = creds
            .iter()
            .filter(|c| {
                !self
                    .subjects
                    .contains(&(c.issuer.clone(), c.subject.clone()))
            })
            .count();
        self.count + new <= MAX_CREDENTIALS_PER_APP
    }
}

/// Plan apps for `config`. Pure and deterministic: the same config gives the same plan.
pub fn plan(config: &Config) -> Result<Plan> {
    let mut warnings = Vec::new();
    // Role set → apps being filled, in order of first appearance.
    let mut groups: Vec<(Vec<RoleGrant>, Vec<Building<'_>>)> = Vec::new();
    let mut group_index: HashMap<Vec<RoleGrant>, usize> = HashMap::new();
    let mut seen_warnings = HashSet::new();

    for configured in &config.targets {
        let generated = configured.target.credentials(&config.issuer)?;
        for w in generated.warnings {
            let w = format!("{}: {w}", generated.target);
            if seen_warnings.insert(w.clone()) {
                warnings.push(w);
            }
        }
        if let Some(kv) = &configured.key_vault
            && !configured
                .roles
                .iter()
                .any(|g| g.role.reads_key_vault_secrets())
        {
            warnings.push(format!(
                "{}: reads secrets from Key Vault `{}`, but none of its roles can read secret values; \
                 add Key Vault Secrets User at the vault's scope",
                generated.target, kv.vault
            ));
        }
        let creds = generated.credentials;
        if creds.len() > MAX_CREDENTIALS_PER_APP {
            // A target needs at most five credentials today; keep the check so a future
            // target kind cannot silently break the limit.
            return Err(Error::CredentialLimitExceeded {
                app: generated.target,
                count: creds.len(),
            });
        }
        let gi = *group_index
            .entry(configured.roles.clone())
            .or_insert_with(|| {
                groups.push((configured.roles.clone(), Vec::new()));
                groups.len() - 1
            });
        let apps = &mut groups[gi].1;
        let slot = match apps.iter().position(|b| b.room_for(&creds)) {
            Some(i) => i,
            None => {
                apps.push(Building {
                    targets: Vec::new(),
                    subjects: HashSet::new(),
                    count: 0,
                });
                apps.len() - 1
            }
        };
        let b = &mut apps[slot];
        for c in &creds {
            if b.subjects.insert((c.issuer.clone(), c.subject.clone())) {
                b.count += 1;
            }
        }
        b.targets.push((configured, creds));
    }

    let mut role_warnings = HashSet::new();
    let mut apps = Vec::new();
    for (roles, buildings) in groups {
        for grant in &roles {
            for w in grant.warnings() {
                if role_warnings.insert(w.clone()) {
                    warnings.push(w);
                }
            }
        }
        let group_key = roles_key(&roles);
        let total = buildings.len();
        for (i, b) in buildings.into_iter().enumerate() {
            apps.push(finish_app(config, &roles, &group_key, i, total, b));
        }
    }
    Ok(Plan {
        org: config.org.clone(),
        issuer: config.issuer.to_string(),
        azure: config.azure.clone(),
        apps,
        warnings,
    })
}

fn roles_key(roles: &[RoleGrant]) -> String {
    roles
        .iter()
        .map(|g| format!("{}@{}", g.role.id, g.scope.as_str().to_ascii_lowercase()))
        .collect::<Vec<_>>()
        .join(",")
}

fn roles_summary(roles: &[RoleGrant]) -> String {
    if roles.is_empty() {
        return "no role assignments".to_owned();
    }
    roles
        .iter()
        .map(|g| format!("{} at {}", g.role.name, g.scope))
        .collect::<Vec<_>>()
        .join(", ")
}

fn finish_app(
    config: &Config,
    roles: &[RoleGrant],
    group_key: &str,
    index: usize,
    total: usize,
    b: Building<'_>,
) -> AppPlan {
    let org = &config.org;
    let hash = crate::credential::short_hash(&[org.as_str(), group_key], 8);
    let unique_name = format!(
        "pulumi-oidc-{}-{hash}-{}",
        org.as_str().to_ascii_lowercase(),
        index + 1
    );
    let short_roles = if roles.is_empty() {
        "no roles".to_owned()
    } else {
        let mut names: Vec<&str> = roles.iter().map(|g| g.role.name.as_str()).collect();
        names.dedup();
        names.join("+")
    };
    let display_name = format!("Pulumi OIDC {org} ({short_roles}) {hash}-{}", index + 1);

    // Targets whose subjects coincide (the `<yaml>` subject, or attribute forms that
    // do not name the environment) share one credential: issuer+subject is unique per app.
    let mut unique: Vec<FederatedCredential> = Vec::new();
    let mut index_of: HashMap<(String, String), usize> = HashMap::new();
    for (_, creds) in &b.targets {
        for c in creds {
            index_of
                .entry((c.issuer.clone(), c.subject.clone()))
                .or_insert_with(|| {
                    unique.push(c.clone());
                    unique.len() - 1
                });
        }
    }
    // Credential names must be unique per app; readable names can collide when
    // project and stack names contain hyphens, so colliding ones get a hashed suffix.
    let mut name_counts: BTreeMap<String, usize> = BTreeMap::new();
    for c in &unique {
        *name_counts.entry(c.name.to_string()).or_default() += 1;
    }
    for c in &mut unique {
        if name_counts.get(c.name.as_str()).copied().unwrap_or(0) > 1 {
            let renamed = with_hash_suffix(c.name.as_str(), &[&c.issuer, &c.subject]);
            c.name = CredentialName(renamed);
        }
    }
    let targets: Vec<PlannedTarget> = b
        .targets
        .into_iter()
        .map(|(configured, creds)| PlannedTarget {
            label: configured.target.to_string(),
            target: configured.target.clone(),
            credentials: creds
                .iter()
                .map(|c| {
                    unique[index_of[&(c.issuer.clone(), c.subject.clone())]]
                        .name
                        .clone()
                })
                .collect(),
            key_vault: configured.key_vault.clone(),
        })
        .collect();
    let credentials = unique;
    let n = targets.len();
    let mut reason = format!(
        "{n} target{} needing {}; {} of {MAX_CREDENTIALS_PER_APP} credentials",
        if n == 1 { "" } else { "s" },
        roles_summary(roles),
        credentials.len()
    );
    if total > 1 {
        reason.push_str(&format!(
            "; app {} of {total} for this role set, because one app holds at most {MAX_CREDENTIALS_PER_APP} credentials and a target is never split",
            index + 1
        ));
    }
    AppPlan {
        unique_name,
        display_name,
        tags: vec![MANAGED_TAG.to_owned(), format!("{MANAGED_TAG}:org:{org}")],
        reason,
        targets,
        credentials,
        roles: roles.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn config(text: &str) -> Config {
        Config::from_yaml(text).unwrap()
    }

    #[test]
    fn five_stacks_fill_one_app_and_the_sixth_opens_another() {
        let c = config(
            "org: contoso\ndeployments:\n  - project: core\n    stacks: [a, b, c, d, e, f]\n",
        );
        let p = plan(&c).unwrap();
        assert_eq!(p.apps.len(), 2);
        assert_eq!(p.apps[0].credentials.len(), 20);
        assert_eq!(p.apps[1].credentials.len(), 4);
        assert!(p.apps[1].reason.contains("app 2 of 2"));
        assert_ne!(p.apps[0].unique_name, p.apps[1].unique_name);
    }

    #[test]
    fn different_roles_never_share() {
        let sub = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
        let c = config(&format!(
            "org: contoso\ndeployments:\n  - project: core\n    stacks: [dev]\n    roles: [{{role: Reader, scope: /subscriptions/{sub}}}]\n  - project: web\n    stacks: [dev]\n"
        ));
        let p = plan(&c).unwrap();
        assert_eq!(p.apps.len(), 2);
        assert!(p.warnings.iter().any(|w| w.contains("subscription scope")));
    }

    #[test]
    fn colliding_readable_names_get_suffixes() {
        let c = config(
            "org: contoso\ndeployments:\n  - project: a-b\n    stacks: [c]\n  - project: a\n    stacks: [b-c]\n",
        );
        let p = plan(&c).unwrap();
        let names: HashSet<_> = p.apps[0]
            .credentials
            .iter()
            .map(|c| c.name.clone())
            .collect();
        assert_eq!(names.len(), 8);
    }

    #[test]
    fn yaml_subject_is_shared_within_an_app() {
        let c = config(
            "org: contoso\nesc:\n  - project: azure\n    envs: [a, b]\n    includeYamlSubject: true\n",
        );
        let p = plan(&c).unwrap();
        assert_eq!(p.apps.len(), 1);
        assert_eq!(p.apps[0].credentials.len(), 3);
        assert!(p.warnings.iter().any(|w| w.contains("<yaml>")));
    }
}
