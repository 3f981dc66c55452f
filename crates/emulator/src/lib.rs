//! A local, faithful stand-in for the services `pulumi-azure-oidc` talks to:
//! Microsoft Graph (applications, service principals, federated identity
//! credentials), ARM role assignments, the Entra token endpoint, Pulumi Cloud
//! (deployment settings, ESC environments) and Pulumi's OIDC issuer — with seeded
//! fault injection and Azure's replication windows.
//!
//! Every status code, error body and limit traces to `azure-facts.md` or
//! `pulumi-oidc-facts.md`; where a body is an assumption the code says so.
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! use pulumi_azure_oidc_emulator::{Emulator, MintRequest, Options};
//! let emulator = Emulator::start(Options::default()).await?;
//! let token = emulator.mint(&MintRequest::deployment("contoso", "core", "dev", "update"));
//! println!("{} {}", emulator.https_url(), token.is_ok());
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```

// Handler helpers return the refusal itself as their error: an axum `Response` (128
// bytes), once per request, not worth a box on every path.
#![allow(clippy::result_large_err)]

mod admin;
mod arm;
pub mod faults;
mod graph;
mod http;
pub mod issuer;
mod pulumi;
mod server;
mod state;
mod sts;
mod tls;

pub use faults::{Fault, FaultOptions, Replication};
pub use issuer::MintRequest;
pub use server::{
    DEFAULT_OPERATOR_CLIENT_ID, DEFAULT_OPERATOR_SECRET, DEFAULT_PULUMI_TOKEN, DEFAULT_TENANT_ID,
    Emulator, Operator, Options, PULUMI_ISSUER,
};
