//! Command-line arguments (clap derive).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

#[derive(Debug, Parser)]
#[command(
    name = "pulumi-azure-oidc",
    version,
    about = "Connect Pulumi Cloud to Azure with OIDC workload identity federation",
    long_about = "Connect Pulumi Cloud to Azure with OIDC workload identity federation.\n\n\
        Generates the exact subjects, audiences and federated credentials that Pulumi Deployments \
        and Pulumi ESC need, plans them into Entra apps (at most 20 credentials each), renders them \
        as az commands, ESC YAML, Pulumi programs or JSON, and diagnoses tokens and AADSTS errors.",
    after_help = "Examples:\n  \
        pulumi-azure-oidc subjects deployments --org contoso --project core --stack dev\n  \
        pulumi-azure-oidc plan --config pulumi-azure-oidc.yaml\n  \
        pulumi-azure-oidc diagnose --error @aadsts.txt"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Print the subjects (and credentials) a stack or ESC environment needs
    #[command(
        subcommand,
        after_help = "Examples:\n  \
            pulumi-azure-oidc subjects deployments --org contoso --project core --stack dev\n  \
            pulumi-azure-oidc subjects esc --org contoso --project azure --env prod --output json"
    )]
    Subjects(SubjectsCommand),
    /// Plan apps, credentials and role assignments for a config file
    #[command(
        after_help = "Example:\n  pulumi-azure-oidc plan --config pulumi-azure-oidc.yaml --output json"
    )]
    Plan {
        /// The config file (YAML or JSON)
        #[arg(long, short = 'c', value_name = "FILE")]
        config: PathBuf,
        #[arg(long, short = 'o', value_enum, default_value_t = Output::Text)]
        output: Output,
    },
    /// Render the set-up as an az script, ESC YAML, a Pulumi program or JSON
    #[command(after_help = "Examples:\n  \
        pulumi-azure-oidc render az --config pulumi-azure-oidc.yaml > setup.sh\n  \
        pulumi-azure-oidc render esc --org contoso --project azure --env prod \\\n      \
        --client-id 11111111-1111-1111-1111-111111111111 --tenant-id 22222222-2222-2222-2222-222222222222 \\\n      \
        --subscription-id 33333333-3333-3333-3333-333333333333\n  \
        pulumi-azure-oidc render pulumi-python --org contoso --project core --stack dev")]
    Render(RenderArgs),
    /// Explain why Azure refuses a token, or what an AADSTS error means
    #[command(
        after_help = "Exit status: 0 when the token would be accepted (or, without --credentials, is \
        well-formed and within its validity), 1 when it would not or an error was explained, 2 on invalid input.\n\n\
        Examples:\n  \
        pulumi-azure-oidc diagnose --token @token.jwt --credentials fics.json\n  \
        az ad app federated-credential list --id $APP_ID > fics.json\n  \
        pulumi-azure-oidc diagnose --error 'AADSTS700213: No matching federated identity record found ...'"
    )]
    Diagnose(DiagnoseArgs),
    /// Print a shell completion script
    #[command(
        after_help = "Example:\n  pulumi-azure-oidc completions bash > /etc/bash_completion.d/pulumi-azure-oidc"
    )]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
}

#[derive(Debug, Subcommand)]
pub(crate) enum SubjectsCommand {
    /// Subjects of a Pulumi Deployments stack: one per operation
    #[command(
        after_help = "Example:\n  pulumi-azure-oidc subjects deployments --org contoso --project core --stack dev"
    )]
    Deployments {
        #[command(flatten)]
        stack: StackArgs,
        #[command(flatten)]
        common: CommonArgs,
    },
    /// Subject of a Pulumi ESC environment
    #[command(
        after_help = "Without --subject-attribute or --default-subject the recommended \
        subjectAttributes [currentEnvironment.name] is used; the environment's azure-login block must \
        list the same attributes (render esc writes it).\n\n\
        Examples:\n  \
        pulumi-azure-oidc subjects esc --org contoso --project azure --env prod\n  \
        pulumi-azure-oidc subjects esc --org contoso --project azure --env prod --default-subject"
    )]
    Esc {
        #[command(flatten)]
        env: EscArgs,
        #[command(flatten)]
        common: CommonArgs,
    },
}

