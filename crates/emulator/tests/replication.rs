#![allow(clippy::unwrap_used)]
//! Azure's replication windows, as the emulator plays them with a
//! short lag: a fresh object is 404 by id, missing from `$filter`, refused as the app of
//! a new service principal, and unknown to ARM as a principal — until the lag passes.

mod common;

use std::time::{Duration, Instant};

use common::{ARM_SCOPE, Api, CONTRIBUTOR, SUBSCRIPTION, credential, role_assignment, wait_past};
use pulumi_azure_oidc_emulator::{MintRequest, PULUMI_ISSUER, Replication};
use reqwest::Method;
use serde_json::json;

const LAG: Duration = Duration::from_millis(300);
const SUBJECT: &str =
    "pulumi:deploy:org:contoso:project:core:stack:dev:operation:update:scope:write";

async fn lagging() -> Api {
    let api = Api::start().await;
    api.emu.set_replication(Replication {
        lag_ms: 300,
        fic_propagation_ms: 0,
    });
    api
}

#[track_caller]
fn still_in_window(since: Instant) {
    assert!(
        since.elapsed() < LAG,
        "the test machine is too slow for a {LAG:?} window"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fresh_application_is_404_by_id_and_missing_from_filter_then_appears() {
    let api = lagging().await;
    let created = Instant::now();
    let app = api.create_app("pulumi-fresh").await;
    let id = app["id"].as_str().unwrap();
    let app_id = app["appId"].as_str().unwrap();

    let by_id = api
        .graph(Method::GET, &format!("/applications/{id}"), None)
        .await;
    let by_key = api
        .graph(
            Method::GET,
            &format!("/applications(appId='{app_id}')"),
            None,
        )
        .await;
    let filtered = api
        .graph(
            Method::GET,
            "/applications?$filter=displayName eq 'pulumi-fresh'",
            None,
        )
        .await;
    let child = api
        .post_credential(
            id,
            credential("deploy-update", PULUMI_ISSUER, SUBJECT, "contoso"),
        )
        .await;
    let sp = api
        .graph(
            Method::POST,
            "/servicePrincipals",
            Some(json!({"appId": app_id})),
        )
        .await;
    // The upsert by alternate key is strongly consistent: no second app.
    let upsert = api
        .graph_with(
            Method::PATCH,
            "/applications(uniqueName='fresh-unique')",
            Some(json!({"displayName": "u"})),
            &[("Prefer", "create-if-missing")],
        )
        .await;
    let upsert_again = api
        .graph_with(
            Method::PATCH,
            "/applications(uniqueName='fresh-unique')",
            Some(json!({"displayName": "u2"})),
            &[("Prefer", "create-if-missing")],
        )
        .await;
    still_in_window(created);

    by_id.assert_graph_error(404, "Request_ResourceNotFound");
    by_key.assert_graph_error(404, "Request_ResourceNotFound");
    assert_eq!(
        (filtered.status, filtered.json["value"].clone()),
        (200, json!([]))
    );
    child.assert_graph_error(404, "Request_ResourceNotFound");
    sp.assert_graph_error(400, "Request_BadRequest");
    assert_eq!(
        sp.message(),
        format!(
            "The appId '{app_id}' of the service principal does not reference a valid application object."
        )
    );
    assert_eq!(
        (upsert.status, upsert_again.status),
        (201, 204),
        "{}",
        upsert_again.text
    );

    wait_past(created, LAG).await;
    let by_id = api
        .graph(Method::GET, &format!("/applications/{id}"), None)
        .await;
    assert_eq!(by_id.status, 200, "{}", by_id.text);
    let filtered = api
        .graph(
            Method::GET,
            "/applications?$filter=displayName eq 'pulumi-fresh'",
            None,
        )
        .await;
    assert_eq!(filtered.json["value"][0]["id"], json!(id));
    let sp = api
        .graph(
            Method::POST,
            "/servicePrincipals",
            Some(json!({"appId": app_id})),
        )
        .await;
    assert_eq!(sp.status, 201, "{}", sp.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fresh_principal_gets_principal_not_found_then_its_role() {
    let api = lagging().await;
    let app = api.create_app("pulumi-fresh-sp").await;
    let app_id = app["appId"].as_str().unwrap().to_owned();
    wait_past(Instant::now(), LAG).await;
    let created = Instant::now();
    let sp = api.create_sp(&app_id).await;
    let sp_id = sp["id"].as_str().unwrap();
    let path = api.role_assignment_path(SUBSCRIPTION, "8a3c1e2f-4b5d-4c6e-9f7a-0b1c2d3e4f5a");
    // Stricter than Azure: refused even with principalType set (see docs/emulator.md).
    let early = api
        .arm(
            Method::PUT,
            &path,
            Some(role_assignment(CONTRIBUTOR, sp_id)),
        )
        .await;
    let get_sp = api
        .graph(Method::GET, &format!("/servicePrincipals/{sp_id}"), None)
        .await;
    let list_sp = api
        .graph(
            Method::GET,
            &format!("/servicePrincipals?$filter=appId eq '{app_id}'"),
            None,
        )
        .await;
    still_in_window(created);
    early.assert_arm_error(400, "PrincipalNotFound");
    get_sp.assert_graph_error(404, "Request_ResourceNotFound");
    assert_eq!(list_sp.json["value"], json!([]));
    // The conflict check is not fooled by the lag: a second create is still a 409.
    let dup = api
        .graph(
            Method::POST,
            "/servicePrincipals",
            Some(json!({"appId": app_id})),
        )
        .await;
    dup.assert_graph_error(409, "Request_MultipleObjectsWithSameKeyValue");

    wait_past(created, LAG).await;
    let late = api
        .arm(
            Method::PUT,
            &path,
            Some(role_assignment(CONTRIBUTOR, sp_id)),
        )
        .await;
    assert_eq!(late.status, 201, "{}", late.text);
    let get_sp = api
        .graph(Method::GET, &format!("/servicePrincipals/{sp_id}"), None)
        .await;
    assert_eq!(get_sp.status, 200);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_fresh_credential_is_404_by_name_and_a_fresh_app_is_unknown_to_the_token_service() {
    let api = lagging().await;
    let app = api.create_app("pulumi-fresh-fic").await;
    let id = app["id"].as_str().unwrap().to_owned();
    let app_id = app["appId"].as_str().unwrap().to_owned();
    let token = api
        .emu
        .mint(&MintRequest::deployment("contoso", "core", "dev", "update"))
        .unwrap();
    let unknown = api.exchange(&app_id, &token, ARM_SCOPE).await;
    unknown.assert_aadsts(400, "unauthorized_client", 700016);
    wait_past(Instant::now(), LAG).await;
    api.create_sp(&app_id).await;

    let created = Instant::now();
    let r = api
        .post_credential(
            &id,
            credential("deploy-update", PULUMI_ISSUER, SUBJECT, "contoso"),
        )
        .await;
    assert_eq!(r.status, 201);
    let get = api
        .graph(
            Method::GET,
            &format!("/applications/{id}/federatedIdentityCredentials/deploy-update"),
            None,
        )
        .await;
    // The name stays taken while the credential replicates.
    let dup = api
        .post_credential(
            &id,
            credential("deploy-update", PULUMI_ISSUER, "other", "contoso"),
        )
        .await;
    still_in_window(created);
    get.assert_graph_error(404, "Request_ResourceNotFound");
    dup.assert_graph_error(409, "Request_MultipleObjectsWithSameKeyValue");
    wait_past(created, LAG).await;
    let get = api
        .graph(
            Method::GET,
            &format!("/applications/{id}/federatedIdentityCredentials/deploy-update"),
            None,
        )
        .await;
    assert_eq!(get.status, 200, "{}", get.text);
    let ok = api.exchange(&app_id, &token, ARM_SCOPE).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
}
