//! The declarative config file (`pulumi-azure-oidc.yaml`): parse, then validate.
//!
//! Parsing uses serde with `deny_unknown_fields`, so a misspelt key is an error that
//! names the key, the keys expected and the line. Values are validated afterwards, so
//! a bad name keeps its own error code and the message says where it is.

use crate::claims::{Issuer, Operation, SubjectAttribute};
use crate::error::{Error, Result};
use crate::fields::map_struct;
use crate::names::{EscEnvRef, EscProjectName, OrgName, ProjectName, UserLogin};
use crate::roles::{Guid, Role, RoleGrant, Scope};
use crate::spec::TargetSpec;
use crate::target::Target;
use serde::{Deserialize, Serialize};

mod budget;
mod discovery;
mod holder;
#[cfg(test)]
mod read_tests;

use budget::check_shape;
pub use budget::{
    MAX_CONFIG_BYTES, MAX_CONFIG_VALUES, MAX_NESTING, MAX_ROLE_GRANTS, config_value_limit,
};
pub use discovery::{Discovered, Discovery, DiscoveryKind};
pub use holder::IdentityPlacement;
use holder::{HolderChoice, RawHolder, RawPlacement, holder_choice, placement};

#[derive(Debug)]
struct RawConfig {
    org: String,
    issuer: Option<String>,
    azure: Option<RawAzure>,
    deployments: Vec<RawDeployment>,
    esc: Vec<RawEsc>,
    /// The holder of every entry that names none.
    holder: Option<RawHolder>,
    /// Where managed identities go unless an entry says otherwise.
    managed_identity: Option<RawPlacement>,
}

#[derive(Debug)]
struct RawAzure {
    tenant: Option<String>,
    subscription: Option<String>,
}

#[derive(Debug)]
struct RawDeployment {
    project: Option<String>,
    /// `"*"`: every project of the org, discovered.
    projects: Option<String>,
    stack: Option<String>,
    stacks: Option<Names>,
    /// Globs of `PROJECT/STACK` or `STACK` that discovery leaves out.
    exclude: Vec<String>,
    holder: Option<RawHolder>,
    operations: Option<Vec<String>>,
    roles: Vec<RawRole>,
}

#[derive(Debug)]
struct RawEsc {
    project: Option<String>,
    /// `"*"`: every ESC project of the org, discovered.
    projects: Option<String>,
    env: Option<String>,
    envs: Option<Names>,
    /// Globs of `PROJECT/ENV` or `ENV` that discovery leaves out.
    exclude: Vec<String>,
    holder: Option<RawHolder>,
    subject_attributes: Option<Vec<String>>,
    user: Option<String>,
    root_env: Option<String>,
    include_yaml_subject: bool,
    roles: Vec<RawRole>,
    key_vault: Option<RawKeyVault>,
}

/// A list of names, or `"*"` for every one Pulumi Cloud has.
#[derive(Debug)]
enum Names {
    All(String),
    List(Vec<String>),
}

/// Read by hand rather than as an untagged enum: serde buffers an untagged value and
/// copies the readers for the buffer (several KB of the page's module), and its error
/// ("data did not match any variant") names neither the value nor what was expected.
impl<'de> Deserialize<'de> for Names {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        struct Visit;
        impl<'de> serde::de::Visitor<'de> for Visit {
            type Value = Names;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a list of names, or \"*\"")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> std::result::Result<Names, E> {
                Ok(Names::All(v.to_owned()))
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> std::result::Result<Names, A::Error> {
                let mut names = Vec::new();
                while let Some(name) = seq.next_element()? {
                    names.push(name);
                }
                Ok(Names::List(names))
            }
        }
        d.deserialize_any(Visit)
    }
}

#[derive(Debug)]
struct RawRole {
    role: String,
    scope: String,
}

#[derive(Debug)]
struct RawKeyVault {
    vault: String,
    secrets: Vec<String>,
}

