#![allow(clippy::unwrap_used)]
//! Pulumi Cloud as the emulator serves it: deployment
//! settings (GET 404, POST merge-patch, DELETE, 402 for a free org, 404 for a missing
//! stack), ESC environments (create/409, YAML with ETag, PATCH with a stale ETag → 409,
//! invalid YAML → 400, DELETE), org metadata, and 401 without `Authorization: token`.

mod common;

use common::Api;
use pulumi_azure_oidc_emulator::Options;
use reqwest::Method;
use serde_json::json;

const SETTINGS: &str = "/api/stacks/contoso/core/dev/deployments/settings";

#[tokio::test(flavor = "multi_thread")]
async fn pulumi_requires_its_token() {
    let api = Api::start().await;
    let url = format!("{}{SETTINGS}", api.base);
    for auth in [
        None,
        Some("token wrong"),
        Some("Bearer pul-emulator-access-token"),
        Some("pul-emulator-access-token"),
    ] {
        let r = api.send(Method::GET, &url, auth, None, &[]).await;
        r.assert_pulumi_error(401);
    }
    let user = api.pulumi(Method::GET, "/api/user", None).await;
    assert_eq!(user.status, 200);
    assert!(user.json["githubLogin"].is_string());
    let org = api
        .pulumi(Method::GET, "/api/orgs/contoso/metadata", None)
        .await;
    assert_eq!(org.status, 200);
    assert_eq!(org.json["name"], "contoso");
    let id = org.json["id"].as_str().unwrap();
    assert!(uuid::Uuid::parse_str(id).is_ok());
    // Stable: the same org has the same id every time, in every emulator.
    let other = Api::start().await;
    let again = other
        .pulumi(Method::GET, "/api/orgs/contoso/metadata", None)
        .await;
    assert_eq!(again.json["id"], json!(id));
    api.pulumi(Method::GET, "/api/nothing/here", None)
        .await
        .assert_pulumi_error(404);
}

#[tokio::test(flavor = "multi_thread")]
async fn deployment_settings_get_merge_patch_delete() {
    let api = Api::start().await;
    api.pulumi(Method::GET, SETTINGS, None)
        .await
        .assert_pulumi_error(404);

    let azure = json!({"clientId": "app-1", "tenantId": "tenant-1", "subscriptionId": "sub-1"});
    let first = api
        .pulumi(
            Method::POST,
            SETTINGS,
            Some(json!({"operationContext": {"oidc": {"azure": azure}}, "sourceContext": {"git": {"branch": "main"}}})),
        )
        .await;
    assert_eq!(first.status, 200, "{}", first.text);
    assert_eq!(first.json["operationContext"]["oidc"]["azure"], azure);

    // Merge: a nested change keeps its siblings; other top-level keys stay.
    let second = api
        .pulumi(
            Method::POST,
            SETTINGS,
            Some(json!({"operationContext": {"oidc": {"azure": {"subscriptionId": "sub-2"}}}})),
        )
        .await;
    assert_eq!(second.status, 200);
    let got = api.pulumi(Method::GET, SETTINGS, None).await;
    assert_eq!(got.status, 200);
    assert_eq!(
        got.json,
        json!({
            "operationContext": {"oidc": {"azure": {"clientId": "app-1", "tenantId": "tenant-1", "subscriptionId": "sub-2"}}},
            "sourceContext": {"git": {"branch": "main"}},
        })
    );
    // null removes (what `--oidc-azure-clear` sends).
    let cleared = api
        .pulumi(
            Method::POST,
            SETTINGS,
            Some(json!({"operationContext": {"oidc": {"azure": null}}})),
        )
        .await;
    assert_eq!(cleared.status, 200);
    assert_eq!(cleared.json["operationContext"]["oidc"], json!({}));
    assert_eq!(cleared.json["sourceContext"]["git"]["branch"], "main");
    api.pulumi(Method::POST, SETTINGS, Some(json!(["not", "an", "object"])))
        .await
        .assert_pulumi_error(400);

    let deleted = api.pulumi(Method::DELETE, SETTINGS, None).await;
    assert_eq!((deleted.status, deleted.text.as_str()), (204, ""));
    api.pulumi(Method::GET, SETTINGS, None)
        .await
        .assert_pulumi_error(404);
    assert_eq!(api.emu.state()["deploymentSettings"], json!({}));
}

