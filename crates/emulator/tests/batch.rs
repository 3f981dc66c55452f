#![allow(clippy::unwrap_used)]
//! Graph's JSON batching as the emulator serves it (microsoftgraph/microsoft-graph-docs-contrib
//! `concepts/json-batching.md`): one 200 holding an answer per request, `dependsOn`
//! and 424, the batch-level 400s, `depends_on` ignored as Graph ignores it, the
//! batch's token used for every request, and faults injected per request.

mod common;

use common::{Api, Resp, credential};
use pulumi_azure_oidc_emulator::FaultOptions;
use reqwest::Method;
use serde_json::{Value, json};

const ISSUER: &str = "https://api.pulumi.com/oidc";

async fn batch(api: &Api, requests: Value) -> Resp {
    api.graph(
        Method::POST,
        "/$batch",
        Some(json!({ "requests": requests })),
    )
    .await
}

fn answer<'a>(resp: &'a Resp, id: &str) -> &'a Value {
    resp.json["responses"]
        .as_array()
        .unwrap()
        .iter()
        .find(|r| r["id"] == id)
        .unwrap_or_else(|| panic!("no answer for {id}: {}", resp.text))
}

fn post_app(id: &str, name: &str) -> Value {
    json!({
        "id": id,
        "method": "POST",
        "url": "/applications",
        "headers": {"Content-Type": "application/json"},
        "body": {"displayName": name},
    })
}

