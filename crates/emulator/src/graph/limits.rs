//! Entra's documented rules for a federated identity credential, which Graph enforces
//! when one is written:
//!
//! - microsoftgraph/microsoft-graph-docs-contrib
//!   `api-reference/v1.0/resources/federatedidentitycredential.md`: `audiences` "can only
//!   accept a single value and has a limit of 600 characters"; `issuer`, `subject` and
//!   `description` each "a limit of 600 characters"; "the combination of the values of
//!   issuer and subject must be unique within the app";
//! - `api-reference/v1.0/api/application-post-federatedidentitycredentials.md`: "Maximum
//!   of 20 objects can be added to an application";
//! - MicrosoftDocs/entra-docs
//!   `docs/workload-id/includes/federated-credential-configuration-considerations.md`:
//!   the name has "a character limit of 3-120 characters and must be URL friendly.
//!   Alphanumeric, dash, or underscore characters are supported, the first character
//!   must be alphanumeric only".

pub(crate) const MAX_CREDENTIALS: usize = 20;

/// The length limit of `issuer`, `subject`, each audience and `description`.
pub(crate) const MAX_FIELD: usize = 600;

pub(crate) fn valid_credential_name(name: &str) -> bool {
    let len = name.len();
    (3..=120).contains(&len)
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credential_names_follow_entra() {
        assert!(valid_credential_name("abc"));
        assert!(valid_credential_name("pulumi-oidc_1"));
        assert!(!valid_credential_name("ab"));
        assert!(!valid_credential_name("-abc"));
        assert!(!valid_credential_name("a.bc"));
        assert!(!valid_credential_name(&"a".repeat(121)));
        assert!(valid_credential_name(&"a".repeat(120)));
    }
}
