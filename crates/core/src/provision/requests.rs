//! The request each remote operation sends, and how its answer is read: Graph
//! (azure-facts.md §1), ARM role assignments (§4), the Entra token endpoint (§6) and
//! Pulumi Cloud (pulumi-oidc-facts.md §3). Paths are relative to the service's base
//! URL (see [`Request::url`]).

use serde_json::{Value, json};

use super::request::{Answer, Body, Method, Request, Service, WaitOut};
use crate::credential::FederatedCredential;
use crate::diff::{ObservedCredential, ObservedRoleAssignment};
use crate::error::{Error, Result};

/// The ARM api-version of role assignments (azure-facts.md §4).
pub const ROLE_ASSIGNMENTS_API_VERSION: &str = "2022-04-01";

/// The client assertion type of a federated token exchange (RFC 7523).
pub const JWT_BEARER: &str = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer";

/// AADSTS codes a correct set-up also answers while a new credential or app
/// propagates (azure-facts.md §5.3): a verify retries them within its wait.
pub const PROPAGATION_CODES: [u32; 5] = [70021, 700211, 700212, 700213, 700016];

/// Ids of an app, as Graph returns them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AppIds {
    /// The object id.
    pub id: String,
    /// The application (client) id.
    pub app_id: String,
}

impl AppIds {
    /// The ids in a Graph application object, if it has both.
    pub fn of(v: &Value) -> Option<Self> {
        Some(Self {
            id: v["id"].as_str()?.to_owned(),
            app_id: v["appId"].as_str()?.to_owned(),
        })
    }
}

/// A string inside an OData literal: quotes doubled.
pub fn quote(value: &str) -> String {
    value.replace('\'', "''")
}

/// A query parameter or path segment, form-urlencoded.
fn enc(value: &str) -> String {
    form_urlencoded::byte_serialize(value.as_bytes()).collect()
}

fn graph(op: String, method: Method, path: String) -> Request {
    Request::new(Service::Graph, op, method, path)
}

fn pulumi(op: String, method: Method, path: String) -> Request {
    Request::new(Service::Pulumi, op, method, path)
}

fn role_assignments(scope: &str, tail: &str) -> String {
    format!(
        "{}/providers/Microsoft.Authorization/roleAssignments{tail}",
        scope.trim_end_matches('/')
    )
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

/// `Ok` when the status is one of `ok`, else the service's error.
pub fn expect(answer: Answer, request: &Request, ok: &[u16]) -> Result<()> {
    if ok.contains(&answer.status) {
        Ok(())
    } else {
        Err(answer.into_error(request.service, &request.operation))
    }
}

/// 200 → the body, 404 → `None`, else the error.
pub fn read_optional(answer: Answer, request: &Request) -> Result<Option<Value>> {
    match answer.status {
        200 => Ok(Some(answer.json())),
        404 => Ok(None),
        _ => Err(answer.into_error(request.service, &request.operation)),
    }
}

/// How an upsert (`Prefer: create-if-missing`) answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upserted<T> {
    /// 201: created, with what the answer holds.
    Created(T),
    /// 204: it existed and was updated; read it (with [`read_after_upsert`]) for its ids.
    Existed,
}

// ---- applications ----

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

