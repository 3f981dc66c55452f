//! `pulumi-azure-oidc-emulator`: run the emulator as a process, for the demo, for
//! tests of other faces, and for anyone trying the tool without an Azure account.

use std::io::Write;
use std::net::IpAddr;
use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use pulumi_azure_oidc_emulator::{
    Budgets, DEFAULT_OPERATOR_CLIENT_ID, DEFAULT_OPERATOR_SECRET, DEFAULT_PULUMI_TOKEN,
    DEFAULT_SUBSCRIPTION_ID, DEFAULT_TENANT_ID, Emulator, FaultOptions, Operator, Options,
    PULUMI_ISSUER, Replication, Rights,
};

/// A local Microsoft Graph, ARM, Entra token endpoint, Pulumi Cloud and Pulumi OIDC
/// issuer, over HTTP and HTTPS, with seeded fault injection.
///
/// Point the tool at the printed URLs and trust the printed CA file. State lives in
/// memory and is gone when the process stops (Ctrl-C or SIGTERM).
#[derive(Debug, Parser)]
#[command(name = "pulumi-azure-oidc-emulator", version, max_term_width = 100)]
struct Args {
    /// Address to listen on. Anything but loopback exposes the admin endpoints.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
    /// HTTP port (0: any free port).
    #[arg(long, default_value_t = 0)]
    port: u16,
    /// HTTPS port (0: any free port).
    #[arg(long, default_value_t = 0)]
    https_port: u16,
    /// Seed of the fault sequence: the same seed gives the same faults.
    #[arg(long, default_value_t = 0)]
    seed: u64,
    /// Latency added to every service request, in milliseconds.
    #[arg(long, default_value_t = 0)]
    latency_ms: u64,
    /// Chance (0–1) of an extra delay of --spike-ms on a request.
    #[arg(long, default_value_t = 0.0)]
    spike_rate: f64,
    /// Length of a latency spike, in milliseconds.
    #[arg(long, default_value_t = 0)]
    spike_ms: u64,
    /// Chance (0–1) of a 429 with a Retry-After header.
    #[arg(long, default_value_t = 0.0)]
    throttle_rate: f64,
    /// Largest Retry-After value, in seconds; values are often fractional.
    #[arg(long, default_value_t = 2.0)]
    retry_after_max: f64,
    /// Chance (0–1) of a 500, 502, 503 or 504.
    #[arg(long, default_value_t = 0.0)]
    server_error_rate: f64,
    /// Chance (0–1) that the connection is dropped, before or after the request is handled.
    #[arg(long, default_value_t = 0.0)]
    drop_rate: f64,
    /// Replication lag after a create, in milliseconds: reads by key answer 404, $filter
    /// lists miss the object, a service principal for a new app and a role assignment for
    /// a new principal are refused.
    #[arg(long, default_value_t = 0)]
    replication_lag_ms: u64,
    /// How long a new federated credential takes to reach the token endpoint; exchanges
    /// that match it get AADSTS70021 until then.
    #[arg(long, default_value_t = 0)]
    fic_propagation_ms: u64,
    /// Tenant id of the emulated directory.
    #[arg(long, default_value = DEFAULT_TENANT_ID)]
    tenant_id: String,
    /// Client id of the operator identity (client-secret grants).
    #[arg(long, default_value = DEFAULT_OPERATOR_CLIENT_ID)]
    client_id: String,
    /// Client secret of the operator identity.
    #[arg(long, env = "EMULATOR_CLIENT_SECRET", default_value = DEFAULT_OPERATOR_SECRET, hide_default_value = true, hide_env_values = true)]
    client_secret: String,
    /// A second operator, `CLIENT_ID:SECRET`, that may read but not write (403 on writes).
    #[arg(long)]
    read_only_operator: Option<String>,
    /// An operator, `CLIENT_ID:SECRET`, with no rights but what is granted to its service
    /// principal through Graph (app role assignments) and ARM (role assignments), as a new
    /// service principal in Azure (repeatable).
    #[arg(long = "operator")]
    granted_operators: Vec<String>,
    /// Pulumi access token the emulated Pulumi Cloud accepts.
    #[arg(long, env = "EMULATOR_PULUMI_TOKEN", default_value = DEFAULT_PULUMI_TOKEN, hide_default_value = true, hide_env_values = true)]
    pulumi_token: String,
    /// Issuers whose tokens the emulator signs and trusts, besides its own <url>/oidc
    /// (repeatable). The first is the default issuer of minted tokens.
    #[arg(long = "issuer", default_values_t = [PULUMI_ISSUER.to_owned()])]
    issuers: Vec<String>,
    /// An organization without a Deployments subscription: settings writes get 402
    /// (repeatable).
    #[arg(long = "free-org")]
    free_orgs: Vec<String>,
    /// A stack, `org/project/stack`, that does not exist: its settings get 404 (repeatable).
    #[arg(long = "missing-stack")]
    missing_stacks: Vec<String>,
    /// Items per page of the stack, environment, managed identity and identity credential
    /// lists.
    #[arg(long, default_value_t = pulumi_azure_oidc_emulator::DEFAULT_LIST_PAGE_SIZE, value_parser = clap::value_parser!(usize))]
    list_page_size: usize,
    /// Speed up the documented request rates the emulator meters (managed identity
    /// credential writes: 0.25/s per identity, 2/s per subscription, 10/s per tenant; and
    /// the budgets of --budgets azure): 1 is as documented, 50 refills fifty times faster.
    /// Retry-After values are then fractional seconds.
    #[arg(long, default_value_t = 1.0, value_parser = rate_scale)]
    rate_scale: f64,
    /// Which documented request budgets to enforce: `off`, or `azure` for Microsoft
    /// Graph's identity limits (writes and resource units per app and tenant, writes per
    /// tenant) and ARM's token buckets (reads, writes, deletes per subscription and
    /// principal), answering 429 with Retry-After beyond them.
    #[arg(long, default_value = "off", value_parser = budgets)]
    budgets: Budgets,
    /// How long each credential write to a managed identity takes, in milliseconds;
    /// another credential write to the same identity meanwhile gets 409.
    #[arg(long, default_value_t = pulumi_azure_oidc_emulator::DEFAULT_IDENTITY_CREDENTIAL_WRITE_MS)]
    identity_credential_write_ms: u64,
    /// Where to write the CA certificate (default: a new file in the temp directory).
    #[arg(long)]
    ca_file: Option<PathBuf>,
    /// Enable the managed identity endpoint /msi/token, requiring this x-identity-header.
    #[arg(long)]
    managed_identity_header: Option<String>,
    /// Put this text ([A-Za-z0-9-], at most 64) into every access token issued, so a test
    /// can prove no token is ever printed.
    #[arg(long, default_value = "", value_parser = token_marker)]
    token_marker: String,
}

