#![allow(clippy::unwrap_used)]
//! Azure's documented request budgets as the emulator enforces them with
//! `Budgets::Azure`: Microsoft Graph's identity and access limits (writes and resource
//! units per application and tenant, with `x-ms-resource-unit`,
//! `x-ms-throttle-limit-percentage`, `x-ms-throttle-scope` and
//! `x-ms-throttle-information`), each request of a `$batch` on its own, and ARM's token
//! buckets with their `x-ms-ratelimit-remaining-*` headers (sources cited in
//! `src/graph/budget.rs` and `src/arm/budget.rs`).
//!
//! Refills are made negligible with a small `rate_scale` wherever a count must be
//! exact, and the counts that race a refill are checked against bounds computed from
//! the time that passed.

mod common;

use std::time::{Duration, Instant};

use common::{API_VERSION, ARM_SCOPE, Api, Resp, SUBSCRIPTION};
use pulumi_azure_oidc_emulator::{Budgets, DEFAULT_OPERATOR_CLIENT_ID, Operator, Options, Rights};
use reqwest::Method;
use serde_json::{Value, json};

/// A hundredth of the documented rates: Graph's app+tenant writes refill one every
/// five seconds, ARM's write bucket one every ten.
const SLOW: f64 = 0.01;

async fn start(scale: f64) -> Api {
    Api::start_with(Options {
        budgets: Budgets::Azure,
        rate_scale: scale,
        ..Options::default()
    })
    .await
}

fn rename(id: &str, object_id: &str) -> Value {
    json!({
        "id": id,
        "method": "PATCH",
        "url": format!("/applications/{object_id}"),
        "headers": {"Content-Type": "application/json"},
        "body": {"displayName": format!("renamed-{id}")},
    })
}

async fn batch(api: &Api, requests: Vec<Value>) -> Vec<Value> {
    let r = api
        .graph(
            Method::POST,
            "/$batch",
            Some(json!({ "requests": requests })),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.json["responses"].as_array().unwrap().clone()
}

/// Graph's throttling answer: 429 with its sample body.
#[track_caller]
fn assert_graph_throttled(r: &Resp) {
    assert_eq!((r.status, r.code()), (429, "TooManyRequests"), "{}", r.text);
    assert_eq!(r.json["error"]["innerError"]["status"], "429", "{}", r.text);
}

fn answer<'a>(answers: &'a [Value], id: &str) -> &'a Value {
    answers.iter().find(|a| a["id"] == id).unwrap()
}

/// What a run of writes up to the first refusal saw.
struct Spent {
    /// Writes that passed before the first 429.
    passed: u64,
    /// The first of them whose answer reported the usage header, and its value.
    first_usage: Option<(u64, String)>,
    /// The first refused answer, as it sits in the batch.
    refused: Value,
    elapsed: Duration,
}

/// Rename `object_id` in batches of twenty until one is refused.
async fn spend_writes(api: &Api, object_id: &str) -> Spent {
    let started = Instant::now();
    let mut passed = 0;
    let mut first_usage = None;
    for round in 0..400 {
        let requests = (0..20)
            .map(|i| rename(&format!("{round}-{i}"), object_id))
            .collect();
        let mut answers = batch(api, requests).await;
        answers.sort_by_key(|a| {
            let id = a["id"].as_str().unwrap();
            id.split('-').nth(1).unwrap().parse::<u32>().unwrap()
        });
        for a in answers {
            if a["status"] == 429 {
                return Spent {
                    passed,
                    first_usage,
                    refused: a,
                    elapsed: started.elapsed(),
                };
            }
            assert_eq!(a["status"], 204, "{a}");
            passed += 1;
            if first_usage.is_none()
                && let Some(v) = a["headers"]["x-ms-throttle-limit-percentage"].as_str()
            {
                first_usage = Some((passed, v.to_owned()));
            }
        }
    }
    panic!("8,000 writes and never a 429");
}

