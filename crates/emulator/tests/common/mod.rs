//! What every emulator test file shares: an in-process emulator on 127.0.0.1 with
//! a `reqwest` client that trusts its CA, operator tokens, and small helpers that
//! keep the tests about status codes and bodies.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use pulumi_azure_oidc_emulator::{
    DEFAULT_OPERATOR_CLIENT_ID, DEFAULT_OPERATOR_SECRET, DEFAULT_PULUMI_TOKEN, Emulator, Options,
};
use reqwest::Method;
use reqwest::header::HeaderMap;
use serde_json::{Value, json};

pub(crate) const GRAPH_SCOPE: &str = "https://graph.microsoft.com/.default";
pub(crate) const ARM_SCOPE: &str = "https://management.azure.com/.default";
pub(crate) const SUBSCRIPTION: &str = "/subscriptions/00000000-0000-4000-8000-000000000001";
pub(crate) const CONTRIBUTOR: &str = "b24988ac-6180-42a0-ab88-20f7382dd24c";
pub(crate) const READER: &str = "acdd72a7-3385-48ef-bd42-f606fba81ae7";
pub(crate) const API_VERSION: &str = "api-version=2022-04-01";

/// A client that trusts the emulator's CA (and nothing is installed system-wide).
pub(crate) fn client_for(emulator: &Emulator) -> reqwest::Client {
    let ca = reqwest::Certificate::from_pem(emulator.ca_pem().as_bytes()).unwrap();
    reqwest::Client::builder()
        .add_root_certificate(ca)
        .timeout(Duration::from_secs(20))
        .build()
        .unwrap()
}

/// One answer, read whole: status, headers, the text, and the JSON if it is JSON.
#[derive(Debug)]
pub(crate) struct Resp {
    pub(crate) status: u16,
    pub(crate) headers: HeaderMap,
    pub(crate) text: String,
    pub(crate) json: Value,
}

impl Resp {
    pub(crate) async fn read(response: reqwest::Response) -> Self {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.unwrap();
        let json = serde_json::from_str(&text).unwrap_or(Value::Null);
        Self {
            status,
            headers,
            text,
            json,
        }
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// `error.code` of a Graph or ARM error.
    pub(crate) fn code(&self) -> &str {
        self.json["error"]["code"].as_str().unwrap_or("")
    }

    pub(crate) fn message(&self) -> &str {
        self.json["error"]["message"].as_str().unwrap_or("")
    }

    /// Status and Graph error code, with Graph's full error envelope.
    #[track_caller]
    pub(crate) fn assert_graph_error(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status, self.code()),
            (status, code),
            "unexpected answer: {}",
            self.text
        );
        let error = &self.json["error"];
        assert!(!self.message().is_empty(), "{}", self.text);
        let inner = &error["innerError"];
        for key in ["date", "request-id", "client-request-id"] {
            assert!(
                inner[key].is_string(),
                "innerError.{key} missing: {}",
                self.text
            );
        }
        assert!(
            self.header("content-type")
                .is_some_and(|c| c.starts_with("application/json;odata.metadata=minimal")),
            "{:?}",
            self.headers
        );
        assert!(self.header("request-id").is_some());
    }

    /// Status and ARM error code, in ARM's `{"error":{"code","message"}}` envelope.
    #[track_caller]
    pub(crate) fn assert_arm_error(&self, status: u16, code: &str) {
        assert_eq!(
            (self.status, self.code()),
            (status, code),
            "unexpected answer: {}",
            self.text
        );
        assert!(!self.message().is_empty(), "{}", self.text);
        let keys: Vec<&String> = self.json["error"].as_object().unwrap().keys().collect();
        assert_eq!(keys, ["code", "message"], "{}", self.text);
    }

    /// Status and AADSTS code, in the token endpoint's envelope,
    /// without JSON escapes (azure_identity 1.0 cannot read them).
    #[track_caller]
    pub(crate) fn assert_aadsts(&self, status: u16, error: &str, code: u32) {
        assert_eq!(
            (
                self.status,
                self.json["error"].as_str().unwrap_or(""),
                self.json["error_codes"][0].as_u64().unwrap_or(0)
            ),
            (status, error, u64::from(code)),
            "unexpected answer: {}",
            self.text
        );
        let description = self.json["error_description"].as_str().unwrap();
        assert!(
            description.starts_with(&format!("AADSTS{code}: ")),
            "{description}"
        );
        for part in ["Trace ID: ", "Correlation ID: ", "Timestamp: "] {
            assert!(description.contains(part), "{description}");
        }
        for key in ["timestamp", "trace_id", "correlation_id"] {
            assert!(self.json[key].is_string(), "{key}: {}", self.text);
        }
        assert_eq!(
            self.json["error_uri"],
            json!(format!(
                "https://login.microsoftonline.com/error?code={code}"
            ))
        );
        assert_eq!(self.json["error_codes"].as_array().unwrap().len(), 1);
        assert!(!self.text.contains('\\'), "escapes in {}", self.text);
    }

    /// Status and Pulumi Cloud's `{"code": <status>, "message": …}` body.
    #[track_caller]
    pub(crate) fn assert_pulumi_error(&self, status: u16) {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.json["code"], json!(status), "{}", self.text);
        assert!(self.json["message"].as_str().is_some_and(|m| !m.is_empty()));
    }
}

