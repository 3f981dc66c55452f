//! Graph's JSON batching: `POST /v1.0/$batch` with up to 20 requests, each answered on
//! its own inside one `200`.
//!
//! Source: microsoftgraph/microsoft-graph-docs-contrib `concepts/json-batching.md`:
//! `requests[]` with `id` (required, unique, compared without regard to case, else the
//! batch fails with 400), `method`, `url` relative to the version, optional `headers`
//! and `body` (a JSON object or base64; with a body the headers must name its
//! `Content-Type`); `responses[]` with `id`, `status`, `headers`, `body`, in any order;
//! the batch answers 200 whenever it parses; a request whose `dependsOn` names a failed
//! request fails with 424; each request is throttled on its own. Each request is also
//! authorized on its own, with the batch's token, by `graph::handle`: a batch is no way
//! around a permission, nor around a budget. Each request is charged to the budgets
//! (`graph::budget`) and counted in the stats (a write, an early or honoured retry) as
//! if it had come alone, and can be refused with its own 429 and `Retry-After` while
//! the others pass; the batch's own POST is neither charged nor counted as a write
//! (json-batching.md: "each individual request is evaluated against the applicable
//! limits").
//!
//! Batch-level refusals, each a 400 `BadRequest` in Graph's envelope, with wording as
//! captured where a capture exists: a malformed payload ("Invalid batch payload
//! format.", microsoftgraph/msgraph-sdk-javascript#1451); a body without a
//! `Content-Type` (Softeria/ms-365-mcp-server#677, which also shows that none of the
//! requests then runs); a write without a body (microsoftgraph/msgraph-sdk-dotnet#2628);
//! a `dependsOn` naming a request that does not come earlier
//! (microsoftgraph/msgraph-sdk-java#2109 and msgraph-sdk-dotnet-core#891, message
//! truncated in both). The wording for more than 20 requests and for a repeated id is
//! an assumption.
//!
//! `depends_on`, the spelling msgraph-core 1.5.2 (Python) writes, is not `dependsOn`:
//! Graph ignores it and runs the request as an independent one
//! (microsoftgraph/msgraph-sdk-python-core#996, tested against Graph), and so does
//! the emulator.

use std::collections::HashMap;
use std::time::Duration;

use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode};
use axum::response::Response;
use base64::Engine;
use serde_json::{Map, Value, json};

use super::request::Handled;
use crate::faults::Fault;
use crate::http::{Req, graph_error, graph_json, graph_throttled, retry_after_value};
use crate::shared::{Shared, lock};

/// "JSON batch requests are currently limited to 20 individual requests."
const MAX_REQUESTS: usize = 20;

/// Bodies of the inner answers are read whole; none of them is large.
const MAX_INNER_BODY: usize = 1024 * 1024;

pub(crate) fn is_batch(req: &Req) -> bool {
    req.segments.len() == 2 && req.segments[1] == "$batch"
}

/// One request of the batch, validated.
struct Item {
    id: String,
    method: Method,
    path: String,
    query: Option<String>,
    headers: HeaderMap,
    body: Vec<u8>,
    depends_on: Vec<String>,
}

fn bad_batch(req: &Req, message: &str) -> Response {
    graph_error(req, StatusCode::BAD_REQUEST, "BadRequest", message)
}

const INVALID: &str = "Invalid batch payload format.";

