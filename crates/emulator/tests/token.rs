#![allow(clippy::unwrap_used)]
//! The Entra token endpoint: operator secret grants, and the workload identity
//! exchange of a minted Pulumi token end to end, with the AADSTS code for every
//! mismatch and the presented values in its description, as Entra's captured answers
//! carry them (MicrosoftDocs/entra-docs
//! `docs/identity-platform/v2-oauth2-client-creds-grant-flow.md`,
//! `reference-error-codes.md`; the AADSTS texts from the issues cited in `src/sts.rs`).

mod common;

use std::time::{Duration, Instant};

use common::{ARM_SCOPE, Api, GRAPH_SCOPE, SUBSCRIPTION, credential};
use pulumi_azure_oidc_emulator::{
    DEFAULT_OPERATOR_CLIENT_ID, DEFAULT_OPERATOR_SECRET, MintRequest, Options, PULUMI_ISSUER,
    Replication,
};
use reqwest::Method;
use serde_json::json;

const SUBJECT: &str =
    "pulumi:deploy:org:contoso:project:core:stack:dev:operation:update:scope:write";

fn deployment() -> MintRequest {
    MintRequest::deployment("contoso", "core", "dev", "update")
}

/// The AADSTS text of an error answer, without its trace, correlation and time.
#[track_caller]
fn described(r: &common::Resp) -> &str {
    let description = r.json["error_description"].as_str().unwrap();
    description
        .split(" Trace ID: ")
        .next()
        .unwrap_or(description)
}

/// The description carries `part` verbatim.
#[track_caller]
fn says(r: &common::Resp, part: &str) {
    let text = described(r);
    assert!(text.contains(part), "`{part}` not in: {text}");
}

#[tokio::test(flavor = "multi_thread")]
async fn secret_grants_and_form_errors() {
    let api = Api::start().await;
    for scope in [
        GRAPH_SCOPE,
        ARM_SCOPE,
        "https://management.core.windows.net//.default",
    ] {
        let r = api
            .form(&[
                ("client_id", DEFAULT_OPERATOR_CLIENT_ID),
                ("client_secret", DEFAULT_OPERATOR_SECRET),
                ("grant_type", "client_credentials"),
                ("scope", scope),
            ])
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.json["token_type"], "Bearer");
        assert_eq!(r.json["expires_in"], 3599);
        assert_eq!(r.json["ext_expires_in"], 3599);
        assert!(
            r.json["access_token"]
                .as_str()
                .is_some_and(|t| !t.is_empty())
        );
    }
    let wrong_secret = api
        .form(&[
            ("client_id", DEFAULT_OPERATOR_CLIENT_ID),
            ("client_secret", "nope"),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_SCOPE),
        ])
        .await;
    wrong_secret.assert_aadsts(401, "invalid_client", 7000215);
    let unknown = api
        .form(&[
            ("client_id", "00000000-1111-4222-8333-444444444444"),
            ("client_secret", "x"),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_SCOPE),
        ])
        .await;
    unknown.assert_aadsts(400, "unauthorized_client", 700016);
    says(
        &unknown,
        "Application with identifier '00000000-1111-4222-8333-444444444444' was not found in the directory",
    );
    let no_credential = api
        .form(&[
            ("client_id", DEFAULT_OPERATOR_CLIENT_ID),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_SCOPE),
        ])
        .await;
    no_credential.assert_aadsts(401, "invalid_client", 7000216);
    let bad_scope = api
        .form(&[
            ("client_id", DEFAULT_OPERATOR_CLIENT_ID),
            ("client_secret", DEFAULT_OPERATOR_SECRET),
            ("grant_type", "client_credentials"),
            ("scope", "https://graph.microsoft.com/User.Read"),
        ])
        .await;
    bad_scope.assert_aadsts(400, "invalid_scope", 70011);
    let bad_grant = api
        .form(&[
            ("client_id", DEFAULT_OPERATOR_CLIENT_ID),
            ("client_secret", DEFAULT_OPERATOR_SECRET),
            ("grant_type", "password"),
            ("scope", GRAPH_SCOPE),
        ])
        .await;
    bad_grant.assert_aadsts(400, "unsupported_grant_type", 70003);
    let no_client = api
        .form(&[("grant_type", "client_credentials"), ("scope", GRAPH_SCOPE)])
        .await;
    no_client.assert_aadsts(400, "invalid_request", 900144);
    let wrong_tenant = api
        .http
        .post(format!(
            "{}/contoso.onmicrosoft.com/oauth2/v2.0/token",
            api.base
        ))
        .form(&[
            ("client_id", DEFAULT_OPERATOR_CLIENT_ID),
            ("client_secret", DEFAULT_OPERATOR_SECRET),
            ("grant_type", "client_credentials"),
            ("scope", GRAPH_SCOPE),
        ])
        .send()
        .await
        .unwrap();
    let wrong_tenant = common::Resp::read(wrong_tenant).await;
    wrong_tenant.assert_aadsts(400, "invalid_request", 90002);
    says(&wrong_tenant, "Tenant 'contoso.onmicrosoft.com' not found.");

    // The tenant's OpenID configuration, which MSAL reads before a secret grant.
    let tenant = api.emu.tenant_id();
    let url = format!(
        "{}/{tenant}/v2.0/.well-known/openid-configuration",
        api.base
    );
    let config = api.send(Method::GET, &url, None, None, &[]).await;
    assert_eq!(config.status, 200, "{}", config.text);
    assert_eq!(config.json["token_endpoint"], json!(api.token_url()));
    assert_eq!(
        config.json["issuer"],
        json!(format!("{}/{tenant}/v2.0", api.base))
    );
    assert!(config.json["authorization_endpoint"].is_string());
    let url = format!(
        "{}/contoso.example/v2.0/.well-known/openid-configuration",
        api.base
    );
    api.send(Method::GET, &url, None, None, &[])
        .await
        .assert_aadsts(400, "invalid_tenant", 90002);
}