/// An emulator, a client that trusts it, and the operator's Graph and ARM tokens.
#[derive(Debug)]
pub(crate) struct Api {
    pub(crate) emu: Emulator,
    pub(crate) http: reqwest::Client,
    /// The HTTPS base URL.
    pub(crate) base: String,
    pub(crate) graph_token: String,
    pub(crate) arm_token: String,
}

impl Api {
    pub(crate) async fn start() -> Self {
        Self::start_with(Options::default()).await
    }

    pub(crate) async fn start_with(options: Options) -> Self {
        let emu = Emulator::start(options).await.unwrap();
        let http = client_for(&emu);
        let base = emu.https_url().to_owned();
        let mut api = Self {
            emu,
            http,
            base,
            graph_token: String::new(),
            arm_token: String::new(),
        };
        api.graph_token = api.operator_token(GRAPH_SCOPE).await;
        api.arm_token = api.operator_token(ARM_SCOPE).await;
        api
    }

    pub(crate) fn token_url(&self) -> String {
        format!("{}/{}/oauth2/v2.0/token", self.base, self.emu.tenant_id())
    }

    pub(crate) async fn operator_token(&self, scope: &str) -> String {
        self.secret_token(DEFAULT_OPERATOR_CLIENT_ID, DEFAULT_OPERATOR_SECRET, scope)
            .await
    }

    pub(crate) async fn secret_token(&self, client_id: &str, secret: &str, scope: &str) -> String {
        let r = self
            .form(&[
                ("client_id", client_id),
                ("client_secret", secret),
                ("grant_type", "client_credentials"),
                ("scope", scope),
            ])
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        r.json["access_token"].as_str().unwrap().to_owned()
    }

    /// POST a form to the token endpoint.
    pub(crate) async fn form(&self, fields: &[(&str, &str)]) -> Resp {
        Resp::read(
            self.http
                .post(self.token_url())
                .form(fields)
                .send()
                .await
                .unwrap(),
        )
        .await
    }

    /// Exchange a Pulumi token for an access token, as the app `client_id`.
    pub(crate) async fn exchange(&self, client_id: &str, assertion: &str, scope: &str) -> Resp {
        self.form(&[
            ("client_assertion", assertion),
            (
                "client_assertion_type",
                "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
            ),
            ("client_id", client_id),
            ("grant_type", "client_credentials"),
            ("scope", scope),
        ])
        .await
    }

