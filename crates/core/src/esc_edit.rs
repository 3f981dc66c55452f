//! Editing a live ESC environment definition without clobbering what is not ours.
//!
//! The tool owns `values.azure.login`, `values.azure.secrets` when it writes a Key
//! Vault block, and the `ARM_*` variables it exports; every other key, including the
//! rest of `values.azure`, is kept as it was. YAML comments do not survive a rewrite
//! (the YAML library keeps data, not formatting).

use crate::config::KeyVaultSecrets;
use crate::diff::ObservedEscEnvironment;
use crate::error::{Error, Result};
use crate::render::esc::{EscLogin, esc_environment_yaml};
use crate::target::EscTarget;
use serde_norway::{Mapping, Value};

/// The variables the tool exports; `ARM_SUBSCRIPTION_ID` only with a subscription.
const OWNED_VARIABLES: [&str; 5] = [
    "ARM_USE_OIDC",
    "ARM_CLIENT_ID",
    "ARM_TENANT_ID",
    "ARM_SUBSCRIPTION_ID",
    "ARM_OIDC_TOKEN",
];

fn key(k: &str) -> Value {
    Value::String(k.to_owned())
}

fn parse(yaml: &str, what: &str) -> Result<Mapping> {
    if yaml.trim().is_empty() {
        return Ok(Mapping::new());
    }
    match serde_norway::from_str::<Value>(yaml) {
        Ok(Value::Mapping(m)) => Ok(m),
        Ok(Value::Null) => Ok(Mapping::new()),
        Ok(_) => Err(Error::InvalidConfig {
            message: format!("{what}: the definition is not a YAML mapping"),
            location: None,
        }),
        Err(e) => Err(Error::InvalidConfig {
            message: crate::error::tidy(&format!("{what}: the definition is not valid YAML: {e}")),
            location: None,
        }),
    }
}

fn child<'a>(m: &'a Mapping, k: &str) -> Option<&'a Mapping> {
    m.get(key(k)).and_then(Value::as_mapping)
}

fn child_mut<'a>(m: &'a mut Mapping, k: &str) -> &'a mut Mapping {
    let entry = m.entry(key(k)).or_insert(Value::Mapping(Mapping::new()));
    if !entry.is_mapping() {
        *entry = Value::Mapping(Mapping::new());
    }
    match entry {
        Value::Mapping(inner) => inner,
        _ => unreachable!("replaced by a mapping above"),
    }
}

fn login_provider(root: &Mapping) -> Option<&Mapping> {
    child(root, "values")
        .and_then(|v| child(v, "azure"))
        .and_then(|a| child(a, "login"))
        .and_then(|l| child(l, "fn::open::azure-login"))
}

