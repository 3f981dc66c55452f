//! A Graph request as every entity module sees it: its context, the key segments and
//! preferences it may carry, and the refusals common to all entities.

use std::time::Instant;

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value};

use crate::authz::graph::Judge;
use crate::http::{Req, graph_bad_request, graph_error};
use crate::shared::{Grant, Shared};

/// What a handler returns: the request's kind for the counters, and the answer.
pub(super) type Handled = (&'static str, Response);

/// One request as every entity module sees it.
pub(super) struct Ctx<'a> {
    pub(super) shared: &'a Shared,
    pub(super) base: &'a str,
    pub(super) req: &'a Req,
    pub(super) lag: std::time::Duration,
    /// The caller's token.
    pub(super) grant: &'a Grant,
}

impl Ctx<'_> {
    pub(super) fn visible(&self, created: Instant) -> bool {
        created.elapsed() >= self.lag
    }

    /// What the caller may do.
    pub(super) fn judge(&self) -> Judge<'_> {
        Judge::new(self.grant)
    }
}

pub(super) fn method_not_allowed(req: &Req) -> Response {
    graph_error(
        req,
        StatusCode::METHOD_NOT_ALLOWED,
        "Request_BadRequest",
        &format!(
            "The HTTP method '{}' is not allowed for this resource.",
            req.method
        ),
    )
}

/// `applications(appId='…')` → `("appId", "…")`. Quotes inside are doubled, per OData.
pub(super) fn parse_key(segment: &str, entity: &str) -> Option<(String, String)> {
    let inner = segment
        .strip_prefix(entity)?
        .strip_prefix('(')?
        .strip_suffix(')')?;
    let (key, value) = inner.split_once('=')?;
    let value = value
        .strip_prefix('\'')?
        .strip_suffix('\'')?
        .replace("''", "'");
    Some((key.to_owned(), value))
}

pub(super) fn check_props(
    req: &Req,
    body: &Map<String, Value>,
    allowed: &[&str],
    entity: &str,
) -> Result<(), Response> {
    for key in body.keys() {
        if key.starts_with("@odata.") {
            continue;
        }
        if !allowed.contains(&key.as_str()) {
            // Wording is an assumption; the status and code are Graph's.
            return Err(graph_bad_request(
                req,
                &format!(
                    "Property '{key}' does not exist as a declared property or extension property of type 'microsoft.graph.{entity}'."
                ),
            ));
        }
    }
    Ok(())
}

pub(super) fn prefers_create(req: &Req) -> bool {
    req.headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case("create-if-missing"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_parse() {
        assert_eq!(
            parse_key("applications(appId='a-b')", "applications"),
            Some(("appId".into(), "a-b".into()))
        );
        assert_eq!(
            parse_key("applications(uniqueName='it''s')", "applications"),
            Some(("uniqueName".into(), "it's".into()))
        );
        assert_eq!(parse_key("applications(appId=x)", "applications"), None);
    }
}
