//! The identities themselves: create or replace (PUT), update tags (PATCH), read, delete,
//! list per resource group and per subscription. Creating one also creates its service
//! principal in the emulated directory, so role assignments to its `principalId` and
//! Graph reads by its `clientId` find it; deleting it removes both, and its credentials
//! with it. Role assignments to it stay, as Azure leaves them (orphaned).
//!
//! Sources: Azure/azure-rest-api-specs `…/ManagedIdentity/stable/2024-11-30/ManagedIdentity.json`
//! (PUT 200/201, PATCH 200 with `IdentityUpdate`, DELETE 200/204, the lists and
//! `UserAssignedIdentityProperties`) and its examples; the answers as recorded in
//! Azure/azure-cli `identity/tests/latest/recordings/test_identity_management.yaml`; the
//! service principal's `servicePrincipalType` `ManagedIdentity` and `alternativeNames`
//! (the resource id) from microsoftgraph/microsoft-graph-docs-contrib
//! `api-reference/v1.0/resources/serviceprincipal.md` (the `isExplicit=True` entry is
//! what Azure is commonly seen to put first: ASSUMPTION).

use std::time::Instant;

use axum::http::StatusCode;
use axum::response::Response;
use serde_json::{Map, Value, json};

use super::rules::{Api, check_tags, valid_identity_name};
use super::{Ctx, IDENTITY_TYPE, IdentityPath, answer, created, refuse};
use crate::arm::paging::page;
use crate::http::arm_error;
use crate::shared::lock;
use crate::state::{Identity, ServicePrincipal};

/// An identity as ARM answers for `api`: `isolationScope` from 2024-11-30 on,
/// `assignmentRestrictions` in 2025-05-31-preview when it was set.
pub(super) fn identity_json(tenant: &str, i: &Identity, api: Api) -> Value {
    let mut properties = Map::new();
    properties.insert("tenantId".into(), json!(tenant));
    properties.insert("principalId".into(), json!(i.principal_id));
    properties.insert("clientId".into(), json!(i.client_id));
    if api.has_isolation_scope() {
        properties.insert("isolationScope".into(), json!(i.isolation_scope));
    }
    if api.has_assignment_restrictions()
        && let Some(r) = &i.assignment_restrictions
    {
        properties.insert("assignmentRestrictions".into(), r.clone());
    }
    json!({
        "id": i.id,
        "name": i.name,
        "type": IDENTITY_TYPE,
        "location": i.location,
        "tags": i.tags,
        "properties": properties,
    })
}

fn not_found(ctx: &Ctx<'_>, p: &IdentityPath) -> Response {
    // The wording captured in MicrosoftDocs/azure-docs
    // `articles/automation/learn/powershell-runbook-managed-identity.md`.
    arm_error(
        ctx.req,
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        &format!(
            "The Resource '{IDENTITY_TYPE}/{}' under resource group '{}' was not found. For more details please go to https://aka.ms/ARMResourceNotFoundFix",
            p.name, p.resource_group
        ),
    )
}

/// ARM spells a location without spaces in lower case (`West US` comes back `westus`).
/// ASSUMPTION: any location is accepted; the emulator keeps no list of regions.
fn normalize_location(location: &str) -> String {
    location
        .chars()
        .filter(|c| !c.is_whitespace())
        .flat_map(char::to_lowercase)
        .collect()
}

/// The writable properties of a PUT or PATCH body for `api`.
struct Writable {
    isolation_scope: Option<String>,
    assignment_restrictions: Option<Value>,
}

