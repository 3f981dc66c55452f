//! The query side of Graph collections: `$filter` (the `eq`, `startswith` and
//! `any(…)` forms clients send, joined by `and`), and paging with `$top`,
//! `$skiptoken` and `@odata.nextLink`.
//!
//! Source: microsoftgraph/microsoft-graph-docs-contrib `api-reference/v1.0/api/application-list.md`
//! ("The default and maximum page sizes are 100 and 999"; the properties each entity
//! lets `$filter` use).

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Value, json};

use super::request::Ctx;
use crate::http::{Req, graph_bad_request, graph_error, graph_json};

/// One `$filter` clause: `prop eq 'v'` or `startswith(prop,'v')`, joined by `and`.
#[derive(Debug)]
pub(super) enum Clause {
    Eq(String, String),
    StartsWith(String, String),
    /// `tags/any(t:t eq 'v')`: a collection property containing a value.
    AnyEq(String, String),
}

pub(super) fn parse_filter(filter: &str, allowed: &[&str]) -> Option<Vec<Clause>> {
    let mut clauses = Vec::new();
    for part in split_and(filter) {
        let part = part.trim();
        let clause = if let Some((prop, lambda)) = part
            .split_once("/any(")
            .and_then(|(p, rest)| Some((p, rest.strip_suffix(')')?)))
        {
            let (var, cond) = lambda.split_once(':')?;
            let value = cond
                .trim()
                .strip_prefix(var.trim())?
                .trim()
                .strip_prefix("eq ")?;
            Clause::AnyEq(prop.trim().to_owned(), unquote(value.trim())?)
        } else if let Some(inner) = part
            .strip_prefix("startswith(")
            .or_else(|| part.strip_prefix("startsWith("))
            .and_then(|p| p.strip_suffix(')'))
        {
            let (prop, value) = inner.split_once(',')?;
            Clause::StartsWith(prop.trim().to_owned(), unquote(value.trim())?)
        } else {
            let (prop, value) = part.split_once(" eq ")?;
            Clause::Eq(prop.trim().to_owned(), unquote(value.trim())?)
        };
        let prop = match &clause {
            Clause::Eq(p, _) | Clause::StartsWith(p, _) | Clause::AnyEq(p, _) => p,
        };
        if !allowed.contains(&prop.as_str()) {
            return None;
        }
        clauses.push(clause);
    }
    Some(clauses)
}

/// Split on ` and ` outside quotes.
fn split_and(filter: &str) -> Vec<String> {
    let mut parts = Vec::new();
    let mut current = String::new();
    let mut in_quote = false;
    let mut rest = filter;
    while let Some(c) = rest.chars().next() {
        if c == '\'' {
            in_quote = !in_quote;
        }
        if !in_quote && rest.starts_with(" and ") {
            parts.push(std::mem::take(&mut current));
            rest = &rest[5..];
            continue;
        }
        current.push(c);
        rest = &rest[c.len_utf8()..];
    }
    parts.push(current);
    parts
}

fn unquote(value: &str) -> Option<String> {
    Some(
        value
            .strip_prefix('\'')?
            .strip_suffix('\'')?
            .replace("''", "'"),
    )
}

pub(super) fn matches(clauses: &[Clause], obj: &Value) -> bool {
    clauses.iter().all(|c| match c {
        Clause::Eq(p, v) => obj.get(p).and_then(Value::as_str) == Some(v.as_str()),
        Clause::StartsWith(p, v) => obj
            .get(p)
            .and_then(Value::as_str)
            .is_some_and(|s| s.to_lowercase().starts_with(&v.to_lowercase())),
        Clause::AnyEq(p, v) => obj
            .get(p)
            .and_then(Value::as_array)
            .is_some_and(|a| a.iter().any(|x| x.as_str() == Some(v.as_str()))),
    })
}

pub(super) fn unsupported_query(req: &Req) -> Response {
    graph_error(
        req,
        StatusCode::BAD_REQUEST,
        "Request_UnsupportedQuery",
        "Unsupported Query.",
    )
}

/// A page of a collection, with `@odata.nextLink` when more remain.
pub(super) fn page(ctx: &Ctx<'_>, entity: &str, items: Vec<Value>) -> Response {
    let req = ctx.req;
    let top = match req.query("$top").map(str::parse::<usize>) {
        None => 100,
        Some(Ok(n)) if (1..=999).contains(&n) => n,
        Some(_) => {
            return graph_bad_request(
                req,
                "Invalid page size specified: '$top'. Must be between 1 and 999 inclusive.",
            );
        }
    };
    let skip = match req.query("$skiptoken").map(str::parse::<usize>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return graph_bad_request(req, "Invalid $skiptoken."),
    };
    let total = items.len();
    let value: Vec<Value> = items.into_iter().skip(skip).take(top).collect();
    let mut body = json!({
        "@odata.context": format!("{}/v1.0/$metadata#{entity}", ctx.base),
        "value": value,
    });
    if skip + top < total {
        let mut query: Vec<(String, String)> = req
            .query
            .iter()
            .filter(|(k, _)| k != "$skiptoken")
            .cloned()
            .collect();
        query.push(("$skiptoken".into(), (skip + top).to_string()));
        let encoded: String = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish();
        let path = req.segments.join("/");
        body["@odata.nextLink"] = json!(format!("{}/{path}?{encoded}", ctx.base));
    }
    graph_json(req, StatusCode::OK, &body)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn filters_parse() {
        let c = parse_filter(
            "displayName eq 'a and b' and appId eq 'x'",
            &["displayName", "appId"],
        )
        .unwrap();
        assert_eq!(c.len(), 2);
        assert!(parse_filter("secret eq 'x'", &["displayName"]).is_none());
        assert!(parse_filter("startswith(displayName,'pul')", &["displayName"]).is_some());
    }
}
