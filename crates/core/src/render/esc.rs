//! The ESC environment definition that logs in to Azure with OIDC.
//!
//! Shape from `pulumi-oidc-facts.md` §2.4 (Pulumi docs `esc/providers/login/azure-login.md`):
//! `values.azure.login` holds `fn::open::azure-login` with `clientId, tenantId,
//! subscriptionId, oidc: true[, subjectAttributes]` in that order, and
//! `values.environmentVariables` exports the `ARM_*` variables the Azure providers read.
//! `subscriptionId` is the bare GUID because it flows into `ARM_SUBSCRIPTION_ID`.
//! Emitted through a YAML writer (`super::yaml`, the same bytes serde_norway writes),
//! never by concatenation.

use super::yaml::{Map as Mapping, Node as Value};
use crate::config::KeyVaultSecrets;
use crate::target::{EscSubjectForm, EscTarget};

/// The values an ESC environment needs to log in; any may be a placeholder before apply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EscLogin<'a> {
    pub client_id: &'a str,
    pub tenant_id: &'a str,
    /// `None` writes neither `subscriptionId` nor `ARM_SUBSCRIPTION_ID`, as for a
    /// tenant-scoped login.
    pub subscription_id: Option<&'a str>,
}

fn s(v: &str) -> Value {
    Value::Str(v.to_owned())
}

/// The environment definition for `target`, as YAML text.
pub fn esc_environment_yaml(
    target: &EscTarget,
    login: &EscLogin<'_>,
    key_vault: Option<&KeyVaultSecrets>,
) -> String {
    let mut provider = Mapping::new();
    provider.insert("clientId", s(login.client_id));
    provider.insert("tenantId", s(login.tenant_id));
    if let Some(sub) = login.subscription_id {
        provider.insert("subscriptionId", s(sub));
    }
    provider.insert("oidc", Value::Bool(true));
    if let EscSubjectForm::Attributes { attributes, .. } = &target.subject {
        provider.insert(
            "subjectAttributes",
            Value::Seq(attributes.iter().map(|a| a.as_str().to_owned()).collect()),
        );
    }
    let mut login_node = Mapping::new();
    login_node.insert("fn::open::azure-login", Value::Map(provider));

    let mut azure = Mapping::new();
    azure.insert("login", Value::Map(login_node));
    if let Some(kv) = key_vault {
        let mut get = Mapping::new();
        for secret in &kv.secrets {
            let mut one = Mapping::new();
            one.insert("name", s(secret));
            get.insert(secret, Value::Map(one));
        }
        let mut secrets = Mapping::new();
        secrets.insert("login", s("${azure.login}"));
        secrets.insert("vault", s(&kv.vault));
        secrets.insert("get", Value::Map(get));
        let mut node = Mapping::new();
        node.insert("fn::open::azure-secrets", Value::Map(secrets));
        azure.insert("secrets", Value::Map(node));
    }

    let mut vars = Mapping::new();
    vars.insert("ARM_USE_OIDC", s("true"));
    vars.insert("ARM_CLIENT_ID", s("${azure.login.clientId}"));
    vars.insert("ARM_TENANT_ID", s("${azure.login.tenantId}"));
    if login.subscription_id.is_some() {
        vars.insert("ARM_SUBSCRIPTION_ID", s("${azure.login.subscriptionId}"));
    }
    vars.insert("ARM_OIDC_TOKEN", s("${azure.login.oidc.token}"));

    let mut values = Mapping::new();
    values.insert("azure", Value::Map(azure));
    values.insert("environmentVariables", Value::Map(vars));
    let mut root = Mapping::new();
    root.insert("values", Value::Map(values));
    super::yaml::to_string(&root)
}

#[cfg(test)]
mod tests {
    use super::{EscLogin, esc_environment_yaml};
    use crate::names::{EscEnvRef, OrgName};
    use crate::target::{EscSubjectForm, EscTarget};
    use serde_norway::Value;

    fn s(v: &str) -> Value {
        Value::String(v.to_owned())
    }
    use crate::target::RECOMMENDED_ATTRIBUTES;

    #[test]
    fn yaml_has_the_documented_shape_and_parses_back() {
        let t = EscTarget::new(
            OrgName::new("contoso").unwrap(),
            EscEnvRef::parse("azure/prod").unwrap(),
            EscSubjectForm::Attributes {
                attributes: RECOMMENDED_ATTRIBUTES.to_vec(),
                user: None,
                root_env: None,
            },
            false,
        )
        .unwrap();
        let yaml = esc_environment_yaml(
            &t,
            &EscLogin {
                client_id: "11111111-1111-1111-1111-111111111111",
                tenant_id: "22222222-2222-2222-2222-222222222222",
                subscription_id: Some("33333333-3333-3333-3333-333333333333"),
            },
            None,
        );
        let v: Value = serde_norway::from_str(&yaml).unwrap();
        let p = &v["values"]["azure"]["login"]["fn::open::azure-login"];
        assert_eq!(p["oidc"], Value::Bool(true));
        assert_eq!(p["subjectAttributes"][0], s("currentEnvironment.name"));
        assert_eq!(
            v["values"]["environmentVariables"]["ARM_USE_OIDC"],
            s("true")
        );
        assert_eq!(
            v["values"]["environmentVariables"]["ARM_OIDC_TOKEN"],
            s("${azure.login.oidc.token}")
        );
        let keys: Vec<_> = p
            .as_mapping()
            .unwrap()
            .keys()
            .filter_map(|k| k.as_str())
            .collect();
        assert_eq!(
            keys,
            [
                "clientId",
                "tenantId",
                "subscriptionId",
                "oidc",
                "subjectAttributes"
            ]
        );
    }
}