// Read as the derive with `deny_unknown_fields` and camelCase keys read them; the
// differences and the reason are at `map_struct!`.
map_struct!(RawConfig, "struct RawConfig", {
    org: "org" required,
    issuer: "issuer" default,
    azure: "azure" default,
    deployments: "deployments" default,
    esc: "esc" default,
    holder: "holder" default,
    managed_identity: "managedIdentity" default,
});
map_struct!(RawAzure, "struct RawAzure", {
    tenant: "tenant" default,
    subscription: "subscription" default,
});
map_struct!(RawDeployment, "struct RawDeployment", {
    project: "project" default,
    projects: "projects" default,
    stack: "stack" default,
    stacks: "stacks" default,
    exclude: "exclude" default,
    holder: "holder" default,
    operations: "operations" default,
    roles: "roles" default,
});
map_struct!(RawEsc, "struct RawEsc", {
    project: "project" default,
    projects: "projects" default,
    env: "env" default,
    envs: "envs" default,
    exclude: "exclude" default,
    holder: "holder" default,
    subject_attributes: "subjectAttributes" default,
    user: "user" default,
    root_env: "rootEnv" default,
    include_yaml_subject: "includeYamlSubject" default,
    roles: "roles" default,
    key_vault: "keyVault" default,
});
map_struct!(RawRole, "struct RawRole", {
    role: "role" required,
    scope: "scope" required,
});
map_struct!(RawKeyVault, "struct RawKeyVault", {
    vault: "vault" required,
    secrets: "secrets" required,
});

/// Tenant and subscription, used in renders and deployment settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AzureSettings {
    pub tenant: Option<Guid>,
    pub subscription: Option<Guid>,
}

/// An `fn::open::azure-secrets` block to add to an ESC environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct KeyVaultSecrets {
    pub vault: String,
    pub secrets: Vec<String>,
}

impl KeyVaultSecrets {
    /// Validate with Azure's naming rules for `Microsoft.KeyVault/vaults` (3–24 letters,
    /// digits and hyphens, starting with a letter, ending with a letter or digit, no
    /// `--`) and for secrets (1–127 letters, digits and hyphens). Both end up in
    /// generated YAML and scripts, so nothing else may pass.
    pub fn new(vault: String, secrets: Vec<String>) -> Result<Self> {
        let fail = |what, value: &str, rule| {
            Err(Error::InvalidKeyVault {
                what,
                value: value.to_owned(),
                rule,
            })
        };
        let ok_chars = |v: &str| v.chars().all(|c| c.is_ascii_alphanumeric() || c == '-');
        if !(3..=24).contains(&vault.len())
            || !ok_chars(&vault)
            || !vault.starts_with(|c: char| c.is_ascii_alphabetic())
            || vault.ends_with('-')
            || vault.contains("--")
        {
            return fail(
                "name",
                &vault,
                "3 to 24 letters, digits and hyphens, starting with a letter, ending with a letter or digit, no `--`",
            );
        }
        if secrets.is_empty() {
            return fail("secret list", "[]", "list at least one secret");
        }
        for secret in &secrets {
            if !(1..=127).contains(&secret.len()) || !ok_chars(secret) {
                return fail(
                    "secret name",
                    secret,
                    "1 to 127 letters, digits and hyphens",
                );
            }
        }
        Ok(Self { vault, secrets })
    }
}

/// A target with the roles its identity needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ConfiguredTarget {
    pub target: Target,
    pub roles: Vec<RoleGrant>,
    pub key_vault: Option<KeyVaultSecrets>,
    /// The client id of an existing app (one this tool did not make, such as one
    /// `adopt` found) that holds the target's credentials, instead of a planned app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub holder: Option<String>,
    /// A user-assigned managed identity placed here holds the target's credentials,
    /// instead of an Entra app.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub identity: Option<IdentityPlacement>,
}

/// A validated config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Config {
    pub org: OrgName,
    pub issuer: Issuer,
    pub azure: AzureSettings,
    pub targets: Vec<ConfiguredTarget>,
    /// Entries whose stacks or environments come from Pulumi Cloud (`"*"`); empty
    /// once [`Config::expand`] has added what was found.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub discovery: Vec<Discovery>,
    /// The targets that discovery added, as `stack ORG/PROJECT/STACK` labels.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub discovered: Vec<String>,
}

