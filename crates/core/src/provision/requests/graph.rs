//! Microsoft Graph: applications, service principals and federated identity credentials.

use crate::json_value::{object, strings};
use serde_json::Value;

use super::{AppIds, Upserted, enc, quote, read_optional};
use crate::credential::FederatedCredential;
use crate::diff::ObservedCredential;
use crate::error::{Error, Result};
use crate::provision::request::{Answer, Method, Request, Service, WaitOut};

fn graph(op: String, method: Method, path: String) -> Request {
    Request::new(Service::Graph, op, method, path)
}

fn malformed(op: &str) -> Error {
    Error::Service {
        service: Service::Graph.name(),
        operation: op.to_owned(),
        status: 200,
        code: "unreadable_response".into(),
        message: "the answer lacks id or appId".into(),
    }
}

fn app_path(unique_name: &str) -> String {
    format!("applications(uniqueName='{}')", quote(unique_name))
}

/// The app with this uniqueName (read with [`read_optional`]).
pub fn get_app(unique_name: &str) -> Request {
    graph(
        format!("read app {unique_name}"),
        Method::Get,
        app_path(unique_name),
    )
}

/// The app with this application (client) id (read with [`read_optional`]).
pub fn get_app_by_client_id(client_id: &str) -> Request {
    graph(
        format!("read app {client_id}"),
        Method::Get,
        format!("applications(appId='{}')", quote(client_id)),
    )
}

/// The app with this object id (read with [`read_optional`]); `doctor` tries it when
/// a client id names no app, since the two ids are easily mixed up.
pub fn get_app_by_object_id(object_id: &str) -> Request {
    graph(
        format!("read app {object_id}"),
        Method::Get,
        format!("applications/{}", enc(object_id)),
    )
}

/// Upsert by uniqueName (`Prefer: create-if-missing`, azure-facts.md §1.1).
pub fn upsert_app(unique_name: &str, body: Value) -> Request {
    graph(
        format!("create app {unique_name}"),
        Method::Patch,
        app_path(unique_name),
    )
    .json(body)
    .header("prefer", "create-if-missing")
}

pub fn read_upserted_app(answer: Answer, request: &Request) -> Result<Upserted<AppIds>> {
    match answer.status {
        201 => AppIds::of(&answer.json())
            .map(Upserted::Created)
            .ok_or_else(|| malformed(&request.operation)),
        204 => Ok(Upserted::Existed),
        _ => Err(answer.into_error(request.service, &request.operation)),
    }
}

/// The read that follows a 204 upsert, waiting out the object's replication.
pub fn read_after_upsert(upsert: &Request) -> Request {
    Request {
        method: Method::Get,
        body: None,
        headers: Vec::new(),
        wait_out: WaitOut::NotFound,
        ..upsert.clone()
    }
}

pub fn read_app_ids(answer: Answer, request: &Request) -> Result<AppIds> {
    if answer.ok() {
        AppIds::of(&answer.json()).ok_or_else(|| malformed(&request.operation))
    } else {
        Err(answer.into_error(request.service, &request.operation))
    }
}

/// What a new app says about itself in its notes.
pub const APP_NOTES: &str = "Managed by pulumi-azure-oidc: federated credentials for Pulumi Cloud OIDC. Changes here may be undone by its next apply.";

/// What a new app is created with.
pub fn app_body(display_name: &str, tags: &[String]) -> Value {
    object(vec![
        ("displayName", display_name.into()),
        ("tags", strings(tags)),
        // Always explicit: the default differs across Graph revisions (azure-facts.md §1.1).
        ("signInAudience", "AzureADMyOrg".into()),
        ("notes", APP_NOTES.into()),
    ])
}

/// Create an app by uniqueName (read the upsert with [`read_upserted_app`]).
pub fn create_app(unique_name: &str, display_name: &str, tags: &[String]) -> Request {
    upsert_app(unique_name, app_body(display_name, tags))
}

/// Rename an app and add the plan's tags to the ones it has; a tag somebody else
/// added is kept. Read with [`expect`] and `[204, 200]`.
pub fn update_app_fields(
    app: &AppIds,
    label: &str,
    display_name: &str,
    live_tags: &[String],
    tags: &[String],
) -> Request {
    let mut all = live_tags.to_vec();
    for t in tags {
        if !all.contains(t) {
            all.push(t.clone());
        }
    }
    update_app(
        app,
        label,
        object(vec![
            ("displayName", display_name.into()),
            ("tags", strings(&all)),
        ]),
    )
}

