//! A request as a value: which service, what to send, and which of Azure's
//! eventual-consistency answers it should wait out. The executor sends it; the core
//! only describes it, so every face (the page included) can show the exact requests
//! an apply would make.

use serde::Serialize;
use serde_json::Value;

use super::endpoints::Endpoints;
use crate::error::Error;

/// Which service a request goes to; named in errors.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Service {
    Graph,
    Arm,
    Pulumi,
    Entra,
}

impl Service {
    pub fn name(self) -> &'static str {
        match self {
            Service::Graph => "Microsoft Graph",
            Service::Arm => "Azure Resource Manager",
            Service::Pulumi => "Pulumi Cloud",
            Service::Entra => "the Entra token endpoint",
        }
    }
}

/// Requests sent, by service and kind; what `--output json` and the benchmarks report.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RequestCounts {
    pub graph: u64,
    pub arm: u64,
    pub pulumi: u64,
    pub entra: u64,
    pub writes: u64,
    pub retries: u64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum Method {
    Get,
    Post,
    Put,
    Patch,
    Delete,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "GET",
            Method::Post => "POST",
            Method::Put => "PUT",
            Method::Patch => "PATCH",
            Method::Delete => "DELETE",
        }
    }

    /// Whether the request changes something (what the write counters count).
    pub fn writes(self) -> bool {
        !matches!(self, Method::Get)
    }
}

/// A request body. Form fields may hold a secret (a client assertion), so a form
/// never serialises its values.
#[derive(Clone, PartialEq)]
pub enum Body {
    Json(Value),
    /// ESC definitions go as the raw YAML body, as the ESC CLI sends them
    /// (pulumi-oidc-facts.md §3.2).
    Yaml(String),
    Form(Vec<(&'static str, String)>),
}

impl std::fmt::Debug for Body {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Body::Json(v) => f.debug_tuple("Json").field(v).finish(),
            Body::Yaml(text) => f.debug_tuple("Yaml").field(text).finish(),
            Body::Form(pairs) => f
                .debug_tuple("Form")
                .field(&pairs.iter().map(|(k, _)| *k).collect::<Vec<_>>())
                .finish(),
        }
    }
}

impl Serialize for Body {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Body::Json(v) => v.serialize(s),
            Body::Yaml(text) => text.serialize(s),
            Body::Form(pairs) => pairs
                .iter()
                .map(|(k, _)| *k)
                .collect::<Vec<_>>()
                .serialize(s),
        }
    }
}

/// The answers, besides throttling and 5xx, that a request waits out because Azure
/// gives them while a fresh object replicates (azure-facts.md §5.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum WaitOut {
    Nothing,
    /// 404 just after a create.
    NotFound,
    /// The service principal write that runs ahead of its app's replication.
    AppReplication,
    /// `PrincipalNotFound` on a role assignment for a fresh service principal.
    PrincipalReplication,
}

impl WaitOut {
    /// Whether `answer` is one this request should wait out.
    pub fn matches(self, answer: &Answer) -> bool {
        match self {
            WaitOut::Nothing => false,
            WaitOut::NotFound => answer.status == 404,
            WaitOut::AppReplication => {
                let (_, message) = answer.error_parts();
                answer.status == 404
                    || (answer.status == 400
                        && message.contains("does not reference a valid application object"))
                    || (answer.status == 403 && message.contains("must in the local tenant"))
            }
            WaitOut::PrincipalReplication => {
                answer.status == 400 && answer.error_code() == "PrincipalNotFound"
            }
        }
    }
}

/// How a request authenticates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Credential {
    /// An Azure access token for the service's scope.
    AzureToken,
    /// The Pulumi access token.
    PulumiToken,
    /// None: the body carries what proves the caller (a client assertion).
    None,
}

/// One request, unsent.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Request {
    pub service: Service,
    /// For errors and logs: `create credential x in app y`.
    pub operation: String,
    pub method: Method,
    /// The path below the service's base URL, with its query.
    pub path: String,
    pub body: Option<Body>,
    pub headers: Vec<(&'static str, String)>,
    pub wait_out: WaitOut,
}