/// Attach where in the config a value came from, keeping the value's own error code.
fn at<T>(path: impl FnOnce() -> String, r: Result<T>) -> Result<T> {
    r.map_err(|e| e.in_config(path()))
}

impl Config {
    /// Parse YAML (or JSON, which is YAML) text.
    pub fn from_yaml(text: &str) -> Result<Self> {
        check_shape(text)?;
        let yaml_error = |e: serde_norway::Error| {
            let location = e
                .location()
                .map(|l| format!("line {}, column {}", l.line(), l.column()));
            // serde_norway appends the position itself; keep the message and report the
            // position separately so every face can show it the same way.
            let message = e.to_string();
            let message = match message.rfind(" at line ") {
                Some(i) if location.is_some() => message[..i].to_owned(),
                _ => message,
            };
            let message = crate::error::tidy(&message);
            Error::InvalidConfig { message, location }
        };
        // First walk the document without keeping anything, counting values as the
        // parser replays them: a YAML alias used a thousand times (the "billion laughs"
        // bomb) is counted a thousand times and refused before anything is built.
        let limit = config_value_limit(text.len());
        budget::walk(limit, serde_norway::Deserializer::from_str(text)).map_err(yaml_error)?;
        let raw: RawConfig = serde_norway::from_str(text).map_err(yaml_error)?;
        Self::from_raw(raw)
    }

    /// Parse JSON text. The browser face uses this, so its build carries no YAML parser.
    ///
    /// The text is read as a JSON value first and the config from that value by
    /// `json_read`, the reader the browser module uses for every argument (see there
    /// why). A syntax error keeps its line and column; a value of the wrong type is
    /// named without them, which costs the browser nothing, as its config is JSON the
    /// page writes from its form. A repeated key is the last one's, as in `JSON.parse`.
    pub fn from_json(text: &str) -> Result<Self> {
        if text.len() > MAX_CONFIG_BYTES {
            return Err(Error::InputTooLarge {
                what: "the config",
                len: text.len(),
                max: MAX_CONFIG_BYTES,
            });
        }
        let value =
            serde_json::from_str(text).map_err(|e: serde_json::Error| Error::InvalidConfig {
                message: crate::error::tidy(
                    e.to_string().split(" at line ").next().unwrap_or_default(),
                ),
                location: Some(format!("line {}, column {}", e.line(), e.column())),
            })?;
        let raw: RawConfig =
            crate::json_read::from_value(value).map_err(|e| Error::InvalidConfig {
                message: crate::error::tidy(&e.to_string()),
                location: None,
            })?;
        Self::from_raw(raw)
    }

