//! Arguments into the core's values: files, `@FILE` and `-` arguments, and the one
//! target a command's flags describe.

use crate::Failure;
use crate::args::{EscArgs, StackArgs};
use pulumi_azure_oidc::config::AzureSettings;
use pulumi_azure_oidc::roles::Guid;
use pulumi_azure_oidc::{Config, Error, Issuer, Role, RoleGrant, Scope, Target, TargetSpec};
use std::io::Read;
use std::path::Path;

pub(crate) fn issuer(value: &Option<String>) -> Result<Issuer, Failure> {
    Ok(match value {
        Some(i) => Issuer::new(i.as_str())?,
        None => Issuer::default(),
    })
}

pub(crate) fn stack_target(a: &StackArgs) -> Result<Target, Failure> {
    let spec = TargetSpec::Deployment {
        org: a.org.clone(),
        project: a.project.clone(),
        stack: a.stack.clone(),
        operations: (!a.operations.is_empty()).then(|| a.operations.clone()),
        issuer: None,
    };
    Ok(spec.build()?.0)
}

struct EscInput<'a> {
    org: &'a str,
    project: &'a str,
    env: &'a str,
    attributes: &'a [String],
    default_subject: bool,
    user: Option<&'a str>,
    root_env: Option<&'a str>,
    include_yaml_subject: bool,
}

/// Build an ESC target; the flag says whether the recommended attributes were assumed.
fn build_esc(i: EscInput<'_>) -> Result<(Target, bool), Failure> {
    let spec = TargetSpec::Esc {
        org: i.org.to_owned(),
        project: i.project.to_owned(),
        env: i.env.to_owned(),
        subject_attributes: if i.default_subject {
            Some(Vec::new())
        } else if i.attributes.is_empty() {
            None
        } else {
            Some(i.attributes.to_vec())
        },
        user: i.user.map(str::to_owned),
        root_env: i.root_env.map(str::to_owned),
        include_yaml_subject: i.include_yaml_subject,
        issuer: None,
    };
    Ok((spec.build()?.0, spec.uses_recommended_attributes()))
}

pub(crate) fn esc_target(a: &EscArgs) -> Result<(Target, bool), Failure> {
    build_esc(EscInput {
        org: &a.org,
        project: &a.project,
        env: &a.env,
        attributes: &a.subject_attributes,
        default_subject: a.default_subject,
        user: a.user.as_deref(),
        root_env: a.root_env.as_deref(),
        include_yaml_subject: a.include_yaml_subject,
    })
}

pub(crate) fn read_file(path: &Path, what: &str) -> Result<String, Failure> {
    std::fs::read_to_string(path).map_err(|e| Error::UnreadableInput {
        what: format!("{what} `{}`", path.display()),
        reason: e.to_string(),
    })
}

pub(crate) fn read_config(path: &Path) -> Result<Config, Failure> {
    let text = read_file(path, "config file")?;
    Config::from_yaml(&text).map_err(|e| match e {
        Error::InvalidConfig { message, location } => Error::InvalidConfig {
            message,
            location: Some(match location {
                Some(l) => format!("{}, {l}", path.display()),
                None => path.display().to_string(),
            }),
        },
        other => other,
    })
}

/// `VALUE`, `@FILE` or `-` (standard input).
pub(crate) fn read_arg(value: &str, what: &str) -> Result<String, Failure> {
    if value == "-" {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .map_err(|e| Error::UnreadableInput {
                what: format!("{what} from standard input"),
                reason: e.to_string(),
            })?;
        Ok(s)
    } else if let Some(path) = value.strip_prefix('@') {
        read_file(Path::new(path), what)
    } else {
        Ok(value.to_owned())
    }
}

/// The config a command works on: the file, or the one target its flags describe.
pub(crate) fn target_config(
    a: &crate::args::TargetArgs,
    tenant_id: Option<&str>,
    subscription_id: Option<&str>,
) -> Result<Config, Failure> {
    let config = match &a.config {
        Some(path) => read_config(path)?,
        None => {
            let (Some(org), Some(project)) = (&a.org, &a.project) else {
                return Err(Error::InvalidConfig {
                    message: "give --config FILE, or --org and --project with --stack or --env"
                        .into(),
                    location: None,
                });
            };
            let target = match (&a.stack, &a.env) {
                (Some(stack), None) => stack_target(&StackArgs {
                    org: org.clone(),
                    project: project.clone(),
                    stack: stack.clone(),
                    operations: a.operations.clone(),
                })?,
                (None, Some(env)) => {
                    build_esc(EscInput {
                        org,
                        project,
                        env,
                        attributes: &a.subject_attributes,
                        default_subject: a.default_subject,
                        user: a.user.as_deref(),
                        root_env: a.root_env.as_deref(),
                        include_yaml_subject: a.include_yaml_subject,
                    })?
                    .0
                }
                _ => {
                    return Err(Error::InvalidConfig {
                        message: "give --stack (a Deployments stack) or --env (an ESC environment)"
                            .into(),
                        location: None,
                    });
                }
            };
            if a.roles.len() != a.scopes.len() {
                return Err(Error::InvalidConfig {
                    message: format!(
                        "{} --role and {} --scope given: each role needs the scope at the same position",
                        a.roles.len(),
                        a.scopes.len()
                    ),
                    location: None,
                });
            }
            let roles = a
                .roles
                .iter()
                .zip(&a.scopes)
                .map(|(r, s)| {
                    Ok(RoleGrant {
                        role: Role::parse(r)?,
                        scope: Scope::parse(s)?,
                    })
                })
                .collect::<Result<Vec<_>, Error>>()?;
            let azure = AzureSettings {
                tenant: tenant_id.map(|t| Guid::parse("tenant id", t)).transpose()?,
                subscription: subscription_id
                    .map(|s| Guid::parse("subscription id", s))
                    .transpose()?,
            };
            Config::single(target, issuer(&a.issuer)?, roles, azure)
        }
    };
    Ok(config)
}
