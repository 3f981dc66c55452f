#![allow(clippy::unwrap_used)]
//! Clients written by others work against the emulator unchanged apart from the
//! endpoint and the trusted CA: Microsoft's Rust `azure_identity` 1.0
//! `ClientSecretCredential` and `ClientAssertionCredential`, with the authority host
//! set to the emulator's https URL and a transport that trusts its CA
//! (azure_identity's `CustomConfiguration::authority_host` and `ClientOptions::transport`).

mod common;

use std::sync::Arc;

use azure_core::cloud::{CloudConfiguration, CustomConfiguration};
use azure_core::credentials::{Secret, TokenCredential};
use azure_core::error::ErrorKind;
use azure_core::http::{ClientMethodOptions, ClientOptions, StatusCode, Transport};
use azure_identity::{
    ClientAssertion, ClientAssertionCredential, ClientAssertionCredentialOptions,
    ClientSecretCredential, ClientSecretCredentialOptions,
};
use common::{ARM_SCOPE, Api, GRAPH_SCOPE, SUBSCRIPTION, client_for};
use pulumi_azure_oidc_emulator::{
    DEFAULT_OPERATOR_CLIENT_ID, DEFAULT_OPERATOR_SECRET, MintRequest, PULUMI_ISSUER,
};
use reqwest::Method;

const SUBJECT: &str =
    "pulumi:deploy:org:contoso:project:core:stack:dev:operation:update:scope:write";

/// The only changes a real program needs: the authority host and a transport that
/// trusts the emulator's CA (reqwest::Client implements azure_core's HttpClient).
fn client_options(api: &Api, authority: &str) -> ClientOptions {
    let mut custom = CustomConfiguration::default();
    custom.authority_host = authority.to_owned();
    ClientOptions {
        transport: Some(Transport::new(Arc::new(client_for(&api.emu)))),
        cloud: Some(Arc::new(CloudConfiguration::from(custom))),
        ..ClientOptions::default()
    }
}

#[derive(Debug)]
struct PulumiToken(String);

#[async_trait::async_trait]
impl ClientAssertion for PulumiToken {
    async fn secret(&self, _: Option<ClientMethodOptions<'_>>) -> azure_core::Result<String> {
        Ok(self.0.clone())
    }
}

fn assertion_credential(
    api: &Api,
    client_id: &str,
    token: String,
) -> Arc<ClientAssertionCredential<PulumiToken>> {
    ClientAssertionCredential::new(
        api.emu.tenant_id().to_owned(),
        client_id.to_owned(),
        PulumiToken(token),
        Some(ClientAssertionCredentialOptions {
            client_options: client_options(api, api.emu.https_url()),
        }),
    )
    .unwrap()
}

/// The status and AADSTS code an azure_identity failure carries.
fn http_failure(err: &azure_core::Error) -> (StatusCode, Option<String>) {
    assert!(matches!(err.kind(), ErrorKind::Credential), "{err:?}");
    let inner = err
        .downcast_ref::<azure_core::Error>()
        .unwrap_or_else(|| panic!("no inner azure_core::Error in {err:?}"));
    match inner.kind() {
        ErrorKind::HttpResponse {
            status, error_code, ..
        } => (*status, error_code.clone()),
        other => {
            panic!("not an HttpResponse error (escaped error_description?): {other:?} / {err}")
        }
    }
}

async fn arm_list_status(api: &Api, access_token: &str) -> u16 {
    let url = format!(
        "{}{SUBSCRIPTION}/providers/Microsoft.Authorization/roleAssignments?{}",
        api.base,
        common::API_VERSION
    );
    let auth = format!("Bearer {access_token}");
    api.send(Method::GET, &url, Some(&auth), None, &[])
        .await
        .status
}