    fn from_raw(raw: RawConfig) -> Result<Self> {
        let org = at(|| "org".into(), OrgName::new(raw.org))?;
        let issuer = match raw.issuer {
            Some(i) => at(|| "issuer".into(), Issuer::new(i))?,
            None => Issuer::default(),
        };
        let azure = match raw.azure {
            Some(a) => AzureSettings {
                tenant: a
                    .tenant
                    .map(|t| at(|| "azure.tenant".into(), Guid::parse("tenant id", &t)))
                    .transpose()?,
                subscription: a
                    .subscription
                    .map(|s| {
                        at(
                            || "azure.subscription".into(),
                            Guid::parse("subscription id", &s),
                        )
                    })
                    .transpose()?,
            },
            None => AzureSettings::default(),
        };
        let org_holder = match raw.holder {
            Some(h) => Some(holder_choice("holder", h)?),
            None => None,
        };
        let org_placement = raw.managed_identity;
        if let Some(p) = &org_placement {
            // Checked here too, so a mistake in an unused default is still reported.
            if let Some(k) = p.unknown_key() {
                return Err(Error::InvalidConfig {
                    message: format!(
                        "unknown key `{k}`, expected `subscription`, `resourceGroup` or `location` (the top level places new identities; an entry pins an existing one with `holder: {{ managedIdentity: {{ id }} }}`)"
                    ),
                    location: Some("managedIdentity".into()),
                });
            }
        }
        let resolve = |here: &str, raw: Option<RawHolder>| -> Result<Holding> {
            let (choice, own) = match raw {
                Some(h) => holder_choice(&format!("{here}.holder"), h)?,
                None => match &org_holder {
                    Some((c, p)) => (c.clone(), p.clone()),
                    None => (HolderChoice::Application, RawPlacement::default()),
                },
            };
            Ok(match choice {
                HolderChoice::Application => (None, None),
                HolderChoice::ExistingApp(c) => (Some(c), None),
                HolderChoice::ManagedIdentity(Some(existing)) => (None, Some(existing)),
                HolderChoice::ManagedIdentity(None) => (
                    None,
                    Some(placement(
                        here,
                        own,
                        org_placement.as_ref(),
                        azure.subscription.as_ref(),
                    )?),
                ),
            })
        };
        let mut targets = Vec::new();
        let mut grant_count = 0usize;
        let mut count_grants = |here: &str, targets: usize, roles: usize| {
            grant_count = grant_count.saturating_add(targets.saturating_mul(roles));
            if grant_count > MAX_ROLE_GRANTS {
                return Err(Error::InvalidConfig {
                    message: format!(
                        "the targets ask for more than {MAX_ROLE_GRANTS} role grants in all \
                         (each target times its roles); split the config"
                    ),
                    location: Some(here.to_owned()),
                });
            }
            Ok(())
        };
        // Each value is checked where it appears so an error names its path; the
        // targets themselves are built by `TargetSpec`, as for every other face.
        let mut discovery = Vec::new();
        for (i, d) in raw.deployments.into_iter().enumerate() {
            let here = format!("deployments[{i}]");
            let project = project_or_all(&here, d.project, d.projects)?;
            if let Some(p) = &project {
                at(|| format!("{here}.project"), ProjectName::new(p.as_str()))?;
            }
            let operations = d.operations;
            if operations.as_ref().is_some_and(Vec::is_empty) {
                return Err(Error::InvalidOperation("(an empty list)".to_owned())
                    .in_config(format!("{here}.operations")));
            }
            for (j, o) in operations.iter().flatten().enumerate() {
                at(|| format!("{here}.operations[{j}]"), Operation::parse(o))?;
            }
            let roles = grants(&here, d.roles)?;
            let (holder, identity) = resolve(&here, d.holder)?;
            let Some(stacks) = listed(
                &here,
                "stack",
                project.is_none(),
                d.stack,
                d.stacks,
                &d.exclude,
            )?
            else {
                discovery.push(Discovery {
                    kind: DiscoveryKind::Stacks,
                    here,
                    project,
                    exclude: d.exclude,
                    operations,
                    roles,
                    holder,
                    identity,
                    ..Discovery::default()
                });
                continue;
            };
            let project = project.unwrap_or_default();
            count_grants(&here, stacks.len(), roles.len())?;
            for (j, stack) in stacks.into_iter().enumerate() {
                let spec = TargetSpec::Deployment {
                    org: org.to_string(),
                    project: project.clone(),
                    stack,
                    operations: operations.clone(),
                    issuer: None,
                };
                targets.push(ConfiguredTarget {
                    target: at(|| format!("{here}.stacks[{j}]"), spec.build())?.0,
                    roles: roles.clone(),
                    key_vault: None,
                    holder: holder.clone(),
                    identity: identity.clone(),
                });
            }
        }
        for (i, e) in raw.esc.into_iter().enumerate() {
            let here = format!("esc[{i}]");
            let project = project_or_all(&here, e.project, e.projects)?;
            if let Some(p) = &project {
                at(
                    || format!("{here}.project"),
                    EscProjectName::new(p.as_str()),
                )?;
            }
            let envs = listed(&here, "env", project.is_none(), e.env, e.envs, &e.exclude)?;
            for (j, a) in e.subject_attributes.iter().flatten().enumerate() {
                at(
                    || format!("{here}.subjectAttributes[{j}]"),
                    SubjectAttribute::parse(a),
                )?;
            }
            if let Some(u) = &e.user {
                at(|| format!("{here}.user"), UserLogin::new(u.as_str()))?;
            }
            if let Some(r) = &e.root_env {
                at(|| format!("{here}.rootEnv"), EscEnvRef::parse(r))?;
            }
            let roles = grants(&here, e.roles)?;
            let key_vault = e
                .key_vault
                .map(|k| {
                    at(
                        || format!("{here}.keyVault"),
                        KeyVaultSecrets::new(k.vault, k.secrets),
                    )
                })
                .transpose()?;
            let (holder, identity) = resolve(&here, e.holder)?;
            let Some(envs) = envs else {
                discovery.push(Discovery {
                    kind: DiscoveryKind::Environments,
                    here,
                    project,
                    exclude: e.exclude,
                    subject_attributes: e.subject_attributes,
                    user: e.user,
                    root_env: e.root_env,
                    include_yaml_subject: e.include_yaml_subject,
                    roles,
                    key_vault,
                    holder,
                    identity,
                    ..Discovery::default()
                });
                continue;
            };
            let project = project.unwrap_or_default();
            count_grants(&here, envs.len(), roles.len())?;
            for (j, env) in envs.into_iter().enumerate() {
                let spec = TargetSpec::Esc {
                    org: org.to_string(),
                    project: project.clone(),
                    env,
                    subject_attributes: e.subject_attributes.clone(),
                    user: e.user.clone(),
                    root_env: e.root_env.clone(),
                    include_yaml_subject: e.include_yaml_subject,
                    issuer: None,
                };
                targets.push(ConfiguredTarget {
                    target: at(|| format!("{here}.envs[{j}]"), spec.build())?.0,
                    roles: roles.clone(),
                    key_vault: key_vault.clone(),
                    holder: holder.clone(),
                    identity: identity.clone(),
                });
            }
        }
        if targets.is_empty() && discovery.is_empty() {
            return Err(Error::EmptyTarget(
                "the config lists no targets: add a `deployments:` or `esc:` entry".into(),
            ));
        }
        let mut seen = crate::hash::TextNumbers::default();
        for t in &targets {
            if !seen.is_new(&t.target.key()) {
                return Err(Error::DuplicateTarget(t.target.to_string()));
            }
        }
        Ok(Config {
            org,
            issuer,
            azure,
            targets,
            discovery,
            discovered: Vec::new(),
        })
    }

