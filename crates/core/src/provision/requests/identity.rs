//! ARM user-assigned managed identities and their federated credentials
//! (`Microsoft.ManagedIdentity`, field-notes-2026-12.md §3).

use crate::json_value::object;
use serde_json::Value;

use super::{AppIds, enc};
use crate::credential::FederatedCredential;
use crate::diff::{ObservedApp, ObservedCredential};
use crate::error::Result;
use crate::provision::request::{Answer, Method, Request, Service};

/// The current stable api-version of `Microsoft.ManagedIdentity` (azure-rest-api-specs
/// `specification/msi/resource-manager/Microsoft.ManagedIdentity/stable/2024-11-30`;
/// the version azure-mgmt-msi 7.1.0 sends).
pub const MSI_API_VERSION: &str = "2024-11-30";

/// The identity's ARM tags: each of the plan's tags becomes a tag name with an empty
/// value (ARM tags are a map; `:` is allowed in a name, `<>%&\?/` are not).
pub fn identity_tags(tags: &[String]) -> Value {
    let mut names: Vec<&str> = tags.iter().map(String::as_str).collect();
    // By name, whatever order the plan gives them in; serde_json's map keeps the
    // order it is given.
    names.sort_unstable();
    names.dedup();
    Value::Object(
        names
            .into_iter()
            .map(|t| (t.to_owned(), Value::from("")))
            .collect(),
    )
}

fn tag_names(v: &Value) -> Vec<String> {
    v.as_object()
        .map(|m| m.keys().cloned().collect())
        .unwrap_or_default()
}

/// Read one identity (`read_optional`: 404 → `None`).
pub fn get_identity(id: &str) -> Request {
    Request::new(
        Service::Arm,
        format!("read managed identity {}", last(id)),
        Method::Get,
        format!("{id}?api-version={MSI_API_VERSION}"),
    )
}

/// Create or update the identity with `location` and `tags` (200 or 201, the
/// resource in the body). Read with [`read_identity_ids`].
pub fn put_identity(id: &str, location: &str, tags: &[String]) -> Request {
    Request::new(
        Service::Arm,
        format!("create or update managed identity {}", last(id)),
        Method::Put,
        format!("{id}?api-version={MSI_API_VERSION}"),
    )
    .json(object(vec![
        ("location", location.into()),
        ("tags", identity_tags(tags)),
    ]))
}

/// Put `tags` on an existing identity, keeping the others it has.
pub fn patch_identity_tags(id: &str, live: &[String], tags: &[String]) -> Request {
    let mut all: Vec<String> = live.to_vec();
    for t in tags {
        if !all.contains(t) {
            all.push(t.clone());
        }
    }
    Request::new(
        Service::Arm,
        format!("tag managed identity {}", last(id)),
        Method::Patch,
        format!("{id}?api-version={MSI_API_VERSION}"),
    )
    .json(object(vec![("tags", identity_tags(&all))]))
}

/// Delete the identity; its credentials go with it (200, or 204 when it was gone).
pub fn delete_identity(id: &str) -> Request {
    Request::new(
        Service::Arm,
        format!("delete managed identity {}", last(id)),
        Method::Delete,
        format!("{id}?api-version={MSI_API_VERSION}"),
    )
}

/// Every user-assigned identity in a resource group, given by its ARM id (paged with
/// `nextLink`).
pub fn list_identities(resource_group: &str) -> Request {
    Request::new(
        Service::Arm,
        format!("list managed identities in {resource_group}"),
        Method::Get,
        format!(
            "{resource_group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities?api-version={MSI_API_VERSION}"
        ),
    )
}

/// The identity's ids: its ARM id as `id`, its client id as `app_id`, and its
/// principal id.
pub fn read_identity_ids(answer: Answer, request: &Request) -> Result<(AppIds, String)> {
    if !matches!(answer.status, 200 | 201) {
        return Err(answer.into_error(request.service, &request.operation));
    }
    let v = answer.json();
    identity_ids(&v).ok_or_else(|| {
        crate::error::Error::Interrupted(format!(
            "{}: the answer lacks the identity's id, clientId or principalId",
            request.operation
        ))
    })
}

fn identity_ids(v: &Value) -> Option<(AppIds, String)> {
    let p = &v["properties"];
    Some((
        AppIds {
            id: v["id"].as_str()?.to_owned(),
            app_id: p["clientId"].as_str()?.to_owned(),
        },
        p["principalId"].as_str()?.to_owned(),
    ))
}

