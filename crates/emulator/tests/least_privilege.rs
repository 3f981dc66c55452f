#![allow(clippy::unwrap_used)]
//! Least privilege as the emulator enforces it: access tokens are JWTs with Entra's
//! app-only claims (`roles` of the caller's Graph app role assignments, `oid` of its
//! service principal); Graph judges each request by the token's app roles and the
//! target's owners; ARM judges each request by the caller's role assignments, their
//! roles' actions and their conditions (sources cited in `src/authz/*.rs`,
//! `src/access_token.rs`, `src/graph/owners.rs`, `src/graph/app_role_assignments.rs`).

mod common;

use base64::Engine;
use common::{API_VERSION, ARM_SCOPE, Api, GRAPH_SCOPE, READER, Resp, SUBSCRIPTION, credential};
use pulumi_azure_oidc_emulator::{
    DEFAULT_OPERATOR_CLIENT_ID, GRAPH_APP_ID, Operator, Options, PULUMI_ISSUER, Rights,
};
use reqwest::Method;
use serde_json::{Value, json};

/// An operator with nothing but what a test grants it.
const GRANTED: &str = "a1111111-2222-4333-8444-555555555555";
const GRANTED_SECRET: &str = "granted-operator-secret";

const OWNED_BY: &str = "18a4783c-866b-4cc7-a460-3d5e5662c884";
const APP_ROLE_ASSIGNMENT_READWRITE_ALL: &str = "06b708a9-e830-4db3-a914-8e69da51d44f";
const RBAC_ADMINISTRATOR: &str = "f58310d9-a9f6-439a-9e8d-f62e7b41a168";
const MANAGED_IDENTITY_CONTRIBUTOR: &str = "e40ec5ca-96e0-45a2-b4ff-59039f2c2b59";
const KEY_VAULT_SECRETS_USER: &str = "4633458b-17de-408a-b874-0445c86b69e6";
const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";
const V2024: &str = "api-version=2024-11-30";
const SUBJECT: &str =
    "pulumi:deploy:org:contoso:project:core:stack:dev:operation:update:scope:write";

fn options() -> Options {
    let mut options = Options {
        rate_scale: 1e6,
        identity_credential_write_ms: 0,
        ..Options::default()
    };
    options.operators.push(Operator {
        client_id: GRANTED.into(),
        client_secret: GRANTED_SECRET.into(),
        rights: Rights::Granted,
    });
    options
}

fn claims(token: &str) -> Value {
    let parts: Vec<&str> = token.split('.').collect();
    assert_eq!(parts.len(), 3, "not a JWT");
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(parts[1])
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

/// The tool's condition for a *Role Based Access Control Administrator*, exactly as
/// `pulumi-azure-oidc permissions` writes it.
fn tool_condition(ids: &[&str]) -> String {
    let ids = ids.join(", ");
    let part = |action: &str, source: &str| {
        format!(
            "((!(ActionMatches{{'Microsoft.Authorization/roleAssignments/{action}'}})) OR (@{source}[Microsoft.Authorization/roleAssignments:RoleDefinitionId] ForAnyOfAnyValues:GuidEquals {{{ids}}} AND @{source}[Microsoft.Authorization/roleAssignments:PrincipalType] ForAnyOfAnyValues:StringEqualsIgnoreCase {{'ServicePrincipal'}}))"
        )
    };
    format!(
        "{} AND {}",
        part("write", "Request"),
        part("delete", "Resource")
    )
}

struct Caller<'a> {
    api: &'a Api,
    graph: String,
    arm: String,
}

impl<'a> Caller<'a> {
    /// The granted operator, with tokens issued now (carrying what is granted now).
    async fn granted(api: &'a Api) -> Self {
        Self {
            api,
            graph: api.secret_token(GRANTED, GRANTED_SECRET, GRAPH_SCOPE).await,
            arm: api.secret_token(GRANTED, GRANTED_SECRET, ARM_SCOPE).await,
        }
    }

    async fn graph(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let url = format!("{}/v1.0{path}", self.api.base);
        let auth = format!("Bearer {}", self.graph);
        self.api
            .send(method, &url, Some(&auth), body.as_ref(), &[])
            .await
    }

    async fn arm(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let url = format!("{}{path}", self.api.base);
        let auth = format!("Bearer {}", self.arm);
        self.api
            .send(method, &url, Some(&auth), body.as_ref(), &[])
            .await
    }
}

fn granted_oid(api: &Api) -> String {
    api.emu.operator_object_id(GRANTED).unwrap()
}