    /// A config for a single target, as the one-target CLI flags build it.
    pub fn single(
        target: Target,
        issuer: Issuer,
        roles: Vec<RoleGrant>,
        azure: AzureSettings,
    ) -> Self {
        Config {
            org: target.org().clone(),
            issuer,
            azure,
            targets: vec![ConfiguredTarget {
                target,
                roles,
                key_vault: None,
                holder: None,
                identity: None,
            }],
            discovery: Vec::new(),
            discovered: Vec::new(),
        }
    }
}

/// What an entry's targets are held by: a pinned app's client id, or a managed
/// identity's placement (neither: an app this tool makes).
type Holding = (Option<String>, Option<IdentityPlacement>);

/// `project: NAME`, or `projects: "*"` (`None`: every project, discovered).
fn project_or_all(
    here: &str,
    project: Option<String>,
    projects: Option<String>,
) -> Result<Option<String>> {
    match (project, projects) {
        (Some(p), None) => Ok(Some(p)),
        (None, Some(all)) if all == "*" => Ok(None),
        (None, Some(other)) => Err(Error::InvalidConfig {
            message: format!(
                "`projects` takes only \"*\" (every project, found in Pulumi Cloud), not `{other}`; name one with `project`"
            ),
            location: Some(format!("{here}.projects")),
        }),
        (Some(_), Some(_)) => Err(Error::InvalidConfig {
            message: "give either `project` or `projects: \"*\"`, not both".into(),
            location: Some(here.to_owned()),
        }),
        (None, None) => Err(Error::InvalidConfig {
            message: "missing `project` (or `projects: \"*\"` for every project)".into(),
            location: Some(here.to_owned()),
        }),
    }
}

