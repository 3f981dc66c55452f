//! The declarative config file (`pulumi-azure-oidc.yaml`): parse, then validate.
//!
//! Parsing uses serde with `deny_unknown_fields`, so a misspelt key is an error that
//! names the key, the keys expected and the line. Values are validated afterwards, so
//! a bad name keeps its own error code and the message says where it is.

use crate::claims::{Issuer, Operation, SubjectAttribute};
use crate::error::{Error, Result};
use crate::names::{EscEnvRef, EscProjectName, OrgName, ProjectName, UserLogin};
use crate::roles::{Guid, Role, RoleGrant, Scope};
use crate::spec::TargetSpec;
use crate::target::Target;
use serde::de::{self, DeserializeSeed};
use serde::{Deserialize, Serialize};
use std::cell::Cell;
use std::collections::HashSet;

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawConfig {
    org: String,
    issuer: Option<String>,
    azure: Option<RawAzure>,
    #[serde(default)]
    deployments: Vec<RawDeployment>,
    #[serde(default)]
    esc: Vec<RawEsc>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawAzure {
    tenant: Option<String>,
    subscription: Option<String>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawDeployment {
    project: String,
    stack: Option<String>,
    stacks: Option<Vec<String>>,
    operations: Option<Vec<String>>,
    #[serde(default)]
    roles: Vec<RawRole>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawEsc {
    project: String,
    env: Option<String>,
    envs: Option<Vec<String>>,
    subject_attributes: Option<Vec<String>>,
    user: Option<String>,
    root_env: Option<String>,
    #[serde(default)]
    include_yaml_subject: bool,
    #[serde(default)]
    roles: Vec<RawRole>,
    key_vault: Option<RawKeyVault>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawRole {
    role: String,
    scope: String,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct RawKeyVault {
    vault: String,
    secrets: Vec<String>,
}

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
}

/// A validated config.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Config {
    pub org: OrgName,
    pub issuer: Issuer,
    pub azure: AzureSettings,
    pub targets: Vec<ConfiguredTarget>,
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
        Budget {
            left: &Cell::new(limit),
            limit,
            depth: 0,
        }
        .deserialize(serde_norway::Deserializer::from_str(text))
        .map_err(yaml_error)?;
        let raw: RawConfig = serde_norway::from_str(text).map_err(yaml_error)?;
        Self::from_raw(raw)
    }

    /// Parse JSON text. The browser face uses this, so its build carries no YAML parser.
    pub fn from_json(text: &str) -> Result<Self> {
        if text.len() > MAX_CONFIG_BYTES {
            return Err(Error::InputTooLarge {
                what: "the config",
                len: text.len(),
                max: MAX_CONFIG_BYTES,
            });
        }
        let raw: RawConfig = serde_json::from_str(text).map_err(|e| Error::InvalidConfig {
            message: crate::error::tidy(
                e.to_string().split(" at line ").next().unwrap_or_default(),
            ),
            location: Some(format!("line {}, column {}", e.line(), e.column())),
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
        for (i, d) in raw.deployments.into_iter().enumerate() {
            let here = format!("deployments[{i}]");
            at(
                || format!("{here}.project"),
                ProjectName::new(d.project.as_str()),
            )?;
            let stacks = one_or_many(&here, "stack", d.stack, d.stacks)?;
            let operations = d.operations;
            if operations.as_ref().is_some_and(Vec::is_empty) {
                return Err(Error::InvalidOperation("(an empty list)".to_owned())
                    .in_config(format!("{here}.operations")));
            }
            for (j, o) in operations.iter().flatten().enumerate() {
                at(|| format!("{here}.operations[{j}]"), Operation::parse(o))?;
            }
            let roles = grants(&here, d.roles)?;
            count_grants(&here, stacks.len(), roles.len())?;
            for (j, stack) in stacks.into_iter().enumerate() {
                let spec = TargetSpec::Deployment {
                    org: org.to_string(),
                    project: d.project.clone(),
                    stack,
                    operations: operations.clone(),
                    issuer: None,
                };
                targets.push(ConfiguredTarget {
                    target: at(|| format!("{here}.stacks[{j}]"), spec.build())?.0,
                    roles: roles.clone(),
                    key_vault: None,
                });
            }
        }
        for (i, e) in raw.esc.into_iter().enumerate() {
            let here = format!("esc[{i}]");
            at(
                || format!("{here}.project"),
                EscProjectName::new(e.project.as_str()),
            )?;
            let envs = one_or_many(&here, "env", e.env, e.envs)?;
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
            count_grants(&here, envs.len(), roles.len())?;
            for (j, env) in envs.into_iter().enumerate() {
                let spec = TargetSpec::Esc {
                    org: org.to_string(),
                    project: e.project.clone(),
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
                });
            }
        }
        if targets.is_empty() {
            return Err(Error::EmptyTarget(
                "the config lists no targets: add a `deployments:` or `esc:` entry".into(),
            ));
        }
        let mut seen = HashSet::new();
        for t in &targets {
            if !seen.insert(t.target.key()) {
                return Err(Error::DuplicateTarget(t.target.to_string()));
            }
        }
        Ok(Config {
            org,
            issuer,
            azure,
            targets,
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
            }],
        }
    }
}

/// The largest config accepted; real ones are a few kilobytes.
pub const MAX_CONFIG_BYTES: usize = 1 << 20;
/// The deepest nesting of collections accepted; a config nests four deep
/// (`esc[0].keyVault.secrets[0]`).
pub const MAX_NESTING: usize = 32;
/// The fewest values (scalars and collections) a YAML config may always hold,
/// counting a value reached through an alias each time the alias is used. A config
/// may hold one value per byte of its text when that is more: text without aliases
/// never holds that many (a 10,000-stack config: about 12,000 values in 600 kB),
/// while alias expansion, whose memory and time this bounds, is refused early.
pub const MAX_CONFIG_VALUES: usize = 10_000;

/// The value budget of a config of `len` bytes (see [`MAX_CONFIG_VALUES`]).
pub fn config_value_limit(len: usize) -> usize {
    MAX_CONFIG_VALUES.max(len)
}
/// The most role grants a config may ask for in all (each target times its roles):
/// every target keeps its own list, so a long `stacks` list times a long `roles` list
/// would otherwise multiply in memory.
/// 50,000 is five roles for each of 10,000 stacks.
pub const MAX_ROLE_GRANTS: usize = 50_000;

/// Walks a document without keeping it, spending one unit of `left` per value and
/// refusing nesting deeper than [`MAX_NESTING`].
struct Budget<'a> {
    left: &'a Cell<usize>,
    limit: usize,
    depth: usize,
}

impl Budget<'_> {
    fn spend<E: de::Error>(&self) -> std::result::Result<(), E> {
        let left = self.left.get();
        if left == 0 {
            return Err(E::custom(format!(
                "the config holds more than {} values (each use of a YAML alias counts its values again); a config never needs that many",
                self.limit
            )));
        }
        self.left.set(left - 1);
        Ok(())
    }

    fn inner<E: de::Error>(&self) -> std::result::Result<Self, E> {
        if self.depth >= MAX_NESTING {
            return Err(E::custom(format!(
                "values nest more than {MAX_NESTING} deep; a config never needs more"
            )));
        }
        Ok(Budget {
            left: self.left,
            limit: self.limit,
            depth: self.depth + 1,
        })
    }
}