/// The admin (the default, full operator) grants `role` of Microsoft Graph to the
/// granted operator.
async fn grant_graph_role(api: &Api, role: &str) -> Resp {
    let graph_sp = api.emu.graph_service_principal_id();
    let r = api
        .graph(
            Method::POST,
            &format!("/servicePrincipals/{graph_sp}/appRoleAssignedTo"),
            Some(
                json!({"principalId": granted_oid(api), "resourceId": graph_sp, "appRoleId": role}),
            ),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r
}

/// The admin assigns `role` at `scope` to the granted operator, with `condition`.
async fn assign_arm_role(api: &Api, scope: &str, role: &str, condition: Option<String>) -> Resp {
    let mut props = json!({
        "roleDefinitionId": format!("{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{role}"),
        "principalId": granted_oid(api),
        "principalType": "ServicePrincipal",
    });
    if let Some(c) = condition {
        props["condition"] = json!(c);
        props["conditionVersion"] = json!("2.0");
    }
    api.arm(
        Method::PUT,
        &api.role_assignment_path(scope, &uuid::Uuid::new_v4().to_string()),
        Some(json!({ "properties": props })),
    )
    .await
}

// ---- tokens ----

#[tokio::test(flavor = "multi_thread")]
async fn access_tokens_are_jwts_with_entras_app_only_claims() {
    let api = Api::start_with(options()).await;
    let tenant = api.emu.tenant_id().to_owned();
    let admin_oid = api
        .emu
        .operator_object_id(DEFAULT_OPERATOR_CLIENT_ID)
        .unwrap();
    let graph = claims(&api.graph_token);
    assert_eq!(graph["aud"], "https://graph.microsoft.com");
    assert_eq!(graph["iss"], format!("https://sts.windows.net/{tenant}/"));
    assert_eq!(graph["tid"], tenant);
    assert_eq!(
        (&graph["appid"], &graph["azp"]),
        (
            &json!(DEFAULT_OPERATOR_CLIENT_ID),
            &json!(DEFAULT_OPERATOR_CLIENT_ID)
        )
    );
    assert_eq!(
        (&graph["oid"], &graph["sub"]),
        (&json!(admin_oid), &json!(admin_oid))
    );
    assert_eq!(graph["idtyp"], "app");
    assert_eq!(
        graph["roles"],
        json!([
            "Application.ReadWrite.All",
            "AppRoleAssignment.ReadWrite.All"
        ])
    );
    assert_eq!(
        graph["exp"].as_i64().unwrap() - graph["iat"].as_i64().unwrap(),
        3599
    );
    let arm = claims(&api.arm_token);
    assert_eq!(arm["aud"], "https://management.azure.com");
    assert!(arm.get("roles").is_none(), "{arm}");

    // Signed RS256 with the key the tenant publishes.
    let keys = api
        .send(
            Method::GET,
            &format!("{}/{tenant}/discovery/v2.0/keys", api.base),
            None,
            None,
            &[],
        )
        .await;
    assert_eq!(keys.status, 200, "{}", keys.text);
    let set: jsonwebtoken::jwk::JwkSet = serde_json::from_value(keys.json).unwrap();
    let header = jsonwebtoken::decode_header(&api.graph_token).unwrap();
    assert_eq!(header.alg, jsonwebtoken::Algorithm::RS256);
    let jwk = set.find(header.kid.as_deref().unwrap()).unwrap();
    let key = jsonwebtoken::DecodingKey::from_jwk(jwk).unwrap();
    let mut validation = jsonwebtoken::Validation::new(jsonwebtoken::Algorithm::RS256);
    validation.set_audience(&["https://graph.microsoft.com"]);
    jsonwebtoken::decode::<Value>(&api.graph_token, &key, &validation).unwrap();

    // A granted operator's token carries no `roles` until a role is granted, and then
    // only tokens issued after the grant do.
    let before = Caller::granted(&api).await;
    assert!(claims(&before.graph).get("roles").is_none());
    assert_eq!(claims(&before.graph)["oid"], granted_oid(&api));
    grant_graph_role(&api, OWNED_BY).await;
    let after = Caller::granted(&api).await;
    assert_eq!(
        claims(&after.graph)["roles"],
        json!(["Application.ReadWrite.OwnedBy"])
    );
    let body = json!({"displayName": "made-with-a-stale-token"});
    before
        .graph(Method::POST, "/applications", Some(body.clone()))
        .await
        .assert_graph_error(403, "Authorization_RequestDenied");
    assert_eq!(
        after
            .graph(Method::POST, "/applications", Some(body))
            .await
            .status,
        201
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_token_marker_sits_in_the_signature_of_a_jwt() {
    let api = Api::start_with(Options {
        token_marker: "MARKER-at_42".into(),
        ..Options::default()
    })
    .await;
    for token in [&api.graph_token, &api.arm_token] {
        assert!(token.contains("MARKER-at_42"));
        assert!(token.split('.').nth(2).unwrap().starts_with("MARKER-at_42"));
        assert_eq!(claims(token)["idtyp"], "app");
    }
    // And the marked token still authorizes.
    assert_eq!(
        api.graph(Method::GET, "/applications", None).await.status,
        200
    );
    // A marker that would break the token is refused.
    let bad = pulumi_azure_oidc_emulator::Emulator::start(Options {
        token_marker: "not.a.segment".into(),
        ..Options::default()
    })
    .await;
    assert!(bad.is_err());
}

// ---- the directory's principals and app role assignments ----

#[tokio::test(flavor = "multi_thread")]
async fn graph_and_the_operators_have_service_principals() {
    let api = Api::start_with(options()).await;
    let graph = api
        .graph(
            Method::GET,
            &format!("/servicePrincipals(appId='{GRAPH_APP_ID}')"),
            None,
        )
        .await;
    assert_eq!(graph.status, 200, "{}", graph.text);
    assert_eq!(graph.json["id"], api.emu.graph_service_principal_id());
    let roles = graph.json["appRoles"].as_array().unwrap();
    for (value, id) in [
        (
            "Application.ReadWrite.All",
            "1bfefb4e-e0b5-418b-a88f-73c46d2cc8e9",
        ),
        ("Application.ReadWrite.OwnedBy", OWNED_BY),
        (
            "Application.Read.All",
            "9a5d68dd-52b0-4cc2-bd40-abcf44ac3a30",
        ),
        (
            "AppRoleAssignment.ReadWrite.All",
            APP_ROLE_ASSIGNMENT_READWRITE_ALL,
        ),
        ("Directory.Read.All", "7ab1d382-f21e-4acd-a863-ba3e13f7da61"),
    ] {
        let role = roles.iter().find(|r| r["value"] == value).unwrap();
        assert_eq!(role["id"], id);
        assert_eq!(role["allowedMemberTypes"], json!(["Application"]));
        assert_eq!(role["isEnabled"], true);
        assert!(role["displayName"].is_string() && role["description"].is_string());
    }
    assert!(roles.iter().any(|r| r["value"] == "AppRegistration.Create"));
    // As `az ad sp show --id` finds it, and by id.
    let filter =
        format!("/servicePrincipals?$filter=servicePrincipalNames/any(c:c eq '{GRAPH_APP_ID}')");
    let found = api.graph(Method::GET, &filter, None).await;
    assert_eq!(found.json["value"][0]["appId"], GRAPH_APP_ID);
    let by_id = api
        .graph(
            Method::GET,
            &format!("/servicePrincipals/{}", granted_oid(&api)),
            None,
        )
        .await;
    assert_eq!(by_id.json["appId"], GRANTED);
    let by_filter = api
        .graph(
            Method::GET,
            &format!("/servicePrincipals?$filter=appId eq '{GRANTED}'"),
            None,
        )
        .await;
    assert_eq!(by_filter.json["value"][0]["id"], granted_oid(&api));
    // Kept apart in the state, and never deleted.
    let state = api.emu.state();
    assert_eq!(state["servicePrincipals"], json!([]));
    assert_eq!(
        state["builtInServicePrincipals"].as_array().unwrap().len(),
        3
    );
    api.graph(
        Method::DELETE,
        &format!(
            "/servicePrincipals/{}",
            api.emu.graph_service_principal_id()
        ),
        None,
    )
    .await
    .assert_graph_error(403, "Authorization_RequestDenied");
}

#[tokio::test(flavor = "multi_thread")]
async fn app_roles_are_granted_listed_and_revoked() {
    let api = Api::start_with(options()).await;
    let graph_sp = api.emu.graph_service_principal_id();
    let oid = granted_oid(&api);
    // Without AppRoleAssignment.ReadWrite.All an operator cannot grant itself anything.
    let nobody = Caller::granted(&api).await;
    nobody
        .graph(
            Method::POST,
            &format!("/servicePrincipals/{graph_sp}/appRoleAssignedTo"),
            Some(json!({"principalId": oid, "resourceId": graph_sp, "appRoleId": OWNED_BY})),
        )
        .await
        .assert_graph_error(403, "Authorization_RequestDenied");

    let created = grant_graph_role(&api, OWNED_BY).await.json;
    for key in [
        "id",
        "createdDateTime",
        "principalDisplayName",
        "resourceDisplayName",
    ] {
        assert!(created[key].is_string(), "{key}: {created}");
    }
    assert_eq!(created["id"].as_str().unwrap().len(), 43);
    assert_eq!(
        (
            &created["principalId"],
            &created["resourceId"],
            &created["appRoleId"],
            &created["principalType"]
        ),
        (
            &json!(oid),
            &json!(graph_sp),
            &json!(OWNED_BY),
            &json!("ServicePrincipal")
        )
    );
    assert_eq!(created["resourceDisplayName"], "Microsoft Graph");
    assert!(
        created["@odata.context"]
            .as_str()
            .unwrap()
            .ends_with("/appRoleAssignedTo/$entity")
    );
    // The same again from the principal's side: a repeat.
    let again = api
        .graph(
            Method::POST,
            &format!("/servicePrincipals/{oid}/appRoleAssignments"),
            Some(json!({"principalId": oid, "resourceId": graph_sp, "appRoleId": OWNED_BY})),
        )
        .await;
    again.assert_graph_error(409, "Request_MultipleObjectsWithSameKeyValue");
    let other = api
        .graph(
            Method::POST,
            &format!("/servicePrincipals(appId='{GRANTED}')/appRoleAssignments"),
            Some(json!({"principalId": oid, "resourceId": graph_sp, "appRoleId": APP_ROLE_ASSIGNMENT_READWRITE_ALL})),
        )
        .await;
    assert_eq!(other.status, 201, "{}", other.text);
    // A role Graph does not define, and a body that names another resource.
    api.graph(
        Method::POST,
        &format!("/servicePrincipals/{graph_sp}/appRoleAssignedTo"),
        Some(json!({"principalId": oid, "resourceId": graph_sp, "appRoleId": uuid::Uuid::new_v4().to_string()})),
    )
    .await
    .assert_graph_error(400, "Request_BadRequest");
    api.graph(
        Method::POST,
        &format!("/servicePrincipals/{graph_sp}/appRoleAssignedTo"),
        Some(json!({"principalId": oid, "resourceId": oid, "appRoleId": OWNED_BY})),
    )
    .await
    .assert_graph_error(400, "Request_BadRequest");

    let to = api
        .graph(
            Method::GET,
            &format!("/servicePrincipals/{graph_sp}/appRoleAssignedTo"),
            None,
        )
        .await;
    assert_eq!(to.json["value"].as_array().unwrap().len(), 2, "{}", to.text);
    let of = api
        .graph(
            Method::GET,
            &format!("/servicePrincipals/{oid}/appRoleAssignments"),
            None,
        )
        .await;
    assert_eq!(of.json["value"].as_array().unwrap().len(), 2);
    assert_eq!(
        api.emu.state()["appRoleAssignments"]
            .as_array()
            .unwrap()
            .len(),
        2
    );
    let roles = claims(&Caller::granted(&api).await.graph)["roles"].clone();
    assert_eq!(
        roles,
        json!([
            "Application.ReadWrite.OwnedBy",
            "AppRoleAssignment.ReadWrite.All"
        ])
    );

    let id = created["id"].as_str().unwrap();
    let path = format!("/servicePrincipals/{graph_sp}/appRoleAssignedTo/{id}");
    assert_eq!(api.graph(Method::DELETE, &path, None).await.status, 204);
    api.graph(Method::DELETE, &path, None)
        .await
        .assert_graph_error(404, "Request_ResourceNotFound");
    let roles = claims(&Caller::granted(&api).await.graph)["roles"].clone();
    assert_eq!(roles, json!(["AppRoleAssignment.ReadWrite.All"]));
}

// ---- Graph: app roles and ownership ----

#[tokio::test(flavor = "multi_thread")]
async fn without_a_grant_nothing_may_be_read_or_written() {
    let api = Api::start_with(options()).await;
    let caller = Caller::granted(&api).await;
    caller
        .graph(Method::GET, "/applications", None)
        .await
        .assert_graph_error(403, "Authorization_RequestDenied");
    let refused = caller
        .graph(
            Method::POST,
            "/applications",
            Some(json!({"displayName": "x"})),
        )
        .await;
    refused.assert_graph_error(403, "Authorization_RequestDenied");
    assert_eq!(
        refused.message(),
        "Insufficient privileges to complete the operation."
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn owned_by_manages_what_it_creates_and_nothing_else() {
    let api = Api::start_with(options()).await;
    let theirs = api.create_app("made-by-the-admin").await;
    let theirs_id = theirs["id"].as_str().unwrap();
    grant_graph_role(&api, OWNED_BY).await;
    let me = Caller::granted(&api).await;
    let oid = granted_oid(&api);

    // It creates an app, and owns it.
    let mine = me
        .graph(
            Method::POST,
            "/applications",
            Some(json!({"displayName": "made-by-owned-by"})),
        )
        .await;
    assert_eq!(mine.status, 201, "{}", mine.text);
    let mine_id = mine.json["id"].as_str().unwrap();
    let mine_app_id = mine.json["appId"].as_str().unwrap();
    let owners = me
        .graph(
            Method::GET,
            &format!("/applications/{mine_id}/owners?$select=id"),
            None,
        )
        .await;
    assert_eq!(
        owners.json["value"],
        json!([{"@odata.type": "#microsoft.graph.servicePrincipal", "id": oid}])
    );
    // It manages it: update, credentials, service principal.
    let patched = me
        .graph(
            Method::PATCH,
            &format!("/applications/{mine_id}"),
            Some(json!({"notes": "mine"})),
        )
        .await;
    assert_eq!(patched.status, 204, "{}", patched.text);
    let fic = credential("deploy-update", PULUMI_ISSUER, SUBJECT, "contoso");
    let made = me
        .graph(
            Method::POST,
            &format!("/applications/{mine_id}/federatedIdentityCredentials"),
            Some(fic.clone()),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text);
    let upserted = me
        .graph(
            Method::PATCH,
            &format!("/applications(appId='{mine_app_id}')/federatedIdentityCredentials(name='deploy-update')"),
            Some(json!({"description": "changed"})),
        )
        .await;
    assert_eq!(upserted.status, 204, "{}", upserted.text);
    let sp = me
        .graph(
            Method::POST,
            "/servicePrincipals",
            Some(json!({"appId": mine_app_id})),
        )
        .await;
    assert_eq!(sp.status, 201, "{}", sp.text);
    // It reads everything, including what it does not own.
    assert_eq!(
        me.graph(Method::GET, &format!("/applications/{theirs_id}"), None)
            .await
            .status,
        200
    );
    assert_eq!(
        me.graph(Method::GET, "/applications", None).await.status,
        200
    );

    // Another's app: 403 on every change, its credentials and its principal too.
    for (method, path, body) in [
        (
            Method::PATCH,
            format!("/applications/{theirs_id}"),
            Some(json!({"notes": "x"})),
        ),
        (
            Method::POST,
            format!("/applications/{theirs_id}/federatedIdentityCredentials"),
            Some(fic.clone()),
        ),
        (Method::DELETE, format!("/applications/{theirs_id}"), None),
        (
            Method::POST,
            "/servicePrincipals".to_owned(),
            Some(json!({"appId": theirs["appId"]})),
        ),
    ] {
        me.graph(method, &path, body)
            .await
            .assert_graph_error(403, "Authorization_RequestDenied");
    }
    // The upsert by uniqueName: creating is allowed, changing another's is not.
    let api_ref = &api;
    let upsert = |name: &str| {
        let api = api_ref;
        let url = format!("{}/v1.0/applications(uniqueName='{name}')", api.base);
        let auth = format!("Bearer {}", me.graph);
        async move {
            api.send(
                Method::PATCH,
                &url,
                Some(&auth),
                Some(&json!({"displayName": "upserted"})),
                &[("prefer", "create-if-missing")],
            )
            .await
        }
    };
    assert_eq!(upsert("owned-by-upsert").await.status, 201);
    assert_eq!(upsert("owned-by-upsert").await.status, 204);
    let admins = api
        .graph_with(
            Method::PATCH,
            "/applications(uniqueName='the-admins')",
            Some(json!({"displayName": "admin's"})),
            &[("prefer", "create-if-missing")],
        )
        .await;
    assert_eq!(admins.status, 201);
    upsert("the-admins")
        .await
        .assert_graph_error(403, "Authorization_RequestDenied");
    // OwnedBy cannot add owners, not even to its own app.
    me.graph(
        Method::POST,
        &format!("/applications/{mine_id}/owners/$ref"),
        Some(json!({"@odata.id": format!("{}/v1.0/directoryObjects/{}", api.base, api.emu.operator_object_id(DEFAULT_OPERATOR_CLIENT_ID).unwrap())})),
    )
    .await
    .assert_graph_error(403, "Authorization_RequestDenied");
    // Its own service principal and app it may delete; deleting the app takes the rest.
    let sp_id = sp.json["id"].as_str().unwrap();
    assert_eq!(
        me.graph(Method::DELETE, &format!("/servicePrincipals/{sp_id}"), None)
            .await
            .status,
        204
    );
    assert_eq!(
        me.graph(Method::DELETE, &format!("/applications/{mine_id}"), None)
            .await
            .status,
        204
    );
    // Judged one by one inside a batch.
    let batch = me
        .graph(
            Method::POST,
            "/$batch",
            Some(json!({"requests": [
                {"id": "1", "method": "POST", "url": "/applications", "headers": {"Content-Type": "application/json"}, "body": {"displayName": "batched"}},
                {"id": "2", "method": "PATCH", "url": format!("/applications/{theirs_id}"), "headers": {"Content-Type": "application/json"}, "body": {"notes": "x"}},
            ]})),
        )
        .await;
    assert_eq!(batch.status, 200, "{}", batch.text);
    let statuses: Vec<(String, u64)> = batch.json["responses"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_owned(),
                r["status"].as_u64().unwrap(),
            )
        })
        .collect();
    assert_eq!(statuses, [("1".to_owned(), 201), ("2".to_owned(), 403)]);
    let inner = &batch.json["responses"][1]["body"]["error"];
    assert_eq!(inner["code"], "Authorization_RequestDenied");
    assert!(inner["innerError"]["request-id"].is_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn app_registration_create_alone_creates_but_changes_nothing() {
    let api = Api::start_with(options()).await;
    let graph_sp = api.emu.graph_service_principal_id();
    let sp = api
        .graph(Method::GET, &format!("/servicePrincipals/{graph_sp}"), None)
        .await;
    let role = sp.json["appRoles"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["value"] == "AppRegistration.Create")
        .unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    grant_graph_role(&api, &role).await;
    let me = Caller::granted(&api).await;
    assert_eq!(
        claims(&me.graph)["roles"],
        json!(["AppRegistration.Create"])
    );
    let app = me
        .graph(
            Method::POST,
            "/applications",
            Some(json!({"displayName": "create-only"})),
        )
        .await;
    assert_eq!(app.status, 201, "{}", app.text);
    let id = app.json["id"].as_str().unwrap();
    me.graph(
        Method::POST,
        &format!("/applications/{id}/federatedIdentityCredentials"),
        Some(credential(
            "deploy-update",
            PULUMI_ISSUER,
            SUBJECT,
            "contoso",
        )),
    )
    .await
    .assert_graph_error(403, "Authorization_RequestDenied");
    me.graph(Method::GET, &format!("/applications/{id}"), None)
        .await
        .assert_graph_error(403, "Authorization_RequestDenied");
    // It is the owner all the same, as the admin can see.
    let owners = api
        .graph(Method::GET, &format!("/applications/{id}/owners"), None)
        .await;
    assert_eq!(owners.json["value"][0]["id"], granted_oid(&api));
    assert_eq!(owners.json["value"][0]["appId"], GRANTED);
}

#[tokio::test(flavor = "multi_thread")]
async fn owners_are_listed_added_and_removed() {
    let api = Api::start_with(options()).await;
    let app = api.create_app("owned").await;
    let app_id = app["appId"].as_str().unwrap();
    let id = app["id"].as_str().unwrap();
    let admin = api
        .emu
        .operator_object_id(DEFAULT_OPERATOR_CLIENT_ID)
        .unwrap();
    let oid = granted_oid(&api);
    let owners = |path: String| {
        let api = &api;
        async move {
            let r = api.graph(Method::GET, &path, None).await;
            assert_eq!(r.status, 200, "{}", r.text);
            r.json["value"]
                .as_array()
                .unwrap()
                .iter()
                .map(|o| o["id"].as_str().unwrap().to_owned())
                .collect::<Vec<_>>()
        }
    };
    assert_eq!(
        owners(format!("/applications/{id}/owners")).await,
        std::slice::from_ref(&admin)
    );
    let reference =
        json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{oid}")});
    let add = format!("/applications(appId='{app_id}')/owners/$ref");
    let added = api.graph(Method::POST, &add, Some(reference.clone())).await;
    assert_eq!((added.status, added.text.as_str()), (204, ""));
    assert_eq!(
        owners(format!("/applications(appId='{app_id}')/owners")).await,
        [admin.clone(), oid.clone()]
    );
    api.graph(Method::POST, &add, Some(reference))
        .await
        .assert_graph_error(400, "Request_BadRequest");
    api.graph(
        Method::POST,
        &add,
        Some(json!({"@odata.id": format!("https://graph.microsoft.com/v1.0/directoryObjects/{}", uuid::Uuid::new_v4())})),
    )
    .await
    .assert_graph_error(404, "Request_ResourceNotFound");

    // Now an owner, an OwnedBy caller may change it.
    grant_graph_role(&api, OWNED_BY).await;
    let me = Caller::granted(&api).await;
    let patched = me
        .graph(
            Method::PATCH,
            &format!("/applications/{id}"),
            Some(json!({"notes": "co-owned"})),
        )
        .await;
    assert_eq!(patched.status, 204, "{}", patched.text);

    // An owner with OwnedBy may remove an owner (application-delete-owners.md), though
    // not add one; the admin may do both.
    let remove_admin = format!("/applications/{id}/owners/{admin}/$ref");
    assert_eq!(
        me.graph(Method::DELETE, &remove_admin, None).await.status,
        204
    );
    let remove = format!("/applications/{id}/owners/{oid}/$ref");
    assert_eq!(api.graph(Method::DELETE, &remove, None).await.status, 204);
    api.graph(Method::DELETE, &remove, None)
        .await
        .assert_graph_error(404, "Request_ResourceNotFound");
    assert!(
        owners(format!("/applications/{id}/owners"))
            .await
            .is_empty()
    );
    me.graph(
        Method::PATCH,
        &format!("/applications/{id}"),
        Some(json!({"notes": "x"})),
    )
    .await
    .assert_graph_error(403, "Authorization_RequestDenied");
}

// ---- ARM: RBAC with conditions ----

#[tokio::test(flavor = "multi_thread")]
async fn the_full_operator_holds_an_implicit_owner_at_the_root() {
    let api = Api::start_with(options()).await;
    let admin = api
        .emu
        .operator_object_id(DEFAULT_OPERATOR_CLIENT_ID)
        .unwrap();
    let list = api
        .arm(
            Method::GET,
            &format!(
                "{SUBSCRIPTION}/resourceGroups/rg/providers/Microsoft.Authorization/roleAssignments?{API_VERSION}&$filter=principalId eq '{admin}'"
            ),
            None,
        )
        .await;
    assert_eq!(list.status, 200, "{}", list.text);
    let held = &list.json["value"][0]["properties"];
    assert_eq!(held["scope"], "/");
    let definition = held["roleDefinitionId"].as_str().unwrap();
    assert!(definition.ends_with("8e3af657-a8ff-443c-a75c-2fe8c4bcb635"));
    let owner = api
        .arm(Method::GET, &format!("{definition}?{API_VERSION}"), None)
        .await;
    assert_eq!(
        owner.json["properties"]["permissions"][0]["actions"],
        json!(["*"])
    );
    // Never in the state; the granted operator holds nothing.
    assert_eq!(api.emu.state()["roleAssignments"], json!([]));
    let none = api
        .arm(
            Method::GET,
            &format!(
                "{SUBSCRIPTION}/providers/Microsoft.Authorization/roleAssignments?{API_VERSION}&$filter=principalId eq '{}'",
                granted_oid(&api)
            ),
            None,
        )
        .await;
    assert_eq!(none.json["value"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_granted_operator_without_assignments_reads_only_subscriptions() {
    let api = Api::start_with(options()).await;
    let me = Caller::granted(&api).await;
    assert_eq!(
        me.arm(Method::GET, "/subscriptions?api-version=2022-12-01", None)
            .await
            .status,
        200
    );
    let denied = me
        .arm(
            Method::GET,
            &format!(
                "{SUBSCRIPTION}/providers/Microsoft.Authorization/roleAssignments?{API_VERSION}"
            ),
            None,
        )
        .await;
    denied.assert_arm_error(403, "AuthorizationFailed");
    assert_eq!(
        denied.message(),
        format!(
            "The client '{GRANTED}' with object id '{}' does not have authorization to perform action 'Microsoft.Authorization/roleAssignments/read' over scope '{SUBSCRIPTION}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
            granted_oid(&api)
        )
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_conditioned_rbac_administrator_assigns_only_what_its_condition_allows() {
    let api = Api::start_with(options()).await;
    let condition = tool_condition(&[READER, KEY_VAULT_SECRETS_USER]);
    // A condition that does not parse, or a version other than 2.0, is refused.
    let mut bad = assign_arm_role(
        &api,
        SUBSCRIPTION,
        RBAC_ADMINISTRATOR,
        Some("((!(ActionMatches{'x'}) OR".into()),
    )
    .await;
    bad.assert_arm_error(400, "InvalidRoleAssignmentCondition");
    assert_eq!(
        bad.message(),
        "The given role assignment condition is invalid."
    );
    let versioned = json!({"properties": {
        "roleDefinitionId": format!("{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{RBAC_ADMINISTRATOR}"),
        "principalId": granted_oid(&api),
        "principalType": "ServicePrincipal",
        "condition": condition,
        "conditionVersion": "1.0",
    }});
    bad = api
        .arm(
            Method::PUT,
            &api.role_assignment_path(SUBSCRIPTION, &uuid::Uuid::new_v4().to_string()),
            Some(versioned),
        )
        .await;
    bad.assert_arm_error(400, "InvalidRoleAssignmentCondition");

    // The admin makes it RBAC Administrator at the subscription, with the tool's condition.
    let made = assign_arm_role(
        &api,
        SUBSCRIPTION,
        RBAC_ADMINISTRATOR,
        Some(condition.clone()),
    )
    .await;
    assert_eq!(made.status, 201, "{}", made.text);
    assert_eq!(made.json["properties"]["condition"], json!(condition));
    assert_eq!(made.json["properties"]["conditionVersion"], "2.0");

    // Principals to assign roles to.
    let app = api.create_app("target").await;
    let target = api.create_sp(app["appId"].as_str().unwrap()).await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let rg = format!("{SUBSCRIPTION}/resourceGroups/app");
    let me = Caller::granted(&api).await;
    let put = |role: &str, kind: &str| {
        let name = uuid::Uuid::new_v4().to_string();
        let body = json!({"properties": {
            "roleDefinitionId": format!("{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{role}"),
            "principalId": target,
            "principalType": kind,
        }});
        let path = api.role_assignment_path(&rg, &name);
        let me = &me;
        async move { (me.arm(Method::PUT, &path, Some(body)).await, path) }
    };
    // It lists its own assignment, condition and all.
    let mine = me
        .arm(
            Method::GET,
            &format!(
                "{rg}/providers/Microsoft.Authorization/roleAssignments?{API_VERSION}&$filter=principalId eq '{}'",
                granted_oid(&api)
            ),
            None,
        )
        .await;
    assert_eq!(mine.status, 200, "{}", mine.text);
    assert_eq!(
        mine.json["value"][0]["properties"]["condition"],
        json!(condition)
    );
    assert_eq!(
        mine.json["value"][0]["properties"]["conditionVersion"],
        "2.0"
    );

    let (reader, reader_path) = put(READER, "ServicePrincipal").await;
    assert_eq!(reader.status, 201, "{}", reader.text);
    let (contributor, contributor_path) = put(CONTRIBUTOR, "ServicePrincipal").await;
    contributor.assert_arm_error(403, "AuthorizationFailed");
    let assignment_id = contributor_path.split('?').next().unwrap();
    assert_eq!(
        contributor.message(),
        format!(
            "The client '{GRANTED}' with object id '{}' does not have authorization or an ABAC condition not fulfilled to perform action 'Microsoft.Authorization/roleAssignments/write' over scope '{assignment_id}' or the scope is invalid. If access was recently granted, please refresh your credentials.",
            granted_oid(&api)
        )
    );
    let (user, _) = put(KEY_VAULT_SECRETS_USER, "User").await;
    user.assert_arm_error(403, "AuthorizationFailed");
    assert!(user.message().contains("ABAC condition not fulfilled"));

    // Deletes are judged on the assignment they remove.
    let admins = api
        .arm(
            Method::PUT,
            &contributor_path,
            Some(json!({"properties": {
                "roleDefinitionId": format!("{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{CONTRIBUTOR}"),
                "principalId": target,
                "principalType": "ServicePrincipal",
            }})),
        )
        .await;
    assert_eq!(admins.status, 201, "{}", admins.text);
    let refused = me.arm(Method::DELETE, &contributor_path, None).await;
    refused.assert_arm_error(403, "AuthorizationFailed");
    assert!(refused.message().contains("roleAssignments/delete"));
    assert_eq!(me.arm(Method::DELETE, &reader_path, None).await.status, 200);
    // One that is gone: nothing to protect, 204.
    assert_eq!(me.arm(Method::DELETE, &reader_path, None).await.status, 204);
    // Outside its scope it may do nothing.
    let elsewhere = me
        .arm(
            Method::PUT,
            &api.role_assignment_path("/subscriptions/00000000-0000-4000-8000-0000000000ff", &uuid::Uuid::new_v4().to_string()),
            Some(json!({"properties": {
                "roleDefinitionId": format!("/providers/Microsoft.Authorization/roleDefinitions/{READER}"),
                "principalId": target,
                "principalType": "ServicePrincipal",
            }})),
        )
        .await;
    elsewhere.assert_arm_error(403, "AuthorizationFailed");
    assert!(
        !elsewhere.message().contains("ABAC"),
        "{}",
        elsewhere.message()
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn managed_identity_contributor_works_in_its_resource_group_only() {
    let api = Api::start_with(options()).await;
    let rg = format!("{SUBSCRIPTION}/resourceGroups/rg-oidc");
    let made = assign_arm_role(&api, &rg, MANAGED_IDENTITY_CONTRIBUTOR, None).await;
    assert_eq!(made.status, 201, "{}", made.text);
    let me = Caller::granted(&api).await;
    let identity = |group: &str, name: &str| {
        format!(
            "{SUBSCRIPTION}/resourceGroups/{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
        )
    };
    let here = identity("rg-oidc", "deployer");
    let created = me
        .arm(
            Method::PUT,
            &format!("{here}?{V2024}"),
            Some(json!({"location": "westeurope"})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let fic = json!({"properties": {"issuer": PULUMI_ISSUER, "subject": SUBJECT, "audiences": ["contoso"]}});
    let credential = me
        .arm(
            Method::PUT,
            &format!("{here}/federatedIdentityCredentials/deploy-update?{V2024}"),
            Some(fic.clone()),
        )
        .await;
    assert_eq!(credential.status, 201, "{}", credential.text);
    let listed = me
        .arm(
            Method::GET,
            &format!("{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities?{V2024}"),
            None,
        )
        .await;
    assert_eq!(
        listed.json["value"].as_array().unwrap().len(),
        1,
        "{}",
        listed.text
    );

    // Another resource group, the subscription's list, role assignments: refused.
    let there = identity("rg-other", "deployer");
    let refused = me
        .arm(
            Method::PUT,
            &format!("{there}?{V2024}"),
            Some(json!({"location": "westeurope"})),
        )
        .await;
    refused.assert_arm_error(403, "AuthorizationFailed");
    assert!(
        refused.message().contains(
            "to perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/write' over scope '/subscriptions/00000000-0000-4000-8000-000000000001/resourcegroups/rg-other/providers/Microsoft.ManagedIdentity/userAssignedIdentities/deployer'"
        ),
        "{}",
        refused.message()
    );
    me.arm(
        Method::GET,
        &format!(
            "{SUBSCRIPTION}/providers/Microsoft.ManagedIdentity/userAssignedIdentities?{V2024}"
        ),
        None,
    )
    .await
    .assert_arm_error(403, "AuthorizationFailed");
    let admin_there = api
        .arm(
            Method::PUT,
            &format!("{there}?{V2024}"),
            Some(json!({"location": "westeurope"})),
        )
        .await;
    assert_eq!(admin_there.status, 201);
    me.arm(
        Method::PUT,
        &format!("{there}/federatedIdentityCredentials/x1?{V2024}"),
        Some(fic),
    )
    .await
    .assert_arm_error(403, "AuthorizationFailed");
    let principal = created.json["properties"]["principalId"].as_str().unwrap();
    me.arm(
        Method::PUT,
        &api.role_assignment_path(&rg, &uuid::Uuid::new_v4().to_string()),
        Some(common::role_assignment(READER, principal)),
    )
    .await
    .assert_arm_error(403, "AuthorizationFailed");
    // Its own assignments it may read there (`Microsoft.Authorization/*/read`).
    let mine = me
        .arm(
            Method::GET,
            &format!(
                "{rg}/providers/Microsoft.Authorization/roleAssignments?{API_VERSION}&$filter=principalId eq '{}'",
                granted_oid(&api)
            ),
            None,
        )
        .await;
    assert_eq!(mine.status, 200, "{}", mine.text);
    // And deletes what it made.
    assert_eq!(
        me.arm(
            Method::DELETE,
            &format!("{here}/federatedIdentityCredentials/deploy-update?{V2024}"),
            None
        )
        .await
        .status,
        200
    );
    assert_eq!(
        me.arm(Method::DELETE, &format!("{here}?{V2024}"), None)
            .await
            .status,
        200
    );
}