/// The names an entry lists, or `None` when they are to be discovered (`"*"`, or
/// every project). `exclude` only makes sense for a discovered list.
fn listed(
    here: &str,
    key: &str,
    every_project: bool,
    one: Option<String>,
    many: Option<Names>,
    exclude: &[String],
) -> Result<Option<Vec<String>>> {
    let discover = match (&one, &many) {
        (None, Some(Names::All(all))) if all == "*" => true,
        (_, Some(Names::All(other))) => {
            return Err(Error::InvalidConfig {
                message: format!(
                    "`{key}s` takes a list of names, or \"*\" for every one in Pulumi Cloud; not `{other}`"
                ),
                location: Some(format!("{here}.{key}s")),
            });
        }
        (None, None) if every_project => true,
        _ if every_project => {
            return Err(Error::InvalidConfig {
                message: format!("with `projects: \"*\"`, give `{key}s: \"*\"` or leave it out"),
                location: Some(here.to_owned()),
            });
        }
        _ => false,
    };
    if discover {
        for (j, glob) in exclude.iter().enumerate() {
            if glob.trim().is_empty() {
                return Err(Error::InvalidConfig {
                    message: "an empty `exclude` pattern".into(),
                    location: Some(format!("{here}.exclude[{j}]")),
                });
            }
        }
        return Ok(None);
    }
    if !exclude.is_empty() {
        return Err(Error::InvalidConfig {
            message: format!("`exclude` applies to discovered {key}s only (`{key}s: \"*\"`)"),
            location: Some(format!("{here}.exclude")),
        });
    }
    let many = match many {
        Some(Names::List(list)) => Some(list),
        _ => None,
    };
    one_or_many(here, key, one, many).map(Some)
}

fn one_or_many(
    here: &str,
    key: &str,
    one: Option<String>,
    many: Option<Vec<String>>,
) -> Result<Vec<String>> {
    match (one, many) {
        (Some(one), None) => Ok(vec![one]),
        (None, Some(many)) if !many.is_empty() => Ok(many),
        (Some(_), Some(_)) => Err(Error::InvalidConfig {
            message: format!("give either `{key}` or `{key}s`, not both"),
            location: Some(here.to_owned()),
        }),
        _ => Err(Error::InvalidConfig {
            message: format!("missing `{key}` (one) or `{key}s` (a non-empty list)"),
            location: Some(here.to_owned()),
        }),
    }
}

