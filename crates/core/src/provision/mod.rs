//! The provisioning logic, as values: what a run needs, the request each change
//! sends and how its answer is read, when to retry, the order of an app's writes,
//! and the reports each call returns. Nothing here sends a request or sleeps; the
//! executor (`pulumi-azure-oidc-provision`) performs what this module describes, so
//! the page, Python and C see the same requests and reports the CLI does.

mod budget;
mod endpoints;
mod options;
pub mod order;
mod pace;
pub mod preview;
mod reports;
mod request;
pub mod requests;
mod retry;
pub mod rights;
mod secret;

pub use budget::{Bucket, Budgets, DOCUMENTED_BUDGETS, Draw, Schedule};
pub use endpoints::{Cloud, Endpoints};
pub use options::{
    AuthKind, Call, DEFAULT_CONCURRENCY, DEFAULT_VERIFY_WAIT_SECS, DEPLOYMENTS_TOKEN_FILE,
    MAX_CONCURRENCY, Needs, RunOptions,
};
pub use pace::{DOCUMENTED_IDENTITY_WRITE_RATES, IdentityWriteRates};
pub use reports::{
    AppSummary, ApplyReport, DestroyPlan, DestroyReport, DestroyStep, Live, Prepared, StatusReport,
    TargetHealth, VerifyReport, VerifyResult,
};
pub use request::{Answer, Body, Credential, Method, Request, RequestCounts, Service, WaitOut};
pub use requests::AppIds;
pub use retry::{Action, Outcome, RetryPolicy, next_action, retry_after};
pub use secret::Secret;
