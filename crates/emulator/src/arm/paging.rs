//! ARM's paged lists: `{"value": [...], "nextLink": "<absolute url>"}`, the next link
//! present only while more remain, carrying the request's own query with a
//! `$skiptoken` (Azure/azure-rest-api-specs `…/Microsoft.ManagedIdentity/…/examples/2025-05-31-preview/IdentityListByResourceGroup.json`
//! shows the form; the SDKs follow the link as it is and put their api-version back).
//!
//! The token is the emulator's own: the offset of the next item. ASSUMPTION: the 400 for
//! a token or `$top` the emulator did not make is not captured anywhere.

use axum::http::StatusCode;
use axum::response::Response;
use percent_encoding::{AsciiSet, CONTROLS, utf8_percent_encode};
use serde_json::{Value, json};

use crate::http::{Req, arm_error};

/// What a path segment must escape: the delimiters of a URL and what is not printable.
const SEGMENT: &AsciiSet = &CONTROLS
    .add(b' ')
    .add(b'"')
    .add(b'#')
    .add(b'%')
    .add(b'/')
    .add(b'<')
    .add(b'>')
    .add(b'?')
    .add(b'`')
    .add(b'{')
    .add(b'}');

/// One page of `items`: at most `page_size`, fewer if the client's `$top` says so and
/// `honour_top` (the credential list takes `$top`, the identity lists do not).
pub(super) fn page(
    req: &Req,
    base: &str,
    items: Vec<Value>,
    page_size: usize,
    honour_top: bool,
) -> Result<Value, Response> {
    let bad = |what: &str| {
        arm_error(
            req,
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &format!("The value of the query parameter '{what}' is not valid."),
        )
    };
    let mut size = page_size.max(1);
    if honour_top && let Some(top) = req.query("$top") {
        match top.parse::<usize>() {
            Ok(n) if n >= 1 => size = size.min(n),
            _ => return Err(bad("$top")),
        }
    }
    let skip = match req.query("$skiptoken").map(str::parse::<usize>) {
        None => 0,
        Some(Ok(n)) => n,
        Some(Err(_)) => return Err(bad("$skiptoken")),
    };
    let total = items.len();
    let value: Vec<Value> = items.into_iter().skip(skip).take(size).collect();
    let mut body = json!({ "value": value });
    if skip.saturating_add(size) < total {
        let mut query: Vec<(String, String)> = req
            .query
            .iter()
            .filter(|(k, _)| !k.eq_ignore_ascii_case("$skiptoken"))
            .cloned()
            .collect();
        query.push(("$skiptoken".into(), (skip + size).to_string()));
        let encoded = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(query)
            .finish();
        let path: Vec<String> = req
            .segments
            .iter()
            .map(|s| utf8_percent_encode(s, SEGMENT).to_string())
            .collect();
        body["nextLink"] = json!(format!("{base}/{}?{encoded}", path.join("/")));
    }
    Ok(body)
}
