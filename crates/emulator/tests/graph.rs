#![allow(clippy::unwrap_used)]
//! Microsoft Graph v1.0 as the emulator serves it: applications, service principals
//! and federated identity credentials, their success shapes and every documented
//! error, checked over HTTPS with a client that trusts the CA.

mod common;

use common::{Api, GRAPH_SCOPE, credential};
use pulumi_azure_oidc_emulator::{Operator, Options, PULUMI_ISSUER, Rights};
use reqwest::Method;
use serde_json::json;

const DEPLOY_SUBJECT: &str =
    "pulumi:deploy:org:contoso:project:core:stack:dev:operation:update:scope:write";

#[tokio::test(flavor = "multi_thread")]
async fn graph_refuses_missing_foreign_and_unknown_tokens() {
    let api = Api::start().await;
    let url = format!("{}/v1.0/applications", api.base);
    let none = api.send(Method::GET, &url, None, None, &[]).await;
    none.assert_graph_error(401, "InvalidAuthenticationToken");
    let arm = format!("Bearer {}", api.arm_token);
    let wrong_resource = api.send(Method::GET, &url, Some(&arm), None, &[]).await;
    wrong_resource.assert_graph_error(401, "InvalidAuthenticationToken");
    assert!(
        wrong_resource.message().contains("audience"),
        "{}",
        wrong_resource.text
    );
    let bogus = api
        .send(Method::GET, &url, Some("Bearer not-a-token"), None, &[])
        .await;
    bogus.assert_graph_error(401, "InvalidAuthenticationToken");
    // A client-request-id the caller sends comes back in innerError.
    let echoed = api
        .send(
            Method::GET,
            &url,
            None,
            None,
            &[("client-request-id", "abc-123")],
        )
        .await;
    assert_eq!(
        echoed.json["error"]["innerError"]["client-request-id"],
        "abc-123"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn read_only_operator_reads_but_gets_403_on_writes() {
    let mut options = Options::default();
    options.operators.push(Operator {
        client_id: "11111111-2222-4333-8444-555555555555".into(),
        client_secret: "read-only-secret".into(),
        rights: Rights::ReadOnly,
    });
    let api = Api::start_with(options).await;
    let app = api.create_app("written-by-the-writer").await;
    let token = api
        .secret_token(
            "11111111-2222-4333-8444-555555555555",
            "read-only-secret",
            GRAPH_SCOPE,
        )
        .await;
    let auth = format!("Bearer {token}");
    let list = api
        .send(
            Method::GET,
            &format!("{}/v1.0/applications", api.base),
            Some(&auth),
            None,
            &[],
        )
        .await;
    assert_eq!(list.status, 200, "{}", list.text);
    let body = json!({"displayName": "x"});
    let create = api
        .send(
            Method::POST,
            &format!("{}/v1.0/applications", api.base),
            Some(&auth),
            Some(&body),
            &[],
        )
        .await;
    create.assert_graph_error(403, "Authorization_RequestDenied");
    let fic = credential("c1", PULUMI_ISSUER, DEPLOY_SUBJECT, "contoso");
    let url = format!(
        "{}/v1.0/applications/{}/federatedIdentityCredentials",
        api.base,
        app["id"].as_str().unwrap()
    );
    let post = api
        .send(Method::POST, &url, Some(&auth), Some(&fic), &[])
        .await;
    post.assert_graph_error(403, "Authorization_RequestDenied");
    let delete_url = format!(
        "{}/v1.0/applications/{}",
        api.base,
        app["id"].as_str().unwrap()
    );
    let delete = api
        .send(Method::DELETE, &delete_url, Some(&auth), None, &[])
        .await;
    delete.assert_graph_error(403, "Authorization_RequestDenied");
}

#[tokio::test(flavor = "multi_thread")]
async fn applications_create_read_update_delete() {
    let api = Api::start().await;
    let r = api
        .graph(
            Method::POST,
            "/applications",
            Some(json!({"displayName": "pulumi-oidc-contoso", "signInAudience": "AzureADMyOrg", "tags": ["pulumi-azure-oidc"], "notes": "owned"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let app = r.json.clone();
    let id = app["id"].as_str().unwrap().to_owned();
    let app_id = app["appId"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&id).is_ok() && uuid::Uuid::parse_str(&app_id).is_ok());
    assert_ne!(id, app_id);
    assert_eq!(app["displayName"], "pulumi-oidc-contoso");
    assert_eq!(app["signInAudience"], "AzureADMyOrg");
    assert_eq!(app["tags"], json!(["pulumi-azure-oidc"]));
    assert_eq!(app["notes"], "owned");
    assert_eq!(
        app["@odata.context"],
        json!(format!("{}/v1.0/$metadata#applications/$entity", api.base))
    );
    assert!(
        r.header("content-type")
            .unwrap()
            .starts_with("application/json;odata.metadata=minimal")
    );
    assert_eq!(r.header("odata-version"), Some("4.0"));
    assert!(r.header("request-id").is_some());

    for path in [
        format!("/applications/{id}"),
        format!("/applications(appId='{app_id}')"),
    ] {
        let got = api.graph(Method::GET, &path, None).await;
        assert_eq!(got.status, 200, "{path}: {}", got.text);
        assert_eq!(got.json["id"], json!(id));
        assert_eq!(got.json["appId"], json!(app_id));
        // Reading one application costs the default 1 resource unit; only the list,
        // `GET applications`, costs 2 (concepts/throttling-limits.md).
        assert_eq!(got.header("x-ms-resource-unit"), Some("1"));
    }

    // Update: 204, then visible.
    let patch = api
        .graph(
            Method::PATCH,
            &format!("/applications/{id}"),
            Some(json!({"tags": ["a", "b"], "notes": "changed"})),
        )
        .await;
    assert_eq!((patch.status, patch.text.as_str()), (204, ""));
    let got = api
        .graph(Method::GET, &format!("/applications/{id}"), None)
        .await;
    assert_eq!(got.json["tags"], json!(["a", "b"]));
    assert_eq!(got.json["notes"], "changed");
    assert_eq!(got.json["displayName"], "pulumi-oidc-contoso");

    // Delete: 204, then 404 for every key form, and 404 for a second delete.
    let delete = api
        .graph(Method::DELETE, &format!("/applications/{id}"), None)
        .await;
    assert_eq!(delete.status, 204);
    for path in [
        format!("/applications/{id}"),
        format!("/applications(appId='{app_id}')"),
    ] {
        let gone = api.graph(Method::GET, &path, None).await;
        gone.assert_graph_error(404, "Request_ResourceNotFound");
        assert!(
            gone.message().ends_with(
                "does not exist or one of its queried reference-property objects are not present."
            ),
            "{}",
            gone.message()
        );
    }
    api.graph(Method::DELETE, &format!("/applications/{id}"), None)
        .await
        .assert_graph_error(404, "Request_ResourceNotFound");
    api.graph(
        Method::PATCH,
        &format!("/applications/{id}"),
        Some(json!({"notes": "x"})),
    )
    .await
    .assert_graph_error(404, "Request_ResourceNotFound");
}

#[tokio::test(flavor = "multi_thread")]
async fn application_bodies_are_validated() {
    let api = Api::start().await;
    let cases = [
        json!({}),
        json!({"signInAudience": "AzureADMyOrg"}),
        json!({"displayName": ""}),
        json!({"displayName": 7}),
        json!({"displayName": "x", "signInAudience": "Everyone"}),
        json!({"displayName": "x", "unknownProperty": true}),
        json!({"displayName": "x", "tags": "not-a-list"}),
        json!(["not", "an", "object"]),
    ];
    for body in cases {
        let r = api
            .graph(Method::POST, "/applications", Some(body.clone()))
            .await;
        r.assert_graph_error(400, "Request_BadRequest");
        assert!(!r.message().is_empty(), "{body}");
    }
    let unknown = api
        .graph(
            Method::POST,
            "/applications",
            Some(json!({"displayName": "x", "secretSauce": 1})),
        )
        .await;
    assert!(
        unknown.message().contains("secretSauce"),
        "{}",
        unknown.text
    );
    // Not JSON at all.
    let url = format!("{}/v1.0/applications", api.base);
    let raw = api
        .http
        .post(&url)
        .bearer_auth(&api.graph_token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    common::Resp::read(raw)
        .await
        .assert_graph_error(400, "Request_BadRequest");
    // A resource Graph does not have.
    api.graph(Method::GET, "/widgets", None)
        .await
        .assert_graph_error(400, "BadRequest");
}

#[tokio::test(flavor = "multi_thread")]
async fn upsert_by_unique_name_is_201_then_204_and_404_without_prefer() {
    let api = Api::start().await;
    let path = "/applications(uniqueName='pulumi-oidc-contoso')";
    let body = json!({"displayName": "pulumi-oidc-contoso", "signInAudience": "AzureADMyOrg"});
    let missing = api.graph(Method::PATCH, path, Some(body.clone())).await;
    missing.assert_graph_error(404, "Request_ResourceNotFound");
    assert_eq!(api.emu.state()["applications"], json!([]));

    let prefer = [("Prefer", "create-if-missing")];
    let created = api
        .graph_with(Method::PATCH, path, Some(body.clone()), &prefer)
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.json["uniqueName"], "pulumi-oidc-contoso");
    assert_eq!(created.json["displayName"], "pulumi-oidc-contoso");
    let id = created.json["id"].as_str().unwrap().to_owned();

    let again = api
        .graph_with(
            Method::PATCH,
            path,
            Some(json!({"displayName": "renamed", "notes": "n"})),
            &prefer,
        )
        .await;
    assert_eq!((again.status, again.text.as_str()), (204, ""));
    // Without Prefer an existing app is simply updated.
    let update = api
        .graph(Method::PATCH, path, Some(json!({"tags": ["t"]})))
        .await;
    assert_eq!(update.status, 204);
    let got = api.graph(Method::GET, path, None).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.json["id"], json!(id));
    assert_eq!(got.json["displayName"], "renamed");
    assert_eq!(got.json["tags"], json!(["t"]));
    assert_eq!(api.emu.state()["applications"].as_array().unwrap().len(), 1);

    // uniqueName is immutable; a create with a taken uniqueName conflicts.
    let change = api
        .graph(Method::PATCH, path, Some(json!({"uniqueName": "other"})))
        .await;
    change.assert_graph_error(400, "Request_BadRequest");
    let dup = api
        .graph(
            Method::POST,
            "/applications",
            Some(json!({"displayName": "x", "uniqueName": "pulumi-oidc-contoso"})),
        )
        .await;
    dup.assert_graph_error(409, "Request_MultipleObjectsWithSameKeyValue");
    // A bad key segment.
    api.graph(Method::GET, "/applications(uniqueName=unquoted)", None)
        .await
        .assert_graph_error(400, "Request_BadRequest");
}

#[tokio::test(flavor = "multi_thread")]
async fn list_filters_and_pages_with_next_link() {
    let api = Api::start().await;
    let mut app_ids = Vec::new();
    for i in 0..5 {
        let app = api.create_app(&format!("pulumi-page-{i}")).await;
        app_ids.push(app["appId"].as_str().unwrap().to_owned());
    }
    api.create_app("other-app").await;

    let all = api.graph(Method::GET, "/applications", None).await;
    assert_eq!(all.status, 200);
    assert_eq!(
        all.json["@odata.context"],
        json!(format!("{}/v1.0/$metadata#applications", api.base))
    );
    assert_eq!(all.json["value"].as_array().unwrap().len(), 6);
    assert!(all.json.get("@odata.nextLink").is_none());

    let by_name = api
        .graph(
            Method::GET,
            "/applications?$filter=displayName eq 'pulumi-page-3'",
            None,
        )
        .await;
    assert_eq!(by_name.status, 200, "{}", by_name.text);
    let names: Vec<&str> = by_name.json["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["displayName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["pulumi-page-3"]);

    let by_app_id = api
        .graph(
            Method::GET,
            &format!("/applications?$filter=appId eq '{}'", app_ids[1]),
            None,
        )
        .await;
    assert_eq!(by_app_id.json["value"][0]["appId"], json!(app_ids[1]));
    assert_eq!(by_app_id.json["value"].as_array().unwrap().len(), 1);
    let and = api
        .graph(
            Method::GET,
            "/applications?$filter=displayName eq 'pulumi-page-2' and signInAudience eq 'AzureADMyOrg'",
            None,
        )
        .await;
    assert_eq!(
        and.json["value"].as_array().unwrap().len(),
        1,
        "{}",
        and.text
    );
    let none = api
        .graph(
            Method::GET,
            "/applications?$filter=displayName eq 'nope'",
            None,
        )
        .await;
    assert_eq!((none.status, none.json["value"].clone()), (200, json!([])));

    // Paging: $top=2 over the five matching apps gives 2 + 2 + 1.
    let mut url = format!(
        "{}/v1.0/applications?$filter=startswith(displayName,'pulumi-page')&$top=2",
        api.base
    );
    let auth = format!("Bearer {}", api.graph_token);
    let mut pages = Vec::new();
    let mut seen = Vec::new();
    loop {
        let page = api.send(Method::GET, &url, Some(&auth), None, &[]).await;
        assert_eq!(page.status, 200, "{}", page.text);
        let items = page.json["value"].as_array().unwrap();
        pages.push(items.len());
        seen.extend(
            items
                .iter()
                .map(|a| a["appId"].as_str().unwrap().to_owned()),
        );
        match page.json["@odata.nextLink"].as_str() {
            Some(next) => {
                assert!(next.starts_with(&api.base), "{next}");
                url = next.to_owned();
            }
            None => break,
        }
    }
    assert_eq!(pages, [2, 2, 1]);
    seen.sort();
    app_ids.sort();
    assert_eq!(seen, app_ids);

    // Over plain HTTP the same service answers, and its links stay on HTTP.
    let http = format!(
        "{}/v1.0/applications?$filter=startswith(displayName,'pulumi-page')&$top=4",
        api.emu.http_url()
    );
    let page = api.send(Method::GET, &http, Some(&auth), None, &[]).await;
    assert_eq!(page.status, 200, "{}", page.text);
    assert_eq!(page.json["value"].as_array().unwrap().len(), 4);
    let next = page.json["@odata.nextLink"].as_str().unwrap();
    assert!(
        next.starts_with(&format!("{}/v1.0/applications?", api.emu.http_url())),
        "{next}"
    );
    let last = api.send(Method::GET, next, Some(&auth), None, &[]).await;
    assert_eq!(last.json["value"].as_array().unwrap().len(), 1);

    api.graph(Method::GET, "/applications?$filter=secret eq 'x'", None)
        .await
        .assert_graph_error(400, "Request_UnsupportedQuery");
    api.graph(
        Method::GET,
        "/applications?$filter=displayName gt 'x'",
        None,
    )
    .await
    .assert_graph_error(400, "Request_UnsupportedQuery");
    api.graph(Method::GET, "/applications?$top=0", None)
        .await
        .assert_graph_error(400, "Request_BadRequest");
    api.graph(Method::GET, "/applications?$top=1000", None)
        .await
        .assert_graph_error(400, "Request_BadRequest");
}

#[tokio::test(flavor = "multi_thread")]
async fn service_principals_create_conflict_upsert_list_delete() {
    let api = Api::start().await;
    let app = api.create_app("pulumi-sp").await;
    let app_id = app["appId"].as_str().unwrap();
    let r = api
        .graph(
            Method::POST,
            "/servicePrincipals",
            Some(json!({"appId": app_id})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let sp = r.json.clone();
    let sp_id = sp["id"].as_str().unwrap().to_owned();
    assert_ne!(sp_id, app_id);
    assert_eq!(sp["appId"], json!(app_id));
    assert_eq!(sp["displayName"], "pulumi-sp");
    assert_eq!(sp["servicePrincipalNames"], json!([app_id]));
    assert_eq!(sp["accountEnabled"], true);
    assert_eq!(
        sp["@odata.context"],
        json!(format!(
            "{}/v1.0/$metadata#servicePrincipals/$entity",
            api.base
        ))
    );

    // Duplicate: the 409 captured in Azure/reliable-web-app-pattern-java#185.
    let dup = api
        .graph(
            Method::POST,
            "/servicePrincipals",
            Some(json!({"appId": app_id})),
        )
        .await;
    dup.assert_graph_error(409, "Request_MultipleObjectsWithSameKeyValue");
    assert_eq!(
        dup.message(),
        format!(
            "The service principal cannot be created, updated, or restored because the service principal name {app_id} is already in use."
        )
    );

    // Reads by id, by appId key, and by $filter.
    let by_id = api
        .graph(Method::GET, &format!("/servicePrincipals/{sp_id}"), None)
        .await;
    assert_eq!(
        (by_id.status, by_id.json["id"].clone()),
        (200, json!(sp_id))
    );
    let by_key = api
        .graph(
            Method::GET,
            &format!("/servicePrincipals(appId='{app_id}')"),
            None,
        )
        .await;
    assert_eq!(
        (by_key.status, by_key.json["id"].clone()),
        (200, json!(sp_id))
    );
    let listed = api
        .graph(
            Method::GET,
            &format!("/servicePrincipals?$filter=appId eq '{app_id}'"),
            None,
        )
        .await;
    assert_eq!(listed.status, 200);
    assert_eq!(listed.json["value"].as_array().unwrap().len(), 1);
    assert_eq!(listed.json["value"][0]["id"], json!(sp_id));

    // Upsert by appId: 204 for the existing one.
    let prefer = [("Prefer", "create-if-missing")];
    let existing = api
        .graph_with(
            Method::PATCH,
            &format!("/servicePrincipals(appId='{app_id}')"),
            Some(json!({"tags": ["x"]})),
            &prefer,
        )
        .await;
    assert_eq!(existing.status, 204, "{}", existing.text);
    // …201 for a new one, 404 without Prefer.
    let other = api.create_app("pulumi-sp-2").await;
    let other_id = other["appId"].as_str().unwrap();
    let path = format!("/servicePrincipals(appId='{other_id}')");
    api.graph(Method::PATCH, &path, Some(json!({})))
        .await
        .assert_graph_error(404, "Request_ResourceNotFound");
    let created = api
        .graph_with(Method::PATCH, &path, Some(json!({})), &prefer)
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.json["appId"], json!(other_id));

    // An appId that is no application: the replication-style 400.
    let ghost = "9d0c5a4e-0000-4000-8000-00000000beef";
    let bad = api
        .graph(
            Method::POST,
            "/servicePrincipals",
            Some(json!({"appId": ghost})),
        )
        .await;
    bad.assert_graph_error(400, "Request_BadRequest");
    assert!(
        bad.message()
            .contains("does not reference a valid application object")
    );
    api.graph(Method::POST, "/servicePrincipals", Some(json!({})))
        .await
        .assert_graph_error(400, "Request_BadRequest");

    // Delete, then 404; deleting an app takes its service principal with it.
    let delete = api
        .graph(Method::DELETE, &format!("/servicePrincipals/{sp_id}"), None)
        .await;
    assert_eq!(delete.status, 204);
    api.graph(Method::GET, &format!("/servicePrincipals/{sp_id}"), None)
        .await
        .assert_graph_error(404, "Request_ResourceNotFound");
    let other_object = other["id"].as_str().unwrap();
    assert_eq!(
        api.graph(
            Method::DELETE,
            &format!("/applications/{other_object}"),
            None
        )
        .await
        .status,
        204
    );
    api.graph(Method::GET, &path, None)
        .await
        .assert_graph_error(404, "Request_ResourceNotFound");
}

#[tokio::test(flavor = "multi_thread")]
async fn federated_credentials_by_id_name_and_upsert() {
    let api = Api::start().await;
    let app = api.create_app("pulumi-fic").await;
    let id = app["id"].as_str().unwrap();
    let app_id = app["appId"].as_str().unwrap();
    let list_path = format!("/applications/{id}/federatedIdentityCredentials");

    let empty = api.graph(Method::GET, &list_path, None).await;
    assert_eq!(empty.status, 200);
    assert_eq!(empty.json["value"], json!([]));
    assert_eq!(
        empty.json["@odata.context"],
        json!(format!(
            "{}/v1.0/$metadata#applications('{id}')/federatedIdentityCredentials",
            api.base
        ))
    );

    let created = api
        .post_credential(
            id,
            credential("deploy-update", PULUMI_ISSUER, DEPLOY_SUBJECT, "contoso"),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let fic = created.json.clone();
    let fic_id = fic["id"].as_str().unwrap().to_owned();
    assert!(uuid::Uuid::parse_str(&fic_id).is_ok());
    assert_eq!(fic["name"], "deploy-update");
    assert_eq!(fic["issuer"], PULUMI_ISSUER);
    assert_eq!(fic["subject"], DEPLOY_SUBJECT);
    assert_eq!(fic["audiences"], json!(["contoso"]));
    assert_eq!(fic["description"], "managed by pulumi-azure-oidc");
    assert_eq!(
        fic["@odata.context"],
        json!(format!(
            "{}/v1.0/$metadata#applications('{id}')/federatedIdentityCredentials/$entity",
            api.base
        ))
    );

    // Get by id and by name, through the object id and the appId key.
    for path in [
        format!("{list_path}/{fic_id}"),
        format!("{list_path}/deploy-update"),
        format!("/applications(appId='{app_id}')/federatedIdentityCredentials/deploy-update"),
    ] {
        let got = api.graph(Method::GET, &path, None).await;
        assert_eq!(got.status, 200, "{path}: {}", got.text);
        assert_eq!(got.json["id"], json!(fic_id));
    }
    let by_app_id = api
        .graph(
            Method::GET,
            &format!("/applications(appId='{app_id}')/federatedIdentityCredentials"),
            None,
        )
        .await;
    assert_eq!(by_app_id.json["value"].as_array().unwrap().len(), 1);

    // Update by id and by name: 204, name required-but-immutable may be repeated.
    let upd = api
        .graph(
            Method::PATCH,
            &format!("{list_path}/{fic_id}"),
            Some(json!({"name": "deploy-update", "description": "changed"})),
        )
        .await;
    assert_eq!((upd.status, upd.text.as_str()), (204, ""));
    let upd = api
        .graph(
            Method::PATCH,
            &format!("{list_path}/deploy-update"),
            Some(json!({"audiences": ["azure:contoso"]})),
        )
        .await;
    assert_eq!(upd.status, 204);
    let got = api
        .graph(Method::GET, &format!("{list_path}/{fic_id}"), None)
        .await;
    assert_eq!(got.json["description"], "changed");
    assert_eq!(got.json["audiences"], json!(["azure:contoso"]));
    api.graph(
        Method::PATCH,
        &format!("{list_path}/{fic_id}"),
        Some(json!({"name": "renamed"})),
    )
    .await
    .assert_graph_error(400, "Request_BadRequest");
    api.graph(
        Method::PATCH,
        &format!("{list_path}/no-such-credential"),
        Some(json!({"description": "x"})),
    )
    .await
    .assert_graph_error(404, "Request_ResourceNotFound");

    // Upsert by name key: 404 without Prefer, 201 with, then 204.
    let key_path =
        format!("/applications/{id}/federatedIdentityCredentials(name='deploy-preview')");
    let preview_subject = DEPLOY_SUBJECT.replace(":update:", ":preview:");
    let body =
        json!({"issuer": PULUMI_ISSUER, "subject": preview_subject, "audiences": ["contoso"]});
    api.graph(Method::PATCH, &key_path, Some(body.clone()))
        .await
        .assert_graph_error(404, "Request_ResourceNotFound");
    let prefer = [("Prefer", "create-if-missing")];
    let up = api
        .graph_with(Method::PATCH, &key_path, Some(body.clone()), &prefer)
        .await;
    assert_eq!(up.status, 201, "{}", up.text);
    assert_eq!(up.json["name"], "deploy-preview");
    let up = api
        .graph_with(Method::PATCH, &key_path, Some(body), &prefer)
        .await;
    assert_eq!(up.status, 204, "{}", up.text);

    // $filter on subject.
    let filtered = api
        .graph(
            Method::GET,
            &format!("{list_path}?$filter=subject eq '{preview_subject}'"),
            None,
        )
        .await;
    assert_eq!(filtered.status, 200, "{}", filtered.text);
    let names: Vec<&str> = filtered.json["value"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["deploy-preview"]);

    // Delete by name and by id, then 404 with the captured message.
    assert_eq!(
        api.graph(Method::DELETE, &format!("{list_path}/deploy-preview"), None)
            .await
            .status,
        204
    );
    assert_eq!(
        api.graph(Method::DELETE, &format!("{list_path}/{fic_id}"), None)
            .await
            .status,
        204
    );
    let gone = api
        .graph(Method::GET, &format!("{list_path}/deploy-update"), None)
        .await;
    gone.assert_graph_error(404, "Request_ResourceNotFound");
    assert_eq!(
        gone.message(),
        "FederatedIdentityCredential with name deploy-update not found."
    );
    api.graph(Method::DELETE, &format!("{list_path}/deploy-update"), None)
        .await
        .assert_graph_error(404, "Request_ResourceNotFound");

    // The parent must exist.
    let ghost = "/applications/00000000-0000-4000-8000-000000000000/federatedIdentityCredentials";
    api.graph(Method::GET, ghost, None)
        .await
        .assert_graph_error(404, "Request_ResourceNotFound");
    api.graph(
        Method::POST,
        ghost,
        Some(credential(
            "x-y-z",
            PULUMI_ISSUER,
            DEPLOY_SUBJECT,
            "contoso",
        )),
    )
    .await
    .assert_graph_error(404, "Request_ResourceNotFound");
}

#[tokio::test(flavor = "multi_thread")]
async fn the_twenty_first_credential_is_refused() {
    let api = Api::start().await;
    let app = api.create_app("pulumi-limit").await;
    let id = app["id"].as_str().unwrap();
    for i in 0..20 {
        let r = api
            .post_credential(
                id,
                credential(
                    &format!("cred-{i:02}"),
                    PULUMI_ISSUER,
                    &format!("{DEPLOY_SUBJECT}:{i}"),
                    "contoso",
                ),
            )
            .await;
        assert_eq!(r.status, 201, "credential {i}: {}", r.text);
    }
    let r = api
        .post_credential(
            id,
            credential("cred-20", PULUMI_ISSUER, "subject-20", "contoso"),
        )
        .await;
    // The status and code are an assumption (no captured body exists).
    r.assert_graph_error(400, "Request_BadRequest");
    assert!(r.message().contains("20"), "{}", r.message());
    // Upsert of a 21st is refused the same way; updating one of the 20 still works.
    let upsert = api
        .graph_with(
            Method::PATCH,
            &format!("/applications/{id}/federatedIdentityCredentials(name='cred-21')"),
            Some(json!({"issuer": PULUMI_ISSUER, "subject": "s21", "audiences": ["contoso"]})),
            &[("Prefer", "create-if-missing")],
        )
        .await;
    upsert.assert_graph_error(400, "Request_BadRequest");
    let update = api
        .graph(
            Method::PATCH,
            &format!("/applications/{id}/federatedIdentityCredentials/cred-05"),
            Some(json!({"description": "still fine"})),
        )
        .await;
    assert_eq!(update.status, 204, "{}", update.text);
    let list = api
        .graph(
            Method::GET,
            &format!("/applications/{id}/federatedIdentityCredentials"),
            None,
        )
        .await;
    assert_eq!(list.json["value"].as_array().unwrap().len(), 20);
}

#[tokio::test(flavor = "multi_thread")]
async fn credential_rules_names_pairs_audiences_lengths_properties() {
    let api = Api::start().await;
    let app = api.create_app("pulumi-rules").await;
    let id = app["id"].as_str().unwrap();
    let ok = api
        .post_credential(
            id,
            credential("first", PULUMI_ISSUER, DEPLOY_SUBJECT, "contoso"),
        )
        .await;
    assert_eq!(ok.status, 201);

    // Duplicate name: the 409 captured in Azure/azure-dev#1482.
    let dup = api
        .post_credential(
            id,
            credential("first", PULUMI_ISSUER, "another-subject", "contoso"),
        )
        .await;
    dup.assert_graph_error(409, "Request_MultipleObjectsWithSameKeyValue");
    assert_eq!(
        dup.message(),
        "FederatedIdentityCredential with name first already exists."
    );

    // Duplicate issuer + subject under another name: the captured 400.
    let pair = api
        .post_credential(
            id,
            credential("second", PULUMI_ISSUER, DEPLOY_SUBJECT, "other-aud"),
        )
        .await;
    pair.assert_graph_error(400, "InvalidFederatedIdentityCredentialValue");
    assert!(
        pair.message().starts_with(
            "The combination of issuer and subject must be unique for the application."
        ),
        "{}",
        pair.message()
    );
    assert!(
        pair.message()
            .contains(&format!("paramValue: {DEPLOY_SUBJECT}"))
    );
    // The same subject under another issuer is a different pair; matching is case-sensitive.
    let other_issuer = api
        .post_credential(
            id,
            credential(
                "third",
                "https://api.pulumi.com/oidc/v2",
                DEPLOY_SUBJECT,
                "contoso",
            ),
        )
        .await;
    assert_eq!(other_issuer.status, 201, "{}", other_issuer.text);
    let other_case = api
        .post_credential(
            id,
            credential(
                "fourth",
                PULUMI_ISSUER,
                &DEPLOY_SUBJECT.to_uppercase(),
                "contoso",
            ),
        )
        .await;
    assert_eq!(other_case.status, 201, "{}", other_case.text);
    // An update that would duplicate a pair is refused too.
    api.graph(
        Method::PATCH,
        &format!("/applications/{id}/federatedIdentityCredentials/fourth"),
        Some(json!({"subject": DEPLOY_SUBJECT})),
    )
    .await
    .assert_graph_error(400, "InvalidFederatedIdentityCredentialValue");

    // Names: 3–120 of [A-Za-z0-9_-], first alphanumeric (Entra's rule).
    let long_ok = "a".repeat(120);
    let long_bad = "a".repeat(121);
    for (n, name) in [
        "ab",
        "-abc",
        "_abc",
        "a.bc",
        "a b c",
        "abc/def",
        "caf\u{e9}",
        long_bad.as_str(),
        "",
    ]
    .iter()
    .enumerate()
    {
        let r = api
            .post_credential(
                id,
                credential(name, PULUMI_ISSUER, &format!("name-subject-{n}"), "contoso"),
            )
            .await;
        r.assert_graph_error(400, "Request_BadRequest");
    }
    for (n, name) in ["abc", "A1_-", long_ok.as_str()].iter().enumerate() {
        let r = api
            .post_credential(
                id,
                credential(name, PULUMI_ISSUER, &format!("good-name-{n}"), "contoso"),
            )
            .await;
        assert_eq!(r.status, 201, "{name}: {}", r.text);
    }

    // Exactly one audience.
    for audiences in [json!(["a", "b"]), json!([]), json!("contoso"), json!([7])] {
        let mut body = credential("aud-case", PULUMI_ISSUER, "aud-subject", "x");
        body["audiences"] = audiences.clone();
        let r = api.post_credential(id, body).await;
        r.assert_graph_error(400, "Request_BadRequest");
    }
    let mut two = credential("aud-two", PULUMI_ISSUER, "aud-subject", "x");
    two["audiences"] = json!(["contoso", "azure:contoso"]);
    let r = api.post_credential(id, two).await;
    assert_eq!(
        r.message(),
        "Federated identity credentials must have exactly one audience."
    );

    // 600 characters are accepted, 601 are not: issuer, subject, description, audience.
    // A value of exactly `n` characters for `field` (an issuer stays a URL).
    let sized = |field: &str, n: usize| match field {
        "issuer" => json!(format!("https://{}", "x".repeat(n - 8))),
        "audiences" => json!(["x".repeat(n)]),
        _ => json!("x".repeat(n)),
    };
    let cases = ["issuer", "subject", "description", "audiences"];
    for (i, field) in cases.iter().enumerate() {
        let mut body = credential(
            &format!("len-ok-{i}"),
            PULUMI_ISSUER,
            &format!("len-{i}"),
            "contoso",
        );
        body[*field] = sized(field, 600);
        let r = api.post_credential(id, body).await;
        assert_eq!(r.status, 201, "{field} at 600: {}", r.text);
        let mut body = credential(
            &format!("len-bad-{i}"),
            PULUMI_ISSUER,
            &format!("len-bad-{i}"),
            "contoso",
        );
        body[*field] = sized(field, 601);
        api.post_credential(id, body)
            .await
            .assert_graph_error(400, "Request_BadRequest");
    }

    // Unknown and missing properties, and wrong types.
    let mut unknown = credential("unknown-prop", PULUMI_ISSUER, "u", "contoso");
    unknown["claimsMatchingExpression"] = json!({"value": "x", "languageVersion": 1});
    let r = api.post_credential(id, unknown).await;
    r.assert_graph_error(400, "Request_BadRequest");
    assert!(
        r.message().contains("claimsMatchingExpression"),
        "{}",
        r.message()
    );
    for field in ["name", "issuer", "subject", "audiences"] {
        let mut body = credential("missing-prop", PULUMI_ISSUER, "m", "contoso");
        body.as_object_mut().unwrap().remove(field);
        api.post_credential(id, body)
            .await
            .assert_graph_error(400, "Request_BadRequest");
    }
    let mut typed = credential("typed", PULUMI_ISSUER, "t", "contoso");
    typed["subject"] = json!(12);
    api.post_credential(id, typed)
        .await
        .assert_graph_error(400, "Request_BadRequest");

    // None of the refused bodies left anything behind.
    let list = api
        .graph(
            Method::GET,
            &format!("/applications/{id}/federatedIdentityCredentials"),
            None,
        )
        .await;
    assert_eq!(list.json["value"].as_array().unwrap().len(), 3 + 3 + 4);
}

#[tokio::test(flavor = "multi_thread")]
async fn graph_beta_and_unknown_methods() {
    let api = Api::start().await;
    let url = format!("{}/beta/applications", api.base);
    let auth = format!("Bearer {}", api.graph_token);
    let beta = api.send(Method::GET, &url, Some(&auth), None, &[]).await;
    beta.assert_graph_error(400, "Request_BadRequest");
    api.graph(Method::PUT, "/applications", Some(json!({})))
        .await
        .assert_graph_error(405, "Request_BadRequest");
}