#[derive(Debug, Args)]
pub(crate) struct CommonArgs {
    /// OIDC issuer (self-hosted Pulumi Cloud: <scheme>://<api host>/oidc)
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,
    #[arg(long, short = 'o', value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

#[derive(Debug, Args, Clone)]
pub(crate) struct StackArgs {
    /// Pulumi organization
    #[arg(long)]
    pub org: String,
    /// Pulumi project
    #[arg(long)]
    pub project: String,
    /// Stack name
    #[arg(long)]
    pub stack: String,
    /// Operation to trust (repeatable; default: preview, update, refresh, destroy)
    #[arg(long = "operation", value_name = "OP")]
    pub operations: Vec<String>,
}

#[derive(Debug, Args, Clone)]
pub(crate) struct EscArgs {
    /// Pulumi organization
    #[arg(long)]
    pub org: String,
    /// ESC project (`default` is the legacy project)
    #[arg(long)]
    pub project: String,
    /// ESC environment name
    #[arg(long)]
    pub env: String,
    /// subjectAttributes entry, in order (repeatable): rootEnvironment.name,
    /// currentEnvironment.name, pulumi.user.login, pulumi.organization.login
    #[arg(
        long = "subject-attribute",
        value_name = "ATTRIBUTE",
        conflicts_with = "default_subject"
    )]
    pub subject_attributes: Vec<String>,
    /// Use Pulumi's default subject (no subjectAttributes)
    #[arg(long)]
    pub default_subject: bool,
    /// Pulumi user login, for pulumi.user.login
    #[arg(long, value_name = "LOGIN")]
    pub user: Option<String>,
    /// Root environment PROJECT/ENV, for rootEnvironment.name (default: the environment itself)
    #[arg(long, value_name = "PROJECT/ENV")]
    pub root_env: Option<String>,
    /// Also trust the org-wide `<yaml>` subject (insecure: any environment in the org can use it)
    #[arg(long)]
    pub include_yaml_subject: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Output {
    Text,
    Json,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum RenderKind {
    Az,
    Esc,
    PulumiPython,
    PulumiTypescript,
    Json,
}

#[derive(Debug, Args)]
pub(crate) struct RenderArgs {
    #[arg(value_enum)]
    pub kind: RenderKind,
    /// Config file; or describe one target with the flags below
    #[arg(
        long,
        short = 'c',
        value_name = "FILE",
        conflicts_with_all = [
            "org", "project", "stack", "env", "operations", "subject_attributes", "default_subject",
            "user", "root_env", "include_yaml_subject", "roles", "scopes", "issuer",
        ]
    )]
    pub config: Option<PathBuf>,
    /// Pulumi organization (one-target mode)
    #[arg(long, requires = "project")]
    pub org: Option<String>,
    /// Pulumi or ESC project (one-target mode)
    #[arg(long)]
    pub project: Option<String>,
    /// Stack: render for a Deployments stack
    #[arg(long, conflicts_with = "env")]
    pub stack: Option<String>,
    /// Operation to trust (repeatable; with --stack)
    #[arg(long = "operation", value_name = "OP", requires = "stack")]
    pub operations: Vec<String>,
    /// ESC environment: render for an ESC environment
    #[arg(long)]
    pub env: Option<String>,
    /// subjectAttributes entry (repeatable; with --env)
    #[arg(
        long = "subject-attribute",
        value_name = "ATTRIBUTE",
        requires = "env",
        conflicts_with = "default_subject"
    )]
    pub subject_attributes: Vec<String>,
    /// Pulumi's default ESC subject (no subjectAttributes; with --env)
    #[arg(long, requires = "env")]
    pub default_subject: bool,
    /// Pulumi user login, for pulumi.user.login
    #[arg(long, value_name = "LOGIN", requires = "env")]
    pub user: Option<String>,
    /// Root environment PROJECT/ENV, for rootEnvironment.name
    #[arg(long, value_name = "PROJECT/ENV", requires = "env")]
    pub root_env: Option<String>,
    /// Also trust the `<yaml>` subject (with --env)
    #[arg(long, requires = "env")]
    pub include_yaml_subject: bool,
    /// Role to grant (repeatable, paired in order with --scope)
    #[arg(long = "role", value_name = "ROLE")]
    pub roles: Vec<String>,
    /// Scope of the role at the same position
    #[arg(long = "scope", value_name = "SCOPE")]
    pub scopes: Vec<String>,
    /// OIDC issuer (one-target mode)
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,
    /// Client id of the app, once known
    #[arg(long, value_name = "GUID")]
    pub client_id: Option<String>,
    /// Tenant id
    #[arg(long, value_name = "GUID")]
    pub tenant_id: Option<String>,
    /// Subscription id
    #[arg(long, value_name = "GUID")]
    pub subscription_id: Option<String>,
}

#[derive(Debug, Args)]
#[command(group(clap::ArgGroup::new("input").required(true).multiple(true).args(["token", "error"])))]
pub(crate) struct DiagnoseArgs {
    /// The token: the JWT itself, @FILE, or - for standard input
    #[arg(long, value_name = "JWT|@FILE|-", value_parser = |s: &str| Ok::<_, std::convert::Infallible>(TokenArg(s.to_owned())))]
    pub token: Option<TokenArg>,
    /// The app's credentials: Graph's list JSON or `az ad app federated-credential list` output
    #[arg(long, value_name = "FILE", requires = "token")]
    pub credentials: Option<PathBuf>,
    /// Check the token's validity at this time instead of now (RFC 3339)
    #[arg(long, value_name = "RFC3339", requires = "token")]
    pub now: Option<String>,
    /// The AADSTS error text: the text itself, @FILE, or - for standard input
    #[arg(long, value_name = "TEXT|@FILE|-")]
    pub error: Option<String>,
    #[arg(long, short = 'o', value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

/// The `--token` value. Its `Debug` never shows it: tokens stay out of every log.
#[derive(Clone)]
pub(crate) struct TokenArg(pub String);

impl std::fmt::Debug for TokenArg {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TokenArg(<redacted>)")
    }
}
