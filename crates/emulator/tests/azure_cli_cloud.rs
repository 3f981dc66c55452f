#![allow(clippy::unwrap_used)]
//! What the Azure CLI needs of a cloud besides Graph and ARM's role assignments: the
//! cloud metadata document, this cloud's own Graph resource id as a token scope, the
//! subscription list, `keyCredentials` on create, and service principals filtered by
//! `servicePrincipalNames`.

mod common;

use common::{Api, SUBSCRIPTION};
use reqwest::Method;
use serde_json::json;

#[tokio::test(flavor = "multi_thread")]
async fn metadata_document_names_this_cloud() {
    let api = Api::start().await;
    let url = format!("{}/metadata/endpoints?api-version=2022-09-01", api.base);
    let r = api.send(Method::GET, &url, None, None, &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let base = &api.base;
    assert_eq!(r.json["resourceManager"], json!(format!("{base}/")));
    assert_eq!(
        r.json["microsoftGraphResourceId"],
        json!(format!("{base}/"))
    );
    assert_eq!(r.json["authentication"]["loginEndpoint"], json!(base));
    assert_eq!(
        r.json["authentication"]["audiences"][0],
        json!("https://management.core.windows.net/")
    );
    assert!(r.json["name"].is_string());
    assert!(r.json["suffixes"]["storage"].is_string());
}

#[tokio::test(flavor = "multi_thread")]
async fn own_base_url_is_a_graph_scope_and_nothing_else_is() {
    let api = Api::start().await;
    let token = api.operator_token(&format!("{}/.default", api.base)).await;
    let auth = format!("Bearer {token}");
    let url = format!("{}/v1.0/applications", api.base);
    let r = api.send(Method::GET, &url, Some(&auth), None, &[]).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let r = api
        .form(&[
            (
                "client_id",
                pulumi_azure_oidc_emulator::DEFAULT_OPERATOR_CLIENT_ID,
            ),
            (
                "client_secret",
                pulumi_azure_oidc_emulator::DEFAULT_OPERATOR_SECRET,
            ),
            ("grant_type", "client_credentials"),
            ("scope", "https://127.0.0.1/.default"),
        ])
        .await;
    r.assert_aadsts(400, "invalid_scope", 70011);
}

#[tokio::test(flavor = "multi_thread")]
async fn subscriptions_list_and_get() {
    let api = Api::start().await;
    let r = api
        .arm(Method::GET, "/subscriptions?api-version=2022-12-01", None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["value"][0]["id"], json!(SUBSCRIPTION));
    assert_eq!(r.json["value"][0]["tenantId"], json!(api.emu.tenant_id()));
    assert_eq!(r.json["value"][0]["state"], json!("Enabled"));
    let r = api
        .arm(
            Method::GET,
            &format!("{SUBSCRIPTION}?api-version=2022-12-01"),
            None,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(
        r.json["subscriptionId"],
        json!(pulumi_azure_oidc_emulator::DEFAULT_SUBSCRIPTION_ID)
    );
    let r = api
        .arm(
            Method::GET,
            "/subscriptions/11111111-1111-4111-8111-111111111111?api-version=2022-12-01",
            None,
        )
        .await;
    r.assert_arm_error(404, "SubscriptionNotFound");
}

#[tokio::test(flavor = "multi_thread")]
async fn app_create_takes_key_credentials_and_sp_filters_by_name() {
    let api = Api::start().await;
    let r = api
        .graph(
            Method::POST,
            "/applications",
            Some(json!({"displayName": "x", "keyCredentials": []})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    assert_eq!(r.json["keyCredentials"], json!([]));
    let app_id = r.json["appId"].as_str().unwrap().to_owned();
    let r = api
        .graph(
            Method::POST,
            "/applications",
            Some(json!({"displayName": "y", "keyCredentials": {}})),
        )
        .await;
    r.assert_graph_error(400, "Request_BadRequest");
    let sp = api.create_sp(&app_id).await;
    let filter = format!("servicePrincipalNames/any(c:c eq '{app_id}')");
    let query: String = form_urlencoded::Serializer::new(String::new())
        .append_pair("$filter", &filter)
        .finish();
    let r = api
        .graph(Method::GET, &format!("/servicePrincipals?{query}"), None)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["value"].as_array().unwrap().len(), 1);
    assert_eq!(r.json["value"][0]["id"], sp["id"]);
}
