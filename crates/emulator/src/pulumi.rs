//! Pulumi Cloud: deployment settings, ESC environments, org metadata and the current
//! user. Requests need `Authorization: token …`.
//!
//! Sources: pulumi/pulumi-pulumiservice `provider/pkg/cloud/spec.json` (the REST API,
//! `PatchDeploymentSettings` among it) and pulumi/esc-sdk `sdk/swagger.yaml` (the ESC
//! environments API: `listEnvironments`, `checkEnvironmentYaml`, `openEnvironment`,
//! `readOpenEnvironment`, with the shapes its generated Python client reads).
//!
//! No request budget is metered here, with `Budgets::Azure` or without: no public source
//! gives Pulumi Cloud's REST API a number. Pulumi says only that the service applies
//! "generous rate limits on various endpoints" (pulumi/pulumi#7963) and that a 429 may
//! come from the web application firewall in front of it, measured over five-minute
//! periods (pulumi/pulumi#8826) and honoured through `Retry-After` by the CLI
//! (pulumi/pulumi#24131). A client meets Pulumi Cloud's 429s here only through fault
//! injection.

use axum::http::{HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use crate::esc_eval::{self, Opener};
use crate::http::{Req, now_rfc3339, plain_json, pulumi_error};
use crate::names;
use crate::shared::{Shared, lock};
use crate::state::{Environment, OpenSession};

type Handled = (&'static str, Response);

/// Pulumi Cloud gives each organization an id of its own choosing, fixed for its life.
/// The emulator derives one from the name under a namespace of its own, so an org keeps
/// its id across emulators as it would across sessions, and a client cannot get it
/// right except by reading it.
/// The one user every access token belongs to.
const USER_NAME: &str = "Emulator User";
const USER_LOGIN: &str = "emulator-user";
const STACK_IDS: uuid::Uuid = uuid::Uuid::from_u128(0x6b1f_0c2e_9d4a_4e71_8c35_b2a0_17de_4f96);
const ORG_IDS: uuid::Uuid = uuid::Uuid::from_u128(0x355a_e72b_bbc9_44c3_b3a4_64bc_242b_2d2c);

pub(crate) fn handle(shared: &Shared, req: &Req) -> Handled {
    let authorized = req
        .header("authorization")
        .and_then(|v| v.strip_prefix("token "))
        .is_some_and(|t| t.trim() == shared.options.pulumi_token);
    if !authorized {
        return (
            "pulumi.unauthorized",
            pulumi_error(
                StatusCode::UNAUTHORIZED,
                "Unauthorized: No credentials provided or are invalid.",
            ),
        );
    }
    let rest: Vec<&str> = req.segments.iter().skip(1).map(String::as_str).collect();
    match (rest.as_slice(), &req.method) {
        (["user"], &Method::GET) => (
            "pulumi.user",
            plain_json(
                StatusCode::OK,
                &json!({"name": USER_NAME, "githubLogin": USER_LOGIN, "email": "emulator@example.invalid"}),
            ),
        ),
        (["orgs", org, "metadata"], &Method::GET) => {
            let id = uuid::Uuid::new_v5(&ORG_IDS, org.as_bytes());
            (
                "pulumi.org.metadata",
                plain_json(StatusCode::OK, &json!({"id": id.to_string(), "name": org})),
            )
        }
        (["user", "stacks"], &Method::GET) => ("pulumi.stacks.list", list_stacks(shared, req)),
        (["stacks", org, project], &Method::POST) => (
            "pulumi.stack.create",
            create_stack(shared, req, org, project),
        ),
        (["stacks", org, project, stack], &Method::GET) => {
            let key = format!("{org}/{project}/{stack}");
            if missing(shared, &key) {
                return ("pulumi.stack.get", stack_not_found(&key));
            }
            (
                "pulumi.stack.get",
                plain_json(
                    StatusCode::OK,
                    &json!({"orgName": org, "projectName": project, "stackName": stack}),
                ),
            )
        }
        (["stacks", org, project, stack, "deployments", "settings"], method) => settings(
            shared,
            req,
            org,
            &format!("{org}/{project}/{stack}"),
            method,
        ),
        (["esc", "environments", org], &Method::POST) => {
            ("pulumi.esc.create", create_env(shared, req, org))
        }
        (["esc", "environments", org], &Method::GET) => {
            ("pulumi.esc.list", list_envs(shared, req, org))
        }
        (["esc", "environments", _org, "yaml", "check"], &Method::POST) => {
            ("pulumi.esc.check", check_yaml(req))
        }
        (["esc", "environments", org, project, env, "open"], &Method::POST) => {
            ("pulumi.esc.open", open_env(shared, org, project, env))
        }
        (["esc", "environments", org, project, env, "open", id], &Method::GET) => (
            "pulumi.esc.read_open",
            read_open(shared, &format!("{org}/{project}/{env}"), id),
        ),
        (["esc", "environments", org, project, env, "metadata"], &Method::GET) => (
            "pulumi.esc.metadata",
            env_metadata(shared, &format!("{org}/{project}/{env}")),
        ),
        (["esc", "environments", org, project, env], method) => {
            env_routes(shared, req, &format!("{org}/{project}/{env}"), method)
        }
        _ => (
            "pulumi.unknown",
            pulumi_error(StatusCode::NOT_FOUND, "Not Found"),
        ),
    }
}

fn missing(shared: &Shared, key: &str) -> bool {
    shared.options.missing_stacks.iter().any(|s| s == key)
}

fn stack_not_found(key: &str) -> Response {
    pulumi_error(
        StatusCode::NOT_FOUND,
        &format!("Not Found: stack '{key}' not found"),
    )
}

/// RFC 7396 merge: null removes, objects merge, anything else replaces — the
/// semantics of `PatchDeploymentSettings`.
fn merge(target: &mut Value, patch: &Value) {
    match (target, patch) {
        (Value::Object(t), Value::Object(p)) => {
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        (t, p) => *t = p.clone(),
    }
}

fn strip_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, v)| !v.is_null())
                .map(|(k, v)| (k.clone(), strip_nulls(v)))
                .collect(),
        ),
        other => other.clone(),
    }
}

