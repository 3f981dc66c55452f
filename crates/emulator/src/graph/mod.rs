//! Microsoft Graph v1.0: applications (with their owners), service principals (with
//! their app role assignments) and federated identity credentials. This module
//! authenticates a request, refuses reads to a caller without a read permission, and
//! routes it by path; each entity lives in its own module, and judges the writes to it
//! with `authz::graph` (what a caller's app roles and ownerships allow). What they all
//! read of a request is in `request`, the `$filter`/paging rules in `query`, the
//! documented credential limits in `limits`, the documented request budgets and costs
//! (charged right after the token is accepted) in `budget`, JSON batching (`$batch`, which runs each
//! of its requests through `handle`, so each is judged on its own) in `batch`.
//!
//! Shapes follow Microsoft's Graph reference (microsoftgraph/microsoft-graph-docs-contrib
//! `api-reference/v1.0/…`, `concepts/errors.md`). Where Azure's exact body is not known
//! (the 21st credential, a bad credential name, several audiences), the code says so;
//! clients must branch on status and code only.

mod app_role_assignments;
mod applications;
pub(crate) mod batch;
mod budget;
mod credentials;
mod limits;
mod owners;
mod query;
mod request;
mod service_principals;

use axum::http::{Method, StatusCode};
use axum::response::Response;

use crate::authz::graph::{Judge, denied};
use crate::http::{Req, graph_bad_request, graph_error};
use crate::shared::{Grant, Resource, Shared, lock};

use applications::{AppKey, app_routes, create_app, list_apps};
use request::{Ctx, Handled, method_not_allowed, parse_key};
use service_principals::{SpKey, create_sp, list_sps, sp_routes};

pub(crate) fn handle(shared: &Shared, base: &str, req: &Req) -> Handled {
    let grant = match authorize(shared, req) {
        Ok(g) => g,
        Err(resp) => return ("graph.unauthorized", resp),
    };
    let metered = match budget::meter(shared, req, &grant) {
        Ok(m) => m,
        Err(resp) => return ("graph.throttled", resp),
    };
    let (kind, mut resp) = route(shared, base, req, &grant);
    budget::stamp(&mut resp, metered);
    (kind, resp)
}

/// Answer a request whose token was accepted and charged.
fn route(shared: &Shared, base: &str, req: &Req, grant: &Grant) -> Handled {
    // Every read needs one of the read permissions; writes are judged where the
    // object they touch is known.
    if req.method == Method::GET && !Judge::new(grant).may_read() {
        return ("graph.forbidden", denied(req));
    }
    if req.segments.first().is_some_and(|v| v == "beta") {
        // The tool uses v1.0 only; beta (flexible credentials) is out of scope.
        return (
            "graph.beta",
            graph_bad_request(req, "The emulator serves Graph v1.0 only."),
        );
    }
    let rest: Vec<&str> = req.segments.iter().skip(1).map(String::as_str).collect();
    let lag = shared.replication().lag();
    let mut dir = lock(&shared.dir);
    let ctx = Ctx {
        shared,
        base,
        req,
        lag,
        grant,
    };
    match rest.as_slice() {
        ["applications"] => match req.method {
            Method::GET => ("graph.applications.list", list_apps(&ctx, &dir)),
            Method::POST => (
                "graph.applications.create",
                create_app(&ctx, &mut dir, None),
            ),
            _ => ("graph.method", method_not_allowed(req)),
        },
        ["servicePrincipals"] => match req.method {
            Method::GET => ("graph.servicePrincipals.list", list_sps(&ctx, &dir)),
            Method::POST => ("graph.servicePrincipals.create", create_sp(&ctx, &mut dir)),
            _ => ("graph.method", method_not_allowed(req)),
        },
        ["applications", id, tail @ ..] => {
            app_routes(&ctx, &mut dir, AppKey::Id(id.to_string()), tail)
        }
        [seg, tail @ ..] if seg.starts_with("applications(") => {
            match parse_key(seg, "applications") {
                Some((k, v)) if k == "appId" => app_routes(&ctx, &mut dir, AppKey::AppId(v), tail),
                Some((k, v)) if k == "uniqueName" => {
                    app_routes(&ctx, &mut dir, AppKey::UniqueName(v), tail)
                }
                _ => (
                    "graph.bad_key",
                    graph_bad_request(req, &format!("Invalid key segment '{seg}'.")),
                ),
            }
        }
        ["servicePrincipals", id, tail @ ..] => {
            sp_routes(&ctx, &mut dir, SpKey::Id(id.to_string()), tail)
        }
        [seg, tail @ ..] if seg.starts_with("servicePrincipals(") => {
            match parse_key(seg, "servicePrincipals") {
                Some((k, v)) if k == "appId" => sp_routes(&ctx, &mut dir, SpKey::AppId(v), tail),
                _ => (
                    "graph.bad_key",
                    graph_bad_request(req, &format!("Invalid key segment '{seg}'.")),
                ),
            }
        }
        _ => (
            "graph.unknown",
            graph_error(
                req,
                StatusCode::BAD_REQUEST,
                "BadRequest",
                &format!(
                    "Resource not found for the segment '{}'.",
                    rest.first().copied().unwrap_or("")
                ),
            ),
        ),
    }
}

/// Check the bearer token: present, issued here, for Graph. The messages are the ones
/// Graph is widely seen to return; their exact wording is not documented.
pub(super) fn authorize(shared: &Shared, req: &Req) -> Result<Grant, Response> {
    let unauthorized = |msg: &str| {
        graph_error(
            req,
            StatusCode::UNAUTHORIZED,
            "InvalidAuthenticationToken",
            msg,
        )
    };
    let Some(token) = req.bearer() else {
        return Err(unauthorized("Access token is empty."));
    };
    let Some(grant) = shared.grant(token) else {
        return Err(unauthorized("Access token validation failure."));
    };
    if grant.resource != Resource::Graph {
        return Err(unauthorized(
            "Access token validation failure. Invalid audience.",
        ));
    }
    Ok(grant)
}
