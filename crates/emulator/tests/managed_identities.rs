#![allow(clippy::unwrap_used)]
//! User-assigned managed identities as the emulated ARM serves them: create, read,
//! update, list with `nextLink`, delete, and the service principal that comes and goes
//! with each; ARM's name, tag and api-version rules; their federated credentials with
//! the 20-limit and issuer+subject uniqueness; the 409 for concurrent credential writes
//! and the documented 429 throttles; and the token exchange against an identity's
//! credential (sources cited in `src/arm/identities*.rs`).

mod common;

use std::time::{Duration, Instant};

use common::{API_VERSION, ARM_SCOPE, Api, CONTRIBUTOR, Resp, SUBSCRIPTION, role_assignment};
use pulumi_azure_oidc_emulator::{FaultOptions, MintRequest, Options, PULUMI_ISSUER, Replication};
use reqwest::Method;
use serde_json::{Value, json};

const V2024: &str = "api-version=2024-11-30";
const SUBJECT: &str =
    "pulumi:deploy:org:contoso:project:core:stack:dev:operation:update:scope:write";

fn identity_path(rg: &str, name: &str) -> String {
    format!(
        "{SUBSCRIPTION}/resourceGroups/{rg}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}"
    )
}

fn with(path: &str, query: &str) -> String {
    format!("{path}?{query}")
}

fn credential_path(rg: &str, identity: &str, name: &str) -> String {
    format!(
        "{}/federatedIdentityCredentials/{name}",
        identity_path(rg, identity)
    )
}

fn fic(issuer: &str, subject: &str, audience: &str) -> Value {
    json!({"properties": {"issuer": issuer, "subject": subject, "audiences": [audience]}})
}

/// Options under which credential writes are neither slow nor throttled (a million
/// times the documented rates), so a test of another rule does not trip over those two.
fn quick() -> Options {
    Options {
        rate_scale: 1e6,
        identity_credential_write_ms: 0,
        ..Options::default()
    }
}