/// The body of a new app (read the upsert with [`read_upserted_app`]).
pub fn create_app(unique_name: &str, display_name: &str, tags: &[String]) -> Request {
    upsert_app(
        unique_name,
        json!({
            "displayName": display_name,
            "tags": tags,
            // Always explicit: the default differs across Graph revisions (azure-facts.md §1.1).
            "signInAudience": "AzureADMyOrg",
            "notes": APP_NOTES,
        }),
    )
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
        json!({"displayName": display_name, "tags": all}),
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

/// The first page of an org's managed apps, by tag (`tags/any(t:t eq '…')`).
pub fn list_apps_tagged(tag: &str) -> Request {
    let filter = format!("tags/any(t:t eq '{}')", quote(tag));
    graph(
        "list managed apps".into(),
        Method::Get,
        format!("applications?$filter={}&$top=999", enc(&filter)),
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
    .json(json!({"tags": [crate::plan::MANAGED_TAG]}))
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
    serde_json::to_value(credential.to_graph_body()).unwrap_or(Value::Null)
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

// ---- role assignments ----

/// The principal's assignments at, above or below `scope` (read with
/// [`read_role_assignments`]).
pub fn list_role_assignments(scope: &str, principal_id: &str) -> Request {
    let filter = format!("principalId eq '{}'", quote(principal_id));
    Request::new(
        Service::Arm,
        format!("list role assignments of {principal_id} at {scope}"),
        Method::Get,
        format!(
            "{}?api-version={ROLE_ASSIGNMENTS_API_VERSION}&$filter={}",
            role_assignments(scope, ""),
            enc(&filter)
        ),
    )
}

pub fn read_role_assignments(
    answer: Answer,
    request: &Request,
) -> Result<Vec<ObservedRoleAssignment>> {
    if !answer.ok() {
        return Err(answer.into_error(request.service, &request.operation));
    }
    let text = |v: &Value| v.as_str().unwrap_or_default().to_owned();
    Ok(answer.json()["value"]
        .as_array()
        .map(|a| {
            a.iter()
                .map(|v| ObservedRoleAssignment {
                    name: text(&v["name"]),
                    scope: text(&v["properties"]["scope"]),
                    role_definition_id: text(&v["properties"]["roleDefinitionId"]),
                    principal_id: text(&v["properties"]["principalId"]),
                })
                .collect()
        })
        .unwrap_or_default())
}

/// PUT with the deterministic name, waiting out a fresh principal's replication.
/// Read with [`read_role_assignment_created`].
pub fn create_role_assignment(
    scope: &str,
    name: &str,
    role_definition_id: &str,
    principal_id: &str,
    what: &str,
) -> Request {
    Request::new(
        Service::Arm,
        format!("assign {what}"),
        Method::Put,
        format!(
            "{}?api-version={ROLE_ASSIGNMENTS_API_VERSION}",
            role_assignments(scope, &format!("/{name}"))
        ),
    )
    .json(json!({"properties": {"roleDefinitionId": role_definition_id, "principalId": principal_id, "principalType": "ServicePrincipal"}}))
    .wait_out(WaitOut::PrincipalReplication)
}

/// Grant `role_definition_id` at `scope` to the service principal `principal_id`,
/// under the deterministic name of that triple (see
/// [`role_assignment_name`](crate::roles::role_assignment_name)).
pub fn assign_role(
    scope: &str,
    role_definition_id: &str,
    principal_id: &str,
    what: &str,
) -> Request {
    let guid = role_definition_id.rsplit('/').next().unwrap_or_default();
    let name = crate::roles::role_assignment_name(scope, guid, principal_id);
    create_role_assignment(scope, &name, role_definition_id, principal_id, what)
}

/// `RoleAssignmentExists` means another name holds the same grant, which satisfies
/// the plan (azure-facts.md §4).
pub fn read_role_assignment_created(answer: Answer, request: &Request) -> Result<()> {
    if answer.status == 409 && answer.error_code() == "RoleAssignmentExists" {
        return Ok(());
    }
    expect(answer, request, &[200, 201])
}

/// Read with [`expect`] and `[200, 204, 404]`.
pub fn delete_role_assignment(scope: &str, name: &str, what: &str) -> Request {
    Request::new(
        Service::Arm,
        format!("remove {what}"),
        Method::Delete,
        format!(
            "{}?api-version={ROLE_ASSIGNMENTS_API_VERSION}",
            role_assignments(scope, &format!("/{name}"))
        ),
    )
}

// ---- Pulumi Cloud ----

fn settings_path(org: &str, project: &str, stack: &str) -> String {
    format!("stacks/{org}/{project}/{stack}/deployments/settings")
}

/// A stack's deployment settings (read with [`read_optional`]).
pub fn get_settings(org: &str, project: &str, stack: &str) -> Request {
    pulumi(
        format!("read deployment settings of {org}/{project}/{stack}"),
        Method::Get,
        settings_path(org, project, stack),
    )
}

/// Merge `body` into a stack's deployment settings. Read with [`expect`] and `[200, 204]`.
pub fn patch_settings(org: &str, project: &str, stack: &str, body: Value) -> Request {
    pulumi(
        format!("write deployment settings of {org}/{project}/{stack}"),
        Method::Post,
        settings_path(org, project, stack),
    )
    .json(body)
}

/// The Azure block a stack's deployment settings hold for OIDC.
pub fn oidc_settings(client_id: &str, tenant_id: &str, subscription_id: Option<&str>) -> Value {
    let mut azure = json!({"clientId": client_id, "tenantId": tenant_id});
    if let Some(sub) = subscription_id {
        azure["subscriptionId"] = json!(sub);
    }
    azure
}

/// Turn on OIDC in a stack's deployment settings with `azure` (see [`oidc_settings`]).
/// Read with [`expect`] and `[200, 204]`.
pub fn enable_oidc(org: &str, project: &str, stack: &str, azure: &Value) -> Request {
    patch_settings(
        org,
        project,
        stack,
        json!({"operationContext": {"oidc": {"azure": azure}}}),
    )
}

/// Clear a stack's Azure OIDC settings, as the Pulumi CLI clears them
/// (pulumi-oidc-facts.md §3.1). Read with [`expect`] and `[200, 204]`.
pub fn clear_oidc(org: &str, project: &str, stack: &str) -> Request {
    patch_settings(
        org,
        project,
        stack,
        json!({"operationContext": {"oidc": {"azure": null}}}),
    )
}

/// An ESC environment's definition (read with [`read_env`]).
pub fn get_env(org: &str, project: &str, env: &str) -> Request {
    pulumi(
        format!("read ESC environment {org}/{project}/{env}"),
        Method::Get,
        format!("esc/environments/{org}/{project}/{env}"),
    )
}

/// The environment's YAML and ETag, or `None` if it does not exist.
pub fn read_env(answer: Answer, request: &Request) -> Result<Option<(String, Option<String>)>> {
    match answer.status {
        200 => {
            let etag = answer.header("etag").map(str::to_owned);
            Ok(Some((answer.text(), etag)))
        }
        404 => Ok(None),
        _ => Err(answer.into_error(request.service, &request.operation)),
    }
}

/// Read with [`expect`] and `[200, 201, 204, 409]`: 409 means it exists already (a
/// retry after a lost answer, or someone else made it).
pub fn create_env(org: &str, project: &str, env: &str) -> Request {
    pulumi(
        format!("create ESC environment {org}/{project}/{env}"),
        Method::Post,
        format!("esc/environments/{org}"),
    )
    .json(json!({"project": project, "name": env}))
}

/// Write the definition if it still has `etag` (read with [`read_env_written`]).
pub fn put_env(org: &str, project: &str, env: &str, yaml: String, etag: Option<&str>) -> Request {
    let mut r = pulumi(
        format!("write ESC environment {org}/{project}/{env}"),
        Method::Patch,
        format!("esc/environments/{org}/{project}/{env}"),
    );
    r.body = Some(Body::Yaml(yaml));
    if let Some(tag) = etag {
        r = r.header("if-match", tag).header("etag", tag);
    }
    r
}

/// `Ok(false)` when the environment changed since its ETag was read.
pub fn read_env_written(answer: Answer, request: &Request) -> Result<bool> {
    if answer.status == 409 {
        return Ok(false);
    }
    expect(answer, request, &[200, 204]).map(|()| true)
}

// ---- the Entra token endpoint ----

/// Exchange a Pulumi OIDC token for an access token of `scope`, as Pulumi Deployments
/// and ESC do (azure-facts.md §6). Read with [`read_exchange`].
pub fn exchange_token(tenant: &str, client_id: &str, assertion: &str, scope: &str) -> Request {
    let mut r = Request::new(
        Service::Entra,
        format!("exchange the token for app {client_id}"),
        Method::Post,
        format!("{tenant}/oauth2/v2.0/token"),
    );
    r.body = Some(Body::Form(vec![
        ("client_id", client_id.to_owned()),
        ("client_assertion_type", JWT_BEARER.to_owned()),
        ("client_assertion", assertion.to_owned()),
        ("grant_type", "client_credentials".to_owned()),
        ("scope", scope.to_owned()),
    ]));
    r
}

/// A refused exchange: its AADSTS code and description.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refusal {
    pub status: u16,
    pub aadsts: Option<u32>,
    pub description: String,
    pub error_code: String,
}

impl Refusal {
    /// Whether a correct set-up also answers this while it propagates.
    pub fn may_be_propagation(&self) -> bool {
        self.aadsts.is_some_and(|c| PROPAGATION_CODES.contains(&c))
    }
}

/// `Ok(())` when the exchange succeeded (the access token is dropped unread).
pub fn read_exchange(answer: &Answer) -> std::result::Result<(), Refusal> {
    if answer.ok() {
        return Ok(());
    }
    let v = answer.json();
    Err(Refusal {
        status: answer.status,
        aadsts: v["error_codes"]
            .as_array()
            .and_then(|a| a.first())
            .and_then(Value::as_u64)
            .and_then(|c| u32::try_from(c).ok()),
        description: v["error_description"]
            .as_str()
            .unwrap_or_default()
            .to_owned(),
        error_code: answer.error_code(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::provision::Endpoints;

    #[test]
    fn requests_name_their_objects_by_key() {
        let e = Endpoints::default().all_at("https://127.0.0.1:1");
        let r = upsert_app("pulumi-oidc-contoso-1", json!({}));
        assert_eq!(
            r.url(&e),
            "https://127.0.0.1:1/v1.0/applications(uniqueName='pulumi-oidc-contoso-1')"
        );
        assert_eq!(r.headers, vec![("prefer", "create-if-missing".to_owned())]);
        let r = create_role_assignment("/subscriptions/s/", "n", "/rd", "p", "Reader");
        assert_eq!(
            r.url(&e),
            "https://127.0.0.1:1/subscriptions/s/providers/Microsoft.Authorization/roleAssignments/n?api-version=2022-04-01"
        );
        assert_eq!(r.wait_out, WaitOut::PrincipalReplication);
        let r = get_settings("o", "p", "s");
        assert_eq!(
            r.url(&e),
            "https://127.0.0.1:1/api/stacks/o/p/s/deployments/settings"
        );
    }

    #[test]
    fn odata_literals_and_filters_are_escaped() {
        let r = get_app("it's");
        assert_eq!(r.path, "applications(uniqueName='it''s')");
        let r = list_apps_tagged("a b");
        assert!(
            r.path
                .starts_with("applications?$filter=tags%2Fany%28t%3At+eq+%27a+b%27%29"),
            "{}",
            r.path
        );
    }

    #[test]
    fn a_form_never_shows_its_values() {
        let r = exchange_token("t", "c", "secret-assertion", "s");
        let shown = format!("{r:?} {}", serde_json::to_string(&r).unwrap_or_default());
        assert!(!shown.contains("secret-assertion"), "{shown}");
    }
}