/// An identity as the diff reads it, credentials and roles still to be filled in.
pub fn observed_identity(v: &Value) -> Option<ObservedApp> {
    let (ids, principal) = identity_ids(v)?;
    let name = v["name"].as_str()?.to_owned();
    Some(ObservedApp {
        identity_id: Some(ids.id.clone()),
        id: ids.id,
        app_id: ids.app_id,
        unique_name: Some(name.clone()),
        display_name: name,
        tags: tag_names(&v["tags"]),
        service_principal_id: Some(principal),
        ..ObservedApp::default()
    })
}

fn credentials_path(identity: &str) -> String {
    format!("{identity}/federatedIdentityCredentials")
}

/// Every credential of the identity (paged with `nextLink`).
pub fn list_identity_credentials(identity: &str, label: &str) -> Request {
    Request::new(
        Service::Arm,
        format!("list federated credentials of managed identity {label}"),
        Method::Get,
        format!(
            "{}?api-version={MSI_API_VERSION}",
            credentials_path(identity)
        ),
    )
}

/// Credentials as the diff reads them, from the items of an ARM list (no
/// description: ARM has none).
pub fn observed_identity_credentials(items: &[Value]) -> Vec<ObservedCredential> {
    items
        .iter()
        .map(|v| {
            let p = &v["properties"];
            ObservedCredential {
                id: v["id"].as_str().map(str::to_owned),
                name: v["name"].as_str().unwrap_or_default().to_owned(),
                issuer: p["issuer"].as_str().unwrap_or_default().to_owned(),
                subject: p["subject"].as_str().map(str::to_owned),
                audiences: p["audiences"]
                    .as_array()
                    .map(|a| {
                        a.iter()
                            .filter_map(Value::as_str)
                            .map(str::to_owned)
                            .collect()
                    })
                    .unwrap_or_default(),
                description: None,
            }
        })
        .collect()
}

/// Create or correct one credential (PUT by name: 201 new, 200 updated).
pub fn put_identity_credential(
    identity: &str,
    label: &str,
    credential: &FederatedCredential,
) -> Request {
    Request::new(
        Service::Arm,
        format!(
            "write federated credential {} of managed identity {label}",
            credential.name
        ),
        Method::Put,
        format!(
            "{}/{}?api-version={MSI_API_VERSION}",
            credentials_path(identity),
            enc(credential.name.as_str())
        ),
    )
    .json(object(vec![(
        "properties",
        object(vec![
            ("issuer", credential.issuer.as_str().into()),
            ("subject", credential.subject.as_str().into()),
            (
                "audiences",
                Value::Array(vec![credential.audience.as_str().into()]),
            ),
        ]),
    )]))
}

/// Delete one credential (200, or 204 when it was gone).
pub fn delete_identity_credential(identity: &str, label: &str, name: &str) -> Request {
    Request::new(
        Service::Arm,
        format!("delete federated credential {name} of managed identity {label}"),
        Method::Delete,
        format!(
            "{}/{}?api-version={MSI_API_VERSION}",
            credentials_path(identity),
            enc(name)
        ),
    )
}

fn last(id: &str) -> &str {
    id.rsplit('/').next().unwrap_or(id)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provision::Endpoints;
    use serde_json::json;

    #[test]
    fn identity_requests_address_arm() {
        let e = Endpoints::default().all_at("https://127.0.0.1:1");
        let id = "/subscriptions/s/resourceGroups/rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/pulumi-oidc-x-1";
        let r = put_identity(id, "westeurope", &["pulumi-azure-oidc".to_owned()]);
        assert_eq!(
            r.url(&e),
            format!("https://127.0.0.1:1{id}?api-version=2024-11-30")
        );
        let answer = Answer {
            status: 201,
            headers: Vec::new(),
            body: serde_json::to_vec(&json!({
                "id": id, "name": "pulumi-oidc-x-1", "tags": {"pulumi-azure-oidc": ""},
                "properties": {"clientId": "c", "principalId": "p", "tenantId": "t"}
            }))
            .unwrap_or_default(),
        };
        let seen = observed_identity(&answer.json()).expect("an identity");
        assert_eq!(seen.app_id, "c");
        assert_eq!(seen.service_principal_id.as_deref(), Some("p"));
        assert_eq!(seen.tags, ["pulumi-azure-oidc"]);
        let (ids, principal) = read_identity_ids(answer, &r).expect("ids");
        assert_eq!((ids.app_id.as_str(), principal.as_str()), ("c", "p"));
    }
}