#[tokio::test(flavor = "multi_thread")]
async fn minted_deployments_token_exchanges_and_works_on_arm_only() {
    let api = Api::start().await;
    let app = api.federated_app(PULUMI_ISSUER, SUBJECT, "contoso").await;
    let client_id = app["appId"].as_str().unwrap();
    let token = api.emu.mint(&deployment()).unwrap();

    let r = api.exchange(client_id, &token, ARM_SCOPE).await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["token_type"], "Bearer");
    assert_eq!(r.json["expires_in"], 3599);
    let access = r.json["access_token"].as_str().unwrap();
    let auth = format!("Bearer {access}");

    // The ARM token reads ARM …
    let list = format!(
        "{}{SUBSCRIPTION}/providers/Microsoft.Authorization/roleAssignments?{}",
        api.base,
        common::API_VERSION
    );
    let arm = api.send(Method::GET, &list, Some(&auth), None, &[]).await;
    assert_eq!(arm.status, 200, "{}", arm.text);
    // … and is refused by Graph.
    let graph_url = format!("{}/v1.0/applications", api.base);
    api.send(Method::GET, &graph_url, Some(&auth), None, &[])
        .await
        .assert_graph_error(401, "InvalidAuthenticationToken");
    // A Graph token of the federated app reads, but may not write.
    let r = api.exchange(client_id, &token, GRAPH_SCOPE).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let graph_auth = format!("Bearer {}", r.json["access_token"].as_str().unwrap());
    let read = api
        .send(Method::GET, &graph_url, Some(&graph_auth), None, &[])
        .await;
    assert_eq!(read.status, 200);
    let body = json!({"displayName": "escalation"});
    api.send(
        Method::POST,
        &graph_url,
        Some(&graph_auth),
        Some(&body),
        &[],
    )
    .await
    .assert_graph_error(403, "Authorization_RequestDenied");

    // An ESC token against an ESC credential works the same way.
    let esc = api
        .emu
        .mint(&MintRequest::esc("contoso", "infra", "prod"))
        .unwrap();
    let claims = unverified_claims(&esc);
    let esc_app = api
        .federated_app(
            claims["iss"].as_str().unwrap(),
            claims["sub"].as_str().unwrap(),
            claims["aud"].as_str().unwrap(),
        )
        .await;
    assert_eq!(claims["aud"], "azure:contoso");
    let r = api
        .exchange(esc_app["appId"].as_str().unwrap(), &esc, ARM_SCOPE)
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
}