/// What an environment's `fn::open::azure-login` block says, for the diff.
pub fn read_esc_login(
    yaml: &str,
    org: &str,
    project: &str,
    env: &str,
) -> Result<ObservedEscEnvironment> {
    let root = parse(yaml, &format!("ESC environment {org}/{project}/{env}"))?;
    let provider = login_provider(&root);
    let text = |k: &str| {
        provider
            .and_then(|p| p.get(key(k)))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    Ok(ObservedEscEnvironment {
        org: org.to_owned(),
        project: project.to_owned(),
        env: env.to_owned(),
        client_id: text("clientId"),
        tenant_id: text("tenantId"),
        subscription_id: text("subscriptionId"),
        oidc: provider
            .and_then(|p| p.get(key("oidc")))
            .and_then(Value::as_bool),
        subject_attributes: provider
            .and_then(|p| p.get(key("subjectAttributes")))
            .and_then(Value::as_sequence)
            .map(|s| {
                s.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
    })
}

/// `existing` with the tool's login block, Key Vault block and variables set to what
/// `target` needs; everything else unchanged.
pub fn merge_esc_login(
    existing: &str,
    target: &EscTarget,
    login: &EscLogin<'_>,
    key_vault: Option<&KeyVaultSecrets>,
) -> Result<String> {
    let mut root = parse(
        existing,
        &format!("ESC environment {}/{}", target.org, target.env),
    )?;
    let ours = parse(&esc_environment_yaml(target, login, key_vault), "generated")?;
    let our_values = child(&ours, "values").cloned().unwrap_or_default();
    let our_azure = child(&our_values, "azure").cloned().unwrap_or_default();
    let our_vars = child(&our_values, "environmentVariables")
        .cloned()
        .unwrap_or_default();

    let values = child_mut(&mut root, "values");
    let azure = child_mut(values, "azure");
    for (k, v) in &our_azure {
        azure.insert(k.clone(), v.clone());
    }
    let vars = child_mut(values, "environmentVariables");
    for name in OWNED_VARIABLES {
        match our_vars.get(key(name)) {
            Some(v) => {
                vars.insert(key(name), v.clone());
            }
            None => {
                vars.remove(key(name));
            }
        }
    }
    Ok(serde_norway::to_string(&Value::Mapping(root)).unwrap_or_default())
}

/// `existing` without the tool's blocks, when its login names `client_id`; `None`
/// when the environment logs in with some other app (then it is not ours to edit).
pub fn remove_esc_login(existing: &str, client_id: &str) -> Result<Option<String>> {
    let mut root = parse(existing, "ESC environment")?;
    let ours = login_provider(&root)
        .and_then(|p| p.get(key("clientId")))
        .and_then(Value::as_str)
        .is_some_and(|c| c.eq_ignore_ascii_case(client_id));
    if !ours {
        return Ok(None);
    }
    let values = child_mut(&mut root, "values");
    let azure = child_mut(values, "azure");
    azure.remove(key("login"));
    let secrets_are_ours = child(azure, "secrets")
        .and_then(|s| child(s, "fn::open::azure-secrets"))
        .and_then(|s| s.get(key("login")))
        .and_then(Value::as_str)
        == Some("${azure.login}");
    if secrets_are_ours {
        azure.remove(key("secrets"));
    }
    if azure.is_empty() {
        values.remove(key("azure"));
    }
    let vars = child_mut(values, "environmentVariables");
    for name in OWNED_VARIABLES {
        vars.remove(key(name));
    }
    if vars.is_empty() {
        values.remove(key("environmentVariables"));
    }
    if values.is_empty() {
        root.remove(key("values"));
    }
    if root.is_empty() {
        return Ok(Some(String::new()));
    }
    Ok(Some(
        serde_norway::to_string(&Value::Mapping(root)).unwrap_or_default(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::names::{EscEnvRef, OrgName};
    use crate::target::{EscSubjectForm, RECOMMENDED_ATTRIBUTES};

    fn target() -> EscTarget {
        EscTarget::new(
            OrgName::new("contoso").unwrap(),
            EscEnvRef::parse("azure/prod").unwrap(),
            EscSubjectForm::Attributes {
                attributes: RECOMMENDED_ATTRIBUTES.to_vec(),
                user: None,
                root_env: None,
            },
            false,
        )
        .unwrap()
    }

    const LOGIN: EscLogin<'static> = EscLogin {
        client_id: "11111111-1111-1111-1111-111111111111",
        tenant_id: "22222222-2222-2222-2222-222222222222",
        subscription_id: Some("33333333-3333-3333-3333-333333333333"),
    };

    const THEIRS: &str = "imports: [base]\nvalues:\n  azure:\n    region: westeurope\n  environmentVariables:\n    ARM_CLIENT_ID: old\n    OTHER: keep\n  pulumiConfig:\n    azure-native:location: westeurope\n";

    #[test]
    fn merge_keeps_foreign_keys_and_reads_back() {
        let merged = merge_esc_login(THEIRS, &target(), &LOGIN, None).unwrap();
        let v: Value = serde_norway::from_str(&merged).unwrap();
        assert_eq!(v["imports"][0], key("base"));
        assert_eq!(v["values"]["azure"]["region"], key("westeurope"));
        assert_eq!(v["values"]["environmentVariables"]["OTHER"], key("keep"));
        assert_eq!(
            v["values"]["environmentVariables"]["ARM_CLIENT_ID"],
            key("${azure.login.clientId}")
        );
        assert_eq!(
            v["values"]["pulumiConfig"]["azure-native:location"],
            key("westeurope")
        );
        let seen = read_esc_login(&merged, "contoso", "azure", "prod").unwrap();
        assert_eq!(seen.client_id.as_deref(), Some(LOGIN.client_id));
        assert_eq!(seen.oidc, Some(true));
        assert_eq!(seen.subject_attributes, ["currentEnvironment.name"]);
        // Merging again changes nothing.
        assert_eq!(
            merge_esc_login(&merged, &target(), &LOGIN, None).unwrap(),
            merged
        );
    }

    #[test]
    fn remove_restores_foreign_keys_only_for_our_client() {
        let merged = merge_esc_login(THEIRS, &target(), &LOGIN, None).unwrap();
        assert_eq!(remove_esc_login(&merged, "someone-else").unwrap(), None);
        let removed = remove_esc_login(&merged, LOGIN.client_id).unwrap().unwrap();
        let v: Value = serde_norway::from_str(&removed).unwrap();
        assert!(v["values"]["azure"].get("login").is_none());
        assert_eq!(v["values"]["azure"]["region"], key("westeurope"));
        assert_eq!(v["values"]["environmentVariables"]["OTHER"], key("keep"));
        assert!(
            v["values"]["environmentVariables"]
                .get("ARM_CLIENT_ID")
                .is_none()
        );
        // An environment that held only our blocks becomes empty.
        let only = merge_esc_login("", &target(), &LOGIN, None).unwrap();
        assert_eq!(
            remove_esc_login(&only, LOGIN.client_id).unwrap().unwrap(),
            ""
        );
    }

    #[test]
    fn empty_and_invalid_definitions() {
        let seen = read_esc_login("", "o", "p", "e").unwrap();
        assert_eq!(seen.client_id, None);
        assert!(read_esc_login("- a list", "o", "p", "e").is_err());
        assert!(read_esc_login("values: [", "o", "p", "e").is_err());
    }
}