/// Read with [`expect`] and `[204, 200]`.
pub fn update_app(app: &AppIds, label: &str, body: Value) -> Request {
    graph(
        format!("update app {label}"),
        Method::Patch,
        format!("applications/{}", app.id),
    )
    .json(body)
    .wait_out(WaitOut::NotFound)
}

/// Read with [`expect`] and `[204, 404]`.
pub fn delete_app(app: &AppIds, label: &str) -> Request {
    graph(
        format!("delete app {label}"),
        Method::Delete,
        format!("applications/{}", app.id),
    )
}

/// The first page of an org's managed apps, by tag (`tags/any(t:t eq '…')`), with
/// every property [`observed_app`] reads, so the list alone says what each app is.
pub fn list_apps_tagged(tag: &str) -> Request {
    let filter = format!("tags/any(t:t eq '{}')", quote(tag));
    graph(
        "list managed apps".into(),
        Method::Get,
        format!(
            "applications?$filter={}&$select=id,appId,uniqueName,displayName,tags&$top=999",
            enc(&filter)
        ),
    )
}

/// An app as the diff sees it, without its credentials, service principal and role
/// assignments (read separately); `None` when the object lacks its ids.
pub fn observed_app(v: &Value) -> Option<crate::diff::ObservedApp> {
    let ids = AppIds::of(v)?;
    Some(crate::diff::ObservedApp {
        id: ids.id,
        app_id: ids.app_id,
        unique_name: v["uniqueName"].as_str().map(str::to_owned),
        display_name: v["displayName"].as_str().unwrap_or_default().to_owned(),
        tags: v["tags"]
            .as_array()
            .map(|t| {
                t.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        ..crate::diff::ObservedApp::default()
    })
}

/// The first page of every app in the tenant (ids and names only), for `adopt`'s
/// search of apps that trust Pulumi but that nothing in the org names.
pub fn list_apps() -> Request {
    graph(
        "list the tenant's apps".into(),
        Method::Get,
        "applications?$select=id,appId,displayName&$top=999".into(),
    )
}

/// The object ids of an app's owners (`GET /applications/{id}/owners`,
/// microsoft-graph-docs-contrib `application-list-owners.md`), read with [`read_page`].
pub fn list_app_owners(app: &AppIds, label: &str) -> Request {
    graph(
        format!("list the owners of app {label}"),
        Method::Get,
        format!("applications/{}/owners?$select=id", enc(&app.id)),
    )
}

/// One page of a list: its items, and the request for the next page if there is one.
/// `graph_base` is the Graph root, to make the next link relative again.
pub fn read_page(
    answer: Answer,
    request: &Request,
    graph_base: &str,
) -> Result<(Vec<Value>, Option<Request>)> {
    if !answer.ok() {
        return Err(answer.into_error(request.service, &request.operation));
    }
    let v = answer.json();
    let items = v["value"].as_array().cloned().unwrap_or_default();
    let next = v["@odata.nextLink"].as_str().map(|next| {
        let prefix = format!("{}/v1.0/", graph_base.trim_end_matches('/'));
        Request {
            path: next.strip_prefix(&prefix).unwrap_or(next).to_owned(),
            ..request.clone()
        }
    });
    Ok((items, next))
}

// ---- service principals ----

fn sp_path(app_id: &str) -> String {
    format!("servicePrincipals(appId='{}')", quote(app_id))
}

/// The service principal of an app (read with [`read_sp_id`]).
pub fn get_sp(app_id: &str) -> Request {
    graph(
        format!("read service principal of {app_id}"),
        Method::Get,
        sp_path(app_id),
    )
}

pub fn read_sp_id(answer: Answer, request: &Request) -> Result<Option<String>> {
    Ok(read_optional(answer, request)?.and_then(|v| v["id"].as_str().map(str::to_owned)))
}

/// Upsert by appId (azure-facts.md §1.3), waiting out the app's replication.
pub fn upsert_sp(app: &AppIds, label: &str) -> Request {
    graph(
        format!("create service principal of {label}"),
        Method::Patch,
        sp_path(&app.app_id),
    )
    .json(object(vec![(
        "tags",
        Value::Array(vec![crate::plan::MANAGED_TAG.into()]),
    )]))
    .header("prefer", "create-if-missing")
    .wait_out(WaitOut::AppReplication)
}

pub fn read_upserted_sp(answer: Answer, request: &Request) -> Result<Upserted<String>> {
    match answer.status {
        201 => answer.json()["id"]
            .as_str()
            .map(|id| Upserted::Created(id.to_owned()))
            .ok_or_else(|| malformed(&request.operation)),
        204 => Ok(Upserted::Existed),
        _ => Err(answer.into_error(request.service, &request.operation)),
    }
}

pub fn read_sp_after_upsert(answer: Answer, request: &Request) -> Result<String> {
    if answer.ok() {
        answer.json()["id"]
            .as_str()
            .map(str::to_owned)
            .ok_or_else(|| malformed(&request.operation))
    } else {
        Err(answer.into_error(request.service, &request.operation))
    }
}

/// Read with [`expect`] and `[204, 404]`.
pub fn delete_sp(sp_id: &str, label: &str) -> Request {
    graph(
        format!("delete service principal of {label}"),
        Method::Delete,
        format!("servicePrincipals/{sp_id}"),
    )
}

// ---- federated identity credentials ----

/// Read with [`read_credentials`].
pub fn list_credentials(app: &AppIds, label: &str) -> Request {
    graph(
        format!("list credentials of {label}"),
        Method::Get,
        format!("applications/{}/federatedIdentityCredentials", app.id),
    )
    .wait_out(WaitOut::NotFound)
}

pub fn read_credentials(answer: Answer, request: &Request) -> Result<Vec<ObservedCredential>> {
    if !answer.ok() {
        return Err(answer.into_error(request.service, &request.operation));
    }
    serde_json::from_value(answer.json()["value"].clone()).map_err(|e| Error::Service {
        service: request.service.name(),
        operation: request.operation.clone(),
        status: answer.status,
        code: "unreadable_response".into(),
        message: e.to_string(),
    })
}

/// Upsert by name (`federatedIdentityCredentials(name='…')`, azure-facts.md §1.5):
/// idempotent, so a retry after a lost answer cannot make a second credential. Read
/// with [`expect`] and `[201, 204]`.
pub fn upsert_credential(app: &AppIds, label: &str, name: &str, body: Value) -> Request {
    graph(
        format!("create credential {name} in {label}"),
        Method::Patch,
        format!(
            "applications/{}/federatedIdentityCredentials(name='{}')",
            app.id,
            quote(name)
        ),
    )
    .json(body)
    .header("prefer", "create-if-missing")
    .wait_out(WaitOut::NotFound)
}

/// Create `credential` in the app, by name (read with [`expect`] and `[201, 204]`).
pub fn create_credential(app: &AppIds, label: &str, credential: &FederatedCredential) -> Request {
    upsert_credential(
        app,
        label,
        credential.name.as_str(),
        credential_body(credential),
    )
}

/// Bring `credential` in the app up to date (read with [`expect`] and `[204, 200]`).
pub fn update_credential_fields(
    app: &AppIds,
    label: &str,
    credential: &FederatedCredential,
) -> Request {
    update_credential(
        app,
        label,
        credential.name.as_str(),
        credential_body(credential),
    )
}

fn credential_body(credential: &FederatedCredential) -> Value {
    credential.to_graph_body().to_value()
}

/// Read with [`expect`] and `[204, 200]`.
pub fn update_credential(app: &AppIds, label: &str, name: &str, body: Value) -> Request {
    graph(
        format!("update credential {name} in {label}"),
        Method::Patch,
        format!(
            "applications/{}/federatedIdentityCredentials/{}",
            app.id,
            enc(name)
        ),
    )
    .json(body)
    .wait_out(WaitOut::NotFound)
}

/// The write a credential change of an app makes, and the statuses that mean it is
/// done; `None` for any other change.
pub fn credential_write(
    change: &crate::diff::Change,
    app: &AppIds,
    label: &str,
) -> Option<(Request, &'static [u16])> {
    use crate::diff::Change;
    match change {
        Change::DeleteCredential { name, .. } => {
            Some((delete_credential(app, label, name), &[204, 404]))
        }
        Change::UpdateCredential { credential, .. } => Some((
            update_credential_fields(app, label, credential),
            &[204, 200],
        )),
        Change::CreateCredential { credential, .. } => {
            Some((create_credential(app, label, credential), &[201, 204]))
        }
        _ => None,
    }
}

/// Read with [`expect`] and `[204, 404]`.
pub fn delete_credential(app: &AppIds, label: &str, name: &str) -> Request {
    graph(
        format!("delete credential {name} in {label}"),
        Method::Delete,
        format!(
            "applications/{}/federatedIdentityCredentials/{}",
            app.id,
            enc(name)
        ),
    )
}
