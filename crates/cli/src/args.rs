//! Command-line arguments (clap derive).

use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;

/// The limit comes from the core, like every other domain value the CLI shows.
fn long_about() -> String {
    format!(
        "Connect Pulumi Cloud to Azure with OIDC workload identity federation.\n\n\
         Generates the exact subjects, audiences and federated credentials that Pulumi \
         Deployments and Pulumi ESC need, plans them into Entra apps (at most {} credentials \
         each), renders them as az commands, ESC YAML, Pulumi programs or JSON, and diagnoses \
         tokens and AADSTS errors.",
        pulumi_azure_oidc::plan::MAX_CREDENTIALS_PER_APP
    )
}

#[derive(Debug, Parser)]
#[command(
    name = "pulumi-azure-oidc",
    version,
    about = "Connect Pulumi Cloud to Azure with OIDC workload identity federation",
    long_about = long_about(),
    after_help = "Examples:\n  \
        pulumi-azure-oidc subjects deployments --org contoso --project core --stack dev\n  \
        pulumi-azure-oidc plan --config pulumi-azure-oidc.yaml\n  \
        pulumi-azure-oidc diagnose --error @aadsts.txt"
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub command: Command,
    /// Log to stderr: -v retries, -vv every request, -vvv everything the HTTP and Azure
    /// libraries log too. Secrets are never logged at any level.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    pub verbose: u8,
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
        after_help = "Offline, unless the config lists stacks or environments as \"*\": those are \
        listed from Pulumi Cloud first (PULUMI_ACCESS_TOKEN, or the Pulumi CLI's login), and the plan \
        says what was found.\n\n\
        Example:\n  pulumi-azure-oidc plan --config pulumi-azure-oidc.yaml --output json"
    )]
    Plan {
        /// The config file (YAML or JSON)
        #[arg(long, short = 'c', value_name = "FILE")]
        config: PathBuf,
        #[command(flatten)]
        conn: ConnArgs,
    },
    /// Print the least rights the operator needs for a config, or az commands granting them
    #[command(
        after_help = "Offline. Graph: AppRegistration.Create and Application.ReadWrite.OwnedBy when the \
        config plans apps (an existing app it pins needs the operator as an owner), nothing for managed \
        identities alone. Azure RBAC: Role Based Access Control Administrator with a condition naming \
        exactly the config's roles and only service principals, and Managed Identity Contributor on \
        each resource group that holds identities. Pulumi Cloud: the scopes settings and environments \
        need.\n\n\
        Examples:\n  \
        pulumi-azure-oidc permissions --config pulumi-azure-oidc.yaml\n  \
        pulumi-azure-oidc permissions --config pulumi-azure-oidc.yaml --output az --operator $CLIENT_ID > grant.sh"
    )]
    Permissions(PermissionsArgs),
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
    /// Create or update everything the config needs in Azure and Pulumi Cloud
    #[command(
        after_help = "Shows the changes, asks before writing (unless --yes), then applies them: \
        the apps, service principals, federated credentials and role assignments in Entra and ARM, \
        OIDC in each stack's deployment settings, and the azure-login block of each ESC environment. \
        Re-running a converged set-up makes no writes.\n\n\
        Exit status: 0 applied (or nothing to do), 2 on an error; a re-run finishes an interrupted apply.\n\n\
        Examples:\n  \
        pulumi-azure-oidc apply --config pulumi-azure-oidc.yaml\n  \
        pulumi-azure-oidc apply --org contoso --project core --stack dev --role Contributor \\\n      \
        --scope /subscriptions/0b1f6471-1bf0-4dda-aec3-cb9272f09590 --tenant-id 72f988bf-86f1-41af-91ab-2d7cd011db47 --yes\n  \
        pulumi-azure-oidc apply --config pulumi-azure-oidc.yaml --dry-run --output json"
    )]
    Apply(ApplyArgs),
    /// Show the live diff and the health of each target; no writes
    #[command(
        after_help = "Exit status: 0 when everything matches the config, 1 when something \
        differs, 2 on an error.\n\nExample:\n  pulumi-azure-oidc status --config pulumi-azure-oidc.yaml"
    )]
    Status(StatusArgs),
    /// Check a live set-up (made by anyone) and say what is wrong, with the fix
    #[command(
        after_help = "Reads the stack's deployment settings or the environment's azure-login block, the app \
        its client id names, that app's federated credentials, service principal and role assignments \
        in the subscription named there. Needs no OIDC token; writes nothing.\n\n\
        Exit status: 0 healthy (advice may still be shown), 1 with findings, 2 when something could not \
        be read.\n\n\
        Examples:\n  \
        pulumi-azure-oidc doctor --stack contoso/core/dev\n  \
        pulumi-azure-oidc doctor --env contoso/azure/prod --output json\n  \
        pulumi-azure-oidc doctor --config pulumi-azure-oidc.yaml"
    )]
    Doctor(DoctorArgs),
    /// Describe an org's existing set-up as a config pinned to its apps; writes nothing
    #[command(
        after_help = "Lists the org's stacks and ESC environments in Pulumi Cloud, the Azure login \
        each names, and the app behind each client id: its federated credentials (matched by issuer, \
        subject and audience, never by name), service principal and roles. The config it prints pins \
        each entry to its app (`holder: { clientId }`), so `apply` with it changes nothing; \
        `apply --take-ownership` then marks the apps as managed. What the config cannot say, and \
        what `doctor` finds wrong, are comments in it. Nothing is repaired.\n\n\
        Example:\n  pulumi-azure-oidc adopt --org contoso --config-out pulumi-azure-oidc.yaml"
    )]
    Adopt(AdoptArgs),
    /// Exchange a Pulumi OIDC token at Entra, as Pulumi will, and explain a refusal
    #[command(
        after_help = "The token comes from --token, else PULUMI_OIDC_TOKEN, else the file \
        /mnt/pulumi/pulumi.oidc that Pulumi Deployments provides. With --config every app whose \
        credentials accept the token is tried; without, the app and tenant come from --client-id / \
        --tenant-id or AZURE_CLIENT_ID / AZURE_TENANT_ID (ARM_CLIENT_ID / ARM_TENANT_ID, as Deployments \
        sets them), so it works as a Deployments pre-run command.\n\n\
        Exit status: 0 accepted, 1 refused (with the diagnosis), 2 on an error.\n\n\
        Examples:\n  \
        pulumi-azure-oidc verify --config pulumi-azure-oidc.yaml --token @token.jwt\n  \
        pulumi-azure-oidc verify            # inside a Pulumi Deployments run"
    )]
    Verify(VerifyArgs),
    /// Remove what this tool created for the config, and only that
    #[command(
        after_help = "Removes, in order: the Azure OIDC settings and ESC azure-login blocks that \
        point at a managed app, the app's role assignments, then its service principal and the app. \
        Apps without this tool's tags, and apps holding credentials somebody else added, are kept.\n\n\
        Example:\n  pulumi-azure-oidc destroy --config pulumi-azure-oidc.yaml --yes"
    )]
    Destroy(DestroyArgs),
    /// Print a shell completion script
    #[command(
        after_help = "Example:\n  pulumi-azure-oidc completions bash > /etc/bash_completion.d/pulumi-azure-oidc"
    )]
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), as shipped beside the binary
    #[command(hide = true)]
    Man,
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
    /// The requests a first apply sends, in order, as JSON.
    Requests,
}