fn writable(ctx: &Ctx<'_>, body: &Map<String, Value>) -> Result<Writable, Response> {
    let props = body.get("properties").and_then(Value::as_object);
    let mut out = Writable {
        isolation_scope: None,
        assignment_restrictions: None,
    };
    if ctx.api.has_isolation_scope()
        && let Some(scope) = props
            .and_then(|p| p.get("isolationScope"))
            .filter(|v| !v.is_null())
    {
        // The spec's enum (`None`, `Regional`); ASSUMPTION: the refusal's code and wording.
        match scope.as_str() {
            Some(s) if s.eq_ignore_ascii_case("None") => out.isolation_scope = Some("None".into()),
            Some(s) if s.eq_ignore_ascii_case("Regional") => {
                out.isolation_scope = Some("Regional".into());
            }
            _ => {
                return Err(arm_error(
                    ctx.req,
                    StatusCode::BAD_REQUEST,
                    "BadRequest",
                    "The value of 'isolationScope' must be 'None' or 'Regional'.",
                ));
            }
        }
    }
    if ctx.api.has_assignment_restrictions()
        && let Some(r) = props
            .and_then(|p| p.get("assignmentRestrictions"))
            .filter(|v| !v.is_null())
    {
        let providers_ok = r
            .get("providers")
            .is_none_or(|p| p.as_array().is_some_and(|a| a.iter().all(Value::is_string)));
        if !r.is_object() || !providers_ok {
            return Err(arm_error(
                ctx.req,
                StatusCode::BAD_REQUEST,
                "InvalidRequestContent",
                "The request content was invalid and could not be deserialized: 'assignmentRestrictions.providers' must be an array of strings.",
            ));
        }
        out.assignment_restrictions = Some(r.clone());
    }
    Ok(out)
}

pub(super) fn put(ctx: &Ctx<'_>, p: &IdentityPath) -> Response {
    let req = ctx.req;
    if !valid_identity_name(&p.name) {
        // ASSUMPTION: the code and wording; the rule is resource-name-rules.md's.
        return arm_error(
            req,
            StatusCode::BAD_REQUEST,
            "InvalidResourceName",
            &format!(
                "Resource name '{}' is invalid. The name can be between 3 and 128 characters long, can contain only letters, numbers, hyphens and underscores, and must start with a letter or number.",
                p.name
            ),
        );
    }
    let body = match req.json_body() {
        Ok(b) => b,
        Err(m) => return arm_error(req, StatusCode::BAD_REQUEST, "InvalidRequestContent", &m),
    };
    // The error every ARM write without a location gets, as seen in SDK tests' notes
    // (`{"code":"LocationRequired","message":"The location property is required for this
    // definition."}`); no capture for this type in particular.
    let Some(location) = body
        .get("location")
        .and_then(Value::as_str)
        .map(normalize_location)
        .filter(|l| !l.is_empty())
    else {
        return arm_error(
            req,
            StatusCode::BAD_REQUEST,
            "LocationRequired",
            "The location property is required for this definition.",
        );
    };
    let tags = match check_tags(body.get("tags")) {
        Ok(t) => t,
        Err(r) => return refuse(req, r),
    };
    let writable = match writable(ctx, &body) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let tenant = &ctx.shared.options.tenant_id;
    let mut dir = lock(&ctx.shared.dir);
    if let Some(existing) = dir.identities.get_mut(&p.key()) {
        if existing.location != location {
            // The wording captured in fortinetsolutions/Azure-Templates#8.
            // ASSUMPTION: the status.
            return arm_error(
                req,
                StatusCode::CONFLICT,
                "InvalidResourceLocation",
                &format!(
                    "The resource '{}' already exists in location '{}' in resource group '{}'. A resource with the same name cannot be created in location '{location}'. Please select a new resource name.",
                    existing.name, existing.location, existing.resource_group
                ),
            );
        }
        // A PUT replaces what it may write: tags it leaves out are gone.
        let isolation_scope = writable.isolation_scope.unwrap_or_else(|| "None".into());
        let changed = existing.tags != tags
            || (ctx.api.has_isolation_scope() && existing.isolation_scope != isolation_scope)
            || (ctx.api.has_assignment_restrictions()
                && existing.assignment_restrictions != writable.assignment_restrictions);
        if changed {
            existing.tags = tags;
            if ctx.api.has_isolation_scope() {
                existing.isolation_scope = isolation_scope;
            }
            if ctx.api.has_assignment_restrictions() {
                existing.assignment_restrictions = writable.assignment_restrictions;
            }
            ctx.shared.mutated();
        }
        return answer(
            req,
            StatusCode::OK,
            Some(&identity_json(tenant, existing, ctx.api)),
        );
    }
    let identity = Identity {
        id: p.id(),
        subscription: p.subscription.clone(),
        resource_group: p.resource_group.clone(),
        name: p.name.clone(),
        location,
        tags,
        client_id: uuid::Uuid::new_v4().to_string(),
        principal_id: uuid::Uuid::new_v4().to_string(),
        isolation_scope: writable.isolation_scope.unwrap_or_else(|| "None".into()),
        assignment_restrictions: writable.assignment_restrictions,
        credentials: Vec::new(),
        created: Instant::now(),
    };
    let mut sp_props = Map::new();
    sp_props.insert("servicePrincipalType".into(), json!("ManagedIdentity"));
    sp_props.insert(
        "alternativeNames".into(),
        json!(["isExplicit=True", identity.id]),
    );
    dir.service_principals.insert(
        identity.principal_id.clone(),
        ServicePrincipal {
            id: identity.principal_id.clone(),
            app_id: identity.client_id.clone(),
            display_name: identity.name.clone(),
            props: sp_props,
            owners: Vec::new(),
            builtin: false,
            created: identity.created,
        },
    );
    let out = identity_json(tenant, &identity, ctx.api);
    dir.identities.insert(p.key(), identity);
    ctx.shared.mutated();
    created(req, &p.id(), &out)
}

