//! The planner: config → apps, each holding at most 20 credentials.
//!
//! Rules (DESIGN §4): all credentials of one target live in one app, because the
//! target is configured with one client id; targets share an app only when they ask
//! for the same role assignments, because the app's service principal holds the union
//! of its targets' roles. Within a role set, targets are packed first-fit in config
//! order, so appending a target never moves an existing one to another app.

use crate::config::{AzureSettings, Config, ConfiguredTarget, IdentityPlacement, KeyVaultSecrets};
use crate::credential::{FederatedCredential, with_hash_suffix};
use crate::error::{Error, Result};
use crate::hash::TextNumbers;
use crate::join::Joined;
use crate::names::{CredentialName, OrgName};
use crate::roles::RoleGrant;
use crate::target::Target;
use serde::Serialize;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::fmt::Write as _;

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
    /// The client id of an existing app the config pins these targets to (`holder:`):
    /// the app is read by that id, never created, renamed or tagged unless the run
    /// takes ownership of it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub pinned_client_id: Option<String>,
    /// Set when the holder is a user-assigned managed identity rather than an Entra
    /// app: where it lives. Its ARM name is `unique_name`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<IdentityPlacement>,
}

impl AppPlan {
    /// `app` or `managed identity`, for messages.
    pub fn kind(&self) -> &'static str {
        if self.identity.is_some() {
            "managed identity"
        } else {
            "app"
        }
    }

    /// Whether the holder exists already and the config pins its targets to it (an app
    /// by client id, an identity by ARM id): read, never created.
    pub fn is_pinned(&self) -> bool {
        self.pinned_client_id.is_some()
            || self.identity.as_ref().is_some_and(|p| p.existing.is_some())
    }

    /// The identity's ARM id, when the holder is one.
    pub fn identity_id(&self) -> Option<String> {
        self.identity
            .as_ref()
            .map(|p| p.resource_id(&self.unique_name))
    }
}

/// The label of the app a `holder:` pin names.
pub fn pinned_label(client_id: &str) -> String {
    format!("app-{client_id}")
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

    /// The holder planned under `label` (its `unique_name`).
    pub fn holder(&self, label: &str) -> Option<&AppPlan> {
        self.apps.iter().find(|a| a.unique_name == label)
    }

    /// The resource groups whose managed identities a run reads: each one the plan
    /// places an identity in. Listing there, not the whole subscription, needs only
    /// the rights an identities config grants (*Managed Identity Contributor* on those
    /// groups), and costs nothing for a config without identities; an identity left in
    /// a group the config no longer names is not seen.
    pub fn identity_resource_groups(&self) -> Vec<String> {
        let mut groups: Vec<String> = self
            .apps
            .iter()
            .filter_map(|a| a.identity.as_ref())
            .map(|p| p.resource_group_id())
            .collect();
        groups.sort_by_key(|g| g.to_ascii_lowercase());
        groups.dedup_by(|a, b| a.eq_ignore_ascii_case(b));
        groups
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
    count: usize,
}

/// Whether two different targets can need this very subject. Targets are unique by
/// org/project/stack and org/project/env, so a subject that names its stack or its
/// environment belongs to one target; only the `<yaml>` subject and attribute forms
/// without `currentEnvironment.name` can be shared. Only those are tracked, which keeps
/// planning 10,000 stacks free of per-credential hashing.
fn may_be_shared(subject: &str) -> bool {
    if subject.starts_with("pulumi:deploy:") {
        return false;
    }
    if subject.starts_with("pulumi:environments:org:") {
        return subject.ends_with(":env:<yaml>");
    }
    !subject.contains(":currentEnvironment.name:")
}

/// The apps of one role set, filled first-fit in config order.
///
/// First fit over thousands of apps must not scan them all: apps are bucketed by
/// free slots, so the lowest-index app with room is found in 20 heap look-ups. An
/// app's free slots only fall, so an entry left in a bucket the app has since left
/// can never become true again: it is dropped when it reaches the top. (A heap per
/// bucket rather than an ordered set: the page's module then carries no B-tree.)
/// An app that already holds one of the target's subjects (a shared `<yaml>`
/// credential) needs fewer slots, so those apps are checked by subject as well.
/// Every credential of a plan has the plan's issuer, so subjects alone are keys.
struct Group<'a> {
    roles: Vec<RoleGrant>,
    identity: Option<IdentityPlacement>,
    apps: Vec<Building<'a>>,
    by_free: Vec<BinaryHeap<Reverse<usize>>>,
    /// Shared subjects, numbered, and the apps holding each, by that number.
    subjects: TextNumbers,
    subject_apps: Vec<Vec<usize>>,
}