fn grants(here: &str, raw: Vec<RawRole>) -> Result<Vec<RoleGrant>> {
    let mut out = raw
        .into_iter()
        .enumerate()
        .map(|(k, r)| {
            Ok(RoleGrant {
                role: at(|| format!("{here}.roles[{k}].role"), Role::parse(&r.role))?,
                scope: at(
                    || format!("{here}.roles[{k}].scope"),
                    Scope::parse(&r.scope),
                )?,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    out.sort();
    out.dedup();
    Ok(out)
}

impl Config {
    /// Parse config text that was read from `source` (a file name), as
    /// [`Config::from_yaml`] does, naming `source` in the location of a syntax error
    /// (`pulumi-azure-oidc.yaml, line 3, column 5`) so every face reports it alike.
    pub fn from_yaml_at(text: &str, source: &str) -> Result<Self> {
        Self::from_yaml(text).map_err(|e| match e {
            Error::InvalidConfig { message, location } => Error::InvalidConfig {
                message,
                location: Some(match location {
                    Some(l) => format!("{source}, {l}"),
                    None => source.to_owned(),
                }),
            },
            other => other,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ErrorCode;
    use crate::target::EscSubjectForm;

    const SUB: &str = "0b1f6471-1bf0-4dda-aec3-cb9272f09590";

    #[test]
    fn parses_the_documented_example() {
        let text = format!(
            "org: contoso\nazure: {{ tenant: {SUB}, subscription: {SUB} }}\ndeployments:\n  - project: core\n    stacks: [dev, staging, prod]\n    roles: [{{ role: Contributor, scope: /subscriptions/{SUB}/resourceGroups/core-dev }}]\nesc:\n  - project: azure\n    env: prod\n"
        );
        let c = Config::from_yaml(&text).unwrap();
        assert_eq!(c.targets.len(), 4);
        assert!(c.issuer.is_pulumi_cloud());
    }

    #[test]
    fn names_and_holders_of_the_wrong_type_say_what_was_expected() {
        for (yaml, expected, line) in [
            (
                "org: contoso\ndeployments:\n  - project: core\n    stacks: 3\n",
                "invalid type: integer `3`, expected a list of names, or \"*\"",
                "line 4",
            ),
            (
                "org: contoso\ndeployments:\n  - project: core\n    stacks: [dev]\n    holder: [x]\n",
                "expected `application`, `managedIdentity`, or a map with `clientId` or `managedIdentity`",
                "line 5",
            ),
            (
                "org: contoso\nholder:\n  clientId: a\n  clientId: b\ndeployments:\n  - project: core\n    stack: dev\n",
                "duplicate field `clientId`",
                "line",
            ),
        ] {
            let msg = Config::from_yaml(yaml).unwrap_err().to_string();
            assert!(msg.contains(expected), "{yaml}: {msg}");
            assert!(msg.contains(line), "{yaml}: {msg}");
        }
        let msg = Config::from_json(
            r#"{"org":"contoso","deployments":[{"project":"core","stacks":{"a":1}}]}"#,
        )
        .unwrap_err()
        .to_string();
        assert!(
            msg.contains("invalid type: map, expected a list of names"),
            "{msg}"
        );
        let err = Config::from_json("{\"org\":\"contoso\",\n\"deployments\":[}").unwrap_err();
        assert!(
            matches!(&err, Error::InvalidConfig { location: Some(l), .. } if l == "line 2, column 16"),
            "{err:?}"
        );
        // A repeated key is the last one's, as in the browser's `JSON.parse`.
        let config = Config::from_json(
            r#"{"org":"contoso","org":"fabrikam","deployments":[{"project":"core","stack":"dev"}]}"#,
        )
        .unwrap();
        assert_eq!(config.org.as_str(), "fabrikam");
    }

    #[test]
    fn unknown_key_names_key_and_line() {
        let err = Config::from_yaml(
            "org: contoso\ndeployments:\n  - project: core\n    stack: dev\n    stak: x\n",
        )
        .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidConfig);
        let msg = err.to_string();
        assert!(msg.contains("stak"), "{msg}");
        assert!(msg.contains("line 5"), "{msg}");
    }

    #[test]
    fn bad_value_keeps_its_code_and_says_where() {
        let err = Config::from_yaml(
            "org: contoso\ndeployments:\n  - project: core\n    stacks: [dev, 'bad stack']\n",
        )
        .unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidStack);
        let msg = err.to_string();
        assert!(msg.contains("deployments[0].stacks[1]"), "{msg}");
        assert!(msg.contains("bad stack"), "{msg}");
    }

    #[test]
    fn duplicates_are_refused() {
        let err = Config::from_yaml(
            "org: contoso\ndeployments:\n  - project: core\n    stacks: [dev, dev]\n",
        )
        .unwrap_err();
        assert_eq!(err.code(), ErrorCode::DuplicateTarget);
    }

    #[test]
    fn esc_defaults_to_current_environment_attribute() {
        let c =
            Config::from_yaml("org: contoso\nesc:\n  - project: azure\n    env: prod\n").unwrap();
        let Target::Esc(e) = &c.targets[0].target else {
            panic!()
        };
        assert!(matches!(e.subject, EscSubjectForm::Attributes { .. }));
        let c = Config::from_yaml(
            "org: contoso\nesc:\n  - project: azure\n    env: prod\n    subjectAttributes: []\n",
        )
        .unwrap();
        let Target::Esc(e) = &c.targets[0].target else {
            panic!()
        };
        assert_eq!(e.subject, EscSubjectForm::Default);
    }

    #[test]
    fn from_yaml_at_names_the_source_and_keeps_other_errors() {
        let err = Config::from_yaml_at("org: [", "c.yaml").unwrap_err();
        assert_eq!(err.code(), ErrorCode::InvalidConfig);
        assert!(err.to_string().contains("(c.yaml, line "), "{err}");
        let err = Config::from_yaml_at("org: c\ndeployments: []\n", "c.yaml").unwrap_err();
        assert_eq!(err.path(), Some("org"));
        assert!(
            Config::from_yaml_at("org: contoso\nesc: [{project: a, env: b}]\n", "c.yaml").is_ok()
        );
    }
}