fn parse_items(req: &Req) -> Result<Vec<Item>, Response> {
    let body = req.json_body().map_err(|_| bad_batch(req, INVALID))?;
    let Some(requests) = body.get("requests").and_then(Value::as_array) else {
        return Err(bad_batch(req, INVALID));
    };
    if requests.len() > MAX_REQUESTS {
        // ASSUMPTION: the wording; the limit is documented.
        return Err(bad_batch(
            req,
            &format!("The number of requests in the batch exceeds the limit of {MAX_REQUESTS}."),
        ));
    }
    let version = req.segments[0].clone();
    let mut items: Vec<Item> = Vec::with_capacity(requests.len());
    for raw in requests {
        let Some(raw) = raw.as_object() else {
            return Err(bad_batch(req, INVALID));
        };
        let text = |key: &str| raw.get(key).and_then(Value::as_str).map(str::to_owned);
        let (Some(id), Some(method), Some(url)) = (text("id"), text("method"), text("url")) else {
            return Err(bad_batch(req, INVALID));
        };
        if id.is_empty() {
            return Err(bad_batch(req, INVALID));
        }
        if items.iter().any(|i| i.id.eq_ignore_ascii_case(&id)) {
            // ASSUMPTION: the wording; the 400 is documented.
            return Err(bad_batch(
                req,
                &format!("Request Id '{id}' is not unique in the batch."),
            ));
        }
        let Ok(method) = Method::from_bytes(method.to_ascii_uppercase().as_bytes()) else {
            return Err(bad_batch(req, INVALID));
        };
        let headers = inner_headers(raw.get("headers")).ok_or_else(|| bad_batch(req, INVALID))?;
        let body = match raw.get("body") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::String(s)) => decode_base64(s).ok_or_else(|| bad_batch(req, INVALID))?,
            Some(v) => v.to_string().into_bytes(),
        };
        let has_body = raw.get("body").is_some_and(|v| !v.is_null());
        let write = matches!(method, Method::POST | Method::PATCH | Method::PUT);
        if has_body && !headers.contains_key("content-type") {
            return Err(bad_batch(
                req,
                &format!("Write request with id '{id}' does not contain a Content-Type header."),
            ));
        }
        if write && !has_body {
            return Err(bad_batch(
                req,
                &format!("Write request id : {id} does not contain Content-Type header or body."),
            ));
        }
        let depends_on = match raw.get("dependsOn") {
            None | Some(Value::Null) => Vec::new(),
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| bad_batch(req, INVALID))?,
            Some(_) => return Err(bad_batch(req, INVALID)),
        };
        for dep in &depends_on {
            if !items.iter().any(|i| i.id.eq_ignore_ascii_case(dep)) {
                return Err(bad_batch(
                    req,
                    &format!("Invalid dependency for request Id {id}."),
                ));
            }
        }
        let url = url.trim_start_matches('/');
        let (path, query) = match url.split_once('?') {
            Some((p, q)) => (p.to_owned(), Some(q.to_owned())),
            None => (url.to_owned(), None),
        };
        items.push(Item {
            id,
            method,
            path: format!("/{version}/{path}"),
            query,
            headers,
            body,
            depends_on,
        });
    }
    Ok(items)
}

fn inner_headers(raw: Option<&Value>) -> Option<HeaderMap> {
    let mut headers = HeaderMap::new();
    let Some(raw) = raw.filter(|v| !v.is_null()) else {
        return Some(headers);
    };
    for (name, value) in raw.as_object()? {
        let value = match value {
            Value::String(s) => s.clone(),
            Value::Array(a) => a
                .iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()?
                .join(", "),
            _ => return None,
        };
        headers.append(
            HeaderName::from_bytes(name.as_bytes()).ok()?,
            HeaderValue::from_str(&value).ok()?,
        );
    }
    Some(headers)
}

fn decode_base64(text: &str) -> Option<Vec<u8>> {
    use base64::engine::general_purpose::{STANDARD, URL_SAFE, URL_SAFE_NO_PAD};
    STANDARD
        .decode(text)
        .or_else(|_| URL_SAFE.decode(text))
        .or_else(|_| URL_SAFE_NO_PAD.decode(text))
        .ok()
}

/// How a header is spelled in the `headers` object of an answer: as the documentation's
/// sample spells it where it shows one, else as sent.
fn header_key(name: &str) -> String {
    match name {
        "content-type" => "Content-Type".into(),
        "odata-version" => "OData-Version".into(),
        "retry-after" => "Retry-After".into(),
        "cache-control" => "Cache-Control".into(),
        "location" => "Location".into(),
        other => other.into(),
    }
}