#[tokio::test(flavor = "multi_thread")]
async fn graph_writes_beyond_the_app_budget_get_their_own_429() {
    let api = start(SLOW).await;
    let app = api.create_app("budget-writes").await;
    let object_id = app["id"].as_str().unwrap();
    let tenant = api.emu.tenant_id().to_owned();

    let first = api
        .graph(
            Method::PATCH,
            &format!("/applications/{object_id}"),
            Some(json!({"displayName": "first"})),
        )
        .await;
    assert_eq!(first.status, 204, "{}", first.text);
    assert_eq!(first.header("x-ms-resource-unit"), Some("1"));
    assert_eq!(first.header("x-ms-throttle-limit-percentage"), None);

    let spent = spend_writes(&api, object_id).await;
    // 3,000 per 2 min 30 s, less the two writes above; at a hundredth of the rate, a
    // write comes back every five seconds.
    let refilled = (spent.elapsed.as_secs_f64() / 5.0).ceil() as u64;
    assert!(
        (2_998..=2_998 + refilled).contains(&spent.passed),
        "{} writes passed",
        spent.passed
    );
    // The usage header appears once more than 0.8 of the 3,000 is used.
    let (at, value) = spent.first_usage.unwrap();
    assert!(
        (2_399..=2_399 + refilled).contains(&at),
        "first usage at {at}"
    );
    let used: f64 = value.parse().unwrap();
    assert!((0.8..=1.0).contains(&used), "{value}");

    // The refused write inside the batch: Graph's throttling answer, with its headers.
    let refused = &spent.refused;
    let headers = &refused["headers"];
    assert_eq!(
        refused["body"]["error"]["code"], "TooManyRequests",
        "{refused}"
    );
    assert_eq!(refused["body"]["error"]["innerError"]["status"], "429");
    let scope = format!("Tenant_Application/Write/{DEFAULT_OPERATOR_CLIENT_ID}/{tenant}");
    assert_eq!(headers["x-ms-throttle-scope"], json!(scope), "{refused}");
    assert_eq!(headers["x-ms-throttle-information"], "WriteLimitExceeded");
    assert_eq!(headers["x-ms-resource-unit"], "1");
    let retry: f64 = headers["Retry-After"].as_str().unwrap().parse().unwrap();
    assert!(retry > 0.0 && retry <= 5.0, "{retry}");

    // A write on its own is refused the same way; reads in the same batch still pass.
    let alone = api
        .graph(
            Method::PATCH,
            &format!("/applications/{object_id}"),
            Some(json!({"displayName": "alone"})),
        )
        .await;
    assert_graph_throttled(&alone);
    assert_eq!(alone.header("x-ms-throttle-scope"), Some(scope.as_str()));
    assert_eq!(
        alone.header("x-ms-throttle-information"),
        Some("WriteLimitExceeded")
    );
    assert_eq!(alone.header("x-ms-resource-unit"), Some("1"));
    assert!(alone.header("retry-after").is_some());

    let mixed = batch(
        &api,
        vec![
            rename("w", object_id),
            json!({"id": "r1", "method": "GET", "url": format!("/applications/{object_id}")}),
            json!({"id": "r2", "method": "GET", "url": "/servicePrincipals"}),
        ],
    )
    .await;
    assert_eq!(answer(&mixed, "w")["status"], 429);
    assert_eq!(answer(&mixed, "r1")["status"], 200);
    assert_eq!(answer(&mixed, "r1")["headers"]["x-ms-resource-unit"], "1");
    assert_eq!(answer(&mixed, "r2")["status"], 200);

    // Each refused request is remembered on its own: sending "w" again at once is an
    // early retry, whether alone or in a batch.
    let stats = api.emu.stats();
    let early_before = stats["early_retries"].as_u64().unwrap();
    let again = batch(&api, vec![rename("w", object_id)]).await;
    assert_eq!(again[0]["status"], 429);
    let stats = api.emu.stats();
    assert_eq!(
        stats["early_retries"].as_u64().unwrap(),
        early_before + 1,
        "{stats}"
    );

    let throttles = &stats["budget_throttles"];
    assert!(
        throttles["graph_app_writes"].as_u64().unwrap() >= 4,
        "{stats}"
    );
    assert_eq!(throttles["graph_tenant_writes"], 0);
    assert_eq!(throttles["graph_resource_units"], 0);
    assert_eq!(
        stats["metered_throttles"], throttles["graph_app_writes"],
        "{stats}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_graph_write_passes_after_its_retry_after() {
    // At the documented rate: Retry-After in whole seconds.
    let api = start(1.0).await;
    let app = api.create_app("budget-retry").await;
    let object_id = app["id"].as_str().unwrap().to_owned();
    let spent = spend_writes(&api, &object_id).await;
    assert!(spent.passed >= 2_999, "{}", spent.passed);
    // Writes come back twenty a second: keep writing until one is refused on its own.
    let path = format!("/applications/{object_id}");
    let body = json!({"displayName": "after-wait"});
    let mut refused = None;
    for _ in 0..500 {
        let r = api.graph(Method::PATCH, &path, Some(body.clone())).await;
        if r.status == 429 {
            refused = Some(r);
            break;
        }
        assert_eq!(r.status, 204, "{}", r.text);
    }
    let refused = refused.unwrap();
    assert_graph_throttled(&refused);
    assert_eq!(refused.header("retry-after"), Some("1"));
    tokio::time::sleep(Duration::from_secs(1)).await;
    let r = api.graph(Method::PATCH, &path, Some(body)).await;
    assert_eq!(r.status, 204, "{}", r.text);
    let stats = api.emu.stats();
    assert!(stats["honoured_retries"].as_u64().unwrap() >= 1, "{stats}");
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_spend_resource_units_until_a_429() {
    let api = start(SLOW).await;
    let tenant = api.emu.tenant_id().to_owned();
    let list = |i: u32| json!({"id": format!("{i}"), "method": "GET", "url": "/applications"});
    let started = Instant::now();
    let mut passed = 0_u64;
    let mut refused = None;
    'outer: for _ in 0..200 {
        let answers = batch(&api, (0..20).map(list).collect()).await;
        let mut answers = answers;
        answers.sort_by_key(|a| a["id"].as_str().unwrap().parse::<u32>().unwrap());
        for a in answers {
            if a["status"] == 429 {
                refused = Some(a);
                break 'outer;
            }
            assert_eq!(a["status"], 200, "{a}");
            assert_eq!(a["headers"]["x-ms-resource-unit"], "2");
            passed += 1;
        }
    }
    // 3,500 units per 10 s at two a list; at a hundredth of the rate, 3.5 units a second
    // come back.
    let refilled = (started.elapsed().as_secs_f64() * 3.5 / 2.0).ceil() as u64;
    assert!((1_750..=1_750 + refilled).contains(&passed), "{passed}");
    let refused = refused.unwrap();
    let headers = &refused["headers"];
    assert_eq!(
        headers["x-ms-throttle-scope"],
        json!(format!(
            "Tenant_Application/ReadWrite/{DEFAULT_OPERATOR_CLIENT_ID}/{tenant}"
        ))
    );
    assert_eq!(
        headers["x-ms-throttle-information"],
        "ResourceUnitLimitExceeded"
    );
    // The rest of the refused batch was refused too, each counted.
    let stats = api.emu.stats();
    let counted = stats["budget_throttles"]["graph_resource_units"]
        .as_u64()
        .unwrap();
    assert!((1..=20).contains(&counted), "{stats}");
    assert_eq!(stats["budget_throttles"]["graph_app_writes"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn every_graph_answer_carries_its_documented_cost() {
    // Costs are reported with budgets off too: they are part of every Graph answer.
    for budgets in [Budgets::Off, Budgets::Azure] {
        let api = Api::start_with(Options {
            budgets,
            ..Options::default()
        })
        .await;
        let app = api.create_app("budget-costs").await;
        let object_id = app["id"].as_str().unwrap();
        let sp = api.create_sp(app["appId"].as_str().unwrap()).await;
        let sp_id = sp["id"].as_str().unwrap();
        let cases = [
            ("/applications".to_owned(), "2"),
            ("/applications?$select=id".to_owned(), "1"),
            ("/applications?$top=5".to_owned(), "1"),
            ("/applications?$top=50".to_owned(), "2"),
            (format!("/applications/{object_id}"), "1"),
            (format!("/applications/{object_id}?$expand=owners"), "2"),
            ("/servicePrincipals".to_owned(), "1"),
            (
                format!("/servicePrincipals/{sp_id}/appRoleAssignments"),
                "2",
            ),
        ];
        for (path, cost) in cases {
            let r = api.graph(Method::GET, &path, None).await;
            assert_eq!(
                r.header("x-ms-resource-unit"),
                Some(cost),
                "{path}: {}",
                r.text
            );
            assert_eq!(r.header("x-ms-throttle-limit-percentage"), None);
        }
        let patch = api
            .graph(
                Method::PATCH,
                &format!("/applications/{object_id}"),
                Some(json!({"displayName": "costed"})),
            )
            .await;
        assert_eq!(patch.status, 204);
        assert_eq!(patch.header("x-ms-resource-unit"), Some("1"));
        let missing = api
            .graph(
                Method::GET,
                "/applications/5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b",
                None,
            )
            .await;
        assert_eq!(missing.status, 404);
        assert_eq!(missing.header("x-ms-resource-unit"), Some("1"));
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_counts_its_writes_not_itself() {
    let api = start(1.0).await;
    let app = api.create_app("budget-stats").await;
    let object_id = app["id"].as_str().unwrap();
    api.emu.reset_stats();
    let answers = batch(
        &api,
        vec![
            rename("1", object_id),
            rename("2", object_id),
            json!({"id": "3", "method": "GET", "url": format!("/applications/{object_id}")}),
        ],
    )
    .await;
    assert!(answers.iter().all(|a| a["status"].as_u64().unwrap() < 300));
    let stats = api.emu.stats();
    assert_eq!(stats["requests"], 1, "{stats}");
    assert_eq!(stats["write_requests"], 2, "{stats}");
    assert_eq!(
        stats["budget_throttles"],
        json!({
            "graph_app_writes": 0, "graph_tenant_writes": 0, "graph_resource_units": 0,
            "arm_reads": 0, "arm_writes": 0, "arm_deletes": 0,
        })
    );
}

// ---- ARM ----

fn bad_assignment(subscription: &str) -> String {
    format!(
        "{subscription}/providers/Microsoft.Authorization/roleAssignments/not-a-guid?{API_VERSION}"
    )
}

fn assignments(subscription: &str) -> String {
    format!("{subscription}/providers/Microsoft.Authorization/roleAssignments?{API_VERSION}")
}

fn remaining(r: &Resp, kind: &str) -> u64 {
    r.header(&format!("x-ms-ratelimit-remaining-{kind}"))
        .unwrap_or_else(|| panic!("no {kind} header: {:?}", r.headers))
        .parse()
        .unwrap()
}

async fn arm_as(api: &Api, token: &str, method: Method, path: &str) -> Resp {
    let url = format!("{}{path}", api.base);
    let auth = format!("Bearer {token}");
    let body = (method == Method::PUT).then(|| json!({"properties": {}}));
    api.send(method, &url, Some(&auth), body.as_ref(), &[])
        .await
}

const OTHER_OPERATOR: &str = "5b4a3c2d-1e0f-4a9b-8c7d-6e5f4a3b2c1d";
const OTHER_SUBSCRIPTION: &str = "/subscriptions/00000000-0000-4000-8000-000000000002";

#[tokio::test(flavor = "multi_thread")]
async fn arm_write_buckets_run_out_per_principal_and_subscription() {
    let mut options = Options {
        budgets: Budgets::Azure,
        rate_scale: SLOW,
        ..Options::default()
    };
    options.operators.push(Operator {
        client_id: OTHER_OPERATOR.into(),
        client_secret: "other-secret".into(),
        rights: Rights::Full,
    });
    let api = Api::start_with(options).await;
    let token = api.arm_token.clone();

    // Writes (here PUTs ARM refuses for their name: ARM counts them all the same) take
    // from a bucket of 200 that refills ten a second; at a hundredth, one every ten.
    let started = Instant::now();
    let mut passed = 0_u64;
    let mut last = None;
    let refused = loop {
        let r = arm_as(&api, &token, Method::PUT, &bad_assignment(SUBSCRIPTION)).await;
        if r.status == 429 {
            break r;
        }
        assert_eq!(r.status, 400, "{}", r.text);
        let left = remaining(&r, "subscription-writes");
        if let Some(before) = last {
            assert!(left <= before, "{left} after {before}");
        }
        last = Some(left);
        passed += 1;
        assert!(passed <= 400, "never refused");
    };
    let refilled = (started.elapsed().as_secs_f64() / 10.0).ceil() as u64;
    assert!((200..=200 + refilled).contains(&passed), "{passed}");
    refused.assert_arm_error(429, "SubscriptionRequestsThrottled");
    assert_eq!(remaining(&refused, "subscription-writes"), 0);
    let retry: f64 = refused.header("retry-after").unwrap().parse().unwrap();
    assert!(retry > 0.0 && retry <= 10.0, "{retry}");

    // Reads and deletes have buckets of their own.
    let read = arm_as(&api, &token, Method::GET, &assignments(SUBSCRIPTION)).await;
    assert_eq!(read.status, 200, "{}", read.text);
    assert_eq!(remaining(&read, "subscription-reads"), 249);
    assert_eq!(
        read.header("x-ms-ratelimit-remaining-subscription-writes"),
        None
    );
    let delete_path = format!(
        "{SUBSCRIPTION}/providers/Microsoft.Authorization/roleAssignments/{}?{API_VERSION}",
        "2f1e0d9c-8b7a-4c6d-9e5f-4a3b2c1d0e9f"
    );
    let delete = arm_as(&api, &token, Method::DELETE, &delete_path).await;
    assert_eq!(delete.status, 204, "{}", delete.text);
    assert_eq!(remaining(&delete, "subscription-deletes"), 199);

    // Another subscription, and another principal in the same one, are untouched.
    let elsewhere = arm_as(
        &api,
        &token,
        Method::PUT,
        &bad_assignment(OTHER_SUBSCRIPTION),
    )
    .await;
    assert_eq!(elsewhere.status, 400, "{}", elsewhere.text);
    assert_eq!(remaining(&elsewhere, "subscription-writes"), 199);
    let other = api
        .secret_token(OTHER_OPERATOR, "other-secret", ARM_SCOPE)
        .await;
    let theirs = arm_as(&api, &other, Method::PUT, &bad_assignment(SUBSCRIPTION)).await;
    assert_eq!(theirs.status, 400, "{}", theirs.text);
    assert_eq!(remaining(&theirs, "subscription-writes"), 199);

    // A request without a subscription is counted at the tenant level.
    let list = arm_as(
        &api,
        &token,
        Method::GET,
        "/subscriptions?api-version=2022-12-01",
    )
    .await;
    assert_eq!(list.status, 200, "{}", list.text);
    assert_eq!(remaining(&list, "tenant-reads"), 249);
    assert_eq!(
        list.header("x-ms-ratelimit-remaining-subscription-reads"),
        None
    );

    let stats = api.emu.stats();
    assert_eq!(stats["budget_throttles"]["arm_writes"], 1, "{stats}");
    assert_eq!(stats["budget_throttles"]["arm_reads"], 0, "{stats}");
    assert_eq!(stats["metered_throttles"], 1, "{stats}");
}

#[tokio::test(flavor = "multi_thread")]
async fn arm_remaining_reads_go_down_and_come_back() {
    let api = start(1.0).await;
    let path = assignments(SUBSCRIPTION);
    let started = Instant::now();
    let mut left = 0;
    for _ in 0..10 {
        let r = api.arm(Method::GET, &path, None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        left = remaining(&r, "subscription-reads");
    }
    // Ten of 250 taken, 25 a second back.
    let refilled = (started.elapsed().as_secs_f64() * 25.0).ceil() as u64;
    assert!((240..=(240 + refilled).min(249)).contains(&left), "{left}");
    // After a quiet second the bucket is full again.
    tokio::time::sleep(Duration::from_millis(1_100)).await;
    let r = api.arm(Method::GET, &path, None).await;
    assert_eq!(remaining(&r, "subscription-reads"), 249);
}

#[tokio::test(flavor = "multi_thread")]
async fn without_budgets_nothing_is_metered() {
    let api = Api::start().await;
    let read = api.arm(Method::GET, &assignments(SUBSCRIPTION), None).await;
    assert_eq!(
        read.header("x-ms-ratelimit-remaining-subscription-reads"),
        Some("1199")
    );
    for _ in 0..210 {
        let r = api
            .arm(
                Method::PUT,
                &bad_assignment(SUBSCRIPTION),
                Some(json!({"properties": {}})),
            )
            .await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert_eq!(
            r.header("x-ms-ratelimit-remaining-subscription-writes"),
            Some("1199")
        );
    }
    let r = api.graph(Method::GET, "/applications", None).await;
    assert_eq!(r.header("x-ms-resource-unit"), Some("2"));
    assert_eq!(r.header("x-ms-throttle-limit-percentage"), None);
    let stats = api.emu.stats();
    assert_eq!(stats["metered_throttles"], 0);
    assert_eq!(stats["budget_throttles"]["arm_writes"], 0);
}