#[derive(Debug, Args)]
pub(crate) struct RenderArgs {
    #[arg(value_enum)]
    pub kind: RenderKind,
    #[command(flatten)]
    pub target: TargetArgs,
    /// Client id of the app, once known
    #[arg(long, value_name = "GUID")]
    pub client_id: Option<String>,
    /// Tenant id (written into the output; in one-target mode also the config's)
    #[arg(long, value_name = "GUID")]
    pub tenant_id: Option<String>,
    /// Subscription id (written into the output; in one-target mode also the config's)
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

/// What to provision: a config file, or one target described by flags.
#[derive(Debug, Args)]
pub(crate) struct TargetArgs {
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
    /// A Deployments stack
    #[arg(long, conflicts_with = "env")]
    pub stack: Option<String>,
    /// Operation to trust (repeatable; with --stack)
    #[arg(long = "operation", value_name = "OP", requires = "stack")]
    pub operations: Vec<String>,
    /// An ESC environment
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
}

/// The Azure ids a one-target run writes into the stack's settings or the ESC
/// environment (a config file names them under `azure:`).
#[derive(Debug, Args)]
pub(crate) struct AzureIds {
    /// Tenant id (one-target mode)
    #[arg(long, value_name = "GUID", conflicts_with = "config")]
    pub tenant_id: Option<String>,
    /// Subscription id (one-target mode)
    #[arg(long, value_name = "GUID", conflicts_with = "config")]
    pub subscription_id: Option<String>,
}

/// Where the services are and who we are there.
#[derive(Debug, Args)]
pub(crate) struct ConnArgs {
    /// Azure cloud
    #[arg(long, value_enum, default_value_t = CloudArg::Public)]
    pub cloud: CloudArg,
    /// How to authenticate to Azure (auto: client secret from AZURE_CLIENT_SECRET, else a
    /// workload identity token file, else a managed identity, else the Azure CLI / azd)
    #[arg(long, value_enum, default_value_t = AuthArg::Auto)]
    pub auth: AuthArg,
    /// Send every Azure and Pulumi Cloud request to this URL (the emulator)
    #[arg(long, value_name = "URL", env = "PULUMI_AZURE_OIDC_ENDPOINT")]
    pub endpoint: Option<String>,
    /// Entra login (authority) URL override
    #[arg(long, value_name = "URL")]
    pub login_url: Option<String>,
    /// Microsoft Graph URL override
    #[arg(long, value_name = "URL")]
    pub graph_url: Option<String>,
    /// Azure Resource Manager URL override
    #[arg(long, value_name = "URL")]
    pub arm_url: Option<String>,
    /// Pulumi Cloud API URL (default: PULUMI_BACKEND_URL, the Pulumi CLI's login, or https://api.pulumi.com)
    #[arg(long, value_name = "URL")]
    pub pulumi_api_url: Option<String>,
    /// Also trust this CA certificate (PEM), such as the emulator's
    #[arg(long, value_name = "FILE", env = "PULUMI_AZURE_OIDC_CA_FILE")]
    pub ca_file: Option<PathBuf>,
    /// Requests in flight at once
    #[arg(long, value_name = "N", default_value_t = pulumi_azure_oidc::provision::DEFAULT_CONCURRENCY as u16, value_parser = clap::value_parser!(u16).range(1..=pulumi_azure_oidc::provision::MAX_CONCURRENCY as i64))]
    pub concurrency: u16,
    /// Azure's documented request budgets (Graph, ARM) and managed-identity write rates,
    /// refilled this factor faster: only for an emulator started with the same
    /// --rate-scale
    #[arg(
        long,
        value_name = "FACTOR",
        hide = true,
        env = "PULUMI_AZURE_OIDC_RATE_SCALE"
    )]
    pub rate_scale: Option<f64>,
    #[arg(long, short = 'o', value_enum, default_value_t = Output::Text)]
    pub output: Output,
}

