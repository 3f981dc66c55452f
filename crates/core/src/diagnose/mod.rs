//! Diagnosis: a token or an AADSTS error in, the exact mismatch and the fix out.

mod aadsts;
pub mod jwt;
mod paste;
mod scan;
mod token;

pub use aadsts::{Detail, ErrorDiagnosis, Presented, diagnose_error};
pub use token::{
    Candidate, Difference, FixAction, TimeStatus, TokenDiagnosis, diagnose_claims, diagnose_token,
};

use crate::claims::ParsedSubject;
use crate::credential::{readable_name, short_hash};
use crate::diff::ObservedCredential;
use crate::error::{Error, Result};

/// Read a credential list: Graph's `{"value": [...]}`, the array that
/// `az ad app federated-credential list` prints, or this tool's own
/// `subjects --output json`.
pub fn parse_credential_list(text: &str) -> Result<Vec<ObservedCredential>> {
    const MAX: usize = 1 << 20;
    if text.len() > MAX {
        return Err(Error::InputTooLarge {
            what: "the credential list",
            len: text.len(),
            max: MAX,
        });
    }
    let value: serde_json::Value = serde_json::from_str(text.trim()).map_err(|e| {
        Error::MalformedCredentialList(format!(
            "not JSON ({e}); expected Graph's {{\"value\": [...]}} or the array `az ad app federated-credential list` prints"
        ))
    })?;
    let items =
        match &value {
            serde_json::Value::Array(items) => items,
            serde_json::Value::Object(map) => match map.get("value") {
                Some(serde_json::Value::Array(items)) => items,
                _ => return Err(Error::MalformedCredentialList(
                    "a JSON object without a `value` array; expected Graph's {\"value\": [...]}"
                        .into(),
                )),
            },
            _ => {
                return Err(Error::MalformedCredentialList(
                    "expected a JSON array or Graph's {\"value\": [...]}".into(),
                ));
            }
        };
    items
        .iter()
        .enumerate()
        .map(|(i, item)| {
            let field = |k: &str| item.get(k).and_then(|v| v.as_str()).map(str::to_owned);
            let issuer = field("issuer").ok_or_else(|| {
                Error::MalformedCredentialList(format!("item {i} has no string `issuer`"))
            })?;
            let audiences = match item.get("audiences") {
                Some(serde_json::Value::Array(a)) => a
                    .iter()
                    .filter_map(|v| v.as_str().map(str::to_owned))
                    .collect(),
                _ => {
                    return Err(Error::MalformedCredentialList(format!(
                        "item {i} has no `audiences` array"
                    )));
                }
            };
            Ok(ObservedCredential {
                id: field("id"),
                name: field("name").unwrap_or_else(|| format!("(item {i})")),
                issuer,
                subject: field("subject"),
                audiences,
                description: field("description"),
            })
        })
        .collect()
}

/// The credential name this tool would give a credential for `sub`: the same name
/// `subjects` and `plan` generate for that target, so a suggested fix matches what
/// a later `apply` expects.
pub(crate) fn suggested_name(kind: &ParsedSubject, iss: &str, sub: &str) -> String {
    let hash = [iss, sub];
    let name = match kind {
        ParsedSubject::Deployment {
            project,
            stack,
            operation,
            ..
        } => readable_name(&["deploy", project, stack, operation], &hash),
        ParsedSubject::Esc { project, env, .. } => readable_name(
            &["esc", project.as_deref().unwrap_or("default"), env],
            &hash,
        ),
        ParsedSubject::EscAnonymous { org } => readable_name(&["esc-yaml", org], &hash),
        ParsedSubject::EscAttributes { attributes, .. } => {
            let suffix = crate::target::attribute_suffix(
                attributes.iter().map(|(a, v)| (a.as_str(), v.as_str())),
            );
            let current = attributes
                .iter()
                .find(|(k, _)| k == "currentEnvironment.name")
                .map(|(_, v)| v.as_str());
            match current.map(|v| v.split_once('/').unwrap_or(("default", v))) {
                Some((project, env)) => readable_name(&["esc", project, env, &suffix], &hash),
                None => readable_name(&["esc", &suffix], &hash),
            }
        }
        ParsedSubject::Other => readable_name(&["pulumi-oidc", &short_hash(&hash, 10)], &hash),
    };
    name.to_string()
}