impl Request {
    pub(crate) fn new(service: Service, operation: String, method: Method, path: String) -> Self {
        Self {
            service,
            operation,
            method,
            path,
            body: None,
            headers: Vec::new(),
            wait_out: WaitOut::Nothing,
        }
    }

    pub(crate) fn json(mut self, body: Value) -> Self {
        self.body = Some(Body::Json(body));
        self
    }

    pub(crate) fn header(mut self, name: &'static str, value: impl Into<String>) -> Self {
        self.headers.push((name, value.into()));
        self
    }

    pub(crate) fn wait_out(mut self, wait_out: WaitOut) -> Self {
        self.wait_out = wait_out;
        self
    }

    /// The absolute URL of this request at `endpoints`.
    pub fn url(&self, endpoints: &Endpoints) -> String {
        let base = |u: &str| u.trim_end_matches('/').to_owned();
        match self.service {
            Service::Graph => format!("{}/v1.0/{}", base(&endpoints.graph), self.path),
            Service::Arm => format!("{}{}", base(&endpoints.arm), self.path),
            Service::Pulumi => format!("{}/api/{}", base(&endpoints.pulumi_api), self.path),
            Service::Entra => format!("{}/{}", base(&endpoints.login), self.path),
        }
    }

    /// Whether sending it changes something: a batch does when one of its requests
    /// does (what the write counters count).
    pub fn writes(&self) -> bool {
        if !super::requests::is_batch(self) {
            return self.method.writes();
        }
        match &self.body {
            Some(Body::Json(v)) => v["requests"].as_array().is_some_and(|items| {
                items
                    .iter()
                    .any(|i| i["method"].as_str().is_some_and(|m| m != "GET"))
            }),
            _ => false,
        }
    }

    /// What it needs to authenticate.
    pub fn credential(&self) -> Credential {
        match self.service {
            Service::Graph | Service::Arm => Credential::AzureToken,
            Service::Pulumi => Credential::PulumiToken,
            Service::Entra => Credential::None,
        }
    }

    /// The token scope of an Azure request.
    pub fn scope<'a>(&self, endpoints: &'a Endpoints) -> Option<&'a str> {
        match self.service {
            Service::Graph => Some(&endpoints.graph_scope),
            Service::Arm => Some(&endpoints.arm_scope),
            Service::Pulumi | Service::Entra => None,
        }
    }
}

/// A received answer, as plain data.
#[derive(Clone, PartialEq, Eq)]
pub struct Answer {
    pub status: u16,
    /// Names in lower case.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // A token endpoint's answer holds an access token: never shown.
        f.debug_struct("Answer")
            .field("status", &self.status)
            .field("body_bytes", &self.body.len())
            .finish_non_exhaustive()
    }
}

impl Answer {
    pub fn ok(&self) -> bool {
        (200..300).contains(&self.status)
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }

    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The service's error code and message: Graph/ARM `{"error":{"code","message"}}`,
    /// Entra `{"error","error_description"}`, Pulumi `{"code","message"}`.
    pub fn error_parts(&self) -> (String, String) {
        let v = self.json();
        let text = |v: &Value| v.as_str().map(str::to_owned);
        if let Some(e) = v.get("error") {
            if let Some(code) = e.get("code").and_then(text) {
                let message = e.get("message").and_then(text).unwrap_or_default();
                return (code, message);
            }
            if let Some(code) = text(e) {
                let message = v
                    .get("error_description")
                    .and_then(text)
                    .unwrap_or_default();
                return (code, message);
            }
        }
        // A body with a message and no code (Pulumi's `{"code":401,"message":…}` has a
        // numeric one) has no service code to name beyond the status itself.
        if let Some(message) = v.get("message").and_then(text) {
            return (String::new(), message);
        }
        let snippet: String = String::from_utf8_lossy(&self.body)
            .chars()
            .take(200)
            .collect();
        (String::new(), snippet)
    }

    pub fn error_code(&self) -> String {
        self.error_parts().0
    }

    pub fn into_error(self, service: Service, operation: &str) -> Error {
        let (code, message) = self.error_parts();
        Error::Service {
            service: service.name(),
            operation: operation.to_owned(),
            status: self.status,
            code,
            message,
        }
    }
}