#[tokio::test(flavor = "multi_thread")]
async fn client_secret_credential_gets_graph_and_arm_tokens() {
    let api = Api::start().await;
    let options = || {
        Some(ClientSecretCredentialOptions {
            client_options: client_options(&api, api.emu.https_url()),
        })
    };
    let credential = ClientSecretCredential::new(
        api.emu.tenant_id(),
        DEFAULT_OPERATOR_CLIENT_ID.to_owned(),
        Secret::new(DEFAULT_OPERATOR_SECRET.to_owned()),
        options(),
    )
    .unwrap();
    let arm = credential.get_token(&[ARM_SCOPE], None).await.unwrap();
    assert!(arm.expires_on > time::OffsetDateTime::now_utc() + time::Duration::minutes(50));
    assert_eq!(arm_list_status(&api, arm.token.secret()).await, 200);
    let graph = credential.get_token(&[GRAPH_SCOPE], None).await.unwrap();
    let auth = format!("Bearer {}", graph.token.secret());
    let r = api
        .send(
            Method::GET,
            &format!("{}/v1.0/applications", api.base),
            Some(&auth),
            None,
            &[],
        )
        .await;
    assert_eq!(r.status, 200);

    // A wrong secret surfaces as Entra's HttpResponse error with the AADSTS code.
    let wrong = ClientSecretCredential::new(
        api.emu.tenant_id(),
        DEFAULT_OPERATOR_CLIENT_ID.to_owned(),
        Secret::new("wrong".to_owned()),
        options(),
    )
    .unwrap();
    let err = wrong.get_token(&[ARM_SCOPE], None).await.unwrap_err();
    assert_eq!(
        http_failure(&err),
        (StatusCode::Unauthorized, Some("7000215".to_owned()))
    );
    assert!(err.to_string().contains("AADSTS7000215"), "{err}");

    // The SDK refuses a plain-http authority, which is why the emulator serves HTTPS.
    let plain = ClientSecretCredential::new(
        api.emu.tenant_id(),
        DEFAULT_OPERATOR_CLIENT_ID.to_owned(),
        Secret::new(DEFAULT_OPERATOR_SECRET.to_owned()),
        Some(ClientSecretCredentialOptions {
            client_options: client_options(&api, api.emu.http_url()),
        }),
    );
    assert!(plain.unwrap_err().to_string().contains("HTTPS"));
}

#[tokio::test(flavor = "multi_thread")]
async fn client_assertion_credential_exchanges_a_pulumi_token() {
    let api = Api::start().await;
    let app = api.federated_app(PULUMI_ISSUER, SUBJECT, "contoso").await;
    let client_id = app["appId"].as_str().unwrap();
    let token = api
        .emu
        .mint(&MintRequest::deployment("contoso", "core", "dev", "update"))
        .unwrap();
    let credential = assertion_credential(&api, client_id, token);
    let arm = credential.get_token(&[ARM_SCOPE], None).await.unwrap();
    assert_eq!(arm_list_status(&api, arm.token.secret()).await, 200);

    // Each AADSTS failure arrives as an HttpResponse error carrying its code, because
    // the emulator's error_description has no JSON escapes: azure_identity 1.0 reads
    // `error_description` as a borrowed `&str` and fails on any escape.
    let cases: [(&str, MintRequest, StatusCode, &str); 4] = [
        (
            "subject",
            MintRequest::deployment("contoso", "core", "dev", "preview"),
            StatusCode::Unauthorized,
            "700213",
        ),
        (
            "audience",
            MintRequest {
                audience: Some("azure:contoso".into()),
                ..MintRequest::deployment("contoso", "core", "dev", "update")
            },
            StatusCode::Unauthorized,
            "700212",
        ),
        (
            "expired",
            MintRequest {
                expires_in_secs: Some(-3600),
                ..MintRequest::deployment("contoso", "core", "dev", "update")
            },
            StatusCode::Unauthorized,
            "700024",
        ),
        (
            "foreign key",
            MintRequest {
                foreign_key: true,
                ..MintRequest::deployment("contoso", "core", "dev", "update")
            },
            StatusCode::Unauthorized,
            "7000272",
        ),
    ];
    for (what, mint, status, code) in cases {
        let credential = assertion_credential(&api, client_id, api.emu.mint(&mint).unwrap());
        let err = credential.get_token(&[ARM_SCOPE], None).await.unwrap_err();
        assert_eq!(
            http_failure(&err),
            (status, Some(code.to_owned())),
            "{what}: {err}"
        );
        // The SDK's message carries Entra's text whole, code first.
        assert!(
            err.to_string().contains(&format!("AADSTS{code}: ")),
            "{what}: {err}"
        );
    }
    let token = api
        .emu
        .mint(&MintRequest::deployment("contoso", "core", "dev", "update"))
        .unwrap();
    let unknown = assertion_credential(&api, "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b", token);
    let err = unknown.get_token(&[ARM_SCOPE], None).await.unwrap_err();
    assert_eq!(
        http_failure(&err),
        (StatusCode::BadRequest, Some("700016".to_owned()))
    );
}
