//! The documented rules a managed identity request must meet, as pure functions: which
//! api-versions the emulator serves and what each carries, the names ARM accepts, ARM's
//! tag limits, and the limits of a federated credential. A refusal comes back as the
//! status, code and message the caller sends; where the code or wording is not from a
//! capture, it says so.

use axum::http::StatusCode;
use serde_json::{Map, Value};

/// A request the rules refuse: what ARM answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Refusal {
    pub(super) status: StatusCode,
    pub(super) code: &'static str,
    pub(super) message: String,
}

fn bad_request(code: &'static str, message: String) -> Refusal {
    Refusal {
        status: StatusCode::BAD_REQUEST,
        code,
        message,
    }
}

/// The api-versions served. Sources: Azure/azure-rest-api-specs
/// `specification/msi/resource-manager/Microsoft.ManagedIdentity/ManagedIdentity/stable/2023-01-31/ManagedIdentity.json`
/// (no `isolationScope`), `…/stable/2024-11-30/ManagedIdentity.json` (adds
/// `isolationScope`, the version azure-mgmt-msi 7.1.0 uses), `…/preview/2025-01-31-preview/`
/// (adds flexible credentials, `claimsMatchingExpression`, which the emulator refuses) and
/// the `…/examples/2025-05-31-preview/` answers (add `assignmentRestrictions`), the version
/// `az identity create/show/list/delete` use in azure-cli 2.91.0 (its generated
/// `command_modules/identity/aaz/latest/identity/_create.py`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Api {
    V20230131,
    V20241130,
    V20250131Preview,
    V20250531Preview,
}

pub(super) const SUPPORTED_API_VERSIONS: &[&str] = &[
    "2023-01-31",
    "2024-11-30",
    "2025-01-31-preview",
    "2025-05-31-preview",
];

impl Api {
    pub(super) fn parse(value: &str) -> Option<Self> {
        // ARM compares api-versions without regard to case ("2015-08-31-PREVIEW" is
        // how its own refusals spell a preview).
        match value.to_ascii_lowercase().as_str() {
            "2023-01-31" => Some(Self::V20230131),
            "2024-11-30" => Some(Self::V20241130),
            "2025-01-31-preview" => Some(Self::V20250131Preview),
            "2025-05-31-preview" => Some(Self::V20250531Preview),
            _ => None,
        }
    }

    pub(super) fn has_isolation_scope(self) -> bool {
        self != Self::V20230131
    }

    pub(super) fn has_assignment_restrictions(self) -> bool {
        self == Self::V20250531Preview
    }

    pub(super) fn has_flexible_credentials(self) -> bool {
        matches!(self, Self::V20250131Preview | Self::V20250531Preview)
    }
}

/// MicrosoftDocs/azure-docs `articles/azure-resource-manager/management/resource-name-rules.md`,
/// Microsoft.ManagedIdentity: `userAssignedIdentities`, 3-128, "Alphanumerics, hyphens,
/// and underscores. Start with letter or number." The REST specs give the name no
/// pattern (`ResourceNameParameter` in every version above), so the docs are the source:
/// `^[a-zA-Z0-9][a-zA-Z0-9_-]{2,127}$`.
pub(super) fn valid_identity_name(name: &str) -> bool {
    (3..=128).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Azure/azure-rest-api-specs `specification/common-types/resource-management/…/types.json`,
/// `ResourceGroupNameParameter`: 1-90 characters matching `^[-\w\._\(\)]+$` (letters and
/// digits of any script), and, per resource-name-rules.md, not ending in a period.
pub(super) fn valid_resource_group(name: &str) -> bool {
    let count = name.chars().count();
    (1..=90).contains(&count)
        && !name.ends_with('.')
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '-' | '_' | '.' | '(' | ')'))
}