async fn create_identity(api: &Api, rg: &str, name: &str) -> Value {
    let r = api
        .arm(
            Method::PUT,
            &with(&identity_path(rg, name), V2024),
            Some(json!({"location": "westeurope"})),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.json
}

async fn put_fic(api: &Api, rg: &str, identity: &str, name: &str, body: Value) -> Resp {
    api.arm(
        Method::PUT,
        &with(&credential_path(rg, identity, name), V2024),
        Some(body),
    )
    .await
}

/// Follow `nextLink` from `first` to the last page; every item's name.
async fn all_pages(api: &Api, first: &str) -> (Vec<String>, usize) {
    let mut names = Vec::new();
    let mut pages = 0;
    let mut url = format!("{}{first}", api.base);
    loop {
        let auth = format!("Bearer {}", api.arm_token);
        let r = api.send(Method::GET, &url, Some(&auth), None, &[]).await;
        assert_eq!(r.status, 200, "{}", r.text);
        pages += 1;
        for item in r.json["value"].as_array().unwrap() {
            names.push(item["name"].as_str().unwrap().to_owned());
        }
        match r.json["nextLink"].as_str() {
            Some(next) => url = next.to_owned(),
            None => return (names, pages),
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn identity_lifecycle_with_its_service_principal() {
    let api = Api::start_with(quick()).await;
    let path = identity_path("core-rg", "pulumi-deploy");
    let created = api
        .arm(
            Method::PUT,
            &with(&path, V2024),
            Some(json!({"location": "West Europe"})),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let id = format!(
        "{SUBSCRIPTION}/resourcegroups/core-rg/providers/Microsoft.ManagedIdentity/userAssignedIdentities/pulumi-deploy"
    );
    let body = &created.json;
    let client_id = body["properties"]["clientId"].as_str().unwrap().to_owned();
    let principal_id = body["properties"]["principalId"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(
        body,
        &json!({
            "id": id,
            "name": "pulumi-deploy",
            "type": "Microsoft.ManagedIdentity/userAssignedIdentities",
            "location": "westeurope",
            "tags": {},
            "properties": {
                "tenantId": api.emu.tenant_id(),
                "principalId": principal_id,
                "clientId": client_id,
                "isolationScope": "None",
            },
        })
    );
    assert_eq!(created.header("location"), Some(id.as_str()));
    assert!(
        created
            .header("x-ms-ratelimit-remaining-subscription-writes")
            .is_some()
    );
    assert!(uuid_like(&client_id) && uuid_like(&principal_id) && client_id != principal_id);

    // The same PUT with tags: 200, the same identity, the tags replaced.
    let again = api
        .arm(
            Method::PUT,
            &with(&path, V2024),
            Some(json!({"location": "westeurope", "tags": {"owner": "platform"}})),
        )
        .await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert_eq!(again.json["properties"]["clientId"], json!(client_id));
    assert_eq!(again.json["tags"], json!({"owner": "platform"}));

    // GET; the 2023-01-31 shape has no isolationScope.
    let got = api.arm(Method::GET, &with(&path, V2024), None).await;
    assert_eq!((got.status, &got.json), (200, &again.json));
    let old = api
        .arm(Method::GET, &with(&path, "api-version=2023-01-31"), None)
        .await;
    assert_eq!(old.status, 200);
    assert!(old.json["properties"].get("isolationScope").is_none());

    // PATCH replaces the tags.
    let patched = api
        .arm(
            Method::PATCH,
            &with(&path, V2024),
            Some(json!({"tags": {"team": "a"}})),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    assert_eq!(patched.json["tags"], json!({"team": "a"}));

    // Its service principal is in the directory, by appId, as Graph shows a managed
    // identity's.
    let sp = api
        .graph(
            Method::GET,
            &format!("/servicePrincipals(appId='{client_id}')"),
            None,
        )
        .await;
    assert_eq!(sp.status, 200, "{}", sp.text);
    assert_eq!(sp.json["id"], json!(principal_id));
    assert_eq!(sp.json["appId"], json!(client_id));
    assert_eq!(sp.json["displayName"], "pulumi-deploy");
    assert_eq!(sp.json["servicePrincipalType"], "ManagedIdentity");
    assert!(
        sp.json["alternativeNames"]
            .as_array()
            .unwrap()
            .contains(&json!(id))
    );

    // A role assignment to its principal succeeds.
    let ra = api
        .arm(
            Method::PUT,
            &api.role_assignment_path(SUBSCRIPTION, "15c5a614-a7d6-4502-b150-c2fb455033ff"),
            Some(role_assignment(CONTRIBUTOR, &principal_id)),
        )
        .await;
    assert_eq!(ra.status, 201, "{}", ra.text);

    // The snapshot holds it.
    let state = api.emu.state();
    assert_eq!(state["managedIdentities"][0]["id"], json!(id));
    assert_eq!(state["managedIdentities"][0]["clientId"], json!(client_id));

    // DELETE: 200 with no body, counted as a delete; then 404 and 204; the principal gone.
    let deleted = api.arm(Method::DELETE, &with(&path, V2024), None).await;
    assert_eq!(deleted.status, 200, "{}", deleted.text);
    assert!(deleted.text.is_empty());
    assert!(
        deleted
            .header("x-ms-ratelimit-remaining-subscription-deletes")
            .is_some()
    );
    let missing = api.arm(Method::GET, &with(&path, V2024), None).await;
    missing.assert_arm_error(404, "ResourceNotFound");
    assert!(
        missing
            .message()
            .starts_with("The Resource 'Microsoft.ManagedIdentity/userAssignedIdentities/pulumi-deploy' under resource group 'core-rg' was not found.")
    );
    let again = api.arm(Method::DELETE, &with(&path, V2024), None).await;
    assert_eq!(again.status, 204);
    api.graph(
        Method::GET,
        &format!("/servicePrincipals(appId='{client_id}')"),
        None,
    )
    .await
    .assert_graph_error(404, "Request_ResourceNotFound");
    assert_eq!(api.emu.state()["managedIdentities"], json!([]));

    let stats = api.emu.stats();
    assert_eq!(stats["by_kind"]["arm.identities.put"], 2);
    assert_eq!(stats["by_kind"]["arm.identities.delete"], 2);
    // Create, tags, patch, role assignment, delete.
    assert_eq!(stats["mutations"], 5);
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.chars().filter(|c| *c == '-').count() == 4
}

#[tokio::test(flavor = "multi_thread")]
async fn lists_page_with_next_link() {
    let api = Api::start_with(Options {
        list_page_size: 2,
        ..quick()
    })
    .await;
    for i in 0..5 {
        create_identity(&api, "rg-a", &format!("id-{i}")).await;
    }
    create_identity(&api, "rg-b", "id-b").await;
    let by_group = format!(
        "{SUBSCRIPTION}/resourceGroups/rg-a/providers/Microsoft.ManagedIdentity/userAssignedIdentities?{V2024}"
    );
    let (names, pages) = all_pages(&api, &by_group).await;
    assert_eq!(names, ["id-0", "id-1", "id-2", "id-3", "id-4"]);
    assert_eq!(pages, 3);
    let by_subscription = format!(
        "{SUBSCRIPTION}/providers/Microsoft.ManagedIdentity/userAssignedIdentities?{V2024}"
    );
    let (names, _) = all_pages(&api, &by_subscription).await;
    assert_eq!(names.len(), 6);
    assert!(names.contains(&"id-b".to_owned()));
    // An empty group lists nothing, without nextLink.
    let empty = api
        .arm(
            Method::GET,
            &format!(
                "{SUBSCRIPTION}/resourceGroups/rg-c/providers/Microsoft.ManagedIdentity/userAssignedIdentities?{V2024}"
            ),
            None,
        )
        .await;
    assert_eq!((empty.status, &empty.json), (200, &json!({"value": []})));

    // Credentials page by the smaller of the page size and `$top`.
    for i in 0..3 {
        let r = put_fic(
            &api,
            "rg-a",
            "id-0",
            &format!("fic-{i}"),
            fic(PULUMI_ISSUER, &format!("{SUBJECT}-{i}"), "contoso"),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
    }
    let list = format!(
        "{}/federatedIdentityCredentials?{V2024}&$top=1",
        identity_path("rg-a", "id-0")
    );
    let (names, pages) = all_pages(&api, &list).await;
    assert_eq!(
        (names, pages),
        (vec!["fic-0".into(), "fic-1".into(), "fic-2".into()], 3)
    );
    let bad = api
        .arm(
            Method::GET,
            &format!(
                "{}/federatedIdentityCredentials?{V2024}&$skiptoken=x",
                identity_path("rg-a", "id-0")
            ),
            None,
        )
        .await;
    bad.assert_arm_error(400, "BadRequest");
}

#[tokio::test(flavor = "multi_thread")]
async fn api_versions_as_arm_answers_them() {
    let api = Api::start_with(quick()).await;
    let path = identity_path("rg", "versions");
    api.arm(Method::GET, &path, None)
        .await
        .assert_arm_error(400, "MissingApiVersionParameter");
    let unknown = api
        .arm(
            Method::PUT,
            &with(&path, "api-version=2018-11-30"),
            Some(json!({"location": "eastus"})),
        )
        .await;
    unknown.assert_arm_error(400, "NoRegisteredProviderFound");
    assert!(unknown.message().starts_with(
        "No registered resource provider found for location 'eastus' and API version '2018-11-30' for type 'userAssignedIdentities'. The supported api-versions are '2023-01-31, 2024-11-30, 2025-01-31-preview, 2025-05-31-preview'."
    ), "{}", unknown.message());
    let fic_unknown = api
        .arm(
            Method::GET,
            &with(
                &format!("{path}/federatedIdentityCredentials"),
                "api-version=2020-01-01",
            ),
            None,
        )
        .await;
    fic_unknown.assert_arm_error(400, "NoRegisteredProviderFound");
    assert!(
        fic_unknown
            .message()
            .contains("for type 'userAssignedIdentities/federatedIdentityCredentials'")
    );

    // Each served version answers; the 2025-05-31-preview one echoes assignmentRestrictions.
    for v in ["2023-01-31", "2024-11-30", "2025-01-31-preview"] {
        let r = api
            .arm(
                Method::PUT,
                &with(&path, &format!("api-version={v}")),
                Some(json!({"location": "eastus"})),
            )
            .await;
        assert!(r.status == 200 || r.status == 201, "{v}: {}", r.text);
    }
    let preview = api
        .arm(
            Method::PUT,
            &with(&path, "api-version=2025-05-31-preview"),
            Some(json!({"location": "eastus", "properties": {
                "isolationScope": "Regional",
                "assignmentRestrictions": {"providers": ["Microsoft.Compute"]}
            }})),
        )
        .await;
    assert_eq!(preview.status, 200, "{}", preview.text);
    assert_eq!(preview.json["properties"]["isolationScope"], "Regional");
    assert_eq!(
        preview.json["properties"]["assignmentRestrictions"],
        json!({"providers": ["Microsoft.Compute"]})
    );
    // Other types of the namespace are not served.
    api.arm(
        Method::GET,
        &format!("{SUBSCRIPTION}/providers/Microsoft.ManagedIdentity/identities?{V2024}"),
        None,
    )
    .await
    .assert_arm_error(404, "InvalidResourceType");
}

#[tokio::test(flavor = "multi_thread")]
async fn names_locations_and_tags_follow_arm() {
    let api = Api::start_with(quick()).await;
    let put = |rg: &str, name: &str, body: Value| {
        let path = with(&identity_path(rg, name), V2024);
        let api = &api;
        async move { api.arm(Method::PUT, &path, Some(body)).await }
    };
    let located = json!({"location": "eastus"});
    for bad in ["ab", "-abc", "_abc", "a.bc", &"a".repeat(129)] {
        put("rg", bad, located.clone())
            .await
            .assert_arm_error(400, "InvalidResourceName");
    }
    for good in ["abc", "A-b_C", &"a".repeat(128)] {
        assert_eq!(put("rg", good, located.clone()).await.status, 201, "{good}");
    }
    // A resource group name ARM would refuse names no group.
    let group = put("bad.", "abcd", located.clone()).await;
    group.assert_arm_error(404, "ResourceGroupNotFound");
    put("rg", "abcd", json!({"tags": {}}))
        .await
        .assert_arm_error(400, "LocationRequired");
    let located_elsewhere = put("rg", "abc", json!({"location": "westus"})).await;
    located_elsewhere.assert_arm_error(409, "InvalidResourceLocation");

    let tagged = |tags: Value| put("rg", "tagged", json!({"location": "eastus", "tags": tags}));
    let many: serde_json::Map<String, Value> =
        (0..51).map(|i| (format!("t{i}"), json!("v"))).collect();
    tagged(Value::Object(many))
        .await
        .assert_arm_error(400, "InvalidTags");
    tagged(json!({"a/b": "v"}))
        .await
        .assert_arm_error(400, "InvalidTagNameCharacters");
    tagged(json!({"x".repeat(513): "v"}))
        .await
        .assert_arm_error(400, "InvalidTagName");
    tagged(json!({"k": "v".repeat(257)}))
        .await
        .assert_arm_error(400, "InvalidTagValueLength");
    let fifty: serde_json::Map<String, Value> =
        (0..50).map(|i| (format!("t{i}"), json!("v"))).collect();
    assert_eq!(tagged(Value::Object(fifty)).await.status, 201);
    api.arm(
        Method::PATCH,
        &with(&identity_path("rg", "tagged"), V2024),
        Some(json!({"tags": {"a?": "b"}})),
    )
    .await
    .assert_arm_error(400, "InvalidTagNameCharacters");
    api.arm(
        Method::PATCH,
        &with(&identity_path("rg", "nobody"), V2024),
        Some(json!({"tags": {}})),
    )
    .await
    .assert_arm_error(404, "ResourceNotFound");
}

#[tokio::test(flavor = "multi_thread")]
async fn credentials_follow_the_documented_rules() {
    let api = Api::start_with(quick()).await;
    let identity = create_identity(&api, "rg", "holder").await;
    let created = put_fic(
        &api,
        "rg",
        "holder",
        "deploy-update",
        fic(PULUMI_ISSUER, SUBJECT, "contoso"),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.text);
    let fic_id = format!(
        "{}/federatedIdentityCredentials/deploy-update",
        identity["id"].as_str().unwrap()
    );
    assert_eq!(
        created.json,
        json!({
            "id": fic_id,
            "name": "deploy-update",
            "type": "Microsoft.ManagedIdentity/userAssignedIdentities/federatedIdentityCredentials",
            "properties": {"issuer": PULUMI_ISSUER, "subject": SUBJECT, "audiences": ["contoso"]},
        })
    );
    assert_eq!(created.header("location"), Some(fic_id.as_str()));
    // The same PUT again: 200; another subject: 200, updated.
    let same = put_fic(
        &api,
        "rg",
        "holder",
        "deploy-update",
        fic(PULUMI_ISSUER, SUBJECT, "contoso"),
    )
    .await;
    assert_eq!((same.status, &same.json), (200, &created.json));
    let other_subject = format!("{SUBJECT}x");
    let updated = put_fic(
        &api,
        "rg",
        "holder",
        "deploy-update",
        fic(PULUMI_ISSUER, &other_subject, "contoso"),
    )
    .await;
    assert_eq!(updated.status, 200);
    assert_eq!(updated.json["properties"]["subject"], json!(other_subject));
    let got = api
        .arm(
            Method::GET,
            &with(&credential_path("rg", "holder", "DEPLOY-update"), V2024),
            None,
        )
        .await;
    assert_eq!((got.status, &got.json), (200, &updated.json));

    // Names, audiences, missing and untidy values.
    put_fic(
        &api,
        "rg",
        "holder",
        "-bad",
        fic(PULUMI_ISSUER, SUBJECT, "contoso"),
    )
    .await
    .assert_arm_error(400, "BadRequest");
    let two =
        json!({"properties": {"issuer": PULUMI_ISSUER, "subject": "s2", "audiences": ["a", "b"]}});
    let r = put_fic(&api, "rg", "holder", "two-aud", two).await;
    r.assert_arm_error(400, "InvalidFederatedIdentityCredentialsAudienceLength");
    assert_eq!(
        r.message(),
        "Federated identity credentials must have exactly 1 audience."
    );
    let none = json!({"properties": {"issuer": PULUMI_ISSUER, "audiences": ["a"]}});
    let r = put_fic(&api, "rg", "holder", "no-subject", none).await;
    r.assert_arm_error(400, "BadRequest");
    assert!(
        r.message()
            .contains("must specify 'issuer', 'subject' and 'audience'")
    );
    put_fic(
        &api,
        "rg",
        "holder",
        "spaced",
        fic(PULUMI_ISSUER, " s", "a"),
    )
    .await
    .assert_arm_error(400, "BadRequest");
    put_fic(
        &api,
        "rg",
        "holder",
        "long",
        fic(PULUMI_ISSUER, &"s".repeat(601), "a"),
    )
    .await
    .assert_arm_error(400, "BadRequest");
    assert_eq!(
        put_fic(
            &api,
            "rg",
            "holder",
            "long-ok",
            fic(PULUMI_ISSUER, &"s".repeat(600), "a")
        )
        .await
        .status,
        201
    );

    // Issuer + subject unique per identity, under another name.
    let dup = put_fic(
        &api,
        "rg",
        "holder",
        "again",
        fic(PULUMI_ISSUER, &other_subject, "other"),
    )
    .await;
    dup.assert_arm_error(400, "BadRequest");
    assert_eq!(
        dup.message(),
        "Issuer and subject combination already exists for this Managed Identity."
    );
    // … but another identity may hold the same pair.
    create_identity(&api, "rg", "second").await;
    assert_eq!(
        put_fic(
            &api,
            "rg",
            "second",
            "again",
            fic(PULUMI_ISSUER, &other_subject, "contoso")
        )
        .await
        .status,
        201
    );

    // Twenty per identity; the 21st is refused, an update of one of them is not.
    for i in 2..20 {
        let r = put_fic(
            &api,
            "rg",
            "holder",
            &format!("fic-{i}"),
            fic(PULUMI_ISSUER, &format!("sub-{i}"), "contoso"),
        )
        .await;
        assert_eq!(r.status, 201, "{i}: {}", r.text);
    }
    let list = api
        .arm(
            Method::GET,
            &with(
                &format!(
                    "{}/federatedIdentityCredentials",
                    identity_path("rg", "holder")
                ),
                V2024,
            ),
            None,
        )
        .await;
    assert_eq!(list.json["value"].as_array().unwrap().len(), 20);
    put_fic(
        &api,
        "rg",
        "holder",
        "fic-21",
        fic(PULUMI_ISSUER, "sub-21", "contoso"),
    )
    .await
    .assert_arm_error(400, "BadRequest");
    assert_eq!(
        put_fic(
            &api,
            "rg",
            "holder",
            "fic-2",
            fic(PULUMI_ISSUER, "sub-2b", "contoso")
        )
        .await
        .status,
        200
    );

    // Missing credential and missing identity.
    api.arm(
        Method::GET,
        &with(&credential_path("rg", "holder", "nope"), V2024),
        None,
    )
    .await
    .assert_arm_error(404, "ResourceNotFound");
    put_fic(
        &api,
        "rg",
        "ghost",
        "fic",
        fic(PULUMI_ISSUER, SUBJECT, "contoso"),
    )
    .await
    .assert_arm_error(404, "ParentResourceNotFound");
    api.arm(
        Method::GET,
        &with(
            &format!(
                "{}/federatedIdentityCredentials",
                identity_path("rg", "ghost")
            ),
            V2024,
        ),
        None,
    )
    .await
    .assert_arm_error(404, "ParentResourceNotFound");

    // DELETE 200, then 204.
    let path = with(&credential_path("rg", "holder", "fic-3"), V2024);
    let d = api.arm(Method::DELETE, &path, None).await;
    assert_eq!((d.status, d.text.as_str()), (200, ""));
    assert_eq!(api.arm(Method::DELETE, &path, None).await.status, 204);

    // Deleting the identity takes its credentials: a new one of that name has none.
    assert_eq!(
        api.arm(
            Method::DELETE,
            &with(&identity_path("rg", "holder"), V2024),
            None
        )
        .await
        .status,
        200
    );
    create_identity(&api, "rg", "holder").await;
    let list = api
        .arm(
            Method::GET,
            &with(
                &format!(
                    "{}/federatedIdentityCredentials",
                    identity_path("rg", "holder")
                ),
                V2024,
            ),
            None,
        )
        .await;
    assert_eq!(list.json, json!({"value": []}));
    let stats = api.emu.stats();
    assert!(
        stats["by_kind"]["arm.identityCredentials.put"]
            .as_u64()
            .unwrap()
            >= 29
    );
    assert_eq!(stats["by_kind"]["arm.identityCredentials.delete"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_credential_writes_get_409_and_sequential_ones_never() {
    let api = Api::start_with(Options {
        identity_credential_write_ms: 300,
        rate_scale: 1000.0,
        ..Options::default()
    })
    .await;
    create_identity(&api, "rg", "busy").await;
    create_identity(&api, "rg", "other").await;
    let (a, b, c) = tokio::join!(
        put_fic(
            &api,
            "rg",
            "busy",
            "first",
            fic(PULUMI_ISSUER, "s1", "contoso")
        ),
        put_fic(
            &api,
            "rg",
            "busy",
            "second",
            fic(PULUMI_ISSUER, "s2", "contoso")
        ),
        // Another identity is not held up.
        put_fic(
            &api,
            "rg",
            "other",
            "first",
            fic(PULUMI_ISSUER, "s1", "contoso")
        ),
    );
    assert_eq!(c.status, 201, "{}", c.text);
    let mut statuses = [a.status, b.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [201, 409], "{} / {}", a.text, b.text);
    let refused = if a.status == 409 { &a } else { &b };
    refused.assert_arm_error(
        409,
        "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity",
    );
    assert_eq!(
        refused.message(),
        format!(
            "Too many Federated Identity Credentials are written concurrently for the managed identity '{SUBSCRIPTION}/resourcegroups/rg/providers/microsoft.managedidentity/userassignedidentities/busy'. Concurrent Federated Identity Credentials writes under the same managed identity are not supported."
        )
    );
    // A delete meets the same refusal while a put is in flight.
    let (put, delete) = tokio::join!(
        put_fic(
            &api,
            "rg",
            "busy",
            "third",
            fic(PULUMI_ISSUER, "s3", "contoso")
        ),
        async {
            tokio::time::sleep(Duration::from_millis(100)).await;
            api.arm(
                Method::DELETE,
                &with(&credential_path("rg", "busy", "first"), V2024),
                None,
            )
            .await
        }
    );
    assert_eq!(put.status, 201, "{}", put.text);
    delete.assert_arm_error(
        409,
        "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity",
    );
    // One at a time, never refused.
    for name in ["fourth", "fifth"] {
        let started = Instant::now();
        let r = put_fic(
            &api,
            "rg",
            "busy",
            name,
            fic(PULUMI_ISSUER, name, "contoso"),
        )
        .await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert!(started.elapsed() >= Duration::from_millis(300));
    }
    let stats = api.emu.stats();
    assert_eq!(stats["concurrent_write_conflicts"], 2);
    assert_eq!(stats["max_identity_writes_in_flight"], 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn credential_writes_beyond_the_documented_rate_get_429() {
    // Ten times the documented rates: one write per identity per 400 ms.
    let api = Api::start_with(Options {
        rate_scale: 10.0,
        identity_credential_write_ms: 0,
        ..Options::default()
    })
    .await;
    create_identity(&api, "rg", "paced").await;
    let first = put_fic(
        &api,
        "rg",
        "paced",
        "one",
        fic(PULUMI_ISSUER, "s1", "contoso"),
    )
    .await;
    assert_eq!(first.status, 201, "{}", first.text);
    let early = Instant::now();
    let throttled = put_fic(
        &api,
        "rg",
        "paced",
        "two",
        fic(PULUMI_ISSUER, "s2", "contoso"),
    )
    .await;
    throttled.assert_arm_error(429, "TooManyRequests");
    let retry_after: f64 = throttled.header("retry-after").unwrap().parse().unwrap();
    assert!(retry_after > 0.0 && retry_after <= 0.4, "{retry_after}");
    assert!(
        throttled.message().contains("the managed identity"),
        "{}",
        throttled.message()
    );
    // A provider's throttle: ARM's own budget is not exhausted.
    assert_ne!(
        throttled.header("x-ms-ratelimit-remaining-subscription-writes"),
        Some("0")
    );
    // After the wait, the same request passes, and the stats saw the wait honoured.
    common::wait_past(early, Duration::from_secs_f64(retry_after)).await;
    let later = put_fic(
        &api,
        "rg",
        "paced",
        "two",
        fic(PULUMI_ISSUER, "s2", "contoso"),
    )
    .await;
    assert_eq!(later.status, 201, "{}", later.text);
    // Reads are not metered.
    for _ in 0..5 {
        let r = api
            .arm(
                Method::GET,
                &with(&credential_path("rg", "paced", "one"), V2024),
                None,
            )
            .await;
        assert_eq!(r.status, 200);
    }
    let stats = api.emu.stats();
    assert_eq!(stats["metered_throttles"], 1);
    assert_eq!(stats["honoured_retries"], 1);
    assert_eq!(stats["early_retries"], 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_whose_answer_is_dropped_expects_no_wait() {
    // The documented rates: after one write, the identity's next waits four seconds.
    let api = Api::start_with(Options {
        identity_credential_write_ms: 0,
        ..Options::default()
    })
    .await;
    create_identity(&api, "rg", "lost").await;
    let first = put_fic(
        &api,
        "rg",
        "lost",
        "one",
        fic(PULUMI_ISSUER, "s1", "contoso"),
    )
    .await;
    assert_eq!(first.status, 201, "{}", first.text);
    // Every connection dropped, half of them after the request was handled (and
    // throttled): the client saw no Retry-After, so coming back at once is no early
    // retry.
    api.emu
        .set_faults(pulumi_azure_oidc_emulator::FaultOptions {
            drop_rate: 1.0,
            ..Default::default()
        })
        .unwrap();
    let url = format!(
        "{}{}",
        api.base,
        with(&credential_path("rg", "lost", "two"), V2024)
    );
    for _ in 0..8 {
        let sent = api
            .http
            .put(&url)
            .bearer_auth(&api.arm_token)
            .json(&fic(PULUMI_ISSUER, "s2", "contoso"))
            .send()
            .await;
        assert!(sent.is_err(), "every answer is dropped");
    }
    let stats = api.emu.stats();
    assert!(
        stats["faults"]["drop_after"].as_u64().unwrap_or(0) >= 2,
        "{stats}"
    );
    assert!(
        stats["metered_throttles"].as_u64().unwrap_or(0) >= 2,
        "{stats}"
    );
    assert_eq!(stats["early_retries"], 0, "{stats}");
}

#[tokio::test(flavor = "multi_thread")]
async fn documented_rates_answer_whole_seconds() {
    // At the documented rates; writes take no time, so the test stays well inside the
    // half second the subscription's budget needs to refill.
    let api = Api::start_with(Options {
        identity_credential_write_ms: 0,
        ..Options::default()
    })
    .await;
    for name in ["id-a1", "id-a2", "id-a3"] {
        create_identity(&api, "rg", name).await;
    }
    // Per identity: 0.25 per second, so a second write waits four seconds.
    assert_eq!(
        put_fic(&api, "rg", "id-a1", "one", fic(PULUMI_ISSUER, "s1", "c"))
            .await
            .status,
        201
    );
    let r = put_fic(&api, "rg", "id-a1", "two", fic(PULUMI_ISSUER, "s2", "c")).await;
    r.assert_arm_error(429, "TooManyRequests");
    let secs: u64 = r.header("retry-after").unwrap().parse().unwrap();
    assert!((3..=4).contains(&secs), "{secs}");
    // Per subscription: two per second, so the third identity's write waits.
    assert_eq!(
        put_fic(&api, "rg", "id-a2", "one", fic(PULUMI_ISSUER, "s1", "c"))
            .await
            .status,
        201
    );
    let r = put_fic(&api, "rg", "id-a3", "one", fic(PULUMI_ISSUER, "s1", "c")).await;
    r.assert_arm_error(429, "TooManyRequests");
    assert_eq!(r.header("retry-after"), Some("1"));
    assert!(r.message().contains("subscription"), "{}", r.message());
}

#[tokio::test(flavor = "multi_thread")]
async fn token_exchange_against_an_identity_credential() {
    let api = Api::start_with(quick()).await;
    let identity = create_identity(&api, "rg", "deployer").await;
    let client_id = identity["properties"]["clientId"]
        .as_str()
        .unwrap()
        .to_owned();
    let principal_id = identity["properties"]["principalId"]
        .as_str()
        .unwrap()
        .to_owned();
    let token = api
        .emu
        .mint(&MintRequest::deployment("contoso", "core", "dev", "update"))
        .unwrap();

    // No credential yet: nothing matches the issuer.
    api.exchange(&client_id, &token, ARM_SCOPE)
        .await
        .assert_aadsts(401, "invalid_client", 700211);

    // A new credential has not reached the token endpoint yet: 70021, then accepted.
    api.emu.set_replication(Replication {
        fic_propagation_ms: 300,
        ..Replication::default()
    });
    let created_at = Instant::now();
    let r = put_fic(
        &api,
        "rg",
        "deployer",
        "deploy-update",
        fic(PULUMI_ISSUER, SUBJECT, "contoso"),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.text);
    let early = api.exchange(&client_id, &token, ARM_SCOPE).await;
    assert!(
        created_at.elapsed() < Duration::from_millis(300),
        "the machine is too slow for a 300 ms window"
    );
    early.assert_aadsts(401, "invalid_client", 70021);
    common::wait_past(created_at, Duration::from_millis(300)).await;
    let ok = api.exchange(&client_id, &token, ARM_SCOPE).await;
    assert_eq!(ok.status, 200, "{}", ok.text);
    let auth = format!("Bearer {}", ok.json["access_token"].as_str().unwrap());

    // The token reads ARM, may not write, and stands for the identity's principal.
    let list = format!(
        "{}{SUBSCRIPTION}/providers/Microsoft.Authorization/roleAssignments?{API_VERSION}",
        api.base
    );
    assert_eq!(
        api.send(Method::GET, &list, Some(&auth), None, &[])
            .await
            .status,
        200
    );
    let write = format!(
        "{}{}",
        api.base,
        with(&identity_path("rg", "deployer"), V2024)
    );
    let body = json!({"location": "westeurope"});
    let denied = api
        .send(Method::PUT, &write, Some(&auth), Some(&body), &[])
        .await;
    denied.assert_arm_error(403, "AuthorizationFailed");
    assert!(
        denied.message().starts_with(&format!(
            "The client '{client_id}' with object id '{principal_id}' does not have authorization to perform action 'Microsoft.ManagedIdentity/userAssignedIdentities/write'"
        )),
        "{}",
        denied.message()
    );

    // A token that matches neither subject nor audience: 70021.
    let esc = api
        .emu
        .mint(&MintRequest::esc("contoso", "infra", "prod"))
        .unwrap();
    api.exchange(&client_id, &esc, ARM_SCOPE)
        .await
        .assert_aadsts(401, "invalid_client", 70021);

    // Gone with the identity: its client id is unknown.
    api.arm(
        Method::DELETE,
        &with(&identity_path("rg", "deployer"), V2024),
        None,
    )
    .await;
    api.exchange(&client_id, &token, ARM_SCOPE)
        .await
        .assert_aadsts(400, "unauthorized_client", 700016);
}

#[tokio::test(flavor = "multi_thread")]
async fn faults_apply_to_identity_requests() {
    let api = Api::start_with(quick()).await;
    create_identity(&api, "rg", "faulted").await;
    api.emu
        .set_faults(FaultOptions {
            throttle_rate: 1.0,
            retry_after_max_secs: 0.5,
            ..FaultOptions::default()
        })
        .unwrap();
    let r = api
        .arm(
            Method::GET,
            &with(&identity_path("rg", "faulted"), V2024),
            None,
        )
        .await;
    r.assert_arm_error(429, "SubscriptionRequestsThrottled");
    assert!(r.header("retry-after").is_some());
    api.emu.set_faults(FaultOptions::default()).unwrap();
    let stats = api.emu.stats();
    assert_eq!(stats["faults"]["throttle"], 1);
}