    pub(crate) async fn send(
        &self,
        method: Method,
        url: &str,
        auth: Option<&str>,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let mut rb = self.http.request(method, url);
        if let Some(a) = auth {
            rb = rb.header("authorization", a);
        }
        if let Some(b) = body {
            rb = rb.json(b);
        }
        for (k, v) in headers {
            rb = rb.header(*k, *v);
        }
        Resp::read(rb.send().await.unwrap()).await
    }

    /// A Graph v1.0 call with the operator's token; `path` starts with `/`.
    pub(crate) async fn graph(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        self.graph_with(method, path, body, &[]).await
    }

    pub(crate) async fn graph_with(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Resp {
        let url = format!("{}/v1.0{path}", self.base);
        let auth = format!("Bearer {}", self.graph_token);
        self.send(method, &url, Some(&auth), body.as_ref(), headers)
            .await
    }

    /// An ARM call with the operator's token; `path` starts with `/` and carries its
    /// query.
    pub(crate) async fn arm(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let url = format!("{}{path}", self.base);
        let auth = format!("Bearer {}", self.arm_token);
        self.send(method, &url, Some(&auth), body.as_ref(), &[])
            .await
    }

    /// A Pulumi Cloud call with the emulator's default access token.
    pub(crate) async fn pulumi(&self, method: Method, path: &str, body: Option<Value>) -> Resp {
        let url = format!("{}{path}", self.base);
        let auth = format!("token {DEFAULT_PULUMI_TOKEN}");
        self.send(method, &url, Some(&auth), body.as_ref(), &[])
            .await
    }

    pub(crate) async fn create_app(&self, name: &str) -> Value {
        let r = self
            .graph(
                Method::POST,
                "/applications",
                Some(json!({"displayName": name, "signInAudience": "AzureADMyOrg"})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.json
    }

    pub(crate) async fn create_sp(&self, app_id: &str) -> Value {
        let r = self
            .graph(
                Method::POST,
                "/servicePrincipals",
                Some(json!({"appId": app_id})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        r.json
    }

    /// POST a credential to the app with object id `object_id`.
    pub(crate) async fn post_credential(&self, object_id: &str, body: Value) -> Resp {
        self.graph(
            Method::POST,
            &format!("/applications/{object_id}/federatedIdentityCredentials"),
            Some(body),
        )
        .await
    }

    /// An app with a service principal and one credential for `issuer`, `subject`,
    /// `audience`; returns the app object.
    pub(crate) async fn federated_app(&self, issuer: &str, subject: &str, audience: &str) -> Value {
        let app = self.create_app("pulumi-oidc-test").await;
        self.create_sp(app["appId"].as_str().unwrap()).await;
        let r = self
            .post_credential(
                app["id"].as_str().unwrap(),
                credential("deploy-update", issuer, subject, audience),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        app
    }

    pub(crate) fn role_assignment_path(&self, scope: &str, name: &str) -> String {
        format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}?{API_VERSION}")
    }
}

/// A credential body as the tool sends it.
pub(crate) fn credential(name: &str, issuer: &str, subject: &str, audience: &str) -> Value {
    json!({
        "name": name,
        "issuer": issuer,
        "subject": subject,
        "audiences": [audience],
        "description": "managed by pulumi-azure-oidc",
    })
}

/// A role assignment body for `principal` with the built-in role `role`.
pub(crate) fn role_assignment(role: &str, principal: &str) -> Value {
    json!({"properties": {
        "roleDefinitionId": format!("{SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{role}"),
        "principalId": principal,
        "principalType": "ServicePrincipal",
    }})
}

/// Sleep until `since + window` has passed, plus a margin.
pub(crate) async fn wait_past(since: Instant, window: Duration) {
    let until = since + window + Duration::from_millis(30);
    let now = Instant::now();
    if until > now {
        tokio::time::sleep(until - now).await;
    }
}