async fn answer(id: &str, resp: Response) -> Value {
    let status = resp.status().as_u16();
    let (parts, body) = resp.into_parts();
    let mut headers = Map::new();
    headers.insert("Cache-Control".into(), json!("no-cache"));
    for (name, value) in &parts.headers {
        if let Ok(v) = value.to_str() {
            headers.insert(header_key(name.as_str()), json!(v));
        }
    }
    let bytes = axum::body::to_bytes(body, MAX_INNER_BODY)
        .await
        .unwrap_or_default();
    let mut out = json!({"id": id, "status": status, "headers": headers});
    if !bytes.is_empty() {
        out["body"] = match serde_json::from_slice::<Value>(&bytes) {
            Ok(v) => v,
            Err(_) => json!(base64::engine::general_purpose::STANDARD.encode(&bytes)),
        };
    }
    out
}

/// An injected fault for one request of the batch, as Graph would answer it on its
/// own: a 429 with its own `Retry-After`, or a 5xx. Dropped connections and delays
/// belong to the batch's own connection, not to its requests.
fn faulted(shared: &Shared, inner: &Req) -> Option<Response> {
    let (_, fault) = lock(&shared.faults).next();
    match fault {
        Fault::Throttle { retry_after_secs } => {
            shared.expect_retry_after(inner, Duration::from_secs_f64(retry_after_secs));
            let mut resp = graph_throttled(inner);
            resp.headers_mut()
                .insert("retry-after", retry_after_value(retry_after_secs));
            Some(resp)
        }
        Fault::ServerError { status } => {
            let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let code = if status == StatusCode::SERVICE_UNAVAILABLE {
                "serviceNotAvailable"
            } else {
                "generalException"
            };
            Some(graph_error(
                inner,
                status,
                code,
                "The service encountered a transient error (emulator fault injection).",
            ))
        }
        Fault::None | Fault::DropBefore | Fault::DropAfter => None,
    }
}

pub(crate) async fn handle(shared: &Shared, base: &str, req: &Req) -> Handled {
    if let Err(resp) = super::authorize(shared, req) {
        return ("graph.unauthorized", resp);
    }
    if req.method != Method::POST {
        return ("graph.method", super::request::method_not_allowed(req));
    }
    let items = match parse_items(req) {
        Ok(items) => items,
        Err(resp) => return ("graph.batch", resp),
    };
    let mut statuses: HashMap<String, u16> = HashMap::new();
    let mut responses = Vec::with_capacity(items.len());
    for item in items {
        let mut headers = item.headers;
        // The batch's credentials are every request's credentials.
        for name in ["authorization", "client-request-id"] {
            if let Some(v) = req.headers.get(name)
                && !headers.contains_key(name)
            {
                headers.insert(name, v.clone());
            }
        }
        let inner = Req::new(
            item.method,
            &item.path,
            item.query.as_deref(),
            headers,
            item.body.into(),
        );
        let failed_dependency = item.depends_on.iter().find(|d| {
            statuses
                .get(&d.to_ascii_lowercase())
                .is_none_or(|s| !(200..300).contains(s))
        });
        let (kind, resp) = if let Some(dep) = failed_dependency {
            // ASSUMPTION: the body of a 424; the status is documented.
            (
                "graph.batch.failed_dependency",
                graph_error(
                    &inner,
                    StatusCode::FAILED_DEPENDENCY,
                    "FailedDependency",
                    &format!("The request depends on request '{dep}', which failed."),
                ),
            )
        } else if is_batch(&inner) {
            (
                "graph.batch.nested",
                graph_error(
                    &inner,
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "A batch cannot contain another batch.",
                ),
            )
        } else {
            // The request goes to Graph: counted as a lone request would be.
            if inner.is_write() {
                lock(&shared.stats).write_requests += 1;
            }
            shared.note_retry(&inner);
            match faulted(shared, &inner) {
                Some(resp) => ("graph.batch.faulted", resp),
                None => super::handle(shared, base, &inner),
            }
        };
        *lock(&shared.stats).by_kind.entry(kind.into()).or_default() += 1;
        statuses.insert(item.id.to_ascii_lowercase(), resp.status().as_u16());
        responses.push(answer(&item.id, resp).await);
    }
    (
        "graph.batch",
        graph_json(req, StatusCode::OK, &json!({"responses": responses})),
    )
}
