//! An identity's federated identity credentials: create or update (PUT 201/200), read,
//! delete (200, or 204 when absent), list (paged, `$top` honoured).
//!
//! Each write (PUT or DELETE) holds its identity for as long as it runs
//! (`Options::identity_credential_write_ms`, slept without blocking anything else), and
//! another write to the same identity meanwhile is refused, as Azure refuses it:
//! "Creating multiple federated identity credentials under the same user-assigned managed
//! identity concurrently triggers concurrency detection logic, which causes requests to
//! fail with 409-conflict HTTP status code" (MicrosoftDocs/entra-docs
//! `docs/workload-id/workload-identity-federation-considerations.md`). The code and
//! message are as captured in Azure/bicep-registry-modules#1447 and
//! kubernetes-sigs/cluster-api-provider-azure#5397.
//!
//! Writes are metered at the rates of the same page's throttling table — create or
//! update and delete: 10 per second per tenant, 2 per subscription, 0.25 per resource —
//! scaled by `Options::rate_scale`; beyond them, 429 with `Retry-After`. The table names
//! no error body; the emulator answers in ARM's envelope with the code resource providers
//! commonly use, `TooManyRequests` (ASSUMPTION: the wording). It leaves
//! `x-ms-ratelimit-remaining-subscription-writes` above zero, which is how ARM's docs
//! (`request-limits-and-throttling.md`) tell a provider's throttling from ARM's own.
//!
//! The other refusals, from the same page's error table (messages) where no capture names
//! the code: an invalid name 400 ("Federated Identity Credential name '{ficName}' is
//! invalid."), a missing parent 404 ("The parent user-assigned identity doesn't exist."),
//! a repeated issuer and subject 400 ("Issuer and subject combination already exists for
//! this Managed Identity."). ASSUMPTION: their codes (`BadRequest`,
//! `ParentResourceNotFound`), the 21st credential's answer, and the 404 of a credential
//! that does not exist.

use std::time::{Duration, Instant};

use axum::http::{Method, StatusCode};
use axum::response::Response;
use serde_json::{Value, json};

use super::rules::{MAX_CREDENTIALS, check_credential, valid_credential_name};
use super::{CREDENTIAL_TYPE, CREDENTIALS, Ctx, IdentityPath, answer, created, refuse};
use crate::arm::paging::page;
use crate::busy::Held;
use crate::http::{arm_error, retry_after_value};
use crate::shared::lock;
use crate::state::{Credential, Identity};
use crate::throttle::{Rate, retry_after_secs};

fn credential_json(identity: &Identity, c: &Credential) -> Value {
    json!({
        "id": format!("{}/{CREDENTIALS}/{}", identity.id, c.name),
        "name": c.name,
        "type": CREDENTIAL_TYPE,
        "properties": {
            "issuer": c.issuer,
            "subject": c.subject,
            "audiences": c.audiences,
        },
    })
}

fn parent_missing(ctx: &Ctx<'_>) -> Response {
    arm_error(
        ctx.req,
        StatusCode::NOT_FOUND,
        "ParentResourceNotFound",
        "The parent user-assigned identity doesn't exist.",
    )
}

fn credential_missing(ctx: &Ctx<'_>, p: &IdentityPath, name: &str) -> Response {
    arm_error(
        ctx.req,
        StatusCode::NOT_FOUND,
        "ResourceNotFound",
        &format!(
            "The Resource '{CREDENTIAL_TYPE}/{}/{name}' under resource group '{}' was not found.",
            p.name, p.resource_group
        ),
    )
}

/// The documented budgets a credential write draws from, the most specific first.
fn limits(ctx: &Ctx<'_>, p: &IdentityPath) -> Vec<(String, Rate)> {
    let scale = ctx.shared.options.rate_scale;
    vec![
        (format!("identity {}", p.key()), Rate::scaled(0.25, scale)),
        (
            format!("subscription {}", p.subscription.to_ascii_lowercase()),
            Rate::scaled(2.0, scale),
        ),
        (
            format!("tenant {}", ctx.shared.options.tenant_id),
            Rate::scaled(10.0, scale),
        ),
    ]
}