pub(super) fn patch(ctx: &Ctx<'_>, p: &IdentityPath) -> Response {
    let req = ctx.req;
    let body = match req.json_body() {
        Ok(b) => b,
        Err(m) => return arm_error(req, StatusCode::BAD_REQUEST, "InvalidRequestContent", &m),
    };
    // `IdentityUpdate`: tags replace the old ones when given; `location` may only be set
    // at creation and is ignored here (ASSUMPTION: Azure's answer to a changed one).
    let tags = match body.get("tags") {
        None => None,
        Some(t) => match check_tags(Some(t)) {
            Ok(t) => Some(t),
            Err(r) => return refuse(req, r),
        },
    };
    let writable = match writable(ctx, &body) {
        Ok(w) => w,
        Err(r) => return r,
    };
    let mut dir = lock(&ctx.shared.dir);
    let Some(existing) = dir.identities.get_mut(&p.key()) else {
        return not_found(ctx, p);
    };
    let mut changed = false;
    if let Some(tags) = tags
        && existing.tags != tags
    {
        existing.tags = tags;
        changed = true;
    }
    if let Some(scope) = writable.isolation_scope
        && existing.isolation_scope != scope
    {
        existing.isolation_scope = scope;
        changed = true;
    }
    if let Some(r) = writable.assignment_restrictions
        && existing.assignment_restrictions.as_ref() != Some(&r)
    {
        existing.assignment_restrictions = Some(r);
        changed = true;
    }
    if changed {
        ctx.shared.mutated();
    }
    let out = identity_json(&ctx.shared.options.tenant_id, existing, ctx.api);
    answer(req, StatusCode::OK, Some(&out))
}

pub(super) fn get(ctx: &Ctx<'_>, p: &IdentityPath) -> Response {
    let dir = lock(&ctx.shared.dir);
    match dir.identities.get(&p.key()) {
        Some(i) => {
            let out = identity_json(&ctx.shared.options.tenant_id, i, ctx.api);
            answer(ctx.req, StatusCode::OK, Some(&out))
        }
        None => not_found(ctx, p),
    }
}

/// 200 with no body when it existed, 204 when it did not ("The specified identity does
/// not exist.").
pub(super) fn delete(ctx: &Ctx<'_>, p: &IdentityPath) -> Response {
    let mut dir = lock(&ctx.shared.dir);
    let Some(identity) = dir.identities.remove(&p.key()) else {
        return answer(ctx.req, StatusCode::NO_CONTENT, None);
    };
    dir.service_principals.remove(&identity.principal_id);
    dir.forget_principal(&identity.principal_id);
    ctx.shared.mutated();
    answer(ctx.req, StatusCode::OK, None)
}

pub(super) fn list(ctx: &Ctx<'_>, subscription: &str, resource_group: Option<&str>) -> Response {
    let tenant = &ctx.shared.options.tenant_id;
    let items: Vec<Value> = lock(&ctx.shared.dir)
        .identities
        .values()
        .filter(|i| {
            i.subscription.eq_ignore_ascii_case(subscription)
                && resource_group.is_none_or(|rg| i.resource_group.eq_ignore_ascii_case(rg))
        })
        .map(|i| identity_json(tenant, i, ctx.api))
        .collect();
    let page_size = ctx.shared.options.list_page_size;
    match page(ctx.req, ctx.base, items, page_size, false) {
        Ok(body) => answer(ctx.req, StatusCode::OK, Some(&body)),
        Err(r) => r,
    }
}