fn unverified_claims(token: &str) -> serde_json::Value {
    use base64::Engine;
    let payload = token.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn each_mismatch_gives_its_aadsts_code_and_names_what_was_presented() {
    let api = Api::start().await;
    let app = api.federated_app(PULUMI_ISSUER, SUBJECT, "contoso").await;
    let client_id = app["appId"].as_str().unwrap();

    // Audience differs.
    let mut m = deployment();
    m.audience = Some("azure:contoso".into());
    let r = api
        .exchange(client_id, &api.emu.mint(&m).unwrap(), ARM_SCOPE)
        .await;
    r.assert_aadsts(401, "invalid_client", 700212);
    says(
        &r,
        "No matching federated identity record found for presented assertion audience 'azure:contoso'.",
    );

    // Subject differs (another operation).
    let m = MintRequest::deployment("contoso", "core", "dev", "preview");
    let r = api
        .exchange(client_id, &api.emu.mint(&m).unwrap(), ARM_SCOPE)
        .await;
    r.assert_aadsts(401, "invalid_client", 700213);
    says(
        &r,
        &format!(
            "No matching federated identity record found for presented assertion subject '{}'.",
            SUBJECT.replace(":update:", ":preview:")
        ),
    );

    // Subject differs only in case.
    let mut m = deployment();
    m.subject = Some(SUBJECT.replace("contoso", "Contoso"));
    let r = api
        .exchange(client_id, &api.emu.mint(&m).unwrap(), ARM_SCOPE)
        .await;
    r.assert_aadsts(401, "invalid_client", 7002138);
    says(
        &r,
        &format!(
            "presented assertion subject '{}'. The subject matches with case-insensitive comparison, but not with case-sensitive comparison.",
            m.subject.as_deref().unwrap()
        ),
    );

    // Issuer differs (a trailing slash is another issuer).
    let mut m = deployment();
    m.issuer = Some(format!("{PULUMI_ISSUER}/"));
    let r = api
        .exchange(client_id, &api.emu.mint(&m).unwrap(), ARM_SCOPE)
        .await;
    r.assert_aadsts(401, "invalid_client", 700211);
    says(
        &r,
        &format!(
            "No matching federated identity record found for presented assertion issuer '{PULUMI_ISSUER}/'."
        ),
    );

    // Subject and audience both differ: the generic 70021 with all three values.
    let mut m = MintRequest::deployment("contoso", "core", "prod", "update");
    m.audience = Some("other-org".into());
    let r = api
        .exchange(client_id, &api.emu.mint(&m).unwrap(), ARM_SCOPE)
        .await;
    r.assert_aadsts(401, "invalid_client", 70021);
    says(
        &r,
        &format!(
            "No matching federated identity record found for presented assertion. Assertion Issuer: '{PULUMI_ISSUER}'. Assertion Subject: '{}'. Assertion Audience: 'other-org'.",
            SUBJECT.replace(":dev:", ":prod:")
        ),
    );

    // Expired an hour ago.
    let mut m = deployment();
    m.expires_in_secs = Some(-3600);
    let r = api
        .exchange(client_id, &api.emu.mint(&m).unwrap(), ARM_SCOPE)
        .await;
    r.assert_aadsts(401, "invalid_client", 700024);
    says(
        &r,
        "Client assertion is not within its valid time range. Current time: ",
    );
    let text = described(&r);
    let valid_from = text.find(", assertion valid from ").unwrap();
    let expiry = text.find(", expiry time of assertion ").unwrap();
    assert!(valid_from < expiry, "{text}");

    // Signed by a key the issuer does not publish.
    let mut m = deployment();
    m.foreign_key = true;
    let r = api
        .exchange(client_id, &api.emu.mint(&m).unwrap(), ARM_SCOPE)
        .await;
    r.assert_aadsts(401, "invalid_client", 7000272);
    says(
        &r,
        &format!(
            "The certificate with identifier unpublished-key used to sign the federated credential could not be found in the metadata of identity provider {PULUMI_ISSUER}."
        ),
    );

    // A client id the directory does not know.
    let token = api.emu.mint(&deployment()).unwrap();
    let r = api
        .exchange("7d9e1b2c-3a4f-4e5d-8c6b-0a1f2e3d4c5b", &token, ARM_SCOPE)
        .await;
    r.assert_aadsts(400, "unauthorized_client", 700016);
    says(
        &r,
        &format!(
            "Application with identifier '7d9e1b2c-3a4f-4e5d-8c6b-0a1f2e3d4c5b' was not found in the directory '{}'.",
            api.emu.tenant_id()
        ),
    );

    // And after all that the right token still works.
    let r = api.exchange(client_id, &token, ARM_SCOPE).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn malformed_assertions_and_an_app_without_service_principal() {
    let api = Api::start().await;
    let app = api.federated_app(PULUMI_ISSUER, SUBJECT, "contoso").await;
    let client_id = app["appId"].as_str().unwrap();
    api.exchange(client_id, "not.a.jwt", ARM_SCOPE)
        .await
        .assert_aadsts(400, "invalid_request", 50027);
    // A valid token with its signature replaced.
    let token = api.emu.mint(&deployment()).unwrap();
    let (head, _) = token.rsplit_once('.').unwrap();
    let forged = format!("{head}.AAAA");
    api.exchange(client_id, &forged, ARM_SCOPE)
        .await
        .assert_aadsts(401, "invalid_client", 700027);
    // Wrong assertion type.
    let r = api
        .form(&[
            ("client_assertion", token.as_str()),
            ("client_assertion_type", "urn:example:other"),
            ("client_id", client_id),
            ("grant_type", "client_credentials"),
            ("scope", ARM_SCOPE),
        ])
        .await;
    assert_eq!(r.status, 400, "{}", r.text);
    assert_eq!(r.json["error"], "invalid_request");

    // An app with a matching credential but no service principal (code and wording are
    // an assumption).
    let bare = api.create_app("no-sp").await;
    let r = api
        .post_credential(
            bare["id"].as_str().unwrap(),
            credential("deploy-update", PULUMI_ISSUER, SUBJECT, "contoso"),
        )
        .await;
    assert_eq!(r.status, 201);
    let r = api
        .exchange(bare["appId"].as_str().unwrap(), &token, ARM_SCOPE)
        .await;
    r.assert_aadsts(401, "invalid_client", 7000229);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_credential_gives_70021_until_it_has_propagated() {
    let api = Api::start().await;
    let window = Duration::from_millis(300);
    api.emu.set_replication(Replication {
        fic_propagation_ms: 300,
        ..Replication::default()
    });
    let app = api.create_app("pulumi-propagation").await;
    let client_id = app["appId"].as_str().unwrap().to_owned();
    api.create_sp(&client_id).await;
    let created = Instant::now();
    let r = api
        .post_credential(
            app["id"].as_str().unwrap(),
            credential("deploy-update", PULUMI_ISSUER, SUBJECT, "contoso"),
        )
        .await;
    assert_eq!(r.status, 201);
    let token = api.emu.mint(&deployment()).unwrap();
    let early = api.exchange(&client_id, &token, ARM_SCOPE).await;
    assert!(
        created.elapsed() < window,
        "the test machine is too slow for a 300 ms window"
    );
    early.assert_aadsts(401, "invalid_client", 70021);
    says(
        &early,
        &format!(
            "Assertion Issuer: '{PULUMI_ISSUER}'. Assertion Subject: '{SUBJECT}'. Assertion Audience: 'contoso'."
        ),
    );

    common::wait_past(created, window).await;
    let late = api.exchange(&client_id, &token, ARM_SCOPE).await;
    assert_eq!(late.status, 200, "{}", late.text);
}

#[tokio::test(flavor = "multi_thread")]
async fn managed_identity_endpoint() {
    // Disabled unless asked for.
    let api = Api::start().await;
    let url = format!(
        "{}/msi/token?api-version=2019-08-01&resource=https://management.azure.com/",
        api.base
    );
    let r = api.send(Method::GET, &url, None, None, &[]).await;
    assert_eq!(r.status, 404);

    let options = Options {
        managed_identity_header: Some("identity-header-value".into()),
        ..Options::default()
    };
    let api = Api::start_with(options).await;
    let url = format!(
        "{}/msi/token?api-version=2019-08-01&resource=https://management.azure.com/",
        api.base
    );
    let r = api.send(Method::GET, &url, None, None, &[]).await;
    assert_eq!(
        (r.status, r.json["error"].as_str()),
        (401, Some("invalid_request"))
    );
    let r = api
        .send(
            Method::GET,
            &url,
            None,
            None,
            &[("x-identity-header", "identity-header-value")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    assert_eq!(r.json["token_type"], "Bearer");
    assert_eq!(r.json["resource"], "https://management.azure.com/");
    let expires: i64 = r.json["expires_on"].as_str().unwrap().parse().unwrap();
    assert!(expires > time::OffsetDateTime::now_utc().unix_timestamp());
    let auth = format!("Bearer {}", r.json["access_token"].as_str().unwrap());
    let list = format!(
        "{}{SUBSCRIPTION}/providers/Microsoft.Authorization/roleAssignments?{}",
        api.base,
        common::API_VERSION
    );
    assert_eq!(
        api.send(Method::GET, &list, Some(&auth), None, &[])
            .await
            .status,
        200
    );
    let bad = format!(
        "{}/msi/token?api-version=2019-08-01&resource=https://vault.azure.net",
        api.base
    );
    let r = api
        .send(
            Method::GET,
            &bad,
            None,
            None,
            &[("x-identity-header", "identity-header-value")],
        )
        .await;
    assert_eq!(r.status, 400);
}