/// The credential name pattern of every version's `FederatedIdentityCredentialResourceNameParameter`,
/// `^[a-zA-Z0-9]{1}[a-zA-Z0-9-_]{2,119}$` (3-120), as MicrosoftDocs/entra-docs
/// `docs/workload-id/workload-identity-federation-considerations.md` also states it.
pub(super) fn valid_credential_name(name: &str) -> bool {
    (3..=120).contains(&name.len())
        && name.starts_with(|c: char| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// "A maximum of 20 federated identity credentials can be added to an application or
/// user-assigned managed identity" (MicrosoftDocs/entra-docs
/// `docs/workload-id/includes/federated-credential-configuration-considerations.md`).
pub(super) const MAX_CREDENTIALS: usize = 20;

/// The length limit of issuer, subject and the audience (the same include: "a character
/// limit of 600").
const MAX_CLAIM: usize = 600;

/// ARM's tag limits, MicrosoftDocs/azure-docs
/// `articles/azure-resource-manager/management/tag-resources.md`: at most 50 tags, "the
/// tag name has a limit of 512 characters and the tag value has a limit of 256", names
/// without `<`, `>`, `%`, `&`, `\`, `?`, `/`. The codes and messages are ARM's as mirrored
/// in Azure/azure-powershell's Az.Migrate `New-AzMigrateServerReplication`
/// (`InvalidTags`, `InvalidTagName`, `InvalidTagNameCharacters`, `InvalidTagValueLength`);
/// `InvalidTagNameCharacters` also as captured in the azure-docs tagging article.
pub(super) fn check_tags(tags: Option<&Value>) -> Result<Map<String, Value>, Refusal> {
    let tags = match tags {
        None | Some(Value::Null) => return Ok(Map::new()),
        Some(Value::Object(m)) => m,
        Some(_) => {
            return Err(bad_request(
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: 'tags' must be an object of strings.".into(),
            ));
        }
    };
    if tags.len() > 50 {
        return Err(bad_request(
            "InvalidTags",
            format!(
                "Too many tags specified. Requested tag count - '{}'. Maximum number of tags allowed - '50'.",
                tags.len()
            ),
        ));
    }
    let mut reserved = Vec::new();
    let mut long_names = Vec::new();
    let mut long_values = Vec::new();
    for (name, value) in tags {
        let Some(value) = value.as_str() else {
            return Err(bad_request(
                "InvalidRequestContent",
                format!(
                    "The request content was invalid and could not be deserialized: the value of tag '{name}' must be a string."
                ),
            ));
        };
        if name.trim().is_empty() {
            return Err(bad_request(
                "InvalidTagName",
                "The tag name must be non-null, non-empty and non-whitespace only. Please provide an actual value.".into(),
            ));
        }
        if name
            .chars()
            .any(|c| matches!(c, '<' | '>' | '%' | '&' | '\\' | '?' | '/') || c.is_control())
        {
            reserved.push(name.as_str());
        }
        if name.chars().count() > 512 {
            long_names.push(name.as_str());
        }
        if value.chars().count() > 256 {
            long_values.push(value);
        }
    }
    if !reserved.is_empty() {
        return Err(bad_request(
            "InvalidTagNameCharacters",
            format!(
                "The tag names '{}' have reserved characters '<,>,%,&,\\,?,/' or control characters.",
                reserved.join(", ")
            ),
        ));
    }
    if !long_names.is_empty() {
        return Err(bad_request(
            "InvalidTagName",
            format!(
                "Tag key too large. Following tag name '{}' exceeded the maximum length. Maximum allowed length for tag name - '512' characters.",
                long_names.join(", ")
            ),
        ));
    }
    if !long_values.is_empty() {
        return Err(bad_request(
            "InvalidTagValueLength",
            format!(
                "Tag value too large. Following tag value '{}' exceeded the maximum length. Maximum allowed length for tag value - '256' characters.",
                long_values.join(", ")
            ),
        ));
    }
    Ok(tags.clone())
}

/// The properties of a federated credential PUT, validated.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct CredentialFields {
    pub(super) issuer: String,
    pub(super) subject: String,
    pub(super) audience: String,
}

/// Sources, in the order checked:
/// - a missing issuer, subject or audiences: 400 `BadRequest` "The request format was
///   unexpected. Federated Identity Credential must specify 'issuer', 'subject' and
///   'audience'." as captured in zioproto/istio-aks-example#6;
/// - other than one audience: 400 `InvalidFederatedIdentityCredentialsAudienceLength`
///   "Federated identity credentials must have exactly 1 audience." as captured in
///   kubernetes-sigs/secrets-store-csi-driver#1840;
/// - over 600 characters or surrounding whitespace (the entra-docs include above):
///   ASSUMPTION, code `BadRequest` and the emulator's wording.
///
/// `claimsMatchingExpression` (flexible credentials, preview versions) is refused: it
/// accepts only GitHub, GitLab and Terraform Cloud issuers (MicrosoftDocs/entra-docs
/// `workload-identities-flexible-federated-identity-credentials.md`), never Pulumi's.
pub(super) fn check_credential(
    body: &Map<String, Value>,
    api: Api,
) -> Result<CredentialFields, Refusal> {
    let props = match body.get("properties") {
        None | Some(Value::Null) => None,
        Some(Value::Object(p)) => Some(p),
        Some(_) => {
            return Err(bad_request(
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: 'properties' must be an object.".into(),
            ));
        }
    };
    let field = |key: &str| props.and_then(|p| p.get(key)).filter(|v| !v.is_null());
    // An empty object is no expression: the Azure CLI's generated create command sends
    // the member whether or not an expression was asked for.
    let expression = field("claimsMatchingExpression")
        .filter(|v| !v.as_object().is_some_and(serde_json::Map::is_empty));
    if expression.is_some() {
        let message = if api.has_flexible_credentials() {
            "The emulator does not serve flexible federated identity credentials (claimsMatchingExpression)."
        } else {
            "The request content was invalid and could not be deserialized: could not find member 'claimsMatchingExpression'."
        };
        return Err(bad_request("BadRequest", message.into()));
    }
    let text = |key: &str| -> Result<Option<String>, Refusal> {
        match field(key) {
            None => Ok(None),
            Some(Value::String(s)) if s.is_empty() => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(bad_request(
                "InvalidRequestContent",
                format!(
                    "The request content was invalid and could not be deserialized: '{key}' must be a string."
                ),
            )),
        }
    };
    let issuer = text("issuer")?;
    let subject = text("subject")?;
    let audiences = match field("audiences") {
        None => None,
        Some(Value::Array(a)) => Some(
            a.iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| {
                    bad_request(
                        "InvalidRequestContent",
                        "The request content was invalid and could not be deserialized: 'audiences' must be an array of strings.".into(),
                    )
                })?,
        ),
        Some(_) => {
            return Err(bad_request(
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: 'audiences' must be an array of strings.".into(),
            ));
        }
    };
    let (Some(issuer), Some(subject), Some(audiences)) = (issuer, subject, audiences) else {
        return Err(bad_request(
            "BadRequest",
            "The request format was unexpected. Federated Identity Credential must specify 'issuer', 'subject' and 'audience'.".into(),
        ));
    };
    let [audience] = audiences.as_slice() else {
        return Err(bad_request(
            "InvalidFederatedIdentityCredentialsAudienceLength",
            "Federated identity credentials must have exactly 1 audience.".into(),
        ));
    };
    for (name, value) in [
        ("issuer", &issuer),
        ("subject", &subject),
        ("audience", audience),
    ] {
        if value.is_empty() || value.chars().count() > MAX_CLAIM || value.trim() != value {
            return Err(bad_request(
                "BadRequest",
                format!(
                    "The federated identity credential's {name} must be 1 to {MAX_CLAIM} characters without leading or trailing whitespace."
                ),
            ));
        }
    }
    Ok(CredentialFields {
        issuer,
        subject,
        audience: audience.clone(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn identity_names_follow_the_naming_rules() {
        for good in ["abc", "a-b_c", "0ab", &"a".repeat(128)] {
            assert!(valid_identity_name(good), "{good}");
        }
        for bad in [
            "ab",
            "-ab",
            "_ab",
            "a.bc",
            "a bc",
            "ab/c",
            &"a".repeat(129),
            "äbc",
        ] {
            assert!(!valid_identity_name(bad), "{bad}");
        }
    }

    #[test]
    fn resource_group_names_follow_the_common_types() {
        for good in ["rg", "my.rg_(1)-x", "r", "grüße", &"a".repeat(90)] {
            assert!(valid_resource_group(good), "{good}");
        }
        for bad in ["", "rg.", "a b", "rg/x", "rg#", &"a".repeat(91)] {
            assert!(!valid_resource_group(bad), "{bad}");
        }
    }

    #[test]
    fn credential_names_follow_the_spec_pattern() {
        assert!(valid_credential_name("abc"));
        assert!(valid_credential_name(&"a".repeat(120)));
        assert!(!valid_credential_name(&"a".repeat(121)));
        assert!(!valid_credential_name("-abc"));
        assert!(!valid_credential_name("ab"));
        assert!(!valid_credential_name("a.bc"));
    }

    #[test]
    fn tags_follow_arm() {
        assert_eq!(check_tags(None).unwrap(), Map::new());
        let ok = json!({"team": "platform", "a": ""});
        assert_eq!(check_tags(Some(&ok)).unwrap().len(), 2);
        let code = |v: Value| check_tags(Some(&v)).unwrap_err().code;
        assert_eq!(code(json!({"a/b": "x"})), "InvalidTagNameCharacters");
        assert_eq!(code(json!({"a\u{1}": "x"})), "InvalidTagNameCharacters");
        assert_eq!(code(json!({"x".repeat(513): "x"})), "InvalidTagName");
        assert_eq!(code(json!({"x": "v".repeat(257)})), "InvalidTagValueLength");
        assert_eq!(code(json!({" ": "x"})), "InvalidTagName");
        assert_eq!(code(json!({"x": 1})), "InvalidRequestContent");
        assert_eq!(code(json!(["x"])), "InvalidRequestContent");
        let many: Map<String, Value> = (0..51).map(|i| (format!("t{i}"), json!("v"))).collect();
        assert_eq!(code(Value::Object(many)), "InvalidTags");
        let fifty: Map<String, Value> = (0..50).map(|i| (format!("t{i}"), json!("v"))).collect();
        assert!(check_tags(Some(&Value::Object(fifty))).is_ok());
        assert!(check_tags(Some(&json!({"x".repeat(512): "v".repeat(256)}))).is_ok());
    }

    #[test]
    fn credential_bodies_follow_the_documented_rules() {
        let body = |props: Value| json!({ "properties": props }).as_object().unwrap().clone();
        let good = body(json!({"issuer": "https://i", "subject": "s", "audiences": ["a"]}));
        assert_eq!(
            check_credential(&good, Api::V20241130).unwrap(),
            CredentialFields {
                issuer: "https://i".into(),
                subject: "s".into(),
                audience: "a".into()
            }
        );
        let code = |props: Value| {
            check_credential(&body(props), Api::V20241130)
                .unwrap_err()
                .code
        };
        assert_eq!(
            code(json!({"issuer": "https://i", "audiences": ["a"]})),
            "BadRequest"
        );
        assert_eq!(
            code(json!({"issuer": "https://i", "subject": "s", "audiences": []})),
            "InvalidFederatedIdentityCredentialsAudienceLength"
        );
        assert_eq!(
            code(json!({"issuer": "https://i", "subject": "s", "audiences": ["a", "b"]})),
            "InvalidFederatedIdentityCredentialsAudienceLength"
        );
        assert_eq!(
            code(json!({"issuer": "https://i", "subject": " s", "audiences": ["a"]})),
            "BadRequest"
        );
        assert_eq!(
            code(json!({"issuer": "https://i", "subject": "s".repeat(601), "audiences": ["a"]})),
            "BadRequest"
        );
        assert_eq!(
            code(json!({"issuer": 1, "subject": "s", "audiences": ["a"]})),
            "InvalidRequestContent"
        );
        let empty_expression = body(json!({"issuer": "https://i", "subject": "s",
            "audiences": ["a"], "claimsMatchingExpression": {}}));
        assert!(check_credential(&empty_expression, Api::V20250131Preview).is_ok());
        let flexible = body(json!({"issuer": "https://i", "audiences": ["a"],
            "claimsMatchingExpression": {"value": "x", "languageVersion": 1}}));
        assert_eq!(
            check_credential(&flexible, Api::V20250131Preview)
                .unwrap_err()
                .code,
            "BadRequest"
        );
        assert!(check_credential(&json!({}).as_object().unwrap().clone(), Api::V20230131).is_err());
    }

    #[test]
    fn api_versions_and_what_they_carry() {
        assert_eq!(Api::parse("2024-11-30"), Some(Api::V20241130));
        assert_eq!(
            Api::parse("2025-01-31-PREVIEW"),
            Some(Api::V20250131Preview)
        );
        assert_eq!(Api::parse("2018-11-30"), None);
        assert!(!Api::V20230131.has_isolation_scope());
        assert!(Api::V20241130.has_isolation_scope());
        assert!(Api::V20250531Preview.has_assignment_restrictions());
        assert!(!Api::V20241130.has_assignment_restrictions());
        assert_eq!(SUPPORTED_API_VERSIONS.len(), 4);
    }
}
