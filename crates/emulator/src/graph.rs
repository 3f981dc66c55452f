//! Microsoft Graph v1.0: applications, service principals and federated identity
//! credentials, with the rules, status codes and error bodies of `azure-facts.md` §1.
//!
//! Where Azure's exact body is not known (the 21st credential, a bad credential name,
//! several audiences), the code says so; clients must branch on status and code only.

use std::time::Instant;

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Map, Value, json};

use crate::http::{
    Req, graph_bad_request, graph_error, graph_json, graph_no_content, graph_not_found, now_rfc3339,
};
use crate::server::{Grant, Resource, Shared, lock};
use crate::state::{
    Application, Credential, Directory, ServicePrincipal, app_json, credential_json, sp_json,
};

type Handled = (&'static str, Response);

/// Graph's documented per-application credential limit (`azure-facts.md` §1.4).
pub(crate) const MAX_CREDENTIALS: usize = 20;
const MAX_FIELD: usize = 600;

pub(crate) fn handle(shared: &Shared, base: &str, req: &Req) -> Handled {
    let grant = match authorize(shared, req) {
        Ok(g) => g,
        Err(resp) => return ("graph.unauthorized", resp),
    };
    if req.is_write() && !grant.can_write {
        return (
            "graph.forbidden",
            graph_error(
                req,
                StatusCode::FORBIDDEN,
                "Authorization_RequestDenied",
                "Insufficient privileges to complete the operation.",
            ),
        );
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
        ["servicePrincipals", id] => sp_routes(&ctx, &mut dir, SpKey::Id(id.to_string())),
        [seg] if seg.starts_with("servicePrincipals(") => match parse_key(seg, "servicePrincipals")
        {
            Some((k, v)) if k == "appId" => sp_routes(&ctx, &mut dir, SpKey::AppId(v)),
            _ => (
                "graph.bad_key",
                graph_bad_request(req, &format!("Invalid key segment '{seg}'.")),
            ),
        },
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

struct Ctx<'a> {
    shared: &'a Shared,
    base: &'a str,
    req: &'a Req,
    lag: std::time::Duration,
}

impl Ctx<'_> {
    fn visible(&self, created: Instant) -> bool {
        created.elapsed() >= self.lag
    }
}

/// Check the bearer token: present, issued here, for Graph. The messages are the ones
/// Graph is widely seen to return; their exact wording is not documented.
fn authorize(shared: &Shared, req: &Req) -> Result<Grant, Response> {
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

fn method_not_allowed(req: &Req) -> Response {
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
fn parse_key(segment: &str, entity: &str) -> Option<(String, String)> {
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

#[derive(Debug)]
enum AppKey {
    Id(String),
    AppId(String),
    UniqueName(String),
}

impl AppKey {
    fn text(&self) -> &str {
        match self {
            AppKey::Id(v) | AppKey::AppId(v) | AppKey::UniqueName(v) => v,
        }
    }
    fn find(&self, dir: &Directory) -> Option<String> {
        dir.applications
            .values()
            .find(|a| match self {
                AppKey::Id(v) => &a.id == v,
                AppKey::AppId(v) => &a.app_id == v,
                AppKey::UniqueName(v) => a.unique_name.as_deref() == Some(v.as_str()),
            })
            .map(|a| a.id.clone())
    }
}

/// The app's object id, if it exists and has replicated to the reader.
fn resolve_app(ctx: &Ctx<'_>, dir: &Directory, key: &AppKey) -> Option<String> {
    let id = key.find(dir)?;
    let app = dir.applications.get(&id)?;
    ctx.visible(app.created).then_some(id)
}

fn app_routes(ctx: &Ctx<'_>, dir: &mut Directory, key: AppKey, tail: &[&str]) -> Handled {
    let req = ctx.req;
    match tail {
        [] => match req.method {
            Method::GET => match resolve_app(ctx, dir, &key) {
                Some(id) => (
                    "graph.applications.get",
                    app_response(ctx, &dir.applications[&id], StatusCode::OK),
                ),
                None => ("graph.applications.get", graph_not_found(req, key.text())),
            },
            Method::PATCH => {
                let upsert = matches!(key, AppKey::UniqueName(_));
                let kind = if upsert {
                    "graph.applications.upsert"
                } else {
                    "graph.applications.update"
                };
                (kind, patch_app(ctx, dir, &key))
            }
            Method::DELETE => match resolve_app(ctx, dir, &key) {
                Some(id) => {
                    if let Some(app) = dir.applications.remove(&id) {
                        // The home-tenant service principal goes with its app.
                        dir.service_principals
                            .retain(|_, sp| sp.app_id != app.app_id);
                    }
                    ctx.shared.mutated();
                    ("graph.applications.delete", graph_no_content(req))
                }
                None => (
                    "graph.applications.delete",
                    graph_not_found(req, key.text()),
                ),
            },
            _ => ("graph.method", method_not_allowed(req)),
        },
        ["federatedIdentityCredentials"] => {
            let Some(app_id) = resolve_app(ctx, dir, &key) else {
                return ("graph.fic.parent_missing", graph_not_found(req, key.text()));
            };
            match req.method {
                Method::GET => (
                    "graph.fic.list",
                    list_credentials(ctx, &dir.applications[&app_id]),
                ),
                Method::POST => (
                    "graph.fic.create",
                    create_credential(ctx, dir, &app_id, None),
                ),
                _ => ("graph.method", method_not_allowed(req)),
            }
        }
        [seg] if seg.starts_with("federatedIdentityCredentials(") => {
            let Some(app_id) = resolve_app(ctx, dir, &key) else {
                return ("graph.fic.parent_missing", graph_not_found(req, key.text()));
            };
            let Some((k, name)) =
                parse_key(seg, "federatedIdentityCredentials").filter(|(k, _)| k == "name")
            else {
                return (
                    "graph.bad_key",
                    graph_bad_request(req, &format!("Invalid key segment '{seg}'.")),
                );
            };
            let _ = k;
            credential_routes(ctx, dir, &app_id, &name, true)
        }
        ["federatedIdentityCredentials", id_or_name] => {
            let Some(app_id) = resolve_app(ctx, dir, &key) else {
                return ("graph.fic.parent_missing", graph_not_found(req, key.text()));
            };
            credential_routes(ctx, dir, &app_id, id_or_name, false)
        }
        _ => (
            "graph.unknown",
            graph_bad_request(req, "Unsupported segment."),
        ),
    }
}

fn app_response(ctx: &Ctx<'_>, app: &Application, status: StatusCode) -> Response {
    let mut body = app_json(app);
    body["@odata.context"] = json!(format!("{}/v1.0/$metadata#applications/$entity", ctx.base));
    graph_json(ctx.req, status, &body)
}

/// Properties a client may send for an application; Graph refuses undeclared ones.
const APP_PROPS: &[&str] = &[
    "displayName",
    "uniqueName",
    "signInAudience",
    "tags",
    "notes",
    "description",
    "identifierUris",
    "web",
    "api",
    "requiredResourceAccess",
    "serviceManagementReference",
];
const SIGN_IN_AUDIENCES: &[&str] = &[
    "AzureADMyOrg",
    "AzureADMultipleOrgs",
    "AzureADandPersonalMicrosoftAccount",
    "PersonalMicrosoftAccount",
];

fn check_props(
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

fn check_app_body(req: &Req, body: &Map<String, Value>) -> Result<(), Response> {
    check_props(req, body, APP_PROPS, "application")?;
    if let Some(v) = body.get("displayName")
        && (!v.is_string()
            || v.as_str()
                .is_some_and(|s| s.trim().is_empty() || s.chars().count() > 256))
    {
        return Err(graph_bad_request(
            req,
            "Invalid value specified for property 'displayName' of resource 'Application'.",
        ));
    }
    if let Some(v) = body.get("signInAudience")
        && !v.as_str().is_some_and(|s| SIGN_IN_AUDIENCES.contains(&s))
    {
        return Err(graph_bad_request(
            req,
            "Invalid value specified for property 'signInAudience' of resource 'Application'.",
        ));
    }
    if let Some(v) = body.get("tags") {
        let ok = v
            .as_array()
            .is_some_and(|a| a.iter().all(|t| t.as_str().is_some_and(|s| s.len() <= 256)));
        if !ok {
            return Err(graph_bad_request(
                req,
                "Invalid value specified for property 'tags' of resource 'Application'.",
            ));
        }
    }
    if let Some(v) = body.get("notes")
        && !(v.is_null() || v.as_str().is_some_and(|s| s.len() <= 1024))
    {
        return Err(graph_bad_request(
            req,
            "Invalid value specified for property 'notes' of resource 'Application'.",
        ));
    }
    if let Some(v) = body.get("uniqueName")
        && !v.as_str().is_some_and(|s| !s.is_empty() && s.len() <= 128)
    {
        return Err(graph_bad_request(
            req,
            "Invalid value specified for property 'uniqueName' of resource 'Application'.",
        ));
    }
    Ok(())
}

fn create_app(ctx: &Ctx<'_>, dir: &mut Directory, unique_name: Option<String>) -> Response {
    let req = ctx.req;
    let mut body = match req.json_body() {
        Ok(b) => b,
        Err(m) => return graph_bad_request(req, &m),
    };
    if let Err(r) = check_app_body(req, &body) {
        return r;
    }
    // "The request body must contain displayName" (azure-facts.md §1.1).
    if !body.contains_key("displayName") {
        return graph_bad_request(req, "Property 'displayName' is required.");
    }
    let unique = match (unique_name, body.remove("uniqueName")) {
        (Some(key), Some(v)) if v.as_str() != Some(key.as_str()) => {
            return graph_bad_request(req, "The uniqueName in the body does not match the key.");
        }
        (Some(key), _) => Some(key),
        (None, Some(v)) => v.as_str().map(str::to_owned),
        (None, None) => None,
    };
    if let Some(u) = &unique
        && dir
            .applications
            .values()
            .any(|a| a.unique_name.as_deref() == Some(u))
    {
        return graph_error(
            req,
            StatusCode::CONFLICT,
            "Request_MultipleObjectsWithSameKeyValue",
            &format!(
                "Another object with the same value for property uniqueName already exists: '{u}'."
            ),
        );
    }
    let app = Application {
        id: uuid::Uuid::new_v4().to_string(),
        app_id: uuid::Uuid::new_v4().to_string(),
        unique_name: unique,
        created_at: now_rfc3339(),
        props: body,
        credentials: Vec::new(),
        created: Instant::now(),
    };
    let resp = app_response(ctx, &app, StatusCode::CREATED);
    dir.applications.insert(app.id.clone(), app);
    ctx.shared.mutated();
    resp
}

/// `PATCH /applications/{id}` updates; `PATCH /applications(uniqueName='…')` with
/// `Prefer: create-if-missing` is the upsert of `azure-facts.md` §1.1.
fn patch_app(ctx: &Ctx<'_>, dir: &mut Directory, key: &AppKey) -> Response {
    let req = ctx.req;
    let create_if_missing = prefers_create(req);
    // Writes by alternate key are strongly consistent: an upsert never creates a
    // second app with the same uniqueName, however fresh the first one is.
    let existing = match key {
        AppKey::UniqueName(_) => key.find(dir),
        _ => resolve_app(ctx, dir, key),
    };
    let Some(id) = existing else {
        return match (key, create_if_missing) {
            (AppKey::UniqueName(u), true) => create_app(ctx, dir, Some(u.clone())),
            _ => graph_not_found(req, key.text()),
        };
    };
    let body = match req.json_body() {
        Ok(b) => b,
        Err(m) => return graph_bad_request(req, &m),
    };
    if let Err(r) = check_app_body(req, &body) {
        return r;
    }
    let Some(app) = dir.applications.get_mut(&id) else {
        return graph_not_found(req, key.text());
    };
    if let Some(u) = body.get("uniqueName")
        && u.as_str() != app.unique_name.as_deref()
    {
        return graph_bad_request(
            req,
            "Property 'uniqueName' is read-only and cannot be changed.",
        );
    }
    let mut changed = false;
    for (k, v) in body {
        if k == "uniqueName" || k.starts_with("@odata.") {
            continue;
        }
        if app.props.get(&k) != Some(&v) {
            app.props.insert(k, v);
            changed = true;
        }
    }
    if changed {
        ctx.shared.mutated();
    }
    graph_no_content(req)
}

fn prefers_create(req: &Req) -> bool {
    req.headers
        .get_all("prefer")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim().eq_ignore_ascii_case("create-if-missing"))
}

/// One `$filter` clause: `prop eq 'v'` or `startswith(prop,'v')`, joined by `and`.
#[derive(Debug)]
enum Clause {
    Eq(String, String),
    StartsWith(String, String),
    /// `tags/any(t:t eq 'v')`: a collection property containing a value.
    AnyEq(String, String),
}

fn parse_filter(filter: &str, allowed: &[&str]) -> Option<Vec<Clause>> {
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

fn matches(clauses: &[Clause], obj: &Value) -> bool {
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

fn unsupported_query(req: &Req) -> Response {
    graph_error(
        req,
        StatusCode::BAD_REQUEST,
        "Request_UnsupportedQuery",
        "Unsupported Query.",
    )
}

/// A page of a collection, with `@odata.nextLink` when more remain.
fn page(ctx: &Ctx<'_>, entity: &str, items: Vec<Value>) -> Response {
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

fn list_apps(ctx: &Ctx<'_>, dir: &Directory) -> Response {
    let clauses = match ctx.req.query("$filter") {
        None => Vec::new(),
        Some(f) => match parse_filter(
            f,
            &[
                "displayName",
                "appId",
                "uniqueName",
                "signInAudience",
                "id",
                "tags",
            ],
        ) {
            Some(c) => c,
            None => return unsupported_query(ctx.req),
        },
    };
    // $filter reads are eventually consistent: a fresh app is missing (§1.2).
    let items = dir
        .applications
        .values()
        .filter(|a| clauses.is_empty() || ctx.visible(a.created))
        .map(app_json)
        .filter(|v| matches(&clauses, v))
        .collect();
    page(ctx, "applications", items)
}

#[derive(Debug)]
enum SpKey {
    Id(String),
    AppId(String),
}

fn sp_routes(ctx: &Ctx<'_>, dir: &mut Directory, key: SpKey) -> Handled {
    let req = ctx.req;
    let text = match &key {
        SpKey::Id(v) | SpKey::AppId(v) => v.clone(),
    };
    let found = dir
        .service_principals
        .values()
        .find(|s| match &key {
            SpKey::Id(v) => &s.id == v,
            SpKey::AppId(v) => &s.app_id == v,
        })
        .map(|s| (s.id.clone(), s.created));
    match req.method {
        Method::GET => match found.filter(|(_, c)| ctx.visible(*c)) {
            Some((id, _)) => (
                "graph.servicePrincipals.get",
                sp_response(ctx, &dir.service_principals[&id], StatusCode::OK),
            ),
            None => ("graph.servicePrincipals.get", graph_not_found(req, &text)),
        },
        Method::DELETE => match found.filter(|(_, c)| ctx.visible(*c)) {
            Some((id, _)) => {
                dir.service_principals.remove(&id);
                ctx.shared.mutated();
                ("graph.servicePrincipals.delete", graph_no_content(req))
            }
            None => (
                "graph.servicePrincipals.delete",
                graph_not_found(req, &text),
            ),
        },
        Method::PATCH => {
            let body = match req.json_body() {
                Ok(b) => b,
                Err(m) => return ("graph.servicePrincipals.upsert", graph_bad_request(req, &m)),
            };
            if let Err(r) = check_props(req, &body, SP_PROPS, "servicePrincipal") {
                return ("graph.servicePrincipals.upsert", r);
            }
            match (found, &key) {
                (Some((id, _)), _) => {
                    if let Some(sp) = dir.service_principals.get_mut(&id) {
                        let mut changed = false;
                        for (k, v) in body {
                            if k != "appId" && sp.props.get(&k) != Some(&v) {
                                sp.props.insert(k, v);
                                changed = true;
                            }
                        }
                        if changed {
                            ctx.shared.mutated();
                        }
                    }
                    ("graph.servicePrincipals.upsert", graph_no_content(req))
                }
                (None, SpKey::AppId(app_id)) if prefers_create(req) => (
                    "graph.servicePrincipals.upsert",
                    insert_sp(ctx, dir, app_id, body),
                ),
                (None, _) => (
                    "graph.servicePrincipals.upsert",
                    graph_not_found(req, &text),
                ),
            }
        }
        _ => ("graph.method", method_not_allowed(req)),
    }
}

const SP_PROPS: &[&str] = &[
    "appId",
    "tags",
    "notes",
    "description",
    "accountEnabled",
    "appRoleAssignmentRequired",
];

fn sp_response(ctx: &Ctx<'_>, sp: &ServicePrincipal, status: StatusCode) -> Response {
    let mut body = sp_json(sp);
    body["@odata.context"] = json!(format!(
        "{}/v1.0/$metadata#servicePrincipals/$entity",
        ctx.base
    ));
    graph_json(ctx.req, status, &body)
}

fn create_sp(ctx: &Ctx<'_>, dir: &mut Directory) -> Response {
    let req = ctx.req;
    let body = match req.json_body() {
        Ok(b) => b,
        Err(m) => return graph_bad_request(req, &m),
    };
    if let Err(r) = check_props(req, &body, SP_PROPS, "servicePrincipal") {
        return r;
    }
    let Some(app_id) = body.get("appId").and_then(Value::as_str).map(str::to_owned) else {
        return graph_bad_request(req, "Property 'appId' is required.");
    };
    if dir.sp_by_app_id(&app_id).is_some() {
        // azure-facts.md §1.3.
        return graph_error(
            req,
            StatusCode::CONFLICT,
            "Request_MultipleObjectsWithSameKeyValue",
            &format!(
                "The service principal cannot be created, updated, or restored because the service principal name {app_id} is already in use."
            ),
        );
    }
    insert_sp(ctx, dir, &app_id, body)
}

fn insert_sp(
    ctx: &Ctx<'_>,
    dir: &mut Directory,
    app_id: &str,
    mut body: Map<String, Value>,
) -> Response {
    let req = ctx.req;
    // Right after the app is created, the service principal's write does not see it
    // yet: the replication error of azure-facts.md §1.3.
    let Some(app) = dir.app_by_app_id(app_id).filter(|a| ctx.visible(a.created)) else {
        return graph_bad_request(
            req,
            &format!(
                "The appId '{app_id}' of the service principal does not reference a valid application object."
            ),
        );
    };
    body.remove("appId");
    let sp = ServicePrincipal {
        id: uuid::Uuid::new_v4().to_string(),
        app_id: app_id.to_owned(),
        display_name: app
            .props
            .get("displayName")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_owned(),
        props: body,
        created: Instant::now(),
    };
    let resp = sp_response(ctx, &sp, StatusCode::CREATED);
    dir.service_principals.insert(sp.id.clone(), sp);
    ctx.shared.mutated();
    resp
}

fn list_sps(ctx: &Ctx<'_>, dir: &Directory) -> Response {
    let clauses = match ctx.req.query("$filter") {
        None => Vec::new(),
        Some(f) => match parse_filter(f, &["appId", "displayName", "id"]) {
            Some(c) => c,
            None => return unsupported_query(ctx.req),
        },
    };
    let items = dir
        .service_principals
        .values()
        .filter(|s| clauses.is_empty() || ctx.visible(s.created))
        .map(sp_json)
        .filter(|v| matches(&clauses, v))
        .collect();
    page(ctx, "servicePrincipals", items)
}

fn list_credentials(ctx: &Ctx<'_>, app: &Application) -> Response {
    let clauses = match ctx.req.query("$filter") {
        None => Vec::new(),
        Some(f) => match parse_filter(f, &["name", "subject", "issuer"]) {
            Some(c) => c,
            None => return unsupported_query(ctx.req),
        },
    };
    let items: Vec<Value> = app
        .credentials
        .iter()
        .map(credential_json)
        .filter(|v| matches(&clauses, v))
        .collect();
    let body = json!({
        "@odata.context": format!("{}/v1.0/$metadata#applications('{}')/federatedIdentityCredentials", ctx.base, app.id),
        "value": items,
    });
    graph_json(ctx.req, StatusCode::OK, &body)
}

const FIC_PROPS: &[&str] = &["name", "issuer", "subject", "audiences", "description"];

/// The validated fields of a credential body. `partial` allows missing fields (update).
struct FicFields {
    name: Option<String>,
    issuer: Option<String>,
    subject: Option<String>,
    audiences: Option<Vec<String>>,
    description: Option<Option<String>>,
}

fn check_credential(
    req: &Req,
    body: &Map<String, Value>,
    partial: bool,
) -> Result<FicFields, Response> {
    check_props(req, body, FIC_PROPS, "federatedIdentityCredential")?;
    let text = |key: &str| -> Result<Option<String>, Response> {
        match body.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(_) => Err(graph_bad_request(
                req,
                &format!(
                    "Invalid value specified for property '{key}' of resource 'FederatedIdentityCredential'."
                ),
            )),
        }
    };
    let name = text("name")?;
    let issuer = text("issuer")?;
    let subject = text("subject")?;
    let description = match body.get("description") {
        None => None,
        Some(Value::Null) => Some(None),
        Some(Value::String(s)) => Some(Some(s.clone())),
        Some(_) => {
            return Err(graph_bad_request(
                req,
                "Invalid value specified for property 'description' of resource 'FederatedIdentityCredential'.",
            ));
        }
    };
    let audiences = match body.get("audiences") {
        None | Some(Value::Null) => None,
        Some(Value::Array(a)) => Some(
            a.iter()
                .map(|v| v.as_str().map(str::to_owned))
                .collect::<Option<Vec<_>>>()
                .ok_or_else(|| graph_bad_request(req, "Invalid value specified for property 'audiences' of resource 'FederatedIdentityCredential'."))?,
        ),
        Some(_) => return Err(graph_bad_request(req, "Invalid value specified for property 'audiences' of resource 'FederatedIdentityCredential'.")),
    };
    if !partial {
        for (field, present) in [
            ("name", name.is_some()),
            ("issuer", issuer.is_some()),
            ("subject", subject.is_some()),
            ("audiences", audiences.is_some()),
        ] {
            if !present {
                return Err(graph_bad_request(
                    req,
                    &format!("Property '{field}' is required for a federated identity credential."),
                ));
            }
        }
    }
    if let Some(n) = &name {
        // Entra's rule (azure-facts.md §1.4); the message wording is an assumption.
        if !valid_credential_name(n) {
            return Err(graph_bad_request(
                req,
                &format!(
                    "Federated identity credential name '{n}' is invalid. It must be 3-120 characters of letters, digits, '-' and '_', starting with a letter or digit."
                ),
            ));
        }
    }
    for (field, value) in [("issuer", &issuer), ("subject", &subject)] {
        if let Some(v) = value
            && (v.is_empty() || v.chars().count() > MAX_FIELD)
        {
            return Err(graph_bad_request(
                req,
                &format!("Property '{field}' must be 1 to {MAX_FIELD} characters."),
            ));
        }
    }
    if let Some(Some(d)) = &description
        && d.chars().count() > MAX_FIELD
    {
        return Err(graph_bad_request(
            req,
            &format!("Property 'description' must be at most {MAX_FIELD} characters."),
        ));
    }
    if let Some(a) = &audiences {
        // "This field can only accept a single value" (§1.4); wording from the
        // managed-identity variant of the same rule.
        if a.len() != 1 {
            return Err(graph_bad_request(
                req,
                "Federated identity credentials must have exactly one audience.",
            ));
        }
        if a[0].is_empty() || a[0].chars().count() > MAX_FIELD {
            return Err(graph_bad_request(
                req,
                &format!("Property 'audiences' values must be 1 to {MAX_FIELD} characters."),
            ));
        }
    }
    Ok(FicFields {
        name,
        issuer,
        subject,
        audiences,
        description,
    })
}

pub(crate) fn valid_credential_name(name: &str) -> bool {
    let len = name.len();
    (3..=120).contains(&len)
        && name
            .chars()
            .next()
            .is_some_and(|c| c.is_ascii_alphanumeric())
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

fn duplicate_pair(req: &Req, issuer: &str, subject: &str) -> Response {
    // The exact body captured in azure-facts.md §1.6.
    graph_error(
        req,
        StatusCode::BAD_REQUEST,
        "InvalidFederatedIdentityCredentialValue",
        &format!(
            "The combination of issuer and subject must be unique for the application. Issuer {issuer} and Subject: {subject} already exist. paramName: FederatedIdentityCredential.Subject, paramValue: {subject}, objectType: Microsoft.Online.DirectoryServices.Application"
        ),
    )
}

fn create_credential(
    ctx: &Ctx<'_>,
    dir: &mut Directory,
    app_id: &str,
    key_name: Option<&str>,
) -> Response {
    let req = ctx.req;
    let body = match req.json_body() {
        Ok(b) => b,
        Err(m) => return graph_bad_request(req, &m),
    };
    let mut body = body;
    if let Some(k) = key_name {
        match body.get("name").and_then(Value::as_str) {
            Some(n) if n != k => {
                return graph_bad_request(req, "The name in the body does not match the key.");
            }
            _ => {
                body.insert("name".into(), json!(k));
            }
        }
    }
    let fields = match check_credential(req, &body, false) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let (Some(name), Some(issuer), Some(subject), Some(audiences)) =
        (fields.name, fields.issuer, fields.subject, fields.audiences)
    else {
        return graph_bad_request(
            req,
            "A federated identity credential needs name, issuer, subject and audiences.",
        );
    };
    let Some(app) = dir.applications.get_mut(app_id) else {
        return graph_not_found(req, app_id);
    };
    if app.credentials.iter().any(|c| c.name == name) {
        // azure-facts.md §1.6.
        return graph_error(
            req,
            StatusCode::CONFLICT,
            "Request_MultipleObjectsWithSameKeyValue",
            &format!("FederatedIdentityCredential with name {name} already exists."),
        );
    }
    if app
        .credentials
        .iter()
        .any(|c| c.issuer == issuer && c.subject == subject)
    {
        return duplicate_pair(req, &issuer, &subject);
    }
    if app.credentials.len() >= MAX_CREDENTIALS {
        // ASSUMPTION: no captured body exists for the 21st credential (azure-facts.md
        // §1.6, "NOT FOUND"); the limit itself is documented. Clients must count first.
        return graph_bad_request(
            req,
            &format!(
                "The maximum number of {MAX_CREDENTIALS} federated identity credentials per application has been reached."
            ),
        );
    }
    let cred = Credential {
        id: uuid::Uuid::new_v4().to_string(),
        name,
        issuer,
        subject,
        audiences,
        description: fields.description.flatten(),
        created: Instant::now(),
    };
    let mut out = credential_json(&cred);
    out["@odata.context"] = json!(format!(
        "{}/v1.0/$metadata#applications('{}')/federatedIdentityCredentials/$entity",
        ctx.base, app.id
    ));
    app.credentials.push(cred);
    ctx.shared.mutated();
    graph_json(req, StatusCode::CREATED, &out)
}

fn credential_routes(
    ctx: &Ctx<'_>,
    dir: &mut Directory,
    app_id: &str,
    id_or_name: &str,
    by_name_key: bool,
) -> Handled {
    let req = ctx.req;
    let Some(app) = dir.applications.get(app_id) else {
        return ("graph.fic.parent_missing", graph_not_found(req, app_id));
    };
    let position = app
        .credentials
        .iter()
        .position(|c| c.name == id_or_name || (!by_name_key && c.id == id_or_name));
    let visible = position.filter(|&i| ctx.visible(app.credentials[i].created));
    let not_found = || {
        graph_error(
            req,
            StatusCode::NOT_FOUND,
            "Request_ResourceNotFound",
            &format!("FederatedIdentityCredential with name {id_or_name} not found."),
        )
    };
    match req.method {
        Method::GET => match visible {
            Some(i) => (
                "graph.fic.get",
                graph_json(req, StatusCode::OK, &credential_json(&app.credentials[i])),
            ),
            None => ("graph.fic.get", not_found()),
        },
        Method::DELETE => match visible {
            Some(i) => {
                if let Some(app) = dir.applications.get_mut(app_id) {
                    app.credentials.remove(i);
                }
                ctx.shared.mutated();
                ("graph.fic.delete", graph_no_content(req))
            }
            None => ("graph.fic.delete", not_found()),
        },
        Method::PATCH => {
            let upsert = by_name_key && prefers_create(req);
            let kind = if upsert {
                "graph.fic.upsert"
            } else {
                "graph.fic.update"
            };
            // The upsert is strongly consistent on the name key, like the app's.
            let target = if by_name_key { position } else { visible };
            match target {
                None if upsert => (kind, create_credential(ctx, dir, app_id, Some(id_or_name))),
                None => (kind, not_found()),
                Some(i) => (kind, update_credential(ctx, dir, app_id, i)),
            }
        }
        _ => ("graph.method", method_not_allowed(req)),
    }
}

fn update_credential(ctx: &Ctx<'_>, dir: &mut Directory, app_id: &str, index: usize) -> Response {
    let req = ctx.req;
    let body = match req.json_body() {
        Ok(b) => b,
        Err(m) => return graph_bad_request(req, &m),
    };
    let fields = match check_credential(req, &body, true) {
        Ok(f) => f,
        Err(r) => return r,
    };
    let Some(app) = dir.applications.get_mut(app_id) else {
        return graph_not_found(req, app_id);
    };
    let current = app.credentials[index].clone();
    if let Some(n) = &fields.name
        && *n != current.name
    {
        return graph_bad_request(req, "Property 'name' is immutable and cannot be changed.");
    }
    let issuer = fields.issuer.unwrap_or(current.issuer.clone());
    let subject = fields.subject.unwrap_or(current.subject.clone());
    if app
        .credentials
        .iter()
        .enumerate()
        .any(|(i, c)| i != index && c.issuer == issuer && c.subject == subject)
    {
        return duplicate_pair(req, &issuer, &subject);
    }
    let updated = Credential {
        issuer,
        subject,
        audiences: fields.audiences.unwrap_or(current.audiences.clone()),
        description: fields.description.unwrap_or(current.description.clone()),
        ..current.clone()
    };
    let changed = updated.issuer != current.issuer
        || updated.subject != current.subject
        || updated.audiences != current.audiences
        || updated.description != current.description;
    if changed {
        // A changed credential propagates to the token service again.
        app.credentials[index] = Credential {
            created: Instant::now(),
            ..updated
        };
        ctx.shared.mutated();
    }
    graph_no_content(req)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_and_filters_parse() {
        assert_eq!(
            parse_key("applications(appId='a-b')", "applications"),
            Some(("appId".into(), "a-b".into()))
        );
        assert_eq!(
            parse_key("applications(uniqueName='it''s')", "applications"),
            Some(("uniqueName".into(), "it's".into()))
        );
        assert_eq!(parse_key("applications(appId=x)", "applications"), None);
        let c = parse_filter(
            "displayName eq 'a and b' and appId eq 'x'",
            &["displayName", "appId"],
        )
        .unwrap();
        assert_eq!(c.len(), 2);
        assert!(parse_filter("secret eq 'x'", &["displayName"]).is_none());
        assert!(parse_filter("startswith(displayName,'pul')", &["displayName"]).is_some());
    }

    #[test]
    fn credential_names_follow_entra() {
        assert!(valid_credential_name("abc"));
        assert!(valid_credential_name("pulumi-oidc_1"));
        assert!(!valid_credential_name("ab"));
        assert!(!valid_credential_name("-abc"));
        assert!(!valid_credential_name("a.bc"));
        assert!(!valid_credential_name(&"a".repeat(121)));
        assert!(valid_credential_name(&"a".repeat(120)));
    }
}
