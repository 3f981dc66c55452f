//! What the provisioning tests share: a user's own raw calls to the emulator, and an
//! executor pointed at it.
// Each test binary that includes this module uses only part of it.
#![allow(clippy::unwrap_used, dead_code)]

use std::sync::Arc;

use pulumi_azure_oidc_emulator as emu;
use pulumi_azure_oidc_provision::{
    AzureAuth, Endpoints, Options, Provisioner, RetryPolicy, Secret,
};
use serde_json::{Value, json};

pub(crate) const ORG: &str = "contoso";
pub(crate) const ISSUER: &str = "https://api.pulumi.com/oidc";
pub(crate) const SUB: &str = emu::DEFAULT_SUBSCRIPTION_ID;

/// A user's hands on the emulator: raw HTTP with the operator's tokens.
pub(crate) struct Hands {
    client: reqwest::Client,
    base: String,
    graph: String,
    arm: String,
}

impl Hands {
    pub(crate) async fn new(e: &emu::Emulator) -> Self {
        let client = reqwest::Client::builder()
            .add_root_certificate(reqwest::Certificate::from_pem(e.ca_pem().as_bytes()).unwrap())
            .build()
            .unwrap();
        let token = |scope: &'static str| {
            let client = client.clone();
            let url = format!(
                "{}/{}/oauth2/v2.0/token",
                e.https_url(),
                emu::DEFAULT_TENANT_ID
            );
            async move {
                let v: Value = client
                    .post(url)
                    .form(&[
                        ("client_id", emu::DEFAULT_OPERATOR_CLIENT_ID),
                        ("client_secret", emu::DEFAULT_OPERATOR_SECRET),
                        ("grant_type", "client_credentials"),
                        ("scope", scope),
                    ])
                    .send()
                    .await
                    .unwrap()
                    .json()
                    .await
                    .unwrap();
                v["access_token"].as_str().unwrap().to_owned()
            }
        };
        Hands {
            graph: token("https://graph.microsoft.com/.default").await,
            arm: token("https://management.azure.com/.default").await,
            client,
            base: e.https_url().to_owned(),
        }
    }

    pub(crate) async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        auth: &str,
        body: Option<Value>,
    ) -> Value {
        let mut r = self.client.request(method, format!("{}{path}", self.base));
        r = if auth == "pulumi" {
            r.header(
                "Authorization",
                format!("token {}", emu::DEFAULT_PULUMI_TOKEN),
            )
        } else {
            r.bearer_auth(auth)
        };
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        assert!(status.is_success(), "{path}: {status} {text}");
        serde_json::from_str(&text).unwrap_or(Value::Null)
    }

    /// A user-assigned identity as `az identity create` makes one (no tags): its ARM
    /// id, client id and principal id.
    #[allow(dead_code)]
    pub(crate) async fn identity(&self, group: &str, name: &str) -> (String, String, String) {
        let path = format!(
            "/subscriptions/{SUB}/resourceGroups/{group}/providers/Microsoft.ManagedIdentity/userAssignedIdentities/{name}?api-version=2024-11-30"
        );
        let v = self
            .call(
                reqwest::Method::PUT,
                &path,
                &self.arm,
                Some(serde_json::json!({"location": "westeurope"})),
            )
            .await;
        let text = |k: &str| v["properties"][k].as_str().unwrap().to_owned();
        (
            v["id"].as_str().unwrap().to_owned(),
            text("clientId"),
            text("principalId"),
        )
    }

    /// A federated credential on identity `id`, as `az identity federated-credential create` makes one.
    #[allow(dead_code)]
    pub(crate) async fn identity_credential(
        &self,
        id: &str,
        name: &str,
        subject: &str,
        audience: &str,
    ) {
        let path = format!("{id}/federatedIdentityCredentials/{name}?api-version=2024-11-30");
        // A person at a terminal is slower than Azure's 0.25 writes per second per
        // identity; at the tests' scale that is a pause of a few tens of milliseconds.
        tokio::time::sleep(std::time::Duration::from_secs_f64(4.5 / RATE_SCALE)).await;
        self.call(
            reqwest::Method::PUT,
            &path,
            &self.arm,
            Some(serde_json::json!({"properties": {"issuer": ISSUER, "subject": subject, "audiences": [audience]}})),
        )
        .await;
    }

    /// An app made as `az ad app create` makes one: no uniqueName, no tags.
    pub(crate) async fn app(&self, name: &str) -> (String, String) {
        let v = self
            .call(
                reqwest::Method::POST,
                "/v1.0/applications",
                &self.graph,
                Some(json!({"displayName": name})),
            )
            .await;
        (
            v["id"].as_str().unwrap().to_owned(),
            v["appId"].as_str().unwrap().to_owned(),
        )
    }

    pub(crate) async fn sp(&self, app_id: &str) -> String {
        let v = self
            .call(
                reqwest::Method::POST,
                "/v1.0/servicePrincipals",
                &self.graph,
                Some(json!({"appId": app_id})),
            )
            .await;
        v["id"].as_str().unwrap().to_owned()
    }

    /// A Graph call with the operator's Graph token.
    pub(crate) async fn graph_call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<Value>,
    ) -> Value {
        self.call(method, path, &self.graph, body).await
    }

    pub(crate) async fn credential(
        &self,
        object_id: &str,
        name: &str,
        issuer: &str,
        subject: &str,
        audience: &str,
    ) {
        self.call(
            reqwest::Method::POST,
            &format!("/v1.0/applications/{object_id}/federatedIdentityCredentials"),
            &self.graph,
            Some(json!({"name": name, "issuer": issuer, "subject": subject, "audiences": [audience]})),
        )
        .await;
    }

    /// Grant the Graph application permission `value` to the service principal
    /// `principal`, as an admin does (`appRoleAssignedTo`).
    #[allow(dead_code)]
    pub(crate) async fn grant_graph(&self, graph_sp: &str, principal: &str, value: &str) {
        let graph = self
            .call(
                reqwest::Method::GET,
                &format!("/v1.0/servicePrincipals/{graph_sp}"),
                &self.graph,
                None,
            )
            .await;
        let role = graph["appRoles"]
            .as_array()
            .unwrap()
            .iter()
            .find(|r| r["value"] == value)
            .unwrap_or_else(|| panic!("no app role {value}"))["id"]
            .clone();
        self.call(
            reqwest::Method::POST,
            &format!("/v1.0/servicePrincipals/{graph_sp}/appRoleAssignedTo"),
            &self.graph,
            Some(json!({"principalId": principal, "resourceId": graph_sp, "appRoleId": role})),
        )
        .await;
    }

    /// A role assignment with a condition, as `az role assignment create --condition`.
    #[allow(dead_code)]
    pub(crate) async fn role_with(
        &self,
        principal: &str,
        role: &str,
        scope: &str,
        condition: Option<&str>,
    ) {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("c0de7012-0000-4000-8000-{n:012x}");
        let mut props = json!({
            "roleDefinitionId": format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{role}"),
            "principalId": principal,
            "principalType": "ServicePrincipal",
        });
        if let Some(c) = condition {
            props["condition"] = json!(c);
            props["conditionVersion"] = json!("2.0");
        }
        self.call(
            reqwest::Method::PUT,
            &format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}?api-version=2022-04-01"),
            &self.arm,
            Some(json!({"properties": props})),
        )
        .await;
    }

    pub(crate) async fn role(&self, principal: &str, role: &str, scope: &str) {
        static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let name = format!("d0c7012a-0000-4000-8000-{n:012x}");
        self.call(
            reqwest::Method::PUT,
            &format!("{scope}/providers/Microsoft.Authorization/roleAssignments/{name}?api-version=2022-04-01"),
            &self.arm,
            Some(json!({"properties": {
                "roleDefinitionId": format!("/subscriptions/{SUB}/providers/Microsoft.Authorization/roleDefinitions/{role}"),
                "principalId": principal,
                "principalType": "ServicePrincipal",
            }})),
        )
        .await;
    }

    pub(crate) async fn settings(&self, project: &str, stack: &str, azure: Value) {
        self.call(
            reqwest::Method::POST,
            &format!("/api/stacks/{ORG}/{project}/{stack}/deployments/settings"),
            "pulumi",
            Some(json!({"operationContext": {"oidc": {"azure": azure}}})),
        )
        .await;
    }

    pub(crate) async fn env(&self, project: &str, env: &str, yaml: &str) {
        self.call(
            reqwest::Method::POST,
            &format!("/api/esc/environments/{ORG}"),
            "pulumi",
            Some(json!({"project": project, "name": env})),
        )
        .await;
        let r = self
            .client
            .patch(format!(
                "{}/api/esc/environments/{ORG}/{project}/{env}",
                self.base
            ))
            .header(
                "Authorization",
                format!("token {}", emu::DEFAULT_PULUMI_TOKEN),
            )
            .body(yaml.to_owned())
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success());
    }

    /// Pulumi's example set-up for one stack: the four credentials, exactly right.
    pub(crate) async fn stack_credentials(&self, object_id: &str, project: &str, stack: &str) {
        for op in ["preview", "update", "refresh", "destroy"] {
            let subject = format!(
                "pulumi:deploy:org:{ORG}:project:{project}:stack:{stack}:operation:{op}:scope:write"
            );
            self.credential(object_id, &format!("{stack}-{op}"), ISSUER, &subject, ORG)
                .await;
        }
    }
}