impl<'a> Group<'a> {
    fn new(roles: Vec<RoleGrant>, identity: Option<IdentityPlacement>) -> Self {
        Group {
            roles,
            identity,
            apps: Vec::new(),
            by_free: vec![BinaryHeap::new(); MAX_CREDENTIALS_PER_APP + 1],
            subjects: TextNumbers::default(),
            subject_apps: Vec::new(),
        }
    }

    fn holds(&self, app: usize, subject: &str) -> bool {
        self.subjects
            .get(subject)
            .is_some_and(|n| self.subject_apps[n].contains(&app))
    }

    /// How many of `creds` app `i` does not hold yet.
    fn new_for(&self, i: usize, creds: &[FederatedCredential]) -> usize {
        creds
            .iter()
            .filter(|c| !may_be_shared(&c.subject) || !self.holds(i, &c.subject))
            .count()
    }

    /// The lowest-index app with exactly `free` slots free.
    fn first_with(&mut self, free: usize) -> Option<usize> {
        let bucket = &mut self.by_free[free];
        while let Some(&Reverse(i)) = bucket.peek() {
            if MAX_CREDENTIALS_PER_APP - self.apps[i].count == free {
                return Some(i);
            }
            bucket.pop();
        }
        None
    }

    fn place(&mut self, configured: &'a ConfiguredTarget, creds: Vec<FederatedCredential>) {
        let need = creds.len();
        let mut best = (need..=MAX_CREDENTIALS_PER_APP)
            .filter_map(|free| self.first_with(free))
            .min();
        for c in creds.iter().filter(|c| may_be_shared(&c.subject)) {
            for &i in self
                .subjects
                .get(&c.subject)
                .map_or(&[][..], |n| &self.subject_apps[n])
            {
                if best.is_none_or(|j| i < j)
                    && self.apps[i].count + self.new_for(i, &creds) <= MAX_CREDENTIALS_PER_APP
                {
                    best = Some(i);
                }
            }
        }
        let slot = best.unwrap_or_else(|| {
            self.apps.push(Building {
                targets: Vec::new(),
                count: 0,
            });
            let i = self.apps.len() - 1;
            self.by_free[MAX_CREDENTIALS_PER_APP].push(Reverse(i));
            i
        });
        let before = self.apps[slot].count;
        for c in &creds {
            if !may_be_shared(&c.subject) {
                self.apps[slot].count += 1;
            } else if !self.holds(slot, &c.subject) {
                self.apps[slot].count += 1;
                let (n, new) = self.subjects.number(&c.subject);
                if new {
                    self.subject_apps.push(Vec::new());
                }
                self.subject_apps[n].push(slot);
            }
        }
        let b = &mut self.apps[slot];
        if b.count != before {
            self.by_free[MAX_CREDENTIALS_PER_APP - b.count].push(Reverse(slot));
        }
        b.targets.push((configured, creds));
    }
}

