//! The way into the emulator: every request is read whole, attributed to the service
//! its path belongs to, counted, perhaps faulted, and handed to that service.

use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use serde_json::json;

use crate::faults::Fault;
use crate::http::{self, Req};
use crate::shared::{Shared, lock};
use crate::{admin, arm, graph, issuer, metadata, pulumi, sts};

/// Which emulated service a path belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Service {
    Admin,
    Issuer,
    Metadata,
    ManagedIdentity,
    Graph,
    Arm,
    Token,
    Pulumi,
    Unknown,
}

fn classify(segments: &[String]) -> Service {
    match segments.first().map(String::as_str) {
        Some("_emulator") => Service::Admin,
        Some("oidc") => Service::Issuer,
        Some("metadata") => Service::Metadata,
        Some("msi") => Service::ManagedIdentity,
        Some("v1.0" | "beta") => Service::Graph,
        Some("api") => Service::Pulumi,
        Some(s)
            if s.eq_ignore_ascii_case("subscriptions") || s.eq_ignore_ascii_case("providers") =>
        {
            Service::Arm
        }
        // `/{tenant}/oauth2/v2.0/token`, the tenant's `/{tenant}/v2.0/.well-known/…` and
        // its signing keys `/{tenant}/discovery/v2.0/keys`.
        Some(_)
            if segments
                .get(1)
                .is_some_and(|s| s == "oauth2" || s == "v2.0" || s == "discovery") =>
        {
            Service::Token
        }
        _ => Service::Unknown,
    }
}

/// What one listener's router carries: the shared state and the base URL clients
/// reach it by, which the services echo in links and issuers.
#[derive(Clone)]
pub(crate) struct Listener {
    pub(crate) shared: Arc<Shared>,
    pub(crate) base: Arc<str>,
}

/// Bodies larger than this are refused, as real services refuse them.
const MAX_BODY: usize = 1024 * 1024;

pub(crate) async fn entry(State(listener): State<Listener>, request: Request) -> Response {
    let shared = &listener.shared;
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, MAX_BODY).await {
        Ok(b) => b,
        Err(_) => return StatusCode::PAYLOAD_TOO_LARGE.into_response(),
    };
    let req = Req::new(
        parts.method,
        parts.uri.path(),
        parts.uri.query(),
        parts.headers,
        body,
    );
    let service = classify(&req.segments);
    match service {
        Service::Admin => return admin::handle(shared, &listener.base, &req),
        Service::Issuer => return issuer::handle(shared, &listener.base, &req),
        Service::Metadata => return metadata::handle(&listener.base, &req),
        Service::Unknown => {
            return http::plain_json(
                StatusCode::NOT_FOUND,
                &json!({"error": "the emulator serves no such path"}),
            );
        }
        _ => {}
    }
    let app_key = app_write_key(&req);
    let identity_key = arm::identity_credential_write_key(&req);
    {
        let mut stats = lock(&shared.stats);
        stats.requests += 1;
        // A batch's POST writes nothing itself; `graph::batch` counts its writes.
        let batch = service == Service::Graph && graph::batch::is_batch(&req);
        if req.is_write() && service != Service::Token && !batch {
            stats.write_requests += 1;
        }
        stats.in_flight += 1;
        stats.max_in_flight = stats.max_in_flight.max(stats.in_flight);
        if let Some(key) = &app_key {
            let n = stats.app_writes_in_flight.entry(key.clone()).or_default();
            *n += 1;
            let n = *n;
            stats.max_app_writes_in_flight = stats.max_app_writes_in_flight.max(n);
        }
        if let Some(key) = &identity_key {
            let n = stats
                .identity_writes_in_flight
                .entry(key.clone())
                .or_default();
            *n += 1;
            let n = *n;
            stats.max_identity_writes_in_flight = stats.max_identity_writes_in_flight.max(n);
        }
    }
    // Whether a client waits as long as a 429 told it to (a batch's own requests are
    // checked one by one in `graph::batch`).
    shared.note_retry(&req);
    let (delay, fault) = lock(&shared.faults).next();
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let response = match fault {
        Fault::None => dispatch(shared, &listener.base, service, &req).await,
        Fault::Throttle { retry_after_secs } => {
            // From when the answer leaves.
            shared.expect_retry_after(&req, Duration::from_secs_f64(retry_after_secs));
            throttled(service, &req, retry_after_secs)
        }
        Fault::ServerError { status } => server_error(service, &req, status),
        Fault::DropBefore => http::dropped(),
        Fault::DropAfter => {
            let _ = Shared::answer_dropped(dispatch(shared, &listener.base, service, &req)).await;
            http::dropped()
        }
    };
    let mut stats = lock(&shared.stats);
    stats.in_flight -= 1;
    if let Some(key) = &app_key
        && let Some(n) = stats.app_writes_in_flight.get_mut(key)
    {
        *n -= 1;
    }
    if let Some(key) = &identity_key
        && let Some(n) = stats.identity_writes_in_flight.get_mut(key)
    {
        *n -= 1;
    }
    if fault != Fault::None {
        let name = match fault {
            Fault::Throttle { .. } => "throttle",
            Fault::ServerError { .. } => "server_error",
            Fault::DropBefore => "drop_before",
            Fault::DropAfter => "drop_after",
            Fault::None => "none",
        };
        *stats.faults.entry(name.into()).or_default() += 1;
    }
    response
}

