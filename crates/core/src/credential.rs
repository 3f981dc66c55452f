//! Federated identity credential specs: what Entra must hold for a token to be accepted.

use crate::claims::{Issuer, check_len};
use crate::error::Result;
use crate::join::Joined;
use crate::names::CredentialName;
use serde::{Deserialize, Serialize};

/// Text every credential this tool writes carries in its description, so a later run
/// can tell its own credentials from ones somebody else added.
pub const MANAGED_MARKER: &str = "(managed by pulumi-azure-oidc)";

/// One federated identity credential, ready to send to Graph.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize)]
pub struct FederatedCredential {
    pub name: CredentialName,
    pub issuer: String,
    pub subject: String,
    pub audience: String,
    pub description: String,
}

/// The body of `POST /applications/{id}/federatedIdentityCredentials` (Graph v1.0),
/// also the shape `az ad app federated-credential create --parameters` takes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GraphCredentialBody {
    pub name: String,
    pub issuer: String,
    pub subject: String,
    pub audiences: Vec<String>,
    pub description: String,
}

impl GraphCredentialBody {
    /// This body as a JSON value: what `serde_json::to_value` gives, built directly
    /// (see `json_value`).
    pub fn to_value(&self) -> serde_json::Value {
        use crate::json_value::{object, strings};
        object(vec![
            ("name", self.name.as_str().into()),
            ("issuer", self.issuer.as_str().into()),
            ("subject", self.subject.as_str().into()),
            ("audiences", strings(&self.audiences)),
            ("description", self.description.as_str().into()),
        ])
    }

    /// The `az` command that creates this credential (or, with `update`, corrects the
    /// existing one of the same name), quoted for a POSIX shell: the values can come
    /// from a token, so they are never pasted in raw.
    pub fn az_command(&self, update: bool) -> String {
        let quote = |v: &str| {
            shlex::try_quote(v)
                .map(|q| q.into_owned())
                .unwrap_or_else(|_| "''".to_owned())
        };
        let body = crate::json_text::compact(self).unwrap_or_default();
        if update {
            format!(
                "az ad app federated-credential update --id <app client id> --federated-credential-id {} --parameters {}",
                quote(&self.name),
                quote(&body)
            )
        } else {
            format!(
                "az ad app federated-credential create --id <app client id> --parameters {}",
                quote(&body)
            )
        }
    }
}

impl FederatedCredential {
    /// Build a spec, checking Azure's limits on every field.
    pub fn new(
        name: CredentialName,
        issuer: &Issuer,
        subject: String,
        audience: String,
        description: String,
    ) -> Result<Self> {
        check_len("subject", &subject)?;
        check_len("audience", &audience)?;
        check_len("description", &description)?;
        Ok(Self {
            name,
            issuer: issuer.to_string(),
            subject,
            audience,
            description,
        })
    }

    pub fn to_graph_body(&self) -> GraphCredentialBody {
        GraphCredentialBody {
            name: self.name.to_string(),
            issuer: self.issuer.clone(),
            subject: self.subject.clone(),
            audiences: vec![self.audience.clone()],
            description: self.description.clone(),
        }
    }

    /// Whether a token with these claims would be accepted by this credential:
    /// exact, case-sensitive comparison of all three.
    pub fn accepts(&self, issuer: &str, subject: &str, audiences: &[String]) -> bool {
        self.issuer == issuer && self.subject == subject && audiences.contains(&self.audience)
    }
}

/// Deterministic short hash used for name suffixes: the first `len` hex digits of a
/// UUIDv5 of `parts` (joined by NUL) in the project's namespace.
pub(crate) fn short_hash(parts: &[&str], len: usize) -> String {
    let joined = parts.joined("\u{0}");
    let id = crate::name_uuid::v5(&crate::NAMESPACE, joined.as_bytes());
    let mut digits = crate::name_uuid::text(&id, false);
    digits.truncate(len);
    digits
}

/// Turn readable parts into a valid credential name: characters outside
/// `[A-Za-z0-9_-]` become `_`, and a name over 120 characters is cut and given a
/// hashed suffix of `hash_input` so it stays unique.
pub(crate) fn readable_name(parts: &[&str], hash_input: &[&str]) -> CredentialName {
    let mut name = String::with_capacity(parts.iter().map(|p| p.len() + 1).sum());
    for part in parts.iter().filter(|p| !p.is_empty()) {
        if !name.is_empty() {
            name.push('-');
        }
        name.extend(part.chars().map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        }));
    }
    if name.len() > 120 {
        name = with_hash_suffix(&name, hash_input);
    }
    // Parts always start with a fixed ASCII prefix, so the name is valid; fall back to
    // the hash alone if a caller ever breaks that.
    CredentialName::new(name).unwrap_or_else(|_| hashed_name("fic", hash_input))
}

/// `base` cut to fit, then `-<10 hex>`.
pub(crate) fn with_hash_suffix(base: &str, hash_input: &[&str]) -> String {
    let hash = short_hash(hash_input, 10);
    let keep = 120 - hash.len() - 1;
    let mut cut: String = base.chars().take(keep).collect();
    while cut.ends_with(['-', '_']) {
        cut.pop();
    }
    format!("{cut}-{hash}")
}

fn hashed_name(prefix: &str, hash_input: &[&str]) -> CredentialName {
    let hash = short_hash(hash_input, 10);
    CredentialName(format!("{prefix}-{hash}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_body_as_a_value_is_what_serde_writes() {
        let body = GraphCredentialBody {
            name: "n".into(),
            issuer: "https://api.pulumi.com/oidc".into(),
            subject: "pulumi:deploy:org:o:project:p:stack:s:operation:update:scope:write".into(),
            audiences: vec!["o".into(), "azure:o".into()],
            description: "d".into(),
        };
        let derived = serde_json::to_value(&body).unwrap();
        assert_eq!(body.to_value(), derived);
        // Same keys in the same order, as the JSON text shows them.
        assert_eq!(body.to_value().to_string(), derived.to_string());
    }

    #[test]
    fn long_names_get_a_hash_suffix_and_stay_valid() {
        let long = "p".repeat(100);
        let a = readable_name(&["deploy", &long, &long, "preview"], &["a"]);
        let b = readable_name(&["deploy", &long, &long, "preview"], &["b"]);
        assert_eq!(a.as_str().len(), 120);
        assert_ne!(a, b);
    }

    #[test]
    fn dots_become_underscores() {
        let n = readable_name(&["deploy", "core", "dev.eu", "update"], &["x"]);
        assert_eq!(n.as_str(), "deploy-core-dev_eu-update");
    }
}
