//! Who a caller is and what it may do: Entra's app roles for Graph (`graph`), Azure
//! RBAC with ABAC conditions for ARM (`arm`, `condition`), and the built-in role
//! definitions both read (`roles`).
//!
//! A caller is the service principal its access token stands for (the token's `oid`).
//! What it may do comes from two places, as in Azure: what was granted to that
//! principal through the APIs (app role assignments in Graph, role assignments in
//! ARM), and what its kind has without any grant (`Base`), which lets the emulator
//! keep its all-powerful default operator.

pub(crate) mod arm;
pub(crate) mod condition;
pub(crate) mod graph;
pub(crate) mod roles;

use crate::options::Rights;

/// What a token's holder may do before anything is granted to its principal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Base {
    /// An operator with [`Rights::Full`]: Graph's two broad app roles, an implicit
    /// *Owner* at `/` in ARM.
    Full,
    /// An operator with [`Rights::ReadOnly`]: `Application.Read.All`, an implicit
    /// *Reader* at `/`.
    ReadOnly,
    /// An operator with [`Rights::Granted`]: nothing.
    Granted,
    /// The principal of a federated app or a managed identity, signed in with a client
    /// assertion: it may read Graph and ARM without a grant (ASSUMPTION: Azure would
    /// require one; the emulator has long let these tokens read, and the tool's checks
    /// read with them), and write only what is granted to it.
    Federated,
}

impl From<Rights> for Base {
    fn from(rights: Rights) -> Self {
        match rights {
            Rights::Full => Self::Full,
            Rights::ReadOnly => Self::ReadOnly,
            Rights::Granted => Self::Granted,
        }
    }
}

/// A GUID as directory ids are compared: hyphens and case ignored.
pub(crate) fn same_object(a: &str, b: &str) -> bool {
    let norm = |s: &str| s.replace('-', "").to_ascii_lowercase();
    norm(a) == norm(b)
}
