//! The face kit: one serialisable result for each call a face makes, and the
//! constants faces show. The page, Python and C read these instead of restating
//! them, so a limit, an operation or an error number has one home.

use serde::Serialize;

use crate::claims::{Operation, PULUMI_CLOUD_ISSUER, SubjectAttribute};
use crate::credential::GraphCredentialBody;
use crate::error::{ErrorCode, Result};
use crate::plan::MAX_CREDENTIALS_PER_APP;
use crate::provision::{AuthKind, DEFAULT_CONCURRENCY, MAX_CONCURRENCY};
use crate::render::{RenderFormat, RenderOptions};
use crate::spec::TargetSpec;
use crate::target::RECOMMENDED_ATTRIBUTES;

/// What `credentials` returns on every face: the target, its credentials as Graph
/// bodies, and warnings.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CredentialsResult {
    pub target: String,
    pub credentials: Vec<GraphCredentialBody>,
    pub warnings: Vec<String>,
}

/// The credentials one target needs, as every face returns them.
pub fn credentials(spec: &TargetSpec) -> Result<CredentialsResult> {
    let generated = spec.credentials()?;
    Ok(CredentialsResult {
        credentials: generated
            .credentials
            .iter()
            .map(|c| c.to_graph_body())
            .collect(),
        target: generated.target,
        warnings: generated.warnings,
    })
}

/// Render options as a face receives them (`{clientId, tenantId, subscriptionId}` from
/// JSON, keyword arguments from Python). A blank value is absent on every face: the
/// render then shows its placeholder instead of an empty id.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RenderInput {
    pub client_id: Option<String>,
    pub tenant_id: Option<String>,
    pub subscription_id: Option<String>,
}

// As `#[derive(Deserialize)]` with camelCase keys, `default` and
// `deny_unknown_fields` read it (see `map_struct!`).
crate::fields::map_struct!(RenderInput, "struct RenderInput", {
    client_id: "clientId" default,
    tenant_id: "tenantId" default,
    subscription_id: "subscriptionId" default,
});

impl RenderInput {
    pub fn options(self) -> RenderOptions {
        let given = |v: Option<String>| v.filter(|s| !s.trim().is_empty());
        RenderOptions {
            client_id: given(self.client_id),
            tenant_id: given(self.tenant_id),
            subscription_id: given(self.subscription_id),
        }
    }
}

/// One error code as faces show it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ErrorCodeInfo {
    pub code: i32,
    pub name: &'static str,
    /// The caller's input (Python raises a `ValueError` subclass), not live state.
    pub input: bool,
}

/// The constants faces show.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Constants {
    pub version: &'static str,
    /// Federated credentials one app or managed identity holds at most.
    pub max_credentials_per_app: usize,
    pub default_issuer: &'static str,
    /// The Deployments operations, each with its own subject.
    pub operations: Vec<&'static str>,
    /// The ESC `subjectAttributes` allow-list.
    pub subject_attributes: Vec<&'static str>,
    /// The attributes ESC targets use unless told otherwise.
    pub recommended_subject_attributes: Vec<&'static str>,
    pub render_formats: Vec<&'static str>,
    pub auth_kinds: Vec<&'static str>,
    pub default_concurrency: usize,
    pub max_concurrency: usize,
    pub error_codes: Vec<ErrorCodeInfo>,
}

/// The constants, for every face.
pub fn constants() -> Constants {
    Constants {
        version: crate::VERSION,
        max_credentials_per_app: MAX_CREDENTIALS_PER_APP,
        default_issuer: PULUMI_CLOUD_ISSUER,
        operations: Operation::ALL.iter().map(|o| o.as_str()).collect(),
        subject_attributes: SubjectAttribute::ALL.iter().map(|a| a.as_str()).collect(),
        recommended_subject_attributes: RECOMMENDED_ATTRIBUTES.iter().map(|a| a.as_str()).collect(),
        render_formats: RenderFormat::ALL.iter().map(|f| f.as_str()).collect(),
        auth_kinds: AuthKind::NAMES.to_vec(),
        default_concurrency: DEFAULT_CONCURRENCY,
        max_concurrency: MAX_CONCURRENCY,
        error_codes: ErrorCode::ALL
            .iter()
            .map(|c| ErrorCodeInfo {
                code: c.as_i32(),
                name: c.name(),
                input: c.is_input_error(),
            })
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    mod derived {
        /// The derive `map_struct!` replaced, kept as the reference.
        #[derive(Debug, Default, serde::Deserialize)]
        #[serde(rename_all = "camelCase", default, deny_unknown_fields)]
        pub(super) struct RenderInput {
            client_id: Option<String>,
            tenant_id: Option<String>,
            subscription_id: Option<String>,
        }
    }

    #[test]
    fn render_options_read_as_the_derive_read_them() {
        for text in [
            "{}",
            r#"{"clientId": "c", "tenantId": "t", "subscriptionId": "s"}"#,
            r#"{"tenantId": null}"#,
            r#"{"clientId": 3}"#,
            r#"{"clientID": "c"}"#,
            r#"{"clientId": "a", "clientId": "b"}"#,
            r#""c""#,
            "null",
        ] {
            let mine = serde_json::from_str::<RenderInput>(text)
                .map(|r| format!("{r:?}"))
                .map_err(|e| e.to_string());
            let derived = serde_json::from_str::<derived::RenderInput>(text)
                .map(|r| format!("{r:?}"))
                .map_err(|e| e.to_string());
            assert_eq!(mine, derived, "{text}");
        }
        // The derive also took the fields as a list; nobody passes options so.
        assert!(serde_json::from_str::<RenderInput>(r#"["c"]"#).is_err());
    }

    #[test]
    fn blank_render_values_are_absent() {
        let input: RenderInput =
            serde_json::from_str(r#"{"clientId": " ", "tenantId": "t"}"#).expect("valid");
        let o = input.options();
        assert_eq!(o.client_id, None);
        assert_eq!(o.tenant_id.as_deref(), Some("t"));
        assert!(serde_json::from_str::<RenderInput>(r#"{"client": "x"}"#).is_err());
    }

    #[test]
    fn constants_name_every_error_code_once() {
        let c = constants();
        assert_eq!(c.error_codes.len(), ErrorCode::ALL.len());
        assert_eq!(c.max_credentials_per_app, 20);
        assert_eq!(c.operations, ["preview", "update", "refresh", "destroy"]);
    }
}