/// The executor's settings for the emulator `e`, as its operator.
pub(crate) fn options(
    e: &emu::Emulator,
    pulumi_token: &str,
    request_limit: Option<u64>,
) -> Options {
    options_as(
        e,
        emu::DEFAULT_OPERATOR_CLIENT_ID,
        emu::DEFAULT_OPERATOR_SECRET,
        pulumi_token,
        request_limit,
    )
}

/// [`options`] for the operator `client_id` with `secret`.
pub(crate) fn options_as(
    e: &emu::Emulator,
    client_id: &str,
    secret: &str,
    pulumi_token: &str,
    request_limit: Option<u64>,
) -> Options {
    Options {
        endpoints: Endpoints::default().all_at(e.https_url()),
        azure: Some(AzureAuth::ClientSecret {
            tenant_id: emu::DEFAULT_TENANT_ID.into(),
            client_id: client_id.into(),
            secret: Secret::new(secret),
        }),
        pulumi_token: Some(Secret::new(pulumi_token)),
        tenant_id: None,
        ca_pem: Some(e.ca_pem().to_owned()),
        retry: RetryPolicy::fast(),
        concurrency: 4,
        request_limit,
        app_parallelism: None,
        identity_write_rates:
            pulumi_azure_oidc_provision::core::provision::DOCUMENTED_IDENTITY_WRITE_RATES
                .scaled(RATE_SCALE),
        budgets: Some(
            pulumi_azure_oidc_provision::core::provision::DOCUMENTED_BUDGETS.scaled(RATE_SCALE),
        ),
        check_rights: true,
    }
}

/// How much faster than Azure's documented managed-identity rates the tests' emulators
/// refill, and the executor paces: the same shape, in a fiftieth of the time.
#[allow(dead_code)]
pub(crate) const RATE_SCALE: f64 = 50.0;

pub(crate) fn provisioner(e: &emu::Emulator, pulumi_token: &str) -> Arc<Provisioner> {
    Arc::new(Provisioner::new(options(e, pulumi_token, None)).unwrap())
}