fn settings(shared: &Shared, req: &Req, org: &str, key: &str, method: &Method) -> Handled {
    if missing(shared, key) {
        return ("pulumi.settings", stack_not_found(key));
    }
    let mut dir = lock(&shared.dir);
    match *method {
        Method::GET => match dir.deployment_settings.get(key) {
            Some(s) => ("pulumi.settings.get", plain_json(StatusCode::OK, s)),
            None => (
                "pulumi.settings.get",
                pulumi_error(
                    StatusCode::NOT_FOUND,
                    "Not Found: deployment settings not found",
                ),
            ),
        },
        Method::POST | Method::PUT => {
            if shared.options.free_orgs.iter().any(|o| o == org) {
                // "Requires a Team Growth or higher subscription"; the message
                // wording is an assumption.
                return (
                    "pulumi.settings.patch",
                    pulumi_error(
                        StatusCode::PAYMENT_REQUIRED,
                        "Payment Required: Pulumi Deployments requires a Team Growth or higher subscription",
                    ),
                );
            }
            dir.stacks.insert(key.to_owned());
            let patch: Value = match serde_json::from_slice(&req.body) {
                Ok(v @ Value::Object(_)) => v,
                _ => {
                    return (
                        "pulumi.settings.patch",
                        pulumi_error(
                            StatusCode::BAD_REQUEST,
                            "Bad Request: the body must be a JSON object",
                        ),
                    );
                }
            };
            let kind = if *method == Method::POST {
                "pulumi.settings.patch"
            } else {
                "pulumi.settings.replace"
            };
            let before = dir.deployment_settings.get(key).cloned();
            let mut next = if *method == Method::POST {
                before.clone().unwrap_or_else(|| json!({}))
            } else {
                json!({})
            };
            merge(&mut next, &patch);
            let next = strip_nulls(&next);
            if before.as_ref() != Some(&next) {
                dir.deployment_settings.insert(key.to_owned(), next.clone());
                shared.mutated();
            }
            (kind, plain_json(StatusCode::OK, &next))
        }
        Method::DELETE => {
            if dir.deployment_settings.remove(key).is_some() {
                shared.mutated();
            }
            (
                "pulumi.settings.delete",
                StatusCode::NO_CONTENT.into_response(),
            )
        }
        _ => (
            "pulumi.method",
            pulumi_error(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed"),
        ),
    }
}

fn create_env(shared: &Shared, req: &Req, org: &str) -> Response {
    let body: Value = serde_json::from_slice(&req.body).unwrap_or(Value::Null);
    let (Some(project), Some(name)) = (
        body.get("project").and_then(Value::as_str),
        body.get("name").and_then(Value::as_str),
    ) else {
        return pulumi_error(
            StatusCode::BAD_REQUEST,
            "Bad Request: project and name are required",
        );
    };
    if let Err(e) = names::esc_project(project).and_then(|()| names::esc_env(name)) {
        return pulumi_error(StatusCode::BAD_REQUEST, &format!("Bad Request: {e}"));
    }
    let key = format!("{org}/{project}/{name}");
    let mut dir = lock(&shared.dir);
    if dir.environments.contains_key(&key) {
        return pulumi_error(
            StatusCode::CONFLICT,
            &format!("Conflict: environment '{project}/{name}' already exists"),
        );
    }
    dir.environments.insert(
        key,
        Environment {
            id: uuid::Uuid::new_v4().to_string(),
            yaml: String::new(),
            revision: 1,
            created: now_rfc3339(),
            modified: now_rfc3339(),
        },
    );
    shared.mutated();
    // swagger says 204, the service spec 200; clients must accept both.
    StatusCode::OK.into_response()
}

fn with_etag(mut resp: Response, env: &Environment) -> Response {
    if let Ok(v) = HeaderValue::from_str(&env.etag()) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    if let Ok(v) = HeaderValue::from_str(&env.revision.to_string()) {
        resp.headers_mut().insert("pulumi-esc-revision", v);
    }
    resp
}

fn env_routes(shared: &Shared, req: &Req, key: &str, method: &Method) -> Handled {
    let mut dir = lock(&shared.dir);
    let not_found = || {
        pulumi_error(
            StatusCode::NOT_FOUND,
            &format!("Not Found: environment '{key}' not found"),
        )
    };
    match *method {
        Method::GET | Method::HEAD => match dir.environments.get(key) {
            Some(env) => {
                let body = if *method == Method::GET {
                    env.yaml.clone()
                } else {
                    String::new()
                };
                let resp = (
                    StatusCode::OK,
                    [(header::CONTENT_TYPE, "application/x-yaml")],
                    body,
                )
                    .into_response();
                ("pulumi.esc.get", with_etag(resp, env))
            }
            None => ("pulumi.esc.get", not_found()),
        },
        Method::PATCH => {
            let Some(env) = dir.environments.get_mut(key) else {
                return ("pulumi.esc.update", not_found());
            };
            // The ESC CLI sends the precondition as `ETag`; the spec says `If-Match`.
            let precondition = req.header("if-match").or_else(|| req.header("etag"));
            if let Some(p) = precondition
                && p != env.etag()
            {
                return (
                    "pulumi.esc.update",
                    pulumi_error(
                        StatusCode::CONFLICT,
                        "Conflict: the environment has changed since it was read",
                    ),
                );
            }
            let Ok(text) = std::str::from_utf8(&req.body) else {
                return (
                    "pulumi.esc.update",
                    pulumi_error(
                        StatusCode::BAD_REQUEST,
                        "Bad Request: the definition is not UTF-8",
                    ),
                );
            };
            match serde_norway::from_str::<Value>(text) {
                Ok(Value::Object(_) | Value::Null) => {}
                Ok(_) => {
                    return (
                        "pulumi.esc.update",
                        diagnostics("the environment definition must be a YAML mapping"),
                    );
                }
                Err(e) => return ("pulumi.esc.update", diagnostics(&e.to_string())),
            }
            if env.yaml != text {
                env.yaml = text.to_owned();
                env.revision += 1;
                env.modified = now_rfc3339();
                shared.mutated();
            }
            let resp = plain_json(StatusCode::OK, &json!({"diagnostics": []}));
            ("pulumi.esc.update", with_etag(resp, env))
        }
        Method::DELETE => {
            if dir.environments.remove(key).is_none() {
                return ("pulumi.esc.delete", not_found());
            }
            shared.mutated();
            ("pulumi.esc.delete", StatusCode::NO_CONTENT.into_response())
        }
        _ => (
            "pulumi.method",
            pulumi_error(StatusCode::METHOD_NOT_ALLOWED, "Method Not Allowed"),
        ),
    }
}

fn diagnostics(summary: &str) -> Response {
    plain_json(
        StatusCode::BAD_REQUEST,
        &json!({"diagnostics": [{"summary": summary}]}),
    )
}

/// `OrgEnvironments`: every environment of the organization, in one page (no
/// `nextToken`).
/// One page of `items` after the client's continuation token, at most the emulator's
/// page size (or the client's `maxResults`, if smaller); the token of the next page,
/// if any. Tokens are opaque offsets.
fn page<T: Clone>(items: &[T], req: &Req, page_size: usize) -> (Vec<T>, Option<String>) {
    let start = req
        .query("continuationToken")
        .and_then(|t| t.parse::<usize>().ok())
        .unwrap_or(0)
        .min(items.len());
    let size = req
        .query("maxResults")
        .and_then(|m| m.parse::<usize>().ok())
        .filter(|m| *m > 0)
        .map_or(page_size, |m| m.min(page_size))
        .max(1);
    let end = start.saturating_add(size).min(items.len());
    let next = (end < items.len()).then(|| end.to_string());
    (items[start..end].to_vec(), next)
}

/// `ListUserStacks` (`GET /api/user/stacks`, `AppListStacksResponse` in
/// pulumi-cloud-sdk): the stacks the caller can see, filtered by `organization` and
/// `project`, paged with `continuationToken`.
fn list_stacks(shared: &Shared, req: &Req) -> Response {
    let dir = lock(&shared.dir);
    let mut keys: Vec<&String> = dir
        .stacks
        .iter()
        .chain(dir.deployment_settings.keys())
        .collect();
    keys.sort();
    keys.dedup();
    let (org, project) = (req.query("organization"), req.query("project"));
    let stacks: Vec<Value> = keys
        .into_iter()
        .filter_map(|k| {
            let mut parts = k.splitn(3, '/');
            let (o, p, s) = (parts.next()?, parts.next()?, parts.next()?);
            (org.is_none_or(|x| x == o) && project.is_none_or(|x| x == p)).then(|| {
                // `id` is required by `AppStackSummary` (pulumi-cloud-sdk); stable per stack.
                let id = uuid::Uuid::new_v5(&STACK_IDS, k.as_bytes()).to_string();
                json!({"id": id, "orgName": o, "projectName": p, "stackName": s, "lastUpdate": 0, "resourceCount": 0})
            })
        })
        .collect();
    let (items, next) = page(&stacks, req, shared.options.list_page_size);
    let mut body = json!({"stacks": items});
    if let Some(n) = next {
        body["continuationToken"] = json!(n);
    }
    plain_json(StatusCode::OK, &body)
}

/// `CreateStack` (`POST /api/stacks/{org}/{project}`, `{"stackName": …}`); 409 when
/// it exists.
fn create_stack(shared: &Shared, req: &Req, org: &str, project: &str) -> Response {
    let name = serde_json::from_slice::<Value>(&req.body)
        .ok()
        .and_then(|v| v["stackName"].as_str().map(str::to_owned));
    let Some(name) = name.filter(|n| names::stack(n).is_ok() && names::project(project).is_ok())
    else {
        return pulumi_error(
            StatusCode::BAD_REQUEST,
            "Bad Request: the body must name the stack (`stackName`)",
        );
    };
    let key = format!("{org}/{project}/{name}");
    if !lock(&shared.dir).stacks.insert(key.clone()) {
        return pulumi_error(
            StatusCode::CONFLICT,
            &format!("Conflict: stack '{key}' already exists"),
        );
    }
    shared.mutated();
    plain_json(
        StatusCode::OK,
        &json!({"orgName": org, "projectName": project, "stackName": name}),
    )
}

/// `ListEnvironments` for one org (`OrgEnvironments`), paged with `nextToken`.
fn list_envs(shared: &Shared, req: &Req, org: &str) -> Response {
    let dir = lock(&shared.dir);
    let prefix = format!("{org}/");
    let environments: Vec<Value> = dir
        .environments
        .iter()
        .filter_map(|(key, env)| {
            let (project, name) = key.strip_prefix(&prefix)?.split_once('/')?;
            Some(json!({
                "id": env.id,
                "organization": org,
                "project": project,
                "name": name,
                "created": env.created,
                "modified": env.modified,
            }))
        })
        .collect();
    let (items, next) = page(&environments, req, shared.options.list_page_size);
    let mut body = json!({"environments": items});
    if let Some(n) = next {
        body["nextToken"] = json!(n);
    }
    plain_json(StatusCode::OK, &body)
}

/// `EnvironmentMetadata` (Pulumi Cloud REST API reference, schema
/// `EnvironmentMetadata`: `id` and `ownedBy` required, the rest optional). The
/// pulumi-pulumiservice provider reads it for the environment's UUID
/// (`provider/pkg/pulumiapi/environments.go`, `GetEnvironmentMetadata`).
fn env_metadata(shared: &Shared, key: &str) -> Response {
    let dir = lock(&shared.dir);
    let Some(env) = dir.environments.get(key) else {
        return pulumi_error(
            StatusCode::NOT_FOUND,
            &format!("Not Found: environment '{key}' not found"),
        );
    };
    plain_json(
        StatusCode::OK,
        &json!({
            "id": env.id,
            "ownedBy": {"name": USER_NAME, "githubLogin": USER_LOGIN, "avatarUrl": ""},
            "latestRevisionNumber": env.revision,
            "gatedActions": [],
            "openRequestNeeded": false,
        }),
    )
}

/// `CheckEnvironment`: 200 with the evaluated properties (providers unopened, so
/// unknown) and no diagnostics, or 400 with the diagnostics.
fn check_yaml(req: &Req) -> Response {
    let Ok(text) = std::str::from_utf8(&req.body) else {
        return diagnostics("the definition is not UTF-8");
    };
    match esc_eval::evaluate(text, None) {
        Ok(properties) => plain_json(
            StatusCode::OK,
            &json!({"properties": properties, "diagnostics": []}),
        ),
        Err(diags) => plain_json(StatusCode::BAD_REQUEST, &json!({"diagnostics": diags})),
    }
}

/// `OpenEnvironment` (`{"id": …}`), or 400 `EnvironmentDiagnostics` when the
/// definition does not evaluate. `duration` is accepted and not enforced.
fn open_env(shared: &Shared, org: &str, project: &str, env: &str) -> Response {
    let key = format!("{org}/{project}/{env}");
    let mut dir = lock(&shared.dir);
    let Some(found) = dir.environments.get(&key) else {
        return pulumi_error(
            StatusCode::NOT_FOUND,
            &format!("Not Found: environment '{key}' not found"),
        );
    };
    let issuer = shared.default_issuer();
    let opener = Opener {
        keys: &shared.keys,
        issuer: &issuer,
        org,
        project,
        env,
    };
    match esc_eval::evaluate(&found.yaml, Some(&opener)) {
        Ok(properties) => {
            let id = uuid::Uuid::new_v4().to_string();
            dir.open_sessions.insert(
                id.clone(),
                OpenSession {
                    environment: key,
                    properties,
                },
            );
            plain_json(StatusCode::OK, &json!({"id": id}))
        }
        Err(diags) => plain_json(StatusCode::BAD_REQUEST, &json!({"diagnostics": diags})),
    }
}

/// `Environment`: the values an open resolved, under `properties`.
fn read_open(shared: &Shared, key: &str, id: &str) -> Response {
    let dir = lock(&shared.dir);
    match dir.open_sessions.get(id) {
        Some(session) if session.environment == key => {
            plain_json(StatusCode::OK, &json!({"properties": session.properties}))
        }
        _ => pulumi_error(
            StatusCode::NOT_FOUND,
            &format!("Not Found: open session '{id}' not found"),
        ),
    }
}
