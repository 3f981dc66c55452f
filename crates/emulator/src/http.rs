//! The request as every handler sees it, and the response envelopes of each service.
//!
//! Envelopes follow microsoftgraph/microsoft-graph-docs-contrib `concepts/errors.md`
//! (Graph), Azure/azure-rest-api-specs `CloudError` (ARM) and pulumi/pulumi-pulumiservice
//! `provider/pkg/cloud/spec.json` (Pulumi Cloud). Handlers never build bodies by hand.

use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use serde_json::{Value, json};
use time::OffsetDateTime;
use time::format_description::well_known::Rfc3339;

/// One request, decoded once: path segments percent-decoded, query pairs form-decoded.
#[derive(Debug)]
pub(crate) struct Req {
    pub(crate) method: Method,
    pub(crate) segments: Vec<String>,
    pub(crate) query: Vec<(String, String)>,
    pub(crate) headers: HeaderMap,
    pub(crate) body: Bytes,
    pub(crate) request_id: String,
}

impl Req {
    pub(crate) fn new(
        method: Method,
        path: &str,
        query: Option<&str>,
        headers: HeaderMap,
        body: Bytes,
    ) -> Self {
        let segments = path
            .split('/')
            .filter(|s| !s.is_empty())
            .map(|s| {
                percent_encoding::percent_decode_str(s)
                    .decode_utf8_lossy()
                    .into_owned()
            })
            .collect();
        let query = query
            .map(|q| {
                form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Self {
            method,
            segments,
            query,
            headers,
            body,
            request_id: uuid::Uuid::new_v4().to_string(),
        }
    }

    pub(crate) fn query(&self, key: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(key))
            .map(|(_, v)| v.as_str())
    }

    pub(crate) fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The bearer token of an `Authorization: Bearer …` header.
    pub(crate) fn bearer(&self) -> Option<&str> {
        let value = self.header("authorization")?;
        let (scheme, token) = value.split_once(' ')?;
        scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
    }

    pub(crate) fn json_body(&self) -> Result<serde_json::Map<String, Value>, String> {
        if self.body.is_empty() {
            return Err("The request body is empty.".into());
        }
        match serde_json::from_slice::<Value>(&self.body) {
            Ok(Value::Object(map)) => Ok(map),
            Ok(_) => Err("The request body must be a JSON object.".into()),
            Err(e) => Err(format!("Unable to read JSON request payload: {e}.")),
        }
    }

    /// Method, path, query and a fingerprint of the body: what makes the same request
    /// the same when a client retries it.
    pub(crate) fn retry_key(&self) -> String {
        format!(
            "{} {}?{:?} {:x}",
            self.method,
            self.segments.join("/"),
            self.query,
            fnv1a(&self.body)
        )
    }

    pub(crate) fn is_write(&self) -> bool {
        matches!(
            self.method,
            Method::POST | Method::PUT | Method::PATCH | Method::DELETE
        )
    }
}

/// A cheap body fingerprint for telling requests apart (not security-relevant).
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

pub(crate) fn now_rfc3339() -> String {
    OffsetDateTime::now_utc()
        .replace_nanosecond(0)
        .ok()
        .and_then(|t| t.format(&Rfc3339).ok())
        .unwrap_or_default()
}

/// A UTC time with seven fractional digits, as ARM writes `createdOn` and `updatedOn`
/// (`2023-08-23T13:05:38.8480660Z` in the Azure CLI's recorded role assignment traffic).
pub(crate) fn now_rfc3339_precise() -> String {
    let now = OffsetDateTime::now_utc();
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:07}Z",
        now.year(),
        u8::from(now.month()),
        now.day(),
        now.hour(),
        now.minute(),
        now.second(),
        now.nanosecond() / 100
    )
}

/// Graph's JSON content type, as a real response carries it (the Azure CLI's recorded
/// Graph traffic, Azure/azure-cli `src/azure-cli/azure/cli/command_modules/role/tests/latest/recordings/test_app_federated_credential.yaml`).
const GRAPH_JSON: &str = "application/json;odata.metadata=minimal;odata.streaming=true;IEEE754Compatible=false;charset=utf-8";

pub(crate) fn graph_json(req: &Req, status: StatusCode, body: &Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    let headers = resp.headers_mut();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static(GRAPH_JSON));
    headers.insert("odata-version", HeaderValue::from_static("4.0"));
    // `x-ms-resource-unit`, the request's documented cost, is added by `graph::budget`
    // to every answer of a request it charged.
    set_request_id(req, resp)
}

