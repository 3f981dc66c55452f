//! What each command does: parse its input with the core, print the result.

use crate::args::{
    Command, CommonArgs, DiagnoseArgs, EscArgs, Output, RenderArgs, RenderKind, StackArgs,
    SubjectsCommand,
};
use crate::{EXIT_NEGATIVE, Failure, text};
use clap::CommandFactory;
use pulumi_azure_oidc::config::AzureSettings;
use pulumi_azure_oidc::roles::Guid;
use pulumi_azure_oidc::{
    Config, Error, Issuer, RenderFormat, RenderOptions, Role, RoleGrant, Scope, Target, TargetSpec,
};
use std::io::Read;
use std::path::Path;

impl Command {
    pub(crate) fn output(&self) -> Output {
        match self {
            Command::Subjects(SubjectsCommand::Deployments { common, .. })
            | Command::Subjects(SubjectsCommand::Esc { common, .. }) => common.output,
            Command::Plan { output, .. } => *output,
            Command::Diagnose(d) => d.output,
            Command::Apply(a) => a.conn.output,
            Command::Status(a) => a.conn.output,
            Command::Verify(a) => a.conn.output,
            Command::Destroy(a) => a.conn.output,
            Command::Render(_) | Command::Completions { .. } => Output::Text,
        }
    }
}

pub(crate) fn run(command: Command) -> Result<u8, Failure> {
    match command {
        Command::Subjects(SubjectsCommand::Deployments { stack, common }) => {
            let target = stack_target(&stack)?;
            subjects(&target, &common)
        }
        Command::Subjects(SubjectsCommand::Esc { env, common }) => {
            let (target, defaulted) = esc_target(&env)?;
            if defaulted && common.output == Output::Text {
                text::note(
                    "using subjectAttributes [currentEnvironment.name] (recommended; it also works from stack \
                     config); the environment's azure-login block must list it (render esc writes it). \
                     --default-subject gives Pulumi's default form",
                );
            }
            subjects(&target, &common)
        }
        Command::Plan { config, output } => {
            let config = read_config(&config)?;
            let plan = pulumi_azure_oidc::plan(&config)?;
            match output {
                Output::Json => print_json(&plan),
                Output::Text => text::plan(&plan),
            }
            Ok(0)
        }
        Command::Render(args) => render(args),
        Command::Apply(args) => crate::provision::apply(args),
        Command::Status(args) => crate::provision::status(args),
        Command::Verify(args) => crate::provision::verify(args),
        Command::Destroy(args) => crate::provision::destroy(args),
        Command::Diagnose(args) => diagnose(args),
        Command::Completions { shell } => {
            let mut cmd = crate::args::Cli::command();
            clap_complete::generate(shell, &mut cmd, "pulumi-azure-oidc", &mut std::io::stdout());
            Ok(0)
        }
    }
}

pub(crate) fn print_json<T: serde::Serialize>(value: &T) {
    // Serialising the core's plain data types cannot fail.
    println!(
        "{}",
        serde_json::to_string_pretty(value).unwrap_or_default()
    );
}

fn issuer(value: &Option<String>) -> Result<Issuer, Failure> {
    Ok(match value {
        Some(i) => Issuer::new(i.as_str())?,
        None => Issuer::default(),
    })
}

fn stack_target(a: &StackArgs) -> Result<Target, Failure> {
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

fn esc_target(a: &EscArgs) -> Result<(Target, bool), Failure> {
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

fn subjects(target: &Target, common: &CommonArgs) -> Result<u8, Failure> {
    let generated = target.credentials(&issuer(&common.issuer)?)?;
    match common.output {
        Output::Json => {
            let bodies: Vec<_> = generated
                .credentials
                .iter()
                .map(|c| c.to_graph_body())
                .collect();
            print_json(&bodies);
        }
        Output::Text => {
            for c in &generated.credentials {
                println!("{}", c.subject);
            }
            // The audience is the value people most often get wrong; say it, off stdout.
            let mut audiences: Vec<&str> = generated
                .credentials
                .iter()
                .map(|c| c.audience.as_str())
                .collect();
            audiences.dedup();
            if let Some(first) = generated.credentials.first() {
                text::note(&format!(
                    "issuer {}, audience {}",
                    first.issuer,
                    audiences.join(", ")
                ));
            }
        }
    }
    for w in &generated.warnings {
        text::warning(w);
    }
    Ok(0)
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

fn render(a: RenderArgs) -> Result<u8, Failure> {
    let config = target_config(
        &a.target,
        a.tenant_id.as_deref(),
        a.subscription_id.as_deref(),
    )?;
    let plan = pulumi_azure_oidc::plan(&config)?;
    let format = match a.kind {
        RenderKind::Az => RenderFormat::Az,
        RenderKind::Esc => RenderFormat::Esc,
        RenderKind::PulumiPython => RenderFormat::PulumiPython,
        RenderKind::PulumiTypescript => RenderFormat::PulumiTypescript,
        RenderKind::Json => RenderFormat::Json,
    };
    let out = pulumi_azure_oidc::render(
        &plan,
        format,
        &RenderOptions {
            client_id: a.client_id,
            tenant_id: a.tenant_id,
            subscription_id: a.subscription_id,
        },
    )?;
    print!("{out}");
    Ok(0)
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

fn now_from(value: &Option<String>) -> Result<i64, Failure> {
    match value {
        Some(v) => time::OffsetDateTime::parse(v, &time::format_description::well_known::Rfc3339)
            .map(|t| t.unix_timestamp())
            .map_err(|_| Error::InvalidTime { value: v.clone() }),
        None => Ok(time::OffsetDateTime::now_utc().unix_timestamp()),
    }
}

fn diagnose(a: DiagnoseArgs) -> Result<u8, Failure> {
    if a.token.as_ref().is_some_and(|t| t.0 == "-") && a.error.as_deref() == Some("-") {
        return Err(Error::InvalidConfig {
            message: "only one of --token and --error can read standard input (`-`); give the other as @FILE".into(),
            location: None,
        });
    }
    let token = match &a.token {
        Some(t) => {
            let text = read_arg(&t.0, "token")?;
            let credentials = match &a.credentials {
                Some(path) => Some(pulumi_azure_oidc::parse_credential_list(&read_file(
                    path,
                    "credential list",
                )?)?),
                None => None,
            };
            let now = now_from(&a.now)?;
            Some(pulumi_azure_oidc::diagnose_token(
                &text,
                credentials.as_deref(),
                now,
            )?)
        }
        None => None,
    };
    let error = match &a.error {
        Some(e) => Some(pulumi_azure_oidc::diagnose_error(&read_arg(
            e,
            "error text",
        )?)?),
        None => None,
    };
    match a.output {
        Output::Json => match (&token, &error) {
            (Some(t), None) => print_json(t),
            (None, Some(e)) => print_json(e),
            _ => print_json(&serde_json::json!({ "token": token, "error": error })),
        },
        Output::Text => {
            if let Some(t) = &token {
                text::token_diagnosis(t);
            }
            if let Some(e) = &error {
                if token.is_some() {
                    println!();
                }
                text::error_diagnosis(e);
            }
        }
    }
    // Without a credential list the best verdict is "well-formed and within its validity".
    let token_ok = token.as_ref().is_none_or(|t| {
        if t.checked_credentials {
            t.accepted
        } else {
            t.fix.is_some() && t.time == pulumi_azure_oidc::diagnose::TimeStatus::Valid
        }
    });
    Ok(if token_ok && error.is_none() {
        0
    } else {
        EXIT_NEGATIVE
    })
}
