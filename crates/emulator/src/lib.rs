//! A local, faithful stand-in for the services `pulumi-azure-oidc` talks to:
//! Microsoft Graph (applications, service principals, federated identity
//! credentials), ARM role assignments and user-assigned managed identities (with their
//! federated credentials), the Entra token endpoint, Pulumi Cloud
//! (deployment settings, ESC environments) and Pulumi's OIDC issuer — with seeded
//! fault injection, Azure's replication windows and, with `Budgets::Azure`, Graph's and
//! ARM's documented request budgets (`graph::budget`, `arm::budget`).
//!
//! It depends on no crate of the tool it tests. Every format, status code, error body
//! and limit is written down here from the services' public documentation or a public
//! capture, cited where it is encoded; where a body is an assumption the code says so.
//! A double that borrowed the tool's own idea of a subject would agree with the tool's
//! mistakes.
//!
//! Modules, in the direction of their dependencies: `server` (the listeners) → `route`
//! (one request's way in) → the services (`graph`, `arm`, `sts`, `pulumi`, `issuer`, `metadata`,
//! `admin`) → what they share (`authz`, who may do what; `shared`, `access_token`,
//! `http`, `state`, `builtin`, `mint`, `claims`, `names`, `keys`, `faults`, `throttle`,
//! `busy`, `options`).
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

mod access_token;
mod admin;
mod arm;
mod authz;
mod builtin;
mod busy;
mod claims;
mod esc_eval;
pub mod faults;
mod graph;
mod http;
mod issuer;
mod keys;
mod metadata;
mod mint;
mod names;
mod options;
mod pulumi;
mod route;
mod server;
mod shared;
mod state;
mod sts;
mod throttle;
mod tls;

pub use builtin::GRAPH_APP_ID;
pub use claims::PULUMI_ISSUER;
pub use faults::{Fault, FaultOptions, Replication};
pub use mint::MintRequest;
pub use options::{
    Budgets, DEFAULT_IDENTITY_CREDENTIAL_WRITE_MS, DEFAULT_LIST_PAGE_SIZE,
    DEFAULT_OPERATOR_CLIENT_ID, DEFAULT_OPERATOR_SECRET, DEFAULT_PULUMI_TOKEN,
    DEFAULT_SUBSCRIPTION_ID, DEFAULT_TENANT_ID, Operator, Options, Rights,
};
pub use server::Emulator;