/// Admit one credential write to `p`: the identity must exist, have no other write in
/// flight, and the budgets must have room. The returned mark keeps the identity busy
/// until it is dropped.
fn begin_write<'a>(ctx: &Ctx<'a>, p: &IdentityPath) -> Result<Held<'a>, Response> {
    let req = ctx.req;
    if !lock(&ctx.shared.dir).identities.contains_key(&p.key()) {
        return Err(parent_missing(ctx));
    }
    let Some(held) = ctx.shared.busy.hold(&p.key()) else {
        lock(&ctx.shared.stats).concurrent_write_conflicts += 1;
        // The captured message names the identity with its provider part in lower case.
        let named = format!(
            "/subscriptions/{}/resourcegroups/{}/providers/microsoft.managedidentity/userassignedidentities/{}",
            p.subscription, p.resource_group, p.name
        );
        return Err(arm_error(
            req,
            StatusCode::CONFLICT,
            "ConcurrentFederatedIdentityCredentialsWritesForSingleManagedIdentity",
            &format!(
                "Too many Federated Identity Credentials are written concurrently for the managed identity '{named}'. Concurrent Federated Identity Credentials writes under the same managed identity are not supported."
            ),
        ));
    };
    let limits = limits(ctx, p);
    let taken = lock(&ctx.shared.throttle).take(&limits, Instant::now());
    if let Err((wait, limiting)) = taken {
        let scale = ctx.shared.options.rate_scale;
        let secs = retry_after_secs(wait, scale);
        ctx.shared
            .expect_retry_after(req, Duration::from_secs_f64(secs));
        lock(&ctx.shared.stats).metered_throttles += 1;
        let scope = match limiting {
            0 => format!("the managed identity '{}'", p.id()),
            1 => format!("subscription '{}'", p.subscription),
            _ => format!("tenant '{}'", ctx.shared.options.tenant_id),
        };
        let verb = if req.method == Method::DELETE {
            "delete"
        } else {
            "write"
        };
        let header = retry_after_value(secs);
        let shown = header.to_str().unwrap_or("1").to_owned();
        let mut resp = arm_error(
            req,
            StatusCode::TOO_MANY_REQUESTS,
            "TooManyRequests",
            &format!(
                "The request is being throttled as the limit has been reached for operation '{CREDENTIAL_TYPE}/{verb}' on {scope}. Please try again after '{shown}' seconds."
            ),
        );
        resp.headers_mut().insert("retry-after", header);
        return Err(resp);
    }
    Ok(held)
}

/// The time every credential write takes, slept without holding a thread.
async fn take_time(ctx: &Ctx<'_>) {
    let ms = ctx.shared.options.identity_credential_write_ms;
    if ms > 0 {
        tokio::time::sleep(Duration::from_millis(ms)).await;
    }
}