fn token_marker(value: &str) -> Result<String, String> {
    if value
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-')
        && value.len() <= 64
    {
        Ok(value.to_owned())
    } else {
        Err(format!(
            "{value:?}: a token marker is at most 64 of A-Z, a-z, 0-9 and '-'"
        ))
    }
}

fn rate_scale(value: &str) -> Result<f64, String> {
    match value.parse::<f64>() {
        Ok(f) if f.is_finite() && f > 0.0 => Ok(f),
        _ => Err(format!("{value:?}: the rate scale is a number above zero")),
    }
}

fn budgets(value: &str) -> Result<Budgets, String> {
    match value.to_ascii_lowercase().as_str() {
        "off" => Ok(Budgets::Off),
        "azure" => Ok(Budgets::Azure),
        _ => Err(format!("{value:?}: the budgets are `off` or `azure`")),
    }
}

/// `CLIENT_ID:SECRET` as an operator with `rights`.
fn operator(flag: &str, value: &str, rights: Rights) -> Result<Operator, String> {
    match value.split_once(':') {
        Some((id, secret)) if !id.is_empty() && !secret.is_empty() => Ok(Operator {
            client_id: id.to_owned(),
            client_secret: secret.to_owned(),
            rights,
        }),
        _ => Err(format!("{flag} must be CLIENT_ID:SECRET")),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    let mut operators = vec![Operator {
        client_id: args.client_id.clone(),
        client_secret: args.client_secret.clone(),
        rights: Rights::Full,
    }];
    let extra = args
        .read_only_operator
        .iter()
        .map(|v| operator("--read-only-operator", v, Rights::ReadOnly))
        .chain(
            args.granted_operators
                .iter()
                .map(|v| operator("--operator", v, Rights::Granted)),
        );
    for o in extra {
        match o {
            Ok(o) => operators.push(o),
            Err(e) => {
                eprintln!("error: {e}");
                return ExitCode::from(2);
            }
        }
    }
    let options = Options {
        bind: args.bind,
        http_port: args.port,
        https_port: args.https_port,
        seed: args.seed,
        faults: FaultOptions {
            latency_ms: args.latency_ms,
            spike_rate: args.spike_rate,
            spike_ms: args.spike_ms,
            throttle_rate: args.throttle_rate,
            retry_after_max_secs: args.retry_after_max,
            server_error_rate: args.server_error_rate,
            drop_rate: args.drop_rate,
        },
        replication: Replication {
            lag_ms: args.replication_lag_ms,
            fic_propagation_ms: args.fic_propagation_ms,
        },
        tenant_id: args.tenant_id,
        operators,
        pulumi_token: args.pulumi_token,
        issuers: args.issuers,
        free_orgs: args.free_orgs,
        missing_stacks: args.missing_stacks,
        list_page_size: args.list_page_size.max(1),
        rate_scale: args.rate_scale,
        budgets: args.budgets,
        identity_credential_write_ms: args.identity_credential_write_ms,
        ca_file: args.ca_file,
        managed_identity_header: args.managed_identity_header,
        token_marker: args.token_marker,
    };
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async move {
        let emulator = match Emulator::start(options).await {
            Ok(e) => e,
            Err(e) => {
                eprintln!("error: cannot start the emulator: {e}");
                return ExitCode::FAILURE;
            }
        };
        // One `key=value` per line, so scripts can read them; secrets are not printed.
        println!("pulumi-azure-oidc-emulator {}", env!("CARGO_PKG_VERSION"));
        println!("http_url={}", emulator.http_url());
        println!("https_url={}", emulator.https_url());
        println!("ca_file={}", emulator.ca_file().display());
        println!("tenant_id={}", emulator.tenant_id());
        println!("client_id={}", emulator.options().operators[0].client_id);
        println!("subscription_id={DEFAULT_SUBSCRIPTION_ID}");
        println!("issuer={}", emulator.issuer());
        println!("graph_url={}/v1.0", emulator.https_url());
        println!("ready");
        wait_for_signal().await;
        // Whoever started us may have closed our pipes by now; never panic on that.
        let _ = writeln!(std::io::stderr(), "stopping");
        emulator.shutdown().await;
        let _ = writeln!(std::io::stdout(), "stopped");
        ExitCode::SUCCESS
    })
}

async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        let (Ok(mut term), Ok(mut int)) = (
            signal(SignalKind::terminate()),
            signal(SignalKind::interrupt()),
        ) else {
            let _ = tokio::signal::ctrl_c().await;
            return;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