/// Plan apps for `config`. Pure and deterministic: the same config gives the same plan.
pub fn plan(config: &Config) -> Result<Plan> {
    if let Some(d) = config.discovery.first() {
        return Err(Error::InvalidConfig {
            message: "this entry lists its stacks or environments as \"*\", which only Pulumi Cloud can fill in: \
                      run it where a Pulumi access token is at hand (the CLI's plan, apply, status; the executor's \
                      calls), or name the targets"
                .into(),
            location: Some(d.here.clone()),
        });
    }
    let mut warnings = Vec::new();
    // Role set → apps being filled, in order of first appearance.
    let mut groups: Vec<Group<'_>> = Vec::new();
    // Numbered by role set and holder kind (`group_key`), in step with `groups`: an
    // identity and an app never share, nor do identities in different places.
    let mut group_numbers = TextNumbers::default();
    let mut seen_warnings = TextNumbers::default();
    // Pinned targets: one existing app per client id, whatever their roles.
    let mut pinned: Vec<(String, Vec<RoleGrant>, Building<'_>)> = Vec::new();

    for configured in &config.targets {
        let generated = configured.target.credentials(&config.issuer)?;
        for w in generated.warnings {
            let w = format!("{}: {w}", generated.target);
            if seen_warnings.is_new(&w) {
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
        // An existing identity pinned by id is keyed like a pinned app, by its ARM id.
        let pin = configured.holder.clone().or_else(|| {
            configured
                .identity
                .as_ref()
                .filter(|p| p.existing.is_some())
                .map(|p| {
                    p.resource_id(p.existing.as_deref().unwrap_or_default())
                        .to_ascii_lowercase()
                })
        });
        if let Some(client_id) = &pin {
            let i = match pinned.iter().position(|(c, ..)| c == client_id) {
                Some(i) => i,
                None => {
                    pinned.push((
                        client_id.clone(),
                        Vec::new(),
                        Building {
                            targets: Vec::new(),
                            count: 0,
                        },
                    ));
                    pinned.len() - 1
                }
            };
            let (_, roles, building) = &mut pinned[i];
            for g in &configured.roles {
                if !roles.contains(g) {
                    roles.push(g.clone());
                }
            }
            building.count += creds.len();
            building.targets.push((configured, creds));
            continue;
        }
        let (gi, new) =
            group_numbers.number(&group_key(&configured.roles, configured.identity.as_ref()));
        if new {
            groups.push(Group::new(
                configured.roles.clone(),
                configured.identity.clone(),
            ));
        }
        groups[gi].place(configured, creds);
    }

    if !config.issuer.as_str().starts_with("https://") {
        warnings.push(format!(
            "issuer {} is not https: only a local test Pulumi Cloud issues such tokens, and Azure fetches the issuer's keys over https",
            config.issuer
        ));
    }
    if config.issuer.as_str().ends_with("/oidc/v2") {
        warnings.push(
            "issuer `…/oidc/v2` is for `fn::open::oidc` custom-audience tokens; `fn::open::azure-login` and Deployments use `…/oidc`"
                .to_owned(),
        );
    }
    let mut role_warnings = TextNumbers::default();
    let mut apps = Vec::new();
    for Group {
        roles,
        identity,
        apps: buildings,
        ..
    } in groups
    {
        for grant in &roles {
            for w in grant.warnings() {
                if role_warnings.is_new(&w) {
                    warnings.push(w);
                }
            }
        }
        let mut group_key = roles_key(&roles);
        if let Some(p) = &identity {
            let _ = write!(group_key, ";identity@{}", p.key());
        }
        let total = buildings.len();
        for (i, b) in buildings.into_iter().enumerate() {
            let mut app = finish_app(config, &roles, &group_key, i, total, b);
            if let Some(p) = &identity {
                app.display_name =
                    app.display_name
                        .replacen("Pulumi OIDC", "Pulumi OIDC identity", 1);
                app.reason = app.reason.replace(" app ", " managed identity ").replacen(
                    "one app holds",
                    "one identity holds",
                    1,
                );
                let _ = write!(
                    app.reason,
                    "; a user-assigned managed identity in resource group {} ({}) of subscription {}",
                    p.resource_group, p.location, p.subscription
                );
                app.identity = Some(p.clone());
            }
            apps.push(app);
        }
    }
    for (client_id, roles, b) in pinned {
        let place = b.targets.first().and_then(|(t, _)| t.identity.clone());
        for grant in &roles {
            for w in grant.warnings() {
                if role_warnings.is_new(&w) {
                    warnings.push(w);
                }
            }
        }
        let mut app = finish_app(config, &roles, &roles_key(&roles), 0, 1, b);
        if app.credentials.len() > MAX_CREDENTIALS_PER_APP {
            return Err(Error::CredentialLimitExceeded {
                app: format!("the app with client id {client_id} (`holder`)"),
                count: app.credentials.len(),
            });
        }
        if let Some(place) = place.filter(|p| p.existing.is_some()) {
            let name = place.existing.clone().unwrap_or_default();
            app.display_name = format!("existing managed identity {name}");
            app.reason = format!(
                "pinned by `holder` to the existing managed identity {}; {}",
                place.resource_id(&name),
                app.reason
            );
            app.unique_name = name;
            app.identity = Some(place);
            apps.push(app);
            continue;
        }
        app.unique_name = pinned_label(&client_id);
        app.display_name = format!("existing app {client_id}");
        app.reason = format!(
            "pinned by `holder` to the existing app with client id {client_id}; {}",
            app.reason
        );
        app.pinned_client_id = Some(client_id);
        apps.push(app);
    }
    Ok(Plan {
        org: config.org.clone(),
        issuer: config.issuer.to_string(),
        azure: config.azure.clone(),
        apps,
        warnings,
    })
}

/// The text a group of targets is known by while planning: equal exactly when the
/// grants (roles and normalized scopes, in order) and the identity placements are.
/// Each field is written with its length first, so no two groups' texts meet.
fn group_key(roles: &[RoleGrant], identity: Option<&IdentityPlacement>) -> String {
    let mut key = String::new();
    let field = |key: &mut String, text: &str| {
        let _ = write!(key, "{}:{text}", text.len());
    };
    for g in roles {
        field(&mut key, &g.role.name);
        field(&mut key, g.role.id.as_str());
        field(&mut key, g.scope.normalized());
    }
    if let Some(p) = identity {
        key.push('+');
        field(&mut key, p.subscription.as_str());
        field(&mut key, &p.resource_group);
        field(&mut key, &p.location);
        if let Some(existing) = &p.existing {
            key.push('+');
            field(&mut key, existing);
        }
    }
    key
}

fn roles_key(roles: &[RoleGrant]) -> String {
    roles
        .iter()
        .map(|g| format!("{}@{}", g.role.id, g.scope.as_str().to_ascii_lowercase()))
        .collect::<Vec<_>>()
        .joined(",")
}

fn roles_summary(roles: &[RoleGrant]) -> String {
    if roles.is_empty() {
        return "no role assignments".to_owned();
    }
    roles
        .iter()
        .map(|g| format!("{} at {}", g.role.name, g.scope))
        .collect::<Vec<_>>()
        .joined(", ")
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
        names.joined("+")
    };
    let display_name = format!("Pulumi OIDC {org} ({short_roles}) {hash}-{}", index + 1);

    // Targets whose subjects coincide (the `<yaml>` subject, or attribute forms that
    // do not name the environment) share one credential: issuer+subject is unique per
    // app, and the issuer is the plan's.
    let mut unique: Vec<FederatedCredential> = Vec::new();
    // The n-th shared subject's credential is `unique[shared_at[n]]`.
    let mut shared = TextNumbers::default();
    let mut shared_at: Vec<usize> = Vec::new();
    let mut placed: Vec<(&ConfiguredTarget, Vec<usize>)> = Vec::with_capacity(b.targets.len());
    for (configured, creds) in b.targets {
        let mut indexes = Vec::with_capacity(creds.len());
        for c in creds {
            let i = if !may_be_shared(&c.subject) {
                unique.push(c);
                unique.len() - 1
            } else {
                let (n, new) = shared.number(c.subject.as_str());
                if new {
                    shared_at.push(unique.len());
                    unique.push(c);
                }
                shared_at[n]
            };
            indexes.push(i);
        }
        placed.push((configured, indexes));
    }
    // Credential names must be unique per app; readable names can collide when
    // project and stack names contain hyphens. The first holder keeps the readable
    // name and later ones get a hashed suffix, so appending a target never renames an
    // existing credential (and the diff matches credentials by subject anyway).
    let colliding: Vec<usize> = {
        // At most 20 names: sorting beats hashing.
        let mut order: Vec<usize> = (0..unique.len()).collect();
        // A total order (ties broken by index), so the unstable sort gives the stable
        // one's result with less code.
        order.sort_unstable_by(|&a, &b| unique[a].name.cmp(&unique[b].name).then(a.cmp(&b)));
        order
            .windows(2)
            .filter(|w| unique[w[0]].name == unique[w[1]].name)
            .map(|w| w[1])
            .collect()
    };
    for i in colliding {
        let c = &mut unique[i];
        c.name = CredentialName(with_hash_suffix(c.name.as_str(), &[&c.issuer, &c.subject]));
    }
    let targets: Vec<PlannedTarget> = placed
        .into_iter()
        .map(|(configured, indexes)| PlannedTarget {
            label: configured.target.to_string(),
            target: configured.target.clone(),
            credentials: indexes.iter().map(|&i| unique[i].name.clone()).collect(),
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
        let _ = write!(
            reason,
            "; app {} of {total} for this role set, because one app holds at most {MAX_CREDENTIALS_PER_APP} credentials and a target is never split",
            index + 1
        );
    }
    AppPlan {
        unique_name,
        display_name,
        tags: vec![MANAGED_TAG.to_owned(), format!("{MANAGED_TAG}:org:{org}")],
        reason,
        targets,
        credentials,
        roles: roles.to_vec(),
        pinned_client_id: None,
        identity: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::roles::{Guid, Role, Scope};

    fn config(text: &str) -> Config {
        Config::from_yaml(text).unwrap()
    }

    #[test]
    fn group_keys_meet_exactly_when_grants_and_placements_are_equal() {
        let sub = "/subscriptions/00000000-0000-0000-0000-0000000000aa";
        let grant = |role: &str, scope: &str| RoleGrant {
            role: Role::parse(role).unwrap(),
            scope: Scope::parse(scope).unwrap(),
        };
        let place = |group: &str, location: &str, existing: Option<&str>| IdentityPlacement {
            subscription: Guid::parse("id", &sub[15..]).unwrap(),
            resource_group: group.to_owned(),
            location: location.to_owned(),
            existing: existing.map(str::to_owned),
        };
        let rg = format!("{sub}/resourceGroups/rg");
        let rg_upper = format!("{sub}/RESOURCEGROUPS/RG");
        let role_sets = [
            vec![],
            vec![grant("Contributor", sub)],
            vec![grant("Contributor", &rg)],
            vec![grant("Contributor", &rg_upper)],
            vec![grant("Reader", sub)],
            vec![grant("Contributor", sub), grant("Reader", sub)],
            vec![grant("Reader", sub), grant("Contributor", sub)],
        ];
        let placements = [
            None,
            Some(place("rg", "westeurope", None)),
            Some(place("rg", "", None)),
            Some(place("", "rg", None)),
            Some(place("rg", "westeurope", Some(""))),
            Some(place("rg", "westeurope", Some("id"))),
            Some(place("rg1", "", Some("id"))),
            Some(place("rg", "1", Some("id"))),
        ];
        let groups: Vec<_> = role_sets
            .iter()
            .flat_map(|r| placements.iter().map(move |p| (r, p)))
            .collect();
        for a in &groups {
            for b in &groups {
                assert_eq!(
                    group_key(a.0, a.1.as_ref()) == group_key(b.0, b.1.as_ref()),
                    a == b,
                    "{a:?} and {b:?}"
                );
            }
        }
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
        let names: crate::hash::HashSet<_> = p.apps[0]
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

    #[test]
    fn identities_are_packed_like_apps_and_never_mixed_with_them() {
        let sub = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";
        let c = config(&format!(
            "org: contoso\nmanagedIdentity: {{ subscription: {sub}, resourceGroup: rg-oidc, location: westeurope }}\n\
             deployments:\n  - project: core\n    stacks: [a, b, c, d, e, f]\n    holder: managedIdentity\n  - project: web\n    stacks: [dev]\n"
        ));
        let p = plan(&c).unwrap();
        let identities: Vec<_> = p.apps.iter().filter(|a| a.identity.is_some()).collect();
        assert_eq!(identities.len(), 2, "six stacks need two identities");
        assert_eq!(identities[0].credentials.len(), 20);
        assert!(
            identities[0].reason.contains("managed identity 1 of 2"),
            "{}",
            identities[0].reason
        );
        assert_eq!(p.apps.iter().filter(|a| a.identity.is_none()).count(), 1);
        let id = identities[0].identity_id().unwrap();
        assert!(
            id.starts_with(&format!("/subscriptions/{sub}/resourceGroups/rg-oidc/providers/Microsoft.ManagedIdentity/userAssignedIdentities/pulumi-oidc-contoso-")),
            "{id}"
        );
        assert_eq!(
            p.identity_resource_groups(),
            [format!("/subscriptions/{sub}/resourceGroups/rg-oidc")]
        );
        // A converged identity diffs to nothing, and credential descriptions (which ARM
        // does not hold) are not compared.
        let mut state = crate::diff::ObservedState::default();
        for (i, a) in p.apps.iter().enumerate() {
            state.apps.push(crate::diff::ObservedApp {
                id: a.identity_id().unwrap_or_else(|| format!("obj-{i}")),
                app_id: format!("client-{i}"),
                unique_name: Some(a.unique_name.clone()),
                display_name: a.display_name.clone(),
                tags: a.tags.clone(),
                federated_identity_credentials: a
                    .credentials
                    .iter()
                    .map(|c| crate::diff::ObservedCredential {
                        description: a.identity.is_none().then(|| c.description.clone()),
                        ..crate::diff::ObservedCredential::from(c)
                    })
                    .collect(),
                service_principal_id: Some(format!("sp-{i}")),
                identity_id: a.identity_id(),
                ..Default::default()
            });
        }
        let d = crate::diff::diff(&p, &state, crate::diff::DiffOptions::default()).unwrap();
        assert!(
            d.changes
                .iter()
                .all(|c| matches!(c, crate::diff::Change::ConfigureDeploymentSettings { .. })),
            "{:?}",
            d.changes
        );
        // From nothing: identities are created, with no service principal of their own.
        let d = crate::diff::diff(&p, &Default::default(), Default::default()).unwrap();
        let first = &identities[0].unique_name;
        let mine: Vec<_> = d.changes.iter().filter(|c| c.app() == first).collect();
        assert!(
            matches!(mine[0], crate::diff::Change::CreateIdentity { .. }),
            "{mine:?}"
        );
        assert!(
            !mine
                .iter()
                .any(|c| matches!(c, crate::diff::Change::CreateServicePrincipal { .. }))
        );
        // Every render speaks of the identity.
        let az = crate::render::render(&p, crate::render::RenderFormat::Az, &Default::default())
            .unwrap();
        assert!(
            az.contains("az identity create --name pulumi-oidc-contoso-"),
            "{az}"
        );
        assert!(
            az.contains("az identity federated-credential create"),
            "{az}"
        );
        let py = crate::render::render(
            &p,
            crate::render::RenderFormat::PulumiPython,
            &Default::default(),
        )
        .unwrap();
        assert!(
            py.contains("azure_native.managedidentity.FederatedIdentityCredential("),
            "{py}"
        );
        assert!(py.contains("depends_on=[previous]"), "{py}");
    }
}
