//! The `pulumi-azure-oidc` binary.

use std::process::ExitCode;

fn main() -> ExitCode {
    ExitCode::from(pulumi_azure_oidc_cli::run(std::env::args_os()))
}
