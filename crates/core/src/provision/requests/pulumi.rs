//! Pulumi Cloud: deployment settings and ESC environments.

use crate::json_value::object;
use serde_json::{Value, json};

use super::expect;
use crate::error::Result;
use crate::provision::request::{Answer, Body, Method, Request, Service};

fn pulumi(op: String, method: Method, path: String) -> Request {
    Request::new(Service::Pulumi, op, method, path)
}

fn settings_path(org: &str, project: &str, stack: &str) -> String {
    format!("stacks/{org}/{project}/{stack}/deployments/settings")
}

/// A stack's deployment settings (read with [`read_optional`]).
pub fn get_settings(org: &str, project: &str, stack: &str) -> Request {
    pulumi(
        format!("read deployment settings of {org}/{project}/{stack}"),
        Method::Get,
        settings_path(org, project, stack),
    )
}

/// Merge `body` into a stack's deployment settings. Read with [`expect`] and `[200, 204]`.
pub fn patch_settings(org: &str, project: &str, stack: &str, body: Value) -> Request {
    pulumi(
        format!("write deployment settings of {org}/{project}/{stack}"),
        Method::Post,
        settings_path(org, project, stack),
    )
    .json(body)
}

/// The Azure block a stack's deployment settings hold for OIDC.
pub fn oidc_settings(client_id: &str, tenant_id: &str, subscription_id: Option<&str>) -> Value {
    let mut entries = vec![
        ("clientId", client_id.into()),
        ("tenantId", tenant_id.into()),
    ];
    if let Some(sub) = subscription_id {
        entries.push(("subscriptionId", sub.into()));
    }
    object(entries)
}

/// The merge patch that turns on OIDC in a stack's deployment settings with `azure`
/// (see [`oidc_settings`]; pulumi-oidc-facts.md §3.1).
pub fn oidc_settings_body(azure: Value) -> Value {
    object(vec![(
        "operationContext",
        object(vec![("oidc", object(vec![("azure", azure)]))]),
    )])
}

/// Turn on OIDC in a stack's deployment settings with `azure` (see [`oidc_settings`]).
/// Read with [`expect`] and `[200, 204]`.
pub fn enable_oidc(org: &str, project: &str, stack: &str, azure: Value) -> Request {
    patch_settings(org, project, stack, oidc_settings_body(azure))
}

/// Clear a stack's Azure OIDC settings, as the Pulumi CLI clears them
/// (pulumi-oidc-facts.md §3.1). Read with [`expect`] and `[200, 204]`.
pub fn clear_oidc(org: &str, project: &str, stack: &str) -> Request {
    patch_settings(
        org,
        project,
        stack,
        json!({"operationContext": {"oidc": {"azure": null}}}),
    )
}

/// An ESC environment's definition (read with [`read_env`]).
pub fn get_env(org: &str, project: &str, env: &str) -> Request {
    pulumi(
        format!("read ESC environment {org}/{project}/{env}"),
        Method::Get,
        format!("esc/environments/{org}/{project}/{env}"),
    )
}

/// The environment's YAML and ETag, or `None` if it does not exist.
pub fn read_env(answer: Answer, request: &Request) -> Result<Option<(String, Option<String>)>> {
    match answer.status {
        200 => {
            let etag = answer.header("etag").map(str::to_owned);
            Ok(Some((answer.text(), etag)))
        }
        404 => Ok(None),
        _ => Err(answer.into_error(request.service, &request.operation)),
    }
}

/// Read with [`expect`] and `[200, 201, 204, 409]`: 409 means it exists already (a
/// retry after a lost answer, or someone else made it).
pub fn create_env(org: &str, project: &str, env: &str) -> Request {
    pulumi(
        format!("create ESC environment {org}/{project}/{env}"),
        Method::Post,
        format!("esc/environments/{org}"),
    )
    .json(object(vec![
        ("project", project.into()),
        ("name", env.into()),
    ]))
}

/// Write the definition if it still has `etag` (read with [`read_env_written`]).
pub fn put_env(org: &str, project: &str, env: &str, yaml: String, etag: Option<&str>) -> Request {
    let mut r = pulumi(
        format!("write ESC environment {org}/{project}/{env}"),
        Method::Patch,
        format!("esc/environments/{org}/{project}/{env}"),
    );
    r.body = Some(Body::Yaml(yaml));
    if let Some(tag) = etag {
        r = r.header("if-match", tag).header("etag", tag);
    }
    r
}

/// `Ok(false)` when the environment changed since its ETag was read.
pub fn read_env_written(answer: Answer, request: &Request) -> Result<bool> {
    if answer.status == 409 {
        return Ok(false);
    }
    expect(answer, request, &[200, 204]).map(|()| true)
}

/// One page of a list: `(project, name)` pairs, and the next page's token.
pub type NamesPage = (Vec<(String, String)>, Option<String>);

/// One page of the org's stacks (`GET /api/user/stacks`, Pulumi Cloud REST API
/// `ListUserStacks`, as `pulumi-cloud-sdk`'s `UsersApi.list_user_stacks` sends it);
/// the next page is asked for with the `continuationToken` the last one gave.
pub fn list_stacks(org: &str, continuation: Option<&str>) -> Request {
    let mut path = format!("user/stacks?organization={}", super::enc(org));
    if let Some(token) = continuation {
        path.push_str("&continuationToken=");
        path.push_str(&super::enc(token));
    }
    pulumi(format!("list the stacks of {org}"), Method::Get, path)
}

/// `(project, stack)` pairs of the org and the next page's token
/// (`AppListStacksResponse`: `stacks[]` with `orgName`, `projectName`, `stackName`;
/// `continuationToken` absent or empty on the last page).
pub fn read_stacks_page(answer: Answer, request: &Request, org: &str) -> Result<NamesPage> {
    if answer.status != 200 {
        return Err(answer.into_error(request.service, &request.operation));
    }
    let v = answer.json();
    let items = v["stacks"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter(|s| s["orgName"].as_str().is_none_or(|o| o == org))
                .filter_map(|s| {
                    Some((
                        s["projectName"].as_str()?.to_owned(),
                        s["stackName"].as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    Ok((items, next_token(&v["continuationToken"])))
}

/// One page of the org's ESC environments (`ListEnvironments`, pulumi/esc-sdk
/// `sdk/swagger.yaml`), the next asked for with the `nextToken` the last one gave.
pub fn list_envs(org: &str, continuation: Option<&str>) -> Request {
    let mut path = format!("esc/environments/{org}");
    if let Some(token) = continuation {
        path.push_str("?continuationToken=");
        path.push_str(&super::enc(token));
    }
    pulumi(
        format!("list the ESC environments of {org}"),
        Method::Get,
        path,
    )
}

/// `(project, env)` pairs and the next page's token (`OrgEnvironments`:
/// `environments[]` with `project` and `name`; `nextToken`).
pub fn read_envs_page(answer: Answer, request: &Request) -> Result<NamesPage> {
    if answer.status != 200 {
        return Err(answer.into_error(request.service, &request.operation));
    }
    let v = answer.json();
    let items = v["environments"]
        .as_array()
        .map(|list| {
            list.iter()
                .filter_map(|e| {
                    Some((
                        e["project"].as_str().unwrap_or("default").to_owned(),
                        e["name"].as_str()?.to_owned(),
                    ))
                })
                .collect()
        })
        .unwrap_or_default();
    Ok((items, next_token(&v["nextToken"])))
}

fn next_token(v: &Value) -> Option<String> {
    v.as_str().filter(|t| !t.is_empty()).map(str::to_owned)
}
