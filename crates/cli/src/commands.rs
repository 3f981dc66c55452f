//! What each command does: parse its input with the core, print the result.

use crate::args::{
    Command, CommonArgs, DiagnoseArgs, Output, RenderArgs, RenderKind, SubjectsCommand,
};
use crate::inputs::{
    esc_target, issuer, read_arg, read_config, read_file, stack_target, target_config,
};
use crate::text::print_json;
use crate::{EXIT_NEGATIVE, Failure, text};
use clap::CommandFactory;
use pulumi_azure_oidc::{Error, RenderFormat, RenderOptions, Target};

impl Command {
    pub(crate) fn output(&self) -> Output {
        match self {
            Command::Subjects(SubjectsCommand::Deployments { common, .. })
            | Command::Subjects(SubjectsCommand::Esc { common, .. }) => common.output,
            Command::Plan { conn, .. } => conn.output,
            Command::Diagnose(d) => d.output,
            Command::Apply(a) => a.conn.output,
            Command::Status(a) => a.conn.output,
            Command::Doctor(a) => a.conn.output,
            Command::Adopt(a) => a.conn.output,
            Command::Verify(a) => a.conn.output,
            Command::Destroy(a) => a.conn.output,
            Command::Permissions(p) => match p.output {
                crate::args::PermissionsOutput::Json => Output::Json,
                _ => Output::Text,
            },
            Command::Render(_) | Command::Completions { .. } | Command::Man => Output::Text,
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
        Command::Plan { config, conn } => {
            let config = crate::provision::discovered(read_config(&config)?, &conn)?;
            let plan = pulumi_azure_oidc::plan(&config)?;
            match conn.output {
                Output::Json => print_json(&plan),
                Output::Text => {
                    if !config.discovered.is_empty() {
                        text::note(&format!(
                            "found in Pulumi Cloud: {}",
                            config.discovered.join(", ")
                        ));
                    }
                    text::plan(&plan)
                }
            }
            Ok(0)
        }
        Command::Render(args) => render(args),
        Command::Permissions(args) => permissions(args),
        Command::Apply(args) => crate::provision::apply(args),
        Command::Status(args) => crate::provision::status(args),
        Command::Doctor(args) => crate::provision::doctor(args),
        Command::Adopt(args) => crate::provision::adopt(args),
        Command::Verify(args) => crate::provision::verify(args),
        Command::Destroy(args) => crate::provision::destroy(args),
        Command::Diagnose(args) => diagnose(args),
        Command::Completions { shell } => {
            let mut cmd = crate::args::Cli::command();
            clap_complete::generate(shell, &mut cmd, "pulumi-azure-oidc", &mut std::io::stdout());
            Ok(0)
        }
        Command::Man => {
            let page = clap_mangen::Man::new(crate::args::Cli::command());
            if let Err(e) = page.render(&mut std::io::stdout()) {
                eprintln!("error: cannot write the man page: {e}");
                return Ok(crate::EXIT_INVALID);
            }
            Ok(0)
        }
    }
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

fn permissions(a: crate::args::PermissionsArgs) -> Result<u8, Failure> {
    use crate::args::PermissionsOutput;
    let config = read_config(&a.config)?;
    let rights = pulumi_azure_oidc::permissions::permissions(&pulumi_azure_oidc::plan(&config)?);
    match a.output {
        PermissionsOutput::Text => print!("{}", rights.text()),
        PermissionsOutput::Json => print_json(&rights),
        PermissionsOutput::Az => {
            let operator = a.operator.unwrap_or_default();
            let operator = pulumi_azure_oidc::roles::Guid::parse("operator client id", &operator)?;
            print!("{}", rights.az_commands(operator.as_str()));
        }
    }
    Ok(0)
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
        RenderKind::Requests => RenderFormat::Requests,
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

pub(crate) fn now_from(value: &Option<String>) -> Result<i64, Failure> {
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