async fn dispatch(shared: &Shared, base: &str, service: Service, req: &Req) -> Response {
    let (kind, response) = match service {
        Service::Graph if graph::batch::is_batch(req) => {
            graph::batch::handle(shared, base, req).await
        }
        Service::Graph => graph::handle(shared, base, req),
        Service::Arm => arm::handle(shared, base, req).await,
        Service::Token => sts::handle(shared, base, req),
        Service::ManagedIdentity => sts::managed_identity(shared, req),
        Service::Pulumi => pulumi::handle(shared, req),
        Service::Admin | Service::Issuer | Service::Metadata | Service::Unknown => {
            ("unknown", StatusCode::NOT_FOUND.into_response())
        }
    };
    *lock(&shared.stats).by_kind.entry(kind.into()).or_default() += 1;
    response
}

/// Graph writes to one application (the app itself or its credentials), keyed by the
/// path's app segment, to measure how many the client sends at once.
fn app_write_key(req: &Req) -> Option<String> {
    if !req.is_write() || classify(&req.segments) != Service::Graph {
        return None;
    }
    let first = req.segments.get(1)?;
    if first == "applications" {
        req.segments.get(2).map(|id| format!("applications/{id}"))
    } else if first.starts_with("applications(") {
        Some(first.clone())
    } else {
        None
    }
}

fn throttled(service: Service, req: &Req, secs: f64) -> Response {
    let mut resp = match service {
        // Graph's sample throttling body (microsoftgraph/microsoft-graph-docs-contrib
        // `concepts/throttling.md`).
        Service::Graph => http::graph_throttled(req),
        // ARM's subscription throttling code; the message wording is an assumption.
        // The remaining-budget header says why: nothing is left.
        Service::Arm => {
            let mut resp = http::arm_error(
                req,
                StatusCode::TOO_MANY_REQUESTS,
                "SubscriptionRequestsThrottled",
                "Number of requests for this subscription exceeded the limit. Please try again later.",
            );
            let name = if req.is_write() {
                "x-ms-ratelimit-remaining-subscription-writes"
            } else {
                "x-ms-ratelimit-remaining-subscription-reads"
            };
            resp.headers_mut()
                .insert(name, HeaderValue::from_static("0"));
            resp
        }
        Service::Token | Service::ManagedIdentity => http::plain_json(
            StatusCode::TOO_MANY_REQUESTS,
            &json!({"error": "temporarily_unavailable", "error_description": "The service is throttling requests (emulator fault injection)."}),
        ),
        _ => http::pulumi_error(StatusCode::TOO_MANY_REQUESTS, "Too Many Requests"),
    };
    resp.headers_mut()
        .insert("retry-after", http::retry_after_value(secs));
    resp
}

fn server_error(service: Service, req: &Req, status: u16) -> Response {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let reason = status.canonical_reason().unwrap_or("Server Error");
    match service {
        Service::Graph => {
            let code = if status == StatusCode::SERVICE_UNAVAILABLE {
                "serviceNotAvailable"
            } else {
                "generalException"
            };
            http::graph_error(
                req,
                status,
                code,
                "The service encountered a transient error (emulator fault injection).",
            )
        }
        Service::Arm => http::arm_error(
            req,
            status,
            &reason.replace(' ', ""),
            "The service encountered a transient error (emulator fault injection).",
        ),
        Service::Token | Service::ManagedIdentity => http::plain_json(
            status,
            &json!({"error": "temporarily_unavailable", "error_description": "The service encountered a transient error (emulator fault injection)."}),
        ),
        _ => http::pulumi_error(status, reason),
    }
}