#[derive(Debug, Args)]
pub(crate) struct PermissionsArgs {
    /// The config file (YAML or JSON)
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: PathBuf,
    /// text, json, or az (a script granting the rights to --operator)
    #[arg(long, short = 'o', value_enum, default_value_t = PermissionsOutput::Text)]
    pub output: PermissionsOutput,
    /// The operator's client id (application id), for --output az
    #[arg(long, value_name = "CLIENT_ID", required_if_eq("output", "az"))]
    pub operator: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum PermissionsOutput {
    Text,
    Json,
    Az,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum CloudArg {
    Public,
    China,
    Usgov,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum AuthArg {
    Auto,
    ClientSecret,
    WorkloadIdentity,
    ManagedIdentity,
    AzureCli,
}

#[derive(Debug, Args)]
pub(crate) struct ApplyArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub ids: AzureIds,
    #[command(flatten)]
    pub conn: ConnArgs,
    /// Apply without asking
    #[arg(long, short = 'y')]
    pub yes: bool,
    /// Show what would change; write nothing
    #[arg(long)]
    pub dry_run: bool,
    /// Also delete credentials this tool did not make, in its apps, and its apps no longer in the config
    #[arg(long)]
    pub prune: bool,
    /// Mark the existing apps the config pins (`holder:`), and the credentials in them
    /// it uses, as this tool's, so that `destroy` may remove them later
    #[arg(long)]
    pub take_ownership: bool,
    /// Do not check the operator's rights before the first write (Azure still refuses
    /// what it may not do, possibly halfway)
    #[arg(long)]
    pub skip_rights_check: bool,
}

#[derive(Debug, Args)]
pub(crate) struct StatusArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub ids: AzureIds,
    #[command(flatten)]
    pub conn: ConnArgs,
}

#[derive(Debug, Args)]
pub(crate) struct AdoptArgs {
    /// The Pulumi organization
    #[arg(long)]
    pub org: String,
    /// Write the config here instead of standard output
    #[arg(long, value_name = "FILE")]
    pub config_out: Option<PathBuf>,
    /// The issuer of the org's tokens (a self-hosted Pulumi Cloud's `…/oidc`)
    #[arg(long, value_name = "URL")]
    pub issuer: Option<String>,
    #[command(flatten)]
    pub conn: ConnArgs,
}

#[derive(Debug, Args)]
pub(crate) struct DoctorArgs {
    /// A Deployments stack, as ORG/PROJECT/STACK
    #[arg(long, value_name = "ORG/PROJECT/STACK", conflicts_with_all = ["env", "config"])]
    pub stack: Option<String>,
    /// An ESC environment, as ORG/PROJECT/ENV
    #[arg(long, value_name = "ORG/PROJECT/ENV", conflicts_with = "config")]
    pub env: Option<String>,
    /// Every target of a config file
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The time to judge against (RFC 3339; default now)
    #[arg(long, value_name = "TIME", hide = true)]
    pub now: Option<String>,
    #[command(flatten)]
    pub conn: ConnArgs,
}

#[derive(Debug, Args)]
pub(crate) struct DestroyArgs {
    #[command(flatten)]
    pub target: TargetArgs,
    #[command(flatten)]
    pub ids: AzureIds,
    #[command(flatten)]
    pub conn: ConnArgs,
    /// Remove without asking
    #[arg(long, short = 'y')]
    pub yes: bool,
}

#[derive(Debug, Args)]
pub(crate) struct VerifyArgs {
    /// Config file: try every app whose credentials accept the token
    #[arg(long, short = 'c', value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// The Pulumi OIDC token: the JWT, @FILE, or - for standard input
    #[arg(long, value_name = "JWT|@FILE|-", value_parser = |s: &str| Ok::<_, std::convert::Infallible>(TokenArg(s.to_owned())))]
    pub token: Option<TokenArg>,
    /// The app to exchange against (default: AZURE_CLIENT_ID, then ARM_CLIENT_ID)
    #[arg(long, value_name = "GUID", conflicts_with = "config")]
    pub client_id: Option<String>,
    /// The tenant (default: the config's, AZURE_TENANT_ID, then ARM_TENANT_ID)
    #[arg(long, value_name = "GUID")]
    pub tenant_id: Option<String>,
    /// Keep retrying errors a fresh credential also gives, for this many seconds
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub wait: u64,
    #[command(flatten)]
    pub conn: ConnArgs,
}