#[tokio::test(flavor = "multi_thread")]
async fn each_request_is_answered_inside_one_200() {
    let api = Api::start().await;
    let app = api.create_app("batch-parent").await;
    let object_id = app["id"].as_str().unwrap();
    let resp = batch(
        &api,
        json!([
            post_app("1", "batch-one"),
            {"id": "2", "method": "GET", "url": format!("/applications/{object_id}")},
            {"id": "3", "method": "GET", "url": "/applications/5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"},
            {
                "id": "4",
                "method": "POST",
                "url": format!("applications/{object_id}/federatedIdentityCredentials"),
                "headers": {"content-type": "application/json"},
                "body": credential("deploy-update", ISSUER, "sub-1", "contoso"),
            },
            {"id": "5", "method": "GET", "url": "/applications?$filter=displayName eq 'batch-one'"},
            {"id": "6", "method": "DELETE", "url": format!("/applications/{object_id}/federatedIdentityCredentials/deploy-update")},
        ]),
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert!(
        resp.header("content-type")
            .unwrap()
            .starts_with("application/json")
    );
    assert_eq!(resp.json["responses"].as_array().unwrap().len(), 6);

    let created = answer(&resp, "1");
    assert_eq!(created["status"], 201);
    assert!(
        created["headers"]["Content-Type"]
            .as_str()
            .unwrap()
            .starts_with("application/json;odata.metadata=minimal")
    );
    assert_eq!(created["body"]["displayName"], "batch-one");
    let got = answer(&resp, "2");
    assert_eq!(
        (got["status"].clone(), got["body"]["id"].clone()),
        (json!(200), json!(object_id))
    );
    let missing = answer(&resp, "3");
    assert_eq!(missing["status"], 404);
    assert_eq!(missing["body"]["error"]["code"], "Request_ResourceNotFound");
    assert!(missing["body"]["error"]["innerError"]["request-id"].is_string());
    assert_eq!(answer(&resp, "4")["status"], 201);
    // In order: the list sees the app request 1 made.
    let listed = answer(&resp, "5");
    assert_eq!(listed["body"]["value"][0]["id"], created["body"]["id"]);
    let deleted = answer(&resp, "6");
    assert_eq!(deleted["status"], 204);
    assert!(deleted.get("body").is_none());

    // The writes happened, once each.
    let after = api
        .graph(
            Method::GET,
            "/applications?$filter=displayName eq 'batch-one'",
            None,
        )
        .await;
    assert_eq!(after.json["value"].as_array().unwrap().len(), 1);
    let stats = api.emu.stats();
    assert_eq!(stats["by_kind"]["graph.batch"], 1);
    assert_eq!(stats["by_kind"]["graph.applications.create"], 2);
    assert_eq!(stats["by_kind"]["graph.fic.delete"], 1);
}

#[tokio::test(flavor = "multi_thread")]
async fn depends_on_fails_dependants_with_424_and_depends_on_snake_case_is_ignored() {
    let api = Api::start().await;
    let resp = batch(
        &api,
        json!([
            {"id": "a", "method": "GET", "url": "/applications/5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"},
            {
                "id": "b", "method": "POST", "url": "/applications", "dependsOn": ["A"],
                "headers": {"Content-Type": "application/json"}, "body": {"displayName": "never-made"},
            },
            {
                "id": "c", "method": "POST", "url": "/applications", "depends_on": ["a"],
                "headers": {"Content-Type": "application/json"}, "body": {"displayName": "made-anyway"},
            },
        ]),
    )
    .await;
    assert_eq!(resp.status, 200, "{}", resp.text);
    assert_eq!(answer(&resp, "a")["status"], 404);
    assert_eq!(answer(&resp, "b")["status"], 424);
    assert_eq!(answer(&resp, "c")["status"], 201);
    let never = api
        .graph(
            Method::GET,
            "/applications?$filter=displayName eq 'never-made'",
            None,
        )
        .await;
    assert_eq!(never.json["value"], json!([]));
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_batches_are_refused_whole() {
    let api = Api::start().await;
    let refused = |resp: &Resp, fragment: &str| {
        resp.assert_graph_error(400, "BadRequest");
        assert!(resp.message().contains(fragment), "{}", resp.text);
    };
    let r = api
        .graph(Method::POST, "/$batch", Some(json!({"calls": []})))
        .await;
    refused(&r, "Invalid batch payload format.");
    let r = batch(&api, json!([{"id": "1", "url": "/applications"}])).await;
    refused(&r, "Invalid batch payload format.");
    let many: Vec<Value> = (0..21)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/applications"}))
        .collect();
    refused(&batch(&api, json!(many)).await, "20");
    let r = batch(
        &api,
        json!([
            {"id": "x", "method": "GET", "url": "/applications"},
            {"id": "X", "method": "GET", "url": "/applications"},
        ]),
    )
    .await;
    refused(&r, "X");
    let r = batch(
        &api,
        json!([{"id": "1", "method": "POST", "url": "/applications", "body": {"displayName": "x"}}]),
    )
    .await;
    refused(&r, "does not contain a Content-Type header");
    let r = batch(
        &api,
        json!([{"id": "1", "method": "POST", "url": "/applications", "headers": {"Content-Type": "application/json"}}]),
    )
    .await;
    refused(&r, "does not contain Content-Type header or body");
    let r = batch(
        &api,
        json!([
            {"id": "1", "method": "GET", "url": "/applications", "dependsOn": ["2"]},
            {"id": "2", "method": "GET", "url": "/applications"},
        ]),
    )
    .await;
    refused(&r, "Invalid dependency for request Id 1");
    // Nothing of a refused batch ran.
    assert_eq!(
        api.emu.stats()["by_kind"].get("graph.applications.create"),
        None
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_batch_token_is_every_request_token() {
    let api = Api::start().await;
    let url = format!("{}/v1.0/$batch", api.base);
    let body = json!({"requests": [{"id": "1", "method": "GET", "url": "/applications"}]});
    api.send(Method::POST, &url, None, Some(&body), &[])
        .await
        .assert_graph_error(401, "InvalidAuthenticationToken");
    let arm = format!("Bearer {}", api.arm_token);
    api.send(Method::POST, &url, Some(&arm), Some(&body), &[])
        .await
        .assert_graph_error(401, "InvalidAuthenticationToken");
    // A base64 body is decoded; a nested batch is refused on its own.
    let encoded = "eyJkaXNwbGF5TmFtZSI6ImZyb20tYmFzZTY0In0="; // {"displayName":"from-base64"}
    let resp = batch(
        &api,
        json!([
            {
                "id": "1", "method": "POST", "url": "/applications",
                "headers": {"Content-Type": "application/json"}, "body": encoded,
            },
            {
                "id": "2", "method": "POST", "url": "/$batch",
                "headers": {"Content-Type": "application/json"}, "body": {"requests": []},
            },
        ]),
    )
    .await;
    assert_eq!(answer(&resp, "1")["status"], 201, "{}", resp.text);
    assert_eq!(answer(&resp, "1")["body"]["displayName"], "from-base64");
    assert_eq!(answer(&resp, "2")["status"], 400);
}

#[tokio::test(flavor = "multi_thread")]
async fn each_request_of_a_batch_is_throttled_on_its_own() {
    let api = Api::start().await;
    api.emu
        .set_faults(FaultOptions {
            throttle_rate: 0.5,
            retry_after_max_secs: 0.05,
            ..FaultOptions::default()
        })
        .unwrap();
    let requests: Vec<Value> = (0..10)
        .map(|i| json!({"id": i.to_string(), "method": "GET", "url": "/applications?$top=1"}))
        .collect();
    let mut throttled = 0;
    let mut answered = 0;
    for _ in 0..20 {
        let resp = batch(&api, json!(requests)).await;
        if resp.status == 429 {
            continue;
        }
        assert_eq!(resp.status, 200, "{}", resp.text);
        for r in resp.json["responses"].as_array().unwrap() {
            match r["status"].as_u64().unwrap() {
                200 => answered += 1,
                429 => {
                    throttled += 1;
                    assert_eq!(r["body"]["error"]["code"], "TooManyRequests");
                    let wait: f64 = r["headers"]["Retry-After"]
                        .as_str()
                        .unwrap()
                        .parse()
                        .unwrap();
                    assert!(wait > 0.0 && wait <= 0.05, "{r}");
                }
                other => panic!("unexpected status {other}: {r}"),
            }
        }
        break;
    }
    assert!(
        throttled > 0 && answered > 0,
        "{throttled} throttled, {answered} answered"
    );
}
