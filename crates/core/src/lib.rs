//! Pulumi Cloud → Azure OIDC workload identity federation, computed.
//!
//! The core of `pulumi-azure-oidc`: validated names, the subjects and audiences Pulumi
//! puts in its tokens, the federated identity credentials Azure needs, a planner that
//! packs them into apps of at most 20, a pure diff against observed state, renders
//! (az script, ESC YAML, Pulumi programs, JSON) and diagnosis of tokens and AADSTS
//! errors. Sans-IO: it compiles to wasm32 and every face (CLI, browser, Python, C)
//! gets the same answers from it.
//!
//! ```
//! use pulumi_azure_oidc::{DeploymentTarget, Issuer, OrgName, ProjectName, StackName, Target};
//!
//! let target = Target::Deployment(DeploymentTarget::new(
//!     OrgName::new("contoso")?,
//!     ProjectName::new("core")?,
//!     StackName::new("dev")?,
//!     &[], // all four operations
//! ));
//! let creds = target.credentials(&Issuer::default())?;
//! assert_eq!(
//!     creds.credentials[0].subject,
//!     "pulumi:deploy:org:contoso:project:core:stack:dev:operation:preview:scope:write"
//! );
//! # Ok::<(), pulumi_azure_oidc::Error>(())
//! ```

pub mod adopt;
mod base64url;
pub mod claims;
pub mod config;
pub mod credential;
pub mod diagnose;
pub mod diff;
pub mod doctor;
pub mod error;
pub mod esc_edit;
mod fields;
mod hash;
mod join;
pub mod json_read;
pub mod json_text;
mod json_value;
pub mod kit;
mod name_uuid;
pub mod names;
pub mod observed;
pub mod permissions;
pub mod plan;
pub mod provision;
pub mod render;
pub mod roles;
pub mod spec;
pub mod target;

pub use claims::{Issuer, Operation, PULUMI_CLOUD_ISSUER, ParsedSubject, SubjectAttribute};
pub use config::{AzureSettings, Config};
pub use credential::{FederatedCredential, GraphCredentialBody};
pub use diagnose::{diagnose_error, diagnose_token, parse_credential_list};
pub use diff::{Change, Diff, DiffOptions, ObservedState, diff};
pub use error::{Error, ErrorCode, Result};
pub use names::{
    CredentialName, EscEnvName, EscEnvRef, EscProjectName, OrgName, ProjectName, StackName,
    UserLogin,
};
pub use plan::{Plan, plan};
pub use render::{RenderFormat, RenderOptions, render};
pub use roles::{Role, RoleGrant, Scope};
pub use spec::TargetSpec;
pub use target::{DeploymentTarget, EscSubjectForm, EscTarget, Target};

/// Namespace of every UUIDv5 this crate derives (credential name suffixes, app keys,
/// role assignment names). Fixed forever: changing it renames everything.
pub const NAMESPACE: uuid::Uuid = uuid::Uuid::from_u128(0x6c1f_4b0e_9a57_4f2e_b1d3_0e7a_5c2d_9f41);

/// The crate version, as every face reports it.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