pub(super) async fn put(ctx: &Ctx<'_>, p: &IdentityPath, name: &str) -> Response {
    let req = ctx.req;
    if !valid_credential_name(name) {
        return arm_error(
            req,
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &format!("Federated Identity Credential name '{name}' is invalid."),
        );
    }
    let body = match req.json_body() {
        Ok(b) => b,
        Err(m) => return arm_error(req, StatusCode::BAD_REQUEST, "InvalidRequestContent", &m),
    };
    let fields = match check_credential(&body, ctx.api) {
        Ok(f) => f,
        Err(r) => return refuse(req, r),
    };
    let _held = match begin_write(ctx, p) {
        Ok(h) => h,
        Err(r) => return r,
    };
    take_time(ctx).await;
    let mut dir = lock(&ctx.shared.dir);
    // The identity may have gone while this write took its time.
    let Some(identity) = dir.identities.get_mut(&p.key()) else {
        return parent_missing(ctx);
    };
    let position = identity
        .credentials
        .iter()
        .position(|c| c.name.eq_ignore_ascii_case(name));
    let taken_pair = identity.credentials.iter().enumerate().any(|(i, c)| {
        Some(i) != position && c.issuer == fields.issuer && c.subject == fields.subject
    });
    if taken_pair {
        return arm_error(
            req,
            StatusCode::BAD_REQUEST,
            "BadRequest",
            "Issuer and subject combination already exists for this Managed Identity.",
        );
    }
    let audiences = vec![fields.audience];
    if let Some(i) = position {
        let current = &mut identity.credentials[i];
        if current.issuer != fields.issuer
            || current.subject != fields.subject
            || current.audiences != audiences
        {
            current.issuer = fields.issuer;
            current.subject = fields.subject;
            current.audiences = audiences;
            // A changed credential propagates to the token endpoint again.
            current.created = Instant::now();
            ctx.shared.mutated();
        }
        let out = credential_json(identity, &identity.credentials[i]);
        return answer(req, StatusCode::OK, Some(&out));
    }
    if identity.credentials.len() >= MAX_CREDENTIALS {
        return arm_error(
            req,
            StatusCode::BAD_REQUEST,
            "BadRequest",
            &format!(
                "The maximum number of {MAX_CREDENTIALS} federated identity credentials per managed identity has been reached."
            ),
        );
    }
    let credential = Credential {
        id: uuid::Uuid::new_v4().to_string(),
        name: name.to_owned(),
        issuer: fields.issuer,
        subject: fields.subject,
        audiences,
        description: None,
        created: Instant::now(),
    };
    let out = credential_json(identity, &credential);
    let location = format!("{}/{CREDENTIALS}/{name}", identity.id);
    identity.credentials.push(credential);
    ctx.shared.mutated();
    created(req, &location, &out)
}

pub(super) async fn delete(ctx: &Ctx<'_>, p: &IdentityPath, name: &str) -> Response {
    let _held = match begin_write(ctx, p) {
        Ok(h) => h,
        Err(r) => return r,
    };
    take_time(ctx).await;
    let mut dir = lock(&ctx.shared.dir);
    let Some(identity) = dir.identities.get_mut(&p.key()) else {
        return parent_missing(ctx);
    };
    let before = identity.credentials.len();
    identity
        .credentials
        .retain(|c| !c.name.eq_ignore_ascii_case(name));
    if identity.credentials.len() == before {
        // "The specified federated identity credential does not exist."
        return answer(ctx.req, StatusCode::NO_CONTENT, None);
    }
    ctx.shared.mutated();
    answer(ctx.req, StatusCode::OK, None)
}

pub(super) fn get(ctx: &Ctx<'_>, p: &IdentityPath, name: &str) -> Response {
    let dir = lock(&ctx.shared.dir);
    let Some(identity) = dir.identities.get(&p.key()) else {
        return parent_missing(ctx);
    };
    match identity
        .credentials
        .iter()
        .find(|c| c.name.eq_ignore_ascii_case(name))
    {
        Some(c) => answer(ctx.req, StatusCode::OK, Some(&credential_json(identity, c))),
        None => credential_missing(ctx, p, name),
    }
}

pub(super) fn list(ctx: &Ctx<'_>, p: &IdentityPath) -> Response {
    let items: Vec<Value> = {
        let dir = lock(&ctx.shared.dir);
        let Some(identity) = dir.identities.get(&p.key()) else {
            return parent_missing(ctx);
        };
        identity
            .credentials
            .iter()
            .map(|c| credential_json(identity, c))
            .collect()
    };
    let page_size = ctx.shared.options.list_page_size;
    match page(ctx.req, ctx.base, items, page_size, true) {
        Ok(body) => answer(ctx.req, StatusCode::OK, Some(&body)),
        Err(r) => r,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn retry_after_header_reads_back_as_the_wait() {
        let h = retry_after_value(retry_after_secs(Duration::from_millis(80), 50.0));
        assert_eq!(h.to_str().unwrap(), "0.08");
        let h = retry_after_value(retry_after_secs(Duration::from_millis(3200), 1.0));
        assert_eq!(h.to_str().unwrap(), "4");
    }
}