impl<'de> de::DeserializeSeed<'de> for Budget<'_> {
    type Value = ();
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

macro_rules! spend_on {
    ($($name:ident($ty:ty)),*) => {$(
        fn $name<E: de::Error>(self, _: $ty) -> std::result::Result<(), E> {
            self.spend()
        }
    )*};
}

impl<'de> de::Visitor<'de> for Budget<'_> {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a config")
    }

    spend_on!(
        visit_bool(bool),
        visit_i64(i64),
        visit_u64(u64),
        visit_i128(i128),
        visit_u128(u128),
        visit_f64(f64),
        visit_str(&str),
        visit_bytes(&[u8])
    );

    fn visit_unit<E: de::Error>(self) -> std::result::Result<(), E> {
        self.spend()
    }

    fn visit_none<E: de::Error>(self) -> std::result::Result<(), E> {
        self.spend()
    }

    fn visit_some<D: de::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_any(self)
    }

    fn visit_newtype_struct<D: de::Deserializer<'de>>(
        self,
        d: D,
    ) -> std::result::Result<(), D::Error> {
        d.deserialize_any(self)
    }

    fn visit_seq<A: de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        self.spend()?;
        while seq.next_element_seed(self.inner()?)?.is_some() {}
        Ok(())
    }

    fn visit_map<A: de::MapAccess<'de>>(self, mut map: A) -> std::result::Result<(), A::Error> {
        self.spend()?;
        while map.next_key_seed(self.inner()?)?.is_some() {
            map.next_value_seed(self.inner()?)?;
        }
        Ok(())
    }

    fn visit_enum<A: de::EnumAccess<'de>>(self, data: A) -> std::result::Result<(), A::Error> {
        use de::VariantAccess;
        let ((), variant) = data.variant_seed(self.inner()?)?;
        variant.newtype_variant_seed(self.inner()?)
    }
}

/// Refuse what no config looks like before the YAML parser sees it: a huge text, or
/// collections nested deeper than any config needs (the parser slows down sharply
/// and holds hundreds of bytes per level on pathological nesting). Nesting that gets
/// past this (by indentation) is refused by the counting walk in `from_yaml`.
fn check_shape(text: &str) -> Result<()> {
    if text.len() > MAX_CONFIG_BYTES {
        return Err(Error::InputTooLarge {
            what: "the config",
            len: text.len(),
            max: MAX_CONFIG_BYTES,
        });
    }
    // Block collections nest by indentation, which costs a line per level, except in
    // the compact forms `- - - x` and `? ? x`: count those per line.
    let compact = text
        .lines()
        .map(|line| {
            let mut rest = line.trim_start_matches(' ');
            let mut n = 0usize;
            while let Some(r) = rest.strip_prefix("- ").or_else(|| rest.strip_prefix("? ")) {
                n += 1;
                rest = r.trim_start_matches(' ');
            }
            n
        })
        .max()
        .unwrap_or(0);
    if compact > MAX_NESTING {
        return Err(Error::InvalidConfig {
            message: format!(
                "block collections nest {compact} deep on one line; a config never needs more than {MAX_NESTING}"
            ),
            location: None,
        });
    }
    let (mut depth, mut deepest) = (0usize, 0usize);
    let mut quote: Option<char> = None;
    for c in text.chars() {
        match (quote, c) {
            // Comments and apostrophes make quote tracking approximate; a line end
            // resets it, which is all a depth check needs.
            (_, '\n') => quote = None,
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '"' | '\'') => quote = Some(c),
            (None, '[' | '{') => {
                depth += 1;
                deepest = deepest.max(depth);
            }
            (None, ']' | '}') => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    if deepest > MAX_NESTING {
        return Err(Error::InvalidConfig {
            message: format!(
                "brackets nest {deepest} deep; a config never needs more than {MAX_NESTING}"
            ),
            location: None,
        });
    }
    Ok(())
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