#[tokio::test(flavor = "multi_thread")]
async fn free_orgs_get_402_and_missing_stacks_404() {
    let options = Options {
        free_orgs: vec!["hobby".into()],
        missing_stacks: vec!["contoso/core/gone".into()],
        ..Options::default()
    };
    let api = Api::start_with(options).await;
    let body = json!({"operationContext": {"oidc": {"azure": {"clientId": "x"}}}});
    api.pulumi(
        Method::POST,
        "/api/stacks/hobby/core/dev/deployments/settings",
        Some(body.clone()),
    )
    .await
    .assert_pulumi_error(402);
    let missing = "/api/stacks/contoso/core/gone/deployments/settings";
    for method in [Method::GET, Method::POST, Method::DELETE] {
        let r = api
            .pulumi(method.clone(), missing, Some(body.clone()))
            .await;
        r.assert_pulumi_error(404);
        assert!(
            r.json["message"]
                .as_str()
                .unwrap()
                .contains("contoso/core/gone"),
            "{method}: {}",
            r.text
        );
    }
    api.pulumi(Method::GET, "/api/stacks/contoso/core/gone", None)
        .await
        .assert_pulumi_error(404);
    let stack = api
        .pulumi(Method::GET, "/api/stacks/contoso/core/dev", None)
        .await;
    assert_eq!(stack.status, 200);
    assert_eq!(stack.json["stackName"], "dev");
}

#[tokio::test(flavor = "multi_thread")]
async fn esc_environments_create_read_patch_with_etag_delete() {
    let api = Api::start().await;
    let create = api
        .pulumi(
            Method::POST,
            "/api/esc/environments/contoso",
            Some(json!({"project": "infra", "name": "azure-dev"})),
        )
        .await;
    assert_eq!(create.status, 200, "{}", create.text);
    api.pulumi(
        Method::POST,
        "/api/esc/environments/contoso",
        Some(json!({"project": "infra", "name": "azure-dev"})),
    )
    .await
    .assert_pulumi_error(409);
    for bad in [
        json!({"project": "infra"}),
        json!({"name": "x"}),
        json!({"project": "infra", "name": "bad name"}),
    ] {
        api.pulumi(Method::POST, "/api/esc/environments/contoso", Some(bad))
            .await
            .assert_pulumi_error(400);
    }

    let env = "/api/esc/environments/contoso/infra/azure-dev";
    let got = api.pulumi(Method::GET, env, None).await;
    assert_eq!((got.status, got.text.as_str()), (200, ""));
    assert_eq!(got.header("content-type"), Some("application/x-yaml"));
    assert_eq!(got.header("pulumi-esc-revision"), Some("1"));
    let etag = got.header("etag").unwrap().to_owned();

    let yaml = "values:\n  azure:\n    login:\n      fn::open::azure-login:\n        clientId: app\n        tenantId: t\n        subscriptionId: s\n        oidc: true\n";
    let url = format!("{}{env}", api.base);
    let auth = "token pul-emulator-access-token";
    let patch = |body: &'static str, tag: Option<(&'static str, String)>| {
        let mut rb = api
            .http
            .patch(&url)
            .header("authorization", auth)
            .header("content-type", "application/json")
            .body(body);
        if let Some((name, value)) = tag {
            rb = rb.header(name, value);
        }
        async move { common::Resp::read(rb.send().await.unwrap()).await }
    };
    let updated = patch(yaml, Some(("ETag", etag.clone()))).await;
    assert_eq!(updated.status, 200, "{}", updated.text);
    assert_eq!(updated.json, json!({"diagnostics": []}));
    let new_etag = updated.header("etag").unwrap().to_owned();
    assert_ne!(new_etag, etag);
    let got = api.pulumi(Method::GET, env, None).await;
    assert_eq!(got.text, yaml);
    assert_eq!(got.header("etag"), Some(new_etag.as_str()));
    assert_eq!(got.header("pulumi-esc-revision"), Some("2"));

    // A stale ETag (as the ESC CLI sends it, or as If-Match) is a conflict.
    patch("values: {}\n", Some(("ETag", etag.clone())))
        .await
        .assert_pulumi_error(409);
    patch("values: {}\n", Some(("If-Match", etag)))
        .await
        .assert_pulumi_error(409);
    // Invalid YAML and a non-mapping are 400 with diagnostics; nothing changes.
    for bad in ["values: [unclosed\n", "- a list\n"] {
        let r = patch(bad, Some(("ETag", new_etag.clone()))).await;
        assert_eq!(r.status, 400, "{}", r.text);
        assert!(
            r.json["diagnostics"][0]["summary"].is_string(),
            "{}",
            r.text
        );
    }
    let got = api.pulumi(Method::GET, env, None).await;
    assert_eq!(
        (got.text.as_str(), got.header("etag")),
        (yaml, Some(new_etag.as_str()))
    );
    // Without a precondition the write goes through.
    let unconditional = patch("values:\n  x: 1\n", None).await;
    assert_eq!(unconditional.status, 200);

    let deleted = api.pulumi(Method::DELETE, env, None).await;
    assert_eq!(deleted.status, 204);
    api.pulumi(Method::GET, env, None)
        .await
        .assert_pulumi_error(404);
    api.pulumi(Method::DELETE, env, None)
        .await
        .assert_pulumi_error(404);
    patch("values: {}\n", None).await.assert_pulumi_error(404);
}