pub(crate) fn graph_no_content(req: &Req) -> Response {
    set_request_id(req, StatusCode::NO_CONTENT.into_response())
}

/// Graph's error envelope, with `innerError` carrying the
/// date and both request ids as real directory errors do.
pub(crate) fn graph_error(req: &Req, status: StatusCode, code: &str, message: &str) -> Response {
    let client_request_id = req
        .header("client-request-id")
        .map(str::to_owned)
        .unwrap_or_else(|| req.request_id.clone());
    let body = json!({
        "error": {
            "code": code,
            "message": message,
            "innerError": {
                "date": now_rfc3339().trim_end_matches('Z'),
                "request-id": req.request_id,
                "client-request-id": client_request_id,
            }
        }
    });
    graph_json(req, status, &body)
}

/// Graph's throttling answer, as the sample in microsoftgraph/microsoft-graph-docs-contrib
/// `concepts/throttling.md`: the inner error
/// repeats the status as `code` and `status` and says "Please retry after".
pub(crate) fn graph_throttled(req: &Req) -> Response {
    let body = json!({
        "error": {
            "code": "TooManyRequests",
            "innerError": {
                "code": "429",
                "date": now_rfc3339().trim_end_matches('Z'),
                "message": "Please retry after",
                "request-id": req.request_id,
                "status": "429",
            },
            "message": "Please retry again later.",
        }
    });
    graph_json(req, StatusCode::TOO_MANY_REQUESTS, &body)
}

pub(crate) fn graph_not_found(req: &Req, key: &str) -> Response {
    graph_error(
        req,
        StatusCode::NOT_FOUND,
        "Request_ResourceNotFound",
        &format!(
            "Resource '{key}' does not exist or one of its queried reference-property objects are not present."
        ),
    )
}

pub(crate) fn graph_bad_request(req: &Req, message: &str) -> Response {
    graph_error(req, StatusCode::BAD_REQUEST, "Request_BadRequest", message)
}

/// ARM's `CloudError` envelope.
pub(crate) fn arm_error(req: &Req, status: StatusCode, code: &str, message: &str) -> Response {
    arm_json(
        req,
        status,
        &json!({"error": {"code": code, "message": message}}),
    )
}

pub(crate) fn arm_json(req: &Req, status: StatusCode, body: &Value) -> Response {
    let mut resp = (status, body.to_string()).into_response();
    let headers = resp.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json; charset=utf-8"),
    );
    // The remaining-budget headers ARM sends on every response (MicrosoftDocs/azure-docs
    // `articles/azure-resource-manager/management/request-limits-and-throttling.md`): a
    // fixed value, which `arm::budget` replaces with the real one when budgets are on.
    let name = if req.is_write() {
        "x-ms-ratelimit-remaining-subscription-writes"
    } else {
        "x-ms-ratelimit-remaining-subscription-reads"
    };
    headers.insert(name, HeaderValue::from_static("1199"));
    if let Ok(v) = HeaderValue::from_str(&req.request_id) {
        headers.insert("x-ms-request-id", v);
    }
    resp
}

/// Pulumi Cloud's error body: `{"code": <status>, "message": "…"}`.
pub(crate) fn pulumi_error(status: StatusCode, message: &str) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json")],
        json!({"code": status.as_u16(), "message": message}).to_string(),
    )
        .into_response()
}

pub(crate) fn plain_json(status: StatusCode, body: &Value) -> Response {
    (
        status,
        [(header::CONTENT_TYPE, "application/json; charset=utf-8")],
        body.to_string(),
    )
        .into_response()
}

fn set_request_id(req: &Req, mut resp: Response) -> Response {
    if let Ok(v) = HeaderValue::from_str(&req.request_id) {
        resp.headers_mut().insert("request-id", v.clone());
        resp.headers_mut().insert("client-request-id", v);
    }
    resp
}

/// A `Retry-After` value in seconds: whole numbers as such, fractions as they are
/// (Graph's documented sample carries `2.128`).
pub(crate) fn retry_after_value(secs: f64) -> HeaderValue {
    let text = if secs.fract() == 0.0 {
        format!("{secs:.0}")
    } else {
        format!("{secs}")
    };
    HeaderValue::from_str(&text).unwrap_or(HeaderValue::from_static("1"))
}

/// Marks a response whose connection the server must drop instead of answering.
#[derive(Debug, Clone, Copy)]
pub(crate) struct DropConnection;

pub(crate) fn dropped() -> Response {
    let mut resp = Response::new(Body::empty());
    resp.extensions_mut().insert(DropConnection);
    resp
}
